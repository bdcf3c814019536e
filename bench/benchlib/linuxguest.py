"""The Linux guest baseline, built from Debian packages by the bench.

What a user who does not pick Damselfly would run in the same VM: Debian's
cloud kernel and an initramfs with busybox and the tools the benchmarks
drive (fio, iperf3, nginx). Nothing is downloaded by hand; everything
comes from apt and lands in bench/linux-guest/work/ (git-ignored):

  debs/                 the .deb files (apt-get download), cached by version
  pkg/<name>/           each .deb unpacked with dpkg-deb -x (never installed)
  vmlinux-<kver>_<ver>  the kernel QEMU boots: the bzImage payload is LZ4
                        (legacy frame) and the vmlinux inside carries the
                        PVH note (XEN_ELFNOTE_PHYS32_ENTRY), so -kernel
                        boots it the way it boots a Damselfly image
  initramfs-base.cpio   /init, busybox-static and its applet links, the
                        virtio modules from the kernel package, loaded in
                        the order their .modinfo "depends" fields require
  initramfs-tools.cpio  the same plus fio, iperf3 and nginx with the
                        shared libraries ldd finds for them (~90 MB: fio
                        links Debian's Ceph and GlusterFS libraries), and
                        the bench's scripts that drive them (bench/
                        linux-guest/<name>, busybox sh) as /bench/<name>;
                        /init runs one for bench.run=<name>, as a program
  progs/<name>          the bench's own programs (bench/linux-guest/
                        <name>.c), built with the host's gcc as static
                        binaries: gcc -O2 -static -pthread
  initramfs-progs.cpio  the base archive plus those programs, as
                        /bench/<name>; /init runs one when the kernel
                        command line has bench.run=<name>, then powers off
  manifest.txt          package versions and what went into each archive
The archives are uncompressed newc and reproducible (see cpio.py; the
programs are built from a relative source path without debug
information, so the same gcc and glibc give the same bytes). Boot figures
use the base archive, so that Linux is not charged for loading benchmark
tools it does not need to boot; the benchmarks that drive the tools use
the tools archive, the in-guest benchmarks the progs archive. A program
that does not build does not stop the rest: LinuxGuest.programs_why says
why, and only the areas that need it report failed cells.

Interface:
  build() -> LinuxGuest   builds (or reuses) the kernel, builds the archives
  LinuxGuest.initramfs    {"base": path, "tools": path, "progs": path}
                          ("progs" only when the programs built)
  LinuxGuest.programs     {name: guest path} of the programs built
  LinuxGuest.scripts      {name: guest path} of the scripts in the tools
                          archive (they need fio and the other tools)
  LinuxGuest.archive_of(name)  "progs" or "tools": the archive holding
                          the program or script name, or None
  LinuxGuest.programs_why why there are none, or None
  LinuxGuest.compiler     the gcc that built them ("gcc (Debian ...) 12.2.0")
  LinuxGuest.cmdline(machine, poweroff, run)   the kernel command line
  READY, GUEST_TIME       the ready marker and how to read its timestamp
"""
import glob
import hashlib
import os
import re
import shutil
import struct
import subprocess

from . import BENCH, WORK, cpio, elf, host

KERNEL_META = "linux-image-cloud-amd64"
# Package -> the programs taken from it into the initramfs. busybox goes
# into both archives; the tools only into initramfs-tools.cpio.
PACKAGES = {
    "busybox-static": ["/bin/busybox"],
    "fio": ["/usr/bin/fio"],
    "iperf3": ["/usr/bin/iperf3"],
    "nginx": ["/usr/sbin/nginx"],
}
TOOLS = ["fio", "iperf3", "nginx"]
# The bench's own programs: bench/linux-guest/<name>.c -> /bench/<name>.
PROGRAMS = ["pingpong", "netserve"]
# The bench's scripts that drive the packaged tools (busybox sh):
# bench/linux-guest/<name> -> /bench/<name> in initramfs-tools.cpio.
SCRIPTS = ["blkfio"]
CFLAGS = ["-O2", "-static", "-pthread"]
PROGRAM_DIR = "/bench"
MODULES = ["virtio_ring", "virtio", "virtio_mmio", "virtio_pci", "virtio_blk",
           "failover", "net_failover", "virtio_net"]
INIT = os.path.join(BENCH, "linux-guest", "init")

READY = b"linux-guest: ready"
# The ready line as the kernel prints it: "[    1.234567] linux-guest: ready".
GUEST_TIME = re.compile(rb"\[\s*(\d+)\.(\d{6})\] linux-guest: ready")
XEN_ELFNOTE_PHYS32_ENTRY = 18


class LinuxGuest:
    """A built Linux guest: paths, versions and sizes."""

    def __init__(self, vmlinux, vmlinuz, initramfs, kver, versions,
                 programs, programs_why, compiler, scripts=None):
        self.vmlinux = vmlinux
        self.vmlinuz = vmlinuz
        self.initramfs = initramfs
        self.kver = kver
        self.versions = versions
        self.programs = programs
        self.programs_why = programs_why
        self.compiler = compiler
        self.scripts = scripts or {}

    def archive_of(self, name):
        if name in self.programs:
            return "progs"
        if name in self.scripts:
            return "tools"
        return None

    def cmdline(self, machine, poweroff=True, run=None):
        """console=ttyS0 for the serial console both guests use; quiet, as
        a tuned guest would boot; panic=-1 so a failed boot ends QEMU
        (-no-reboot) instead of hanging the memory bisection. On microvm,
        tsc_early_khz= with the host's TSC rate: there Linux calibrates
        the TSC against the PIT alone (no HPET, no ACPI PM timer), which
        under TCG fails now and then (1 boot in 10-25 here); the TSC is
        then marked unstable and the boot hangs. run: the name of one of
        the bench's programs or scripts, which /init runs after ready
        before it powers off (it needs the archive holding it,
        archive_of(run))."""
        args = ["console=ttyS0", "quiet", "panic=-1"]
        if machine == "microvm" and host.tsc_khz():
            args.append("tsc_early_khz=%d" % host.tsc_khz())
        if run:
            args.append("bench.run=" + run)
        elif poweroff:
            args.append("bench.poweroff=1")
        return " ".join(args)


def build():
    """Builds the Linux guest under WORK; reuses what is already there."""
    host.ensure_packages(["lz4"], "Linux guest: kernel extraction")
    debs = os.path.join(WORK, "debs")
    meta = host.download(KERNEL_META, debs)
    image_pkg = [n for n in host.depends_names(meta)
                 if n.startswith("linux-image-")][0]
    kdeb = host.download(image_pkg, debs)
    versions = {KERNEL_META: host.deb_version(meta),
                image_pkg: host.deb_version(kdeb)}
    kroot = _unpack(kdeb, image_pkg)
    kver = os.listdir(os.path.join(kroot, "lib", "modules"))[0]
    vmlinuz = os.path.join(kroot, "boot", "vmlinuz-" + kver)
    vmlinux = _extract_vmlinux(vmlinuz, os.path.join(
        WORK, "vmlinux-%s_%s" % (kver, versions[image_pkg].replace(":", "%3a"))))
    base, full, manifest, scripts = _initramfs(kroot, kver, debs, versions)
    archives = [("base", base), ("tools", full)]
    progs, programs, why, compiler = _with_programs(base, versions, manifest)
    if programs:
        archives.append(("progs", progs))
    initramfs = {}
    for variant, archive in archives:
        initramfs[variant] = os.path.join(WORK, "initramfs-%s.cpio" % variant)
        _write_archive(archive, initramfs[variant])
    _write_manifest(manifest, versions, initramfs)
    return LinuxGuest(vmlinux, vmlinuz, initramfs, kver, versions, programs,
                      why, compiler, scripts)


def _unpack(deb, name):
    """Unpacks a .deb into WORK/pkg/<name>, once per .deb file."""
    dest = os.path.join(WORK, "pkg", name)
    stamp = os.path.join(dest, ".unpacked-from")
    if os.path.exists(stamp) and open(stamp).read() == os.path.basename(deb):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    host.run(["dpkg-deb", "-x", deb, dest])
    with open(stamp, "w") as f:
        f.write(os.path.basename(deb))
    return dest


def _extract_vmlinux(vmlinuz, out):
    """The vmlinux inside a bzImage whose payload is LZ4-compressed."""
    if os.path.exists(out) and _has_pvh_note(out):
        return out
    for old in glob.glob(os.path.join(os.path.dirname(out), "vmlinux-*")):
        os.unlink(old)
    with open(vmlinuz, "rb") as f:
        bz = f.read()
    if bz[0x202:0x206] != b"HdrS":
        raise RuntimeError("%s is not a bzImage" % vmlinuz)
    setup_sects = bz[0x1f1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", bz, 0x248)
    start = (setup_sects + 1) * 512 + payload_offset
    payload = bz[start:start + payload_length]
    if payload[:4] != b"\x02\x21\x4c\x18":
        raise RuntimeError("bzImage payload is not LZ4 (magic %s)" % payload[:4].hex())
    # The kernel's build appends the decompressed size; lz4 wants it gone.
    size = struct.unpack("<I", payload[-4:])[0]
    with open(out + ".tmp", "wb") as f:
        subprocess.run(["lz4", "-d", "-c", "-q"], input=payload[:-4], stdout=f,
                       check=True)
    if os.path.getsize(out + ".tmp") != size:
        raise RuntimeError("vmlinux: %d bytes, header says %d"
                           % (os.path.getsize(out + ".tmp"), size))
    os.rename(out + ".tmp", out)
    if not _has_pvh_note(out):
        raise RuntimeError("%s has no PVH note: QEMU cannot boot it with -kernel" % out)
    return out


def _has_pvh_note(path):
    return ("Xen", XEN_ELFNOTE_PHYS32_ENTRY) in elf.notes(path)


def _initramfs(kroot, kver, debs, versions):
    """The two archives (base, with tools), a manifest of what went in
    and {name: guest path} of the scripts in the tools archive."""
    manifest = []
    base = cpio.Archive()
    _skeleton(base)
    with open(INIT, "rb") as f:
        base.file("/init", f.read(), 0o755)
    busybox = _add_tool(base, debs, "busybox-static", versions, manifest)
    _add_busybox_links(base, busybox["/bin/busybox"])
    _add_modules(base, kroot, kver, manifest)
    full = base.copy()
    programs = {}
    for pkg in TOOLS:
        programs.update(_add_tool(full, debs, pkg, versions, manifest))
    _add_libraries(full, programs.values(), manifest)
    scripts = _add_scripts(full, manifest)
    return base, full, manifest, scripts


def _add_scripts(a, manifest):
    """SCRIPTS into the tools archive as /bench/<name>."""
    scripts = {}
    for name in SCRIPTS:
        with open(os.path.join(os.path.dirname(INIT), name), "rb") as f:
            data = f.read()
        scripts[name] = "%s/%s" % (PROGRAM_DIR, name)
        a.file(scripts[name], data, 0o755)
        manifest.append("%s  bench/linux-guest/%s (sha256 %s)" % (
            scripts[name], name, hashlib.sha256(data).hexdigest()))
    return scripts


def _with_programs(base, versions, manifest):
    """(archive, {name: guest path}, why not, compiler): the base archive
    plus the bench's programs; a build failure leaves them out."""
    try:
        host.ensure_packages(["gcc", "libc6-dev"],
                             "the Linux guest's programs, linked statically")
        compiler = host.run(["gcc", "--version"]).splitlines()[0]
        versions["libc6-dev"] = host.run(
            ["dpkg-query", "-W", "-f=${Version}", "libc6-dev"]).strip()
        built = {name: _build_program(name) for name in PROGRAMS}
    except (RuntimeError, OSError) as e:
        return None, {}, "did not build: " + host.short_error(e), None
    progs = base.copy()
    programs = {}
    for name, path in built.items():
        programs[name] = "%s/%s" % (PROGRAM_DIR, name)
        with open(path, "rb") as f:
            data = f.read()
        progs.file(programs[name], data, 0o755)
        manifest.append("%s  built from bench/linux-guest/%s.c by %s %s, glibc "
                        "from libc6-dev %s (sha256 %s)" % (
                            programs[name], name, compiler, " ".join(CFLAGS),
                            versions["libc6-dev"], hashlib.sha256(data).hexdigest()))
    return progs, programs, None, compiler


def _build_program(name):
    """gcc CFLAGS: the source by its relative name, so no host path ends
    up in the binary."""
    out = os.path.join(WORK, "progs", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    host.run(["gcc"] + CFLAGS + ["-o", out + ".tmp", name + ".c"],
             cwd=os.path.dirname(INIT))
    os.replace(out + ".tmp", out)
    return out


def _skeleton(a):
    for d in ("/proc", "/sys", "/dev", "/tmp", "/root", "/run", "/etc/bench",
              "/var/log", "/var/lib", "/lib64"):
        a.dir(d)
    a.chardev("/dev/console", 5, 1)
    a.file("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
           b"www-data:x:33:33:www-data:/var/www:/bin/false\n"
           b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    a.file("/etc/group", b"root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n")


def _add_tool(a, debs, pkg, versions, manifest):
    """Adds a package's programs; returns {guest path: host path}."""
    deb = host.download(pkg, debs)
    versions[pkg] = host.deb_version(deb)
    root = _unpack(deb, pkg)
    programs = {}
    for guest_path in PACKAGES[pkg]:
        hpath = root + guest_path
        with open(hpath, "rb") as f:
            a.file(guest_path, f.read(), 0o755)
        programs[guest_path] = hpath
        manifest.append("%s  from %s %s" % (guest_path, pkg, versions[pkg]))
    libs = [n for n in host.depends_names(deb)
            if n.startswith("lib") or n == "zlib1g"]
    host.ensure_packages(libs, "libraries of %s, for ldd" % pkg)
    return programs


def _add_busybox_links(a, busybox):
    out = host.run([busybox, "--list-full"])
    for applet in sorted(out.split()):
        path = "/" + applet
        if path != "/bin/busybox":
            a.symlink(path, "/bin/busybox")


def _ldd(program):
    """[(guest path, host file)] of the shared libraries a program needs."""
    out = host.run(["ldd", program])
    libs = []
    for line in out.splitlines():
        line = line.strip()
        if "not found" in line:
            raise RuntimeError("ldd %s: %s" % (program, line))
        m = re.match(r"(\S+) => (/\S+)", line) or re.match(r"(/\S+) \(", line)
        if m:
            path = m.group(m.lastindex)
            libs.append((path, os.path.realpath(path)))
    return libs


def _add_libraries(a, programs, manifest):
    """Adds what ldd finds; the manifest names each library's package."""
    libs = {}
    for program in programs:
        for guest_path, hfile in _ldd(program):
            libs.setdefault(guest_path, hfile)
    owners = _owners(libs)
    for guest_path, hfile in sorted(libs.items()):
        with open(hfile, "rb") as f:
            a.file(guest_path, f.read(), 0o755)
        manifest.append("%s  from host %s (%s)" % (
            guest_path, hfile, owners.get(guest_path, "package unknown")))


def _owners(libs):
    """{guest path: "package version"} of the host packages holding libs.

    dpkg knows a library by the path its package ships, which on a
    merged-/usr host may be the /usr one."""
    candidates = {}
    for guest_path, hfile in libs.items():
        for c in (guest_path, "/usr" + guest_path, hfile):
            candidates.setdefault(c, guest_path)
    p = subprocess.run(["dpkg", "-S"] + sorted(candidates), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    found = {}
    for line in p.stdout.splitlines():
        pkgs, _, path = line.partition(": ")
        if path in candidates:
            found.setdefault(candidates[path], pkgs.split(",")[0].split(":")[0])
    q = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version}\n"]
                       + sorted(set(found.values())), stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    versions = dict(line.split(" ", 1) for line in q.stdout.splitlines() if " " in line)
    return {g: "%s %s" % (pkg, versions.get(pkg, "?")) for g, pkg in found.items()}


def _add_modules(a, kroot, kver, manifest):
    """Adds MODULES and what they depend on; writes the load order."""
    moddir = os.path.join(kroot, "lib", "modules", kver)
    found = {}
    for dirpath, _, files in os.walk(moddir):
        for fn in files:
            if fn.endswith(".ko"):
                found[fn[:-3].replace("-", "_")] = os.path.join(dirpath, fn)
    order = []
    for name in MODULES:
        _visit(name, found, order, set())
    for name in order:
        rel = os.path.relpath(found[name], moddir)
        with open(found[name], "rb") as f:
            a.file("/lib/modules/%s/%s" % (kver, rel), f.read())
        manifest.append("module %s" % rel)
    listing = "".join(os.path.relpath(found[n], moddir) + "\n" for n in order)
    a.file("/etc/bench/modules", listing.encode())


def _visit(name, found, order, visiting):
    """Depth-first: a module's dependencies come before it."""
    if name in order:
        return
    if name not in found:
        raise RuntimeError("module %s is not in the kernel package" % name)
    if name in visiting:
        raise RuntimeError("module dependency cycle at %s" % name)
    visiting.add(name)
    for dep in ",".join(elf.modinfo(found[name]).get("depends", [])).split(","):
        if dep:
            _visit(dep.replace("-", "_"), found, order, visiting)
    order.append(name)


def _write_archive(archive, path):
    with open(path + ".tmp", "wb") as f:
        archive.write(f)
    os.replace(path + ".tmp", path)


def _write_manifest(manifest, versions, initramfs):
    lines = ["%s %s" % kv for kv in sorted(versions.items())]
    for variant, path in sorted(initramfs.items()):
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        lines.append("%s sha256 %s (%d bytes)" % (os.path.basename(path), digest,
                                                  os.path.getsize(path)))
    lines += manifest
    with open(os.path.join(WORK, "manifest.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
