"""Area "sched": LWKT thread switches, sleep/wakeup, messages, IPIs and
locks, beside the Linux guest's nearest equivalents.

Each guest measures itself with its own clock and prints kbench lines
(kbench.py); the bench only reads them:
  Damselfly   kbench.elf (hello plus the in-guest benchmarks) booted with
              kbench=sched: sched/bench/sched_bench.c, timed with the TSC
  Linux       /bench/pingpong from initramfs-progs.cpio, run by /init for
              bench.run=pingpong (bench/linux-guest/pingpong.c): two user
              threads pinned with sched_setaffinity, pipes, futexes,
              sched_yield and glibc's mutex, timed with CLOCK_MONOTONIC
Both get -smp 2 and the same machine and accelerator. ROWS pairs each
Damselfly figure with the Linux figure nearest to it in what it does,
and each metric's text says what the Linux side is (half a futex round
trip stands for one switch: a round trip is two). Times are ns per
operation, lower is better.

Runs: ctx.rounds per guest, guests alternating (D L, L D, ...), the
median of each figure; microvm and q35; TCG, then KVM. KVM as in the boot
area: no usable /dev/kvm, the cells say so; hardware KVM, measured like
TCG; the kvm_pvm software backend, each guest is tried once per machine
(one Damselfly run takes about a minute there), not at all with --smoke,
and a run that the backend stops (KVM internal error) or that does not
finish in time is "cannot run here" with what happened. A run that ends
any other way without "kbench: done" and its exit status fails every
cell of that guest on that row group: no median is taken over the runs
that happened to work.
"""
import statistics

from .. import damselfly, guests, kbench, linuxguest, qemurun
from ..report import Cell, Row, Table
from . import common

NAME = "sched"
TITLE = "LWKT: thread switch, sleep/wakeup, messages, IPIs, locks"
MACHINES = ("microvm", "q35")
SMP = 2
GROUP = "sched"        # kbench=<GROUP> on Damselfly's command line
SMOKE_WHY = "one run on the kvm_pvm backend takes a minute or more"
PROGRAM = "pingpong"   # bench.run=<PROGRAM> on Linux's
UNIT = "ns"
# Seconds one run may take (boot, every figure, power-off), by accelerator.
TIMEOUT = {"tcg": 120, "kvm": 60, "kvm-software": 300}

# (metric, chart label, Damselfly figure, Linux figure, Linux divisor).
# The metric names the Linux side; LEGEND says what each figure is.
ROWS = [
    ("thread switch, one CPU; Linux: half a futex round trip",
     "switch", "sched.switch_1cpu", "linux.futex_rtt_1cpu", 2),
    ("thread switch, one CPU; Linux: one sched_yield",
     "switch/yield", "sched.switch_1cpu", "linux.sched_yield_1cpu", 1),
    ("thread switch with FPU state, one CPU; Linux: half a futex round trip",
     "switch FPU", "sched.switch_1cpu_fpu", "linux.futex_rtt_1cpu", 2),
    ("sleep/wakeup round trip, one CPU; Linux: futex round trip",
     "sleep 1cpu", "sched.sleep_rtt_1cpu", "linux.futex_rtt_1cpu", 1),
    ("sleep/wakeup round trip, two CPUs; Linux: futex round trip",
     "sleep 2cpu", "sched.sleep_rtt_2cpu", "linux.futex_rtt_2cpu", 1),
    ("synchronous message round trip, one CPU; Linux: pipe round trip",
     "msg 1cpu", "sched.msg_rtt_1cpu", "linux.pipe_rtt_1cpu", 1),
    ("synchronous message round trip, two CPUs; Linux: pipe round trip",
     "msg 2cpu", "sched.msg_rtt_2cpu", "linux.pipe_rtt_2cpu", 1),
    ("IPI round trip, two CPUs; Linux (no IPI a program can send): its "
     "nearest user-space equivalent, a futex round trip across CPUs",
     "IPI", "sched.ipi_rtt_2cpu", "linux.futex_rtt_2cpu", 1),
    ("uncontended lock, token get + release; Linux: pthread mutex lock + "
     "unlock",
     "token", "sched.token_uncontended", "linux.mutex_uncontended", 1),
    ("uncontended lock, pthread mutex lock + unlock; Linux: the same",
     "mutex", "sched.mutex_uncontended", "linux.mutex_uncontended", 1),
]
LEGEND = {
    "sched.switch_1cpu": "one switch between two TDF_NOFPU LWKT threads on "
                         "one CPU waking each other (the raw LWKT switch)",
    "sched.switch_1cpu_fpu": "the same with threads that use the FPU",
    "sched.sleep_rtt_1cpu": "tsleep/wakeup round trip between two threads on "
                            "one CPU",
    "sched.sleep_rtt_2cpu": "the same, threads on two CPUs",
    "sched.msg_rtt_1cpu": "lwkt_domsg to a thread on the same CPU, until "
                          "its reply",
    "sched.msg_rtt_2cpu": "the same, the thread on the other CPU",
    "sched.ipi_rtt_2cpu": "an IPI message to the other CPU, waiting for it "
                          "to run",
    "sched.token_uncontended": "lwkt_gettoken + lwkt_reltoken",
    "sched.mutex_uncontended": "pthread_mutex_lock + unlock of Damselfly's "
                               "pthread subset on LWKT",
    "linux.futex_rtt_1cpu": "two threads pinned to CPU 0 handing a turn back "
                            "and forth with FUTEX_WAIT/FUTEX_WAKE "
                            "(FUTEX_PRIVATE_FLAG); a round trip is two "
                            "switches, so the switch rows show half of it",
    "linux.futex_rtt_2cpu": "the same, threads pinned to CPUs 0 and 1",
    "linux.pipe_rtt_1cpu": "two threads pinned to CPU 0, one byte each way "
                           "over a pair of pipes",
    "linux.pipe_rtt_2cpu": "the same, threads pinned to CPUs 0 and 1",
    "linux.sched_yield_1cpu": "two threads pinned to CPU 0 calling "
                              "sched_yield: with both runnable, one yield is "
                              "one switch",
    "linux.mutex_uncontended": "glibc's pthread_mutex_lock + unlock, one "
                               "thread, after the process has had others",
}


def run(ctx):
    t = Table(NAME, TITLE)
    pair = common.guest_pair(
        ctx, damselfly.KBENCH_IMAGE,
        lambda image, why=None: guests.DamselflyKbench(image, GROUP, why),
        guests.LinuxProgram, PROGRAM)
    t.image = pair[0].kernel or damselfly.KBENCH_IMAGE
    measured = {}
    for accel, kind in (("tcg", None), ("kvm", ctx.machine["kvm"])):
        for machine in MACHINES:
            cells = _measure(ctx, pair, machine, accel, kind)
            _add_rows(t, cells, "%s, %s" % (machine, common.label(accel, kind, ctx.rounds)),
                      "%s %s" % (machine, common.accel_tag(accel, kind)))
            measured[(machine, accel, kind)] = cells
    _context(ctx, t, pair)
    t.notes.append(legend())
    t.notes.append(FPU_NOTE)
    t.notes.append(goal_note(measured))
    return t


# ---------------------------------------------------------------------------
# Running: both guests, alternating; {guest: {figure name: Cell}}.

def _measure(ctx, pair, machine, accel, kind):
    plans = {g: common.plan(ctx, g, accel, kind, SMOKE_WHY) for g in pair}
    runnable = [g for g in pair if plans[g] is None]
    rounds = 1 if common.software(accel, kind) else ctx.rounds
    if runnable:
        ctx.log("%s: %s, %s" % (" and ".join(g.label for g in runnable),
                                machine, common.label(accel, kind, ctx.rounds)))
    results = _alternate(runnable, machine, accel, kind, rounds)
    d, l = pair
    cells = {}
    for g, names in ((d, _names(2)), (l, _names(3))):
        if plans[g] is not None:
            cells[g.label] = {n: plans[g] for n in names}
        else:
            cells[g.label] = figure_cells(results[g], names, common.software(accel, kind))
    return cells


def _names(column):
    """The figures one guest must print: column 2 Damselfly, 3 Linux."""
    return sorted({r[column] for r in ROWS})


def _alternate(runnable, machine, accel, kind, rounds):
    """{guest: [Result]}: rounds of one run each, order flipped each round."""
    results = {g: [] for g in runnable}
    key = "kvm-software" if common.software(accel, kind) else accel
    boots = [(g, g.boot(machine, accel, kind, smp=SMP, timeout=TIMEOUT[key]))
             for g in runnable]
    for i in range(rounds):
        for g, boot in boots if i % 2 == 0 else boots[::-1]:
            results[g].append(qemurun.run_to_exit(boot))
    return results


def figure_cells(results, names, software_kvm=False, units=None):
    """{name: Cell}: the median over results of each figure, or why not.

    Every run must have finished; on the kvm_pvm backend a run that the
    backend stopped or that ran out of time is "cannot run here". units:
    {name: unit} where a figure's unit is not UNIT (other areas)."""
    failed = [r for r in results if not r.ok]
    if failed:
        r = failed[0]
        printed = len(kbench.parse(r.output).names())
        if software_kvm and r.cause in ("fatal", "timeout"):
            cell = Cell.cannot("on the kvm_pvm backend: %s, after %d of %d "
                               "figures (1 try in this run)"
                               % (r.why, printed, len(names)))
        else:
            cell = Cell.failed("%d of %d runs did not finish: %s"
                               % (len(failed), len(results), r.why))
        return {n: cell for n in names}
    parsed = [kbench.parse(r.output) for r in results]
    cells = {}
    for n in names:
        try:
            unit = (units or {}).get(n, UNIT)
            cells[n] = Cell.value(statistics.median(f.get(n, unit) for f in parsed))
        except kbench.Missing as e:
            cells[n] = Cell.failed(str(e))
    return cells


def _derived(cell, divisor):
    """A Linux figure divided (half a round trip), or the cell as it is."""
    if cell.number is None or divisor == 1:
        return cell
    return Cell.value(cell.number / divisor)


def _add_rows(t, cells, label, tag):
    d, l = cells["Damselfly"], cells["Linux guest"]
    for metric, chart, dname, lname, divisor in ROWS:
        t.rows.append(Row("%s, %s" % (metric, label), UNIT, "lower", d[dname],
                          _derived(l[lname], divisor), "%s %s" % (chart, tag)))


# ---------------------------------------------------------------------------
# What the table says about how it was measured.

def _context(ctx, t, pair):
    d, l = pair
    t.context.append(
        "Under TCG every guest instruction is translated, so absolute "
        "nanoseconds are inflated for both guests; the ratios compare how "
        "much work each system does per operation")
    t.context.append(
        "Both guests: tools/dfqemu.py, -smp %d -m %s, the same QEMU machine "
        "options (microvm: QEMU's defaults and qboot; q35: -bios qboot.rom), "
        "serial console on stdio, nothing else attached; each guest times "
        "itself and prints its figures on the console" % (SMP, guests.MEM))
    t.context.append(
        "Damselfly: %s, -append \"%s\" (+ noxsave on the kvm_pvm backend); "
        "sched/bench/sched_bench.c, timed with the TSC: the mean of many "
        "iterations after a warm-up; then \"kbench: done\" and QEMU exits "
        "with status %d" % (damselfly.KBENCH_IMAGE,
                            damselfly.kbench_cmdline(GROUP, "tcg", None),
                            guests.dfqemu.EXIT_PASS))
    if l.available:
        b = l.built
        t.context.append(
            "Linux guest: -initrd initramfs-progs.cpio (the boot rows' "
            "initramfs plus /bench/%s, built from bench/linux-guest/%s.c by "
            "%s %s against glibc %s); -append \"%s\", on microvm also "
            "tsc_early_khz= as in the boot area; /init runs it after ready, "
            "then powers off. Threads pinned with sched_setaffinity, "
            "CLOCK_MONOTONIC; batches grow until one takes at least 200 ms, "
            "whose mean is the figure" % (
                PROGRAM, PROGRAM, b.compiler, " ".join(linuxguest.CFLAGS),
                b.versions.get("libc6-dev", "?"), b.cmdline("q35", run=PROGRAM)))


def legend():
    """What each figure in the table is, by its kbench name."""
    return "Figures (ns per operation; each guest prints them by name): " + \
        "; ".join("%s: %s" % kv for kv in LEGEND.items()) + "."


FPU_NOTE = ("Linux saves and restores the FPU state of user threads on every "
            "switch between them, so both futex-based thread-switch rows use "
            "the same Linux figure; Damselfly's TDF_NOFPU threads have no FPU "
            "state to switch.")


def goal_note(cells):
    """Issue 3's goal and the ratios this run measured for it.

    cells: {(machine, accel, kind): {guest label: {figure: Cell}}}."""
    parts = []
    for (machine, accel, kind), c in cells.items():
        d = c["Damselfly"]["sched.switch_1cpu"].number
        futex = c["Linux guest"]["linux.futex_rtt_1cpu"].number
        yld = c["Linux guest"]["linux.sched_yield_1cpu"].number
        where = "%s, %s" % (machine, common.accel_tag(accel, kind))
        if d is None:
            continue
        if futex is None or yld is None:
            parts.append("%s: %.1f ns, no Linux figure" % (where, d))
            continue
        parts.append("%s: %.3g of half a futex round trip, %.3g of a "
                     "sched_yield" % (where, d / (futex / 2), d / yld))
    hw = [c["Damselfly"]["sched.switch_1cpu"].number
          for (m, a, k), c in cells.items() if a == "kvm" and k == "hardware"]
    measured = "; ".join(parts) if parts else "no thread-switch figure in this run"
    kvm = ("; under hardware KVM: %s ns" % ", ".join(
        "%.1f" % v for v in hw if v is not None)) if hw else (
        "; no hardware KVM on this machine")
    return ("Issue 3's goal: a thread switch at least 10x cheaper than the "
            "Linux guest's on the same accelerator (Damselfly ÷ Linux at most "
            "0.1), and under 100 ns where KVM is hardware-backed. Measured "
            "in this run, Damselfly's switch ÷ Linux's: %s%s." % (measured, kvm))
