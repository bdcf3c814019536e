#!/usr/bin/env bash
# host.net_dhcp_real: the netstack's DHCP client (net_dhcp_real, the core
# on an AF_PACKET socket) against a real server, busybox udhcpd, in two
# network namespaces joined by a veth pair. Checks: a lease from the pool
# with the server's mask, router and DNS; the address answers ping from the
# server's side; a renewal at T1; RELEASE (udhcpd logs it); INIT-REBOOT
# gets the same address back. Needs root (ip netns) and busybox
# (scripts/setup.sh installs busybox-static); without them it fails and
# says so. Usage: dhcp_real.sh PATH/TO/net_dhcp_real
set -euo pipefail

prog=$1
fail() {
	echo "dhcp_real: FAIL: $*"
	for f in cli.log srv.log ping.log; do
		[ -f "$tmp/$f" ] && sed "s/^/  $f: /" "$tmp/$f"
	done
	exit 1
}

tmp=$(mktemp -d)
S=dfdhcps$$
C=dfdhcpc$$
VS=vds$$
VC=vdc$$
srv=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
	ip netns del "$C" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "needs root (ip netns add, veth)"
busybox udhcpd --help >/dev/null 2>&1 || fail "no busybox udhcpd"

ip netns add "$S"
ip netns add "$C"
ip link add "$VS" type veth peer name "$VC"
ip link set "$VS" netns "$S"
ip link set "$VC" netns "$C"
for n in "$S" "$C"; do
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$S" addr add 192.168.77.1/24 dev "$VS"
ip -n "$S" link set "$VS" up
ip -n "$C" link set "$VC" up

cat >"$tmp/udhcpd.conf" <<EOF
start 192.168.77.100
end 192.168.77.110
interface $VS
lease_file $tmp/leases
pidfile $tmp/udhcpd.pid
opt subnet 255.255.255.0
opt router 192.168.77.1
opt dns 192.168.77.53
opt lease 20
EOF
touch "$tmp/leases"
ip netns exec "$S" busybox udhcpd -f -a 200 "$tmp/udhcpd.conf" \
	>"$tmp/srv.log" 2>&1 &
srv=$!
sleep 0.3

ip netns exec "$C" "$prog" "$VC" 40 >"$tmp/cli.log" 2>&1 &
cli=$!
for _ in $(seq 1 150); do
	grep -q '^BOUND' "$tmp/cli.log" && break
	sleep 0.1
done
line=$(grep -m1 '^BOUND' "$tmp/cli.log") || fail "no lease"
addr=$(echo "$line" | cut -d' ' -f2 | cut -d/ -f1)
ip netns exec "$S" ping -c 3 -i 0.2 -W 2 "$addr" >"$tmp/ping.log" 2>&1 ||
	fail "the leased address $addr does not answer ping"
rc=0
wait "$cli" || rc=$?
[ "$rc" = 0 ] || fail "net_dhcp_real exited $rc"

case "$addr" in
192.168.77.1[01][0-9]) ;;
*) fail "address $addr is not from the pool" ;;
esac
echo "$line" | grep -q "/255.255.255.0 gw 192.168.77.1 dns 192.168.77.53 server 192.168.77.1 lease 20" ||
	fail "lease settings: $line"
grep -q "^RENEWED $addr lease 20" "$tmp/cli.log" || fail "no renewal"
[ "$(grep -c "^RELEASED $addr" "$tmp/cli.log")" = 2 ] || fail "no RELEASE"
grep -q '^REBOOTED 1' "$tmp/cli.log" || fail "INIT-REBOOT"
# udhcpd writes its leases on SIGUSR1: after the RELEASE the lease of
# addr has 0 s left (it would have about 20 otherwise). The file is a
# 64-bit time, then 36-byte records: u32 seconds left, the address, MAC,
# hostname (busybox's struct dyn_lease).
kill -USR1 "$srv"
sleep 0.5
left=$(python3 - "$tmp/leases" "$addr" <<'PY'
import socket, struct, sys
d = open(sys.argv[1], "rb").read()[8:]
want = socket.inet_aton(sys.argv[2])
for i in range(0, len(d) - 35, 36):
    if d[i + 4:i + 8] == want:
        print(struct.unpack(">I", d[i:i + 4])[0])
        break
else:
    print("none")
PY
)
[ "$left" = 0 ] || fail "udhcpd's lease of $addr was not released ($left s left)"
echo "dhcp_real: ok: $line; renewed, released, rebooted into $addr"
