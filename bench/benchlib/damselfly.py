"""The Damselfly side: building the image and how it boots.

The image is built by the project's own CMake into bench/build (a build
tree of the bench's own, so a developer's build/ is never touched), with
Ninja. It is booted as tools/dfrun boots it: the image's deployment
config (images/<name>/config) goes in as fw_cfg opt/damselfly/config.

Interface:
  build(target) -> path of the built image (bench/build/images/<target>)
  config(image) -> the deployment config file or None
  cmdline(accel, kvm_kind, poweroff)   the kernel command line
  KBENCH_IMAGE                         the image with the in-guest
                                       benchmarks (core/kbench.h)
  kbench_cmdline(group, accel, kvm_kind)   its command line: run group
  READY, GUEST_TIME, guest_us(match)   the ready marker and the boot
                                       report's "entry to ready" line
"""
import os
import re
import shutil

from . import BUILD, ROOT, host, log

IMAGE = "hello.elf"
KBENCH_IMAGE = "kbench.elf"  # hello plus the in-guest benchmarks
READY = b"damselfly: ready"
GUEST_TIME = re.compile(rb"boot\s+entry to ready in (\d+) us")


def guest_us(match):
    return int(match.group(1))


def build(target=IMAGE):
    """Configures (once) and builds target; returns the image path."""
    for tool in ("cmake", "ninja"):
        if shutil.which(tool) is None:
            raise RuntimeError("%s is not installed (run scripts/setup.sh)" % tool)
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        log("configuring %s" % BUILD)
        host.run(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja"])
    log("building " + target)
    host.run(["ninja", "-C", BUILD, target])
    path = os.path.join(BUILD, "images", target)
    if not os.path.exists(path):
        raise RuntimeError("ninja built no %s" % path)
    return path


def config(image):
    name = os.path.basename(image).split(".")[0]
    path = os.path.join(ROOT, "images", name, "config")
    return path if os.path.exists(path) else None


def cmdline(accel, kvm_kind, poweroff=True):
    """poweroff_after_ms=1 powers off right after ready."""
    args = ["poweroff_after_ms=1" if poweroff else "poweroff_after_ms=0"]
    return " ".join(args + _backend_args(accel, kvm_kind))


def kbench_cmdline(group, accel, kvm_kind):
    """kbench=<group>: after ready, the image runs that group's
    benchmarks, prints "kbench: done" and ends QEMU with EXIT_PASS."""
    return " ".join(["kbench=" + group] + _backend_args(accel, kvm_kind))


def _backend_args(accel, kvm_kind):
    """The kvm_pvm software backend's instruction emulator lacks XSAVE:
    noxsave there."""
    return ["noxsave"] if accel == "kvm" and kvm_kind == "software" else []
