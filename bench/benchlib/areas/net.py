"""Area "net": TCP throughput both ways and TCP connections per second,
Damselfly's in-kernel stack beside the Linux guest's, on the same network
set-up, with the same host program on the other end (issue 6).

The set-up: a network namespace the area makes (and removes), holding a
tap device with vnet_hdr (so both guests may negotiate checksum offload
and TSO/GSO in both directions) at HOST_IP/24; QEMU runs in the namespace
(ip netns exec) on -netdev tap,vnet_hdr=on with virtio-net (virtio-net-
device on microvm, virtio-net-pci on q35) and virtio-rng, as the guest
network tests do (test/net). No vhost-net (these machines have none):
QEMU's own thread moves the frames for both guests. The host side is
Linux's stack in that namespace.

Both guests serve the same three TCP services on GUEST_IP (the same
ports, the same protocol):
  Damselfly   images/netbench (netbench.elf): the core's upcall API and
              nsk_call, as images/net; addresses from its config
  Linux       /bench/netserve from initramfs-progs.cpio
              (bench/linux-guest/netserve.c), run by /init for
              bench.run=netserve: blocking sockets and threads
and the host measures both with one program of the bench's own,
bench/net/netpeer.c (built with the host's gcc), in the namespace:
  host -> guest   netpeer h2g: sends for SECONDS to the sink, shuts its
                  side down and waits for the sink's FIN (sent only once
                  the sink has read everything): bytes sent over the
                  time to that FIN, so every byte counted was received
  guest -> host   netpeer g2h: the source sends from the moment it
                  accepts; bytes the host received over the time
  connections/s   netpeer rr: CLIENTS threads, each connect, 64-byte
                  request, 64-byte response (checked), the guest's FIN,
                  close, in a loop for SECONDS; whole connections only
Then "quit" by UDP: the guest prints its own counts and powers off. The
area checks them against the host's (check_counts): the sink's bytes
must equal the bytes the host sent, the request/response connections the
host finished must equal the guest's, and the source must have queued at
least what the host received; a run that disagrees fails its cells.

Runs: ctx.rounds per guest, guests alternating (D L, L D, ...), the
median of each figure; microvm and q35; TCG, then KVM as in the other
areas (on the kvm_pvm software backend each guest tried once per
machine, not at all with --smoke). --smoke: one run per guest of
SMOKE_SECONDS per figure on microvm and q35.
"""
import os
import re
import subprocess
import threading
import time

from .. import BENCH, BUILD, damselfly, dfqemu, guests, host, qemurun
from ..report import Cell, Row, Table
from . import common
from .sched import figure_cells

NAME = "net"
TITLE = "TCP: throughput both ways and connections per second over tap"
MACHINES = ("microvm", "q35")
SMP = 1
MEM = "512M"
IMAGE = "netbench.elf"
PROGRAM = "netserve"         # bench.run=<PROGRAM> on Linux's command line
SECONDS, SMOKE_SECONDS = 3.0, 0.5
CLIENTS = 4                  # request/response clients at once
MAX_ROUNDS = 5               # each figure is already a SECONDS average
HOST_IP, GUEST_IP = "10.0.0.1", "10.0.0.2"
PORT_SINK, PORT_SOURCE, PORT_RR, PORT_QUIT = 5201, 5202, 5203, 5299
TAP = "dfbtap0"
MAC = "52:54:00:12:34:56"
READY = b"netbench: ready"
DONE = b"netbench: done"
# Seconds a guest gets to say ready, by accelerator; then each figure.
READY_TIMEOUT = {"tcg": 120, "kvm": 60, "kvm-software": 240}
STEP_TIMEOUT = 90
EXIT_TIMEOUT = 30
NETPEER_SRC = os.path.join(BENCH, "net", "netpeer.c")
NETPEER = os.path.join(BUILD, "netpeer", "netpeer")
NIC = {"microvm": "virtio-net-device", "q35": "virtio-net-pci"}
RNG = {"microvm": "virtio-rng-device", "q35": "virtio-rng-pci"}

# (metric, chart label, figure, unit).
ROWS = [
    ("TCP throughput, host to guest, one connection", "host->guest",
     "net.h2g_gbps", "Gbit/s"),
    ("TCP throughput, guest to host, one connection", "guest->host",
     "net.g2h_gbps", "Gbit/s"),
    ("TCP connections per second (connect, 64-byte request and response, "
     "close; %d clients at once)" % CLIENTS, "conn/s", "net.rr_cps",
     "conn/s"),
]
UNITS = {r[2]: r[3] for r in ROWS}
NAMES = [r[2] for r in ROWS]
PEER = re.compile(r"^netpeer: (h2g|g2h) bytes=(\d+) seconds=([0-9.]+)$|"
                  r"^netpeer: rr conns=(\d+) seconds=([0-9.]+) clients=\d+$",
                  re.M)
STATS = re.compile(r"netbench: stats sink_bytes=(\d+) source_bytes=(\d+) "
                   r"rr_conns=(\d+)")
FATAL = qemurun.FATAL


def run(ctx):
    t = Table(NAME, TITLE)
    t.image = IMAGE
    pair = common.guest_pair(ctx, IMAGE, DamselflyNet, LinuxNet, PROGRAM)
    peer_why = _build_netpeer(ctx)
    ns = None
    ns_why = None
    if os.geteuid() != 0:
        ns_why = "needs root (ip netns add, a tap device)"
    else:
        try:
            ns = Netns(ctx.log)
            ns.make()
        except (RuntimeError, OSError) as e:
            ns_why = "the network namespace: " + host.short_error(e)
            ns = None
    try:
        for accel, kind in (("tcg", None), ("kvm", ctx.machine["kvm"])):
            for machine in MACHINES:
                cells = _measure(ctx, pair, machine, accel, kind, ns,
                                 peer_why or ns_why)
                _add_rows(t, cells, "%s, %s" % (machine, common.label(accel, kind, _rounds(ctx))),
                          "%s %s" % (machine, common.accel_tag(accel, kind)))
    finally:
        if ns is not None:
            ns.remove()
    t.rounds = _rounds(ctx)
    _context(ctx, t, pair)
    return t


# ---------------------------------------------------------------------------
# The network namespace, the tap, the host program.

class Netns:
    """A namespace with a tap (vnet_hdr) at HOST_IP/24; QEMU and netpeer
    run in it through `ip netns exec`."""

    def __init__(self, log):
        self.name = "dfbench%d" % os.getpid()
        self.log = log
        self.made = False

    def make(self):
        # Namespaces of bench runs that were killed (their process is gone).
        for line in host.run(["ip", "netns", "list"]).splitlines():
            n = line.split()[0] if line.split() else ""
            if re.fullmatch(r"dfbench\d+", n) and not os.path.exists("/proc/" + n[7:]):
                subprocess.run(["ip", "netns", "del", n])
        host.run(["ip", "netns", "add", self.name])
        self.made = True
        n = ["ip", "-n", self.name]
        host.run(n + ["link", "set", "lo", "up"])
        host.run(n + ["tuntap", "add", "dev", TAP, "mode", "tap", "vnet_hdr"])
        host.run(n + ["addr", "add", HOST_IP + "/24", "dev", TAP])
        host.run(n + ["link", "set", TAP, "up"])
        self.log("network namespace %s: %s %s/24 (tap, vnet_hdr)"
                 % (self.name, TAP, HOST_IP))

    def exec(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def remove(self):
        if self.made:
            r = subprocess.run(["ip", "netns", "del", self.name],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            self.log("network namespace %s removed%s" % (
                self.name, "" if r.returncode == 0 else ": " + r.stdout.strip()))
            self.made = False


def _build_netpeer(ctx):
    """None, or why the host program did not build."""
    try:
        os.makedirs(os.path.dirname(NETPEER), exist_ok=True)
        host.run(["gcc", "-O2", "-Wall", "-pthread", "-o", NETPEER + ".tmp",
                  NETPEER_SRC])
        os.replace(NETPEER + ".tmp", NETPEER)
        return None
    except (RuntimeError, OSError) as e:
        ctx.log("bench/net/netpeer.c did not build:\n%s" % e)
        return "bench/net/netpeer.c did not build: " + host.short_error(e)


def qemu_net(machine):
    """The QEMU options giving either guest its network (and virtio-rng,
    which Damselfly's stack keys its generators from; Linux ignores it)."""
    return ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no,"
            "vnet_hdr=on" % TAP,
            "-device", "%s,netdev=n0,mac=%s" % (NIC[machine], MAC),
            "-device", RNG[machine]]


def peer_steps(seconds):
    """The netpeer commands of one run, in order (the last ends it)."""
    s = "%g" % seconds
    return [["h2g", GUEST_IP, str(PORT_SINK), s],
            ["g2h", GUEST_IP, str(PORT_SOURCE), s],
            ["rr", GUEST_IP, str(PORT_RR), s, str(CLIENTS)]]


# ---------------------------------------------------------------------------
# The guests.

class DamselflyNet(guests.Damselfly):
    """netbench.elf: serves until "quit", then powers off (status 0)."""
    ready = READY
    guest_time = None
    exits = (dfqemu.EXIT_POWEROFF,)

    def cmdline(self, machine, accel, kvm_kind):
        return damselfly.cmdline(accel, kvm_kind, poweroff=False)


class LinuxNet(guests.LinuxProgram):
    ready = READY
    exits = (dfqemu.EXIT_POWEROFF,)


# ---------------------------------------------------------------------------
# One run: boot in the namespace, wait for ready, the host's figures,
# quit, the guest's counts.

class Console:
    """QEMU's stdout, read by a thread so the guest never blocks on it."""

    def __init__(self, p):
        self.p = p
        self.out = b""
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.eof = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        fd = self.p.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            with self.lock:
                if not chunk:
                    self.eof = True
                else:
                    self.out += chunk
                self.changed.notify_all()
            if not chunk:
                return

    def close(self):
        """After QEMU has ended: the reader sees EOF, the pipe is closed."""
        self.thread.join(5)
        if not self.thread.is_alive():
            self.p.stdout.close()

    def wait_for(self, marker, timeout):
        """'ready', 'fatal', 'eof' or 'timeout'."""
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                if marker in self.out:
                    return "ready"
                if any(f in self.out for f in FATAL):
                    return "fatal"
                if self.eof:
                    return "eof"
                left = end - time.monotonic()
                if left <= 0:
                    return "timeout"
                self.changed.wait(left)

    def text(self):
        with self.lock:
            return self.out


def run_once(guest, argv, ns_exec, seconds, ready_timeout):
    """qemurun.Result: output holds the host's figures (netpeer's lines)
    and then the guest's console."""
    t0 = time.monotonic()
    p = subprocess.Popen(ns_exec(argv), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    con = Console(p)
    peer_out = b""
    try:
        got = con.wait_for(READY, ready_timeout)
        if got != "ready":
            return _no_ready(got, con, p, ready_timeout, t0)
        for step in peer_steps(seconds):
            r = subprocess.run(ns_exec([NETPEER] + step), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=STEP_TIMEOUT)
            peer_out += r.stdout
            if r.returncode != 0:
                _quit(ns_exec)
                return qemurun.Result(
                    False, why="netpeer %s: %s" % (
                        step[0], host.short_error(r.stdout.decode(errors="replace"))),
                    output=peer_out + con.text(), cause="peer")
        _quit(ns_exec)
        if con.wait_for(DONE, EXIT_TIMEOUT) != "ready":
            return qemurun.Result(False, why="no %s line within %d s of quit"
                                  % (DONE.decode(), EXIT_TIMEOUT),
                                  output=peer_out + con.text(), cause="status")
        try:
            rc = p.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            return qemurun.Result(False, why="QEMU still running %d s after quit"
                                  % EXIT_TIMEOUT, output=peer_out + con.text(),
                                  cause="status")
        out = peer_out + con.text()
        if rc not in guest.exits:
            return qemurun.Result(False, why="QEMU exited with status %d" % rc,
                                  output=out, cause="status")
        bad = check_counts(out)
        if bad:
            return qemurun.Result(False, why=bad, output=out, cause="counts")
        return qemurun.Result(True, time.monotonic() - t0, output=out)
    except subprocess.TimeoutExpired as e:
        _quit(ns_exec)
        return qemurun.Result(False, why="netpeer %s gave no answer in %d s"
                              % (e.cmd[5] if len(e.cmd) > 5 else "?", STEP_TIMEOUT),
                              output=peer_out + con.text(), cause="timeout")
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        con.close()


def _quit(ns_exec):
    subprocess.run(ns_exec([NETPEER, "quit", GUEST_IP, str(PORT_QUIT)]),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=STEP_TIMEOUT)


def _no_ready(got, con, p, timeout, t0):
    out = con.text()
    lines = out.decode(errors="replace").strip().splitlines()
    last = "; last console line: " + (lines[-1][:100] if lines else "(none)")
    if got == "fatal":
        f = [x.decode() for x in FATAL if x in out][0]
        return qemurun.Result(False, why="%s after %.0f s" % (f, time.monotonic() - t0),
                              output=out, cause="fatal")
    if got == "eof":
        rc = p.wait()
        return qemurun.Result(False, why="QEMU exited with status %d before "
                              "ready%s" % (rc, last), output=out, cause="exit")
    return qemurun.Result(False, why="no ready line within %g s%s" % (timeout, last),
                          output=out, cause="timeout")


def peer_counts(output):
    """{"h2g": bytes, "g2h": bytes, "rr": connections} from netpeer's
    lines (each at most once; a figure printed twice is not read)."""
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    seen = {}
    for m in PEER.finditer(output):
        if m.group(1):
            seen.setdefault(m.group(1), []).append(int(m.group(2)))
        else:
            seen.setdefault("rr", []).append(int(m.group(4)))
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def guest_counts(output):
    """(sink bytes, source bytes, request/response connections) the guest
    printed at quit, or None."""
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    found = STATS.findall(output)
    if len(found) != 1:
        return None
    return tuple(int(x) for x in found[0])


def check_counts(output):
    """"" when the guest's own counts agree with the host's, else why not:
    the sink read exactly what the host sent, the guest answered exactly
    the connections the host finished, the source queued at least what
    the host received."""
    peer = peer_counts(output)
    missing = [k for k in ("h2g", "g2h", "rr") if k not in peer]
    if missing:
        return "netpeer printed no %s count" % ", ".join(missing)
    g = guest_counts(output)
    if g is None:
        return "the guest printed no single 'netbench: stats' line"
    sink, source, rr = g
    bad = []
    if sink != peer["h2g"]:
        bad.append("the guest's sink read %d bytes, the host sent %d"
                   % (sink, peer["h2g"]))
    if source < peer["g2h"]:
        bad.append("the guest's source sent %d bytes, the host received %d"
                   % (source, peer["g2h"]))
    if rr != peer["rr"]:
        bad.append("the guest answered %d connections, the host finished %d"
                   % (rr, peer["rr"]))
    return "; ".join(bad)


# ---------------------------------------------------------------------------
# Both guests, alternating; {guest label: {figure name: Cell}}.

def _rounds(ctx):
    return 1 if ctx.smoke else min(ctx.rounds, MAX_ROUNDS)


def _plan(ctx, guest, accel, kind, why):
    """As common.plan, and FAILED with why (the set-up broke) otherwise."""
    cell = common.plan(ctx, guest, accel, kind,
                       "a try on the kvm_pvm backend takes minutes")
    if cell is None and why:
        return Cell.failed(why)
    return cell


def _measure(ctx, pair, machine, accel, kind, ns, why):
    plans = {g: _plan(ctx, g, accel, kind, why) for g in pair}
    runnable = [g for g in pair if plans[g] is None]
    rounds = 1 if common.software(accel, kind) else _rounds(ctx)
    seconds = SMOKE_SECONDS if ctx.smoke else SECONDS
    key = "kvm-software" if common.software(accel, kind) else accel
    if runnable:
        ctx.log("%s: %s, %s" % (" and ".join(g.label for g in runnable),
                                machine, common.label(accel, kind, _rounds(ctx))))
    boots = [(g, g.boot(machine, accel, kind, mem=MEM, smp=SMP,
                        extra=qemu_net(machine)).argv) for g in runnable]
    results = {g: [] for g in runnable}
    for i in range(rounds):
        for g, argv in boots if i % 2 == 0 else boots[::-1]:
            r = run_once(g, argv, ns.exec, seconds, READY_TIMEOUT[key])
            if not r.ok:
                lines = r.output.decode(errors="replace").strip().splitlines()
                ctx.log("%s, %s, run %d: %s; output ended:\n  %s" % (
                    g.label, machine, i + 1, r.why, "\n  ".join(lines[-12:])))
            results[g].append(r)
    cells = {}
    for g in pair:
        if plans[g] is not None:
            cells[g.label] = {n: plans[g] for n in NAMES}
        else:
            cells[g.label] = figure_cells(results[g], NAMES,
                                          common.software(accel, kind), UNITS)
    return cells


def _add_rows(t, cells, label, tag):
    d, l = cells["Damselfly"], cells["Linux guest"]
    for metric, chart, name, unit in ROWS:
        # Gbit/s to 3 significant digits: the kvm_pvm backend's are tiny.
        fmt = "{:,.0f}" if unit == "conn/s" else "{:.3g}"
        t.rows.append(Row("%s, %s" % (metric, label), unit, "higher",
                          _fmt(d[name], fmt), _fmt(l[name], fmt),
                          "%s %s" % (chart, tag)))


def _fmt(cell, fmt):
    return Cell.value(cell.number, fmt) if cell.number is not None else cell


# ---------------------------------------------------------------------------
# What the table says about how it was measured.

def _context(ctx, t, pair):
    d, l = pair
    seconds = SMOKE_SECONDS if ctx.smoke else SECONDS
    t.context.append(
        "Network: a network namespace made for this area (removed after), "
        "holding a tap device with vnet_hdr, %s %s/24; the guest is %s/24. "
        "QEMU runs in the namespace: -netdev tap,id=n0,ifname=%s,script=no,"
        "downscript=no,vnet_hdr=on, -device virtio-net-device,netdev=n0 "
        "(microvm, virtio-mmio) or virtio-net-pci,netdev=n0 (q35), mac %s, "
        "and -device virtio-rng-device / virtio-rng-pci; no vhost-net (this "
        "machine has none): QEMU's own thread moves the frames. The host "
        "side is the host kernel's TCP in that namespace, default settings"
        % (TAP, HOST_IP, GUEST_IP, TAP, MAC))
    t.context.append(
        "Both guests: tools/dfqemu.py, -smp %d -m %s, the same QEMU machine "
        "options (microvm: QEMU's defaults and qboot; q35: -bios qboot.rom), "
        "serial console on stdio; the same service on both (ports %d sink, "
        "%d source, %d request/response). The host measures both with the "
        "same program, bench/net/netpeer.c (host gcc -O2), with its "
        "CLOCK_MONOTONIC, %g s per figure: host->guest, bytes sent until "
        "the sink's FIN (sent after it read them all) over the time from "
        "connect to that FIN; guest->host, bytes the host received from "
        "connect on; connections/s, %d host threads each connect, send 64 "
        "bytes, read the 64-byte answer (checked) and the guest's FIN, "
        "close. Gbit/s is 10^9 bits of TCP payload a second. After the "
        "figures each guest prints its own counts, and a run whose counts "
        "disagree with the host's (sink bytes, answered connections, source "
        "bytes at least those received) fails its cells"
        % (SMP, MEM, PORT_SINK, PORT_SOURCE, PORT_RR, seconds, CLIENTS))
    t.context.append(
        "Damselfly: %s (images/netbench: the in-kernel stack through its "
        "upcall API and nsk_call, one protocol thread; sink reads 64 KiB at "
        "a time, the source sends a 64 KiB pattern with ns_tcp_send), "
        "config images/netbench/config (net.ip=%s/24), -append \"%s\" (+ "
        "noxsave on the kvm_pvm backend)" % (
            IMAGE, GUEST_IP, damselfly.cmdline("tcg", None, poweroff=False)))
    if l.available:
        t.context.append(
            "Linux guest: -initrd initramfs-progs.cpio, -append \"%s\" (+ "
            "tsc_early_khz=<host TSC> on microvm); /bench/netserve "
            "(bench/linux-guest/netserve.c, gcc -static) brings eth0 up on "
            "%s/24 and serves with blocking sockets, a thread per service "
            "(%d for request/response), 64 KiB reads and writes; virtio_net "
            "with the offloads it negotiates" % (
                l.built.cmdline("q35", poweroff=False, run=PROGRAM), GUEST_IP,
                4))
    t.context.append(
        "Under TCG both guests' CPU work is emulated while the host's stack "
        "and QEMU's network thread run natively, so the figures compare how "
        "much guest CPU each system spends per byte and per connection")
