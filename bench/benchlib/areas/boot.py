"""Area "boot": boot time, image size and memory needed to boot.

Rows:
  QEMU start -> ready     wall time from just before QEMU is started to
                          the guest's ready line on the serial console,
                          median of ctx.rounds boots, the two guests
                          alternating (D L, L D, ...), on microvm and q35,
                          under TCG and under KVM where /dev/kvm is usable
  entry -> ready          the guest's own figure: Damselfly's boot report
                          (from its PVH entry); Linux's printk timestamp of
                          its ready line (sched_clock, which starts at the
                          kernel's TSC set-up early in boot, so it leaves
                          out the first moments and reads a little low)
  sizes                   ELF file, PT_LOAD bytes, initramfs, all of it
  memory needed           the smallest -m (MiB) that still reaches ready,
                          by bisection, under TCG
On the kvm_pvm software backend (no hardware virtualization) Damselfly
boots, slowly; Linux is tried once per machine and its row says what
happened.
"""
import os
import statistics

from .. import damselfly, elf, guests, qemurun
from ..report import Cell, Row, Table

NAME = "boot"
TITLE = "boot time, image size, memory needed to boot"
MACHINES = ("microvm", "q35")
MEM_RANGE_MIB = (1, 256)  # 256: what the boot-time rows give both guests
# Seconds a boot may take before it counts as hung, by accelerator.
TIMEOUT = {"tcg": {"Damselfly": 20, "Linux guest": 60},
           "kvm": {"Damselfly": 10, "Linux guest": 30},
           "kvm-software": {"Damselfly": 60, "Linux guest": 120}}


def run(ctx):
    t = Table(NAME, TITLE)
    medians = {}
    for accel, kind in _accelerators(ctx):
        for machine in MACHINES:
            _boot_rows(ctx, t, machine, accel, kind, medians)
    _size_rows(ctx, t)
    for machine in MACHINES:
        _memory_row(ctx, t, machine, medians)
    _context(ctx, t)
    _notes(ctx, t)
    return t


def _accelerators(ctx):
    """[(accel, kvm kind)]: TCG always; KVM as a row even when unusable."""
    return [("tcg", None), ("kvm", ctx.machine["kvm"])]


def _accel_label(accel, kind):
    if accel == "tcg":
        return "TCG"
    if kind == "software":
        return "KVM (kvm_pvm software backend)"
    return "KVM"


def _accel_tag(accel, kind):
    """The accelerator in a chart label."""
    if accel == "tcg":
        return "TCG"
    return "KVM-pvm" if kind == "software" else "KVM"


def _timeout(guest, accel, kind):
    key = "kvm-software" if accel == "kvm" and kind == "software" else accel
    return TIMEOUT[key][guest.label]


# ---------------------------------------------------------------------------
# Boot time: both guests, alternating, ctx.rounds boots each.

def _boot_rows(ctx, t, machine, accel, kind, medians):
    label = "%s, %s" % (machine, _accel_label(accel, kind))
    tag = "%s %s" % (machine, _accel_tag(accel, kind))
    plans = {g: _plan(ctx, g, machine, accel, kind) for g in ctx.guests}
    runnable = [g for g in ctx.guests if plans[g] is None]
    results = _alternate(ctx, runnable, machine, accel, kind)
    walls, guest_times = {}, {}
    for g in ctx.guests:
        if plans[g] is not None:
            walls[g] = guest_times[g] = plans[g]
            continue
        walls[g] = _median_cell(results[g], lambda r: r.wall_s * 1000.0)
        guest_times[g] = _median_cell(results[g], lambda r: r.guest_us / 1000.0
                                      if r.guest_us is not None else None)
        if walls[g].number is not None:
            medians[(g.label, machine, accel)] = walls[g].number / 1000.0
    d, l = ctx.guests
    n = ctx.rounds
    t.rows.append(Row("QEMU start → ready, %s, median of %d" % (label, n), "ms",
                      "lower", walls[d], walls[l], "start→ready " + tag))
    t.rows.append(Row("guest-reported entry → ready, %s, median of %d" % (label, n),
                      "ms", "lower", guest_times[d], guest_times[l],
                      "entry→ready " + tag))


def _plan(ctx, guest, machine, accel, kind):
    """None when the guest is to be booted; else the Cell to show."""
    if not guest.available:
        return Cell.failed(guest.why)
    if accel == "kvm" and kind is None:
        return Cell.cannot(ctx.machine["kvm_why"])
    if accel == "kvm" and kind == "software" and guest.label == "Linux guest":
        return _try_linux_on_software_kvm(ctx, guest, machine)
    return None


def _try_linux_on_software_kvm(ctx, guest, machine):
    if ctx.smoke:
        return Cell.text("not tried with --smoke (a failing try takes a minute)")
    boot = guest.boot(machine, "kvm", "software",
                      timeout=_timeout(guest, "kvm", "software"))
    r = qemurun.boot_once(boot)
    if r.ok:
        return None  # it boots after all: measure it like the others
    return Cell.cannot("no ready on the kvm_pvm backend: %s (1 try in this run)"
                       % r.why)


def _alternate(ctx, guests, machine, accel, kind):
    """{guest: [Result]}: rounds of one boot each, order flipped each round."""
    results = {g: [] for g in guests}
    boots = [(g, g.boot(machine, accel, kind, timeout=_timeout(g, accel, kind)))
             for g in guests]
    for i in range(ctx.rounds):
        for g, boot in boots if i % 2 == 0 else boots[::-1]:
            results[g].append(qemurun.boot_once(boot))
    return results


def _median_cell(results, value):
    failed = [r for r in results if not r.ok]
    if failed:
        return Cell.failed("%d of %d boots did not reach ready: %s"
                           % (len(failed), len(results), failed[0].why))
    values = [value(r) for r in results]
    if None in values:
        return Cell.failed("the console gave no figure for this row")
    return Cell.value(statistics.median(values))


# ---------------------------------------------------------------------------
# Sizes: read from the files this run boots.

def _size_rows(ctx, t):
    d, l = ctx.guests
    dfile = _elf_cells(d.kernel if d.available else None, d)
    lfile = _elf_cells(l.kernel if l.available else None, l)
    names = [("kernel ELF file given to -kernel", "ELF file"),
             ("loaded segments, bytes in the file (PT_LOAD p_filesz)", "PT_LOAD filesz"),
             ("loaded segments, bytes in memory (PT_LOAD p_memsz)", "PT_LOAD memsz")]
    for i, (metric, chart) in enumerate(names):
        t.rows.append(Row(metric, "bytes", "lower", dfile[i], lfile[i], chart))
    if l.available:
        base = os.path.getsize(l.built.initramfs["base"])
        tools = os.path.getsize(l.built.initramfs["tools"])
        t.rows.append(Row("initramfs used for the rows above", "bytes", None,
                          Cell.text("none"), _bytes(base), "initramfs"))
        t.rows.append(Row("initramfs with the benchmark tools (fio, iperf3, nginx)",
                          "bytes", None, Cell.text("none"), _bytes(tools)))
    _total_row(ctx, t)


def _bytes(n):
    return Cell.value(n, "{:,.0f}")


def _elf_cells(path, guest):
    if path is None:
        return [Cell.failed(guest.why)] * 3
    return [_bytes(n) for n in elf.load_sizes(path)]


def _total_row(ctx, t):
    """Every byte QEMU reads to boot each guest in the boot-time rows."""
    d, l = ctx.guests
    cells = []
    for g, extra in ((d, lambda: d.config_file()),
                     (l, lambda: l.built.initramfs["base"])):
        if not g.available:
            cells.append(Cell.failed(g.why))
            continue
        files = [g.kernel] + [f for f in [extra()] if f]
        cells.append(_bytes(sum(os.path.getsize(f) for f in files)))
    t.rows.append(Row("all files QEMU loads for the boot-time rows: "
                      "ELF + config / ELF + initramfs", "bytes", "lower",
                      cells[0], cells[1], "total"))


# ---------------------------------------------------------------------------
# Memory needed to boot: bisection over -m, under TCG.

def _memory_row(ctx, t, machine, medians):
    step = 64 if ctx.smoke else 1
    cells = [_memory_cell(ctx, g, machine, medians, step) for g in ctx.guests]
    what = "to within 64 MiB (--smoke)" if ctx.smoke else "bisection to 1 MiB"
    t.rows.append(Row("smallest -m that reaches ready, %s, TCG, %s" % (machine, what),
                      "MiB", "lower", cells[0], cells[1], "-m " + machine))


def _memory_cell(ctx, guest, machine, medians, step):
    if not guest.available:
        return Cell.failed(guest.why)
    median = medians.get((guest.label, machine, "tcg"))
    timeout = max(10.0, 10 * median) if median else _timeout(guest, "tcg", None)

    def make_boot(mib):
        return guest.boot(machine, "tcg", None, mem="%dM" % mib, timeout=timeout)
    mib, tries, why = qemurun.smallest_memory(make_boot, *MEM_RANGE_MIB, step_mib=step)
    if mib is None:
        return Cell.failed("no boot at -m %dM: %s" % (MEM_RANGE_MIB[1], why))
    ctx.log("%s on %s: smallest -m %dM, to within %d MiB (%d boots)"
            % (guest.label, machine, mib, step, tries))
    return Cell.value(mib, "{:,.0f}")


def _context(ctx, t):
    l = ctx.guests[1]
    t.context.append(
        "Both guests: tools/dfqemu.py, -smp %d -m %s, the same QEMU machine "
        "options (microvm: QEMU's defaults and qboot; q35: -bios qboot.rom), "
        "serial console on stdio, nothing else attached" % (guests.SMP, guests.MEM))
    t.context.append(
        "Damselfly: -append \"%s\" (+ noxsave on the kvm_pvm backend, whose "
        "emulator lacks XSAVE); its deployment config by fw_cfg; ready: "
        "\"damselfly: ready\" at the end of its init sequence"
        % damselfly.cmdline("tcg", None))
    if l.available:
        t.context.append(
            "Linux guest: -initrd initramfs-base.cpio (busybox, /init, virtio "
            "modules); -append \"%s\"%s; ready: /init's \"linux-guest: ready\" "
            "after mounting /proc, /sys, /dev and loading the virtio modules" % (
                l.built.cmdline("q35"),
                _microvm_difference(l.built.cmdline("q35"), l.built.cmdline("microvm"))))


def _microvm_difference(q35, microvm):
    """The words the microvm command line adds, said where they differ."""
    added = [w for w in microvm.split() if w not in q35.split()]
    if not added:
        return ""
    return (", on microvm also %s (Linux's PIT-only TSC calibration there "
            "fails now and then under TCG and the boot hangs)" % " ".join(added))


def _notes(ctx, t):
    l = ctx.guests[1]
    if l.available:
        bz = os.path.getsize(l.built.vmlinuz)
        t.notes.append("Debian ships the Linux kernel as a %s-byte bzImage (LZ4 "
                       "payload); QEMU's PVH boot takes the vmlinux inside it, "
                       "the ELF measured above." % format(bz, ","))
    t.notes.append("A -m below what a guest needs may hang rather than fail; "
                   "such a boot counts as failed after ten times its median "
                   "boot time (at least 10 s).")
