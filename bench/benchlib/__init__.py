"""Damselfly benchmarks: shared paths and the runner library.

bench/run is the command; this package holds its parts:
  host        Debian packages, the machine's description
  elf         ELF facts (file size, loaded segments, .modinfo)
  cpio        reproducible initramfs archives
  damselfly   building and booting the Damselfly image
  linuxguest  building and booting the Linux guest baseline
  qemurun     one timed boot, one benchmark run, memory bisection
  kbench      the figure lines guests print for in-guest benchmarks
  report      tables (markdown) and charts (PNG)
  areas/      one module per benchmark area ("boot", "sched", ...)
Both guests are started by tools/dfqemu.py, the project's one runner
library, so that the only difference between them is the guest.
"""
import os
import sys

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
BUILD = os.path.join(BENCH, "build")            # Damselfly build tree
WORK = os.path.join(BENCH, "linux-guest", "work")  # Linux guest, built
RESULTS = os.path.join(BENCH, "results")

sys.path.insert(0, os.path.join(ROOT, "tools"))
import dfqemu  # noqa: E402,F401


def log(msg):
    """Progress goes to stderr, so stdout holds only the tables."""
    print("bench: " + msg, file=sys.stderr, flush=True)
