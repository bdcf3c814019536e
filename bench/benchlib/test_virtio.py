"""Unit checks of the virtio area: its rows from console transcripts of
both guests, the disk it makes, the QEMU options both guests get, and
bench/linux-guest/blkfio's reading of fio's terse output (run by the
host's sh with a stand-in for fio). No QEMU, no timing.

  cd bench && python3 -m unittest discover -s benchlib -t .
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from . import BENCH, guests, kbench, qemurun
from .areas import virtio
from .report import Cell, Table

# A Damselfly kbench.elf run (kbench=virtio, q35, TCG), as printed.
DAMSELFLY = b"""\
damselfly: ready
kbench: virtio: vda, 1024 MiB, 512-byte blocks, 1 queue(s) of 128, pci, msix interrupts; 2000 ms per figure after 500 ms
kbench: virtio: check: 16 MiB written (1 MiB requests, 8 in flight) and read back (8 in flight), then 2048 random 4 KiB reads (32 in flight): every byte as written; at most 8, 8 and 32 requests at the device at once
kbench: virtio: sequential read: 21478 requests of 1048576 bytes in 1000 ms (8 in flight); the driver moved 28089253888 bytes in the job, warm-up included
kbench: virtio.blk_seq_read_mbps 22515.5 MB/s
kbench: virtio: sequential write: 14622 requests of 1048576 bytes in 1000 ms (8 in flight); the driver moved 19183698944 bytes in the job, warm-up included
kbench: virtio.blk_seq_write_mbps 15331.1 MB/s
kbench: virtio: random read: 116514 requests of 4096 bytes in 1000 ms (32 in flight); the driver moved 595857408 bytes in the job, warm-up included
kbench: virtio.blk_rand_read_iops 116493.1 IOPS
kbench: virtio: vda: 164017 reads, 17526 writes, 0 errors, 0 waited for ring room; ring: 181543 added, 181543 completed, 15285 kicks, 166259 saved; 12831 interrupts, 181544 polls
kbench: done
"""

# The Linux guest running /bench/blkfio (bench.run=blkfio).
LINUX = b"""\
[    1.519219] linux-guest: ready\r
kbench: linux.blk_seq_read_mbps 2536.0 MB/s\r
kbench: linux.blk_seq_write_mbps 2375.1 MB/s\r
kbench: linux.blk_rand_read_iops 5669.0 IOPS\r
linux-guest: fio ioengine=io_uring, 2000 ms per figure after 500 ms\r
kbench: done\r
[   15.130723] reboot: Power down\r
"""

NO_DISK = b"damselfly: ready\nkbench: virtio: no block device\nkbench: done\n"


def ok(output):
    return qemurun.Result(True, 1.0, output=output)


def cells(d=DAMSELFLY, l=LINUX):
    names = lambda c: [r[c] for r in virtio.ROWS]  # noqa: E731
    return {"Damselfly": virtio.figure_cells([ok(d)], names(2), False, virtio.UNITS),
            "Linux guest": virtio.figure_cells([ok(l)], names(3), False, virtio.UNITS)}


class Rows(unittest.TestCase):
    def test_rows_units_and_ratios(self):
        t = Table(virtio.NAME, virtio.TITLE)
        virtio._add_rows(t, cells(), "TCG, median of 1", "q35 TCG")
        self.assertEqual([r.unit for r in t.rows], ["MB/s", "MB/s", "IOPS"])
        self.assertTrue(all(r.better == "higher" for r in t.rows))
        self.assertEqual(t.rows[0].damselfly.number, 22515.5)
        self.assertEqual(t.rows[2].linux.number, 5669.0)
        self.assertEqual(t.rows[2].ratio(), "%.3g" % (116493.1 / 5669.0))
        self.assertEqual(t.failures(), [])

    def test_no_disk_fails_the_cells(self):
        c = cells(d=NO_DISK)
        for cell in c["Damselfly"].values():
            self.assertTrue(cell.is_failure)
            self.assertIn("printed no virtio.blk_", cell.shown)

    def test_a_missing_figure_says_what_the_guest_said(self):
        out = DAMSELFLY.replace(
            b"kbench: virtio.blk_rand_read_iops 116493.1 IOPS\n",
            b"kbench: virtio: random read: no reply within 10000 ms\n")
        names = [r[2] for r in virtio.ROWS]
        runs = [ok(DAMSELFLY), ok(out)]
        c = virtio.figure_cells(runs, names, False, virtio.UNITS)
        logged = []

        class Ctx:
            log = staticmethod(logged.append)
        virtio._explain_missing(Ctx, guests.Damselfly(), "microvm", runs, names, c)
        cell = c["virtio.blk_rand_read_iops"]
        self.assertTrue(cell.is_failure)
        self.assertIn("printed no virtio.blk_rand_read_iops (run 2 of 2; the "
                      "guest said: kbench: virtio: random read: no reply within "
                      "10000 ms)", cell.shown)
        self.assertFalse(c["virtio.blk_seq_read_mbps"].is_failure)
        self.assertEqual(len(logged), 1)

    def test_a_timeout_says_what_came_back_later(self):
        out = DAMSELFLY.replace(
            b"kbench: virtio.blk_rand_read_iops 116493.1 IOPS\n",
            b"kbench: virtio: random read: no reply within 10000 ms, 32 requests "
            b"in flight, 40100 counted; the driver: 32 at the device, 15625 "
            b"interrupts, 129214 polls\n"
            b"kbench: virtio: random read: in the next 50000 ms, 0 of the 32 came "
            b"back (the first after 0 ms); the driver: 32 at the device, 15625 "
            b"interrupts\n")
        names = [r[2] for r in virtio.ROWS]
        runs = [ok(out)]
        c = virtio.figure_cells(runs, names, False, virtio.UNITS)

        class Ctx:
            log = staticmethod(lambda msg: None)
        virtio._explain_missing(Ctx, guests.Damselfly(), "microvm", runs, names, c)
        shown = c["virtio.blk_rand_read_iops"].shown
        self.assertIn("the guest said: kbench: virtio: random read: no reply within "
                      "10000 ms, 32 requests in flight", shown)
        self.assertIn("; random read: in the next 50000 ms, 0 of the 32 came back", shown)

    def test_figures_without_the_check_pass_fail(self):
        unchecked = b"\n".join(l for l in DAMSELFLY.split(b"\n")
                               if b"check:" not in l)
        names = [r[2] for r in virtio.ROWS]
        runs = [ok(DAMSELFLY), ok(unchecked)]
        c = virtio.figure_cells(runs, names, False, virtio.UNITS)
        self.assertFalse(any(x.is_failure for x in c.values()))
        virtio.require_check(runs, c)
        for n in names:
            self.assertTrue(c[n].is_failure)
            self.assertIn("run 2 of 2 printed %s without" % n, c[n].shown)

    def test_a_failed_check_pass_fails_the_cells(self):
        out = (b"damselfly: ready\nkbench: virtio: check failed: check read: "
               b"3 of 16 requests read other bytes than were written, the "
               b"first at offset 1048576\nkbench: virtio: vda: 40 reads, 16 "
               b"writes, 0 errors\nkbench: done\n")
        names = [r[2] for r in virtio.ROWS]
        runs = [ok(out)]
        c = virtio.figure_cells(runs, names, False, virtio.UNITS)
        virtio.require_check(runs, c)

        class Ctx:
            log = staticmethod(lambda msg: None)
        virtio._explain_missing(Ctx, guests.Damselfly(), "q35", runs, names, c)
        for n in names:
            self.assertTrue(c[n].is_failure)
            self.assertIn("the guest said: kbench: virtio: check failed: check "
                          "read: 3 of 16", c[n].shown)

    def test_goal_note(self):
        note = virtio.goal_note({("q35", "tcg", None): cells()})
        self.assertIn("q35, TCG: seq read %.3g" % (22515.5 / 2536.0), note)
        self.assertIn("no hardware KVM", note)

    def test_what_ran(self):
        seen = {"engines": set(), "disks": {}, "checks": {}}
        d, l = object(), object()
        virtio._note_what_ran({d: [ok(DAMSELFLY)], l: [ok(LINUX)]}, "q35", seen)
        self.assertEqual(seen["engines"], {"io_uring"})
        self.assertIn("pci, msix interrupts", seen["disks"]["q35"])
        self.assertTrue(seen["checks"]["q35"].startswith("16 MiB written"))
        self.assertTrue(seen["checks"]["q35"].endswith("at once"))

    def test_a_guest_that_cannot_run(self):
        c = cells()
        c["Linux guest"] = {r[3]: Cell.cannot("no KVM") for r in virtio.ROWS}
        t = Table(virtio.NAME, virtio.TITLE)
        virtio._add_rows(t, c, "KVM", "q35 KVM")
        self.assertEqual(t.failures(), [])
        self.assertEqual(t.rows[0].ratio(), "—")


class Setup(unittest.TestCase):
    def test_disk_has_no_zero_byte(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "d.img")
            virtio.make_disk(path, 2)
            self.assertEqual(os.path.getsize(path), 2 << 20)
            with open(path, "rb") as f:
                self.assertNotIn(b"\0", f.read())

    def test_same_disk_options_for_both_guests(self):
        for machine, dev in (("microvm", "virtio-blk-device"),
                             ("q35", "virtio-blk-pci")):
            a = virtio.qemu_disk(machine, "/x.img")
            self.assertEqual(a, ["-drive", "file=/x.img,if=none,id=d0,format=raw,"
                                 "cache=writeback", "-device", dev + ",drive=d0"])

    def test_linux_script_runs_from_the_tools_archive(self):
        class Built:
            vmlinux = "vmlinux"
            programs = {"pingpong": "/bench/pingpong"}
            scripts = {"blkfio": "/bench/blkfio"}
            programs_why = None

            def archive_of(self, name):
                return ("progs" if name in self.programs else
                        "tools" if name in self.scripts else None)
        self.assertEqual(guests.LinuxProgram(Built(), "blkfio").variant, "tools")
        self.assertEqual(guests.LinuxProgram(Built(), "pingpong").variant, "progs")
        self.assertFalse(guests.LinuxProgram(Built(), "nothing").available)


# fio --output-format=terse --terse-version=3, one job: 130 fields; read
# KiB, bandwidth, IOPS and runtime in 6-9, the same for writes in 47-50.
def terse(read=(0, 0, 0, 0), write=(0, 0, 0, 0), error=0):
    f = ["0"] * 130
    f[0:5] = ["3", "fio-3.33", "job", "0", str(error)]
    f[5:9] = [str(v) for v in read]
    f[46:50] = [str(v) for v in write]
    return ";".join(f)


class BlkfioScript(unittest.TestCase):
    """bench/linux-guest/blkfio under the host's sh, fio a stand-in."""

    def run_script(self, fake_fio, cmdline="bench.blk_ms=200"):
        if shutil.which("sh") is None or shutil.which("awk") is None:
            self.skipTest("no sh or awk on this host")
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "fio"), "w") as f:
                f.write("#!/bin/sh\n" + fake_fio)
            os.chmod(os.path.join(tmp, "fio"), 0o755)
            dev = os.path.join(tmp, "vda")
            open(dev, "w").close()
            env = dict(os.environ, PATH=tmp + ":" + os.environ["PATH"],
                       BLKFIO_DEV=dev, BLKFIO_CMDLINE=cmdline)
            p = subprocess.run(["sh", os.path.join(BENCH, "linux-guest", "blkfio")],
                               env=env, stdout=subprocess.PIPE, text=True, timeout=30)
        return p.stdout

    def test_figures_from_terse_output(self):
        out = self.run_script(
            'case "$*" in *--rw=write*) echo "%s";; *randread*) echo "%s";;'
            ' *) echo "%s";; esac\n' % (
                terse(write=(4135936, 0, 4030, 1002)),
                terse(read=(80000, 0, 20000, 1000)),
                terse(read=(56379392, 0, 54995, 1001))))
        f = kbench.parse(out)
        self.assertTrue(f.done)
        self.assertEqual(f.get("linux.blk_seq_read_mbps", "MB/s"),
                         round(56379392 * 1024 / 1001000, 1))
        self.assertEqual(f.get("linux.blk_seq_write_mbps", "MB/s"),
                         round(4135936 * 1024 / 1002000, 1))
        self.assertEqual(f.get("linux.blk_rand_read_iops", "IOPS"), 20000.0)
        self.assertIn("ioengine=io_uring, 200 ms per figure", out)

    def test_libaio_when_io_uring_fails(self):
        out = self.run_script(
            'case "$*" in *io_uring*) echo "no io_uring" >&2; exit 1;; esac\n'
            'echo "%s"\n' % terse(read=(1000, 0, 250, 1000), write=(1000, 0, 1, 1000)))
        self.assertIn("ioengine=libaio", out)
        self.assertEqual(kbench.parse(out).get("linux.blk_rand_read_iops", "IOPS"), 250)

    def test_a_failed_job_prints_no_figure(self):
        out = self.run_script('echo "%s"; exit 1\n' % terse(error=5))
        f = kbench.parse(out)
        self.assertTrue(f.done)
        self.assertEqual(f.names(), [])
        self.assertIn("linux-guest: fio linux.blk_seq_read_mbps failed", out)


if __name__ == "__main__":
    unittest.main()
