"""The lines both guests print for in-guest benchmarks, and reading them.

Damselfly's benchmark image (kbench.elf, core/kbench.c) and the Linux
guest's benchmark programs (bench/linux-guest/*.c) print, on the serial
console:

  kbench: <name> <value> <unit>     one figure; value is a decimal number
                                    and may have a fraction ("123.4")
  kbench: done                      the last line: every figure is out

Other console lines (a boot report, kernel messages, a program's
complaints) are ignored. A figure printed twice, or a "kbench:" line that
does not have this form, makes that output unusable for the figure
concerned rather than picking one of the readings.

Interface:
  DONE                       the marker bytes (qemurun waits for them)
  parse(output) -> Figures   output: bytes or str, the whole console
  Figures.done               True when "kbench: done" was printed
  Figures.get(name, unit)    the value, or raises Missing(why)
  Figures.names()            the names printed, in order
"""
import re

DONE = b"kbench: done"
_LINE = re.compile(r"^kbench: (\S+) ([0-9]+(?:\.[0-9]+)?) (\S+)$")


class Missing(Exception):
    """A figure the output does not give; str() says why."""


class Figures:
    def __init__(self):
        self.done = False
        self._values = {}   # name -> [(value, unit)], in output order
        self.bad = []       # "kbench:" lines that are not figures

    def names(self):
        return list(self._values)

    def get(self, name, unit):
        got = self._values.get(name)
        if not got:
            garbled = [l for l in self.bad if name in l]
            if garbled:
                raise Missing("the guest's line for %s is garbled: %r"
                              % (name, garbled[0][:80]))
            raise Missing("the guest printed no %s" % name)
        if len(got) > 1:
            raise Missing("the guest printed %s %d times" % (name, len(got)))
        value, printed_unit = got[0]
        if printed_unit != unit:
            raise Missing("the guest printed %s in %s, not %s"
                          % (name, printed_unit, unit))
        return value


def parse(output):
    """Figures from a guest's console output."""
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    figs = Figures()
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("kbench:"):
            continue
        if line == DONE.decode():
            figs.done = True
            continue
        m = _LINE.match(line)
        if m is None:
            figs.bad.append(line)
            continue
        name, value, unit = m.group(1), float(m.group(2)), m.group(3)
        figs._values.setdefault(name, []).append((value, unit))
    return figs
