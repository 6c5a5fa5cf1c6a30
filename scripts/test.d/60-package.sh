#!/usr/bin/env bash
# Stage: the Debian packages and the crate, as a user gets them.
#  1. scripts/package.sh builds the packages from the committed tree (a
#     `git archive` of HEAD, plus uncommitted changes of tracked files);
#  2. their contents (dpkg-deb -c/-I): exact file lists, modes and link
#     targets, the SONAME (also that of `cargo build --release`), the exports,
#     control fields (Depends from the libraries actually NEEDED and the
#     glibc symbol versions actually used), control files;
#  3. installed into a throwaway root (dpkg-deb -x), a C program built with
#     nothing but `pkg-config --cflags --libs xc-livepatch` at that root starts
#     with only the root's library directory and lists the simulated
#     hypervisor's payloads (tests/fakexen);
#  4. lintian: no errors, no warning beyond packaging/debian/lintian-accepted;
#  5. the crates: `cargo package --list` holds only what a user needs,
#     `cargo publish --dry-run -p xc-livepatch` builds the packaged library,
#     and `cargo install` builds the command from the two packaged tarballs;
#  6. the static command (target/static/xc-livepatch, built for
#     x86_64-unknown-linux-musl): no interpreter, no shared library, stripped,
#     not position-independent (ELF type EXEC);
#     --version, --help and every listing of the simulated hypervisor
#     (tests/fakexen/demo.scn and scenarios/, every format: stdout, stderr and
#     exit status) exactly as the Debian package's (glibc) command;
#  7. deliberate breaks (a missing link, another SONAME, a wrong pkg-config
#     flag, a Depends without libc6, a dynamic command as the static one, a
#     position-independent one, a static one with another error text) must each be caught by the checks
#     above.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bash scripts/setup.sh dpkg-dev lintian binutils pkg-config file || exit 1

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$multiarch
so=libxc_livepatch.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xc-livepatch-60.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok=0; bad=0
part() { # NAME COMMAND...
  local name=$1; shift
  echo "--- $name"
  if "$@"; then ok=$((ok + 1)); echo "--- $name: ok"; else bad=$((bad + 1)); echo "--- $name: FAILED"; fi
}
fail() { echo "  FAIL: $*"; return 1; }

# 1. Build from the committed tree.
rev=$(git stash create 2>/dev/null); rev=${rev:-HEAD}
[ "$rev" = HEAD ] || echo "(building HEAD plus the uncommitted changes of tracked files)"
mkdir -p "$tmp/src" "$tmp/debs" "$tmp/static"
git archive "$rev" | tar -x -m -C "$tmp/src" || { echo "git archive failed"; exit 1; }
t0=$SECONDS
# A target directory of its own keeps later runs warm without touching target/release.
if ! CARGO_TARGET_DIR=$root/target/package-check bash "$tmp/src/scripts/package.sh" "$tmp/debs" "$tmp/static"; then
  echo "package: scripts/package.sh failed"; echo "0 passed, 1 failed"; exit 1
fi
echo "scripts/package.sh: $((SECONDS - t0)) s"
version=$(cd "$tmp/src" && cargo pkgid --quiet -p xc-livepatch | sed 's/.*[#@]//')
major=${version%%.*}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
LIB=$tmp/debs/libxc-livepatch1_${version}_${arch}.deb
DEV=$tmp/debs/libxc-livepatch-dev_${version}_${arch}.deb
CLI=$tmp/debs/xc-livepatch_${version}_${arch}.deb
STATIC=$tmp/static/xc-livepatch
ls "$tmp/debs" "$tmp/static"

# dpkg-deb -c as "MODE OWNER PATH[ -> TARGET]", directories left out.
listing() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { s = $1 " " $2; for (i = 6; i <= NF; i++) s = s " " $i; print s }' | LC_ALL=C sort; }
same_list() { # WHAT EXPECTED ACTUAL
  [ "$2" = "$3" ] && return 0
  echo "  FAIL: $1 differs (< expected, > actual):"; diff <(echo "$2") <(echo "$3") | grep '^[<>]' | sed 's/^/    /'; return 1
}
field() { dpkg-deb -f "$1" "$2"; }
soname_of() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p'; }

# Depends must name the package of every library the file NEEDs, libc6 at
# least at the newest GLIBC_x.y symbol version the file uses.
depends_cover() { # DEB ELF
  local deps f=0 needed pkg path glibc want
  deps=$(field "$1" Depends)
  for needed in $(readelf -d "$2" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p'); do
    [ "$needed" = "$so.$major" ] && continue
    path=$(ls /lib/"$multiarch"/"$needed" /usr/lib/"$multiarch"/"$needed" 2>/dev/null | head -n1)
    pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -n1 | cut -d: -f1)
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1)
    grep -qE "(^|, )$pkg( |,|$)" <<<"$deps" || { fail "$(basename "$1"): NEEDs $needed ($pkg) but Depends is '$deps'"; f=1; }
  done
  glibc=$(objdump -T "$2" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
  want=$(sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p' <<<"$deps")
  if [ -z "$want" ]; then fail "$(basename "$1"): Depends '$deps' has no libc6 (>= ...)"; f=1
  elif ! dpkg --compare-versions "$want" ge "$glibc"; then fail "$(basename "$1"): libc6 (>= $want) but GLIBC_$glibc is used"; f=1
  else echo "  $(basename "$1"): Depends: $deps (newest glibc symbol: GLIBC_$glibc)"; fi
  return $f
}

check_lib() { # DEB
  local deb=$1 f=0 x
  same_list "file list of $(basename "$deb")" "$(LC_ALL=C sort <<EOF
-rw-r--r-- root/root ./$libdir/$so.$version
lrwxrwxrwx root/root ./$libdir/$so.$major -> $so.$version
-rw-r--r-- root/root ./usr/share/doc/libxc-livepatch1/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/libxc-livepatch1/copyright
EOF
)" "$(listing "$deb")" || f=1
  same_list "control files" "$(printf '%s\n' ./control ./md5sums ./shlibs ./symbols ./triggers)" \
    "$(dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -v '^\./$' | LC_ALL=C sort)" || f=1
  [ "$(field "$deb" Package)" = libxc-livepatch1 ] || { fail "Package is '$(field "$deb" Package)'"; f=1; }
  [ "$(field "$deb" Version)" = "$version" ] || { fail "Version is '$(field "$deb" Version)', the crate is $version"; f=1; }
  [ "$(field "$deb" Section)" = libs ] || { fail "Section is '$(field "$deb" Section)'"; f=1; }
  [ "$(field "$deb" Multi-Arch)" = same ] || { fail "Multi-Arch is '$(field "$deb" Multi-Arch)'"; f=1; }
  x=$tmp/x-lib; rm -rf "$x"; dpkg-deb -x "$deb" "$x"; dpkg-deb -e "$deb" "$x/DEBIAN"
  local lib=$x/$libdir/$so.$version s
  if [ -f "$lib" ]; then
    s=$(soname_of "$lib")
    [ "$s" = "$so.$major" ] || { fail "SONAME of $so.$version is '$s', want $so.$major"; f=1; }
    [ "$s" = "$plain_soname" ] || { fail "SONAME '$s' differs from cargo build --release's '$plain_soname'"; f=1; }
    SO=$lib bash "$tmp/src/abi-check/exports.sh" | sed 's/^/  /' || f=1
    depends_cover "$deb" "$lib" || f=1
    readelf -S "$lib" | grep -q '\.debug_info' && { fail "$so.$version is not stripped"; f=1; }
  else fail "no $libdir/$so.$version"; f=1; fi
  [ "$(readlink "$x/$libdir/$so.$major")" = "$so.$version" ] || { fail "$so.$major does not point at $so.$version"; f=1; }
  grep -qx "libxc_livepatch $major libxc-livepatch1 (>= [0-9.]*)" "$x/DEBIAN/shlibs" || { fail "shlibs: $(cat "$x/DEBIAN/shlibs")"; f=1; }
  head -n1 "$x/DEBIAN/symbols" | grep -qx "$so.$major libxc-livepatch1 #MINVER#" || { fail "symbols: $(head -n1 "$x/DEBIAN/symbols")"; f=1; }
  grep -qx 'activate-noawait ldconfig' "$x/DEBIAN/triggers" || { fail "no ldconfig trigger"; f=1; }
  [ $f -eq 0 ] && echo "  $(basename "$deb"): 4 files as listed, SONAME $s, Section libs, Multi-Arch same, shlibs, symbols, ldconfig trigger"
  return $f
}

check_dev() { # DEB
  local deb=$1 f=0 x
  same_list "file list of $(basename "$deb")" "$(LC_ALL=C sort <<EOF
-rw-r--r-- root/root ./usr/include/xc_livepatch.h
lrwxrwxrwx root/root ./$libdir/$so -> $so.$version
-rw-r--r-- root/root ./$libdir/libxc_livepatch.a
-rw-r--r-- root/root ./$libdir/pkgconfig/xc-livepatch.pc
-rw-r--r-- root/root ./usr/share/doc/libxc-livepatch-dev/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/libxc-livepatch-dev/copyright
EOF
)" "$(listing "$deb")" || f=1
  [ "$(field "$deb" Section)" = libdevel ] || { fail "Section is '$(field "$deb" Section)'"; f=1; }
  [ "$(field "$deb" Multi-Arch)" = same ] || { fail "Multi-Arch is '$(field "$deb" Multi-Arch)'"; f=1; }
  [ "$(field "$deb" Depends)" = "libxc-livepatch1 (= $version)" ] || { fail "Depends is '$(field "$deb" Depends)'"; f=1; }
  x=$tmp/x-dev; rm -rf "$x"; dpkg-deb -x "$deb" "$x"
  cmp -s "$x/usr/include/xc_livepatch.h" "$tmp/src/include/xc_livepatch.h" || { fail "the header is not include/xc_livepatch.h"; f=1; }
  grep -q "^Version: $version$" "$x/$libdir/pkgconfig/xc-livepatch.pc" || { fail "xc-livepatch.pc has no 'Version: $version'"; f=1; }
  [ $f -eq 0 ] && echo "  $(basename "$deb"): 6 files as listed, Section libdevel, Multi-Arch same, Depends libxc-livepatch1 (= $version), the committed header"
  return $f
}

check_cli() { # DEB
  local deb=$1 f=0 x out
  same_list "file list of $(basename "$deb")" "$(LC_ALL=C sort <<EOF
-rwxr-xr-x root/root ./usr/bin/xc-livepatch
-rw-r--r-- root/root ./usr/share/doc/xc-livepatch/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/xc-livepatch/copyright
$(for p in "$tmp"/src/cli/man/*.1; do echo "-rw-r--r-- root/root ./usr/share/man/man1/$(basename "$p").gz"; done)
-rw-r--r-- root/root ./usr/share/bash-completion/completions/xc-livepatch
-rw-r--r-- root/root ./usr/share/zsh/vendor-completions/_xc-livepatch
-rw-r--r-- root/root ./usr/share/fish/vendor_completions.d/xc-livepatch.fish
-rw-r--r-- root/root ./usr/share/xc-livepatch/prometheus/xen-livepatch.rules.yml
EOF
)" "$(listing "$deb")" || f=1
  [ "$(field "$deb" Version)" = "$version" ] || { fail "Version is '$(field "$deb" Version)'"; f=1; }
  [ "$(field "$deb" Section)" = admin ] || { fail "Section is '$(field "$deb" Section)'"; f=1; }
  x=$tmp/x-cli; rm -rf "$x"; dpkg-deb -x "$deb" "$x"
  depends_cover "$deb" "$x/usr/bin/xc-livepatch" || f=1
  cmp -s "$x/usr/share/xc-livepatch/prometheus/xen-livepatch.rules.yml" "$tmp/src/cli/prometheus/xen-livepatch.rules.yml" ||
    { fail "the shipped Prometheus rules are not cli/prometheus/xen-livepatch.rules.yml"; f=1; }
  out=$("$x/usr/bin/xc-livepatch" --version) && [ "$out" = "xc-livepatch $version" ] || { fail "--version says '$out'"; f=1; }
  out=$("$x/usr/bin/xc-livepatch" --sim "$tmp/src/tests/fakexen/scenarios/03-mixed-metadata.scn" list --format dump 2>&1) ||
    { fail "xc-livepatch --sim ... list failed: $out"; f=1; }
  for p in "$x"/usr/share/man/man1/*.gz; do
    zcat "$p" | grep -q '^\.TH .* "[^"]* '"$version"'"' || { fail "$(basename "$p") does not carry version $version"; f=1; }
  done
  # The bash completion, sourced: completing `xc-livepatch ap` offers apply.
  out=$(bash -c 'source "$1"; COMP_WORDS=(xc-livepatch ap); COMP_CWORD=1; COMP_LINE="xc-livepatch ap"; COMP_POINT=${#COMP_LINE}
    fn=$(complete -p xc-livepatch | sed "s/.*-F \([^ ]*\).*/\1/"); "$fn" xc-livepatch ap xc-livepatch; echo "${COMPREPLY[*]}"' _ "$x/usr/share/bash-completion/completions/xc-livepatch" 2>&1)
  [ "$out" = apply ] || { fail "the bash completion of 'xc-livepatch ap' is '$out', not apply"; f=1; }
  [ $f -eq 0 ] && echo "  $(basename "$deb"): $(listing "$deb" | wc -l) files as listed, Section admin, --version $version, lists '$(head -n1 <<<"$out")' under --sim"
  return $f
}

# 6. The static command: one file, and it behaves as the packaged one.
check_static() { # STATIC CLIDEB
  local s=$1 f=0 x desc hdr args scn fmt n=0 d=0
  [ -x "$s" ] || { fail "no executable $s"; return 1; }
  x=$tmp/x-static; rm -rf "$x"; dpkg-deb -x "$2" "$x"
  desc=$(file -b "$s")
  grep -qE '(statically|static-pie) linked' <<<"$desc" || { fail "file says: $desc"; f=1; }
  hdr=$(readelf -l -d "$s" 2>&1)
  ! grep -q 'INTERP' <<<"$hdr" || { fail "it asks for an interpreter: $(grep -o '\[Requesting program interpreter: .*\]' <<<"$hdr")"; f=1; }
  ! grep -q '(NEEDED)' <<<"$hdr" || { fail "it NEEDs $(sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' <<<"$hdr" | tr '\n' ' ')"; f=1; }
  ! readelf -S "$s" | grep -q '\.debug_info' || { fail "it is not stripped"; f=1; }
  # a fixed-address executable: a static-pie relocates itself at every start, which costs
  # 30 ms and more per action in a PV dom0 (scripts/static-build.sh)
  [ "$(readelf -h "$s" | awk '/Type:/ {print $2}')" = EXEC ] || { fail "it is position-independent: $(readelf -h "$s" | grep Type:)"; f=1; }
  [ "$("$s" --version)" = "xc-livepatch $version" ] || { fail "--version says '$("$s" --version)'"; f=1; }
  # stdout, stderr and exit status of both, for each of these argument lists
  same_run() { # ARGS...
    n=$((n + 1))
    "$s" "$@" >"$tmp/s.out" 2>"$tmp/s.err"; echo $? >"$tmp/s.rc"
    "$x/usr/bin/xc-livepatch" "$@" >"$tmp/g.out" 2>"$tmp/g.err"; echo $? >"$tmp/g.rc"
    cmp -s "$tmp/s.out" "$tmp/g.out" && cmp -s "$tmp/s.err" "$tmp/g.err" && cmp -s "$tmp/s.rc" "$tmp/g.rc" && return 0
    d=$((d + 1))
    [ $d -le 3 ] || return 1
    echo "  FAIL: xc-livepatch $* differs (< packaged, > static; exit $(cat "$tmp/g.rc") vs $(cat "$tmp/s.rc")):"
    diff <(cat "$tmp/g.out" "$tmp/g.err") <(cat "$tmp/s.out" "$tmp/s.err") | grep '^[<>]' | head -n 4 | sed 's/^/    /'
    return 1
  }
  for args in --version --help "list --help" "iface --help"; do
    # shellcheck disable=SC2086 # the words of one argument list
    same_run $args || f=1
  done
  same_run --sim "$tmp/src/tests/fakexen/demo.scn" list || f=1
  for scn in "$tmp/src/tests/fakexen/demo.scn" "$tmp"/src/tests/fakexen/scenarios/*.scn; do
    for fmt in "list" "list --json" "list --format prometheus" "list --format dump" "iface"; do
      # shellcheck disable=SC2086
      same_run --sim "$scn" $fmt || f=1
    done
  done
  [ $d -eq 0 ] || { fail "$d of $n runs differ from the packaged command's"; f=1; }
  [ $f -eq 0 ] && echo "  $(basename "$s"): $(stat -c %s "$s") bytes, '$desc'; no interpreter, no NEEDED, ELF type EXEC; $n runs (--version, --help, --sim demo.scn and $(ls "$tmp"/src/tests/fakexen/scenarios/*.scn | wc -l) scenarios in 4 formats and iface) identical to the packaged command's"
  return $f
}

# 3. A throwaway root holding both packages; a C program built with only pkg-config.
check_root() { # LIBDEB DEVDEB
  local r flags out f=0
  r=$(mktemp -d "$tmp/root.XXXXXX")
  dpkg-deb -x "$1" "$r" && dpkg-deb -x "$2" "$r" || return 1
  flags=$(PKG_CONFIG_SYSROOT_DIR=$r PKG_CONFIG_LIBDIR=$r/$libdir/pkgconfig PKG_CONFIG_PATH= \
    pkg-config --cflags --libs xc-livepatch) || { fail "pkg-config --cflags --libs xc-livepatch failed"; return 1; }
  echo "  pkg-config --cflags --libs xc-livepatch: ${flags//$r/<root>}"
  # shellcheck disable=SC2086 # the flags are words
  gcc -O1 -Wall -Wextra -Werror -o "$r/list" "$tmp/src/tests/fakexen/c/relink.c" $flags 2>"$r/cc.err" ||
    { fail "the C program does not build with these flags:"; sed 's/^/    /' "$r/cc.err" | head -n 5; return 1; }
  readelf -d "$r/list" | grep -q "(NEEDED).*\[$so.$major\]" || { fail "the program does not NEED $so.$major"; f=1; }
  readelf -d "$r/list" | grep -qE '\((RPATH|RUNPATH)\)' && { fail "the program carries an RPATH"; f=1; }
  # Without the root's library directory it must not start (else the test
  # would not show where the library came from).
  if [ -e "/$libdir/$so.$major" ]; then
    echo "  (this machine has /$libdir/$so.$major installed: the program would start without the root)"
  elif out=$(LD_PRELOAD=$FX FAKEXEN_SCENARIO=$tmp/src/tests/fakexen/scenarios/03-mixed-metadata.scn "$r/list" 2>&1); then
    fail "the program started without the root's library directory"; f=1
  else
    echo "  without the root's library directory: $(grep -o "$so.$major: cannot open shared object file" <<<"$out")"
  fi
  local from
  from=$(LD_LIBRARY_PATH=$r/$libdir ldd "$r/list" | awk -v l="$so.$major" '$1 == l { print $3 }')
  [ "$from" = "$r/$libdir/$so.$major" ] || { fail "the loader takes $so.$major from '$from'"; f=1; }
  out=$(LD_LIBRARY_PATH=$r/$libdir LD_PRELOAD=$FX FAKEXEN_SCENARIO=$tmp/src/tests/fakexen/scenarios/03-mixed-metadata.scn "$r/list" 2>&1) ||
    { fail "the program failed: $out"; return 1; }
  diff <(echo "$out") "$tmp/src/tests/fakexen/expected/relink-03-mixed-metadata.dump" >/dev/null ||
    { fail "the listing differs from tests/fakexen/expected/relink-03-mixed-metadata.dump:"; echo "$out" | sed 's/^/    /' | head; return 1; }
  [ $f -eq 0 ] && echo "  with LD_LIBRARY_PATH=<root>/$libdir only: $so.$major from the root; listed $(grep -c $'\t' <<<"$out") payloads of the simulated hypervisor, as expected"
  return $f
}

# 4. lintian.
check_lintian() {
  local out e w unaccepted
  out=$(lintian --tag-display-limit 0 "$@" 2>"$tmp/lintian.err")
  e=$(grep -c '^E: ' <<<"$out"); w=$(grep -c '^W: ' <<<"$out")
  unaccepted=$(grep '^W: ' <<<"$out" | while read -r line; do
      tag=$(awk '{print $3}' <<<"$line")
      grep -qE "^$tag( |$)" "$tmp/src/packaging/debian/lintian-accepted" || echo "$line"
    done)
  echo "$out" | grep -E '^(E|W): ' | sed 's/^/  /'
  echo "  lintian: $e errors, $w warnings ($(grep -c . <<<"$unaccepted") not in packaging/debian/lintian-accepted)"
  [ "$e" -eq 0 ] && [ -z "$unaccepted" ]
}

# 5. The crate.
check_crate() {
  local list bad_files f=0
  list=$(cd "$tmp/src" && cargo package --list --quiet --locked --allow-dirty -p xc-livepatch 2>/dev/null) ||
    { fail "cargo package --list failed"; return 1; }
  bad_files=$(grep -vE '^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|build\.rs|README\.md|LICENSE|include/xc_livepatch\.h|src/.*\.rs|examples/[^/]*\.rs)$' <<<"$list")
  [ -z "$bad_files" ] || { fail "cargo package would ship: $(echo $bad_files)"; f=1; }
  for need in Cargo.toml build.rs src/lib.rs include/xc_livepatch.h LICENSE README.md; do
    grep -qx "$need" <<<"$list" || { fail "cargo package leaves out $need"; f=1; }
  done
  echo "  cargo package --list: $(wc -l <<<"$list") files (src/, the header, the example, build.rs, README, LICENSE)"
  list=$(cd "$tmp/src" && cargo package --list --quiet --locked --allow-dirty -p xc-livepatch-cli 2>/dev/null) ||
    { fail "cargo package --list -p xc-livepatch-cli failed"; return 1; }
  bad_files=$(grep -vE '^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|src/.*\.rs|man/[^/]*\.1|schema/[^/]*\.json|completions/[^/]*)$' <<<"$list")
  [ -z "$bad_files" ] || { fail "cargo package -p xc-livepatch-cli would ship: $(echo $bad_files)"; f=1; }
  echo "  cargo package --list -p xc-livepatch-cli: $(wc -l <<<"$list") files (src/, man/, schema/, completions/)"
  # The command installed from the two packaged tarballs alone (the library's
  # tarball stands in for the registry's copy).
  local pk=$tmp/crates
  mkdir -p "$pk"
  (cd "$tmp/src" && CARGO_TARGET_DIR=$root/target/package-check cargo package --quiet --no-verify --locked --allow-dirty \
     -p xc-livepatch -p xc-livepatch-cli 2>/dev/null) || { fail "cargo package -p xc-livepatch -p xc-livepatch-cli failed"; return 1; }
  tar -xzf "$root/target/package-check/package/xc-livepatch-$version.crate" -C "$pk" &&
    tar -xzf "$root/target/package-check/package/xc-livepatch-cli-$version.crate" -C "$pk" || { fail "no .crate files"; return 1; }
  if CARGO_TARGET_DIR=$root/target/package-check cargo install --quiet --path "$pk/xc-livepatch-cli-$version" --root "$pk/inst" \
       --config "patch.crates-io.xc-livepatch.path=\"$pk/xc-livepatch-$version\"" 2>"$pk/install.err" &&
     [ "$("$pk/inst/bin/xc-livepatch" --version)" = "xc-livepatch $version" ]; then
    echo "  cargo install from the packaged xc-livepatch-cli-$version.crate: xc-livepatch $version runs"
  else fail "cargo install from the packaged xc-livepatch-cli tarball failed:"; tail -n 5 "$pk/install.err" | sed 's/^/    /'; f=1; fi
  (cd "$tmp/src" && CARGO_TARGET_DIR=$root/target/package-check cargo publish --dry-run --quiet --locked --allow-dirty -p xc-livepatch 2>&1 |
    grep -vE '^warning: (ignoring test .* is not included in the published package|aborting upload due to dry run)$' | sed 's/^/  /'
    exit "${PIPESTATUS[0]}") || { fail "cargo publish --dry-run -p xc-livepatch failed"; f=1; }
  [ $f -eq 0 ] && echo "  cargo publish --dry-run -p xc-livepatch: ok"
  return $f
}

check_collection() { # TARBALL: ansible-galaxy's build of ansible/
  local t=$1 f=0 files m
  [ -s "$t" ] || { fail "no $(basename "$t") beside the packages"; return 1; }
  files=$(tar -tzf "$t" | LC_ALL=C sort)
  for need in MANIFEST.json FILES.json README.md meta/runtime.yml plugins/modules/xen_livepatch.py \
    plugins/modules/xen_livepatch_info.py plugins/module_utils/xc_livepatch.py plugins/action/xen_livepatch.py; do
    grep -qx "$need" <<<"$files" || { fail "$(basename "$t") lacks $need"; f=1; }
  done
  m=$(tar -xzOf "$t" MANIFEST.json | python3 -c 'import json, sys; c = json.load(sys.stdin)["collection_info"]; print(c["namespace"], c["name"], c["version"])')
  [ "$m" = "xen livepatch $version" ] || { fail "MANIFEST.json says '$m', not 'xen livepatch $version'"; f=1; }
  [ $f -eq 0 ] && echo "  $(basename "$t"): $(wc -l <<<"$files") entries, xen.livepatch $version, both modules, the runner, the action plugin"
  return $f
}

cargo build --release --locked -q && cargo build --release --locked -q -p fakexen || { echo "cargo build failed"; exit 1; }
plain_soname=$(soname_of target/release/$so)
FX=$root/target/release/libfakexen.so

part "libxc-livepatch1: files, SONAME, exports, Depends, control files" check_lib "$LIB"
part "libxc-livepatch-dev: files, Depends, header, pkg-config version" check_dev "$DEV"
part "xc-livepatch: files, Depends, the command and its man pages" check_cli "$CLI"
part "throwaway root: a C program built with pkg-config lists the simulated payloads" check_root "$LIB" "$DEV"
part "lintian" check_lintian "$LIB" "$DEV" "$CLI"
part "crates: cargo package --list, cargo publish --dry-run, cargo install from the tarballs" check_crate
part "static xc-livepatch: no interpreter, no shared library, output as the packaged command's" check_static "$STATIC" "$CLI"
part "the Ansible collection tarball: xen.livepatch at this version, its modules" check_collection "$tmp/debs/xen-livepatch-$version.tar.gz"

# 7. Deliberate breaks: each mutated package must fail the check named.
mutant() { # DEB FUNCTION: a copy of DEB changed by FUNCTION DIR, rebuilt
  local d; d=$(mktemp -d "$tmp/mutant.XXXXXX")
  dpkg-deb -R "$1" "$d/tree" && "$2" "$d/tree" && dpkg-deb --root-owner-group -b "$d/tree" "$d/m.deb" >/dev/null && echo "$d/m.deb"
}
drop_link() { rm "$1/$libdir/$so.$major"; }
other_soname() { perl -pi -e "s/\Q$so.$major\E\0/$so.9\0/g" "$1/$libdir/$so.$version"; }
wrong_pc_flag() { sed -i 's/-lxc_livepatch/-lxc-livepatch/' "$1/$libdir/pkgconfig/xc-livepatch.pc"; }
no_libc_depends() { sed -i 's/^Depends: .*/Depends: libgcc-s1 (>= 4.2)/' "$1/DEBIAN/control"; }
caught() { # WHAT CHECK ARGS...: the check must fail
  local what=$1 out; shift
  if out=$("$@" 2>&1); then echo "  NOT caught: $what"; return 1; fi
  echo "  caught: $what -> $(grep -m1 'FAIL' <<<"$out" | sed 's/^ *FAIL: //')"
}
breaks() {
  local f=0 m
  m=$(mutant "$LIB" drop_link) && caught "libxc-livepatch1 without the $so.$major link (file list)" check_lib "$m" || f=1
  [ -n "$m" ] && { caught "libxc-livepatch1 without the $so.$major link (C program in the root)" check_root "$m" "$DEV" || f=1; }
  m=$(mutant "$LIB" other_soname) && caught "SONAME $so.9 inside the library" check_lib "$m" || f=1
  m=$(mutant "$DEV" wrong_pc_flag) && caught "xc-livepatch.pc saying -lxc-livepatch" check_root "$LIB" "$m" || f=1
  m=$(mutant "$LIB" no_libc_depends) && caught "Depends without libc6" check_lib "$m" || f=1
  m=$tmp/dynamic-as-static; mkdir -p "$m" && dpkg-deb -x "$CLI" "$m" &&
    caught "the packaged (dynamic) command as the static one" check_static "$m/usr/bin/xc-livepatch" "$CLI" || f=1
  m=$tmp/pie/xc-livepatch; mkdir -p "${m%/*}" && cp "$STATIC" "$m" &&
    printf '\003' | dd of="$m" bs=1 seek=16 conv=notrunc status=none &&
    caught "a static command marked position-independent (ELF type DYN)" check_static "$m" "$CLI" || f=1
  # (musl's own text for EBUSY is "Resource busy": the command must not use it)
  m=$tmp/other-text/xc-livepatch; mkdir -p "${m%/*}" && cp "$STATIC" "$m" &&
    perl -pi -e 's/Device or resource busy/Device or resource BUSY/g' "$m" &&
    caught "a static command with another EBUSY text" check_static "$m" "$CLI" || f=1
  return $f
}
part "deliberate breaks are caught" breaks

echo "package: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
