#!/usr/bin/env python3
"""Guest tests of the socket layer (netstack/kern/nsk_sock.h) with Linux's
own stack as the peer: boots images/sockecho (echo on 7 in a poll loop,
request/response on 8 with a thread per connection) on a tap with
vnet_hdr in a network namespace (net_test.py's Netns) and checks:

  - request/response: PING; bad lines (unknown, bad numbers, binary,
    100 random ones, a line too long) answered with ERR and the service still up; GET
    verified byte for byte; ZGET (nsk_send_ref, zero-copy) verified byte
    for byte and its completion reported (ZDONE); CONNECT: the guest
    connects out to a Linux listener in the namespace, sends data the
    listener checks, reads its answer; CONNECT to a closed port gives
    -ECONNREFUSED; NCONNECT the same with a non-blocking connect and
    poll; BYE and ABORT: the guest closes gracefully (EOF) or with
    SO_LINGER 0 (a reset); TIMEOUT: a receive timeout gives -EAGAIN after at
    least the time asked; EPIPE and SHUTRD: the guest's send after its
    own SHUT_WR fails with -EPIPE, its receive after SHUT_RD returns 0;
    UCONN: a connected UDP socket in the guest takes only its peer's
    datagrams; PEEK and UPEEK: MSG_PEEK on TCP and UDP; RESET: Linux resets the connection (SO_LINGER
    0) and the guest's recv sees -ECONNRESET;
  - 200 request/response connections open at once (200 guest threads);
  - echo: UDP datagrams of 1..9000 bytes, TCP echo of --tcp-mib MiB
    verified, --conns connections at once each echoing its data, and a
    connection Linux resets in the middle;
  - then "quit" and the guest's counters: exactly the errors caused on
    purpose, every completion run, nothing left open.

  sock_test.py [--tcp-mib N] [--conns N] -- HARNESS-ARGS
"""
import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import re

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import net_test  # noqa: E402  (Netns, tcp_bulk, tcp_many, udp_echo)

GUEST, HOST = net_test.GUEST_TAP, net_test.HOST_TAP
ECHO, RR, QUIT = 7, 8, 9999
LISTEN_PORT, CLOSED_PORT = 5555, 5556


def pattern(seed, n):
    """images/sockecho's pattern: xorshift32 words, little endian."""
    x = (seed * 2654435761 + 1) & 0xffffffff
    words = []
    for _ in range((n + 3) // 4):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        words.append(x)
    return struct.pack("<%dI" % len(words), *words)[:n]


class Conn:
    def __init__(self, timeout=30):
        self.s = socket.create_connection((GUEST, RR), timeout=timeout)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise RuntimeError("rr: closed while waiting for a line "
                                   "(have %r)" % self.buf[:80])
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.decode(errors="replace")

    def exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(1 << 20)
            if not d:
                raise RuntimeError("rr: closed after %d of %d bytes" % (
                    len(self.buf), n))
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\n")
        return self.line()

    def close(self):
        self.s.close()


def expect(what, got, want):
    if got != want:
        raise RuntimeError("%s: got %r, want %r" % (what, got, want))


def linux_listener(ls, result):
    """The peer of the guest's CONNECT: reads until EOF, checks the
    bytes against pattern(LISTEN_PORT), answers and closes."""
    try:
        c, peer = ls.accept()
        c.settimeout(30)
        data = bytearray()
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
        ok = bytes(data) == pattern(LISTEN_PORT, len(data))
        result["peer"] = peer
        result["len"] = len(data)
        result["ok"] = ok
        c.sendall(b"got %d %s" % (len(data), b"ok" if ok else b"bad"))
        c.close()
    except Exception as e:  # noqa: BLE001 - reported by the test
        result["error"] = repr(e)


def rr_tests(log):
    c = Conn()
    expect("PING", c.cmd("PING"), "PONG")
    # Bad input: answered, the connection and the service go on.
    for bad in ["FOO", "GET", "GET x 1", "GET 0 1", "GET 1 2 3",
                "GET 99999999999 1", "CONNECT 1.2.3 80 1",
                "CONNECT 300.0.0.1 80 1", "TIMEOUT 0", "TIMEOUT -5",
                "\x00\xff\x01binary", ""]:
        expect("bad line %r" % bad, c.cmd(bad), "ERR bad command")
    # Random binary lines (seeded): each refused, none fatal.
    rnd = random.Random(6)
    for k in range(100):
        junk = bytes(rnd.choice([b for b in range(256) if b != 10])
                     for _ in range(rnd.randrange(1, 200)))
        c.s.sendall(junk + b"\n")
        expect("junk line %d" % k, c.line(), "ERR bad command")
    expect("PING after bad lines", c.cmd("PING"), "PONG")
    # GET, copied.
    n = 100000
    expect("GET", c.cmd("GET %d 7" % n), "OK %d" % n)
    if c.exact(n) != pattern(7, n):
        raise RuntimeError("GET: the bytes differ")
    # ZGET: by reference, then the completion.
    n = 2 << 20
    expect("ZGET", c.cmd("ZGET %d 9" % n), "OK %d" % n)
    if c.exact(n) != pattern(9, n):
        raise RuntimeError("ZGET: the bytes sent by reference differ")
    expect("ZGET completion", c.line(), "ZDONE %d" % n)
    log("sock_test: zero-copy send of %d bytes intact, completion seen" % n)
    # CONNECT out to a Linux listener, blocking and non-blocking.
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, LISTEN_PORT))
    ls.listen(4)
    ls.settimeout(60)
    for verb, n in (("CONNECT", 300000), ("NCONNECT", 1000)):
        res = {}
        th = threading.Thread(target=linux_listener, args=(ls, res),
                              daemon=True)
        th.start()
        got = c.cmd("%s %s %d %d" % (verb, HOST, LISTEN_PORT, n))
        th.join(30)
        if res.get("error") or not res.get("ok") or res.get("len") != n:
            raise RuntimeError("%s: the listener saw %r" % (verb, res))
        if res["peer"][0] != GUEST:
            raise RuntimeError("%s: came from %r" % (verb, res["peer"]))
        expect(verb, got, "CONNECT 0 got %d ok" % n)
        log("sock_test: %s: the guest connected out from port %d, sent %d "
            "bytes intact, read the answer" % (verb, res["peer"][1], n))
    ls.close()
    # A closed port: refused, blocking and non-blocking.
    for verb in ("CONNECT", "NCONNECT"):
        expect(verb + " refused",
               c.cmd("%s %s %d 10" % (verb, HOST, CLOSED_PORT)),
               "CONNECT -111 -")
    # A receive timeout.
    t0 = time.monotonic()
    got = c.cmd("TIMEOUT 300")
    m = re.fullmatch(r"TIMEOUT (-?\d+) (\d+)", got)
    if not m or int(m.group(1)) != -11 or int(m.group(2)) < 300:
        raise RuntimeError("TIMEOUT: got %r" % got)
    log("sock_test: recv timeout: -EAGAIN after %s ms (%.2f s seen here)" % (
        m.group(2), time.monotonic() - t0))
    expect("PING after timeout", c.cmd("PING"), "PONG")
    # MSG_PEEK, TCP and UDP.
    expect("PEEK", c.cmd("PEEK"), "READY")
    c.s.sendall(b"abcdef")
    expect("PEEK result", c.line(), "PEEK 3 abc 6 abcdef")
    expect("UPEEK", c.cmd("UPEEK 5600"), "READY")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((HOST, 0))
    u.sendto(b"xyz123", (GUEST, 5600))
    up = u.getsockname()[1]
    expect("UPEEK result", c.line(), "UPEEK 3 xyz 6 xyz123 %d %d" % (up, up))
    u.close()
    # A connected UDP socket in the guest: a datagram from another port
    # is not taken, the peer's is.
    pa = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pb = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pa.bind((HOST, 0))
    pb.bind((HOST, 0))
    pa.settimeout(10)
    c.s.sendall(b"UCONN %s %d\n" % (HOST.encode(), pa.getsockname()[1]))
    d, guest = pa.recvfrom(100)
    expect("UCONN datagram", (d, guest[0]), (b"hello", GUEST))
    pb.sendto(b"intruder", guest)
    time.sleep(0.2)
    pa.sendto(b"world", guest)
    expect("UCONN", c.line(), "UCONN 5 world")
    pa.close()
    pb.close()
    # A line too long: ERR and the connection closes.
    c.s.sendall(b"A" * 400)
    expect("long line", c.line(), "ERR line too long")
    if c.s.recv(10) != b"":
        raise RuntimeError("long line: the connection stayed open")
    c.close()
    # Shutdowns: after its SHUT_WR the guest's send fails (-EPIPE,
    # counted) and Linux sees the end of stream; after SHUT_RD its
    # receive returns 0.
    c = Conn()
    c.s.sendall(b"EPIPE\n")
    if c.s.recv(10) != b"":
        raise RuntimeError("EPIPE: no end of stream")
    c.close()
    c = Conn()
    expect("SHUTRD", c.cmd("SHUTRD"), "SHUTRD 0")
    c.close()
    # The peer resets.
    c = Conn()
    expect("RESET", c.cmd("RESET"), "READY")
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                   struct.pack("ii", 1, 0))
    c.close()
    # The guest closes: gracefully (EOF), or with linger 0 (a reset).
    c = Conn()
    expect("PING after reset", c.cmd("PING"), "PONG")
    c.s.sendall(b"BYE\n")
    if c.s.recv(10) != b"":
        raise RuntimeError("BYE: no end of stream")
    c.close()
    c = Conn()
    c.s.sendall(b"ABORT\n")
    try:
        d = c.s.recv(10)
        raise RuntimeError("ABORT: got %r, not a reset" % d)
    except ConnectionResetError:
        pass
    c.close()
    log("sock_test: request/response checks passed")


def rr_many(k, log):
    """k connections open at once, each a GET of its own bytes."""
    t0 = time.monotonic()
    conns = [Conn() for _ in range(k)]
    for i, c in enumerate(conns):
        c.s.sendall(b"GET 2000 %d\n" % (1000 + i))
    for i, c in enumerate(conns):
        expect("GET %d" % i, c.line(), "OK 2000")
        if c.exact(2000) != pattern(1000 + i, 2000):
            raise RuntimeError("connection %d: the bytes differ" % i)
    for c in conns:
        c.close()
    log("sock_test: %d request/response connections at once (a guest "
        "thread each) answered intact in %.1f s" % (k, time.monotonic() - t0))


def echo_reset(log):
    s = socket.create_connection((GUEST, ECHO), timeout=10)
    s.sendall(b"x" * 5000)
    got = 0
    while got < 5000:
        got += len(s.recv(65536))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    log("sock_test: an echo connection reset by Linux")


class Traffic:
    def __init__(self, a, log):
        self.a, self.log = a, log
        self.ok = False
        self.error = "the guest never said 'sock: ready'"

    def run(self):
        try:
            rr_tests(self.log)
            rr_many(self.a.rr_conns, self.log)
            net_test.udp_echo((GUEST, ECHO), self.log,
                              [1, 100, 1472, 1473, 3000, 9000] +
                              [(k * 977) % 9000 + 1 for k in range(30)])
            net_test.tcp_bulk((GUEST, ECHO), self.a.tcp_mib << 20, self.log)
            net_test.tcp_many((GUEST, ECHO), self.a.conns, 16384, self.log)
            echo_reset(self.log)
            time.sleep(1)  # the guest's threads finish their closes
            self.ok, self.error = True, None
        except Exception as e:  # noqa: BLE001 - reported, never a hang
            self.error = str(e)
        finally:
            net_test.quit_guest((GUEST, QUIT))


def check_counters(text, a):
    m = re.search(r"sock: stats echo_conns(.*)", text)
    if not m:
        return ["no 'sock: stats' line from the guest"]
    st = {k: int(v) for k, v in
          re.findall(r"(\w+)=(\d+)", "echo_conns" + m.group(1))}
    want = {"echo_live": 0, "rr_live": 0, "echo_errors": 1,
            "accept_errors": 0, "zc_sent": 1, "zc_done": 1,
            "connects_ok": 2, "connects_failed": 2, "timeouts": 1,
            "resets_seen": 1, "epipe_seen": 1}
    bad = ["%s=%d, want %d" % (k, st.get(k, -1), v)
           for k, v in want.items() if st.get(k, -1) != v]
    m = re.search(r"sock: stats layer (.*)", text)
    lay = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))} \
        if m else {}
    if lay.get("ref_bytes") != 2 << 20 or lay.get("ref_done") != 1:
        bad.append("layer: %r, want ref_bytes=%d ref_done=1" % (
            lay, 2 << 20))
    if st.get("echo_conns", 0) < a.conns + 2:
        bad.append("echo_conns=%d, want >= %d" % (st.get("echo_conns", 0),
                                                  a.conns + 2))
    if st.get("rr_conns", 0) < a.rr_conns + 6:
        bad.append("rr_conns=%d" % st.get("rr_conns", 0))
    if st.get("rr_bad", 0) < 113:
        bad.append("rr_bad=%d, want >= 113" % st.get("rr_bad", 0))
    if st.get("udp_dgrams", 0) < 36:
        bad.append("udp_dgrams=%d, want >= 36" % st.get("udp_dgrams", 0))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp-mib", type=int, default=64)
    ap.add_argument("--conns", type=int, default=250)
    ap.add_argument("--rr-conns", type=int, default=200)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    if os.geteuid() != 0:
        print("sock_test: FAIL: needs root (ip netns add, tuntap); CI runs "
              "as root. Not skipped: run it as root.")
        return 1
    netdev = "tap,id=n0,ifname=%s,script=no,downscript=no,vnet_hdr=on" % \
        net_test.TAP
    machine = rest[rest.index("--machine") + 1] if "--machine" in rest \
        else "microvm"
    dev = "virtio-net-device" if machine == "microvm" else \
        "virtio-net-pci,disable-legacy=on"
    rng = "virtio-rng-device" if machine == "microvm" else "virtio-rng-pci"
    qargs = ["-netdev", netdev, "-device",
             "%s,netdev=n0,mac=52:54:00:12:34:56" % dev, "-device", rng]
    # kmalloc.debug: freed memory is poisoned, so a socket used after
    # its free shows.
    argv = [sys.executable, "-u", net_test.HARNESS] + rest + \
        ["--cmdline", "sockecho.quit_port=%d kmalloc.debug=1" % QUIT,
         "--expect",
         "poweroff", "--expect-output", r"^sock: ready"] + \
        ["--qemu-arg=" + q for q in qargs]
    lock = threading.Lock()

    def log(s):
        with lock:
            print(s, flush=True)

    ns = net_test.Netns()
    traffic = Traffic(a, log)
    lines = []
    rc = 1
    try:
        ns.__enter__()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        th = None
        for line in p.stdout:
            log(line.rstrip("\n"))
            lines.append(line)
            if "sock: ready" in line and th is None:
                th = threading.Thread(target=traffic.run, daemon=True)
                th.start()
        rc = p.wait()
        if th is not None:
            th.join(10)
    finally:
        ns.__exit__(None, None, None)
    if not traffic.ok:
        print("sock_test: FAIL: " + traffic.error)
        return 1
    if rc != 0:
        print("sock_test: FAIL: the guest run did not end as expected")
        return rc
    bad = check_counters("".join(lines), a)
    if bad:
        print("sock_test: FAIL: " + "; ".join(bad))
        return 1
    print("sock_test: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
