#!/bin/bash
# Sourced by run.sh. Host tools and Debian packages for the real-Xen harness.
#
# Host tools are installed with apt-get. The hypervisor, the dom0 kernel, busybox and
# the Xen userland are only downloaded (`apt-get download`) into a cache keyed by the
# .deb file name and unpacked with `dpkg-deb -x`: nothing of that is installed.

log() { # with the seconds since run.sh started, once it has
    if [ -n "${T_START:-}" ]; then
        printf '[real-xen] %s %s\n' "$(echo "$(date +%s.%N) $T_START" | awk '{printf "%6.1fs", $1-$2}')" "$*" >&2
    else
        printf '[real-xen] %s\n' "$*" >&2
    fi
}
die() { printf '[real-xen] FATAL: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        apt-get update -q >&2 || die "apt-get update failed"
        APT_UPDATED=1
    fi
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    # apt_install pkg... : install host packages, running apt-get update if needed
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; then
        APT_UPDATED=0
        apt_update_once
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
    fi
}

# Host packages needed to build and boot. qemu-system-x86 is special-cased below.
ensure_host_tools() {
    local missing=()
    command -v cpio >/dev/null || missing+=(cpio)
    command -v as >/dev/null && command -v ld >/dev/null && command -v objcopy >/dev/null \
        && command -v readelf >/dev/null || missing+=(binutils)
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    command -v python3 >/dev/null || missing+=(python3)
    command -v gzip >/dev/null || missing+=(gzip)
    command -v dpkg-deb >/dev/null || missing+=(dpkg)
    command -v timeout >/dev/null || missing+=(coreutils)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing host packages: ${missing[*]}"
        apt_install "${missing[@]}" || die "cannot install ${missing[*]}"
    fi
    ensure_qemu
}

# Sets QEMU to a qemu-system-x86_64 binary.
ensure_qemu() {
    if command -v qemu-system-x86_64 >/dev/null; then QEMU=$(command -v qemu-system-x86_64); return; fi
    local c
    for c in "$CACHE"/unpacked/qemu-*/usr/bin/qemu-system-x86_64; do
        if [ -x "$c" ] && "$c" --version >/dev/null 2>&1 && [ -e /usr/share/qemu/bios-256k.bin -o -e /usr/share/seabios/bios-256k.bin ]; then
            QEMU=$c; return
        fi
    done
    log "installing qemu-system-x86"
    if apt_install qemu-system-x86; then
        QEMU=$(command -v qemu-system-x86_64) && return
    fi
    # Fallback: some machines carry a newer qemu-utils (backports) that Breaks the
    # bookworm qemu-system-common. Install qemu-system-x86's dependencies except
    # qemu-system-common, and run the binary from the unpacked .deb (firmware comes
    # from qemu-system-data/seabios/ipxe-qemu, which have no such conflict).
    log "apt-get install qemu-system-x86 failed; using the unpacked .deb instead"
    local deps
    deps=$(apt-cache depends qemu-system-x86 | awk '/^ *Depends: [a-z]/ {print $2}' \
           | grep -v -x -e qemu-system-common | sort -u)
    # shellcheck disable=SC2086
    apt_install $deps || die "cannot install qemu-system-x86 dependencies"
    local root
    root=$(fetch_and_unpack qemu qemu-system-x86 qemu-system-common)
    QEMU="$root/usr/bin/qemu-system-x86_64"
    [ -x "$QEMU" ] || die "no qemu-system-x86_64 in the unpacked package"
    "$QEMU" --version >/dev/null || die "unpacked qemu does not run"
}

# fetch_debs pkg... : download each package's current candidate into $DEB_CACHE (if not
# already there under the same file name) and print the paths of the .deb files.
# The apt index state the current APT_OPTS read: newest Packages file of its lists.
apt_lists_stamp() {
    local dir=/var/lib/apt/lists o
    for o in "${APT_OPTS[@]}"; do case $o in Dir::State::Lists=*) dir=${o#*=};; esac; done
    ls -t "$dir"/*Packages* 2>/dev/null | head -1 | xargs -r stat -c '%n %Y' 2>/dev/null
}

# Asking apt costs seconds per call on a loaded machine: what fetch_debs resolved is
# remembered per (package names, apt index state) in $CACHE/resolved.
fetch_debs() {
    local key memo
    key=$(printf '%s\n' "$@" "${APT_OPTS[@]}" "$(apt_lists_stamp)" | sha1sum | cut -c1-16)
    memo=$CACHE/resolved/$key
    if [ -s "$memo" ] && [ -n "$(apt_lists_stamp)" ] && xargs -r ls < "$memo" >/dev/null 2>&1; then
        cat "$memo"; return
    fi
    local out
    out=$(fetch_debs_from_apt "$@") || exit 1
    mkdir -p "$CACHE/resolved"
    printf '%s\n' "$out" > "$memo.$$" && mv -f "$memo.$$" "$memo"
    printf '%s\n' "$out"
}

fetch_debs_from_apt() {
    local uris out pkg
    # --print-uris prints nothing for a file already present in the current directory,
    # so ask from an empty directory
    local empty="$CACHE/empty"
    mkdir -p "$DEB_CACHE" "$empty"
    # one apt-get call for all the names (a second per package only if that fails)
    local all
    all=$(cd "$empty" && apt-get "${APT_OPTS[@]}" download --print-uris "$@" 2>/dev/null) || all=""
    for pkg in "$@"; do
        uris=$(printf '%s\n' "$all" | awk -v p="${pkg}_" 'index($2, p) == 1')
        [ -n "$uris" ] || uris=$(cd "$empty" && apt-get "${APT_OPTS[@]}" download --print-uris "$pkg" 2>/dev/null)
        if [ -z "$uris" ]; then
            if [ ${#APT_OPTS[@]} = 0 ]; then apt_update_once; fi
            uris=$(cd "$empty" && apt-get "${APT_OPTS[@]}" download --print-uris "$pkg" 2>/dev/null)
        fi
        [ -n "$uris" ] || die "apt cannot find package $pkg"
        out=$(printf '%s\n' "$uris" | awk '{print $2; exit}')
        if [ ! -s "$DEB_CACHE/$out" ]; then
            # The cache is shared by concurrent runs: download into a private
            # directory, then rename (atomic) into place.
            local tmpd
            tmpd=$(mktemp -d -p "$DEB_CACHE" .dl.XXXXXX)
            log "downloading $out"
            (cd "$tmpd" && apt-get "${APT_OPTS[@]}" download "$pkg" >&2 2>/dev/null) \
                || (cd "$tmpd" && apt-get "${APT_OPTS[@]}" download "$pkg" >&2) \
                || { rm -rf "$tmpd"; die "download of $pkg failed"; }
            [ -s "$tmpd/$out" ] || { rm -rf "$tmpd"; die "download of $pkg did not produce $out"; }
            mv -f "$tmpd/$out" "$DEB_CACHE/$out"; rm -rf "$tmpd"
        fi
        echo "$DEB_CACHE/$out"
    done
}

# fetch_and_unpack tag pkg... : unpack the packages into one tree under the cache
# (keyed by the .deb file names) and print the tree's path.
fetch_and_unpack() {
    local tag=$1; shift
    local debs key dir d
    debs=$(fetch_debs "$@") || exit 1
    key=$(printf '%s\n' "$debs" | xargs -n1 basename | sha1sum | cut -c1-16)
    dir="$CACHE/unpacked/$tag-$key"
    if [ ! -e "$dir/.complete" ]; then
        # Unpack privately, then rename into place: a concurrent run unpacking the
        # same packages never sees (or removes) a half-made tree.
        local tmp
        mkdir -p "$CACHE/unpacked"
        tmp=$(mktemp -d -p "$CACHE/unpacked" ".$tag.XXXXXX")
        for d in $debs; do dpkg-deb -x "$d" "$tmp" || { rm -rf "$tmp"; die "dpkg-deb -x $d failed"; }; done
        printf '%s\n' "$debs" | xargs -n1 basename > "$tmp/.complete"
        if [ -e "$dir/.complete" ] || ! mv -T "$tmp" "$dir" 2>/dev/null; then
            rm -rf "$tmp"
            [ -e "$dir/.complete" ] || die "cannot move the unpacked $tag into $dir"
        fi
    fi
    echo "$dir"
}

# Package name of the current 6.1 kernel image, e.g. linux-image-6.1.0-56-amd64.
current_kernel_pkg() {
    local p memo
    memo=$CACHE/resolved/kernel-$(apt_lists_stamp | sha1sum | cut -c1-16)
    if [ -s "$memo" ]; then cat "$memo"; return; fi
    p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$p" ]; then
        apt_update_once
        p=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
    [ -n "$p" ] || die "cannot find the linux-image-amd64 dependency"
    mkdir -p "$CACHE/resolved"
    echo "$p" > "$memo.$$" && mv -f "$memo.$$" "$memo"
    echo "$p"
}

# Private apt configuration for another Debian suite (trixie: Xen 4.20, bullseye:
# Xen 4.14); the machine's sources are not touched. Uses the URI of the machine's own
# Debian source. Sets APT_OPTS; `APT_OPTS=()` returns to the machine's sources.
setup_suite_apt() {
    local suite=$1 d="$CACHE/apt-$1" uri keyring
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc"
    uri=$(grep -h -E '^\s*URIs:\s*\S*debian/?\s*$' /etc/apt/sources.list.d/*.sources 2>/dev/null \
          | awk '{print $2; exit}')
    [ -n "$uri" ] || uri=$(grep -h -E '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | grep -v security | sed -E 's/\[[^]]*\]//' | awk '{print $2; exit}')
    [ -n "$uri" ] || uri=http://deb.debian.org/debian
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    echo "deb [signed-by=$keyring] $uri $suite main" > "$d/etc/sources.list.$$"
    mv -f "$d/etc/sources.list.$$" "$d/etc/sources.list"
    APT_OPTS=(-o "Dir::Etc::SourceList=$d/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache")
    # refresh the private index at most once a day
    if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
        log "apt-get update (private $suite index at $d)"
        apt-get "${APT_OPTS[@]}" update -q >&2 || die "$suite apt-get update failed"
    fi
}
setup_trixie_apt() { setup_suite_apt trixie; }
