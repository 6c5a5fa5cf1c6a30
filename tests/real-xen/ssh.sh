# dom0 as an Ansible managed host (issue 26), sourced by init.sh (busybox sh)
# where run.env says SSH=1, while no live patch is loaded. The host's side is
# ansible-ssh.py, started by boot.py when this prints SSH-READY.
#   - the network: QEMU's user network (slirp, restrict=on) on an emulated
#     e1000; the host reaches it only through 127.0.0.1:PORT, forwarded to 22;
#   - sshd (Debian 12's, unpacked in /ssh-root's copy at its usual paths) with
#     the host key and the authorized key the host made for this boot;
#   - then waits (bounded) until the host's last command touches
#     /run/ansible-done, and stops sshd.
#   RESULT ssh-server PASS|FAIL  sshd listening on the NIC
# The Ansible checks themselves are the host's (RESULT lines it appends).

ssh_fail() { result ssh-server FAIL "$*"; echo SSH-FAILED; }

ssh_serve() {
    stage ssh
    insmod /lib/modules/e1000.ko || { ssh_fail "insmod e1000.ko failed"; return; }
    nic=""; i=0
    while [ -z "$nic" ] && [ $i -lt 100 ]; do   # bounded: 10 s for the driver to register eth0
        nic=$(ls /sys/class/net | grep -v '^lo$' | head -n1); [ -n "$nic" ] || sleep 0.1; i=$((i + 1))
    done
    [ -n "$nic" ] || { ssh_fail "no network interface after insmod e1000"; return; }
    ip link set lo up && ip link set "$nic" up && ip addr add 10.0.2.15/24 dev "$nic" \
        || { ssh_fail "cannot bring $nic up"; return; }
    mkdir -p /run/sshd /dev/pts /root && chmod 0755 /run/sshd && chmod 0700 /root
    mount -t devpts devpts /dev/pts 2>/dev/null
    chmod 0600 /etc/ssh/ssh_host_ed25519_key /root/.ssh/authorized_keys
    /usr/sbin/sshd -f /etc/ssh/sshd_config -E /tmp/sshd.log || { ssh_fail "sshd did not start: $(tail -n 3 /tmp/sshd.log)"; return; }
    i=0
    while ! grep -q ':0016 ' /proc/net/tcp && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done   # bounded: 10 s
    if ! grep -q ':0016 ' /proc/net/tcp; then ssh_fail "sshd is not listening on port 22"; return; fi
    result ssh-server PASS "$nic 10.0.2.15/24, sshd $(cat /run/sshd.pid) listening on port 22 at t=$(uptime_s)s"
    echo SSH-READY
    # bounded: 1800 x 0.5 s, far above the host's playbook runs (about 2 minutes)
    i=0
    while [ ! -e /run/ansible-done ] && [ $i -lt 1800 ]; do sleep 0.5; i=$((i + 1)); done
    [ -e /run/ansible-done ] || echo "ssh: the host never said it was done; going on"
    echo "SUMMARY ssh-session $(grep -c 'Accepted publickey' /tmp/sshd.log) logins, waited $((i / 2)) s"
    kill "$(cat /run/sshd.pid)" 2>/dev/null
    dump sshd-log /tmp/sshd.log 6
}
ssh_serve
