"""A reproducible cpio archive writer (the "newc" format Linux unpacks).

The same inputs always give the same bytes: entries are sorted by path,
every parent directory gets its own entry before its children, inode
numbers are assigned in that order, and owner, group and mtime are fixed
(root, root, SOURCE_DATE_EPOCH or 0). No cpio program and no root
privileges are needed, so device nodes such as /dev/console can be
written too.

Interface:
  a = Archive(); a.copy(); a.dir(path); a.file(path, data, mode); a.symlink(path,
  target); a.chardev(path, major, minor); a.write(fileobj).
  Paths are absolute guest paths ("/bin/busybox"); adding the same path
  twice keeps the last entry.
"""
import os
import stat

MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


class Archive:
    def __init__(self):
        self._entries = {}  # name without leading "/" -> (mode, data, rdev)

    def copy(self):
        """A new archive holding the same entries."""
        other = Archive()
        other._entries = dict(self._entries)
        return other

    def dir(self, path, mode=0o755):
        self._put(path, stat.S_IFDIR | mode, b"", (0, 0))

    def file(self, path, data, mode=0o644):
        self._put(path, stat.S_IFREG | mode, bytes(data), (0, 0))

    def symlink(self, path, target):
        self._put(path, stat.S_IFLNK | 0o777, target.encode(), (0, 0))

    def chardev(self, path, major, minor, mode=0o600):
        self._put(path, stat.S_IFCHR | mode, b"", (major, minor))

    def _put(self, path, mode, data, rdev):
        name = path.strip("/")
        if not name:
            raise ValueError("cpio: empty path")
        self._entries[name] = (mode, data, rdev)
        parent = os.path.dirname(name)
        while parent and parent not in self._entries:
            self._entries[parent] = (stat.S_IFDIR | 0o755, b"", (0, 0))
            parent = os.path.dirname(parent)

    def write(self, out):
        """Writes the archive, trailer included; returns its size in bytes."""
        size = 0
        for ino, name in enumerate(sorted(self._entries), start=1):
            mode, data, rdev = self._entries[name]
            size += _write_entry(out, ino, name, mode, data, rdev)
        size += _write_entry(out, 0, "TRAILER!!!", 0, b"", (0, 0))
        return size


def _write_entry(out, ino, name, mode, data, rdev):
    encoded = name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = (ino, mode, 0, 0, nlink, MTIME, len(data), 0, 0,
              rdev[0], rdev[1], len(encoded), 0)
    header = b"070701" + b"".join(b"%08x" % f for f in fields)
    blob = header + encoded
    blob += b"\0" * (-len(blob) % 4)
    blob += data + b"\0" * (-len(data) % 4)
    out.write(blob)
    return len(blob)
