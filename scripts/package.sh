#!/usr/bin/env bash
# Builds the Debian packages into target/debian/ from this checkout:
#   libxc-livepatch1_<version>_<arch>.deb     the shared library (.so.1.<minor>.<patch>, .so.1 link)
#   libxc-livepatch-dev_<version>_<arch>.deb  header, .so link, static library, pkg-config file
#   xc-livepatch_<version>_<arch>.deb         the xc-livepatch command, its man pages and its
#                                             bash, zsh and fish completions, its
#                                             Prometheus rules (cli/)
#   xen-livepatch-<version>.tar.gz           the Ansible collection xen.livepatch (ansible/),
#                                             built by ansible-galaxy (scripts/ansible-env.sh)
# and, into STATICDIR (default target/static/), the same command as one static
# executable for any x86_64 dom0, Debian or not (XCP-ng, Qubes):
#   xc-livepatch    built for x86_64-unknown-linux-musl: no interpreter, no
#                   shared library; the rustup target is added when missing
# The files come from the install tree `cargo cinstall` makes (cargo-c, pinned
# below and installed with `cargo install --locked` when missing); the control
# files from packaging/debian/ through Debian's own tools: dpkg-shlibdeps
# (Depends), dpkg-gensymbols (the symbols file, checked against the one
# committed), dpkg-gencontrol, dpkg-deb. The version is the crate's
# (Cargo.toml); packaging/debian/changelog must have an entry for it.
#   bash scripts/package.sh [OUTDIR [STATICDIR]]  (default target/debian, target/static)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$root/target/debian}
static_out=${2:-$root/target/static}
CARGO_C_VERSION=0.10.24 # the newest cargo-c that builds with rustc 1.95

say() { echo "package: $*"; }
die() { echo "package: $*" >&2; exit 1; }

# libssl-dev: cargo-c links OpenSSL (only its first installation needs it).
bash scripts/setup.sh dpkg-dev binutils libssl-dev

# cargo-c, pinned; skipped when that version is already installed. It compiles
# cargo itself (419 crates): built with the dev profile and no debug info
# (--debug, CARGO_PROFILE_DEV_DEBUG=0) that took 356 s of CPU here, the release
# profile 1,114 s (the heaviest part of a fresh test run: 15 min of wall
# time at load 5-12 against the 20-35 reported); the unoptimised cargo-c
# installs the same files, byte for byte, and a `cargo cinstall` with nothing
# to build takes it 1.5 s of CPU (1.7 s optimised).
if [ "$(cargo cinstall --version 2>/dev/null | awk '{print $2}' | cut -d+ -f1)" != "$CARGO_C_VERSION" ]; then
  say "installing cargo-c $CARGO_C_VERSION (once; dev profile: several minutes on 2 cores)"
  t0=$SECONDS
  CARGO_PROFILE_DEV_DEBUG=0 cargo install --quiet --locked --debug cargo-c --version "$CARGO_C_VERSION"
  say "cargo-c installed in $((SECONDS - t0)) s"
fi

version=$(cargo pkgid --quiet -p xc-livepatch | sed 's/.*[#@]//')
[[ $version =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "cannot read the crate version (got '$version')"
major=${BASH_REMATCH[1]}
[ "$major" -ge 1 ] || die "version $version: the library's SONAME is .so.<major>; release 1.0.0 or later"
changelog_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
[ "$changelog_version" = "$version" ] ||
  die "packaging/debian/changelog's latest entry is $changelog_version, Cargo.toml says $version: add an entry"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir=usr/lib/$multiarch
so=libxc_livepatch.so
# The file times in the packages: the changelog entry's date.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp)
export SOURCE_DATE_EPOCH

work=$(mktemp -d "${TMPDIR:-/tmp}/xc-livepatch-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The install tree.
say "cargo cinstall $version into a staging tree"
cargo cinstall --release --locked --prefix=/usr --libdir="lib/$multiarch" --destdir="$work/tree"
tree=$work/tree
want="usr/include/xc_livepatch.h
$libdir/$so
$libdir/$so.$major
$libdir/$so.$version
$libdir/libxc_livepatch.a
$libdir/pkgconfig/xc-livepatch.pc"
got=$(cd "$tree" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort)
[ "$got" = "$(LC_ALL=C sort <<<"$want")" ] ||
  die "cargo cinstall made another tree than expected:$(diff <(LC_ALL=C sort <<<"$want") <(echo "$got") | sed 's/^/ /')"
[ "$(readlink "$tree/$libdir/$so.$major")" = "$so.$version" ] || die "$so.$major does not point at $so.$version"
[ "$(readlink "$tree/$libdir/$so")" = "$so.$version" ] || die "$so does not point at $so.$version"
soname=$(readelf -d "$tree/$libdir/$so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "$so.$major" ] || die "the installed library's SONAME is '$soname', its link is $so.$major"
# Strip as dh_strip does: debug info out, the dynamic symbols stay.
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$tree/$libdir/$so.$version"
strip --remove-section=.comment --remove-section=.note --strip-debug --enable-deterministic-archives \
  "$tree/$libdir/libxc_livepatch.a"

# 2. A scratch "source package" for the dpkg-dev tools.
src=$work/src
mkdir -p "$src/debian"
cp packaging/debian/control packaging/debian/changelog "$src/debian/"

pkgdir() { echo "$src/debian/$1"; }
put() { # PACKAGE PATH...: moves these paths of the install tree into PACKAGE
  local pkg=$1 p; shift
  for p in "$@"; do
    mkdir -p "$(pkgdir "$pkg")/$(dirname "$p")"
    mv "$tree/$p" "$(pkgdir "$pkg")/$p"
  done
}
docs() { # PACKAGE: copyright and changelog
  local d; d=$(pkgdir "$1")/usr/share/doc/$1
  mkdir -p "$d"
  cp packaging/debian/copyright "$d/copyright"
  gzip -9n <packaging/debian/changelog >"$d/changelog.gz"
}
finish() { # PACKAGE: control file, md5sums, permissions, the .deb
  local pkg=$1 dir; dir=$(pkgdir "$1")
  mkdir -p "$dir/DEBIAN"
  (cd "$src" && dpkg-gencontrol -p"$pkg" -P"$dir" -T"debian/$pkg.substvars" -f"debian/files")
  find "$dir" -type d -exec chmod 0755 {} +
  find "$dir" -type f -exec chmod 0644 {} +
  [ ! -d "$dir/usr/bin" ] || chmod 0755 "$dir"/usr/bin/*
  (cd "$dir" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums)
  chmod 0644 "$dir"/DEBIAN/*
  mkdir -p "$out"
  dpkg-deb --root-owner-group -Zxz --build "$dir" "$out/${pkg}_${version}_${arch}.deb" >/dev/null
  say "built $out/${pkg}_${version}_${arch}.deb"
}

rm -f "$out"/*.deb "$out"/xen-livepatch-*.tar.gz

# 3. libxc-livepatch1: the runtime library.
lib=libxc-livepatch1
put $lib "$libdir/$so.$version" "$libdir/$so.$major"
docs $lib
mkdir -p "$(pkgdir $lib)/DEBIAN"
(cd "$src" && dpkg-shlibdeps -T"debian/$lib.substvars" -e"debian/$lib/$libdir/$so.$version")
echo "misc:Depends=" >>"$src/debian/$lib.substvars"
# The symbols file: dpkg-gensymbols fails (-c4) if the library's exports differ
# from the committed list in any way.
(cd "$src" && dpkg-gensymbols -q -c4 -p$lib -P"$(pkgdir $lib)" -v"$version" \
  -I"$root/packaging/debian/$lib.symbols" -O"$(pkgdir $lib)/DEBIAN/symbols") ||
  die "the library's exported symbols differ from packaging/debian/$lib.symbols"
cp packaging/debian/$lib.shlibs "$(pkgdir $lib)/DEBIAN/shlibs"
# ldconfig runs after installation (the trigger debhelper adds for libraries).
echo "activate-noawait ldconfig" >"$(pkgdir $lib)/DEBIAN/triggers"
finish $lib

# 4. libxc-livepatch-dev: what a C program is built with.
dev=libxc-livepatch-dev
put $dev usr/include/xc_livepatch.h "$libdir/$so" "$libdir/libxc_livepatch.a" "$libdir/pkgconfig/xc-livepatch.pc"
docs $dev
echo "misc:Depends=" >"$src/debian/$dev.substvars"
finish $dev

# 5. xc-livepatch: the command (its own crate, at the same version).
cli=xc-livepatch
cli_version=$(cargo pkgid --quiet -p xc-livepatch-cli | sed 's/.*[#@]//')
[ "$cli_version" = "$version" ] || die "cli/Cargo.toml's version is $cli_version, the library's $version"
say "cargo build --release -p xc-livepatch-cli"
cargo build --release --locked -p xc-livepatch-cli
bin=$(pkgdir $cli)/usr/bin
mkdir -p "$bin" "$(pkgdir $cli)/usr/share/man/man1"
cp "${CARGO_TARGET_DIR:-$root/target}/release/xc-livepatch" "$bin/xc-livepatch"
strip --remove-section=.comment --remove-section=.note "$bin/xc-livepatch"
for page in cli/man/*.1; do
  gzip -9n <"$page" >"$(pkgdir $cli)/usr/share/man/man1/$(basename "$page").gz"
done
# The completions where Debian's bash-completion, zsh and fish look for them.
for c in bash-completion/completions/xc-livepatch zsh/vendor-completions/_xc-livepatch \
  fish/vendor_completions.d/xc-livepatch.fish; do
  mkdir -p "$(pkgdir $cli)/usr/share/$(dirname "$c")"
  cp "cli/completions/$(basename "$c")" "$(pkgdir $cli)/usr/share/$c"
done
# The Prometheus rules over what `list --format prometheus` exports.
mkdir -p "$(pkgdir $cli)/usr/share/xc-livepatch/prometheus"
cp cli/prometheus/xen-livepatch.rules.yml "$(pkgdir $cli)/usr/share/xc-livepatch/prometheus/"
docs $cli
(cd "$src" && dpkg-shlibdeps -T"debian/$cli.substvars" -e"debian/$cli/usr/bin/xc-livepatch")
echo "misc:Depends=" >>"$src/debian/$cli.substvars"
finish $cli

left=$(cd "$tree" && find . -mindepth 1 \( -type f -o -type l \))
[ -z "$left" ] || die "files of the install tree in no package: $left"

# 6. The static command (scripts/static-build.sh: musl, not position-independent).
bash scripts/static-build.sh "$static_out"

# 7. The Ansible collection (ansible/): ansible-galaxy collection build, with
# the pinned ansible-core of scripts/ansible-env.sh, at the crate's version.
galaxy_version=$(sed -n 's/^version: *//p' ansible/galaxy.yml)
[ "$galaxy_version" = "$version" ] || die "ansible/galaxy.yml's version is $galaxy_version, the crate's $version"
ansible_bin=$(bash scripts/ansible-env.sh) || die "scripts/ansible-env.sh failed"
"$ansible_bin/ansible-galaxy" collection build --force --output-path "$out" ansible >/dev/null ||
  die "ansible-galaxy collection build ansible failed"
say "built $out/xen-livepatch-$version.tar.gz"
