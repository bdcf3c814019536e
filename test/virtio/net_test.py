#!/usr/bin/env python3
"""virtio-net boot test: the guest echoes frames at layer 2 (vnet.echo);
this program sends them through QEMU's -netdev dgram over Unix datagram
sockets and checks that every one comes back intact.

  net_test.py --workdir DIR [--frames N] [--big N] -- HARNESS-ARGS...

Frames: N of sizes 60..1514 bytes, plus --big frames of 2 KiB to 64 KiB
(TSO-sized: received into merged buffers, sent back as one frame; the
dgram backend has no vnet header, so no offloads are offered). At most
--window frames are in flight. When all are back, an end marker carries
the count, which the guest compares with its own counters; its report
must name the same count. --machine picks virtio-net-device (microvm) or
virtio-net-pci (q35).
"""
import argparse
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "..", "boot", "harness.py")
GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("020000000001")
T_ECHO, T_END = 0x88b5, 0x88b6
BIG_SIZES = [2048, 9000, 16384, 32768, 65000]


def frame(seq, size, noise):
    head = GUEST_MAC + HOST_MAC + struct.pack(">H", T_ECHO)
    body = struct.pack("<QI", seq, size)
    off = (seq * 131) % 4096
    rest = size - len(head) - len(body)
    return head + body + noise[off:off + rest]


def echoed(f):
    return HOST_MAC + GUEST_MAC + f[12:]


class Traffic:
    def __init__(self, a, sock_path, qemu_path):
        self.a = a
        self.qemu_path = qemu_path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.s.bind(sock_path)
        self.s.setblocking(False)
        self.ok = False
        self.report = "traffic did not start"

    def plan(self):
        rnd = random.Random(4)
        sizes = [60 + (i * 7919 + rnd.randrange(97)) % 1455
                 for i in range(self.a.frames)]
        for k in range(self.a.big):
            pos = (k * 2654435761) % (len(sizes) + 1)
            sizes.insert(pos, BIG_SIZES[k % len(BIG_SIZES)])
        return sizes

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported, never a hang
            self.report = "netecho: error: %r" % e

    def _run(self):
        noise = random.Random(7).randbytes(70000)
        sizes = self.plan()
        out = {}
        nxt = sent_bytes = got = 0
        t0 = last = time.monotonic()
        while got < len(sizes):
            now = time.monotonic()
            if now - last > 30:
                self.report = ("netecho: FAIL: no echo for 30 s; %d of %d "
                               "back, %d in flight" % (got, len(sizes),
                                                       len(out)))
                return
            want_w = nxt < len(sizes) and len(out) < self.a.window
            r, w, _ = select.select([self.s], [self.s] if want_w else [],
                                    [], 1.0)
            if w:
                f = frame(nxt, sizes[nxt], noise)
                try:
                    self.s.sendto(f, self.qemu_path)
                except (BlockingIOError, FileNotFoundError,
                        ConnectionRefusedError):
                    time.sleep(0.001)
                else:
                    out[nxt] = f
                    sent_bytes += len(f)
                    nxt += 1
            while r:
                try:
                    data = self.s.recv(70000)
                except BlockingIOError:
                    break
                seq = struct.unpack_from("<Q", data, 14)[0] \
                    if len(data) >= 22 else -1
                f = out.pop(seq, None)
                if f is None or data != echoed(f):
                    self.report = ("netecho: FAIL: frame %d (%d bytes) "
                                   "came back wrong or twice" %
                                   (seq, len(data)))
                    return
                got += 1
                last = time.monotonic()
        took = time.monotonic() - t0
        end = GUEST_MAC + HOST_MAC + struct.pack(">H", T_END) + \
            struct.pack("<Q", len(sizes)) + bytes(40)
        self.s.setblocking(True)
        self.s.settimeout(30)
        self.s.sendto(end, self.qemu_path)
        back = self.s.recv(70000)
        if back[12:14] != struct.pack(">H", T_END):
            self.report = "netecho: FAIL: the end marker did not come back"
            return
        self.ok = True
        self.count = len(sizes)
        self.report = ("netecho: %d frames (%d bytes, %d over 1514) sent and "
                       "received intact in %.1f s, %.0f frames/s" %
                       (len(sizes), sent_bytes, self.a.big, took,
                        len(sizes) / took))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--frames", type=int, default=100000)
    ap.add_argument("--big", type=int, default=500)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    machine = rest[rest.index("--machine") + 1] if "--machine" in rest \
        else "microvm"
    dev = "virtio-net-device" if machine == "microvm" else \
        "virtio-net-pci,disable-legacy=on"
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    host = os.path.join(a.workdir, "host.sock")
    qemu = os.path.join(a.workdir, "qemu.sock")
    traffic = Traffic(a, host, qemu)
    qargs = ["-netdev", "dgram,id=n0,local.type=unix,local.path=%s,"
             "remote.type=unix,remote.path=%s" % (qemu, host),
             "-device", "%s,netdev=n0,mac=52:54:00:12:34:56" % dev]
    argv = [sys.executable, "-u", HARNESS] + rest + \
        ["--qemu-arg=" + q for q in qargs]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    th = None
    echoed_line = None
    for line in p.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if "vnet: echo ready" in line and th is None:
            th = threading.Thread(target=traffic.run, daemon=True)
            th.start()
        m = re.search(r"vnet: echoed (\d+) frames", line)
        if m:
            echoed_line = int(m.group(1))
    rc = p.wait()
    if th is not None:
        th.join(5)
    print(traffic.report)
    if rc != 0:
        return rc
    if not traffic.ok:
        return 1
    if echoed_line != traffic.count:
        print("net_test: FAIL: the guest says it echoed %s frames, the host "
              "sent %d" % (echoed_line, traffic.count))
        return 1
    print("net_test: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
