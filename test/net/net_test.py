#!/usr/bin/env python3
"""Guest network tests with Linux's own stack as the peer: boots the net
image (images/net: TCP and UDP echo on port 7) and talks to it.

  net_test.py --mode tap  [--tcp-mib N] [--conns N] [--lossy] -- HARNESS-ARGS
  net_test.py --mode user [--tcp-mib N] -- HARNESS-ARGS

tap: makes a network namespace and a tap device in it (vnet_hdr, so the
guest negotiates checksum offload and TSO and both directions use them),
runs QEMU in the namespace on -netdev tap,vnet_hdr=on, and from the
namespace: ping; UDP echo of datagrams up to 8000 bytes (fragmented both
ways); a TCP echo of --tcp-mib MiB with every byte checked; --conns
connections open at once, each echoing its own data. Needs root (ip
netns): without it the test fails and says so. The namespace is removed
at the end, whatever happened.

--lossy: the same namespace and tap, but QEMU's -netdev dgram goes to a
relay (--relay, test/net/lossy_relay.c) that carries frames to and from the tap and loses
5% of them and reorders 25% each way (what "tc qdisc ... netem loss 5%
delay 1ms reorder 25%" would do on the tap; this machine's kernel has no
netem, CONFIG_NET_SCH_NETEM). No vnet header on that path, so no
offloads; the guest must retransmit and reassemble out of order.

user: QEMU user networking (slirp) with hostfwd to the guest's port 7:
a TCP echo through the forwarded port, and a UDP echo.

Either way it then sends "quit" to the guest's echo.quit_port, the guest
prints its counters and powers off, and the counters are checked: no
aborted echo connection, no driver errors, and (tap) TSO and checksum
offload used in both directions.
"""
import argparse
import ctypes
import hashlib
import os
import random
import re
import selectors
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "..", "boot", "harness.py")
GUEST_TAP, HOST_TAP = "10.0.0.2", "10.0.0.1"
GUEST_USER = "10.0.2.15"
SKIP = 77  # the harness's (and ctest's) skip: KVM asked for, none here
ECHO, QUIT = 7, 9999
TAP = "dftap0"
CLONE_NEWNET = 0x40000000


def sh(*argv, check=True):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stdout.strip()))
    return r


class Netns:
    """A namespace with a tap in it; this process joins it (setns), so
    QEMU, ping and the sockets below all live there."""

    def __init__(self):
        self.name = "dfnet%d" % os.getpid()
        self.made = False

    def __enter__(self):
        # Namespaces of runs that were killed (their process is gone).
        for l in sh("ip", "netns", "list").stdout.splitlines():
            n = l.split()[0] if l.split() else ""
            if re.fullmatch(r"dfnet\d+", n) and \
                    not os.path.exists("/proc/" + n[5:]):
                sh("ip", "netns", "del", n, check=False)
        sh("ip", "netns", "add", self.name)
        self.made = True
        n = ["ip", "-n", self.name]
        sh(*n, "link", "set", "lo", "up")
        sh(*n, "tuntap", "add", "dev", TAP, "mode", "tap", "vnet_hdr")
        sh(*n, "addr", "add", HOST_TAP + "/24", "dev", TAP)
        sh(*n, "link", "set", TAP, "up")
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/var/run/netns/" + self.name, os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + self.name)
        os.close(fd)
        print("net_test: namespace %s, %s %s/24" % (self.name, TAP, HOST_TAP))
        return self

    def __exit__(self, *exc):
        if self.made:
            r = sh("ip", "netns", "del", self.name, check=False)
            print("net_test: namespace %s removed%s" % (
                self.name, "" if r.returncode == 0 else ": " + r.stdout))


class Relay:
    """Frames between QEMU's dgram socket and the tap, 5% lost and 25%
    held back behind the next frame (or 2 ms) in each direction: the
    program test/net/lossy_relay.c, run in this namespace."""
    LOSS, REORDER, HOLD_MS, SEED = 0.05, 0.25, 2, 5

    def __init__(self, workdir, program):
        self.qemu = os.path.join(workdir, "qemu.sock")
        self.path = os.path.join(workdir, "relay.sock")
        for p in (self.qemu, self.path):
            if os.path.exists(p):
                os.unlink(p)
        self.program = program
        self.p = None
        self.summary = "relay: no summary"

    def start(self):
        self.p = subprocess.Popen(
            [self.program, TAP, self.qemu, self.path, str(self.LOSS),
             str(self.REORDER), str(self.HOLD_MS), str(self.SEED)],
            stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if line.strip() != "relay: ready":
            raise RuntimeError("the relay did not start: %r" % line)

    def netdev(self):
        return ("dgram,id=n0,local.type=unix,local.path=%s,"
                "remote.type=unix,remote.path=%s" % (self.qemu, self.path))

    def finish(self):
        if self.p is None:
            return
        self.p.terminate()
        out = self.p.communicate(timeout=10)[0]
        self.summary = out.strip().splitlines()[-1] if out.strip() \
            else self.summary
        self.p = None


def pattern(seed, n):
    """n reproducible pseudo-random bytes."""
    out = bytearray()
    h = hashlib.sha256(b"%d" % seed).digest()
    block = random.Random(seed).randbytes(1 << 16)
    i = 0
    while len(out) < n:
        out += block[i % 251:] + h
        i += 1
    return bytes(out[:n])


def tcp_bulk(addr, nbytes, log):
    """Echo of nbytes over one connection; every byte compared."""
    s = socket.create_connection(addr, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    chunk = pattern(1, 1 << 20)
    sent_hash, got_hash = hashlib.sha256(), hashlib.sha256()
    err = []

    def sender():
        try:
            left, k = nbytes, 0
            while left > 0:
                c = chunk[k % 4099:] + chunk[:k % 4099]
                c = c[:left]
                s.sendall(c)
                sent_hash.update(c)
                left -= len(c)
                k += 1
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # noqa: BLE001 - reported below
            err.append("send: %r" % e)

    t0 = time.monotonic()
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    got = 0
    while True:
        try:
            d = s.recv(1 << 20)
        except Exception as e:  # noqa: BLE001
            err.append("recv after %d bytes: %r" % (got, e))
            break
        if not d:
            break
        got_hash.update(d)
        got += len(d)
    th.join(30)
    if err:  # what Linux thinks of the connection, for the log
        log("\n".join("ss| " + l for l in sh(
            "ss", "-tinoe", check=False).stdout.splitlines()))
    s.close()
    took = time.monotonic() - t0
    if err:
        raise RuntimeError("tcp echo: " + "; ".join(err))
    if got != nbytes or got_hash.digest() != sent_hash.digest():
        raise RuntimeError("tcp echo: %d bytes sent, %d came back, %s" % (
            nbytes, got, "contents differ"
            if got == nbytes else "lengths differ"))
    log("net_test: tcp echo: %d bytes back intact in %.1f s (%.1f Mbit/s "
        "each way)" % (nbytes, took, nbytes * 8 / took / 1e6))


def tcp_many(addr, conns, per, log):
    """conns connections open at once, each echoing per bytes."""
    sel = selectors.DefaultSelector()
    st = {}
    t0 = time.monotonic()
    socks = []
    for i in range(conns):
        s = socket.create_connection(addr, timeout=30)
        socks.append(s)
    for i, s in enumerate(socks):  # every one open before any data
        s.setblocking(False)
        data = pattern(100 + i, per)
        st[s] = {"i": i, "out": data, "off": 0, "in": bytearray()}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    left = conns
    last = time.monotonic()
    while left > 0:
        if time.monotonic() - last > 30:
            raise RuntimeError("%d connections: %d stalled for 30 s" %
                               (conns, left))
        for key, ev in sel.select(1.0):
            s, c = key.fileobj, st[key.fileobj]
            if ev & selectors.EVENT_WRITE:
                if c["off"] < per:
                    c["off"] += s.send(c["out"][c["off"]:c["off"] + 65536])
                    last = time.monotonic()
                if c["off"] >= per:
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                d = s.recv(65536)
                last = time.monotonic()
                if d:
                    c["in"] += d
                    continue
                sel.unregister(s)
                s.close()
                left -= 1
                if bytes(c["in"]) != c["out"]:
                    raise RuntimeError("connection %d: %d bytes back of "
                                       "%d, %s" % (c["i"], len(c["in"]), per,
                                                   "differ"))
    log("net_test: %d concurrent connections each echoed %d bytes intact "
        "in %.1f s" % (conns, per, time.monotonic() - t0))


def udp_echo(addr, log, sizes):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    retries = 0
    for k, n in enumerate(sizes):
        d = pattern(1000 + k, n)
        for attempt in range(10):
            s.sendto(d, addr)
            try:
                back = s.recv(65536)
            except socket.timeout:
                retries += 1
                continue
            if back != d:
                raise RuntimeError("udp: datagram %d (%d bytes) came back "
                                   "as %d different bytes" % (k, n, len(back)))
            break
        else:
            raise RuntimeError("udp: datagram %d (%d bytes): no echo after "
                               "10 tries" % (k, n))
    s.close()
    log("net_test: udp echo: %d datagrams of %d..%d bytes back intact (%d "
        "resent)" % (len(sizes), min(sizes), max(sizes), retries))


def quit_guest(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(5):
        s.sendto(b"quit", addr)
        time.sleep(0.3)
    s.close()


class Traffic:
    def __init__(self, a, log):
        self.a = a
        self.log = log
        self.ok = False
        self.error = "the guest never said 'net: echo ready'"

    def run(self):
        a = self.a
        try:
            if a.mode == "tap":
                r = sh("ping", "-c", "5", "-i", "0.2", "-W", "5", GUEST_TAP,
                       check=False)
                self.log("\n".join("ping| " + l for l in
                                   r.stdout.strip().splitlines()))
                if r.returncode != 0:
                    raise RuntimeError("ping %s failed" % GUEST_TAP)
                self.log("net_test: ping answered")
                top = 1472 if a.lossy else 9000  # fragments: 1 in 2 lost
                udp_echo((GUEST_TAP, ECHO), self.log,
                         [1, 100, 1472] + ([] if a.lossy else [1473, 3000]) +
                         [random.Random(k).randrange(1, top)
                          for k in range(60)])
                tcp_bulk((GUEST_TAP, ECHO), a.tcp_mib << 20, self.log)
                if a.conns:
                    tcp_many((GUEST_TAP, ECHO), a.conns, a.per_conn, self.log)
            else:
                udp_echo(("127.0.0.1", a.udp_port), self.log,
                         [1, 100, 1472, 1473, 4000])
                tcp_bulk(("127.0.0.1", a.tcp_port), a.tcp_mib << 20,
                         self.log)
            self.ok = True
            self.error = None
        except Exception as e:  # noqa: BLE001 - reported, never a hang
            self.error = str(e)
        finally:
            quit_guest((GUEST_TAP, QUIT) if a.mode == "tap" else
                       ("127.0.0.1", a.quit_port))


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def check_counters(text, a):
    """The guest's own account: what must have happened."""
    def stat(name, line):
        m = re.search(r"net: stats %s .*\b%s=(\d+)" % (line, name), text)
        if not m:
            raise RuntimeError("no %s counter in the guest's stats" % name)
        return int(m.group(1))
    bad = []
    for n in ("aborts", "live"):
        if stat(n, "echo") != 0:
            bad.append("echo %s=%d" % (n, stat(n, "echo")))
    for n in ("rx_errors", "tx_errors", "tx_dropped"):
        if stat(n, "device") != 0:
            bad.append("device %s=%d" % (n, stat(n, "device")))
    for n in ("tx_errors", "tx_qdrops", "rx_nobufs"):
        if stat(n, "glue") != 0:
            bad.append("glue %s=%d" % (n, stat(n, "glue")))
    if stat("tx_gathered", "glue") == 0:
        bad.append("no frame went out gathered")
    if stat("rx_zerocopy", "device") == 0:
        bad.append("no frame came in without a copy")
    want = 1 + a.conns if a.mode == "tap" else 1
    if stat("conns", "echo") < want:
        bad.append("echo conns=%d, want %d" % (stat("conns", "echo"), want))
    if a.mode == "tap" and not a.lossy:
        # vnet_hdr: offloads negotiated and used both ways.
        for n in ("tx_tso", "tx_csum", "rx_gso", "rx_csum_ok"):
            if stat(n, "glue") == 0:
                bad.append("glue %s=0: the offload was not used" % n)
        if stat("frag_ok", "tcp") == 0:
            bad.append("no datagram reassembled")
    if a.mode == "tap" and stat("icmp_echo", "tcp") == 0:
        bad.append("no ICMP echo counted")
    if a.mode == "tap" and stat("arp_copies", "glue") == 0:
        bad.append("no ARP frame was copied to the other instance")
    if a.lossy:
        for n in ("rexmit", "ooo"):
            if stat(n, "tcp") == 0:
                bad.append("lossy: tcp %s=0: the loss was not felt" % n)
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["tap", "user"], required=True)
    ap.add_argument("--tcp-mib", type=int, default=64)
    ap.add_argument("--conns", type=int, default=0)
    ap.add_argument("--per-conn", type=int, default=65536)
    ap.add_argument("--lossy", action="store_true")
    ap.add_argument("--relay", default="lossy_relay",
                    help="--lossy: the relay program (lossy_relay.c)")
    ap.add_argument("--guest-cmdline", default="",
                    help="more words for the guest's command line")
    ap.add_argument("--dhcp", action="store_true",
                    help="user mode: the address from QEMU's DHCP server")
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    machine = rest[rest.index("--machine") + 1] if "--machine" in rest \
        else "microvm"
    dev = "virtio-net-device" if machine == "microvm" else \
        "virtio-net-pci,disable-legacy=on"
    rng = "virtio-rng-device" if machine == "microvm" else "virtio-rng-pci"
    cmdline = "echo.quit_port=%d" % QUIT
    if a.mode == "tap":
        if os.geteuid() != 0:
            print("net_test: FAIL: the tap test needs root (ip netns add, "
                  "tuntap); CI runs as root. Not skipped: run it as root.")
            return 1
        netdev = "tap,id=n0,ifname=%s,script=no,downscript=no,vnet_hdr=on" \
            % TAP
    else:
        a.tcp_port, a.udp_port = free_port(socket.SOCK_STREAM), \
            free_port(socket.SOCK_DGRAM)
        a.quit_port = free_port(socket.SOCK_DGRAM)
        netdev = ("user,id=n0,net=10.0.2.0/24,"
                  "hostfwd=tcp:127.0.0.1:%d-%s:%d,"
                  "hostfwd=udp:127.0.0.1:%d-%s:%d,"
                  "hostfwd=udp:127.0.0.1:%d-%s:%d" % (
                      a.tcp_port, GUEST_USER, ECHO, a.udp_port, GUEST_USER,
                      ECHO, a.quit_port, GUEST_USER, QUIT))
        if a.dhcp:
            cmdline += " net.ip=dhcp net.gw= net.dhcp_probe_ms=100"
        else:
            cmdline += " net.ip=%s/24 net.gw=10.0.2.2" % GUEST_USER
    qargs = ["-netdev", netdev, "-device",
             "%s,netdev=n0,mac=52:54:00:12:34:56" % dev, "-device", rng]
    if a.guest_cmdline:
        cmdline += " " + a.guest_cmdline
    expect = ["--expect-output", r"^net: echo ready"]
    if a.dhcp:
        # slirp's lease: 10.0.2.15/24, router 10.0.2.2, DNS 10.0.2.3, 24 h
        expect = ["--expect-output", r"net: dhcp: bound 10\.0\.2\.15/24 "
                  r"gateway 10\.0\.2\.2 dns 10\.0\.2\.3 server "
                  r"10\.0\.2\.2 lease 86400 s",
                  "--expect-output", r"^net: echo ready on 10\.0\.2\.15"]
    argv = [sys.executable, "-u", HARNESS] + rest + \
        ["--cmdline", cmdline, "--expect", "poweroff"] + expect + \
        ["--qemu-arg=" + q for q in qargs]
    lock = threading.Lock()

    def log(s):
        with lock:
            print(s, flush=True)

    ns = Netns() if a.mode == "tap" else None
    relay = None
    try:
        if ns:
            ns.__enter__()
        if a.lossy:
            os.makedirs(a.workdir, exist_ok=True)
            relay = Relay(a.workdir, a.relay)
            relay.start()
            i = argv.index("--qemu-arg=" + netdev)
            argv[i] = "--qemu-arg=" + relay.netdev()
        traffic = Traffic(a, log)
        dump = None
        if os.environ.get("NET_TEST_PCAP"):  # debugging: a capture
            dump = subprocess.Popen(["tcpdump", "-i", TAP, "-s", "128",
                                     "-w", os.environ["NET_TEST_PCAP"]])
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        th = None
        lines = []
        for line in p.stdout:
            log(line.rstrip("\n"))
            lines.append(line)
            if "net: echo ready" in line and th is None:
                th = threading.Thread(target=traffic.run, daemon=True)
                th.start()
        rc = p.wait()
        if th is not None:
            th.join(10)
        if dump:
            dump.terminate()
            dump.wait()
    finally:
        if relay:
            relay.finish()
            print("net_test: " + relay.summary)
        if ns:
            ns.__exit__(None, None, None)
    if rc == SKIP:
        print("net_test: skipped: the harness found no KVM to run on")
        return SKIP
    if not traffic.ok:
        print("net_test: FAIL: " + traffic.error)
        return 1
    if rc != 0:
        print("net_test: FAIL: the guest run did not end as expected")
        return rc
    try:
        bad = check_counters("".join(lines), a)
    except RuntimeError as e:
        bad = [str(e)]
    if bad:
        print("net_test: FAIL: " + "; ".join(bad))
        return 1
    print("net_test: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
