"""Helpers for differential tests against the installed /usr/bin/pmap.

Targets are Python children that build their mappings, then stop themselves
with SIGSTOP so their memory does not move between pmap's read and pymap's.
pymap runs through a script named "pmap" first on PATH, so both tools print
the same program name and their messages compare byte for byte.
"""

import atexit
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import ROOT, TIMEOUT
from pymap.compat import RELEASES

PMAP = os.environ.get("PYMAP_ORACLE", "/usr/bin/pmap")


# builds of other procps-ng releases, as pmap-4.0.3 ... pmap-main, in the
# folder PYMAP_RELEASE_BUILDS names (see README, "Testing against other
# releases"); tests that need one skip without it
RELEASE_BUILDS = os.environ.get("PYMAP_RELEASE_BUILDS") or None


def release_build(release):
    """The path of a build of pmap ``release`` ("4.0.3" ... "main"), or None
    (PYMAP_RELEASE_BUILDS unset, or no such build in it)."""
    if RELEASE_BUILDS is None:
        return None
    path = os.path.join(RELEASE_BUILDS, "pmap-" + release)
    return path if os.access(path, os.X_OK) else None


def have_pmap():
    return os.access(PMAP, os.X_OK)


def pmap_version():
    """The installed pmap's release ("4.0.2"), or None."""
    if not have_pmap():
        return None
    output = subprocess.run([PMAP, "-V"], capture_output=True, env=base_environ(), timeout=TIMEOUT).stdout.decode("ascii", "replace")
    return output.strip().rsplit(" ", 1)[-1] if output else None


def is_root():
    return os.geteuid() == 0


def can_unshare():
    if not is_root() or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, env=base_environ(), timeout=TIMEOUT).returncode == 0


_LAUNCHER_DIR = None


def launcher_dir():
    """A folder holding this checkout's launcher as pip installs it: the shell
    half (bin/pymap) as "pmap" and "pymap", and the Python half with this
    interpreter and the checkout first on its path."""
    global _LAUNCHER_DIR
    if _LAUNCHER_DIR is None:
        _LAUNCHER_DIR = tempfile.mkdtemp(prefix="pymap-launcher-")
        atexit.register(shutil.rmtree, _LAUNCHER_DIR, True)
        shutil.copy(os.path.join(ROOT, "bin", "pymap"), os.path.join(_LAUNCHER_DIR, "pmap"))
        os.symlink("pmap", os.path.join(_LAUNCHER_DIR, "pymap"))
        with open(os.path.join(ROOT, "bin", "pymap-python")) as handle:
            body = handle.read().split("\n", 1)[1]
        with open(os.path.join(_LAUNCHER_DIR, "pymap-python"), "w") as handle:
            handle.write("#!%s\nimport sys\nsys.path.insert(1, %r)\n%s" % (sys.executable, ROOT, body))
        for name in ("pmap", "pymap-python"):
            os.chmod(os.path.join(_LAUNCHER_DIR, name), 0o755)
    return _LAUNCHER_DIR


_HOME = None


def scratch_home():
    """An empty HOME for the programs tests run (nothing of the caller's)."""
    global _HOME
    if _HOME is None:
        _HOME = tempfile.mkdtemp(prefix="pymap-home-")
        atexit.register(shutil.rmtree, _HOME, True)
    return _HOME


def base_environ(locale="C", **extra):
    """The whole environment of a program a test runs: nothing is taken from
    the caller's (no PYTHONUNBUFFERED, no LANGUAGE, no HOME of theirs)."""
    environ = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "LANG": locale, "HOME": scratch_home()}
    environ.update(extra)
    return environ


def run_pmap(args, environ=None, **kwargs):
    """Run the real pmap as "pmap ARGS"; returns CompletedProcess (bytes)."""
    environ = base_environ() if environ is None else environ
    return subprocess.run(["pmap"] + list(args), executable=PMAP, env=environ, capture_output=True, **kwargs, timeout=TIMEOUT)


def run_pymap(args, environ=None, compat=None, name="pmap", **kwargs):
    """Run pymap as "NAME ARGS" (NAME found on PATH).  ``compat`` sets
    PYMAP_COMPAT; by default the installed pmap's release."""
    environ = dict(base_environ() if environ is None else environ)
    environ["PATH"] = launcher_dir() + ":" + environ.get("PATH", "")
    if compat is None:
        compat = pmap_version()
    if compat:
        environ["PYMAP_COMPAT"] = compat
    return subprocess.run([name] + list(args), executable=os.path.join(launcher_dir(), name), env=environ,
                          capture_output=True, **kwargs, timeout=TIMEOUT)


def wait_stopped(pid, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid, "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            raise RuntimeError("target %d vanished" % pid)
        if state in (b"T", b"t"):
            return
        if state in (b"Z", b"X"):
            raise RuntimeError("target %d exited" % pid)
        time.sleep(0.01)
    raise RuntimeError("target %d did not stop" % pid)


def wait_until_exec(pid, comm, timeout=20.0):
    """Wait until the child ``pid`` runs the program named ``comm`` (bytes):
    a fresh child is a copy of its parent until its exec."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/comm" % pid, "rb") as handle:
            if handle.read().rstrip(b"\n") == comm:
                return
        time.sleep(0.01)
    raise RuntimeError("process %d did not exec %r" % (pid, comm))


# nanosleep and clock_nanosleep, by machine: what /proc/PID/syscall shows of
# a process asleep in sleep(1)
_SLEEP_CALLS = {"x86_64": (b"35", b"230"), "aarch64": (b"101", b"115"), "riscv64": (b"101", b"115"),
                "ppc64le": (b"162", b"248"), "s390x": (b"162", b"262")}.get(os.uname().machine)


def wait_asleep(pid, timeout=20.0):
    """Wait until ``pid`` (a sleep(1) just started) is blocked in its
    nanosleep: its libraries are mapped and its address space settled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/syscall" % pid, "rb") as handle:
            call = handle.read().split(b" ", 1)[0]
        with open("/proc/%d/wchan" % pid, "rb") as handle:
            wchan = handle.read()
        if (_SLEEP_CALLS is not None and call in _SLEEP_CALLS) or b"nanosleep" in wchan:
            return
        time.sleep(0.01)
    raise RuntimeError("process %d did not fall asleep" % pid)


@contextlib.contextmanager
def stopped_process(code, argv_tail=(), executable=None, **popen):
    """Run ``code`` in a child Python that then stops itself; yield its pid
    while it is stopped, kill it afterwards.  ``argv_tail`` is appended to
    its command line (bytes or str)."""
    script = code + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\nimport time\ntime.sleep(3600)\n"
    argv = [executable or sys.executable, "-c", script] + list(argv_tail)
    popen.setdefault("env", base_environ())
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **popen)
    try:
        wait_stopped(child.pid)
        yield child.pid
    finally:
        child.kill()
        child.wait(timeout=TIMEOUT)


PF_KTHREAD = 0x00200000  # the kernel's flag of a kernel thread, in /proc/PID/stat's flags


def kernel_threads():
    """The PIDs of the kernel threads this PID namespace shows (PF_KTHREAD
    set in /proc/PID/stat's flags; PID 2 is kthreadd only in the first PID
    namespace): long-lived ones first, kworkers (which come and go) last."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        head, _, rest = stat.rpartition(b")")
        fields = rest.split()
        if len(fields) > 6 and int(fields[6]) & PF_KTHREAD:
            found.append((head.partition(b"(")[2].startswith(b"kworker/"), int(name)))
    return [pid for _, pid in sorted(found)]


# 3,000 one-page mappings that the kernel cannot merge, every 14th dirty:
# enough smaps for the streamed and one-pass fast paths to take many blocks
LARGE_TARGET = ("import mmap\nregions = [mmap.mmap(-1, 4096, prot=(mmap.PROT_READ if i % 2 else mmap.PROT_READ | "
                "mmap.PROT_WRITE)) for i in range(3000)]\nfor region in regions[::14]:\n    region.write(b'x')\n")


def large_process():
    """stopped_process() of LARGE_TARGET."""
    return stopped_process(LARGE_TARGET)


@contextlib.contextmanager
def identity_copy(pid, prefix):
    """A /proc-like root (a temporary folder) holding ROOT/PID with a copy of
    the process's stat, status, cmdline and comm, for a test to add maps and
    smaps of its own to and bind-mount over /proc/PID; yields (root, folder)."""
    root = tempfile.mkdtemp(prefix=prefix)
    folder = os.path.join(root, str(pid))
    os.makedirs(folder)
    try:
        for name in ("stat", "status", "cmdline", "comm"):
            with open("/proc/%d/%s" % (pid, name), "rb") as source:
                data = source.read()
            with open(os.path.join(folder, name), "wb") as copy:
                copy.write(data)
        yield root, folder
    finally:
        shutil.rmtree(root, ignore_errors=True)


def oracles(releases=RELEASES):
    """(program, release) of the installed pmap, then of a build of each
    other of ``releases`` this machine has (release_build)."""
    installed = pmap_version()
    found = [(PMAP, installed)]
    for release in releases:
        build = release_build(release)
        if release != installed and build is not None:
            found.append((build, release))
    return found


def bind_mount_command(pid, folder, argv):
    """argv run in a private mount namespace where ``folder`` is bind-mounted
    over /proc/PID (so real pmap reads our files)."""
    inner = 'mount --bind "$1" "/proc/$2" && shift 2 && exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", inner, "sh", folder, str(pid)] + list(argv)


def run_pmap_on_folder(pid, folder, args, environ=None):
    """Real pmap ARGS PID reading ``folder`` as /proc/PID."""
    environ = base_environ() if environ is None else environ
    command = bind_mount_command(pid, folder, ["bash", "-c", 'exec -a pmap "$0" "$@"', PMAP] + list(args) + [str(pid)])
    return subprocess.run(command, env=environ, capture_output=True, timeout=TIMEOUT)


NOBODY = 65534


@contextlib.contextmanager
def public_folder(prefix):
    """A temporary folder under /tmp that every user may enter and read
    (whatever TMPDIR says), removed afterwards."""
    folder = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    try:
        os.chmod(folder, 0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def public_copy_of_pymap(folder):
    """A copy of the pymap package in ``folder`` that any user may read."""
    code = os.path.join(folder, "code")
    shutil.copytree(os.path.join(ROOT, "pymap"), os.path.join(code, "pymap"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for where, _, files in os.walk(code):
        os.chmod(where, 0o755)
        for name in files:
            os.chmod(os.path.join(where, name), 0o644)
    return code


SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def run_as_nobody(code, args):
    """``python3 -m pymap ARGS`` as the user nobody, from the public copy
    ``code`` (public_copy_of_pymap), with the system's python3 (which any
    user may run)."""
    return subprocess.run([SYSTEM_PYTHON, "-m", "pymap"] + [str(arg) for arg in args], cwd=code,
                          capture_output=True, timeout=TIMEOUT, user=NOBODY, group=NOBODY, extra_groups=[],
                          env={"PATH": "/usr/bin:/bin", "LANG": "C", "HOME": code, "PYTHONPATH": code,
                               "PYTHONDONTWRITEBYTECODE": "1"})


def on_terminal(args, environ, columns=None):
    """(status, output) of ``python -m pymap ARGS`` with stdout on a pty
    (``columns`` wide when given), stderr on a pipe."""
    import pty

    controller, terminal = pty.openpty()
    try:
        if columns is not None:
            import fcntl
            import struct
            import termios

            fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        child = subprocess.Popen([sys.executable, "-m", "pymap"] + [str(arg) for arg in args], cwd=ROOT, env=environ,
                                 stdout=terminal, stderr=subprocess.PIPE)
        os.close(terminal)
        terminal = None
        output = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            output += chunk
        child.wait(timeout=TIMEOUT)
        return child.returncode, output
    finally:
        os.close(controller)
        if terminal is not None:
            os.close(terminal)


def public_launcher(folder):
    """A launcher named pmap in ``folder`` (a public_folder) that any user
    may run: the shell half, and a Python half with the system's python3
    and a public copy of the package."""
    code = public_copy_of_pymap(folder)
    bin_folder = os.path.join(folder, "bin")
    os.mkdir(bin_folder)
    os.chmod(bin_folder, 0o755)
    shutil.copy(os.path.join(ROOT, "bin", "pymap"), os.path.join(bin_folder, "pmap"))
    with open(os.path.join(ROOT, "bin", "pymap-python")) as handle:
        body = handle.read().split("\n", 1)[1]
    with open(os.path.join(bin_folder, "pymap-python"), "w") as handle:
        handle.write("#!%s\nimport sys\nsys.path.insert(1, %r)\n%s" % (SYSTEM_PYTHON, code, body))
    for name in ("pmap", "pymap-python"):
        os.chmod(os.path.join(bin_folder, name), 0o755)
    return os.path.join(bin_folder, "pmap")


def wait_zombie(pid, timeout=20.0):
    """Wait until ``pid`` (a child not waited for) is a zombie."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return
        time.sleep(0.01)
    raise RuntimeError("process %d did not become a zombie" % pid)


# -X/-XX columns whose figures move with who else maps the target's pages at
# that moment: Pss, and whether a clean page counts as shared or private (a
# Python reader maps the same libc as sleep; pmap does too, but not as often)
READER_DEPENDENT = {b"Pss", b"Pss_Anon", b"Pss_File", b"Pss_Shmem", b"Pss_Dirty", b"SwapPss", b"Shared_Clean",
                    b"Private_Clean"}


def without_pss(output, heading=None):
    """-X/-XX output with the Pss family blanked (rows, heading and totals);
    ``heading`` names the columns of a -q table, which has none.  (Headings
    may be words of several words, translated; field names are one.)"""
    lines = output.split(b"\n")
    heading = next((line for line in lines if b"Size" in line.split()), heading)
    if heading is None:
        return output
    tokens = heading.split()
    fields = tokens[tokens.index(b"Size"):]
    drop = {index for index, word in enumerate(fields) if word in READER_DEPENDENT}
    kept = []
    for number, line in enumerate(lines):
        parts = line.split()
        if line is heading or line == heading:
            first = len(tokens) - len(fields)  # the heading's words before the fields
        elif parts and (parts[0].startswith(b"=") or parts[-1] == b"KB"):
            first = 0  # the footer: field columns only
        elif number == 0 or len(parts) < 6:
            kept.append(line)
            continue
        else:
            first = 5  # a row: Address, Perm, Offset, Device, Inode, then the fields
        kept.append(b" ".join(part for index, part in enumerate(parts) if index - first not in drop))
    return b"\n".join(kept)
