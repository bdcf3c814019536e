"""Area "virtio": raw virtio-blk throughput, sequential and random, beside
the Linux guest's fio on the same kind of disk (issue 4).

Both guests get the same raw disk image, attached the same way, and
measure themselves with their own clock, printing kbench lines
(kbench.py); the bench only reads them:
  Damselfly   kbench.elf booted with kbench=virtio: virtio/bench/
              blk_bench.c, requests straight to the disk's message port
              from one thread that keeps the window full
  Linux       /bench/blkfio from initramfs-tools.cpio, run by /init for
              bench.run=blkfio (bench/linux-guest/blkfio): fio on
              /dev/vda, --direct=1, io_uring (libaio where io_uring does
              not run), one job
The same three jobs on both, each time-based (RAMP_MS of warm-up, not
counted, then RUN_MS measured): sequential reads and sequential writes of
1 MiB, 8 in flight (MB/s, 10^6 bytes a second), random 4 KiB reads, 32
in flight, uniform over the disk (IOPS). Higher is better.

The disk: a raw image of DISK_MIB MiB (SMOKE_DISK_MIB with --smoke) in a
temporary directory, written in full with a non-zero pattern and
fsync'd before the first run, so it has no holes and every read hits
allocated blocks (in the host's page cache, cache=writeback); one image
for both guests and every run. QEMU: -drive file=IMG,if=none,id=d0,
format=raw,cache=writeback (aio=threads, QEMU's default) and
-device virtio-blk-device,drive=d0 on microvm (virtio-mmio, QEMU's legacy
version 1 there), virtio-blk-pci on q35 (MSI-X; one queue at -smp 1).
Both guests -smp 1 -m 512M: Linux's tools initramfs (90 MB, fio links
Debian's Ceph libraries) does not unpack in 256M.

Runs: min(ctx.rounds, MAX_ROUNDS) per guest (each figure is already a
RUN_MS average over thousands of requests), guests alternating (D L,
L D, ...), the median of each figure; microvm and q35; TCG, then KVM.
KVM as in the sched area: no usable /dev/kvm, the cells say so; hardware
KVM, measured like TCG; the kvm_pvm software backend, each guest tried
once per machine, not at all with --smoke, and a run the backend stops
is "cannot run here" with what happened.
"""
import os
import re
import tempfile

from .. import damselfly, guests, kbench, qemurun
from ..report import Cell, Row, Table
from . import common
from .sched import figure_cells

NAME = "virtio"
TITLE = "virtio-blk: raw sequential MB/s and random 4 KiB IOPS"
MACHINES = ("microvm", "q35")
SMP = 1
MEM = "512M"
GROUP = "virtio"       # kbench=<GROUP> on Damselfly's command line
SMOKE_WHY = "one try on the kvm_pvm backend takes a minute"
SCRIPT = "blkfio"      # bench.run=<SCRIPT> on Linux's
MAX_ROUNDS = 5
DISK_MIB = 1024
SMOKE_DISK_MIB = 64
RUN_MS, RAMP_MS = 2000, 500
SMOKE_RUN_MS, SMOKE_RAMP_MS = 200, 50
# Seconds one run may take (boot, three figures, power-off), by accelerator.
TIMEOUT = {"tcg": 180, "kvm": 60, "kvm-software": 300}
DEVICE = {"microvm": "virtio-blk-device", "q35": "virtio-blk-pci"}
CACHE = "writeback"

# (metric, chart label, Damselfly figure, Linux figure, unit).
ROWS = [
    ("sequential read, 1 MiB requests, 8 in flight", "seq read",
     "virtio.blk_seq_read_mbps", "linux.blk_seq_read_mbps", "MB/s"),
    ("sequential write, 1 MiB requests, 8 in flight", "seq write",
     "virtio.blk_seq_write_mbps", "linux.blk_seq_write_mbps", "MB/s"),
    ("random read, 4 KiB requests, 32 in flight", "rand read",
     "virtio.blk_rand_read_iops", "linux.blk_rand_read_iops", "IOPS"),
]
UNITS = {r[c]: r[4] for r in ROWS for c in (2, 3)}
ENGINE = re.compile(r"linux-guest: fio ioengine=(\S+?),")
COMPLAINT = re.compile(r"(kbench: (virtio|linux): |linux-guest: fio )")
STATS = re.compile(r"requests of|ioengine=| MiB, |reads, ")
DAMSELFLY_DISK = re.compile(r"kbench: virtio: (vda, .*?);")
LATE = re.compile(r"kbench: virtio: .*: in the next \d+ ms, \d+ of the \d+ came back")
# blk_bench.c's check pass, before any figure: written, read back, compared.
CHECK = re.compile(r"kbench: virtio: check: (.*every byte as written.*)$", re.M)


def run(ctx):
    t = Table(NAME, TITLE)
    pair = common.guest_pair(
        ctx, damselfly.KBENCH_IMAGE,
        lambda image, why=None: guests.DamselflyKbench(image, GROUP, why),
        guests.LinuxProgram, SCRIPT)
    t.image = pair[0].kernel or damselfly.KBENCH_IMAGE
    t.rounds = _rounds(ctx)
    seen = {"engines": set(), "disks": {}, "checks": {}}
    measured = {}
    mib = SMOKE_DISK_MIB if ctx.smoke else DISK_MIB
    with tempfile.TemporaryDirectory(prefix="damselfly-bench-virtio-") as tmp:
        image = os.path.join(tmp, "disk.img")
        ctx.log("writing a %d MiB disk image (%s)" % (mib, image))
        make_disk(image, mib)
        for accel, kind in (("tcg", None), ("kvm", ctx.machine["kvm"])):
            for machine in MACHINES:
                cells = _measure(ctx, pair, machine, accel, kind, image, seen)
                _add_rows(t, cells, "%s, %s" % (machine, common.label(accel, kind, _rounds(ctx))),
                          "%s %s" % (machine, common.accel_tag(accel, kind)))
                measured[(machine, accel, kind)] = cells
    _context(ctx, t, pair, mib, seen)
    t.notes.append(goal_note(measured))
    return t


def make_disk(path, mib):
    """A raw image of mib MiB with no holes: bytes 1..255 over and over
    (no zero byte, so nothing can be taken for a hole), fsync'd."""
    block = (bytes(range(1, 256)) * ((1 << 20) // 255 + 1))[:1 << 20]
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())


def qemu_disk(machine, image):
    """The QEMU options attaching image to either guest."""
    return ["-drive", "file=%s,if=none,id=d0,format=raw,cache=%s" % (image, CACHE),
            "-device", "%s,drive=d0" % DEVICE[machine]]


def params(ctx, prefix):
    """The run and warm-up times on a guest's command line."""
    run_ms, ramp_ms = (SMOKE_RUN_MS, SMOKE_RAMP_MS) if ctx.smoke else (RUN_MS, RAMP_MS)
    return ["%s.blk_ms=%d" % (prefix, run_ms), "%s.blk_ramp_ms=%d" % (prefix, ramp_ms)]


def _rounds(ctx):
    return min(ctx.rounds, MAX_ROUNDS)


# ---------------------------------------------------------------------------
# Running: both guests, alternating; {guest label: {figure name: Cell}}.

def _measure(ctx, pair, machine, accel, kind, image, seen):
    plans = {g: common.plan(ctx, g, accel, kind, SMOKE_WHY) for g in pair}
    runnable = [g for g in pair if plans[g] is None]
    rounds = 1 if common.software(accel, kind) else _rounds(ctx)
    if runnable:
        ctx.log("%s: %s, %s" % (" and ".join(g.label for g in runnable),
                                machine, common.label(accel, kind, _rounds(ctx))))
    results = _alternate(ctx, runnable, machine, accel, kind, rounds, image)
    _note_what_ran(results, machine, seen)
    d, l = pair
    cells = {}
    for g, column in ((d, 2), (l, 3)):
        names = [r[column] for r in ROWS]
        if plans[g] is not None:
            cells[g.label] = {n: plans[g] for n in names}
            continue
        cells[g.label] = figure_cells(results[g], names,
                                      common.software(accel, kind), UNITS)
        if g is d:
            require_check(results[g], cells[g.label])
        _explain_missing(ctx, g, machine, results[g], names, cells[g.label])
    return cells


def _explain_missing(ctx, guest, machine, results, names, cells):
    """A run that finished without a figure: the guest's own words on it
    (its "kbench: virtio:" or "linux-guest: fio" lines) go into the cell
    and the console tail to stderr."""
    for i, r in enumerate(results):
        if not r.ok:
            continue
        figs = kbench.parse(r.output)
        missing = [n for n in names if n not in figs.names()]
        if not missing:
            continue
        text = r.output.decode(errors="replace").replace("\r", "")
        said = [l for l in text.splitlines() if COMPLAINT.match(l)
                and not STATS.search(l)]
        ctx.log("%s, %s, run %d: no %s; its console ended:\n  %s" % (
            guest.label, machine, i + 1, ", ".join(missing),
            "\n  ".join(text.strip().splitlines()[-12:])))
        for n in missing:
            if said and cells[n].is_failure:
                cells[n] = Cell.failed("%s (run %d of %d; the guest said: %s)" % (
                    cells[n].shown[len("FAILED: "):], i + 1, len(results),
                    last_words(said)))


def last_words(said):
    """The guest's last complaint; after a timeout blk_bench.c says in a
    second line what came back later, and both are kept."""
    words = [said[-1].strip()]
    if LATE.search(words[0]) and len(said) > 1:
        words.insert(0, said[-2].strip())
        words[1] = words[1][len("kbench: virtio: "):]
    return "; ".join(words)


def require_check(results, cells):
    """Damselfly's figures count only from a run whose check pass (written,
    read back through the same windows, every byte compared) printed its
    line: a figure without it fails its cell."""
    for i, r in enumerate(results):
        if not r.ok or CHECK.search(r.output.decode(errors="replace")):
            continue
        for n, c in cells.items():
            if c.number is not None:
                cells[n] = Cell.failed("run %d of %d printed %s without "
                                       "blk_bench's check pass line"
                                       % (i + 1, len(results), n))


def _alternate(ctx, runnable, machine, accel, kind, rounds, image):
    """{guest: [Result]}: rounds of one run each, order flipped each round."""
    results = {g: [] for g in runnable}
    key = "kvm-software" if common.software(accel, kind) else accel
    boots = []
    for g in runnable:
        prefix = "kbench" if isinstance(g, guests.DamselflyKbench) else "bench"
        boots.append((g, g.boot(machine, accel, kind, mem=MEM, smp=SMP,
                                timeout=TIMEOUT[key], extra=qemu_disk(machine, image),
                                cmdline_extra=params(ctx, prefix))))
    for i in range(rounds):
        for g, boot in boots if i % 2 == 0 else boots[::-1]:
            results[g].append(qemurun.run_to_exit(boot))
    return results


def _note_what_ran(results, machine, seen):
    """The Linux ioengine fio used, Damselfly's view of the disk."""
    for g, rs in results.items():
        for r in rs:
            out = r.output.decode(errors="replace")
            seen["engines"].update(ENGINE.findall(out))
            m = DAMSELFLY_DISK.search(out)
            if m:
                seen["disks"].setdefault(machine, m.group(1))
            m = CHECK.search(out)
            if m:
                seen["checks"].setdefault(machine, m.group(1).strip())


def _add_rows(t, cells, label, tag):
    d, l = cells["Damselfly"], cells["Linux guest"]
    for metric, chart, dname, lname, unit in ROWS:
        t.rows.append(Row("%s, %s" % (metric, label), unit, "higher", d[dname],
                          l[lname], "%s %s" % (chart, tag)))


# ---------------------------------------------------------------------------
# What the table says about how it was measured.

def _context(ctx, t, pair, mib, seen):
    d, l = pair
    run_ms, ramp_ms = (SMOKE_RUN_MS, SMOKE_RAMP_MS) if ctx.smoke else (RUN_MS, RAMP_MS)
    t.context.append(
        "Disk: a raw image of %d MiB in a temporary directory on the host's "
        "file system, written in full with a non-zero pattern and fsync'd "
        "before the first run (fully allocated, no holes: reads hit real "
        "blocks, which sit in the host's page cache); the same image for "
        "both guests and every run. QEMU: -drive file=IMG,if=none,id=d0,"
        "format=raw,cache=%s (aio=threads, QEMU's default); microvm "
        "-device virtio-blk-device,drive=d0 (virtio-mmio, QEMU's default "
        "legacy version 1), q35 -device virtio-blk-pci,drive=d0" % (mib, CACHE))
    t.context.append(
        "Both guests: tools/dfqemu.py, -smp %d -m %s (Linux's tools "
        "initramfs, 90 MB, does not unpack in 256M), the same QEMU machine "
        "options (microvm: QEMU's defaults and qboot; q35: -bios "
        "qboot.rom), serial console on stdio; each guest times itself. "
        "The same three jobs, in the same order, each time-based: %d ms "
        "of warm-up (not counted), then %d ms measured; sequential "
        "offsets wrap at the end of the disk, random ones are 4 KiB-"
        "aligned and uniform over it. MB/s is 10^6 bytes a second"
        % (SMP, MEM, ramp_ms, run_ms))
    t.context.append(
        "Under TCG both guests' CPU work is emulated while QEMU's I/O "
        "threads copy from the host's page cache at native speed, so the "
        "figures show how much guest CPU each system spends per request; "
        "%d round(s) of each guest at most (each figure is already an "
        "average over thousands of requests)" % MAX_ROUNDS)
    disks = "; ".join("%s: %s" % kv for kv in sorted(seen["disks"].items()))
    checks = "; ".join("%s: %s" % kv for kv in sorted(seen["checks"].items()))
    t.context.append(
        "Damselfly: %s, -append \"%s\" (+ noxsave on the kvm_pvm backend); "
        "virtio/bench/blk_bench.c: one thread sends requests (one kmalloc'd "
        "buffer each, one descriptor) to the disk's message port and sends "
        "the next on each reply, so exactly the window is in flight; timed "
        "with the TSC; only requests that completed without error count. "
        "Before the figures, a check pass through the same windows: a "
        "region at the start of the disk written with offset-stamped, "
        "salted data, read back sequentially and at random, every byte "
        "compared; a run whose check fails prints no figure%s%s" % (
            damselfly.KBENCH_IMAGE,
            " ".join([damselfly.kbench_cmdline(GROUP, "tcg", None)]
                     + params(ctx, "kbench")),
            "; the disk as it saw it: " + disks if disks else "",
            "; its check pass (first run): " + checks if checks else ""))
    if l.available:
        b = l.built
        engines = ", ".join(sorted(seen["engines"])) or "not reported"
        t.context.append(
            "Linux guest: -initrd initramfs-tools.cpio (fio %s from Debian, "
            "/bench/%s from bench/linux-guest/%s); -append \"%s\", on "
            "microvm also tsc_early_khz= as in the boot area; fio on "
            "/dev/vda --direct=1 --ioengine=%s (io_uring where the kernel "
            "and fio run it, else libaio) --time_based --ramp_time "
            "--runtime, one job; --rw=read/write --bs=1m --iodepth=8, "
            "--rw=randread --bs=4k --iodepth=32 --norandommap; its terse "
            "output turned into kbench lines in the guest" % (
                b.versions.get("fio", "?"), SCRIPT, SCRIPT,
                " ".join([b.cmdline("q35", run=SCRIPT)] + params(ctx, "bench")),
                engines))


def goal_note(cells):
    """Issue 4's goal and the ratios this run measured for it.

    cells: {(machine, accel, kind): {guest label: {figure: Cell}}}."""
    parts = []
    for (machine, accel, kind), c in cells.items():
        ratios = []
        for _, chart, dname, lname, _ in ROWS:
            dv = c["Damselfly"][dname].number
            lv = c["Linux guest"][lname].number
            if dv is not None and lv:
                ratios.append("%s %.3g" % (chart, dv / lv))
        if ratios:
            parts.append("%s, %s: %s" % (machine, common.accel_tag(accel, kind),
                                         ", ".join(ratios)))
    hw = []
    for (machine, accel, kind), c in cells.items():
        if accel == "kvm" and kind == "hardware":
            d = c["Damselfly"]
            hw.append("%s: %s MB/s read, %s IOPS" % (
                machine, d["virtio.blk_seq_read_mbps"].shown,
                d["virtio.blk_rand_read_iops"].shown))
    measured = "; ".join(parts) if parts else "no pair of figures in this run"
    kvm = ("; under hardware KVM: " + "; ".join(hw)) if hw else (
        "; no hardware KVM on this machine")
    return ("Issue 4's goal: beat the Linux guest on the same accelerator "
            "(Damselfly ÷ Linux above 1), and 1.2 GB/s sequential and 95,000 "
            "IOPS random where KVM is hardware-backed. Measured in this run, "
            "Damselfly ÷ Linux: %s%s." % (measured, kvm))
