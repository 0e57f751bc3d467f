"""Memory cgroups on snapshots written here: cgroup v2 (which this machine
mounts without the memory controller), a container's own cgroup namespace
(where /proc/PID/cgroup says "0::/"), cgroup v1 with hierarchical limits,
and damaged cgroup files.  pymap runs in this process (run_captured) on
folders the test writes; every expected figure is computed here from what
the test wrote, with the kernel's rules (mm/oom_kill.c, memcontrol.c)."""

import json
import os

import pytest

from pymap.command.cli import run_captured
from tests.support.prometheus import needs_client, read_openmetrics, read_text_format

pytestmark = pytest.mark.unit

KB = 1024
MIB = 1 << 20
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
MEMINFO = (b"MemTotal:       16000000 kB\nMemFree:         9000000 kB\nMemAvailable:   12000000 kB\n"
           b"Buffers:           10000 kB\nCached:          3000000 kB\nSwapCached:            0 kB\n"
           b"Shmem:            200000 kB\nMapped:           400000 kB\nSwapTotal:       1048576 kB\n"
           b"SReclaimable:     300000 kB\nSUnreclaim:       100000 kB\nKernelStack:       20000 kB\n"
           b"PageTables:        30000 kB\nSecPageTables:         0 kB\nPercpu:             5000 kB\n")
HEX = "0123456789abcdef" * 4


def process(root, pid, cgroup, anon=1000, file=500, shmem=0, swap=0, pte=100, adj=0, start=100, pss=None,
            uss=None, split=True):
    """A PID folder as /proc writes one (kB figures); ``split``: the rollup
    has Pss_Anon, Pss_File and Pss_Shmem (kernels from 5.7)."""
    folder = root / str(pid)
    folder.mkdir(parents=True)
    rss = anon + file + shmem
    (folder / "status").write_bytes(
        b"Name:\tp%d\nUid:\t0\t0\t0\t0\nTgid:\t%d\nState:\tS (sleeping)\nVmSize:\t  %d kB\nVmRSS:\t %d kB\n"
        b"RssAnon:\t %d kB\nRssFile:\t %d kB\nRssShmem:\t %d kB\nVmPTE:\t %d kB\nVmSwap:\t %d kB\n"
        % (pid, pid, rss * 4, rss, anon, file, shmem, pte, swap))
    (folder / "stat").write_bytes(b"%d (p%d) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0 0 0 0 0 0\n"
                                  % (pid, pid, start))
    (folder / "cmdline").write_bytes(b"p%d\0" % pid)
    (folder / "comm").write_bytes(b"p%d\n" % pid)
    (folder / "smaps").write_bytes(b"00400000-00401000 r--p 00000000 00:00 0 \nSize: 4 kB\nRss: 4 kB\n")
    (folder / "maps").write_bytes(b"00400000-00401000 r--p 00000000 00:00 0 \n")
    rollup = (b"00400000-7fff0000 ---p 00000000 00:00 0 [rollup]\nRss: %d kB\nPss: %d kB\nPss_Anon: %d kB\n"
              b"Pss_File: %d kB\nPss_Shmem: %d kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: %d kB\nSwap: %d kB\n"
              b"SwapPss: %d kB\n" % (rss, pss if pss is not None else rss, anon, file, shmem,
                                     uss if uss is not None else anon, swap, swap))
    if not split:
        rollup = b"".join(line for line in rollup.splitlines(True) if not line.startswith(b"Pss_"))
    (folder / "smaps_rollup").write_bytes(rollup)
    (folder / "oom_score_adj").write_bytes(b"%d\n" % adj)
    if cgroup is not None:
        (folder / "cgroup").write_bytes(cgroup)
    return folder


def cgroup(root, version, path, **files):
    """A cgroup's folder in a snapshot: ROOT/cgroup/vN/PATH/, its files
    named with _ for . (memory_max: memory.max)."""
    folder = root / "cgroup" / ("v%d" % version) / path.lstrip("/")
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name.replace("_", ".", 1).replace("__", "_")).write_bytes(data)
    return folder


def v2_files(current, limit=b"max", anon=0, file=0, shmem=0, file_mapped=0, kernel=0, oom_kill=0, swap_max=None):
    files = {"memory_current": b"%d\n" % current, "memory_max": limit if isinstance(limit, bytes) else b"%d\n" % limit,
             "memory_stat": b"anon %d\nfile %d\nkernel %d\nkernel_stack 0\nshmem %d\nfile_mapped %d\nsock 0\n"
                            % (anon, file, kernel, shmem, file_mapped),
             "memory_events": b"low 0\nhigh 0\nmax 3\noom 1\noom_kill %d\noom_group_kill 0\n" % oom_kill}
    if swap_max is not None:
        files["memory_swap.max"] = swap_max
    return files


def pymap(root, *args):
    status, out, err = run_captured([b"pymap", b"--proc-root", os.fsencode(str(root))] +
                                    [os.fsencode(str(arg)) for arg in args], {})
    assert b"Traceback" not in err
    return status, out, err


def objects(out):
    return [json.loads(line) for line in out.splitlines()]


# --- cgroup v2, on a host ------------------------------------------------------------

NGINX = "/system.slice/nginx.service"
DOCKER = "/system.slice/docker-%s.scope" % HEX
POD_SLICE = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f_7081_92a3_b4c5d6e7f809.slice"
POD_UID = "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"
CONTAINER = POD_SLICE + "/cri-containerd-%s.scope" % HEX


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO)
    process(root, 1, b"0::/init.scope\n", anon=3000)
    process(root, 10, b"0::" + NGINX.encode() + b"\n", anon=20000, file=3000, start=500)
    process(root, 11, b"0::" + NGINX.encode() + b"\n", anon=9000, file=3000, start=510)
    process(root, 20, b"0::" + DOCKER.encode() + b"\n", anon=4000)
    # two alike (equal badness): the kernel keeps the one it walks last, the later start; and one never chosen
    process(root, 30, b"0::" + CONTAINER.encode() + b"\n", anon=8000, adj=100, start=700)
    process(root, 31, b"0::" + CONTAINER.encode() + b"\n", anon=8000, adj=100, start=900)
    process(root, 32, b"0::" + CONTAINER.encode() + b"\n", anon=30000, adj=-1000, start=300)
    process(root, 33, b"0::" + CONTAINER.encode() + b"\n", anon=2000, pte=50, swap=4000, adj=300, start=200)
    # the real root cgroup has memory.stat but no charge or limit of its own
    cgroup(root, 2, "/", memory_stat=b"anon 100\nfile 200\n")
    cgroup(root, 2, "/init.scope", **v2_files(5 * MIB, anon=3 * MIB, file=MIB, file_mapped=MIB // 2))
    cgroup(root, 2, "/system.slice", memory_max=b"max\n")
    cgroup(root, 2, NGINX, **v2_files(50 * MIB, 100 * MIB, anon=30 * MIB, file=15 * MIB, shmem=2 * MIB,
                                      file_mapped=5 * MIB, kernel=3 * MIB, oom_kill=2))
    cgroup(root, 2, DOCKER, **v2_files(6 * MIB, anon=4 * MIB, file=MIB, kernel=MIB))
    cgroup(root, 2, "/kubepods.slice", memory_max=b"%d\n" % (2048 * MIB))
    cgroup(root, 2, "/kubepods.slice/kubepods-burstable.slice", memory_max=b"max\n")
    cgroup(root, 2, POD_SLICE, **v2_files(60 * MIB, 80 * MIB, anon=48 * MIB, swap_max=b"%d\n" % (10 * MIB)))
    cgroup(root, 2, CONTAINER, **v2_files(60 * MIB, 200 * MIB, anon=48 * MIB, file=4 * MIB, file_mapped=2 * MIB,
                                          kernel=8 * MIB, oom_kill=1))
    return root


def test_v2_by_cgroup(host):
    status, out, err = pymap(host, "--summary", "--by=cgroup", "--json")
    assert (status, err) == (0, b"")
    rows = objects(out)
    totals = rows.pop()
    by_path = {row["cgroup"]: row for row in rows}
    assert set(by_path) == {"/init.scope", NGINX, DOCKER, CONTAINER}
    assert totals["processes"] == 8 and totals["cgroups"] == 4 and totals["balance"]["of"] == "meminfo"
    nginx = by_path[NGINX]
    assert (nginx["kind"], nginx["name"], nginx["pod"], nginx["version"]) == ("service", "nginx.service", None, 2)
    assert (nginx["processes"], nginx["Rss"], nginx["Uss"]) == (2, 35000, 29000)
    assert (nginx["usage"], nginx["limit"], nginx["limit_cgroup"], nginx["used_percent"]) == (
        50 * 1024, 100 * 1024, NGINX, 50.0)
    assert nginx["breakdown"] == {"anon": 30 * 1024, "file": 13 * 1024, "shmem": 2 * 1024, "kernel": 3 * 1024,
                                  "other": 2 * 1024, "file_mapped": 5 * 1024}
    assert nginx["not_in_rss"] == (50 - 30 - 5) * 1024 and nginx["oom_kills"] == 2 and nginx["notes"] == []
    docker = by_path[DOCKER]
    assert (docker["kind"], docker["name"], docker["limit"], docker["used_percent"]) == ("docker", HEX, None, None)
    container = by_path[CONTAINER]
    # the tightest limit is the pod's (80 MiB), not the container's own 200 MiB
    assert (container["kind"], container["name"], container["pod"]) == ("containerd", HEX, POD_UID)
    assert (container["limit"], container["limit_cgroup"], container["used_percent"]) == (80 * 1024, POD_SLICE, 75.0)
    assert container["processes"] == 4 and container["oom_kills"] == 1
    # sorted by the charge, largest first
    assert [row["cgroup"] for row in rows] == [CONTAINER, NGINX, DOCKER, "/init.scope"]
    text = pymap(host, "--summary", "--by=cgroup")[1].decode()
    line = next(line for line in text.splitlines() if NGINX in line)
    assert line.split()[:15] == ["2", "35000", "35000", "29000", "0", "51200", "102400", "50.0", "30720", "13312",
                                 "2048", "3072", "15360", "2", NGINX]
    assert "(containerd 0123456789ab in pod %s)  [limit of %s]" % (POD_UID, POD_SLICE) in text
    assert "(docker 0123456789ab)" in text


def test_v2_cgroup_scope_and_ties(host):
    """--cgroup=POD --sort=oom: totalpages is the pod's limit plus the swap
    it may use (memory.swap.max, at most SwapTotal); of equal badness the
    later started comes first (the kernel keeps the last it walks);
    oom_score_adj -1000 never."""
    status, out, err = pymap(host, "--summary", "--json", "-q", "--sort=oom", "--cgroup=" + POD_SLICE)
    assert status == 0, err
    rows = objects(out)
    totalpages = (80 * MIB + 10 * MIB) // (PAGE_KB * KB)
    # (rss: anon + file, 500 kB of file each)
    alike = 8500 // PAGE_KB + 100 // PAGE_KB + 100 * (totalpages // 1000)
    expected = {30: alike, 31: alike, 32: None,
                33: 2500 // PAGE_KB + 4000 // PAGE_KB + 50 // PAGE_KB + 300 * (totalpages // 1000)}
    assert {row["pid"]: row["oom_badness"] for row in rows} == expected
    assert [row["pid"] for row in rows] == [33, 31, 30, 32]
    text = pymap(host, "--summary", "--sort=oom", "--cgroup=" + POD_SLICE)[1]
    assert b"OOM scope: cgroup %s: limit %d kB + swap %d kB = %d pages" % (
        POD_SLICE.encode(), 80 * 1024, 10 * 1024, totalpages) in text
    assert b" never p32\n" in text
    # the container's cgroup alone: the same scope (its tightest limit is the pod's)
    rows = objects(pymap(host, "--summary", "--json", "-q", "--sort=oom", "--cgroup=" + CONTAINER)[1])
    assert [row["pid"] for row in rows] == [33, 31, 30, 32]
    # machine-wide: MemTotal + SwapTotal; init is never chosen
    rows = objects(pymap(host, "--summary", "--json", "-q", "--sort=oom")[1])
    machine = (16000000 + 1048576) // PAGE_KB
    assert rows[0]["pid"] == 33
    assert rows[0]["oom_badness"] == 2500 // PAGE_KB + 4000 // PAGE_KB + 50 // PAGE_KB + 300 * (machine // 1000)
    assert [row["pid"] for row in rows[-2:]] == [1, 32] and rows[-1]["oom_badness"] is None


def test_v2_cgroup_balance(host):
    """Under --cgroup, the totals are reconciled with the cgroup's
    memory.stat; without, with the snapshot's meminfo."""
    status, out, _ = pymap(host, "--summary", "--json", "--cgroup=" + NGINX)
    balance = objects(out)[-1]["balance"]
    assert balance == {"of": "cgroup", "cgroup": NGINX, "usage": 50 * 1024, "anon": 30 * 1024,
                       "file_mapped": 5 * 1024, "unmapped": (15 - 5) * 1024, "shmem": 2 * 1024,
                       "kernel": 3 * 1024, "other": 2 * 1024, "not_in_rss": 15 * 1024, "rss_sum": 35000,
                       "rss_above_charge": 35000 - 35 * 1024}
    machine = objects(pymap(host, "--summary", "--json")[1])[-1]["balance"]
    rows = objects(pymap(host, "--summary", "--json", "-q")[1])
    uss = sum(row["Uss"] for row in rows)
    pss = sum(row["Pss"] for row in rows)
    assert machine["uss"] == uss and machine["shared"] == pss - uss
    assert machine["page_cache_unmapped"] == 3000000 + 10000 - 200000 - sum(
        {10: 3000, 11: 3000}.get(row["pid"], 500) for row in rows)
    assert machine["shmem_unmapped"] == 200000
    assert machine["kernel"] == {"slab": 400000, "page_tables": 30000, "kernel_stack": 20000, "percpu": 5000}
    assert machine["free"] == 9000000 and machine["used"] == 16000000 - 12000000
    parts = uss + (pss - uss) + machine["page_cache_unmapped"] + 200000 + 455000 + 9000000
    assert machine["rest"] == 16000000 - parts
    text = pymap(host, "--summary")[1]
    assert b"Where the memory is" in text and b"  16000000  MemTotal\n" in text


# --- a container's own cgroup namespace ------------------------------------------------


def test_cgroup_counts_only_its_own_unreadable_processes(host):
    """--cgroup=PATH: a process of another cgroup that cannot be read is not
    counted (its cgroup file is read where its memory is not); one of the
    cgroup, or one whose cgroup is not known, is."""
    for pid, cgroup_line in ((60, b"0::" + NGINX.encode() + b"\n"), (61, b"0::" + DOCKER.encode() + b"\n"),
                             (62, None)):
        folder = process(host, pid, cgroup_line)
        os.unlink(str(folder / "status"))  # damaged
    status, out, err = pymap(host, "--summary", "--cgroup=" + NGINX, "--json")
    assert status == 0
    totals = objects(out)[-1]
    assert (totals["processes"], totals["unreadable"]) == (2, 2)
    assert err.startswith(b"pymap: 2 processes could not be read (files missing or damaged: PIDs 60, 62)\n")
    # named: only a process of the cgroup that cannot be read makes the status 1
    assert pymap(host, "--summary", "--cgroup=" + NGINX, "10", "61")[0] == 0
    assert pymap(host, "--summary", "--cgroup=" + NGINX, "10", "60")[0] == 1


def test_container_namespace(tmp_path):
    """Inside a container with its own cgroup namespace, "/" is the
    container: its files are at the top of the mount, limited; a child
    cgroup's tightest limit is "/"'s; a process outside the namespace
    ("/../...") has a note."""
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO)
    process(root, 1, b"0::/\n", anon=4000)
    process(root, 7, b"0::/\n", anon=40000, adj=0, start=50)
    process(root, 8, b"0::/worker\n", anon=20000, adj=500, start=60)
    process(root, 9, b"0::/../../other\n", anon=1000)
    cgroup(root, 2, "/", **v2_files(70 * MIB, 256 * MIB, anon=64 * MIB, file=4 * MIB, kernel=2 * MIB))
    cgroup(root, 2, "/worker", **v2_files(20 * MIB, anon=20 * MIB))
    status, out, err = pymap(root, "--summary", "--by=cgroup", "--json", "-q")
    assert (status, err) == (0, b"")
    rows = {row["cgroup"]: row for row in objects(out)}
    assert (rows["/"]["limit"], rows["/"]["limit_cgroup"], rows["/"]["processes"]) == (256 * 1024, "/", 2)
    assert (rows["/worker"]["limit"], rows["/worker"]["limit_cgroup"]) == (256 * 1024, "/")
    assert rows["/../../other"]["usage"] is None and "another cgroup namespace" in rows["/../../other"]["notes"][0]
    # --cgroup=/ is the whole container, and its OOM ranks by the container's limit: adj 500 outweighs size
    rows = objects(pymap(root, "--summary", "--json", "-q", "--sort=oom", "--cgroup=/")[1])
    totalpages = 256 * MIB // (PAGE_KB * KB) + 1048576 // PAGE_KB  # memory.swap.max absent: max, at most SwapTotal
    assert [row["pid"] for row in rows] == [8, 7, 1]
    assert rows[0]["oom_badness"] == 20500 // PAGE_KB + 100 // PAGE_KB + 500 * (totalpages // 1000)
    assert rows[-1]["oom_badness"] is None  # the namespace's init is PID 1 here


# --- cgroup v1 ---------------------------------------------------------------------------


def v1_files(usage, limit, rss=0, cache=0, shmem=0, mapped=0, oom_kill=0, memsw=None, swappiness=60):
    files = {"memory_usage__in__bytes": b"%d\n" % usage, "memory_limit__in__bytes": b"%d\n" % limit,
             "memory_stat": b"cache %d\nrss %d\nshmem %d\nmapped_file %d\nhierarchical_memory_limit %d\n"
                            b"total_cache %d\ntotal_rss %d\ntotal_shmem %d\ntotal_mapped_file %d\n"
                            % (cache, rss, shmem, mapped, limit, cache, rss, shmem, mapped),
             "memory_oom__control": b"oom_kill_disable 0\nunder_oom 0\noom_kill %d\n" % oom_kill,
             "memory_swappiness": b"%d\n" % swappiness}
    if memsw is not None:
        files["memory_memsw.limit__in__bytes"] = b"%d\n" % memsw
    return files


def test_v1_hierarchy(tmp_path):
    """cgroup v1: the memory controller's line of /proc/PID/cgroup; the
    unlimited limit (PAGE_COUNTER_MAX in bytes) is none; total_* lines; the
    OOM scope's swap is the memsw limit less the limit, none with
    swappiness 0."""
    unlimited = 9223372036854771712
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO)
    process(root, 5, b"12:pids:/a/b\n4:memory:/a/b\n0::/user.slice\n", anon=10000)
    process(root, 6, b"4:memory:/a/c\n", anon=5000)
    cgroup(root, 1, "/", **v1_files(9 * 1024 * MIB, unlimited))
    cgroup(root, 1, "/a", **v1_files(30 * MIB, 128 * MIB, memsw=128 * MIB + 16 * MIB))
    cgroup(root, 1, "/a/b", **v1_files(20 * MIB, unlimited, rss=10 * MIB, cache=8 * MIB, shmem=6 * MIB,
                                       mapped=MIB, oom_kill=3))
    cgroup(root, 1, "/a/c", **v1_files(10 * MIB, 64 * MIB, rss=5 * MIB, memsw=unlimited, swappiness=0))
    rows = {row["cgroup"]: row for row in objects(pymap(root, "--summary", "--by=cgroup", "--json", "-q")[1])}
    b = rows["/a/b"]
    assert (b["version"], b["limit"], b["limit_cgroup"], b["oom_kills"]) == (1, 128 * 1024, "/a", 3)
    assert b["breakdown"] == {"anon": 10 * 1024, "file": 2 * 1024, "shmem": 6 * 1024, "kernel": 2 * 1024,
                              "other": 0, "file_mapped": 1024}
    assert b["not_in_rss"] == (20 - 10 - 1) * 1024
    assert (rows["/a/c"]["limit"], rows["/a/c"]["limit_cgroup"]) == (64 * 1024, "/a/c")
    # scopes: /a/b runs out at /a's limit, with /a's 16 MiB of swap; /a/c's swappiness 0 uses no swap
    text = pymap(root, "--summary", "--sort=oom", "--cgroup=/a/b")[1]
    assert b"OOM scope: cgroup /a: limit %d kB + swap %d kB" % (128 * 1024, 16 * 1024) in text
    text = pymap(root, "--summary", "--sort=oom", "--cgroup=/a/c")[1]
    assert b"OOM scope: cgroup /a/c: limit %d kB + swap 0 kB" % (64 * 1024) in text
    # as a folder under the snapshot's cgroup mount too
    folder = root / "cgroup" / "v1" / "a"
    assert [row["pid"] for row in objects(pymap(root, "--summary", "--json", "-q", "--cgroup=%s" % folder)[1])] == [
        5, 6]


# --- damaged files -----------------------------------------------------------------------


def test_damaged_cgroup_files(tmp_path):
    """Files missing, not files, not numbers, huge, larger than any real
    one, a link, a cgroup that is not there, a process whose cgroup is not
    known: a note on that row (or one line), status 0, no traceback."""
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO)
    deep = "/d" * 20000  # (a hostile path: each of its ancestors would be opened level by level)
    paths = ["/no-stat", "/dir-max", "/garbage", "/huge", "/linked", "/gone", "/big-stat", "/events-junk",
             "/no-controller", deep]
    for index, path in enumerate(paths):
        process(root, 100 + index, b"0::%s\n" % path.encode())
    process(root, 200, None)
    process(root, 201, b"garbage\n")
    files = v2_files(MIB, 2 * MIB, anon=MIB)
    cgroup(root, 2, "/no-stat", **{name: data for name, data in files.items() if name != "memory_stat"})
    cgroup(root, 2, "/dir-max", **{name: data for name, data in files.items() if name != "memory_max"})
    (root / "cgroup" / "v2" / "dir-max" / "memory.max").mkdir()
    cgroup(root, 2, "/garbage", **dict(files, memory_current=b"lots\n"))
    cgroup(root, 2, "/huge", **dict(files, memory_max=b"9" * 30 + b"\n"))
    (root / "elsewhere").mkdir()
    cgroup(root / "elsewhere", 2, "/x", **files)
    os.symlink(str(root / "elsewhere" / "cgroup" / "v2" / "x"), str(root / "cgroup" / "v2" / "linked"))
    cgroup(root, 2, "/big-stat", **dict(files, memory_stat=b"anon 1\n" * 100000))
    cgroup(root, 2, "/events-junk", **dict(files, memory_events=b"\xff\xfe oom_kill\noom_kill x\n\n"))
    cgroup(root, 2, "/no-controller", cgroup_procs=b"108\n")  # cgroup v2 without the memory controller
    status, out, err = pymap(root, "--summary", "--by=cgroup", "--json", "-q")
    assert status == 0
    assert err == b"pymap: 2 processes whose memory cgroup is not known (no /proc/PID/cgroup, or no memory " \
                  b"controller) left out\n"
    rows = {row["cgroup"]: row for row in objects(out)}
    assert set(rows) == set(paths)
    # the totals count the processes of the rows, not the two left out
    totals = objects(pymap(root, "--summary", "--by=cgroup", "--json")[1])[-1]
    assert totals["processes"] == len(paths) == sum(row["processes"] for row in rows.values())
    assert rows["/no-stat"]["breakdown"] is None and rows["/no-stat"]["notes"] == [
        "memory.stat: No such file or directory"]
    assert rows["/no-controller"]["notes"] == ["no memory controller in this cgroup (cgroup v2 without it)"]
    assert rows["/no-controller"]["usage"] is None and rows["/no-controller"]["limit"] is None
    assert rows["/no-stat"]["usage"] == 1024 and rows["/no-stat"]["not_in_rss"] is None
    assert rows["/dir-max"]["limit"] is None and rows["/dir-max"]["notes"] == ["memory.max: not a regular file"]
    assert rows["/garbage"]["usage"] is None and rows["/garbage"]["notes"] == ["memory.current: not a number"]
    assert rows["/garbage"]["used_percent"] is None and rows["/garbage"]["limit"] == 2048
    assert rows["/huge"]["limit"] is None and rows["/huge"]["notes"] == []
    assert rows["/linked"]["usage"] is None and "symbolic link" in rows["/linked"]["notes"][0]
    assert rows["/gone"]["usage"] is None and rows["/gone"]["notes"] == ["no such cgroup (removed?)"]
    assert rows["/big-stat"]["breakdown"] is None and "larger than" in rows["/big-stat"]["notes"][0]
    assert rows["/events-junk"]["oom_kills"] is None and rows["/events-junk"]["notes"] == []
    assert rows[deep]["usage"] is None and "deeper than 128 levels" in rows[deep]["notes"][0]
    text = pymap(root, "--summary", "--by=cgroup")[1]
    assert b"/dir-max  [memory.max: not a regular file]" in text
    # a scope that cannot be known (no limit read) is the machine's
    text = pymap(root, "--summary", "--sort=oom", "--cgroup=/dir-max")[1]
    assert b"OOM scope: the machine" in text


def test_cgroup_arguments(tmp_path, host):
    status, out, err = pymap(host, "--summary", "--cgroup=/nowhere")
    assert (status, out, err) == (42, b"", b"pymap: --cgroup /nowhere: no such cgroup\n")
    status, out, err = pymap(host, "--summary", "--cgroup=relative/nowhere")
    assert (status, out) == (1, b"") and b"neither a cgroup path" in err
    status, _, err = pymap(host, "--summary", "--cgroup=")
    assert (status, err) == (1, b"pymap: --cgroup: '' is no cgroup path\n")
    status, _, err = pymap(host, "--cgroup=/x", "1")
    assert (status, err) == (1, b"pymap: option --cgroup goes with --summary\n")
    status, _, err = pymap(host, "--summary", "--by=cgroup", "--sort=oom")
    assert (status, err) == (1, b"pymap: --sort=oom goes with processes, not with --by=cgroup\n")
    # a cgroup that is there but holds no process: an empty table
    status, out, _ = pymap(host, "--summary", "--json", "-q", "--cgroup=/system.slice/")
    assert status == 0 and sorted(row["pid"] for row in objects(out)) == [10, 11, 20]
    status, out, _ = pymap(host, "--summary", "--json", "-q", "--cgroup=/kubepods.slice/kubepods-burstable.slice")
    assert status == 0 and sorted(row["pid"] for row in objects(out)) == [30, 31, 32, 33]


# --- --diff: the capture's age, and the OOM kills of a gone process's cgroup ----------------


SMAPS = (b"00400000-%08x rw-p 00000000 00:00 0 \nSize: %d kB\nRss: %d kB\nPss: %d kB\nAnonymous: %d kB\n"
         b"Private_Dirty: %d kB\n")


def diff_side(root, pids, rss, when, oom_kill, cgroup_path=b"/app"):
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO)
    for pid in pids:
        folder = process(root, pid, b"0::" + cgroup_path + b"\n", start=pid)
        smaps = SMAPS % (0x400000 + 4096 * 1024, 4096, rss, rss, rss, rss)
        (folder / "smaps").write_bytes(smaps)
        (folder / "maps").write_bytes(smaps.split(b"\n", 1)[0] + b"\n")
        (folder / "captured_at").write_bytes(b"%.3f\n" % when)
    cgroup(root, 2, cgroup_path.decode(), **v2_files(MIB, oom_kill=oom_kill))


def test_diff_age_and_oom_kills(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    diff_side(before, (40, 41), 1000, 1000000.0, 0)
    diff_side(after, (40,), 1600, 1000600.0, 1)  # ten minutes later; 41 is gone, and its cgroup had an OOM kill
    status, out, _ = pymap(after, "--diff", before, "40")
    assert status == 0
    # Kbytes, RSS, Dirty, Anon, Swap: 600 kB more in ten minutes, under the totals' columns
    assert out.splitlines()[-1] == b"  %-16s%s  (captured 10m 00s before)" % (
        b"per minute", b"".join(b" %8s" % cell for cell in (b"0", b"+60.0", b"+60.0", b"+60.0", b"0")))
    [*_, totals] = objects(pymap(after, "--diff", before, "--json", "40")[1])
    assert totals["age_seconds"] == 600.0 and totals["per_minute"]["Rss"] == 60.0
    assert totals["per_minute"]["Size"] == 0.0
    status, out, _ = pymap(after, "--diff", before, "41")
    assert status == 42 and out.splitlines()[1] == (b"  gone since the capture; its memory cgroup /app had 1 OOM "
                                                    b"kill since (oom_kill 0 then, 1 now): the OOM killer may have "
                                                    b"ended it (pymap --oom-report says whom it ended)")
    assert objects(pymap(after, "--diff", before, "--json", "41")[1]) == [
        {"schema": 3, "pid": 41, "state": "gone", "cgroup": "/app", "oom_kills_before": 0, "oom_kills_now": 1}]
    # no OOM kill since: gone, and nothing more to say; a capture without a time: no rates
    quiet = tmp_path / "quiet"
    diff_side(quiet, (40,), 1600, 1000600.0, 0)
    os.unlink(str(quiet / "40" / "captured_at"))
    status, out, _ = pymap(quiet, "--diff", before, "41")
    assert out.splitlines()[1] == b"  gone since the capture"
    out = pymap(quiet, "--diff", before, "40")[1]
    assert b"per minute" not in out and out.splitlines()[-1].startswith(b"  total kB")


def test_diff_says_why_a_side_cannot_be_read(tmp_path):
    """--diff against a snapshot whose smaps is missing, or not a file: the
    process's header, then one line naming the file and the reason; status 1."""
    before, after = tmp_path / "before", tmp_path / "after"
    diff_side(before, (40,), 1000, 1000000.0, 0)
    diff_side(after, (40,), 1600, 1000600.0, 0)
    smaps = after / "40" / "smaps"
    os.unlink(str(smaps))
    assert pymap(after, "--diff", before, "40") == (1, b"40:   p40\n", b"pymap: %s: No such file or directory\n"
                                                     % bytes(smaps))
    smaps.mkdir()
    assert pymap(after, "--diff", before, "40")[2] == b"pymap: %s: not a regular file\n" % bytes(smaps)


# --- --capture of the cgroups' files --------------------------------------------------------


def test_capture_saves_the_cgroups_files(host, tmp_path):
    """A capture holds each captured process's memory cgroup and its
    ancestors (the files pymap reads), answers --by=cgroup as its source
    does, and never overwrites a cgroup's file an earlier capture saved."""
    snap = tmp_path / "snap"
    status, out, err = pymap(host, "--capture", snap, "10", "30")
    assert (status, out, err) == (0, b"", b"")
    saved = snap / "cgroup" / "v2"
    for path in ("/", "/system.slice", NGINX, "/kubepods.slice", POD_SLICE, CONTAINER):
        source = host / "cgroup" / "v2" / path.lstrip("/")
        copy = saved / path.lstrip("/")
        names = sorted(name for name in os.listdir(str(source)) if (source / name).is_file())
        assert sorted(name for name in os.listdir(str(copy)) if (copy / name).is_file()) == names, path
        for name in names:
            assert (copy / name).read_bytes() == (source / name).read_bytes()
            assert os.stat(str(copy / name)).st_mode & 0o777 == 0o600
    assert not (saved / DOCKER.lstrip("/")).exists()  # no captured process is there
    assert (snap / "10" / "cgroup").read_bytes() == b"0::%s\n" % NGINX.encode()
    wanted = ("--summary", "--by=cgroup", "--json", "-q", "10", "30")
    assert objects(pymap(snap, *wanted)[1]) == objects(pymap(host, *wanted)[1])
    # a later capture into the same folder keeps what the first saved of a cgroup
    (host / "cgroup" / "v2" / NGINX.lstrip("/") / "memory.current").write_bytes(b"1\n")
    assert pymap(host, "--capture", snap, "11")[0] == 0
    assert (saved / NGINX.lstrip("/") / "memory.current").read_bytes() == b"%d\n" % (50 * MIB)


def test_capture_follows_no_link_to_its_cgroup_folder(host, tmp_path):
    snap = tmp_path / "snap"
    snap.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), str(snap / "cgroup"))
    status, out, err = pymap(host, "--capture", snap, "10")
    assert (status, out) == (1, b"")
    assert err == b"pymap: %s/cgroup: not a folder (pymap follows no link in a snapshot)\n" % bytes(snap)
    assert os.listdir(str(elsewhere)) == [] and (snap / "10" / "stat").exists()


def test_balance_on_older_kernels(tmp_path):
    """Rollups without Pss_File and Pss_Shmem (before 5.7) and a meminfo
    without SUnreclaim, SecPageTables or Percpu: page cache and shmem no
    process maps are Cached + Buffers - Mapped, in one line; slab is Slab;
    processes that share nothing (Pss = Uss) share 0."""
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(b"MemTotal: 8000000 kB\nMemFree: 5000000 kB\nMemAvailable: 6000000 kB\n"
                                   b"Buffers: 1000 kB\nCached: 900000 kB\nShmem: 50000 kB\nMapped: 120000 kB\n"
                                   b"Slab: 70000 kB\nKernelStack: 9000 kB\nPageTables: 8000 kB\n")
    process(root, 3, b"0::/a\n", anon=2000, file=300, pss=2000, uss=2000, split=False)
    process(root, 4, b"0::/a\n", anon=1000, file=300, pss=1000, uss=1000, split=False)
    [*_, totals] = objects(pymap(root, "--summary", "--json")[1])
    balance = totals["balance"]
    assert (balance["uss"], balance["shared"]) == (3000, 0)
    assert balance["page_cache_unmapped"] == 900000 + 1000 - 120000 and balance["shmem_unmapped"] is None
    assert balance["kernel"] == {"slab": 70000, "page_tables": 8000, "kernel_stack": 9000, "percpu": 0}
    assert balance["rest"] == 8000000 - (3000 + 781000 + 87000 + 5000000)
    text = pymap(root, "--summary")[1]
    assert b"  781000  page cache and shmem no process maps (Cached + Buffers - Mapped)\n" in text
    assert b"shmem no process maps: tmpfs" not in text


def test_machine_balance_with_all_shmem_mapped(tmp_path):
    """Processes whose Pss_Shmem adds up to more than meminfo's Shmem (it
    moved between the reads): no shmem left unmapped, not a negative one."""
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO.replace(b"Shmem:            200000 kB", b"Shmem:               400 kB"))
    process(root, 3, b"0::/a\n", anon=1000, shmem=500)
    [*_, totals] = objects(pymap(root, "--summary", "--json")[1])
    assert totals["balance"]["shmem_unmapped"] == 0


def test_cgroup_balance_edges(tmp_path):
    """A cgroup whose page cache is all mapped (nothing unmapped), and one
    without memory.stat: the lines the charge allows."""
    root = tmp_path / "proc"
    root.mkdir()
    (root / "meminfo").write_bytes(MEMINFO)
    process(root, 3, b"0::/mapped\n", anon=1024, file=1024)
    process(root, 4, b"0::/nostat\n", anon=1024)
    cgroup(root, 2, "/mapped", **v2_files(3 * MIB, anon=MIB, file=MIB, file_mapped=MIB, kernel=MIB))
    cgroup(root, 2, "/nostat", **{name: data for name, data in v2_files(MIB).items() if name != "memory_stat"})
    [*_, totals] = objects(pymap(root, "--summary", "--json", "--cgroup=/mapped")[1])
    assert totals["balance"]["unmapped"] == 0 and totals["balance"]["rss_above_charge"] == 0
    assert totals["balance"]["not_in_rss"] == 1024
    [*_, totals] = objects(pymap(root, "--summary", "--json", "--cgroup=/nostat")[1])
    assert totals["balance"] == {"of": "cgroup", "cgroup": "/nostat", "usage": 1024, "rss_sum": 1524,
                                 "rss_above_charge": None}
    text = pymap(root, "--summary", "--cgroup=/nostat")[1]
    assert text.endswith(b"(its memory.stat, kB):\n  1024  usage (memory.current)\n  1524  the processes' Rss summed\n")


def test_v2_root_cgroup(host):
    """A process in the real root cgroup of v2 (which has memory.stat but no
    charge, limit or events of its own): a row that says so, no limit."""
    process(host, 2, b"0::/\n", anon=700)
    rows = {row["cgroup"]: row for row in objects(pymap(host, "--summary", "--by=cgroup", "--json", "-q")[1])}
    root = rows["/"]
    assert (root["processes"], root["usage"], root["limit"], root["oom_kills"]) == (1, None, None, None)
    assert root["notes"] == ["the root cgroup: its charge is the machine's (/proc/meminfo)"]
    assert list(rows)[-1] == "/"  # no charge: last


@needs_client
def test_cgroup_metrics_are_the_json_rows(host):
    """--by=cgroup --openmetrics: each cgroup's series are its --json row in
    bytes (the processes' sums, and the cgroup's usage, tightest limit,
    charge by memory.stat, what is in no RSS), a counter of its OOM kills,
    and no limit sample where it is unlimited."""
    status, out, err = pymap(host, "--summary", "--by=cgroup", "--openmetrics")
    assert (status, err) == (0, b"")
    families = read_openmetrics(out)
    rows = objects(pymap(host, "--summary", "--by=cgroup", "--json")[1])[:-1]
    memory = {}
    for sample in families["pymap_cgroup_memory_bytes"].samples:
        memory.setdefault(sample.labels["cgroup"], {})[sample.labels["kind"]] = sample.value
    kills = {sample.labels["cgroup"]: sample.value for sample in families["pymap_cgroup_oom_kills"].samples}
    counts = {sample.labels["cgroup"]: sample.value for sample in families["pymap_processes"].samples}
    assert set(memory) == set(kills) == set(counts) == {row["cgroup"] for row in rows}
    for row in rows:
        expected = {kind: row[figure] * KB for kind, figure in (
            ("rss", "Rss"), ("pss", "Pss"), ("uss", "Uss"), ("swap", "Swap"), ("anon", "RssAnon"),
            ("file", "RssFile"), ("shmem", "RssShmem"), ("usage", "usage"), ("limit", "limit"),
            ("not_in_rss", "not_in_rss"))
            if row[figure] is not None}
        expected.update({"charge_" + kind: row["breakdown"][kind] * KB for kind in ("anon", "file", "shmem", "kernel")})
        assert memory[row["cgroup"]] == expected, row["cgroup"]
        assert (kills[row["cgroup"]], counts[row["cgroup"]]) == (row["oom_kills"], row["processes"])
    assert "limit" not in memory[DOCKER] and memory[CONTAINER]["limit"] == 80 * MIB
    assert families["pymap_cgroup_oom_kills"].type == "counter" and kills[NGINX] == 2
    # the textfile has the same series, in the text format (promtool checks it where installed)
    folder = host.parent / "textfile"
    folder.mkdir(mode=0o755)
    assert pymap(host, "--summary", "--by=cgroup", "--textfile", folder) == (0, b"", b"")
    assert os.listdir(folder) == ["pymap-cgroup.prom"], "beside the programs' pymap.prom"
    text_families = read_text_format((folder / "pymap-cgroup.prom").read_bytes())
    assert sorted((sample.labels["cgroup"], sample.value) for sample in
                  text_families["pymap_cgroup_oom_kills"].samples) == sorted(kills.items())
    assert len(text_families["pymap_cgroup_memory_bytes"].samples) == sum(map(len, memory.values()))
