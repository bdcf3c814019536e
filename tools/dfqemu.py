"""Starting QEMU for Damselfly images: one place that knows the flags.

Used by tools/dfrun (run an image), test/boot/harness.py (boot tests) and
bench/ (benchmarks, including the Linux guest baseline), so that every
guest is started with the same machine, CPU, memory, disk and network
options.

Machines:
  microvm  QEMU's microvm: virtio-mmio, qboot firmware (its default),
           ISA serial, no PCI. The fastest start.
  q35      PCIe (virtio-pci), started with qboot (-bios qboot.rom) rather
           than SeaBIOS, which costs seconds.
Both get isa-debug-exit at port 0xf4 (tests end QEMU with a status) and
-no-reboot (a triple fault ends QEMU instead of looping).

Accelerators:
  kvm  when /dev/kvm can be opened; -cpu host,-arch-capabilities (plain
       -cpu host aborts on these machines).
  tcg  otherwise; -cpu max.
kvm_backend() tells a hardware-backed /dev/kvm from the software kvm_pvm
backend of these machines, where guest ring-0 code runs far slower than
under TCG: the harness then runs only a boot smoke test under KVM.
"""
import os
import shutil

QEMU = "qemu-system-x86_64"
QBOOT = "/usr/share/qemu/qboot.rom"
DEBUG_EXIT = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]

# QEMU exit statuses from arch_exit(): (code << 1) | 1.
EXIT_PASS = 33
EXIT_FAIL = 35
EXIT_PANIC = 37
EXIT_POWEROFF = 0


def kvm_backend():
    """Returns (usable, kind, why): kind is 'hardware', 'software' or None."""
    if not os.path.exists("/dev/kvm"):
        return False, None, "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, None, "/dev/kvm is not readable and writable by this user"
    if os.path.isdir("/sys/module/kvm_pvm"):
        return True, "software", ("/dev/kvm is the kvm_pvm software backend "
                                  "(nested, ring-0 code far slower than TCG)")
    return True, "hardware", "/dev/kvm is hardware-backed"


def default_accel():
    usable, kind, _ = kvm_backend()
    return "kvm" if usable and kind == "hardware" else "tcg"


def qemu_argv(kernel, machine="microvm", accel="tcg", smp=1, mem="256M",
              cmdline="", config=None, fw_cfg=(), extra=(), interactive=False,
              gdb=False, initrd=None):
    """The QEMU command line for booting a PVH kernel."""
    if shutil.which(QEMU) is None:
        raise FileNotFoundError(QEMU + " is not installed (run scripts/setup.sh)")
    argv = [QEMU, "-nodefaults", "-no-user-config", "-display", "none",
            "-no-reboot", "-m", str(mem), "-smp", str(smp)]
    if machine == "microvm":
        argv += ["-M", "microvm"]
    elif machine == "q35":
        argv += ["-M", "q35", "-bios", QBOOT]
    else:
        raise ValueError("unknown machine %r (microvm or q35)" % machine)
    if accel == "kvm":
        argv += ["-accel", "kvm", "-cpu", "host,-arch-capabilities"]
    elif accel == "tcg":
        argv += ["-accel", "tcg", "-cpu", "max"]
    else:
        raise ValueError("unknown accelerator %r (kvm or tcg)" % accel)
    argv += ["-serial", "mon:stdio" if interactive else "stdio"]
    if not interactive:
        argv += ["-monitor", "none"]
    argv += DEBUG_EXIT
    argv += ["-kernel", kernel]
    if initrd:
        argv += ["-initrd", initrd]
    if cmdline:
        argv += ["-append", cmdline]
    if config:
        argv += ["-fw_cfg", "name=opt/damselfly/config,file=" + config]
    for name, spec in fw_cfg:
        argv += ["-fw_cfg", "name=%s,%s" % (name, spec)]
    if gdb:
        argv += ["-s", "-S"]
    argv += list(extra)
    return argv


def describe_status(rc):
    """What a QEMU exit status means for a Damselfly guest."""
    return {
        EXIT_PASS: "pass (guest exited with ARCH_EXIT_PASS)",
        EXIT_FAIL: "fail (guest exited with ARCH_EXIT_FAIL)",
        EXIT_PANIC: "panic or fault (guest exited with ARCH_EXIT_PANIC)",
        EXIT_POWEROFF: "power-off (or reset with -no-reboot)",
    }.get(rc, "QEMU error or unexpected status %d" % rc)
