#!/usr/bin/env python3
"""virtio-blk boot test: makes the disk images, boots the ktest image with
them attached, and checks afterwards what the guest wrote.

  blk_test.py --blkpat BLKPAT --workdir DIR -- HARNESS-ARGS...

Disks (by serial, as virtio/ktest/blk_ktest.c expects):
  dfhost    8 MiB, the host's pattern: the guest reads and checks it
  dfguest   8 MiB of zeros: the guest writes its pattern; checked here
  dfro      4 MiB, read-only (readonly=on), its own pattern
  dfbroken  1 MiB scratch disk for the broken-ring test
--machine (passed on to the harness) picks virtio-blk-device (microvm) or
virtio-blk-pci (q35, modern only). Exit status: the harness's, or 1 when
the guest's pattern is not on dfguest afterwards.
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS = os.path.join(HERE, "..", "boot", "harness.py")
MIB = 1024 * 1024
DISKS = [("dfhost", 8 * MIB, "host", False),
         ("dfguest", 8 * MIB, "zero", False),
         ("dfro", 4 * MIB, "ro", True),
         ("dfbroken", 1 * MIB, "zero", False)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blkpat", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--disks", default=",".join(d[0] for d in DISKS))
    ap.add_argument("--devopts", default="",
                    help="appended to each -device, e.g. ,vectors=0")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    rest = a.rest[1:] if a.rest[:1] == ["--"] else a.rest
    if "--devopts" in rest:  # may come after the harness's arguments
        i = rest.index("--devopts")
        a.devopts = rest[i + 1]
        del rest[i:i + 2]
    machine = "microvm"
    if "--machine" in rest:
        machine = rest[rest.index("--machine") + 1]
    dev = "virtio-blk-device" if machine == "microvm" else \
        "virtio-blk-pci,disable-legacy=on"
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    qargs = []
    wanted = a.disks.split(",")
    for i, (serial, size, pat, ro) in enumerate(DISKS):
        if serial not in wanted:
            continue
        path = os.path.join(a.workdir, serial + ".img")
        subprocess.run([a.blkpat, "make", path, str(size), pat], check=True)
        drive = "file=%s,if=none,id=d%d,format=raw" % (path, i)
        if ro:
            drive += ",readonly=on"
        qargs += ["-drive", drive, "-device",
                  "%s,drive=d%d,serial=%s%s" % (dev, i, serial, a.devopts)]
    argv = [sys.executable, HARNESS] + rest
    argv += ["--qemu-arg=" + q for q in qargs]
    rc = subprocess.run(argv).returncode
    if rc != 0:
        return rc
    if "dfguest" in wanted:
        path = os.path.join(a.workdir, "dfguest.img")
        if subprocess.run([a.blkpat, "check", path, "guest"]).returncode:
            print("blk_test: FAIL: the guest's pattern is not on dfguest")
            return 1
    print("blk_test: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
