"""One timed boot in QEMU, one benchmark run, and the bisection for the
memory a guest needs.

A boot is timed from just before the QEMU process is created to the
moment the guest's ready marker is read from its serial console (QEMU's
stdout, a pipe). After the marker the guest powers itself off; QEMU is
given a moment to exit and is then killed, so a guest that cannot power
off still gives its figure.

A benchmark run (run_to_exit) is a guest that measures itself: it prints
its figures, then a done marker (Boot.ready), then ends QEMU. The run
counts only when the marker came and QEMU then exited with one of the
statuses the guest promises (Boot.exits); its figures are in the output.

Interface:
  Boot(name, argv, ready, guest_time, to_us, timeout)
      ready        bytes the console prints when the guest is ready
      guest_time   compiled regex over the console output that finds the
                   guest's own entry-to-ready figure
      to_us        turns its match into microseconds
      timeout      seconds before a boot without ready counts as hung
      exits        QEMU exit statuses of a finished run (run_to_exit)
  boot_once(boot) -> Result(ok, wall_s, guest_us, why, output, cause)
  run_to_exit(boot) -> Result(ok, wall_s, why=, output=): wall_s to exit
  smallest_memory(make_boot, lo_mib, hi_mib, step_mib) -> (MiB, tries, why)
"""
import os
import select
import subprocess
import time

# Console or QEMU output after which the guest will never be ready: QEMU
# stops the VM (it does not exit) on a KVM internal error.
FATAL = (b"KVM internal error",)


# Seconds a guest gets to end QEMU after its done marker (run_to_exit).
EXIT_GRACE = 10.0


class Boot:
    def __init__(self, name, argv, ready, guest_time, to_us, timeout,
                 exits=None):
        self.name = name
        self.argv = argv
        self.ready = ready
        self.guest_time = guest_time
        self.to_us = to_us  # regex match -> microseconds
        self.timeout = timeout
        self.exits = exits


class Result:
    def __init__(self, ok, wall_s=None, guest_us=None, why="", output=b"",
                 cause=None):
        self.ok = ok
        self.wall_s = wall_s
        self.guest_us = guest_us
        self.why = why
        self.output = output
        # Why a run failed: "fatal" (KVM stopped the VM), "timeout", "exit"
        # (QEMU ended before the marker) or "status" (after it, wrongly).
        self.cause = cause


def boot_once(boot):
    """Boots once; the result says how long it took to reach ready."""
    t0 = time.monotonic()
    p = subprocess.Popen(boot.argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ready_at = None
    try:
        out, ready_at = _read_until_ready(p, boot, t0)
        if ready_at is None:
            return _failure(p, boot, out, t0)
        out += _read_rest_of_line(p, out)
        m = boot.guest_time.search(out)
        guest_us = boot.to_us(m) if m else None
        return Result(True, ready_at - t0, guest_us, output=out)
    finally:
        _stop(p, grace=5.0 if ready_at else 0.0)


def run_to_exit(boot):
    """Runs a guest that measures itself until it ends QEMU."""
    t0 = time.monotonic()
    p = subprocess.Popen(boot.argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, done_at = _read_until_ready(p, boot, t0)
        if done_at is None:
            return _failure(p, boot, out, t0)
        out += _read_to_eof(p, EXIT_GRACE)
        try:
            rc = p.wait(timeout=max(0.1, done_at + EXIT_GRACE - time.monotonic()))
        except subprocess.TimeoutExpired:
            return Result(False, why="QEMU still running %g s after %s"
                          % (EXIT_GRACE, boot.ready.decode()), output=out,
                          cause="status")
        if boot.exits is not None and rc not in boot.exits:
            return Result(False, why="QEMU exited with status %d after %s "
                          "(expected %s)" % (rc, boot.ready.decode(),
                                            " or ".join(map(str, boot.exits))),
                          output=out, cause="status")
        return Result(True, time.monotonic() - t0, output=out)
    finally:
        _stop(p, grace=0.0)


def _read_to_eof(p, wait):
    """What the guest prints until QEMU closes its stdout (it exits)."""
    more = b""
    fd = p.stdout.fileno()
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return more
        chunk = os.read(fd, 65536)
        if not chunk:
            return more
        more += chunk


def _read_until_ready(p, boot, t0):
    """(output, time the marker was seen or None)."""
    out = b""
    fd = p.stdout.fileno()
    while True:
        left = boot.timeout - (time.monotonic() - t0)
        if left <= 0:
            return out, None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return out, None
        out += chunk
        if boot.ready in out:
            return out, time.monotonic()
        if any(f in out for f in FATAL):
            return out, None


def _read_rest_of_line(p, out, wait=1.0):
    """Reads on until the marker's line is complete (the guest time may
    be on it)."""
    more = b""
    fd = p.stdout.fileno()
    end = time.monotonic() + wait
    while not (out + more).endswith(b"\n") and b"\n" not in more:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        more += chunk
    return more


def _failure(p, boot, out, t0):
    fatal = [f.decode() for f in FATAL if f in out]
    marker = "ready" if boot.exits is None else boot.ready.decode()
    if fatal:
        why = "%s after %.0f s" % (fatal[0], time.monotonic() - t0)
        return Result(False, why=why, output=out, cause="fatal")
    rc = p.poll()
    if rc is None and time.monotonic() - t0 < boot.timeout:
        try:  # its stdout closed before the timeout: QEMU is exiting
            rc = p.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pass
    if rc is None:
        why, cause = "no %s line within %g s" % (marker, boot.timeout), "timeout"
    else:
        why, cause = "QEMU exited with status %d before %s" % (rc, marker), "exit"
    lines = out.decode(errors="replace").strip().splitlines()
    why += "; last console line: " + (lines[-1][:100] if lines else "(none)")
    return Result(False, why=why, output=out, cause=cause)


def _stop(p, grace):
    """Lets a powering-off guest end QEMU, else kills it."""
    try:
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    p.stdout.close()


def smallest_memory(make_boot, lo_mib, hi_mib, step_mib=1):
    """The smallest -m (MiB) at which make_boot(mib) reaches ready.

    Bisection, assuming more memory never breaks a boot: hi_mib must
    boot; lo_mib is taken not to. Returns (MiB or None, number of boots,
    why hi_mib did not boot).
    """
    tries = 1
    first = boot_once(make_boot(hi_mib))
    if not first.ok:
        return None, tries, first.why
    while hi_mib - lo_mib > step_mib:
        mid = (lo_mib + hi_mib) // 2
        tries += 1
        if boot_once(make_boot(mid)).ok:
            hi_mib = mid
        else:
            lo_mib = mid
    return hi_mib, tries, ""
