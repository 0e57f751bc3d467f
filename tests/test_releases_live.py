"""Every release pymap follows, against that release itself, on live
processes: the installed pmap and each build PYMAP_RELEASE_BUILDS names
(3.3.15 ... main; those without a build are not compared), each run as
"pmap" beside pymap run as "pmap" with PYMAP_COMPAT set to its release.

The cases are what a user meets: every mode, several PIDs in one call, a
thread's ID, a zombie, a kernel thread (LIBPROC_HIDE_KERNEL too), PID
arguments in odd forms, 300 PIDs, rc files read and made, a process of
another user's, usage errors.  Targets are C programs (sleep), whose pages
no reader's libraries share, so every column but the Pss family of -X/-XX
compares byte for byte.
"""

import os
import signal
import subprocess
import sys

import pytest

from tests.support import livetools
from tests.support import TIMEOUT

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)]

ORACLES = livetools.oracles()


def _sleep():
    child = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL, env=livetools.base_environ())
    livetools.wait_until_exec(child.pid, b"sleep")
    livetools.wait_asleep(child.pid)
    os.kill(child.pid, signal.SIGSTOP)
    livetools.wait_stopped(child.pid)
    return child


THREADED = r"""
import ctypes, threading, time, os, signal, sys
ready = threading.Event()
def worker():
    sys.stdout.write("%d\n" % threading.get_native_id())
    sys.stdout.flush()
    ready.set()
    time.sleep(3600)
threading.Thread(target=worker, daemon=True).start()
ready.wait()
os.kill(os.getpid(), signal.SIGSTOP)
time.sleep(3600)
"""


@pytest.fixture(scope="module")
def targets():
    """{name: PID}: a stopped sleep, a second one, a zombie, a thread of a
    stopped Python and that Python, a kernel thread (when this namespace
    shows one)."""
    children = []
    zombie = None
    try:
        first, second = _sleep(), _sleep()
        children += [first, second]
        threaded = subprocess.Popen([sys.executable, "-c", THREADED], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, env=livetools.base_environ())
        children.append(threaded)
        thread = int(threaded.stdout.readline())
        livetools.wait_stopped(threaded.pid)
        zombie = os.fork()
        if zombie == 0:
            os._exit(0)
        livetools.wait_zombie(zombie)
        found = {"sleep": first.pid, "other": second.pid, "zombie": zombie, "thread": thread,
                 "python": threaded.pid}
        kernel = livetools.kernel_threads()
        if kernel:
            found["kthread"] = kernel[0]
        yield found
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=TIMEOUT)
        if zombie:
            os.waitpid(zombie, 0)


def _compare(oracle, release, args, environ=None, user=None, cwd=None, launcher=None):
    environ = livetools.base_environ() if environ is None else environ
    kwargs = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    launcher = launcher or os.path.join(livetools.launcher_dir(), "pmap")
    real = subprocess.run(["bash", "-c", 'exec -a pmap "$0" "$@"', oracle] + args, env=environ, cwd=cwd,
                          capture_output=True, timeout=TIMEOUT, **kwargs)
    mine = subprocess.run(["pmap"] + args, executable=launcher,
                          env=dict(environ, PYMAP_COMPAT=release,
                                   PATH=os.path.dirname(launcher) + ":" + environ["PATH"]),
                          cwd=cwd, capture_output=True, timeout=TIMEOUT, **kwargs)
    expected, actual = real.stdout, mine.stdout
    if any(arg.startswith("-X") or arg == "-c" for arg in args):
        heading = None
        if "-q" in args:  # the columns of the same table with its heading
            table = subprocess.run(["bash", "-c", 'exec -a pmap "$0" "$@"', oracle] + [arg for arg in args
                                                                                     if arg != "-q"],
                                   env=environ, cwd=cwd, capture_output=True, timeout=TIMEOUT, **kwargs).stdout
            heading = next((line for line in table.split(b"\n") if b"Size" in line.split()), None)
        expected, actual = livetools.without_pss(expected, heading), livetools.without_pss(actual, heading)
    assert (actual, mine.stderr, mine.returncode) == (expected, real.stderr, real.returncode), (release, args)


MODES = [[], ["-x"], ["-d"], ["-q"], ["-x", "-q"], ["-d", "-q"], ["-X"], ["-XX"], ["-X", "-q"], ["-p"], ["-x", "-p"],
         ["-c"], ["-A", "0,ffffffffffff"]]


@pytest.mark.parametrize("oracle, release", ORACLES, ids=[release for _, release in ORACLES])
def test_every_mode_on_every_kind_of_process(targets, oracle, release):
    names = [name for name in ("sleep", "zombie", "thread", "kthread") if name in targets]
    for locale in ("C", "C.UTF-8"):
        environ = livetools.base_environ(locale)
        for mode in MODES:
            for name in names:
                _compare(oracle, release, mode + [str(targets[name])], environ)
        # several PIDs in one call, one of them missing
        _compare(oracle, release, ["-x"] + [str(targets[name]) for name in names] + ["0x7ffffff0"], environ)
        _compare(oracle, release, ["-X"] + [str(targets["sleep"]), str(targets["other"])], environ)


@pytest.mark.parametrize("oracle, release", ORACLES, ids=[release for _, release in ORACLES])
def test_pid_arguments_and_counts(targets, oracle, release):
    pid = str(targets["sleep"])
    for args in (["/proc/" + pid], ["/proc/self"], ["/proc/"], ["/proc/self", pid], ["0x%x" % int(pid)],
                 ["0" + oct(int(pid))[2:]], [pid, pid, str(targets["thread"]), str(targets["python"])],
                 ["-q"] + [pid] * 300, ["-q"] + [pid] * 255, ["-q"] + [pid] * 256, ["2147483648"], ["+1"],
                 ["-q", "-1"], [" 1"], ["0"]):
        _compare(oracle, release, args)
    if "kthread" in targets:
        environ = livetools.base_environ(LIBPROC_HIDE_KERNEL="1")
        _compare(oracle, release, [str(targets["kthread"])], environ)
        _compare(oracle, release, [str(targets["kthread"]), pid], environ)


@pytest.mark.parametrize("oracle, release", ORACLES, ids=[release for _, release in ORACLES])
def test_rc_files_and_usage(targets, oracle, release, tmp_path):
    pid = str(targets["sleep"])
    home = tmp_path / "home"
    home.mkdir()
    environ = livetools.base_environ(HOME=str(home))
    (home / ".pmaprc").write_bytes(b"[Fields Display]\nRss\nSize\nMapping\n[Mapping]\nShowPath\n")
    _compare(oracle, release, ["-c", pid], environ)
    (home / "rc").write_bytes(b"[Fields Display]\nInode\nSwap\nVmFlags\n[Bogus]\nx y\n")
    _compare(oracle, release, ["-C", str(home / "rc"), pid], environ)
    _compare(oracle, release, ["-C", str(home / "none"), pid], environ)
    for args in (["-h"], ["-V"], [], ["-z"], ["--bogus", pid], ["-x", "-d", pid], ["-n", pid], ["-A"],
                 ["-A", "zz", pid], ["-r", pid], ["-k", pid]):
        if args == ["-V"] and release == "main":
            continue  # a build of the development line names whatever version its build gave it
        _compare(oracle, release, args, environ)
    # creating them: the same messages, and the same file
    for args, made in ((["-n"], ".pmaprc-made"), (["-N", "created"], "created")):
        files = []
        for tool in ("real", "mine"):
            folder = tmp_path / ("%s-%s" % (tool, made))
            folder.mkdir()
            files.append(folder)
        real_home, my_home = files
        real = subprocess.run(["bash", "-c", 'exec -a pmap "$0" "$@"', oracle] + args, cwd=real_home,
                              env=dict(environ, HOME=str(real_home)), capture_output=True, timeout=TIMEOUT)
        mine = subprocess.run(["pmap"] + args, executable=os.path.join(livetools.launcher_dir(), "pmap"),
                              cwd=my_home, env=dict(environ, HOME=str(my_home), PYMAP_COMPAT=release),
                              capture_output=True, timeout=TIMEOUT)
        assert (mine.stdout, mine.stderr, mine.returncode) == (real.stdout, real.stderr, real.returncode), args
        assert sorted(os.listdir(my_home)) == sorted(os.listdir(real_home))
        for name in os.listdir(real_home):
            assert (my_home / name).read_bytes() == (real_home / name).read_bytes(), (args, name)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run both as another user")
@pytest.mark.skipif(livetools.SYSTEM_PYTHON is None, reason="needs a python3 in /usr/bin or /bin any user may run")
@pytest.mark.parametrize("oracle, release", ORACLES, ids=[release for _, release in ORACLES])
def test_another_users_processes(targets, oracle, release):
    """Run as nobody: root's processes are found but their maps cannot be
    read (status 1 after the header), a missing PID adds 42."""
    pid = str(targets["sleep"])
    with livetools.public_folder("pymap-nobody-") as folder:
        launcher = livetools.public_launcher(folder)
        for args in ([pid], ["-x", pid], ["-X", pid], ["-d", "-q", pid, "0x7ffffff0"], [pid, str(targets["zombie"])],
                     ["-x", str(targets["thread"])]):
            _compare(oracle, release, args, livetools.base_environ(HOME=folder), user=livetools.NOBODY, cwd=folder,
                     launcher=launcher)
