"""--capture DIR PID and --proc-root DIR: a snapshot prints what the live
process printed, and snapshot problems are reported clearly."""

import os

import pytest

from tests.support import cgroups, livetools
from pymap.command.cli import run_captured

pytestmark = pytest.mark.live

TARGET = r"""
import ctypes, mmap, threading, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget.argtypes = (ctypes.c_int, ctypes.c_size_t, ctypes.c_int)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
shmid = libc.shmget(0, 65536, 0o1000 | 0o600)
address = libc.shmat(shmid, None, 0)
libc.shmctl(shmid, 0, None)  # IPC_RMID now: gone with the process
ctypes.memset(address, 1, 8192)
anonymous = mmap.mmap(-1, 1 << 20)
anonymous.write(b"x" * 300000)
thread = threading.Thread(target=time.sleep, args=(3600,), daemon=True)
thread.start()
"""

# a capture saves the memory cgroups' files in a folder of their own, where the machine has them
CGROUP_FOLDER = ["cgroup"] if cgroups.has_memory_cgroup() else []
ENVIRON = {b"LANG": b"C", b"PATH": b"/usr/bin:/bin", b"HOME": b"/nonexistent"}
# columns that move whenever another process (pymap, pmap) maps the same
# libraries as the target: proportional sizes, and the shared/private split
# (a page mapped once more turns from Private_Clean into Shared_Clean)
PSS_FAMILY = ("Pss", "Pss_Anon", "Pss_File", "Pss_Shmem", "Pss_Dirty", "SwapPss")
SHARING = PSS_FAMILY + ("Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty")


def pymap(*args, environ=ENVIRON):
    argv = [b"pmap"] + [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
    return run_captured(argv, environ)


@pytest.fixture(scope="module")
def target():
    with livetools.stopped_process(TARGET) as pid:
        yield pid


@pytest.fixture(scope="module")
def snapshot(target, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("capture") / "snap")
    status, stdout, stderr = pymap("--capture", folder, target)
    assert (status, stdout, stderr) == (0, b"", b"")
    return folder


def without_sharing(output, columns):
    """-X/-XX output with these columns left out."""
    lines = output.split(b"\n")
    header = lines[1].split()
    first_number = header.index(b"Size")
    drop = {index for index, name in enumerate(header) if name.decode() in columns}
    kept = [lines[0]]
    for line in lines[1:]:
        tokens = line.split()
        offset = 0 if len(tokens) >= len(header) - 1 else first_number
        kept.append(b" ".join(token for index, token in enumerate(tokens) if index + offset not in drop))
    return b"\n".join(kept)


def files_in(folder):
    """{path relative to folder: bytes} of every file below it."""
    found = {}
    for where, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(where, name), "rb") as handle:
                found[os.path.relpath(os.path.join(where, name), folder)] = handle.read()
    return found


def test_capture_writes_the_files_pmap_reads(snapshot, target):
    folder = os.path.join(snapshot, str(target))
    assert sorted(os.listdir(folder)) == sorted(
        ["cmdline", "comm", "stat", "status", "maps", "smaps", "oom_score", "oom_score_adj", "cgroup", "captured_at",
         "task", "mem_samples"]
        + (["smaps_rollup"] if os.path.exists("/proc/%d/smaps_rollup" % target) else []))
    assert sorted(os.listdir(snapshot)) == sorted(["meminfo", str(target)] + CGROUP_FOLDER)
    # each thread's syscall line (the roles' stack pointers: every thread
    # of a stopped process gives one), nothing else
    threads = sorted(os.listdir("/proc/%d/task" % target))
    assert len(threads) == 2 and sorted(os.listdir(os.path.join(folder, "task"))) == threads
    for tid in threads:
        assert os.listdir(os.path.join(folder, "task", tid)) == ["syscall"]
    for where, folders, names in os.walk(folder):
        assert os.stat(where).st_mode & 0o777 == 0o700
        for name in names:
            assert os.stat(os.path.join(where, name)).st_mode & 0o777 == 0o600
    with open(os.path.join(folder, "smaps"), "rb") as handle:
        smaps = handle.read()
    with open(os.path.join(folder, "maps"), "rb") as handle:
        maps = handle.read()
    headers = [line + b"\n" for line in smaps.split(b"\n") if line and not line[:1].isupper()]
    assert maps == b"".join(headers)
    with open("/proc/%d/maps" % target, "rb") as handle:
        assert handle.read() == maps  # a stopped process: the same lines live


@pytest.mark.parametrize("mode", [[], ["-x"], ["-d"], ["-q"], ["-p", "-x"]], ids=str)
def test_snapshot_prints_what_live_pymap_prints(snapshot, target, mode):
    live = pymap(*mode, target)
    saved = pymap("--proc-root", snapshot, *mode, target)
    assert saved == live
    assert saved[0] == 0


def _without_pss(figures):
    """A --reconcile --json object without what moves with who reads the
    target's shared pages (Pss, and the rollup-minus-smaps Pss gap)."""
    for source in ("smaps", "smaps_rollup"):
        figures[source].pop("Pss", None)
    figures["gaps"] = [gap for gap in figures["gaps"] if "Pss" not in gap["name"]]
    return figures


def test_snapshot_reconciles_as_the_live_process(tmp_path):
    """Everything --reconcile reads is captured: the OOM view and every
    figure but Pss are the live process's (a C target: sleep)."""
    import json
    import signal
    import subprocess

    child = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL, env=livetools.base_environ())
    try:
        livetools.wait_until_exec(child.pid, b"sleep")
        os.kill(child.pid, signal.SIGSTOP)
        livetools.wait_stopped(child.pid)
        folder = str(tmp_path / "snap")
        assert pymap("--capture", folder, child.pid) == (0, b"", b"")
        live = pymap("--reconcile", "--json", child.pid)
        saved = pymap("--proc-root", folder, "--reconcile", "--json", child.pid)
        assert live[0] == saved[0] == 0
        live_figures, saved_figures = json.loads(live[1]), json.loads(saved[1])
        assert saved_figures["missing"] == [] and saved_figures["oom"]["predicted_oom_score"] is not None
        assert _without_pss(saved_figures) == _without_pss(live_figures)
        text = pymap("--proc-root", folder, "--reconcile", child.pid)[1]
        assert b"cannot be computed" not in text and b"Missing files" not in text
    finally:
        child.kill()
        child.wait(timeout=livetools.TIMEOUT)


def test_snapshot_shows_the_sysv_segment(snapshot, target):
    status, stdout, _ = pymap("--proc-root", snapshot, "-x", target)
    assert status == 0
    assert b"[ shmid=0x" in stdout


@pytest.mark.skipif(not livetools.have_pmap(), reason="no /usr/bin/pmap")
@pytest.mark.parametrize("mode", [[], ["-x"], ["-d"]], ids=str)
def test_snapshot_prints_what_live_pmap_prints(snapshot, target, mode):
    live = livetools.run_pmap(mode + [str(target)])
    saved = livetools.run_pymap(["--proc-root", snapshot] + mode + [str(target)])
    assert saved.stdout == live.stdout
    assert (saved.returncode, saved.stderr) == (live.returncode, live.stderr)


@pytest.mark.skipif(not livetools.have_pmap(), reason="no /usr/bin/pmap")
@pytest.mark.parametrize("mode,columns", [(["-X"], PSS_FAMILY), (["-XX"], SHARING)], ids=str)
def test_snapshot_extended_table_matches_live_pmap_but_sharing(snapshot, target, mode, columns):
    live = livetools.run_pmap(mode + [str(target)])
    saved = livetools.run_pymap(["--proc-root", snapshot] + mode + [str(target)])
    assert live.returncode == saved.returncode == 0
    assert without_sharing(saved.stdout, columns) == without_sharing(live.stdout, columns)
    assert len(saved.stdout.split(b"\n")) == len(live.stdout.split(b"\n"))


def test_thread_id_is_captured_with_its_leader(target, tmp_path):
    threads = sorted(int(name) for name in os.listdir("/proc/%d/task" % target) if int(name) != target)
    assert threads
    thread = threads[0]
    folder = str(tmp_path / "snap")
    assert pymap("--capture", folder, thread) == (0, b"", b"")
    assert sorted(os.listdir(folder)) == sorted([str(thread), str(target), "meminfo"] + CGROUP_FOLDER)
    assert "smaps" not in os.listdir(os.path.join(folder, str(thread)))
    with open(os.path.join(folder, str(thread), "status"), "rb") as handle:
        assert b"Tgid:\t%d\n" % target in handle.read()
    for mode in ([], ["-x"], ["-d"]):
        saved = pymap("--proc-root", folder, *mode, thread)
        assert saved == pymap(*mode, thread)
        assert saved[1].startswith(b"%d:   " % target)
    if livetools.have_pmap():
        live = livetools.run_pmap(["-x", str(thread)])
        saved = livetools.run_pymap(["--proc-root", folder, "-x", str(thread)])
        assert (saved.returncode, saved.stdout) == (live.returncode, live.stdout)


def test_capture_keeps_a_long_command_line_as_procps_reads_it(tmp_path):
    """A command line longer than procps's 128 KiB buffer is saved cut where
    procps cuts it (not refused), and the snapshot's header is live pmap's."""
    arguments = [bytes([65 + i]) * 100_000 for i in range(3)]  # 300 kB in three arguments
    with livetools.stopped_process("", argv_tail=arguments) as pid:
        folder = str(tmp_path / "snap")
        assert pymap("--capture", folder, pid) == (0, b"", b"")
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            live = handle.read()
        with open(os.path.join(folder, str(pid), "cmdline"), "rb") as handle:
            saved = handle.read()
        assert len(live) > 300_000 and saved == live[:128 * 1024 - 1]
        for mode in ([], ["-x"]):
            assert pymap("--proc-root", folder, "-q", *mode, pid)[:2] == pymap("-q", *mode, pid)[:2]
            if livetools.have_pmap():
                expected = livetools.run_pmap(["-q"] + mode + [str(pid)])
                assert livetools.run_pymap(["--proc-root", folder, "-q"] + mode + [str(pid)]).stdout == \
                    expected.stdout


@pytest.mark.parametrize("name", [b"status", b"cmdline", b"comm"])
def test_capture_with_an_unreadable_identity_file_is_not_committed(tmp_path, monkeypatch, target, name):
    """A folder that misses a file the live process had would read as
    another process (no command line: "[comm]", status 0): it is not
    committed, the file is named, status 1, and nothing is left behind."""
    from pymap.errors import UnreadableProcess
    from pymap.source import ProcRoot

    real = ProcRoot.read

    def failing(root, pid, file_name, *args, **kwargs):
        if file_name == name and pid == target:
            raise UnreadableProcess(pid, "/proc/%d/%s" % (pid, name.decode()), "Input/output error")
        return real(root, pid, file_name, *args, **kwargs)

    monkeypatch.setattr(ProcRoot, "read", failing)
    folder = str(tmp_path / "snap")
    status, stdout, stderr = pymap("--capture", folder, target)
    assert (status, stdout) == (1, b"")
    assert stderr == (b"pmap: /proc/%d/%s: Input/output error\npmap: %s/%d: not saved: files of the process could "
                      b"not be read\n" % (target, name, folder.encode(), target))
    assert os.listdir(folder) == ["meminfo"]
    assert pymap("--proc-root", folder, target)[0] == 42


def test_capture_never_overwrites(snapshot, target):
    folder = os.path.join(snapshot, str(target))
    before = files_in(folder)
    status, stdout, stderr = pymap("--capture", snapshot, target)
    assert status == 1 and stdout == b""
    assert stderr == b"pmap: %s/%d/cmdline: already exists (pymap never overwrites a snapshot)\n" % (
        snapshot.encode(), target)
    assert files_in(folder) == before


def test_capture_does_not_follow_links_inside_the_folder(target, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "snap"
    folder.mkdir()
    os.symlink(str(elsewhere), str(folder / str(target)))
    status, _, stderr = pymap("--capture", str(folder), target)
    assert status == 1
    assert b"%d: not a directory" % target in stderr
    assert os.listdir(str(elsewhere)) == []

    folder2 = tmp_path / "snap2"
    (folder2 / str(target)).mkdir(parents=True)
    os.symlink(str(elsewhere / "victim"), str(folder2 / str(target) / "smaps"))
    status, _, stderr = pymap("--capture", str(folder2), target)
    assert status == 1
    assert b"/smaps: already exists" in stderr
    assert os.listdir(str(elsewhere)) == []
    assert os.listdir(str(folder2 / str(target))) == ["smaps"]


def test_capture_of_a_missing_pid_is_not_found(tmp_path, target):
    missing = 0x7FFFFFF0
    assert not os.path.exists("/proc/%d" % missing)
    status, stdout, stderr = pymap("--capture", str(tmp_path / "snap"), missing, target)
    assert (status, stdout, stderr) == (42, b"", b"")
    assert sorted(os.listdir(str(tmp_path / "snap"))) == sorted([str(target), "meminfo"] + CGROUP_FOLDER)


def test_capture_refuses_display_modes(tmp_path, target):
    status, _, stderr = pymap("--capture", str(tmp_path), "-x", target)
    assert status == 1
    assert stderr == (b"pmap: option --capture is mutually exclusive with -c, -C, -d, -x, -X, --json, --reconcile, "
                      b"--diff, --summary, --oom-report\n")


def test_capture_of_a_snapshot_copies_it(snapshot, target, tmp_path):
    copy = str(tmp_path / "copy")
    assert pymap("--proc-root", snapshot, "--capture", copy, target) == (0, b"", b"")
    assert files_in(os.path.join(copy, str(target))) == files_in(os.path.join(snapshot, str(target)))


# --proc-root on broken snapshots

@pytest.fixture()
def broken(snapshot, target, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    copy = str(folder)
    assert pymap("--proc-root", snapshot, "--capture", copy, target)[0] == 0
    return copy


@pytest.mark.parametrize("mode,missing", [([], "maps"), (["-x"], "smaps"), (["-d"], "maps"), (["-X"], "smaps")])
def test_missing_map_file_names_it(broken, target, mode, missing):
    os.unlink(os.path.join(broken, str(target), missing))
    status, stdout, stderr = pymap("--proc-root", broken, *mode, target)
    assert status == 1
    header = pymap("--proc-root", broken, "-q", "-d", target)[1] if missing == "smaps" else None
    assert stdout.startswith(b"%d:   " % target) and stdout.count(b"\n") == 1
    if header is not None:
        assert stdout == header.split(b"\n")[0] + b"\n"
    assert stderr == b"pmap: %s/%d/%s: No such file or directory\n" % (broken.encode(), target, missing.encode())


def test_missing_stat_names_it_and_is_not_found(broken, target):
    os.unlink(os.path.join(broken, str(target), "stat"))
    status, stdout, stderr = pymap("--proc-root", broken, target)
    assert (status, stdout) == (42, b"")
    assert stderr == b"pmap: %s/%d/stat: No such file or directory\n" % (broken.encode(), target)


def test_missing_pid_folder_is_silent_42(broken):
    assert pymap("--proc-root", broken, 0x7FFFFFF0) == (42, b"", b"")


def test_unreadable_and_missing_together(broken, target):
    os.unlink(os.path.join(broken, str(target), "maps"))
    status, _, _ = pymap("--proc-root", broken, target, 0x7FFFFFF0)
    assert status == 42 | 1


@pytest.mark.parametrize("mode", [[], ["-x"], ["-X"], ["--json"], ["--reconcile"], ["--capture"]], ids=str)
def test_proc_root_that_is_no_folder_is_named(tmp_path, mode):
    """A typo in --proc-root does not pass for dead processes: the folder
    and the reason (and status 42: none of the PIDs is there)."""
    if mode == ["--capture"]:
        mode = mode + [str(tmp_path / "capture")]
    missing = str(tmp_path / "no such dir")
    assert pymap("--proc-root", missing, *mode, 1) == (
        42, b"", b"pmap: --proc-root %s: No such file or directory\n" % missing.encode())
    plain = tmp_path / "a file"
    plain.write_bytes(b"")
    assert pymap("--proc-root", str(plain), *mode, 1) == (
        42, b"", b"pmap: --proc-root %s: Not a directory\n" % str(plain).encode())
    (tmp_path / "link").symlink_to(tmp_path)  # a link to a folder is the caller's choice
    assert pymap("--proc-root", str(tmp_path / "link"), *mode, 1)[0] == 42


# --proc-root on odd snapshots: PID names, thread folders, another user's capture

def test_only_canonical_pid_names_are_processes(snapshot, target, tmp_path):
    """/proc writes a PID in decimal without leading zeros: a snapshot's
    "0PID" and "00PID" folders are no processes (one process counted three
    times would triple the totals)."""
    import json
    import shutil

    root = tmp_path / "proc"
    shutil.copytree(snapshot, root)
    for name in ("0%d" % target, "00%d" % target):
        shutil.copytree(os.path.join(snapshot, str(target)), root / name)
    rows = [json.loads(line) for line in pymap("--summary", "--json", "--proc-root", str(root))[1].splitlines()]
    assert [row["pid"] for row in rows[:-1]] == [target]
    assert rows[-1]["processes"] == 1 and rows[-1]["unreadable"] == 0
    alone = [json.loads(line) for line in pymap("--summary", "--json", "--proc-root", snapshot)[1].splitlines()]
    assert rows[-1]["totals"] == alone[-1]["totals"]


def test_a_captured_thread_reads_back_as_its_process(target, tmp_path):
    """pymap's capture of a thread's ID holds the thread's folder (no smaps of
    its own) beside its process's: --summary lists the process once, as the
    live /proc listing does, and a named thread shows its process's memory."""
    import json

    thread = min(int(name) for name in os.listdir("/proc/%d/task" % target) if int(name) != target)
    folder = str(tmp_path / "snap")
    assert pymap("--capture", folder, thread) == (0, b"", b"")
    status, stdout, stderr = pymap("--summary", "--json", "--proc-root", folder)
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert (status, stderr) == (0, b"")
    assert [row["pid"] for row in rows[:-1]] == [target] and rows[-1]["unreadable"] == 0
    status, stdout, stderr = pymap("--summary", "--json", "-q", "--proc-root", folder, thread)
    named = json.loads(stdout)
    assert (status, stderr) == (0, b"") and named["pid"] == thread
    assert {key: named[key] for key in ("Rss", "Pss", "Uss", "Swap", "oom_score", "oom_score_adj")} == \
        {key: rows[0][key] for key in ("Rss", "Pss", "Uss", "Swap", "oom_score", "oom_score_adj")}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to read a capture as another user")
@pytest.mark.skipif(livetools.SYSTEM_PYTHON is None, reason="needs a python3 in /usr/bin or /bin any user may run")
def test_another_users_capture_says_permission_denied(snapshot, target):
    """A capture only root may read, read by nobody: every mode names the
    folder and the reason, status 1 (its processes may well be there)."""
    with livetools.public_folder("pymap-private-") as folder:
        code = livetools.public_copy_of_pymap(folder)
        private = os.path.join(folder, "private")
        os.mkdir(private, 0o700)
        capture = os.path.join(private, "cap")
        assert pymap("--proc-root", snapshot, "--capture", capture, target)[0] == 0
        for args in (["--proc-root", capture], ["--proc-root", capture, "-x"], ["--proc-root", capture, "--summary"],
                     ["--proc-root", capture, "--reconcile"], ["--diff", capture]):
            result = livetools.run_as_nobody(code, args + [target])
            assert (result.returncode, result.stdout, result.stderr) == (
                1, b"", b"pymap: %s %s: Permission denied\n" % (args[0].encode(), capture.encode())), args
        # a PID folder (not the root) another user may not enter: named, and not found, as pmap finds no stat
        os.chmod(private, 0o755)
        os.chmod(capture, 0o755)
        result = livetools.run_as_nobody(code, ["--proc-root", capture, "-x", target])
        assert (result.returncode, result.stdout, result.stderr) == (
            42, b"", b"pymap: %s/%d/stat: Permission denied\n" % (capture.encode(), target))


def test_a_pid_folder_that_is_a_link_is_named(snapshot, target, tmp_path):
    """--summary and --diff say that a snapshot's PID folder is a link, not
    that the process exited while it was read."""
    root = tmp_path / "proc"
    root.mkdir()
    os.symlink(os.path.join(snapshot, str(target)), str(root / str(target)))
    reason = b"a symbolic link (pymap follows none below --proc-root)"
    status, stdout, stderr = pymap("--summary", "--proc-root", str(root))
    assert (status, stderr) == (0, b"pmap: 1 process could not be read: %s/%d: %s\n" % (bytes(root), target, reason))
    status, stdout, stderr = pymap("--summary", "--proc-root", str(root), target)
    assert (status, stderr) == (1, b"pmap: 1 process could not be read: %s/%d: %s\n" % (bytes(root), target, reason))
    status, stdout, stderr = pymap("--diff", str(root), "--proc-root", snapshot, target)
    assert (status, stderr) == (1, b"pmap: %s/%d: %s\n" % (bytes(root), target, reason))
    assert stdout == pymap("--proc-root", snapshot, "-q", "-d", target)[1].split(b"\n")[0] + b"\n"
    assert pymap("--proc-root", str(root), "-x", target) == (42, b"", b"pmap: %s/%d: %s\n" % (bytes(root), target,
                                                                                              reason))
