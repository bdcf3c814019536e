"""Unit checks of the net area: netpeer's lines and the guests' counts
read and checked against each other, the rows built from them, the QEMU
options both guests get, a whole run (run_once) with stand-ins for QEMU
and netpeer, and bench/net/netpeer.c itself against small servers on
the loopback (its three measures and its bad arguments). No QEMU, no
namespace, no timing checked.

  cd bench && python3 -m unittest discover -s benchlib -t .
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from . import qemurun
from .areas import net
from .report import Table

# What netpeer prints for one run (h2g, g2h, rr), as the area collects it.
PEER = b"""\
netpeer: h2g bytes=1048576000 seconds=3.500000
kbench: net.h2g_gbps 2.397 Gbit/s
netpeer: g2h bytes=2097152000 seconds=3.000000
kbench: net.g2h_gbps 5.592 Gbit/s
netpeer: rr conns=12000 seconds=3.001000 clients=4
kbench: net.rr_cps 3998.7 conn/s
"""
# Damselfly's console after quit (images/netbench).
DAMSELFLY = b"""\
netbench: ready on 10.0.0.2: sink 5201, source 5202, rr 5203, quit udp 5299
netbench: sink: 1 connections, 0 aborted
netbench: source: 1 connections, 0 aborted
netbench: rr: 12000 connections, 0 aborted
netbench: stats sink_bytes=1048576000 source_bytes=2097283072 rr_conns=12000 live=0
netbench: done
"""
# The Linux guest's (bench/linux-guest/netserve.c), with its CRs.
LINUX = b"""\
[    1.519219] linux-guest: ready\r
netbench: ready on 10.0.0.2: sink 5201, source 5202, rr 5203, quit udp 5299\r
netbench: stats sink_bytes=1048576000 source_bytes=2097152000 rr_conns=12000\r
netbench: done\r
[   15.130723] reboot: Power down\r
"""


def ok(output):
    return qemurun.Result(True, 1.0, output=output)


class Counts(unittest.TestCase):
    def test_peer_counts(self):
        self.assertEqual(net.peer_counts(PEER),
                         {"h2g": 1048576000, "g2h": 2097152000, "rr": 12000})

    def test_peer_count_printed_twice_is_not_read(self):
        twice = PEER + b"netpeer: rr conns=5 seconds=1.0 clients=4\n"
        self.assertNotIn("rr", net.peer_counts(twice))
        self.assertIn("h2g", net.peer_counts(twice))

    def test_garbled_peer_line_is_not_read(self):
        self.assertEqual(net.peer_counts(b"netpeer: h2g bytes=12x seconds=1\n"), {})

    def test_guest_counts_both_guests(self):
        self.assertEqual(net.guest_counts(DAMSELFLY), (1048576000, 2097283072, 12000))
        self.assertEqual(net.guest_counts(LINUX), (1048576000, 2097152000, 12000))

    def test_guest_counts_none_or_twice(self):
        self.assertIsNone(net.guest_counts(b"netbench: done\n"))
        line = b"netbench: stats sink_bytes=1 source_bytes=2 rr_conns=3\n"
        self.assertIsNone(net.guest_counts(line + line))

    def test_agreeing_counts_pass(self):
        self.assertEqual(net.check_counts(PEER + DAMSELFLY), "")
        self.assertEqual(net.check_counts(PEER + LINUX), "")

    def test_sink_short_of_what_the_host_sent_fails(self):
        bad = LINUX.replace(b"sink_bytes=1048576000", b"sink_bytes=1048575999")
        why = net.check_counts(PEER + bad)
        self.assertIn("sink read 1048575999 bytes, the host sent 1048576000", why)

    def test_sink_reading_more_than_sent_fails(self):
        bad = LINUX.replace(b"sink_bytes=1048576000", b"sink_bytes=2048576000")
        self.assertIn("sink read", net.check_counts(PEER + bad))

    def test_source_below_what_the_host_received_fails(self):
        bad = LINUX.replace(b"source_bytes=2097152000", b"source_bytes=1000")
        self.assertIn("the host received 2097152000", net.check_counts(PEER + bad))

    def test_answered_connections_must_match(self):
        bad = DAMSELFLY.replace(b"rr_conns=12000", b"rr_conns=11999")
        self.assertIn("answered 11999 connections, the host finished 12000",
                      net.check_counts(PEER + bad))

    def test_missing_lines_fail(self):
        self.assertIn("netpeer printed no rr",
                      net.check_counts(PEER.split(b"netpeer: rr")[0] + LINUX))
        self.assertIn("no single 'netbench: stats'", net.check_counts(PEER))


class Rows(unittest.TestCase):
    def cells(self, d, l):
        return {"Damselfly": net.figure_cells(d, net.NAMES, False, net.UNITS),
                "Linux guest": net.figure_cells(l, net.NAMES, False, net.UNITS)}

    def test_rows_units_ratios_and_medians(self):
        slower = PEER.replace(b"net.h2g_gbps 2.397", b"net.h2g_gbps 1.000")
        d = [ok(PEER + DAMSELFLY)] * 2 + [ok(slower + DAMSELFLY)]
        lpeer = PEER.replace(b"net.rr_cps 3998.7", b"net.rr_cps 1999.35")
        t = Table(net.NAME, net.TITLE)
        net._add_rows(t, self.cells(d, [ok(lpeer + LINUX)]), "TCG, median of 3",
                      "microvm TCG")
        self.assertEqual([r.unit for r in t.rows], ["Gbit/s", "Gbit/s", "conn/s"])
        self.assertTrue(all(r.better == "higher" for r in t.rows))
        h2g, g2h, rr = t.rows
        self.assertEqual(h2g.damselfly.shown, "2.4")  # median of 2.397 x2, 1.0
        self.assertEqual(g2h.damselfly.shown, "5.59")
        self.assertEqual(rr.damselfly.shown, "3,999")
        self.assertEqual(rr.linux.shown, "1,999")
        self.assertEqual(rr.ratio(), "2.00")
        self.assertTrue(h2g.metric.endswith("one connection, TCG, median of 3"))

    def test_small_throughputs_keep_their_digits(self):
        slow = PEER.replace(b"net.h2g_gbps 2.397", b"net.h2g_gbps 0.00312")
        t = Table(net.NAME, net.TITLE)
        net._add_rows(t, self.cells([ok(slow)], [ok(PEER)]), "KVM", "q35 KVM")
        self.assertEqual(t.rows[0].damselfly.shown, "0.00312")
        self.assertEqual(t.rows[0].ratio(), "0.0013")

    def test_a_failed_run_fails_every_figure(self):
        bad = qemurun.Result(False, why="the guest's sink read 1 bytes, the host "
                             "sent 2", output=PEER, cause="counts")
        c = net.figure_cells([ok(PEER + DAMSELFLY), bad], net.NAMES, False,
                             net.UNITS)
        for n in net.NAMES:
            self.assertTrue(c[n].is_failure)
            self.assertIn("1 of 2 runs did not finish: the guest's sink", c[n].shown)

    def test_kvm_pvm_stop_is_cannot_run_here(self):
        r = qemurun.Result(False, why="KVM internal error after 60 s",
                           cause="fatal")
        c = net.figure_cells([r], net.NAMES, True, net.UNITS)
        self.assertFalse(c["net.rr_cps"].is_failure)
        self.assertIn("cannot run here: on the kvm_pvm backend",
                      c["net.rr_cps"].shown)

    def test_figure_in_the_wrong_unit_fails(self):
        wrong = PEER.replace(b"2.397 Gbit/s", b"2.397 Mbit/s")
        c = net.figure_cells([ok(wrong)], net.NAMES, False, net.UNITS)
        self.assertTrue(c["net.h2g_gbps"].is_failure)


class Options(unittest.TestCase):
    def test_both_machines_get_a_tap_with_vnet_hdr(self):
        for machine, nic, rng in (("microvm", "virtio-net-device", "virtio-rng-device"),
                                  ("q35", "virtio-net-pci", "virtio-rng-pci")):
            a = net.qemu_net(machine)
            netdev = a[a.index("-netdev") + 1]
            self.assertIn("tap,", netdev)
            self.assertIn("vnet_hdr=on", netdev)
            self.assertIn("ifname=" + net.TAP, netdev)
            devs = [a[i + 1] for i, x in enumerate(a) if x == "-device"]
            self.assertEqual(devs, ["%s,netdev=n0,mac=%s" % (nic, net.MAC), rng])

    def test_steps(self):
        steps = net.peer_steps(0.5)
        self.assertEqual([s[0] for s in steps], ["h2g", "g2h", "rr"])
        self.assertEqual(steps[0], ["h2g", net.GUEST_IP, "5201", "0.5"])
        self.assertEqual(steps[2][-1], str(net.CLIENTS))


# A stand-in QEMU: says ready, waits for the stand-in netpeer's quit (a
# file), then prints the counts in $COUNTS and exits with $STATUS.
FAKE_QEMU = """\
echo "netbench: ready on 10.0.0.2"
while [ ! -e "$DIR/quit" ]; do sleep 0.05; done
printf '%s\\n' "$COUNTS"
echo "netbench: done"
exit $STATUS
"""
# A stand-in netpeer: prints PEER's lines for its step; quit makes the file.
FAKE_PEER = """\
#!/bin/sh
case "$1" in
h2g) echo "netpeer: h2g bytes=1000 seconds=1.0"; echo "kbench: net.h2g_gbps 1.000 Gbit/s" ;;
g2h) echo "netpeer: g2h bytes=2000 seconds=1.0"; echo "kbench: net.g2h_gbps 2.000 Gbit/s" ;;
rr) [ -n "$PEER_FAIL" ] && { echo "netpeer: error: rr: connect: refused" >&2; exit 1; }
    echo "netpeer: rr conns=30 seconds=1.0 clients=4"; echo "kbench: net.rr_cps 30.0 conn/s" ;;
quit) touch "$DIR/quit" ;;
esac
"""


class RunOnce(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bench-net-test-")
        peer = os.path.join(self.dir, "netpeer")
        with open(peer, "w") as f:
            f.write(FAKE_PEER)
        os.chmod(peer, 0o755)
        self.saved = net.NETPEER
        net.NETPEER = peer
        os.environ["DIR"] = self.dir
        os.environ.pop("PEER_FAIL", None)

    def tearDown(self):
        net.NETPEER = self.saved
        shutil.rmtree(self.dir)
        for k in ("DIR", "COUNTS", "STATUS", "PEER_FAIL"):
            os.environ.pop(k, None)

    def run_guest(self, counts, status=0):
        os.environ["COUNTS"] = counts
        os.environ["STATUS"] = str(status)
        return net.run_once(net.DamselflyNet(None), ["sh", "-c", FAKE_QEMU],
                            lambda argv: argv, 1.0, 10)

    def test_a_whole_run(self):
        r = self.run_guest("netbench: stats sink_bytes=1000 source_bytes=2000 "
                           "rr_conns=30 live=0")
        self.assertTrue(r.ok, r.why)
        self.assertEqual(net.peer_counts(r.output), {"h2g": 1000, "g2h": 2000, "rr": 30})
        self.assertIn(b"netbench: done", r.output)

    def test_counts_that_disagree_fail_the_run(self):
        r = self.run_guest("netbench: stats sink_bytes=999 source_bytes=2000 "
                           "rr_conns=30")
        self.assertFalse(r.ok)
        self.assertEqual(r.cause, "counts")
        self.assertIn("sink read 999 bytes", r.why)

    def test_wrong_exit_status_fails(self):
        r = self.run_guest("netbench: stats sink_bytes=1000 source_bytes=2000 "
                           "rr_conns=30", status=37)
        self.assertFalse(r.ok)
        self.assertIn("status 37", r.why)

    def test_netpeer_error_fails_with_its_words_and_still_quits(self):
        os.environ["PEER_FAIL"] = "1"
        r = self.run_guest("netbench: stats sink_bytes=1000 source_bytes=2000 "
                           "rr_conns=30")
        self.assertFalse(r.ok)
        self.assertEqual(r.cause, "peer")
        self.assertIn("netpeer rr: netpeer: error: rr: connect: refused", r.why)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "quit")))

    def test_no_ready(self):
        r = net.run_once(net.DamselflyNet(None), ["sh", "-c", "echo booting; exit 3"],
                         lambda argv: argv, 1.0, 10)
        self.assertFalse(r.ok)
        self.assertEqual(r.cause, "exit")
        self.assertIn("status 3 before ready; last console line: booting", r.why)


@unittest.skipIf(shutil.which("gcc") is None, "no gcc")
class Netpeer(unittest.TestCase):
    """bench/net/netpeer.c on the loopback against small Python servers."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bench-netpeer-")
        cls.bin = os.path.join(cls.dir, "netpeer")
        subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-pthread", "-o", cls.bin,
                        net.NETPEER_SRC], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def serve(self, handle, conns=1):
        """A listener on 127.0.0.1; handle(sock) for each connection."""
        l = socket.socket()
        l.bind(("127.0.0.1", 0))
        l.listen(16)
        got = {"bytes": 0, "conns": 0, "lock": threading.Lock()}

        def loop():
            while True:
                try:
                    c, _ = l.accept()
                except OSError:
                    return
                threading.Thread(target=handle, args=(c, got), daemon=True).start()
        th = threading.Thread(target=loop, daemon=True)
        th.start()

        def stop():  # shutdown wakes the accept; then no fd is reused
            l.shutdown(socket.SHUT_RDWR)
            th.join(5)
            l.close()
        self.addCleanup(stop)
        return l.getsockname()[1], got

    def peer(self, *args):
        return subprocess.run([self.bin] + [str(a) for a in args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=60)

    def test_h2g_counts_what_the_sink_read(self):
        def sink(c, got):
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got["bytes"] += len(d)
            c.close()
        port, got = self.serve(sink)
        r = self.peer("h2g", "127.0.0.1", port, 0.2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(net.peer_counts(r.stdout)["h2g"], got["bytes"])
        self.assertGreater(got["bytes"], 0)
        self.assertRegex(r.stdout, r"kbench: net.h2g_gbps [0-9.]+ Gbit/s")

    def test_h2g_fails_when_the_sink_answers(self):
        def chatty(c, got):
            c.sendall(b"x")
            while c.recv(65536):
                pass
            c.close()
        port, _ = self.serve(chatty)
        r = self.peer("h2g", "127.0.0.1", port, 0.2)
        self.assertEqual(r.returncode, 1)
        self.assertIn("sink sent 1 bytes", r.stderr)

    def test_g2h_counts_what_arrived(self):
        def source(c, got):
            try:
                while True:
                    got["bytes"] += c.send(b"y" * 65536)
            except OSError:
                c.close()
        port, got = self.serve(source)
        r = self.peer("g2h", "127.0.0.1", port, 0.2)
        self.assertEqual(r.returncode, 0, r.stderr)
        n = net.peer_counts(r.stdout)["g2h"]
        self.assertGreater(n, 0)
        self.assertLessEqual(n, got["bytes"])

    def test_g2h_fails_when_the_guest_closes(self):
        port, _ = self.serve(lambda c, got: c.close())
        r = self.peer("g2h", "127.0.0.1", port, 5)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the guest closed after 0 bytes", r.stderr)

    def rr_server(self, bump):
        def rr(c, got):
            req = b""
            while len(req) < 64:
                d = c.recv(64 - len(req))
                if not d:
                    break
                req += d
            c.sendall(bytes((b + bump) & 255 for b in req))
            with got["lock"]:
                got["conns"] += 1
            c.close()
        return self.serve(rr)

    def test_rr_counts_whole_connections(self):
        port, got = self.rr_server(1)
        r = self.peer("rr", "127.0.0.1", port, 0.2, 2)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(net.peer_counts(r.stdout)["rr"], got["conns"])
        self.assertGreater(got["conns"], 0)

    def test_rr_checks_the_response(self):
        port, _ = self.rr_server(2)
        r = self.peer("rr", "127.0.0.1", port, 0.2, 1)
        self.assertEqual(r.returncode, 1)
        self.assertIn("response byte 0", r.stderr)

    def test_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        r = self.peer("h2g", "127.0.0.1", port, 0.2)
        self.assertEqual(r.returncode, 1)
        self.assertIn("h2g: connect: Connection refused", r.stderr)

    def test_bad_arguments(self):
        for args, why in ((["h2g", "10.0.0.300", 5201, 1], "bad address"),
                          (["h2g", "10.0.0.2", 0, 1], "bad port"),
                          (["h2g", "10.0.0.2", "52x", 1], "bad port"),
                          (["g2h", "10.0.0.2", 5202, "-1"], "bad seconds"),
                          (["g2h", "10.0.0.2", 5202, "1s"], "bad seconds"),
                          (["rr", "10.0.0.2", 5203, 1, 0], "bad clients"),
                          (["rr", "10.0.0.2", 5203, 1, 65], "bad clients"),
                          (["rr", "10.0.0.2", 5203, 1], "usage"),
                          (["flood", "10.0.0.2", 5203, 1], "usage"),
                          ([], "usage")):
            r = self.peer(*args)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(why, r.stderr, args)
