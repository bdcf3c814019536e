"""The two guests, started the same way.

Both are booted by dfqemu.qemu_argv with the same machine, accelerator,
CPU count, memory and extra QEMU options; only the guest differs: its
kernel, its initramfs (Linux) or deployment config (Damselfly), and its
kernel command line.

Interface:
  Guest.label, Guest.available, Guest.why     (why: when not available)
  Guest.boot(machine, accel, kvm_kind, mem, timeout, smp, extra)
                                              -> qemurun.Boot
  Linux(built, variant="tools")   the Linux guest with the benchmark tools
  Guest.cmdline(machine, accel, kvm_kind)     what -append gets
  SMP, MEM      what both guests get unless a benchmark says otherwise

Guests that measure themselves (in-guest benchmarks) print kbench lines
(kbench.py), then "kbench: done", then end QEMU with a status in
Guest.exits; run them with qemurun.run_to_exit(guest.boot(...)):
  DamselflyKbench(image, group)   kbench.elf with kbench=<group>
  LinuxProgram(built, program)    the Linux guest running one of the
                                  bench's own programs or scripts
                                  (bench.run=), with the archive that
                                  holds it (progs, or tools for scripts)
  Guest.boot(..., cmdline_extra=[...]) adds words to the guest's command
                                  line (an area's parameters)
"""
from . import damselfly, dfqemu, kbench, linuxguest, qemurun

SMP = 1
MEM = "256M"


class Guest:
    label = "?"
    exits = None  # QEMU statuses of a finished benchmark run

    def __init__(self, why=None):
        self.available = why is None
        self.why = why

    def boot(self, machine, accel, kvm_kind, mem=MEM, timeout=60, smp=SMP,
             extra=(), cmdline_extra=()):
        """extra: QEMU arguments (disks, NICs) given to both guests alike;
        cmdline_extra: words added to this guest's kernel command line."""
        cmdline = " ".join([self.cmdline(machine, accel, kvm_kind)]
                           + list(cmdline_extra))
        argv = dfqemu.qemu_argv(self.kernel, machine=machine, accel=accel,
                                smp=smp, mem=mem, cmdline=cmdline,
                                extra=extra, **self._files())
        return qemurun.Boot(self.label, argv, self.ready, self.guest_time,
                            self.guest_us, timeout, self.exits)


class Damselfly(Guest):
    label = "Damselfly"
    ready = damselfly.READY
    guest_time = damselfly.GUEST_TIME

    def __init__(self, image=None, why=None):
        super().__init__(why)
        self.kernel = image

    @staticmethod
    def guest_us(match):
        return damselfly.guest_us(match)

    def cmdline(self, machine, accel, kvm_kind):
        return damselfly.cmdline(accel, kvm_kind)

    def config_file(self):
        return damselfly.config(self.kernel)

    def _files(self):
        return {"config": self.config_file()}


class Linux(Guest):
    label = "Linux guest"
    ready = linuxguest.READY
    guest_time = linuxguest.GUEST_TIME

    def __init__(self, built=None, variant="base", why=None):
        super().__init__(why)
        self.built = built
        self.variant = variant
        self.kernel = built.vmlinux if built else None

    @staticmethod
    def guest_us(match):
        return int(match.group(1)) * 1000000 + int(match.group(2))

    def cmdline(self, machine, accel, kvm_kind):
        return self.built.cmdline(machine)

    def _files(self):
        return {"initrd": self.built.initramfs[self.variant]}


class DamselflyKbench(Damselfly):
    """Damselfly's benchmark image running one group of its in-guest
    benchmarks; it ends QEMU with EXIT_PASS after "kbench: done"."""
    ready = kbench.DONE
    guest_time = None
    exits = (dfqemu.EXIT_PASS,)

    def __init__(self, image=None, group=None, why=None):
        super().__init__(image, why)
        self.group = group

    def cmdline(self, machine, accel, kvm_kind):
        return damselfly.kbench_cmdline(self.group, accel, kvm_kind)


class LinuxProgram(Linux):
    """The Linux guest running one of the bench's programs from
    initramfs-progs.cpio, or one of its scripts from initramfs-tools.cpio;
    /init powers off after it ("kbench: done")."""
    ready = kbench.DONE
    guest_time = None
    exits = (dfqemu.EXIT_POWEROFF,)

    def __init__(self, built=None, program=None, why=None):
        variant = built.archive_of(program) if built else None
        if why is None and variant is None:
            why = "no %s in the Linux guest: %s" % (
                program, built.programs_why or "not built")
        super().__init__(built, variant or "progs", why)
        self.program = program

    def cmdline(self, machine, accel, kvm_kind):
        return self.built.cmdline(machine, poweroff=False, run=self.program)
