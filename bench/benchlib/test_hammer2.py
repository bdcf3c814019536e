"""Unit checks of the hammer2 area: its rows from h2bench -k output, the
compression ratios, what happens when h2bench fails or prints too little
(a stand-in for h2bench run by the host's sh), and the table's columns.
No HAMMER2, no timing.

  cd bench && python3 -m unittest discover -s benchlib -t .
"""
import os
import shutil
import stat
import tempfile
import unittest
from unittest import mock

from . import kbench, report
from .areas import hammer2
from .report import Cell, Table

# h2bench -k -m 32 -r 1 -d /dev/shm/... -t tree, as printed.
H2BENCH = """\
kbench: h2bench.mixed_mib 32 MiB
kbench: h2bench.mixed.plain.write 2067.5 MB/s
kbench: h2bench.mixed.plain.read 5619.2 MB/s
kbench: h2bench.mixed.lz4.write 1002.6 MB/s
kbench: h2bench.mixed.lz4.read 3167.8 MB/s
kbench: h2bench.mixed.zlib.write 111.4 MB/s
kbench: h2bench.mixed.zlib.read 1444.5 MB/s
kbench: h2bench.mixed.zstd.write 805.3 MB/s
kbench: h2bench.mixed.zstd.read 2077.8 MB/s
kbench: h2bench.mixed.none.write 1674.2 MB/s
kbench: h2bench.mixed.none.read 4001.8 MB/s
kbench: h2bench.tree.plain.logical 14353180 bytes
kbench: h2bench.tree.plain.stored 22597632 bytes
kbench: h2bench.tree.plain.write 443.9 MB/s
kbench: h2bench.tree.plain.read 1068.8 MB/s
kbench: h2bench.tree.lz4.logical 14353180 bytes
kbench: h2bench.tree.lz4.stored 7784992 bytes
kbench: h2bench.tree.lz4.write 355.1 MB/s
kbench: h2bench.tree.lz4.read 1537.9 MB/s
kbench: h2bench.tree.zlib.logical 14353180 bytes
kbench: h2bench.tree.zlib.stored 4586016 bytes
kbench: h2bench.tree.zlib.write 42.5 MB/s
kbench: h2bench.tree.zlib.read 534.0 MB/s
kbench: h2bench.tree.zstd.logical 14353180 bytes
kbench: h2bench.tree.zstd.stored 4586016 bytes
kbench: h2bench.tree.zstd.write 299.7 MB/s
kbench: h2bench.tree.zstd.read 1068.3 MB/s
kbench: h2bench.tree.none.logical 14353180 bytes
kbench: h2bench.tree.none.stored 14395936 bytes
kbench: h2bench.tree.none.write 473.4 MB/s
kbench: h2bench.tree.none.read 2049.0 MB/s
kbench: done
"""


def rows(out=H2BENCH, mib=32, why=None, tree_why=None):
    t = Table(hammer2.NAME, hammer2.TITLE)
    hammer2.add_rows(t, kbench.parse(out), mib, why, tree_why)
    return t


def row(t, start):
    found = [r for r in t.rows if r.metric.startswith(start)]
    assert len(found) == 1, (start, [r.metric for r in t.rows])
    return found[0]


class Rows(unittest.TestCase):
    def test_every_method_and_side(self):
        t = rows()
        # 4 methods x (write, read) on the mixed file, x (ratio, write,
        # read) on the tree
        self.assertEqual(len(t.rows), 8 + 12)
        self.assertEqual(t.failures(), [])
        r = row(t, "32 MiB mixed file, zlib: write")
        self.assertEqual((r.damselfly.number, r.linux.number), (111.4, 2067.5))
        self.assertEqual(r.ratio(), "%.3g" % (111.4 / 2067.5))
        r = row(t, "32 MiB mixed file, no compression: remount")
        self.assertEqual((r.damselfly.number, r.linux.number), (4001.8, 5619.2))
        r = row(t, "reference tree, zstd (extension): read")
        self.assertEqual((r.damselfly.number, r.linux.number), (1068.3, 1068.8))
        self.assertTrue(all(r.better == "higher" for r in t.rows))

    def test_compression_ratio_is_logical_over_stored(self):
        r = row(rows(), "reference tree, LZ4: compression ratio")
        self.assertEqual(r.unit, "ratio")
        self.assertAlmostEqual(r.damselfly.number, 14353180 / 7784992)
        self.assertAlmostEqual(r.linux.number, 14353180 / 22597632)
        self.assertEqual(r.damselfly.shown, "1.84")

    def test_size_in_the_metric(self):
        self.assertTrue(rows(mib=1024).rows[0].metric.startswith("1 GiB mixed"))
        self.assertTrue(rows(mib=1536).rows[0].metric.startswith("1536 MiB"))

    def test_a_missing_figure_fails_its_cells_only(self):
        out = H2BENCH.replace("kbench: h2bench.mixed.zstd.read 2077.8 MB/s\n", "")
        t = rows(out)
        r = row(t, "32 MiB mixed file, zstd (extension): remount")
        self.assertTrue(r.damselfly.is_failure)
        self.assertIn("h2bench printed no h2bench.mixed.zstd.read", r.damselfly.shown)
        self.assertFalse(r.linux.is_failure)
        self.assertEqual(len(t.failures()), 1)

    def test_zero_stored_bytes_fail(self):
        out = H2BENCH.replace("tree.none.stored 14395936", "tree.none.stored 0")
        r = row(rows(out), "reference tree, no compression: compression")
        self.assertTrue(r.damselfly.is_failure)
        self.assertIn("stores 0 bytes", r.damselfly.shown)

    def test_a_wrong_unit_fails(self):
        out = H2BENCH.replace("tree.lz4.stored 7784992 bytes", "tree.lz4.stored 7784992 MB/s")
        r = row(rows(out), "reference tree, LZ4: compression")
        self.assertTrue(r.damselfly.is_failure)
        self.assertIn("in MB/s, not bytes", r.damselfly.shown)

    def test_no_tree_is_cannot_run_for_the_tree_rows(self):
        t = rows(H2BENCH.split("kbench: h2bench.tree.")[0] + "kbench: done\n",
                 tree_why=Cell.cannot("no reference tree: /x is missing"))
        self.assertEqual(t.failures(), [])
        r = row(t, "reference tree, zlib: write")
        self.assertEqual(r.damselfly.shown, "cannot run here: no reference tree: "
                         "/x is missing")
        self.assertEqual(row(t, "32 MiB mixed file, LZ4: write").damselfly.number,
                         1002.6)

    def test_h2bench_that_did_not_run_fails_every_row(self):
        t = rows("", why=Cell.failed("h2bench did not build: x"))
        self.assertEqual(len(t.failures()), len(t.rows))


class RunH2bench(unittest.TestCase):
    """run_h2bench on a stand-in for h2bench (sh printing a transcript)."""

    def run_with(self, script):
        if shutil.which("sh") is None:
            self.skipTest("no sh on this host")
        with tempfile.TemporaryDirectory() as tmp:
            fake = os.path.join(tmp, "h2bench")
            with open(fake, "w") as f:
                f.write("#!/bin/sh\necho \"$@\" > %s/args\n%s" % (tmp, script))
            os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
            with mock.patch.object(hammer2, "H2BENCH", fake):
                out, why = hammer2.run_h2bench(32, 2, tmp, "/tree")
            with open(os.path.join(tmp, "args")) as f:
                args = f.read().split()
        return out, why, args

    def test_arguments_and_output(self):
        out, why, args = self.run_with("cat <<'EOF'\n%sEOF\n" % H2BENCH)
        self.assertIsNone(why)
        self.assertEqual(args[:5], ["-k", "-m", "32", "-r", "2"])
        self.assertEqual(args[-2:], ["-t", "/tree"])
        self.assertEqual(rows(out).failures(), [])

    def test_a_failure_says_what_h2bench_said(self):
        out, why, _ = self.run_with("echo 'h2bench: newfs: No space left on device' >&2\n"
                                    "exit 1\n")
        self.assertTrue(why.is_failure)
        self.assertIn("exited with 1: h2bench: newfs: No space left", why.shown)

    def test_output_without_done_fails(self):
        out, why, _ = self.run_with("echo 'kbench: h2bench.mixed.plain.write 1.0 MB/s'\n")
        self.assertTrue(why.is_failure)
        self.assertIn("exited with 0", why.shown)


class Table_(unittest.TestCase):
    def test_columns_in_markdown(self):
        t = rows()
        t.columns = hammer2.COLUMNS
        text = report.markdown(t, ["x"])
        self.assertIn("| metric | unit | HAMMER2 library | plain read/write | "
                      "HAMMER2 library ÷ plain read/write | better |", text)

    def test_default_columns_are_the_guests(self):
        text = report.markdown(Table("boot", "t"), [])
        self.assertIn("| Damselfly | Linux guest | Damselfly ÷ Linux |", text)

    def test_fs_type(self):
        self.assertEqual(hammer2._fs_type("/proc/self"), "proc")


if __name__ == "__main__":
    unittest.main()


class HostOnlyArea(unittest.TestCase):
    """bench/run hammer2 builds no guest and its header leaves them out."""

    def test_no_guest_built_and_header(self):
        from . import cli
        machine = {"cpu": "CPU", "cores": 2, "host_kernel": "6.1", "qemu": "7.2",
                   "kvm": None, "kvm_why": "none"}
        printed = []

        def fake_run(ctx):
            self.assertFalse(ctx.guests[0].available)
            self.assertFalse(ctx.guests[1].available)
            t = rows()
            t.columns, t.host_only, t.rounds = hammer2.COLUMNS, True, 1
            return t
        with mock.patch.object(cli, "build_guests",
                               side_effect=AssertionError("guests built")), \
                mock.patch.object(cli.host, "machine", return_value=machine), \
                mock.patch.object(hammer2, "run", side_effect=fake_run), \
                mock.patch.object(cli, "write_results", return_value=[]), \
                mock.patch.object(cli, "git_describe", return_value="abc"), \
                mock.patch.object(cli, "log"), \
                mock.patch("builtins.print",
                           side_effect=lambda s, **kw: printed.append(s)):
            self.assertEqual(cli.main(["--rounds", "1", "hammer2"]), 0)
        text = printed[0]
        self.assertIn("- Machine: CPU, 2 cores; host Linux 6.1\n", text)
        self.assertIn("at commit abc: 1 round(s), medians", text)
        self.assertNotIn("QEMU", text)
        self.assertNotIn("Linux guest", text)
        self.assertIn("| HAMMER2 library | plain read/write |", text)
