"""The host: Debian packages the bench needs, and what machine this is.

Benchmark-only packages are installed here, not by scripts/setup.sh,
because benchmarks never run in CI's test command. Packages that hold
guest programs (the Linux kernel, busybox, fio, iperf3, nginx) are only
downloaded and unpacked with dpkg-deb, never installed, so no service is
started on the host; only the libraries those programs link against are
installed, so that ldd can find them.

Interface:
  ensure_packages(names, why)   install the missing ones (apt-get)
  download(name, dest)          the candidate .deb of a package, cached
  deb_field(deb, field)         a control field of a .deb
  machine()                     dict: cpu, cores, qemu, host kernel, KVM
  tsc_khz()                     the host's TSC rate (kHz) or None
  short_error(text)             one line of an error, for a table cell
"""
import glob
import os
import platform
import re
import subprocess

from . import dfqemu, log

_updated = False


def run(argv, **kw):
    """Runs a command; raises with its output when it fails."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                   p.stdout.strip()[-600:]))
    return p.stdout


def _sudo():
    return [] if os.geteuid() == 0 else ["sudo"]


def _apt_update():
    global _updated
    if not _updated:
        log("apt-get update")
        run(_sudo() + ["apt-get", "update", "-q"])
        _updated = True


def installed(name):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return "install ok installed" in p.stdout


def ensure_packages(names, why):
    """Installs the packages of names that are missing."""
    missing = sorted(n for n in set(names) if not installed(n))
    if not missing:
        return
    log("installing %s (%s)" % (" ".join(missing), why))
    _apt_update()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(_sudo() + ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
        + missing, env=env)


def candidate(name):
    """(version, pool file name) of the version apt would install."""
    for attempt in range(2):
        p = subprocess.run(["apt-cache", "show", "--no-all-versions", name],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        ver = re.search(r"^Version: (\S+)", p.stdout, re.M)
        fname = re.search(r"^Filename: (\S+)", p.stdout, re.M)
        if ver and fname:
            return ver.group(1), os.path.basename(fname.group(1))
        _apt_update()
    raise RuntimeError("apt knows no package %s" % name)


def download(name, dest):
    """Path of the candidate .deb of package name in dest, downloaded once.

    apt-get download names the file name_version_arch.deb with the
    version's epoch colon written %3a."""
    os.makedirs(dest, exist_ok=True)
    version, _ = candidate(name)
    pattern = os.path.join(dest, "%s_%s_*.deb" % (name, version.replace(":", "%3a")))
    got = glob.glob(pattern)
    if not got:
        log("apt-get download " + name)
        for old in glob.glob(os.path.join(dest, name + "_*.deb")):
            os.unlink(old)
        run(["apt-get", "download", name], cwd=dest)
        got = glob.glob(pattern)
    if len(got) != 1:
        raise RuntimeError("apt-get download %s gave no %s" % (name, pattern))
    return got[0]


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", deb, field]).strip()


def deb_version(deb):
    return deb_field(deb, "Version")


def depends_names(deb):
    """Package names in a .deb's Depends field (first of each alternative)."""
    names = []
    for clause in deb_field(deb, "Depends").split(","):
        first = clause.split("|")[0].strip()
        if first:
            names.append(first.split()[0].split(":")[0])
    return names


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def qemu_version():
    out = run([dfqemu.QEMU, "--version"]).splitlines()[0]
    m = re.search(r"version (\S+)", out)
    return m.group(1) if m else out


def tsc_khz():
    """The host's TSC frequency in kHz, or None when it is not constant.

    Under TCG QEMU's guest TSC is the host's TSC; under KVM it runs at the
    host's rate unless told otherwise. /proc/cpuinfo's "cpu MHz" is the TSC
    rate when the CPU has constant_tsc."""
    mhz, constant = None, False
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz") and mhz is None:
                mhz = float(line.split(":", 1)[1])
            elif line.startswith("flags"):
                constant = "constant_tsc" in line.split()
                break
    return int(round(mhz * 1000)) if mhz and constant else None


def short_error(text, limit=160):
    """One line of a tool's output that says what went wrong."""
    lines = [l.strip() for l in str(text).splitlines() if l.strip()]
    errors = [l for l in lines if "error" in l.lower()]
    line = (errors or lines or ["(no message)"])[0]
    return line if len(line) <= limit else line[:limit - 1] + "…"


def machine():
    usable, kind, why = dfqemu.kvm_backend()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "qemu": qemu_version(),
        "host_kernel": platform.release(),
        "kvm": kind if usable else None,
        "kvm_why": why,
    }
