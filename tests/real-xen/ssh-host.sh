# Sourced by run.sh (bash): dom0 as an Ansible managed host on the hypervisors of
# REAL_XEN_SSH (default "4.17 4.22"; issue 26). ssh_prepare makes, once per run:
#   - $WORK/ssh.cpio, the initramfs part those boots add: Debian 12's sshd and
#     sftp-server, python3.11 with its standard library, the e1000 driver,
#     /etc/passwd and an sshd_config, a host key and an authorized key made
#     for this run (ssh-keygen on the host), and ssh.sh;
#   - the collection, built by ansible-galaxy and installed from its tarball
#     (and a copy whose module always reports changed, for the break);
#   - the host's ansible-playbook (scripts/ansible-env.sh).
# ssh_boot_args VERSION DIR sets SSH (0/1), QEMU_NIC and BOOT_RUN for one boot:
# QEMU's user network, restricted, with 127.0.0.1:PORT forwarded to dom0's 22,
# and the host's ansible-ssh.py started by boot.py when dom0 says SSH-READY.
SSH_VERSIONS=${REAL_XEN_SSH-4.17 4.22}
SSH_BROKEN_ON=${SSH_VERSIONS%% *}   # the always-changed break: on the first of them only

ssh_wanted() { printf '%s\n' $SSH_VERSIONS | grep -qx "$1"; }

ssh_checks() { # the checks a boot with SSH reports
    echo "ssh-server ansible-ssh-apply ansible-ssh-info-build-id ansible-ssh-again-no-change ansible-ssh-absent"
    [ "$1" = "$SSH_BROKEN_ON" ] && echo ansible-ssh-break-caught
}

ssh_libs() { # ssh_libs ROOT FILE... : copy the shared libraries ldd resolves into ROOT
    local r=$1 f; shift
    for f in "$@"; do LD_LIBRARY_PATH=$SSHPKG/usr/lib/x86_64-linux-gnu:$SSHPKG/lib/x86_64-linux-gnu ldd "$f"; done \
        | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | sort -u | while read -r l; do
            case $l in /lib64/*) cp -L "$l" "$r/lib64/";; *) cp -L "$l" "$r/lib/x86_64-linux-gnu/";; esac
        done
}

ssh_python() { # ssh_python ROOT: python3.11 and the standard library Ansible's modules use
    local r=$1 so
    mkdir -p "$r/usr/bin" "$r/usr/lib"
    cp "$SSHPKG/usr/bin/python3.11" "$r/usr/bin/" && ln -s python3.11 "$r/usr/bin/python3"
    cp -a "$SSHPKG/usr/lib/python3.11" "$r/usr/lib/"
    rm -rf "$r"/usr/lib/python3.11/{test,idlelib,tkinter,turtledemo,ensurepip,lib2to3,pydoc_data,config-3.11-x86_64-linux-gnu}
    # extension modules whose libraries neither the packages nor this host have are left out
    for so in "$r"/usr/lib/python3.11/lib-dynload/*.so; do
        if LD_LIBRARY_PATH=$SSHPKG/usr/lib/x86_64-linux-gnu ldd "$so" | grep -q 'not found'; then rm -f "$so"; fi
    done
    ssh_libs "$r" "$r/usr/bin/python3.11" "$r"/usr/lib/python3.11/lib-dynload/*.so
}

ssh_etc() { # ssh_etc ROOT: users, sshd_config, the keys of this run
    local r=$1
    mkdir -p "$r/etc/ssh" "$r/root/.ssh" "$r/var/log" "$r/var/empty"
    printf 'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n' > "$r/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
    cat > "$r/etc/ssh/sshd_config" <<'EOF'
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel INFO
EOF
    cp "$SSHKEYS/host" "$r/etc/ssh/ssh_host_ed25519_key" && chmod 0600 "$r/etc/ssh/ssh_host_ed25519_key"
    cp "$SSHKEYS/client.pub" "$r/root/.ssh/authorized_keys" && chmod 0600 "$r/root/.ssh/authorized_keys"
}

ssh_collection() { # ssh_collection SRC DEST: build SRC with ansible-galaxy, install the tarball into DEST
    local dist
    dist=$(mktemp -d -p "$WORK") &&
        "$SSH_BIN/ansible-galaxy" collection build --output-path "$dist" "$1" < /dev/null > /dev/null &&
        ANSIBLE_COLLECTIONS_PATH=$2 ANSIBLE_HOME=$WORK/ansible-home \
            "$SSH_BIN/ansible-galaxy" collection install -p "$2" "$dist"/xen-livepatch-*.tar.gz < /dev/null > /dev/null
}

ssh_prepare() {
    local v any=0 r e1000
    for v in $VERSIONS; do ssh_wanted "$v" && any=1; done
    [ "$any" = 1 ] || return 0
    SSHPKG=$(fetch_and_unpack ssh openssh-server openssh-sftp-server libwrap0 python3.11-minimal \
        libpython3.11-minimal libpython3.11-stdlib) || die "cannot fetch sshd and python3.11 for dom0"
    e1000=$(find "$DOM0/lib/modules/$KVER" -name e1000.ko | head -n1)
    [ -n "$e1000" ] || die "no e1000.ko in $KPKG"
    SSHKEYS=$WORK/ssh-keys; mkdir -p "$SSHKEYS"
    ssh-keygen -q -t ed25519 -N '' -C real-xen-host -f "$SSHKEYS/host" && ssh-keygen -q -t ed25519 -N '' -C real-xen-client -f "$SSHKEYS/client" \
        || die "ssh-keygen failed"
    r=$WORK/ssh-root
    mkdir -p "$r/usr/sbin" "$r/usr/lib/openssh" "$r/lib/x86_64-linux-gnu" "$r/lib64" "$r/lib/modules" "$r/t"
    cp "$SSHPKG/usr/sbin/sshd" "$r/usr/sbin/" && cp "$SSHPKG/usr/lib/openssh/sftp-server" "$r/usr/lib/openssh/" \
        && cp "$e1000" "$r/lib/modules/e1000.ko" && cp "$HERE/ssh.sh" "$r/t/ssh.sh" || die "cannot lay out dom0's sshd"
    ssh_libs "$r" "$r/usr/sbin/sshd" "$r/usr/lib/openssh/sftp-server"
    ssh_python "$r"
    ssh_etc "$r"
    (cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$WORK/ssh.cpio" || die "cpio failed"
    log "ssh initramfs part $(du -h "$WORK/ssh.cpio" | cut -f1) (sshd, python3.11, e1000) for Xen $SSH_VERSIONS"
    SSH_BIN=$(bash "$ROOT/scripts/ansible-env.sh") || die "scripts/ansible-env.sh failed"
    ssh_collection "$ROOT/ansible" "$WORK/collections" || die "cannot build and install the collection"
    cp -r "$ROOT/ansible" "$WORK/ansible-broken" && bash "$ROOT/scripts/ansible-always-changed.sh" "$WORK/ansible-broken" \
        || die "the always-changed break did not apply"
    ssh_collection "$WORK/ansible-broken" "$WORK/collections-broken" || die "cannot build the broken collection"
}

ssh_boot_args() { # ssh_boot_args VERSION DIR
    local v=$1 d=$2 port
    SSH=0 QEMU_NIC="-nic none" BOOT_RUN=()
    ssh_wanted "$v" || return 0
    SSH=1
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # (romfile= empty: no boot ROM, which QEMU would otherwise look for in ipxe-qemu)
    QEMU_NIC="-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22 -device e1000,netdev=n0,romfile="
    mkdir -p "$d/ssh" && cp "$SSHKEYS"/* "$d/ssh/"
    BOOT_RUN=(--run-log "$d/ansible.out" --run "python3 '$HERE/ansible-ssh.py' --dir '$d' --port $port \
--console '$d/console.log' --payload '$d/ir/t/e/base.livepatch' --build-id '$(readelf -n "$WORK/xen-$v" | awk '/Build ID/ {print $3}')' \
--bin '$SSH_BIN' --collections '$WORK/collections' $([ "$v" = "$SSH_BROKEN_ON" ] && echo "--broken '$WORK/collections-broken'")")
}
