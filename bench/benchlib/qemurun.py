"""One timed boot in QEMU, and the bisection for the memory a guest needs.

A boot is timed from just before the QEMU process is created to the
moment the guest's ready marker is read from its serial console (QEMU's
stdout, a pipe). After the marker the guest powers itself off; QEMU is
given a moment to exit and is then killed, so a guest that cannot power
off still gives its figure.

Interface:
  Boot(name, argv, ready, guest_time, to_us, timeout)
      ready        bytes the console prints when the guest is ready
      guest_time   compiled regex over the console output that finds the
                   guest's own entry-to-ready figure
      to_us        turns its match into microseconds
      timeout      seconds before a boot without ready counts as hung
  boot_once(boot) -> Result(ok, wall_s, guest_us, why, output)
  smallest_memory(make_boot, lo_mib, hi_mib, step_mib) -> (MiB, tries, why)
"""
import os
import select
import subprocess
import time

# Console or QEMU output after which the guest will never be ready: QEMU
# stops the VM (it does not exit) on a KVM internal error.
FATAL = (b"KVM internal error",)


class Boot:
    def __init__(self, name, argv, ready, guest_time, to_us, timeout):
        self.name = name
        self.argv = argv
        self.ready = ready
        self.guest_time = guest_time
        self.to_us = to_us  # regex match -> microseconds
        self.timeout = timeout


class Result:
    def __init__(self, ok, wall_s=None, guest_us=None, why="", output=b""):
        self.ok = ok
        self.wall_s = wall_s
        self.guest_us = guest_us
        self.why = why
        self.output = output


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
    rc = p.poll()
    fatal = [f.decode() for f in FATAL if f in out]
    if fatal:
        why = "%s after %.0f s" % (fatal[0], time.monotonic() - t0)
    elif rc is None:
        why = "no ready line within %g s" % boot.timeout
    else:
        why = "QEMU exited with status %d before ready" % rc
    if not fatal:
        lines = out.decode(errors="replace").strip().splitlines()
        why += "; last console line: " + (lines[-1][:100] if lines else "(none)")
    return Result(False, why=why, output=out)


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
