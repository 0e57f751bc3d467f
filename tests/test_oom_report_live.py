"""pymap --oom-report on the running kernel's log: a real OOM kill in a
memory cgroup the test makes, named with the kernel's own numbers; what
user space writes to /dev/kmsg is not taken for the kernel's report;
/dev/kmsg and the dmesg fallback agree; a reader without the right gets
one line.

The oracles are the kernel's: which child died by SIGKILL, the cgroup's
oom_kill count, the "Killed process" lines as `dmesg` prints them (read
here with this file's own pattern), the oom_score_adj each child was
given and its /proc/PID/status before the kill.
"""

import calendar
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from pymap import source
from pymap.source import kernel_log
from pymap.command.cli import run_captured
from tests.support import TIMEOUT
from tests.support import livetools

pytestmark = pytest.mark.live

MEMORY = "/sys/fs/cgroup/memory"
LIMIT = 64 << 20
FILL = 48  # MiB of tmpfs file the writer makes: more than the room left, less than after two kills
HOLDER_MIB = 24
ADJ = {"sleep": 900, "holder": 100}  # oom_score_adj here may only be raised (0 and up)
ENVIRON = {b"PATH": b"/usr/bin:/bin:/usr/sbin:/sbin", b"LANG": b"C.UTF-8"}
KILLED = re.compile(rb"Killed process (\d+) \((.*?)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, file-rss:(\d+)kB, "
                    rb"shmem-rss:(\d+)kB")


def kmsg_records():
    """Every record /dev/kmsg holds, raw (this file's own reader)."""
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    records = []
    try:
        while True:
            try:
                records.append(os.read(fd, 65536))
            except BlockingIOError:
                return records
            except BrokenPipeError:
                continue
    finally:
        os.close(fd)


def write_kmsg(text):
    with open("/dev/kmsg", "wb", buffering=0) as kmsg:
        kmsg.write(text)


def marker_time(marker):
    """The time stamp (seconds since boot) of the /dev/kmsg record holding
    ``marker``."""
    for record in kmsg_records():
        if marker in record:
            return int(record.split(b",", 3)[2]) / 1e6
    raise AssertionError("marker %r not in /dev/kmsg" % marker)


def events_after(output, since, pids):
    """The JSON objects of kills of ``pids`` logged at or after ``since``."""
    objects = [json.loads(line) for line in output.splitlines()]
    return [event for event in objects if "pid" in event and event["pid"] in pids and isinstance(event["time"], float)
            and event["time"] >= since]


def can_make_memory_cgroups():
    if not livetools.is_root():
        return "needs root"
    if not os.path.isdir(MEMORY) or not os.access(MEMORY, os.W_OK):
        return "needs a writable cgroup v1 memory controller at %s" % MEMORY
    if not os.path.exists(os.path.join(MEMORY, "memory.oom_control")):
        return "the memory controller has no memory.oom_control"
    if not livetools.can_unshare():
        return "needs unshare -m (the tmpfs is mounted in a private mount namespace)"
    return None


def write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def joining(cgroup, adj):
    """preexec_fn: the child enters the cgroup and takes ``adj`` before it
    execs, so that all its memory is charged there."""
    def enter():
        write(os.path.join(cgroup, "cgroup.procs"), "%d\n" % os.getpid())
        write("/proc/self/oom_score_adj", "%d\n" % adj)
    return enter


def read_comm(pid):
    with open("/proc/%d/comm" % pid, "rb") as handle:
        return handle.read().rstrip(b"\n")


def oom_kills(cgroup):
    with open(os.path.join(cgroup, "memory.oom_control")) as handle:
        return int(re.search(r"^oom_kill (\d+)$", handle.read(), re.M).group(1))


def status_kb(pid):
    with open("/proc/%d/status" % pid) as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    return {name: int(fields[name].split()[0]) for name in ("VmRSS", "RssAnon", "RssFile", "RssShmem")}


def wait_for(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.02)


@contextlib.contextmanager
def memory_cgroup():
    """A memory cgroup limited to LIMIT (memory+swap too, so it cannot
    swap its way out), removed afterwards once its tasks are gone."""
    path = os.path.join(MEMORY, "pymap-test-oom-report-%d" % os.getpid())
    os.mkdir(path)
    try:
        write(os.path.join(path, "memory.limit_in_bytes"), "%d\n" % LIMIT)
        if os.path.exists(os.path.join(path, "memory.memsw.limit_in_bytes")):
            write(os.path.join(path, "memory.memsw.limit_in_bytes"), "%d\n" % LIMIT)
        yield path
    finally:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                os.rmdir(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # (the children were killed: their exit empties it)


def test_a_real_oom_kill_is_named_with_the_kernels_numbers(monkeypatch):
    reason = can_make_memory_cgroups()
    if reason:
        pytest.skip(reason)
    marker = b"pymap-test-oom-report %d %d" % (os.getpid(), time.monotonic_ns())
    write_kmsg(marker + b"\n")
    since = marker_time(marker)
    children = {}
    mountpoint = tempfile.mkdtemp(prefix="pymap-oom-report-")
    try:
        with memory_cgroup() as cgroup:
            try:
                before = oom_kills(cgroup)
                children["sleep"] = subprocess.Popen(["sleep", "600"], preexec_fn=joining(cgroup, ADJ["sleep"]),
                                                     stdin=subprocess.DEVNULL, env=livetools.base_environ())
                holder = ("import sys, time\nheld = bytearray(%d << 20)\nfor i in range(0, len(held), 4096): "
                          "held[i] = 1\nsys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(600)" % HOLDER_MIB)
                children["holder"] = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE,
                                                      stdin=subprocess.DEVNULL, env=livetools.base_environ(),
                                                      preexec_fn=joining(cgroup, ADJ["holder"]))
                assert children["holder"].stdout.readline() == b"ready\n"
                livetools.wait_asleep(children["sleep"].pid)
                comms = {name: read_comm(child.pid) for name, child in children.items()}
                status = {name: status_kb(child.pid) for name, child in children.items()}
                # the writer fills a file on a tmpfs of its own mount namespace: tmpfs pages are
                # charged to the cgroup and are in no process's RSS, and go with the namespace
                fill = ("mount -t tmpfs -o size=256m pymap-oom-report %s && exec dd if=/dev/zero of=%s/fill bs=1M "
                        "count=%d" % (mountpoint, mountpoint, FILL))
                children["writer"] = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", fill],
                                                      preexec_fn=joining(cgroup, 0), stdin=subprocess.DEVNULL,
                                                      env=livetools.base_environ(),
                                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                children["writer"].wait(TIMEOUT)
                kills = oom_kills(cgroup) - before
                assert kills >= 1, "the kernel killed nothing: the writer's file fit"
                # every kill the cgroup counts is a child of this test, dead by SIGKILL
                wait_for(lambda: sum(child.poll() == -signal.SIGKILL for child in children.values()) == kills,
                         "%d children to die by SIGKILL" % kills)
                killed = {child.pid: name for name, child in children.items() if child.returncode == -signal.SIGKILL}
                pids = {child.pid: name for name, child in children.items()}
            finally:
                for child in children.values():
                    if child.poll() is None:
                        child.kill()
                    child.wait()
                    if child.stdout is not None:
                        child.stdout.close()
    finally:
        os.rmdir(mountpoint)  # (the tmpfs was mounted in the writer's namespace only)

    # the kernel's own lines, as dmesg prints them, after the marker
    dmesg = subprocess.run(["dmesg"], capture_output=True, check=True, timeout=TIMEOUT,
                           env=livetools.base_environ()).stdout
    dmesg = dmesg[dmesg.index(marker):]
    lines = {int(match.group(1)): match for match in KILLED.finditer(dmesg) if int(match.group(1)) in pids}
    assert set(lines) == set(killed)

    result = livetools.run_pymap(["--oom-report", "--json"], name="pymap")
    assert result.returncode == 0 and result.stderr == b""
    events = events_after(result.stdout, since, set(pids))
    assert [event["pid"] for event in events] == sorted(killed, key=lambda pid: lines[pid].start())
    assert json.loads(result.stdout.splitlines()[-1])["log"] == "/dev/kmsg"
    # the first victim: the sleep, whose oom_score_adj of 900 outweighs the holder's 24 MiB
    first = events[0]
    assert killed[first["pid"]] == "sleep"
    block = subprocess_text_block(first["pid"])
    assert "oom_score_adj decided it" in block
    # the clock time the kernel's time stamp stands for, as dmesg -T tells it (both from the time since boot)
    stamped = subprocess.run(["dmesg", "-T"], capture_output=True, check=True, timeout=TIMEOUT,
                             env=livetools.base_environ(TZ="UTC")).stdout
    clock = re.search(rb"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\] [^\n]*Killed process %d " % first["pid"], stamped)
    about = re.search(r"OOM kill at [\d.]+ s after boot \(about (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\)", block)
    assert abs(calendar.timegm(time.strptime(clock.group(1).decode(), "%a %b %d %H:%M:%S %Y"))
               - calendar.timegm(time.strptime(about.group(1), "%Y-%m-%d %H:%M:%S"))) <= 2
    for event in events:
        name = killed[event["pid"]]
        for key in ("pid", "comm", "cgroup", "constraint", "anon_rss", "file_rss", "shmem_rss", "candidates"):
            assert key in event, key
        line = lines[event["pid"]]
        assert event["comm"].encode("utf-8", "surrogateescape") == line.group(2)
        assert (event["total_vm"], event["anon_rss"], event["file_rss"], event["shmem_rss"]) == tuple(
            int(value) for value in line.groups()[2:])
        assert event["constraint"] == "CONSTRAINT_MEMCG" and event["scope"] == "memcg"
        assert event["cgroup"]["oom_memcg"] == "/" + os.path.basename(cgroup)
        assert event["memcg"]["memory"]["limit_kb"] == LIMIT >> 10
        victim = next(row for row in event["candidates"] if row["victim"])
        assert victim["pid"] == event["pid"] and victim["oom_score_adj"] == ADJ.get(name, 0)
        assert {row["pid"] for row in event["candidates"]} <= set(pids) | {victim["pid"]}
        if name in status:  # the kernel's figures are those of status before the kill, give or take a few pages
            assert event["comm"].encode() == comms[name]
            for figure, field in (("anon_rss", "RssAnon"), ("file_rss", "RssFile"), ("shmem_rss", "RssShmem")):
                assert abs(event[figure] - status[name][field]) <= max(256, status[name][field] // 20), figure
    rows = {pids.get(row["pid"]): row for row in first["candidates"]}
    assert rows["holder"]["points"] > rows["sleep"]["points"] and rows["sleep"]["victim"]
    assert rows["sleep"]["badness"] > rows["holder"]["badness"]

    # the dmesg fallback reads the same kills
    monkeypatch.setattr(source.FILES[b"kmsg"], "path", b"/nonexistent/kmsg")
    status_code, fallback, errors = run_captured([b"pymap", b"--oom-report", b"--json"], ENVIRON)
    assert (status_code, errors) == (0, b"")
    assert events_after(fallback, since, set(pids)) == events
    assert json.loads(fallback.splitlines()[-1])["log"] == "dmesg"


def subprocess_text_block(pid):
    """pymap --oom-report's text block of the kill of ``pid`` (the last one)."""
    result = livetools.run_pymap(["--oom-report"], name="pymap", environ=livetools.base_environ("C.UTF-8", TZ="UTC"))
    blocks = [block for block in result.stdout.decode().split("\n\n") if "  killed   PID %d " % pid in block]
    assert blocks
    return blocks[-1]


def test_what_user_space_writes_to_kmsg_is_not_the_kernels(monkeypatch):
    if not livetools.is_root():
        pytest.skip("needs root (to write to /dev/kmsg)")
    pid = 2147480000 + os.getpid() % 1000
    fake = [b"<3>%d invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0" % pid,
            b"<6>oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
            b"task_memcg=/,task=pymap-spoof,pid=%d,uid=0" % pid,
            b"<3>Out of memory: Killed process %d (pymap-spoof) total-vm:1kB, anon-rss:1kB, file-rss:0kB, "
            b"shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0" % pid]
    for line in fake:
        write_kmsg(line + b"\n")
    assert any(b"Killed process %d (pymap-spoof)" % pid in record for record in kmsg_records())
    output = livetools.run_pymap(["--oom-report", "--json"], name="pymap").stdout
    assert b"(pymap-spoof)" not in output and all(json.loads(line).get("pid") != pid for line in output.splitlines())
    monkeypatch.setattr(source.FILES[b"kmsg"], "path", b"/nonexistent/kmsg")
    status, fallback, errors = run_captured([b"pymap", b"--oom-report", b"--json"], ENVIRON)
    assert (status, errors) == (0, b"")
    assert all(json.loads(line).get("pid") != pid for line in fallback.splitlines())


def test_kmsg_is_read_to_its_end_without_blocking():
    try:
        log = kernel_log.kernel_log(ENVIRON)
    except Exception as error:  # noqa: BLE001 - the reason to skip
        pytest.skip("the kernel log cannot be read here: %s" % error)
    if log.name != b"/dev/kmsg":
        log.close()
        pytest.skip("/dev/kmsg cannot be read here")
    marker = None
    if livetools.is_root():
        marker = b"pymap-test-kmsg-end %d" % time.monotonic_ns()
        write_kmsg(marker + b"\n")
    started = time.monotonic()
    lines = list(log)
    assert time.monotonic() - started < TIMEOUT
    assert all(len(line) <= kernel_log.LOG_LINE_MAX and b"\n" not in line for line in lines)
    if marker is not None:
        assert any(marker in line for line in lines[-50:])  # the newest records come last


def test_a_reader_without_the_right_gets_one_line():
    if not livetools.is_root():
        pytest.skip("needs root (to run as nobody)")
    with open("/proc/sys/kernel/dmesg_restrict") as handle:
        restricted = handle.read().strip() == "1"
    with livetools.public_folder("pymap-oom-nobody-") as folder:
        code = livetools.public_copy_of_pymap(folder)
        result = livetools.run_as_nobody(code, ["--oom-report"])
    if not restricted:
        assert result.returncode == 0 and result.stderr == b""
        return
    assert (result.returncode, result.stdout) == (1, b"")
    assert re.fullmatch(rb"pymap: dmesg: [^\n]*\(/dev/kmsg: Operation not permitted\)\n", result.stderr), \
        result.stderr
