#!/usr/bin/env python3
"""The HAMMER2 host programs on the reference images, end to end.

hammer2 get copies each PFS out and the copy must match the MANIFEST
exactly (bytes, directories, the symlink); cat, ls, stat, pfs-list,
volhdr and show print what the images hold; fsck_hammer2 exits 0 on each
image, 1 on a copy with one flipped data byte, 2 when it cannot run, 0
with blocks "to recover" after a (simulated) DragonFly crash, which a
writable command then recovers;
newfs_hammer2 makes volumes that fsck finds clean, with the PFSs and
methods asked for, and refuses bad options; newfs_hammer2 IMAGE DIR
populates a volume from the reference tree and from a tree of special
cases (hard links, FIFOs, sockets, long names, holes), reads back exactly,
and refuses bad trees cleanly; the write commands (put, rm, mkdir,
setcomp, snapshot, pfs-create, pfs-delete, bulkfree) do what they say,
leave fsck clean, and when they fail leave the image untouched.

    cli_test.py HAMMER2 FSCK_HAMMER2 NEWFS_HAMMER2 IMG_DIR MANIFEST
"""
import hashlib
import os
import subprocess
import sys
import tempfile

HAMMER2, FSCK, NEWFS, IMG_DIR, MANIFEST = sys.argv[1:6]
IMGS = {
    "lz4": os.path.join(IMG_DIR, "ref-lz4-xxhash64.img"),
    "zlib": os.path.join(IMG_DIR, "ref-zlib-iscsi32.img"),
    "snap": os.path.join(IMG_DIR, "ref-snapshot.img"),
}
failures = []


def run(*args, rc=0):
    p = subprocess.run(list(args), capture_output=True)
    if p.returncode != rc:
        failures.append("%s: exit %d, wanted %d\n%s" % (
            " ".join(args), p.returncode, rc, p.stderr.decode()[-2000:]))
    return p.stdout


def expect(cond, what):
    if not cond:
        failures.append(what)


def manifest():
    ents = {}
    for line in open(MANIFEST, encoding="utf-8"):
        t, size, h, rest = line.rstrip("\n").split(" ", 3)
        target = None
        if t == "l":
            rest, target = rest.split(" -> ", 1)
        ents[rest] = (t, int(size), h, target)
    return ents


def tree_of(root):
    got = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                t = os.readlink(p)
                got[rel] = ("l", len(t), "-", t)
            elif os.path.isdir(p):
                got[rel] = ("d", 0, "-", None)
            else:
                data = open(p, "rb").read()
                got[rel] = ("f", len(data), hashlib.sha256(data).hexdigest(),
                            None)
    return got


def sparse_copy(src, dst):
    """Copy only the data extents of a sparse file (SEEK_DATA/SEEK_HOLE)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        fo.truncate(size)
        pos = 0
        while pos < size:
            try:
                pos = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fi.fileno(), pos, os.SEEK_HOLE)
            fi.seek(pos)
            fo.seek(pos)
            while pos < end:
                chunk = fi.read(min(end - pos, 1 << 20))
                fo.write(chunk)
                pos += len(chunk)


def check_get(img, spec, missing=()):
    want = manifest()
    for m in missing:
        del want[m]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        run(HAMMER2, "-s", spec, "get", "/", out)
        got = tree_of(out)
        expect(got == want, "%s: get differs from MANIFEST in %d entries" % (
            spec, len(set(got.items()) ^ set(want.items()))))
        st = os.stat(os.path.join(out, "tiny.txt"), follow_symlinks=False) \
            if "tiny.txt" in want else None
        if st is not None:
            expect(int(st.st_mtime) == 1767225600,
                   "%s: mtime not carried over" % spec)
            expect(st.st_mode & 0o777 == 0o644, "%s: mode" % spec)


# fsck: clean images, then a damaged copy.
for name, img in IMGS.items():
    out = run(FSCK, img).decode()
    expect("0 problems" in out, "fsck %s: %s" % (name, out))
out = run(FSCK, "-q", "-a", IMGS["snap"]).decode()
expect(out == "", "fsck -q printed %r on a clean image" % out)
run(FSCK, "/nonexistent", rc=2)
run(FSCK, rc=2)

# Reading everything out.
check_get("lz4", IMGS["lz4"])
check_get("zlib", IMGS["zlib"] + "@DATA")
check_get("snap1", IMGS["snap"] + "@snap1")
check_get("snapdata", IMGS["snap"] + "@DATA",
          missing=("tiny.txt", "big/random-1m.bin"))

# Single commands.
expect(run(HAMMER2, "-s", IMGS["lz4"], "cat", "/tiny.txt") == b"hello\n",
       "cat tiny.txt")
expect(run(HAMMER2, "-s", IMGS["lz4"], "cat", "link-to-tiny") == b"hello\n",
       "cat follows the symlink")
run(HAMMER2, "-s", IMGS["snap"] + "@DATA", "cat", "/tiny.txt", rc=1)
run(HAMMER2, "-s", IMGS["lz4"] + "@NOPE", "ls", "/", rc=1)
run(HAMMER2, "-s", IMGS["lz4"], "cat", "/big", rc=1)
ls = run(HAMMER2, "-s", IMGS["zlib"], "ls", "/names").decode().splitlines()
expect(len(ls) == 4, "ls /names: %r" % ls)
ls = run(HAMMER2, "-s", IMGS["zlib"], "ls", "/many").decode().splitlines()
expect(len(ls) == 2000, "ls /many: %d lines" % len(ls))
ls = run(HAMMER2, "-s", IMGS["lz4"], "ls", "/").decode()
expect("link-to-tiny -> tiny.txt" in ls, "ls shows the symlink target")
st = run(HAMMER2, "-s", IMGS["lz4"], "stat", "big/text-12m.txt").decode()
expect("size       12582912" in st and "2026-01-01 00:00:00" in st,
       "stat: %s" % st)
pl = run(HAMMER2, "-s", IMGS["snap"], "pfs-list").decode()
expect("snapshot" in pl and " snap1" in pl and " DATA" in pl
       and " LOCAL" in pl, "pfs-list: %s" % pl)
vh = run(HAMMER2, "-s", IMGS["lz4"], "volhdr").decode()
expect("5cbb9ad1-862d-11dc-a94d-01301bb8a9f5" in vh and "version        2"
       in vh, "volhdr: %s" % vh[:500])
show = run(HAMMER2, "-s", IMGS["zlib"], "show").decode().splitlines()
expect(len(show) > 4000 and "\"SUPROOT\"" in show[1], "show: %d lines"
       % len(show))
fm = run(HAMMER2, "-s", IMGS["lz4"], "freemap").decode()
expect("freemap_leaf key=0000000000000000/30" in fm and "segment 0x" in fm
       and " allocated" in fm, "freemap: %s" % fm[:500])
alloc = int(fm.split("16 KiB chunks: ")[1].split()[0])
expect(alloc > 900, "freemap allocated chunks: %d" % alloc)
data = [l for l in show if l.lstrip().startswith("data ")]
expect(len(data) > 200, "show lists the data blocks")

# A copy with one flipped byte in a data block: fsck finds it, cat fails.
blk = [l for l in run(HAMMER2, "-s", IMGS["lz4"], "show").decode().splitlines()
       if l.lstrip().startswith("data ") and "/65536" in l][0]
off = int(blk.split("off=")[1].split("/")[0], 16)
with tempfile.TemporaryDirectory() as tmp:
    bad = os.path.join(tmp, "bad.img")
    sparse_copy(IMGS["lz4"], bad)
    with open(bad, "r+b") as f:
        f.seek(off + 10)
        b = f.read(1)
        f.seek(off + 10)
        f.write(bytes([b[0] ^ 0x40]))
    out = run(FSCK, bad, rc=1).decode()
    expect("check failed" in out and "%016x" % off in out,
           "fsck names the block: %s" % out[-800:])
    out = os.path.join(tmp, "out")
    run(HAMMER2, "-s", bad, "get", "/", out, rc=1)


def crc32c(data):
    """CRC-32C (Castagnoli), as HAMMER2's ISCSI32 and header CRCs."""
    if not hasattr(crc32c, "table"):
        crc32c.table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
            crc32c.table.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = crc32c.table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def fake_crash(img, off, freemap_tid):
    """Mark the 16 KiB chunk at off free in the image's only freemap leaf
    and set the header's freemap_tid, resealing every check: what a
    DragonFly crash between its tree and freemap flushes leaves."""
    with open(img, "r+b") as f:
        vd = bytearray(f.read(65536))
        fb = 0x800                      # freemap_blockset.blockref[0]
        expect(vd[fb] == 6, "freemap blockset holds a leaf")
        leaf_off = int.from_bytes(vd[fb + 32:fb + 40], "little") & ~63
        f.seek(leaf_off)
        leaf = bytearray(f.read(32768))
        chunk = (off >> 14) & 255
        q = ((off >> 22) & 255) * 128 + 64 + (chunk >> 5) * 8
        word = int.from_bytes(leaf[q:q + 8], "little")
        word &= ~(3 << ((chunk & 31) * 2))
        leaf[q:q + 8] = word.to_bytes(8, "little")
        f.seek(leaf_off)
        f.write(leaf)
        vd[fb + 64:fb + 68] = crc32c(leaf).to_bytes(4, "little")
        vd[0x90:0x98] = freemap_tid.to_bytes(8, "little")
        vd[0x1F8:0x1FC] = crc32c(vd[512:1024]).to_bytes(4, "little")
        vd[0x1FC:0x200] = crc32c(vd[0:508]).to_bytes(4, "little")
        vd[65532:65536] = crc32c(vd[0:65532]).to_bytes(4, "little")
        f.seek(0)
        f.write(vd)


# After a DragonFly crash (freemap_tid behind mirror_tid 0x11), blocks newer
# than the freemap that it calls free are "to recover": exit 0; a writable
# command recovers them. The same block free with the freemap up to date
# is a problem: exit 1.
with tempfile.TemporaryDirectory() as tmp:
    img = os.path.join(tmp, "crash.img")
    sparse_copy(IMGS["lz4"], img)
    fake_crash(img, off, 0x11)
    out = run(FSCK, img, rc=1).decode()
    expect("marked free in the freemap" in out, "fsck free: %s" % out[-600:])
    fake_crash(img, off, 0x10)
    out = run(FSCK, img).decode()
    expect("0 problems, 1 warnings" in out and "1 blocks to recover" in out
           and "is behind mirror_tid" in out, "fsck recover: %s" % out[-600:])
    out = run(FSCK, "-v", img).decode()
    expect(out.count("marked free in the freemap: to recover") == 1,
           "fsck -v lists the blocks to recover: %s" % out[-600:])
    run(HAMMER2, "-s", img, "mkdir", "/after-crash")
    out = run(FSCK, img).decode()
    expect(" 0 problems, 0 warnings" in out and "recover" not in out,
           "fsck after recovery: %s" % out[-600:])
    expect(run(HAMMER2, "-s", img, "cat", "/big/text-12m.txt")
           == run(HAMMER2, "-s", IMGS["lz4"], "cat", "/big/text-12m.txt"),
           "content after recovery")

# newfs_hammer2.
with tempfile.TemporaryDirectory() as tmp:
    img = os.path.join(tmp, "new.img")
    run(NEWFS, "-s", "1g", "-L", "A", "-L", "B", "-C", "zstd:3", "-K",
        "sha192", img)
    expect(os.path.getsize(img) == 1 << 30, "newfs -s 1g size")
    out = run(FSCK, "-a", img).decode()
    expect("0 problems, 0 warnings" in out and "3 PFSs" in out,
           "fsck of a new volume: %s" % out)
    pl = run(HAMMER2, "-s", img, "pfs-list").decode()
    expect(all(" %s\n" % n in pl for n in ("A", "B", "LOCAL")),
           "newfs labels: %s" % pl)
    st = run(HAMMER2, "-s", img + "@A", "stat", "/").decode()
    expect("comp_algo  zstd:3" in st and "check_algo sha192" in st,
           "newfs methods: %s" % st)
    expect(run(HAMMER2, "-s", img + "@B", "ls", "/") == b"", "empty root")
    run(NEWFS, "-L", "none", img)          # reuses the file's size
    pl = run(HAMMER2, "-s", img, "pfs-list").decode()
    expect(pl.count("\n") == 2 and " LOCAL" in pl, "-L none: %s" % pl)
    run(NEWFS, "-s", "10m", img, rc=1)
    run(NEWFS, "-C", "lzma", img, rc=1)
    run(NEWFS, "-L", "x/y", img, rc=1)
    run(NEWFS, "-L", "a", "-L", "b", "-L", "c", "-L", "d", img, rc=1)
    run(NEWFS, os.path.join(tmp, "missing.img"), rc=1)

# ---- populating from a host tree ----

def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fsck_clean(img, what):
    out = run(FSCK, img).decode()
    expect(" 0 problems" in out, "%s: fsck: %s" % (what, out[-600:]))


TREE = os.path.join(IMG_DIR, "tree")
with tempfile.TemporaryDirectory() as tmp:
    img = os.path.join(tmp, "pop.img")
    out = run(NEWFS, img, TREE).decode()
    expect("populated from" in out and "2026 files" in out,
           "newfs populate: %s" % out[-300:])
    fsck_clean(img, "populated")
    got = os.path.join(tmp, "got")
    run(HAMMER2, "-s", img, "get", "/", got)
    expect(tree_of(got) == tree_of(TREE), "populated tree differs")
    st = run(HAMMER2, "-s", img, "stat", "sizes/rand-65537").decode()
    want = os.stat(os.path.join(TREE, "sizes/rand-65537"))
    expect("size       65537" in st and
           "mode       %04o" % (want.st_mode & 0o7777) in st,
           "populate keeps sizes and modes: %s" % st)

    # Special cases: hard links, FIFO, socket, long names, holes, a
    # dangling symlink, an empty directory, zstd.
    sp = os.path.join(tmp, "special")
    os.makedirs(os.path.join(sp, "empty"))
    os.makedirs(os.path.join(sp, "x" * 255))
    with open(os.path.join(sp, "x" * 255, "y" * 200), "wb") as f:
        f.write(b"long names\n")
    with open(os.path.join(sp, "holes"), "wb") as f:
        f.write(b"start")
        f.seek(5 << 20)
        f.write(b"end")
    with open(os.path.join(sp, "hl1"), "wb") as f:
        f.write(os.urandom(100000))
    os.link(os.path.join(sp, "hl1"), os.path.join(sp, "empty", "hl2"))
    os.mkfifo(os.path.join(sp, "fifo"))
    import socket
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(sp, "sock"))
    os.symlink("no/such/target", os.path.join(sp, "dangling"))
    img2 = os.path.join(tmp, "sp.img")
    out = run(NEWFS, "-C", "zstd", "-L", "STUFF", img2, sp).decode()
    sock.close()
    expect("1 hard links" in out and "3 others" in out,
           "special populate: %s" % out[-300:])
    fsck_clean(img2, "special")
    got2 = os.path.join(tmp, "got2")
    run(HAMMER2, "-s", img2 + "@STUFF", "get", "/", got2)
    for rel in ("holes", "hl1", "empty/hl2", "x" * 255 + "/" + "y" * 200):
        expect(digest(os.path.join(sp, rel)) ==
               digest(os.path.join(got2, rel)), "special: %s" % rel[:20])
    expect(os.readlink(os.path.join(got2, "dangling")) == "no/such/target",
           "dangling symlink")
    st = run(HAMMER2, "-s", img2 + "@STUFF", "stat", "hl1").decode()
    expect("nlinks     2" in st and "comp_algo  zstd" in st,
           "hard link and zstd: %s" % st)
    ls = run(HAMMER2, "-s", img2 + "@STUFF", "ls", "/").decode()
    expect("\np" in "\n" + ls and "\ns" in "\n" + ls, "fifo, socket: %s" % ls)

    # Bad trees and arguments: refused; a tree that does not fit leaves
    # a valid, empty volume.
    run(NEWFS, os.path.join(tmp, "n1.img"), os.path.join(tmp, "nope"), rc=1)
    expect(not os.path.exists(os.path.join(tmp, "n1.img")),
           "no image made for a missing tree")
    run(NEWFS, os.path.join(tmp, "n2.img"), os.path.join(sp, "hl1"), rc=1)
    big = os.path.join(tmp, "bigtree")
    os.makedirs(big)
    with open(os.path.join(big, "r"), "wb") as f:
        f.write(os.urandom(50 << 20))
    small = os.path.join(tmp, "small.img")
    err = subprocess.run([NEWFS, "-s", "64m", small, big],
                         capture_output=True)
    expect(err.returncode == 1 and b"too small" in err.stderr,
           "tree too big: %r" % err.stderr[-300:])
    fsck_clean(small, "too small")
    expect(run(HAMMER2, "-s", small, "ls", "/") == b"",
           "a failed populate leaves an empty volume")
    deep = os.path.join(tmp, "deep")
    os.makedirs(os.path.join(deep, *(["d"] * 300)))
    err = subprocess.run([NEWFS, os.path.join(tmp, "deep.img"), deep],
                         capture_output=True)
    expect(err.returncode == 1 and b"too deep" in err.stderr,
           "deep tree: %r" % err.stderr[-300:])

# ---- the write commands ----

with tempfile.TemporaryDirectory() as tmp:
    img = os.path.join(tmp, "w.img")
    run(NEWFS, "-s", "256m", img)
    run(HAMMER2, "-s", img, "mkdir", "-p", "/a/b/c")
    run(HAMMER2, "-s", img, "mkdir", "/a", rc=1)
    run(HAMMER2, "-s", img, "put", os.path.join(TREE, "big"), "/a/b")
    run(HAMMER2, "-s", img, "put", os.path.join(TREE, "tiny.txt"))
    run(HAMMER2, "-s", img, "put", os.path.join(TREE, "sizes/text-1024"),
        "/tiny.txt")  # replaces a file
    expect(run(HAMMER2, "-s", img, "cat", "/tiny.txt") ==
           open(os.path.join(TREE, "sizes/text-1024"), "rb").read(),
           "put replaces")
    expect(digest(os.path.join(TREE, "big/random-1m.bin")) ==
           hashlib.sha256(run(HAMMER2, "-s", img, "cat",
                              "/a/b/big/random-1m.bin")).hexdigest(),
           "put into a directory")
    run(HAMMER2, "-s", img, "setcomp", "zlib:9", "/a")
    run(HAMMER2, "-s", img, "setcomp", "lzma", "/a", rc=1)
    run(HAMMER2, "-s", img, "setcheck", "sha192", "/a")
    run(HAMMER2, "-s", img, "put", os.path.join(TREE, "big/text-12m.txt"),
        "/a/t")
    show = run(HAMMER2, "-s", img, "show").decode()
    expect("check=sha192 comp=zlib" in show, "setcomp/setcheck apply")
    snap = run(HAMMER2, "-s", img, "snapshot").decode().strip()
    expect(snap.startswith("DATA."), "default snapshot name %r" % snap)
    run(HAMMER2, "-s", img, "snapshot", "s1")
    run(HAMMER2, "-s", img, "snapshot", "s1", rc=1)
    run(HAMMER2, "-s", img, "rm", "/a", rc=1)      # not empty
    run(HAMMER2, "-s", img, "rm", "-r", "/a")
    run(HAMMER2, "-s", img, "rm", "/tiny.txt")
    run(HAMMER2, "-s", img, "rm", "/tiny.txt", rc=1)
    expect(run(HAMMER2, "-s", img, "ls", "/") == b"", "all removed")
    expect(b"random-1m.bin" in run(HAMMER2, "-s", img + "@s1", "ls",
                                   "/a/b/big"), "the snapshot keeps it")
    run(HAMMER2, "-s", img, "pfs-create", "NEW")
    run(HAMMER2, "-s", img, "pfs-create", "NEW", rc=1)
    run(HAMMER2, "-s", img, "pfs-delete", "s1")
    run(HAMMER2, "-s", img, "pfs-delete", snap)
    run(HAMMER2, "-s", img, "pfs-delete", "nope", rc=1)
    pl = run(HAMMER2, "-s", img, "pfs-list").decode()
    expect(" NEW\n" in pl and " s1\n" not in pl, "pfs-list: %s" % pl)
    b1 = run(HAMMER2, "-s", img, "bulkfree").decode()
    b2 = run(HAMMER2, "-s", img, "bulkfree").decode()
    freed = int(b2.split(" freed")[0].split()[-1])
    expect(freed > 300, "second bulkfree frees: %s" % b2)
    fsck_clean(img, "after the write commands")
    # A failed command leaves the image byte for byte as it was.
    before = digest(img)
    run(HAMMER2, "-s", img, "put", os.path.join(tmp, "missing"), rc=1)
    run(HAMMER2, "-s", img, "mkdir", "/x/y/z", rc=1)
    run(HAMMER2, "-s", img, "rm", "/nothing", rc=1)
    run(HAMMER2, "-z", "0", "-s", img, "mkdir", "/q", rc=1)
    run(HAMMER2, "-s", img, "put", rc=1)
    expect(digest(img) == before, "failed commands changed the image")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("cli: all checks passed")
