"""Unit checks of the kbench line reader and of the sched area's table,
against console transcripts of both guests (no QEMU, no timing).

  cd bench && python3 -m unittest discover -s benchlib -t .
"""
import unittest

from . import kbench, qemurun
from .areas import sched
from .report import Cell

# A Damselfly kbench.elf run (kbench=sched, microvm, TCG), as the serial
# console printed it.
DAMSELFLY = b"""\
Damselfly 0.1 on QEMU microvm (TCG)
  cpu      QEMU TCG CPU version 2.5+; 2 present, 2 running
  cmdline  "kbench=sched"
  boot     entry to ready in 18318 us
damselfly: ready
kbench: sched.switch_1cpu 455.5 ns
kbench: sched.switch_1cpu_fpu 1303.1 ns
kbench: sched.sleep_rtt_1cpu 1922.8 ns
kbench: sched.msg_rtt_1cpu 1202.9 ns
kbench: sched.token_uncontended 119.8 ns
kbench: sched.mutex_uncontended 38.0 ns
kbench: sched.sleep_rtt_2cpu 19452.7 ns
kbench: sched.msg_rtt_2cpu 19048.5 ns
kbench: sched.ipi_rtt_2cpu 7017.1 ns
kbench: done
"""

# The Linux guest running /bench/pingpong (bench.run=pingpong).
LINUX = b"""\
[    0.312358] PCI: Fatal: No config space access function found\r
[    1.161258] linux-guest: ready\r
kbench: linux.pipe_rtt_1cpu 19978.9 ns\r
kbench: linux.pipe_rtt_2cpu 85338.7 ns\r
kbench: linux.futex_rtt_1cpu 14601.6 ns\r
kbench: linux.futex_rtt_2cpu 78671.6 ns\r
kbench: linux.sched_yield_1cpu 3600.3 ns\r
kbench: linux.mutex_uncontended 44.7 ns\r
kbench: done\r
[    2.884537] reboot: Power down\r
"""


def ok(output):
    return qemurun.Result(True, 1.0, output=output)


class Parse(unittest.TestCase):
    def test_figures_and_done(self):
        f = kbench.parse(DAMSELFLY)
        self.assertTrue(f.done)
        self.assertEqual(len(f.names()), 9)
        self.assertEqual(f.get("sched.switch_1cpu", "ns"), 455.5)
        self.assertEqual(f.get("sched.mutex_uncontended", "ns"), 38.0)

    def test_carriage_returns_and_other_lines(self):
        f = kbench.parse(LINUX)
        self.assertTrue(f.done)
        self.assertEqual(f.get("linux.futex_rtt_1cpu", "ns"), 14601.6)
        self.assertEqual(f.bad, [])

    def test_integer_value(self):
        self.assertEqual(kbench.parse("kbench: a.b 12 ns\n").get("a.b", "ns"), 12.0)

    def test_missing_figure(self):
        with self.assertRaisesRegex(kbench.Missing, "printed no sched.nothing"):
            kbench.parse(DAMSELFLY).get("sched.nothing", "ns")

    def test_no_done(self):
        self.assertFalse(kbench.parse(DAMSELFLY.replace(b"kbench: done", b"")).done)

    def test_wrong_unit(self):
        with self.assertRaisesRegex(kbench.Missing, "in us, not ns"):
            kbench.parse("kbench: x 1.5 us\n").get("x", "ns")

    def test_printed_twice(self):
        with self.assertRaisesRegex(kbench.Missing, "2 times"):
            kbench.parse("kbench: x 1 ns\nkbench: x 2 ns\n").get("x", "ns")

    def test_garbled_line(self):
        # a kernel message written into the middle of a figure's line
        f = kbench.parse("kbench: x 1[  3.1] oops ns\n")
        self.assertEqual(len(f.bad), 1)
        with self.assertRaisesRegex(kbench.Missing, "garbled"):
            f.get("x", "ns")


class SchedCells(unittest.TestCase):
    def test_every_row_figure_is_in_the_transcripts(self):
        d = kbench.parse(DAMSELFLY)
        l = kbench.parse(LINUX)
        for _, _, dname, lname, _ in sched.ROWS:
            d.get(dname, "ns")
            l.get(lname, "ns")
        for name in sched.LEGEND:
            self.assertIn(name, d.names() + l.names())

    def test_median_over_rounds(self):
        outs = [DAMSELFLY.replace(b"455.5", v) for v in (b"400.0", b"455.5", b"900.0")]
        cells = sched.figure_cells([ok(o) for o in outs], ["sched.switch_1cpu"])
        self.assertEqual(cells["sched.switch_1cpu"].number, 455.5)

    def test_a_failed_run_fails_every_cell(self):
        bad = qemurun.Result(False, why="QEMU exited with status 37 before "
                             "kbench: done", output=b"panic", cause="exit")
        cells = sched.figure_cells([ok(DAMSELFLY), bad], sched._names(2))
        for c in cells.values():
            self.assertTrue(c.is_failure)
            self.assertIn("1 of 2 runs did not finish", c.shown)

    def test_kvm_pvm_stop_is_cannot(self):
        out = DAMSELFLY.split(b"kbench: sched.switch_1cpu_fpu")[0]
        stopped = qemurun.Result(False, why="KVM internal error after 52 s",
                                 output=out + b"KVM internal error. Suberror: 1\n",
                                 cause="fatal")
        cells = sched.figure_cells([stopped], sched._names(2), software_kvm=True)
        c = cells["sched.switch_1cpu"]
        self.assertFalse(c.is_failure)
        self.assertIn("cannot run here: on the kvm_pvm backend: KVM internal "
                      "error after 52 s, after 1 of 9 figures", c.shown)

    def test_missing_figure_fails_only_its_cells(self):
        out = DAMSELFLY.replace(b"kbench: sched.ipi_rtt_2cpu 7017.1 ns\n", b"")
        cells = sched.figure_cells([ok(out)], sched._names(2))
        self.assertTrue(cells["sched.ipi_rtt_2cpu"].is_failure)
        self.assertFalse(cells["sched.switch_1cpu"].is_failure)


class RunToExit(unittest.TestCase):
    """qemurun.run_to_exit on a stand-in for QEMU: sh printing a transcript."""

    def run_sh(self, script, timeout=10):
        boot = qemurun.Boot("fake", ["sh", "-c", script], kbench.DONE, None,
                            None, timeout, exits=(33,))
        return qemurun.run_to_exit(boot)

    def test_done_then_the_promised_status(self):
        r = self.run_sh("printf 'kbench: x 1.5 ns\\nkbench: done\\n'; exit 33")
        self.assertTrue(r.ok, r.why)
        self.assertEqual(kbench.parse(r.output).get("x", "ns"), 1.5)

    def test_done_then_another_status(self):
        r = self.run_sh("printf 'kbench: done\\n'; exit 35")
        self.assertFalse(r.ok)
        self.assertEqual(r.cause, "status")
        self.assertIn("status 35 after kbench: done", r.why)

    def test_exit_before_done(self):
        r = self.run_sh("printf 'kbench: x 1 ns\\nPANIC here\\n'; exit 37")
        self.assertEqual(r.cause, "exit")
        self.assertIn("status 37 before kbench: done", r.why)
        self.assertIn("last console line: PANIC here", r.why)

    def test_hang(self):
        r = self.run_sh("printf 'kbench: x 1 ns\\n'; exec sleep 30", timeout=0.5)
        self.assertEqual(r.cause, "timeout")
        self.assertIn("no kbench: done line within 0.5 s", r.why)


class SchedTable(unittest.TestCase):
    def cells(self):
        return {"Damselfly": sched.figure_cells([ok(DAMSELFLY)], sched._names(2)),
                "Linux guest": sched.figure_cells([ok(LINUX)], sched._names(3))}

    def test_rows_and_half_a_futex_round_trip(self):
        t = sched.Table(sched.NAME, sched.TITLE)
        sched._add_rows(t, self.cells(), "TCG, median of 1", "microvm TCG")
        self.assertEqual(len(t.rows), len(sched.ROWS))
        switch = t.rows[0]
        self.assertIn("half a futex round trip", switch.metric)
        self.assertEqual(switch.linux.number, 14601.6 / 2)
        self.assertEqual(switch.ratio(), "%.3g" % (455.5 / (14601.6 / 2)))
        self.assertEqual(t.rows[1].linux.number, 3600.3)  # sched_yield
        self.assertEqual(t.failures(), [])

    def test_a_guest_that_did_not_build(self):
        why = Cell.failed("kbench.elf did not build: ninja: error: unknown "
                          "target 'kbench.elf'")
        cells = self.cells()
        cells["Damselfly"] = {n: why for n in sched._names(2)}
        t = sched.Table(sched.NAME, sched.TITLE)
        sched._add_rows(t, cells, "TCG, median of 1", "microvm TCG")
        self.assertEqual(len(t.failures()), len(sched.ROWS))
        self.assertIn("unknown target", t.rows[0].damselfly.shown)
        self.assertEqual(t.rows[0].ratio(), "—")

    def test_goal_note_states_the_ratios(self):
        note = sched.goal_note({("microvm", "tcg", None): self.cells()})
        self.assertIn("microvm, TCG: %.3g of half a futex round trip"
                      % (455.5 / (14601.6 / 2)), note)
        self.assertIn("no hardware KVM", note)


if __name__ == "__main__":
    unittest.main()
