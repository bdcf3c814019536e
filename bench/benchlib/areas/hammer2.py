"""Area "hammer2": the HAMMER2 library on the host, beside plain
read/write of the same data on the same file system (issue 5).

No guest is booted. hammer2/bench/h2bench.c (built as bench/build/
hammer2/h2bench, with the reference tree bench/build/hammer2/img/tree
that the hammer2 build makes from ../shared/hammer2-ref) measures both
sides in one process and prints kbench lines (h2bench -k; kbench.py reads
them):
  mixed file   a MIB MiB file (per MiB: 1/2 text-like, 3/8 random, 1/8
               zeros) written through the library into a file-backed
               image (newfs, mount, 1 MiB h2_writes, flush, unmount) and
               read back after a remount, for LZ4, zlib, zstd and none;
               the peer copies the same file with read/write into a plain
               file (then fsync) and reads it back
  tree         the reference tree copied into a volume with each method
               (logical bytes over the bytes of its data blocks: the
               compression ratio; write and read MB/s of the whole
               tree); the peer copies it file by file with read/write
               (then syncfs), reads it back, and its stored bytes are the
               files' st_blocks
Every round runs the plain copy and then each method, so a change in
the host's load touches both sides of a ratio; each figure is the median
of the rounds (min(ctx.rounds, MAX_ROUNDS)).

WORKDIR is a temporary directory on tmpfs (/dev/shm) when it has room:
on these machines the disk is virtual and reads after the host's page
cache is dropped still hit the hypervisor's cache, anywhere from 630 MB/s
to 2.4 GB/s for the same file, which swamps the library's own cost. On
tmpfs both sides copy in RAM and the ratios are the library's CPU cost
(checks, compression, the copy-on-write tree) against plain read/write;
the table says which file system was used.
"""
import os
import subprocess
import tempfile

from .. import BUILD, ROOT, host, kbench
from ..report import Cell, Row, Table

NAME = "hammer2"
TITLE = "HAMMER2 library: write/read throughput and compression, vs plain read/write"
NEEDS_GUESTS = False
COLUMNS = ("HAMMER2 library", "plain read/write")
MAX_ROUNDS = 5
MIB = 1024
SMOKE_MIB = 32
TIMEOUT = 1800  # seconds for h2bench: 1 GiB, 5 rounds, zlib at ~100 MB/s
H2BENCH = os.path.join(BUILD, "hammer2", "h2bench")
TREE = os.path.join(BUILD, "hammer2", "img", "tree")
REF_DIR = os.path.normpath(os.path.join(ROOT, "..", "shared", "hammer2-ref"))
TMPFS = "/dev/shm"
# (h2bench name, label in the table, chart label)
METHODS = [("lz4", "LZ4", "lz4"), ("zlib", "zlib", "zlib"),
           ("zstd", "zstd (extension)", "zstd"), ("none", "no compression", "none")]


def run(ctx):
    t = Table(NAME, TITLE)
    t.columns = COLUMNS
    t.host_only = True
    t.rounds = min(ctx.rounds, MAX_ROUNDS)
    mib = SMOKE_MIB if ctx.smoke else MIB
    why, tree_why = _build(ctx)
    where = "not run"
    if why is None:
        with _workdir(mib) as (workdir, where):
            ctx.log("h2bench: %d MiB, %d round(s), in %s" % (mib, t.rounds, workdir))
            out, why = run_h2bench(mib, t.rounds, workdir,
                                   None if tree_why else TREE)
    else:
        out = ""
    figs = kbench.parse(out)
    add_rows(t, figs, mib, why, tree_why)
    _context(t, mib, where)
    t.notes.append(NOTE)
    return t
NOTE = ("On tmpfs every read and write of both sides is a copy in RAM, so "
        "a ratio under 1 is what the library's work costs beside a plain "
        "copy: block checks (xxhash64), compression, the copy-on-write tree "
        "and the freemap; on a real disk the bytes compression saves would "
        "also count.")


def _build(ctx):
    """(why h2bench is missing or None, why the tree is missing or None)."""
    try:
        if not os.path.exists(os.path.join(BUILD, "build.ninja")):
            ctx.log("configuring %s" % BUILD)
            host.run(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja"])
        ctx.log("building h2bench")
        host.run(["ninja", "-C", BUILD, "h2bench"])
    except (RuntimeError, OSError) as e:
        ctx.log("h2bench did not build:\n%s" % e)
        return Cell.failed("h2bench did not build: " + host.short_error(e)), None
    if not os.path.exists(os.path.join(REF_DIR, "MANIFEST")):
        return None, Cell.cannot("no reference tree: %s is missing" % REF_DIR)
    try:
        host.run(["ninja", "-C", BUILD, "h2_ref_tree"])
    except (RuntimeError, OSError) as e:
        ctx.log("the reference tree did not build:\n%s" % e)
        return None, Cell.failed("the reference tree did not build: "
                                 + host.short_error(e))
    return None, None


class _workdir:
    """A temporary directory on tmpfs when it has room for the source,
    the image and the plain copy; else in the default temporary place."""

    def __init__(self, mib):
        self.need = (3 * mib + 1024) << 20
        self.tmp = None

    def __enter__(self):
        where = None
        try:
            st = os.statvfs(TMPFS)
            if _fs_type(TMPFS) == "tmpfs" and st.f_bavail * st.f_frsize > self.need:
                where = "tmpfs (%s)" % TMPFS
        except OSError:
            pass
        self.tmp = tempfile.TemporaryDirectory(
            prefix="damselfly-bench-hammer2-", dir=TMPFS if where else None)
        if where is None:
            where = "%s on %s (no tmpfs with room: reads after the page cache " \
                    "is dropped may still come from caches below it)" % (
                        self.tmp.name, _fs_type(self.tmp.name) or "?")
        return self.tmp.name, where

    def __exit__(self, *exc):
        self.tmp.cleanup()


def _fs_type(path):
    """The type of the file system holding path, from /proc/mounts."""
    best, kind = "", None
    path = os.path.realpath(path)
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and (path == parts[1] or path.startswith(
                        parts[1].rstrip("/") + "/")) and len(parts[1]) >= len(best):
                    best, kind = parts[1], parts[2]
    except OSError:
        return None
    return kind


def run_h2bench(mib, rounds, workdir, tree):
    """(its stdout, None) or (what it printed, a failed Cell)."""
    argv = [H2BENCH, "-k", "-m", str(mib), "-r", str(rounds), "-d", workdir]
    if tree:
        argv += ["-t", tree]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "", Cell.failed("h2bench did not finish within %d s" % TIMEOUT)
    if p.returncode != 0 or not kbench.parse(p.stdout).done:
        return p.stdout, Cell.failed("h2bench exited with %d: %s" % (
            p.returncode, host.short_error(p.stderr.strip() or p.stdout.strip()
                                           or "no output")))
    return p.stdout, None


def _cell(figs, name, unit):
    try:
        return Cell.value(figs.get("h2bench." + name, unit))
    except kbench.Missing as e:
        return Cell.failed(str(e).replace("the guest", "h2bench"))


def compression_cell(figs, side):
    """logical ÷ stored bytes of the tree as side stored it."""
    try:
        logical = figs.get("h2bench.tree.%s.logical" % side, "bytes")
        stored = figs.get("h2bench.tree.%s.stored" % side, "bytes")
    except kbench.Missing as e:
        return Cell.failed(str(e).replace("the guest", "h2bench"))
    if stored <= 0:
        return Cell.failed("h2bench says the tree's %s copy stores 0 bytes" % side)
    return Cell.value(logical / stored, "{:,.2f}")


def add_rows(t, figs, mib, why=None, tree_why=None):
    """The table's rows from h2bench's figures; why: a Cell for every
    cell when h2bench did not run; tree_why: the same for the tree rows."""
    size = "%d MiB" % mib if mib < 1024 or mib % 1024 else "%d GiB" % (mib // 1024)
    for op in ("write", "read"):
        for m, label, chart in METHODS:
            what = ("write through the library, flush, unmount" if op == "write"
                    else "remount and read through the library")
            plain = ("read/write into a plain file, fsync" if op == "write"
                     else "read the plain file")
            lib, peer = ((why, why) if why else
                         (_cell(figs, "mixed.%s.%s" % (m, op), "MB/s"),
                          _cell(figs, "mixed.plain.%s" % op, "MB/s")))
            t.rows.append(Row("%s mixed file, %s: %s; plain: %s" % (
                size, label, what, plain), "MB/s", "higher", lib, peer,
                "%s %s" % (op, chart)))
    tw = why or tree_why
    for m, label, chart in METHODS:
        lib, peer = ((tw, tw) if tw else
                     (compression_cell(figs, m), compression_cell(figs, "plain")))
        t.rows.append(Row("reference tree, %s: compression ratio, logical ÷ stored "
                          "bytes of file data; plain: its files' st_blocks" % label,
                          "ratio", "higher", lib, peer, "ratio %s" % chart))
        for op in ("write", "read"):
            lib, peer = ((tw, tw) if tw else
                         (_cell(figs, "tree.%s.%s" % (m, op), "MB/s"),
                          _cell(figs, "tree.plain.%s" % op, "MB/s")))
            t.rows.append(Row("reference tree, %s: %s, logical MB/s" % (label, op),
                              "MB/s", "higher", lib, peer, "tree %s %s" % (op, chart)))


def _context(t, mib, where):
    t.context.append(
        "No guest: hammer2/bench/h2bench.c on the host (bench/build/hammer2/"
        "h2bench -k -m %d -r %d -d WORKDIR -t bench/build/hammer2/img/tree), "
        "the library as the host tools link it (-O2, no sanitizers); "
        "WORKDIR on %s" % (mib, t.rounds, where))
    t.context.append(
        "Mixed file: %d MiB, per MiB 1/2 text-like, 3/8 random, 1/8 zeros "
        "(zero blocks become holes in HAMMER2). Library: newfs (check "
        "xxhash64, the method as the PFS's), mount, 1 MiB h2_writes, "
        "h2_flush, unmount; read: the image's cached pages dropped "
        "(fdatasync, POSIX_FADV_DONTNEED), mount, 1 MiB h2_reads. Plain: "
        "the same file copied with 1 MiB read/write into a plain file, "
        "fsync; read back with 1 MiB reads after dropping its pages. Both "
        "writes read the source after dropping its pages; MB/s is 10^6 "
        "bytes of the file a second, open to close" % mib)
    t.context.append(
        "Reference tree: bench/build/hammer2/img/tree, made by the hammer2 "
        "build from ../shared/hammer2-ref (mktree.py, checked against its "
        "MANIFEST): about 2,000 files and 14 MB. Library: a 1 GiB image, "
        "the tree copied in (h2populate, as newfs_hammer2 does), flush; "
        "read: remount, every file read; stored bytes: the data blocks' "
        "sizes (a file under 512 bytes lives in its inode: its size). "
        "Plain: the tree copied file by file with read/write into a "
        "directory of WORKDIR, then syncfs; read back after dropping the "
        "files' pages; stored bytes: the files' st_blocks x 512")
    t.context.append(
        "Each round runs the plain copy, then LZ4, zlib, zstd and none; "
        "each figure is the median of the rounds. One process, one thread; "
        "the host's other work (see the load average) slows both sides")

