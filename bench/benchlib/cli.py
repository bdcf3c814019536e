"""bench/run: build both guests, run the areas, print and write the tables.

  bench/run [--rounds N] [NAME...]   run the named areas (default: all)
  bench/run --smoke                  one quick round of every area, written
                                     under bench/results/smoke/; exits
                                     non-zero unless every table printed
                                     with no failed cell (no timing checks)
  bench/run --list                   the area names

Steps: build the Damselfly image (bench/build), build the Linux guest
(bench/linux-guest/work), then for each area print its markdown table to
stdout and write <area>.md and <area>.png under bench/results/. Progress
goes to stderr. The exit status is 1 when any cell FAILED (a guest did
not build or boot); "cannot run here" cells are not failures.
"""
import argparse
import datetime
import os
import subprocess
import sys

from . import RESULTS, ROOT, damselfly, guests, host, linuxguest, log, report
from .areas import AREAS

DEFAULT_ROUNDS = 20


class Context:
    """What every area gets: the guests, the machine, how many rounds."""

    def __init__(self, guest_pair, machine, rounds, smoke):
        self.guests = guest_pair  # (Damselfly, Linux): the table's columns
        self.machine = machine
        self.rounds = rounds
        self.smoke = smoke

    @staticmethod
    def log(msg):
        log(msg)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help="areas to run")
    ap.add_argument("--rounds", type=int, default=None,
                    help="boots per guest for timed rows (default %d)" % DEFAULT_ROUNDS)
    ap.add_argument("--smoke", action="store_true",
                    help="one quick round; check that every table prints")
    ap.add_argument("--list", action="store_true", help="list the areas")
    a = ap.parse_args(argv)
    unknown = [n for n in a.names if n not in AREAS]
    if unknown:
        ap.error("unknown area %s (areas: %s)" % (", ".join(unknown), ", ".join(AREAS)))
    if a.rounds is None:
        a.rounds = 1 if a.smoke else DEFAULT_ROUNDS
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    return a


def build_guests():
    """(Damselfly, Linux): a guest that did not build carries the reason."""
    try:
        d = guests.Damselfly(damselfly.build())
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log("Damselfly image did not build:\n%s" % e)
        d = guests.Damselfly(why="image did not build: " + host.short_error(e))
    try:
        log("building the Linux guest (bench/linux-guest/work)")
        l = guests.Linux(linuxguest.build())
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log("Linux guest did not build:\n%s" % e)
        l = guests.Linux(why="Linux guest did not build: " + host.short_error(e))
    return d, l


def git_describe():
    """The commit measured, marked when the work tree has changes."""
    try:
        rev = host.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
        dirty = host.run(["git", "-C", ROOT, "status", "--porcelain",
                          "--untracked-files=no"]).strip()
        return rev + (" with local changes" if dirty else "")
    except (RuntimeError, OSError):
        return "unknown commit"


def context_lines(ctx, when, table):
    """What every table says about where and how it was measured."""
    m = ctx.machine
    if table.host_only:
        return [
            "Machine: %s, %d cores; host Linux %s" % (m["cpu"], m["cores"],
                                                      m["host_kernel"]),
            "Measured %s by bench/run%s at commit %s: %d round(s), medians"
            % (when, " --smoke" if ctx.smoke else "", git_describe(),
               table.rounds or ctx.rounds)]
    d, l = ctx.guests
    kvm = m["kvm_why"] if m["kvm"] else "no KVM: " + m["kvm_why"]
    lines = [
        "Machine: %s, %d cores; host Linux %s" % (m["cpu"], m["cores"], m["host_kernel"]),
        "QEMU %s; accelerator per row: TCG (-accel tcg -cpu max) or KVM "
        "(-accel kvm -cpu host,-arch-capabilities); %s" % (m["qemu"], kvm),
        "Damselfly: %s at commit %s" % (
            os.path.basename(table.image or d.kernel or damselfly.IMAGE),
            git_describe()),
    ]
    if l.available:
        b = l.built
        lines.append("Linux guest: Debian linux-image-%s %s (its vmlinux, booted as "
                     "PVH), busybox-static %s" % (
                         b.kver, b.versions["linux-image-" + b.kver],
                         b.versions["busybox-static"]))
    lines.append("Measured %s by bench/run%s: %d round(s), guests alternating, medians"
                 % (when, " --smoke" if ctx.smoke else "", table.rounds or ctx.rounds))
    return lines


def chart_line(ctx, table):
    m = ctx.machine
    better = {r.better for r in table.rows if r.better}
    a, b = table.columns
    return "%s, %d cores; %s%s vs %s (%s is better)" % (
        m["cpu"], m["cores"], "" if table.host_only else "QEMU %s; " % m["qemu"],
        a, b, better.pop() if len(better) == 1 else "see the table for what")


def write_results(table, ctx, text, outdir):
    os.makedirs(outdir, exist_ok=True)
    md = os.path.join(outdir, table.area + ".md")
    with open(md, "w") as f:
        f.write(text)
    png = os.path.join(outdir, table.area + ".png")
    why = report.write_chart(table, chart_line(ctx, table), png)
    if why:
        log("no chart for %s: %s" % (table.area, why))
        return [md]
    return [md, png]


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.list:
        for name, mod in AREAS.items():
            print("%-10s %s" % (name, mod.TITLE))
        return 0
    names = a.names or list(AREAS)
    # Areas that run on the host alone (hammer2) need no guest.
    need = any(getattr(AREAS[n], "NEEDS_GUESTS", True) for n in names)
    pair = build_guests() if need else (
        guests.Damselfly(why="not built: no area here boots it"),
        guests.Linux(why="not built: no area here boots it"))
    ctx = Context(pair, host.machine(), a.rounds, a.smoke)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    outdir = os.path.join(RESULTS, "smoke") if a.smoke else RESULTS
    failed = []
    for name in names:
        log("area %s" % name)
        load = ("Host 1-minute load average before this area ran: %.2f on %d "
                "cores (other work on the host skews times)"
                % (os.getloadavg()[0], ctx.machine["cores"]))
        table = AREAS[name].run(ctx)
        text = report.markdown(table, context_lines(ctx, when, table) + [load]
                               + table.context)
        print(text, flush=True)
        written = write_results(table, ctx, text, outdir)
        log("wrote " + ", ".join(os.path.relpath(p, ROOT) for p in written))
        failed += ["%s: %s" % (name, m) for m in table.failures()]
    if failed:
        log("FAILED rows:\n  " + "\n  ".join(failed))
        return 1
    if a.smoke:
        print("bench smoke: every table printed, no failed row")
    return 0
