"""What the bench needs to know about ELF files, read with struct.

Interface:
  load_sizes(path)       (file bytes, sum of PT_LOAD p_filesz, of p_memsz)
  section(path, name)    the bytes of a named section, or None
  modinfo(path)          a kernel module's .modinfo as a dict of lists
Only 64-bit little-endian ELF is read (both kernels are x86_64).
"""
import os
import struct

PT_LOAD = 1


def _header(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    return struct.unpack_from("<HHIQQQIHHHHHH", data, 16)


def load_sizes(path):
    with open(path, "rb") as f:
        data = f.read()
    h = _header(data)
    phoff, phentsize, phnum = h[4], h[8], h[9]
    filesz = memsz = 0
    for i in range(phnum):
        p = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p[0] == PT_LOAD:
            filesz += p[5]
            memsz += p[6]
    return os.path.getsize(path), filesz, memsz


def section(path, name):
    with open(path, "rb") as f:
        data = f.read()
    h = _header(data)
    shoff, shentsize, shnum, shstrndx = h[5], h[10], h[11], h[12]

    def shdr(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = shdr(shstrndx)
    for i in range(shnum):
        s = shdr(i)
        start = strtab[4] + s[0]
        sname = data[start:data.index(b"\0", start)].decode()
        if sname == name:
            return data[s[4]:s[4] + s[5]]
    return None


def modinfo(path):
    info = {}
    raw = section(path, ".modinfo") or b""
    for item in raw.split(b"\0"):
        if b"=" in item:
            key, value = item.decode(errors="replace").split("=", 1)
            info.setdefault(key, []).append(value)
    return info


PT_NOTE = 4


def notes(path):
    """(owner, type) of every note in the PT_NOTE segments."""
    with open(path, "rb") as f:
        data = f.read()
    h = _header(data)
    phoff, phentsize, phnum = h[4], h[8], h[9]
    found = []
    for i in range(phnum):
        p = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p[0] == PT_NOTE:
            found += _parse_notes(data[p[2]:p[2] + p[5]])
    return found


def _parse_notes(blob):
    found, off = [], 0
    while off + 12 <= len(blob):
        namesz, descsz, ntype = struct.unpack_from("<III", blob, off)
        off += 12
        owner = blob[off:off + namesz].rstrip(b"\0").decode(errors="replace")
        off += (namesz + 3) & ~3
        off += (descsz + 3) & ~3
        found.append((owner, ntype))
    return found
