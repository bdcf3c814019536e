#!/usr/bin/env python3
"""Boot-test harness: boots an image headless, reads its serial console,
enforces a timeout, and checks how the run ended.

  harness.py --image ktest.elf --machine microvm --accel tcg \\
             --cmdline "ktest=all" --expect pass [--expect-output RE ...]

It prints every console line (prefixed "| "), then one verdict line. The
run's end is one of:
  pass      QEMU status 33 (ARCH_EXIT_PASS): every in-guest test passed
  fail      status 35 (ARCH_EXIT_FAIL): a test failed or hung (watchdog)
  panic     status 37 (ARCH_EXIT_PANIC): a kernel panic or CPU exception
  poweroff  status 0 after "damselfly: power off"
  hang      no end within --timeout: the harness kills QEMU and names the
            in-guest test that had started ("ktest: run X") without a
            result, or says the boot never got to ready
  error     anything else (QEMU failed to start, a reset without power-off)

--accel kvm-or-smoke picks the accelerator as the project's rules say:
KVM with the whole run where /dev/kvm is hardware-backed; where it is the
kvm_pvm software backend (guest kernel code far slower than TCG), a boot
to ready and power-off only; TCG is used for everything else. The harness
always says which accelerator it used and why.

Exit status: 0 when the run ended as --expect says and every
--expect-output pattern appeared (and no --reject-output one did); 77
(ctest's skip) when KVM was asked for and there is none; 1 otherwise.
"""
import argparse
import os
import re
import selectors
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools"))
import dfqemu  # noqa: E402

SKIP = 77


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", required=True)
    ap.add_argument("--smoke-image", help="image for the KVM smoke run")
    ap.add_argument("--machine", default="microvm", choices=["microvm", "q35"])
    ap.add_argument("--accel", default="tcg", choices=["tcg", "kvm", "kvm-or-smoke"])
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--mem", default="256M")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--config")
    ap.add_argument("--fw-cfg", action="append", default=[],
                    help="NAME=SPEC, e.g. opt/x=string=abc")
    ap.add_argument("--qemu-arg", action="append", default=[],
                    help="one extra QEMU argument (repeat)")
    ap.add_argument("--expect", required=True,
                    choices=["pass", "fail", "panic", "poweroff", "hang"])
    ap.add_argument("--expect-output", action="append", default=[])
    ap.add_argument("--reject-output", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=120)
    return ap.parse_args()


def choose_accel(a):
    """Returns (accel, smoke_only, why) or None to skip."""
    if a.accel == "tcg":
        return "tcg", False, "TCG requested"
    usable, kind, why = dfqemu.kvm_backend()
    if not usable:
        return None
    if a.accel == "kvm" or kind == "hardware":
        return "kvm", False, why
    return "kvm", True, why + "; running the boot smoke test only"


class Run:
    """One QEMU process and what its console said."""

    def __init__(self, argv, timeout):
        self.argv = argv
        self.timeout = timeout
        self.lines = []
        self.started = None  # the in-guest test that has run but no result
        self.ready = False
        self.status = None
        self.hung = False

    def note(self, line):
        self.lines.append(line)
        print("| " + line, flush=True)
        m = re.match(r"ktest: run (\S+)", line)
        if m:
            self.started = m.group(1)
        elif re.match(r"ktest: (ok|FAIL|skip|HANG) ", line):
            self.started = None
        if line.startswith("damselfly: ready"):
            self.ready = True

    def go(self):
        p = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.timeout
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.hung = True
                os.killpg(p.pid, signal.SIGKILL)
                break
            if not sel.select(timeout=min(left, 1.0)):
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                self.note(line.decode("utf-8", "replace").rstrip("\r"))
        if buf:
            self.note(buf.decode("utf-8", "replace").rstrip("\r"))
        self.status = p.wait()
        sel.close()
        p.stdout.close()

    def outcome(self):
        if self.hung:
            return "hang"
        if self.status == dfqemu.EXIT_PASS:
            return "pass"
        if self.status == dfqemu.EXIT_FAIL:
            return "fail"
        if self.status == dfqemu.EXIT_PANIC:
            return "panic"
        if self.status == 0 and any(l.startswith("damselfly: power off")
                                    for l in self.lines):
            return "poweroff"
        return "error"

    def hang_report(self):
        if self.started:
            return "in-guest test %s started and did not finish" % self.started
        if not self.ready:
            return "the kernel never reached 'damselfly: ready'"
        return "after ready, outside any in-guest test"


def check_output(run, a):
    text = "\n".join(run.lines)
    missing = [r for r in a.expect_output if not re.search(r, text, re.M)]
    present = [r for r in a.reject_output if re.search(r, text, re.M)]
    return missing, present


def main():
    a = parse_args()
    choice = choose_accel(a)
    if choice is None:
        _, _, why = dfqemu.kvm_backend()
        print("harness: SKIP: KVM requested but unusable: %s" % why)
        return SKIP
    accel, smoke, why = choice
    image, cmdline, expect = a.image, a.cmdline, a.expect
    if smoke:
        # Boot to ready and power off; noxsave because the kvm_pvm
        # emulator has no XSAVE (see arch/x86_64/cpu.c).
        image = a.smoke_image or a.image
        cmdline, expect = "poweroff_after_ms=10 noxsave", "poweroff"
        a.expect_output = [r"^damselfly: ready", r"\(KVM\)"]
    print("harness: %s on %s under %s (%s)" % (os.path.basename(image),
                                               a.machine, accel.upper(), why))
    argv = dfqemu.qemu_argv(image, machine=a.machine, accel=accel, smp=a.smp,
                            mem=a.mem, cmdline=cmdline, config=a.config,
                            fw_cfg=[f.split("=", 1) for f in a.fw_cfg],
                            extra=a.qemu_arg)
    print("harness: " + " ".join(argv), flush=True)
    run = Run(argv, a.timeout)
    t0 = time.monotonic()
    run.go()
    took = time.monotonic() - t0
    got = run.outcome()
    if got == "hang":
        report = "harness: HANG after %.1f s: %s" % (a.timeout, run.hang_report())
        print(report)
        run.lines.append(report)  # hang tests check the report
    print("harness: QEMU status %s: %s, after %.1f s" % (
        run.status, dfqemu.describe_status(run.status) if not run.hung
        else "killed", took))
    missing, present = check_output(run, a)
    ok = got == expect and not missing and not present
    for r in missing:
        print("harness: expected output not seen: %r" % r)
    for r in present:
        print("harness: rejected output seen: %r" % r)
    print("harness: %s (expected %s, got %s) under %s" % (
        "PASS" if ok else "FAIL", expect, got, accel.upper()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
