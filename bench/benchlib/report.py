"""Tables and charts: what a benchmark area reports.

A Table has one Row per metric; a Row has a Cell for each guest. A Cell
is a measured value, or a sentence saying why there is none: "cannot
run here" (the machine lacks something: hardware KVM, vhost-net) or
"failed" (something broke; bench/run then exits non-zero). Every value
in a table is measured by the run that prints it.

The ratio column is Damselfly / Linux guest (first column / second) and
the "better" column says which direction wins: a ratio of 0.10 where
lower is better means Damselfly needs a tenth of what Linux needs.

Interface:
  Cell.value(v, fmt), Cell.cannot(why), Cell.failed(why), Cell.text(s)
  Row(metric, unit, better, damselfly, linux, chart)
  Table(area, title); table.rows.append(row); table.notes.append(s);
      table.context.append(s): a line on how the area ran the guests;
      table.image: the Damselfly image measured, when not the default;
      table.rounds: rounds per guest, when the area ran fewer than asked;
      table.columns: the two columns' names, when they are not the two
          guests (an area on the host: "HAMMER2 library", "plain
          read/write"); table.host_only: no guest was booted
  markdown(table, context) -> str
  write_chart(table, context, path) -> None or why no chart was written
"""
import os
import subprocess

from . import host


COLUMNS = ("Damselfly", "Linux guest")


class Cell:
    def __init__(self, value=None, shown="", failed=False):
        self.number = value
        self.shown = shown
        self.is_failure = failed

    @classmethod
    def value(cls, v, fmt="{:,.1f}"):
        return cls(v, fmt.format(v))

    @classmethod
    def cannot(cls, why):
        return cls(None, "cannot run here: " + why)

    @classmethod
    def failed(cls, why):
        return cls(None, "FAILED: " + why, failed=True)

    @classmethod
    def text(cls, s):
        return cls(None, s)


class Row:
    def __init__(self, metric, unit, better, damselfly, linux, chart=None):
        self.metric = metric
        self.unit = unit
        self.better = better  # "lower", "higher" or None (not compared)
        self.damselfly = damselfly
        self.linux = linux
        self.chart = chart  # short label for the PNG, None: not charted

    def ratio(self):
        """Damselfly / Linux, or a dash when the row has no comparison."""
        d, l = self.damselfly.number, self.linux.number
        if d is None or l is None or not self.better or l == 0:
            return "—"
        return _sig(d / l)


class Table:
    def __init__(self, area, title):
        self.area = area
        self.title = title
        self.rows = []
        self.notes = []
        self.context = []  # how this area started the guests
        self.image = None  # Damselfly image path; None: hello.elf
        self.rounds = None  # rounds per guest, when not bench/run's
        self.columns = COLUMNS  # (first, second): what the cells measure
        self.host_only = False  # True: an area that boots no guest

    def failures(self):
        return [r.metric for r in self.rows
                if r.damselfly.is_failure or r.linux.is_failure]


def _sig(x):
    """A ratio with three significant digits."""
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    if x >= 1:
        return "%.2f" % x
    return "%.3g" % x


def _cell(text):
    return text.replace("|", "\\|")


def markdown(table, context):
    lines = ["## %s: %s" % (table.area, table.title), ""]
    lines += ["- " + c for c in context]
    a, b = table.columns
    short = "Linux" if b == "Linux guest" else b
    lines += ["", "| metric | unit | %s | %s | %s ÷ %s | better |" % (a, b, a, short),
              "| --- | --- | ---: | ---: | ---: | --- |"]
    for r in table.rows:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            _cell(r.metric), r.unit, _cell(r.damselfly.shown),
            _cell(r.linux.shown), r.ratio(), r.better or "—"))
    if table.notes:
        lines += [""] + ["Note: " + n for n in table.notes]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Charts: gnuplot (Debian's gnuplot-nox, installed on first use), one panel
# per unit, Damselfly and Linux side by side for each charted row, log
# scale because the two guests differ by orders of magnitude.

def write_chart(table, context_line, path):
    """Writes a PNG; returns None, or why no chart was written."""
    panels = _panels(table)
    if not panels:
        return "no row has a value for both guests"
    try:
        host.ensure_packages(["gnuplot-nox"], "PNG charts")
    except (RuntimeError, OSError) as e:
        return "gnuplot-nox could not be installed: %s" % str(e)[:200]
    stem = os.path.splitext(path)[0]
    script = _script(table, context_line, panels, stem, path)
    with open(stem + ".gp", "w") as f:
        f.write(script)
    p = subprocess.run(["gnuplot", stem + ".gp"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        return "gnuplot failed (script kept in %s.gp): %s" % (stem, p.stdout.strip()[-300:])
    os.unlink(stem + ".gp")
    return None


def _panels(table):
    """{unit: [(label, damselfly value, linux value)]} in row order."""
    panels = {}
    for r in table.rows:
        d, l = r.damselfly.number, r.linux.number
        if r.chart and (d is not None or l is not None):
            panels.setdefault(r.unit, []).append((r.chart, d, l))
    return panels


def _human(v, unit):
    """A bar's label: bytes in KiB/MiB, other units with 4 digits, or 3
    and k or M from 10,000 on (no exponents)."""
    if unit == "bytes":
        for div, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if v >= div:
                return "%.3g %s" % (v / div, name)
        return "%d B" % v
    shown = "%.4g" % v
    if "e" not in shown or v < 1:
        return shown
    for div, name in ((1e3, "k"), (1e6, "M"), (1e9, "G")):
        shown = "%.3g" % (v / div)
        if "e" not in shown:
            return shown + name
    return "%.3g" % v


def _data(rows, unit):
    def num(v):
        return "-" if v is None else "%.6g" % v

    def text(v):
        return "" if v is None else _human(v, unit)
    return "".join('"%s"\t%s\t%s\t"%s"\t"%s"\n'
                   % (label, num(d), num(l), text(d), text(l))
                   for label, d, l in rows) + "e\n"


def _missing_labels(rows):
    """'n/a' at the foot of every bar without a figure."""
    out = []
    for i, (_, d, l) in enumerate(rows):
        for v, dx in ((d, -0.17), (l, 0.17)):
            if v is None:
                out.append('set label "n/a" at first %g, graph 0.04 center' % (i + dx))
    return out


def _script(table, context_line, panels, stem, path):
    n = len(panels)
    s = ['set terminal pngcairo size 1200,%d font "sans,10" noenhanced' % (340 * n + 60),
         'set output "%s"' % path,
         'set datafile separator "\\t"',
         'set datafile missing "-"',
         "set style data histograms",
         "set style histogram clustered gap 1",
         "set style fill solid 0.85 border -1",
         "set boxwidth 0.9",
         "set logscale y",
         "set grid ytics",
         "set key outside right top",
         "set offsets 0, 0, graph 0.15, 0",
         "set bmargin 6",
         "set xtics rotate by -25",
         'set multiplot layout %d,1 title "%s: %s\\n%s"'
         % (n, table.area, table.title, context_line)]
    plot = ("plot '-' using 2:xtic(1) title '%s' lc rgb '#1f77b4', "
            "'-' using 3 title '%s' lc rgb '#ff7f0e', " % table.columns +
            "'-' using ($0-0.17):2:4 with labels offset 0,0.7 notitle, "
            "'-' using ($0+0.17):3:5 with labels offset 0,0.7 notitle")
    for unit, rows in panels.items():
        s.append("unset label")
        s += _missing_labels(rows)
        s.append('set ylabel "%s"' % unit)
        s.append('set format y "%s"' % ("%.0s%cB" if unit == "bytes" else "%g"))
        s.append(plot)
        s.append(_data(rows, unit) * 4)
    s.append("unset multiplot")
    return "\n".join(s) + "\n"
