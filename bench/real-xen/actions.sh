# bench/real-xen.sh --actions N (sourced after the downloads): N apply + revert cycles of
# one func payload by Debian 12's xen-livepatch and by xc-livepatch, whole processes,
# in rotating order (actions.c), on Xen 4.17 booted with -smp 1; report:
# actions-report.py. Two builds of xc-livepatch: the Debian package's (target/release:
# dynamically linked, position-independent) and the static one (scripts/static-build.sh).
log "cargo build --release -p xc-livepatch-cli; scripts/static-build.sh"
(cd "$ROOT" && cargo build --release -q -p xc-livepatch-cli >&2) || die "cargo build failed"
bash "$ROOT/scripts/static-build.sh" "$WORK/static" >&2 || die "static build failed"
IR=$WORK/ir
mkdir -p "$IR"/{bin,lib/x86_64-linux-gnu,lib64,lib/modules,usr/sbin,usr/bin,b/bin}
gcc -O2 -Wall -Wextra -Werror -o "$IR/b/bin/actions" "$HERE/real-xen/actions.c" || die "actions build failed"
cp "$DOM0/usr/lib/xen-4.17/bin/xen-livepatch" "$IR/usr/sbin/xen-livepatch"
cp "$ROOT/target/release/xc-livepatch" "$IR/usr/bin/xc-livepatch"
strip "$IR/usr/bin/xc-livepatch"
cp "$WORK/static/xc-livepatch" "$IR/usr/bin/xc-livepatch-static"
cp "$DOM0/bin/busybox" "$IR/bin/busybox"
cp "$PRIVCMD" "$IR/lib/modules/xen-privcmd.ko"
cp "$HERE/real-xen/actions-init.sh" "$IR/init"; chmod +x "$IR/init"
cp "$HERE/real-xen/dom0-preamble.sh" "$IR/b/dom0-preamble.sh"
for exe in "$IR/b/bin/actions" "$IR/usr/sbin/xen-livepatch" "$IR/usr/bin/xc-livepatch"; do
    LD_LIBRARY_PATH=$XLIBS ldd "$exe" || die "ldd $exe failed"
done | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | sort -u > "$WORK/libs.txt"
while read -r l; do
    case $l in
        /lib64/*) cp -L "$l" "$IR/lib64/";;
        *) cp -L "$l" "$IR/lib/x86_64-linux-gnu/";;
    esac
done < "$WORK/libs.txt"
# the payload: the real-Xen test's lc-m1 (patches xen_extra_version; .livepatch.funcs is
# its only writable section, so Xen applies it again after each revert)
python3 "$RX/gen-payloads.py" --xen "$WORK/xen" --out "$WORK/gen" --many 0 --churn 0 >&2 \
    || die "payload generation failed"
cp "$WORK/gen/p/lc-m1.livepatch" "$IR/b/bench-func.livepatch"
echo "ROUNDS=$ACTIONS" > "$IR/b/bench.env"
(cd "$IR" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$WORK/initrd.cpio" || die "cpio failed"
QEMU_FW=""; for fw in /usr/share/qemu /usr/share/seabios; do [ -d $fw ] && QEMU_FW="$QEMU_FW -L $fw"; done
log "initramfs $(du -h "$WORK/initrd.cpio" | cut -f1); booting Xen 4.17 for $ACTIONS cycles (timeout ${TIMEOUT}s)"
LOGF=$WORK/console.log
python3 "$RX/boot.py" --timeout "$TIMEOUT" --log "$LOGF" -- "$QEMU" -machine pc -m 2048 -smp 1 -nographic \
    -no-reboot -nic none -accel tcg -monitor none -serial stdio $QEMU_FW \
    -kernel "$WORK/xen" \
    -append 'console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=1 noreboot' \
    -initrd "$VMLINUX console=hvc0 earlyprintk=xen rdinit=/init,$WORK/initrd.cpio"
rc=$?
mkdir -p "$ROOT/target"
cp "$LOGF" "$ROOT/target/bench-real-xen-actions-console.log"
log "QEMU exited with status $rc; console log copied to target/bench-real-xen-actions-console.log"
python3 "$HERE/real-xen/actions-report.py" --console "$LOGF" --qemu-rc "$rc"
