"""Memory cgroups on this machine (cgroup v1's memory controller, which
root may write): a cgroup the test makes and limits, processes of known
sizes and oom_score_adj in it and one outside, and a real OOM.

The oracle is the kernel: which process it kills (the child that dies by
SIGKILL, memory.oom_control's oom_kill grown by one), its oom_score files,
/proc/PID/status and the cgroup's own files, read here.  pymap's
prediction (--summary --cgroup --sort=oom), live and from a capture taken
before the OOM, must name the process the kernel then kills, where the
machine-wide ranking (the kernel's own oom_score) puts another first.
"""

import json
import os
import re
import subprocess
import sys

import pytest

from pymap.command.cli import run_captured
from pymap.source.cgroups import CgroupRoot
from tests.support import TIMEOUT, cgroups, livetools

pytestmark = [pytest.mark.live, pytest.mark.skipif(cgroups.v1_writable() is not None,
                                                   reason=str(cgroups.v1_writable()))]

MIB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")
PAGE_KB = PAGE // 1024
LIMIT = 64 * MIB
# anonymous memory written (MiB), then oom_score_adj, then stopped
TARGET = r"""
import mmap, os, signal, sys
size = int(sys.argv[1]) << 20
region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
for offset in range(0, size, mmap.PAGESIZE):
    region[offset] = 1
with open("/proc/self/oom_score_adj", "w") as handle:
    handle.write(sys.argv[2])
os.kill(os.getpid(), signal.SIGSTOP)
import time
time.sleep(3600)
"""


def _start(size_mib, adj, folder=None):
    """A stopped Python holding ``size_mib`` MiB of anonymous memory with
    oom_score_adj ``adj``, in the cgroup ``folder`` from before its first
    allocation (so all of its memory is charged there)."""
    join = None if folder is None else (lambda: cgroups.move(os.getpid(), folder))
    child = subprocess.Popen([sys.executable, "-c", TARGET, str(size_mib), str(adj)], preexec_fn=join,
                             stdin=subprocess.DEVNULL, env=livetools.base_environ())
    try:
        livetools.wait_stopped(child.pid)
    except BaseException:
        child.kill()
        child.wait(timeout=TIMEOUT)
        raise
    return child


def _pymap(*args):
    status, out, err = run_captured([b"pymap"] + [os.fsencode(str(arg)) for arg in args], {})
    return status, out, err


def _json(*args):
    status, out, err = _pymap(*args)
    assert status in (0, 42), err
    return [json.loads(line) for line in out.splitlines()]


def _status_kb(pid):
    with open("/proc/%d/status" % pid, "rb") as handle:
        return {key.decode(): int(value) for key, value in re.findall(rb"(?m)^(\w+):\s+(\d+) kB", handle.read())}


def _oom_score(pid):
    with open("/proc/%d/oom_score" % pid) as handle:
        return int(handle.read())


def _badness(pid, adj, totalpages):
    """oom_badness() from the counters /proc/PID/status shows, read here."""
    status = _status_kb(pid)
    points = (status["RssAnon"] + status["RssFile"] + status["RssShmem"]) // PAGE_KB + status["VmSwap"] // PAGE_KB \
        + status["VmPTE"] // PAGE_KB
    return points + adj * (totalpages // 1000)


@pytest.fixture
def limited():
    """A cgroup limited to LIMIT: a big process (adj 1) and a small one
    (adj 10) in it, a bigger one outside (adj 20); yields (path, folder,
    {name: Popen}).  Everything is removed afterwards."""
    children = {}
    with cgroups.v1_cgroup(limit=LIMIT) as (path, folder):
        try:
            children["big"] = _start(32, 1, folder)
            children["small"] = _start(4, 10, folder)
            children["outside"] = _start(40, 20)
            yield path, folder, children
        finally:
            for child in children.values():
                child.kill()
                child.wait(timeout=TIMEOUT)


def test_a_real_oom_kills_the_process_pymap_predicted(limited, tmp_path):
    path, folder, children = limited
    big, small, outside = (children[name].pid for name in ("big", "small", "outside"))
    # machine-wide, the kernel ranks the outside process first, and the small one above the big one
    scores = {pid: _oom_score(pid) for pid in (big, small, outside)}
    assert scores[outside] > scores[small] > scores[big], scores
    machine = _json("--summary", "--json", "-q", "--sort=oom", big, small, outside)
    assert [row["pid"] for row in machine] == [outside, small, big]

    # in the cgroup's scope (its limit, no swap here), the big one comes first: pymap's prediction
    totalpages = LIMIT // PAGE
    rows = _json("--summary", "--json", "-q", "--sort=oom", "--cgroup=" + path)
    assert [row["pid"] for row in rows] == [big, small]
    for row, adj in zip(rows, (1, 10)):
        assert row["oom_badness"] == _badness(row["pid"], adj, totalpages)
        assert row["cgroup"] == path
    # the same named as its folder under the mount
    assert [row["pid"] for row in _json("--summary", "--json", "-q", "--sort=oom", "--cgroup=" + folder)] == [big,
                                                                                                              small]
    text = _pymap("--summary", "--sort=oom", "--cgroup=" + path)[1]
    assert b"OOM scope: cgroup %s: limit %d kB + swap 0 kB = %d pages" % (path.encode(), LIMIT // 1024,
                                                                         totalpages) in text
    # --reconcile's OOM lines use the cgroup's limit
    [record] = _json("--reconcile", "--json", big)
    assert record["oom"]["cgroup"]["badness_pages"] == _badness(big, 1, totalpages)
    assert (record["oom"]["cgroup"]["limit_kb"], record["oom"]["cgroup"]["totalpages"]) == (LIMIT // 1024,
                                                                                            totalpages)
    assert b"an OOM of that cgroup ranks it by badness" in _pymap("--reconcile", big)[1]

    # a capture before the OOM predicts the same
    snapshot = str(tmp_path / "before")
    assert _pymap("--capture", snapshot, big, small)[0] == 0
    saved = _json("--proc-root", snapshot, "--summary", "--json", "-q", "--sort=oom", "--cgroup=" + path)
    assert [(row["pid"], row["oom_badness"]) for row in saved] == [(row["pid"], row["oom_badness"]) for row in rows]

    # the OOM: a tmpfs file written from inside the cgroup, charged there and in no process's RSS
    kills = cgroups.oom_kills(folder)
    shm = "/dev/shm/pymap-oom-%s" % os.urandom(6).hex()
    os.close(os.open(shm, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        writer = subprocess.run(["dd", "if=/dev/zero", "of=" + shm, "bs=1M", "count=32"], capture_output=True,
                                preexec_fn=lambda: cgroups.move(os.getpid(), folder), timeout=TIMEOUT,
                                env=livetools.base_environ())
        assert children["big"].wait(timeout=TIMEOUT) == -9, writer.stderr
        assert cgroups.oom_kills(folder) == kills + 1
        assert children["small"].poll() is None and children["outside"].poll() is None

        # after: the OOM kill counted, the tmpfs pages charged in no one's RSS
        after = str(tmp_path / "after")
        assert _pymap("--capture", after, small)[0] == 0
        [row, totals] = _json("--proc-root", after, "--summary", "--by=cgroup", "--json", "--cgroup=" + path)
        saved_folder = os.path.join(after, "cgroup", "v1", path.lstrip("/"))
        stat = dict(line.split() for line in cgroups.read(saved_folder, "memory.stat").decode().splitlines())
        assert row["cgroup"] == path and row["processes"] == 1 and row["oom_kills"] == kills + 1
        assert row["limit"] == LIMIT // 1024 and row["used_percent"] == round(100.0 * row["usage"] / row["limit"], 1)
        assert row["usage"] == int(cgroups.read(saved_folder, "memory.usage_in_bytes")) // 1024
        assert row["breakdown"]["shmem"] == int(stat["total_shmem"]) // 1024 >= 32 * 1024
        assert row["not_in_rss"] == (int(cgroups.read(saved_folder, "memory.usage_in_bytes"))
                                     - int(stat["total_rss"]) - int(stat["total_mapped_file"])) // 1024
        assert row["not_in_rss"] >= 32 * 1024
        assert totals["balance"]["of"] == "cgroup" and totals["balance"]["shmem"] == row["breakdown"]["shmem"]
        # the process gone since the first capture: its cgroup's OOM kill count grew
        status, out, _ = _pymap("--diff", snapshot, big)
        assert status == 42 and b"had 1 OOM kill since (oom_kill %d then, %d now)" % (kills, kills + 1) in out
        [gone] = _json("--diff", snapshot, "--json", big)
        assert gone == {"schema": 3, "pid": big, "state": "gone", "cgroup": path, "oom_kills_before": kills,
                        "oom_kills_now": kills + 1}
    finally:
        if os.path.exists(shm):
            os.unlink(shm)


def test_by_cgroup_live_figures_are_the_cgroups_files(limited, tmp_path):
    """--by=cgroup from a capture: every figure is the captured files' (read
    here) and the processes' sums are the rows'."""
    path, folder, children = limited
    snapshot = str(tmp_path / "snap")
    pids = [children[name].pid for name in ("big", "small", "outside")]
    assert _pymap("--capture", snapshot, *pids)[0] == 0
    groups = _json("--proc-root", snapshot, "--summary", "--by=cgroup", "--json")
    totals = groups.pop()
    processes = _json("--proc-root", snapshot, "--summary", "--json", "-q")
    assert totals["processes"] == len(processes) and totals["cgroups"] == len(groups) == 2
    mine = next(group for group in groups if group["cgroup"] == path)
    saved_folder = os.path.join(snapshot, "cgroup", "v1", path.lstrip("/"))
    assert mine["usage"] == int(cgroups.read(saved_folder, "memory.usage_in_bytes")) // 1024
    assert mine["limit"] == LIMIT // 1024 and mine["limit_cgroup"] == path and mine["version"] == 1
    assert mine["processes"] == 2 and mine["oom_kills"] == 0
    for name in ("Rss", "Pss", "Uss", "Swap"):
        assert mine[name] == sum(row[name] for row in processes if row["pid"] in pids[:2])
    stat = dict(line.split() for line in cgroups.read(saved_folder, "memory.stat").decode().splitlines())
    assert mine["breakdown"]["anon"] == int(stat["total_rss"]) // 1024 >= 36 * 1024
    # the other cgroup (this test's own): unlimited here, so no limit and no share
    other = next(group for group in groups if group["cgroup"] != path)
    if int(cgroups.read(os.path.join(snapshot, "cgroup", "v1", other["cgroup"].lstrip("/")),
                        "memory.limit_in_bytes")) >= 1 << 62:
        assert other["limit"] is None and other["used_percent"] is None
    # text: the cgroup's row names its path; the limit and the share are there
    text = _pymap("--proc-root", snapshot, "--summary", "--by=cgroup")[1].decode()
    line = next(line for line in text.splitlines() if line.endswith(path))
    assert " %d " % (LIMIT // 1024) in line


def test_a_cgroup_removed_while_it_is_read(monkeypatch):
    """A process's cgroup that is removed after pymap read /proc/PID/cgroup
    and before its files: a note on the row (the kernel's ENOENT), status 0."""
    with cgroups.v1_cgroup() as (path, folder):
        child = _start(1, 0, folder)
        try:
            real = CgroupRoot.read

            def removing(self, version, cgroup, name):
                if cgroup == path.encode() and os.path.isdir(folder):
                    cgroups.move(child.pid, cgroups.V1_MEMORY)  # out of it, then it goes
                    os.rmdir(folder)
                return real(self, version, cgroup, name)

            monkeypatch.setattr(CgroupRoot, "read", removing)
            status, out, err = _pymap("--summary", "--by=cgroup", "--json", "-q", child.pid)
            assert status == 0, err
            [row] = [json.loads(line) for line in out.splitlines()]
            assert row["cgroup"] == path and row["usage"] is None and row["notes"] == ["no such cgroup (removed?)"]
        finally:
            child.kill()
            child.wait(timeout=TIMEOUT)


def test_sort_oom_machine_wide_predicts_the_kernels_oom_score():
    """Machine-wide, each row's badness gives the kernel's own oom_score
    (proc_oom_score(): (1000 + badness x 1000 / totalpages) x 2 / 3)."""
    from pymap.report.oom import oom_score

    with open("/proc/meminfo", "rb") as handle:
        meminfo = handle.read()
    total = sum(int(re.search(rb"(?m)^%s:\s+(\d+) kB" % name, meminfo).group(1)) for name in (b"MemTotal",
                                                                                              b"SwapTotal"))
    children = [_start(size, adj) for size, adj in ((8, 3), (2, 40), (16, 0))]
    try:
        rows = _json("--summary", "--json", "-q", "--sort=oom", *[child.pid for child in children])
        for row in rows:
            assert oom_score(row["oom_badness"], total // PAGE_KB) == _oom_score(row["pid"]) == row["oom_score"]
        assert [row["oom_badness"] for row in rows] == sorted((row["oom_badness"] for row in rows), reverse=True)
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=TIMEOUT)
