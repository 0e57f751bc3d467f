"""--summary: stopped targets with known anonymous, file and shmem memory;
every figure is the kernel's own (smaps_rollup, status, the OOM files),
groupings add up to the processes, sorting, processes that cannot be read,
a snapshot prints what the live run printed, generated rollups."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.support import livetools
from tests.support import TIMEOUT
from pymap.command.cli import run_captured

pytestmark = pytest.mark.live

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# anonymous pages written, file pages read, shared anonymous (shmem) pages
# written, then an oom_score_adj: each target a different amount
TARGET = r"""
import mmap, os, sys
PAGE = mmap.PAGESIZE
anon_pages, file_pages, shmem_pages = (int(word) for word in sys.argv[1:4])
anon = mmap.mmap(-1, PAGE * anon_pages, flags=mmap.MAP_PRIVATE)
for i in range(anon_pages):
    anon[i * PAGE] = 1
fd = os.open(sys.argv[4], os.O_RDONLY)
data = mmap.mmap(fd, PAGE * file_pages, prot=mmap.PROT_READ)
for i in range(file_pages):
    data[i * PAGE]
shared = mmap.mmap(-1, PAGE * shmem_pages, flags=mmap.MAP_SHARED)
for i in range(shmem_pages):
    shared[i * PAGE] = 1
with open("/proc/self/oom_score_adj", "w") as handle:
    handle.write(sys.argv[5])
"""
SHAPES = [(2000, 50, 10, "0"), (300, 900, 20, "500"), (100, 10, 1500, "200")]


@pytest.fixture(scope="module")
def targets():
    folder = tempfile.mkdtemp(prefix="pymap-summary-")
    path = os.path.join(folder, "data.bin")
    with open(path, "wb") as handle:
        handle.write(os.urandom(1000 * os.sysconf("SC_PAGE_SIZE")))
    stack = []
    try:
        pids = []
        for anon, file_pages, shmem, adj in SHAPES:
            context = livetools.stopped_process(TARGET, [str(anon), str(file_pages), str(shmem), path, adj])
            pids.append(context.__enter__())
            stack.append(context)
        yield pids
    finally:
        for context in stack:
            context.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)


def _pymap(*args):
    environ = livetools.base_environ(locale="C.UTF-8")
    environ["PATH"] = livetools.launcher_dir() + ":" + environ["PATH"]
    return subprocess.run(["pymap"] + list(args), executable=os.path.join(livetools.launcher_dir(), "pymap"),
                          env=environ, capture_output=True, timeout=TIMEOUT)


def _rows(result):
    return [json.loads(line) for line in result.stdout.splitlines()]


def _kernel_figures(pid):
    """What the kernel's files say, read here."""
    with open("/proc/%d/smaps_rollup" % pid, "rb") as handle:
        rollup = {key.decode(): int(value) for key, value in re.findall(rb"(?m)^(\w+):\s+(\d+) kB", handle.read())}
    with open("/proc/%d/status" % pid, "rb") as handle:
        status = {key.decode(): int(value) for key, value in re.findall(rb"(?m)^(\w+):\s+(\d+) kB", handle.read())}
    with open("/proc/%d/oom_score_adj" % pid, "rb") as handle:
        adj = int(handle.read())
    with open("/proc/%d/oom_score" % pid, "rb") as handle:
        score = int(handle.read())
    return rollup, status, adj, score


def test_figures_are_the_kernels(targets):
    result = _pymap("--summary", "--json", "-q", *map(str, targets))
    assert result.returncode == 0, result.stderr
    rows = {row["pid"]: row for row in _rows(result)}
    assert sorted(rows) == sorted(targets)
    for pid, (anon, file_pages, shmem, adj) in zip(targets, SHAPES):
        row = rows[pid]
        rollup, status, kernel_adj, score = _kernel_figures(pid)
        # not moved by who else maps the same pages
        assert row["Rss"] == rollup["Rss"] and row["Swap"] == rollup["Swap"] == 0
        assert (row["RssAnon"], row["RssFile"], row["RssShmem"]) == (status["RssAnon"], status["RssFile"],
                                                                    status["RssShmem"])
        assert row["oom_score_adj"] == kernel_adj == int(adj) and row["oom_score"] == score
        # what the target did is there
        assert row["RssAnon"] >= anon * PAGE_KB and row["RssShmem"] >= shmem * PAGE_KB
        assert row["RssFile"] >= file_pages * PAGE_KB
        assert row["Uss"] >= (anon + shmem) * PAGE_KB and row["Pss"] >= row["Uss"]
        assert row["source"] == "smaps_rollup" and row["uid"] == os.geteuid()
        assert row["comm"] == "python3" or row["comm"] == os.path.basename(sys.executable)[:15]
        assert row["cmdline"][0] == sys.executable


@pytest.fixture(scope="module")
def snapshot(targets):
    folder = tempfile.mkdtemp(prefix="pymap-summary-snap-")
    result = _pymap("--capture", os.path.join(folder, "snap"), *map(str, targets))
    assert result.returncode == 0, result.stderr
    yield os.path.join(folder, "snap")
    shutil.rmtree(folder, ignore_errors=True)


def _snapshot_rollups(snapshot, pid):
    with open(os.path.join(snapshot, str(pid), "smaps_rollup"), "rb") as handle:
        return {key.decode(): int(value) for key, value in re.findall(rb"(?m)^(\w+):\s+(\d+) kB", handle.read())}


def test_snapshot_figures_are_its_files(targets, snapshot):
    rows = _rows(_pymap("--summary", "--json", "--proc-root", snapshot))
    totals = rows.pop()
    assert sorted(row["pid"] for row in rows) == sorted(targets)
    for row in rows:
        rollup = _snapshot_rollups(snapshot, row["pid"])
        assert (row["Rss"], row["Pss"], row["Swap"], row["SwapPss"]) == (rollup["Rss"], rollup["Pss"],
                                                                        rollup["Swap"], rollup["SwapPss"])
        assert row["Uss"] == rollup["Private_Clean"] + rollup["Private_Dirty"]
    for name in ("Rss", "Pss", "Uss", "Swap", "SwapPss", "RssAnon", "RssFile", "RssShmem"):
        assert totals["totals"][name] == sum(row[name] for row in rows)
    assert totals["processes"] == len(rows) and totals["unreadable"] == 0


def _reader_independent(table):
    """The table's cells but Pss and Uss: the kernel's Pss of a shared page,
    and whether a clean page counts as private, move with which pages each
    reader (pymap included) has touched, so a snapshot's and a later live
    reading may differ there only."""
    lines = table.split(b"\n")
    heading = lines[0].split()
    masked = {heading.index(b"Pss"), heading.index(b"Uss")}
    return [[cell for index, cell in enumerate(line.split(None, len(heading) - 1)) if index not in masked]
            if not line.startswith(b" ") else line.split()[:1] for line in lines]


def test_snapshot_prints_what_the_live_run_printed(targets, snapshot):
    pids = [str(pid) for pid in targets]
    live = _pymap("--summary", *pids)
    saved = _pymap("--summary", "--proc-root", snapshot, *pids)
    assert live.returncode == saved.returncode == 0
    assert _reader_independent(saved.stdout) == _reader_independent(live.stdout)
    # and a snapshot read twice prints the same bytes
    assert _pymap("--summary", "--proc-root", snapshot, *pids).stdout == saved.stdout
    # the totals line too, but for its Pss and Uss
    live_total, saved_total = (output.split(b"\n")[-2].split() for output in (live.stdout, saved.stdout))
    assert live_total[:3] + live_total[5:] == saved_total[:3] + saved_total[5:]


def test_sorting(snapshot, targets):
    def column(key, field):
        return [row[field] for row in _rows(_pymap("--summary", "--json", "-q", "--sort=" + key, "--proc-root",
                                                   snapshot))]

    for key, field in (("pss", "Pss"), ("rss", "Rss"), ("uss", "Uss"), ("swap", "Swap"), ("oom", "oom_score")):
        values = column(key, field)
        assert values == sorted(values, reverse=True), key
    assert column("pid", "pid") == sorted(targets)
    # the default is PSS, largest first; the OOM killer's pick is the first of --sort=oom
    assert column("pss", "pid") == [row["pid"] for row in _rows(_pymap("--summary", "--json", "-q", "--proc-root",
                                                                       snapshot))]
    first = column("oom", "pid")[0]
    scores = {pid: _kernel_figures(pid)[3] for pid in targets}
    assert scores[first] == max(scores.values())


def test_groups_add_up(snapshot, targets):
    processes = _rows(_pymap("--summary", "--json", "-q", "--proc-root", snapshot))
    for by in ("program", "user"):
        groups = _rows(_pymap("--summary", "--json", "-q", "--by=" + by, "--proc-root", snapshot))
        assert sum(group["processes"] for group in groups) == len(processes)
        for name in ("Rss", "Pss", "Uss", "RssAnon", "RssShmem"):
            assert sum(group[name] for group in groups) == sum(row[name] for row in processes)
    programs = _rows(_pymap("--summary", "--json", "-q", "--by=program", "--proc-root", snapshot))
    assert [group["program"] for group in programs] == [os.path.basename(sys.executable)]
    # per mapped file, from smaps: the process count, and sums that are the processes' sums
    mappings = _rows(_pymap("--summary", "--json", "-q", "--by=mapping", "--proc-root", snapshot))
    assert sum(entry["Rss"] for entry in mappings) == sum(row["Rss"] for row in processes)
    data = next(entry for entry in mappings if entry["mapping"].endswith("/data.bin"))
    assert data["processes"] == len(targets)
    assert data["Rss"] == sum(file_pages for _, file_pages, _, _ in SHAPES) * PAGE_KB
    text = _pymap("--summary", "--by=mapping", "--proc-root", snapshot).stdout
    assert b"total kB" not in text  # a page in several processes is in several rows: no total


def test_text_table(snapshot, targets):
    text = _pymap("--summary", "--proc-root", snapshot).stdout.split(b"\n")
    heading = text[0].split()
    assert heading[:3] == [b"PID", b"User", b"Rss"] and heading[-1] == b"Command"
    # the totals row, then where the memory is (the capture's meminfo against its processes)
    assert text[4].split()[:1] == [b"total"] and text[4].endswith(b"(3 processes)")
    assert text[5].startswith(b"Where the memory is") and text[-1] == b""
    widths = {len(line.split(b" /")[0]) for line in text[1:4]}
    assert len(widths) == 1, "columns line up"
    quiet = _pymap("--summary", "-q", "--proc-root", snapshot).stdout.split(b"\n")
    assert quiet[-1] == b"" and sorted(int(line.split()[0]) for line in quiet[:-1]) == sorted(targets)
    assert [line.split() for line in quiet[:-1]] == [line.split() for line in text[1:4]]
    bars = _pymap("--summary", "--bars", "--proc-root", snapshot).stdout.decode().split("\n")
    shares = [float(re.search(r"(\d+\.\d)%", line).group(1)) for line in bars[1:4]]
    assert abs(sum(shares) - 100) < 0.5 and "\u2588" in bars[1]
    assert "Share" in bars[0]
    # each bar is as wide as its heading (20 characters of blocks and spaces, then the share), so the
    # commands line up under theirs
    assert {line.index(" /") + 1 for line in bars[1:4]} == {bars[0].index("Command")}, bars[:4]
    assert not any(b"\xe2" in line for line in _pymap("--summary", "--json", "--bars", "--proc-root",
                                                        snapshot).stdout.split(b"\n"))


def test_every_process_and_kernel_threads(tmp_path):
    """No PID: every process of the root; a process without memory (a
    kernel thread) only when named."""
    root = tmp_path / "proc"
    for pid, status in ((10, b"Name:\tkthread\nUid:\t0\t0\t0\t0\n"),
                        (20, b"Name:\tp\nUid:\t0\t0\t0\t0\nVmSize:\t  100 kB\nRssAnon:\t 8 kB\n")):
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "status").write_bytes(status)
        (root / str(pid) / "cmdline").write_bytes(b"p\0" if pid == 20 else b"")
        (root / str(pid) / "stat").write_bytes(b"%d (x) S 2 0 0 0" % pid)
        (root / str(pid) / "smaps_rollup").write_bytes(b"00-ff ---p 0 0:0 0 [rollup]\nRss: 8 kB\nPss: 8 kB\n")
    (root / "30").mkdir()  # a process that vanished: no status
    all_rows = run_captured([b"pymap", b"--summary", b"--json", b"--proc-root", bytes(root)], {})
    assert all_rows[0] == 0
    rows = [json.loads(line) for line in all_rows[1].splitlines()]
    assert [row.get("pid") for row in rows[:-1]] == [20] and rows[-1]["unreadable"] == 1
    assert all_rows[2] == b"pymap: 1 process could not be read: %s/30/status: No such file or directory\n" % bytes(root)
    named = run_captured([b"pymap", b"--summary", b"--json", b"-q", b"--proc-root", bytes(root), b"10", b"30"], {})
    # a snapshot's PID folder without status cannot be read (1), one that is not there is not found (42)
    assert named[0] == 1 and [json.loads(line)["pid"] for line in named[1].splitlines()] == [10]
    named = run_captured([b"pymap", b"--summary", b"--json", b"-q", b"--proc-root", bytes(root), b"10", b"40"], {})
    assert named[0] == 42 and [json.loads(line)["pid"] for line in named[1].splitlines()] == [10]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run pymap as another user")
@pytest.mark.skipif(livetools.SYSTEM_PYTHON is None, reason="needs a python3 in /usr/bin or /bin any user may run")
def test_unreadable_processes_are_counted(targets):
    """Run as nobody, the targets, root's, are counted on one line (with
    their PIDs), not shown."""
    with livetools.public_folder("pymap-code-") as folder:
        code = livetools.public_copy_of_pymap(folder)
        # named: exactly these, each named on the line, and status 1 (as pmap's for a map it cannot read)
        result = livetools.run_as_nobody(code, ["--summary"] + targets)
        assert result.returncode == 1
        assert result.stderr == b"pymap: %d processes could not be read: run as root to see them (PIDs %s)\n" % (
            len(targets), b", ".join(b"%d" % pid for pid in sorted(targets)))
        assert result.stdout.count(b"\n") == 2  # the heading and the totals, no row
        # every process: the targets are among those counted, and none is shown; other processes
        # may exit while they are read (the machine is busy), which adds a cause to the line
        result = livetools.run_as_nobody(code, ["--summary"])
    assert result.returncode == 0
    denied = re.search(rb"(?:: run as root to see them \(|\d+ access denied \()PIDs? ([0-9, ]+)(?: and (\d+) more)?\)",
                       result.stderr)
    assert re.fullmatch(rb"pymap: \d+ process(es)? could not be read[^\n]*\n", result.stderr) and denied, result.stderr
    shown = [int(pid) for pid in denied.group(1).split(b", ")]
    assert len(shown) + int(denied.group(2) or 0) >= len(targets)
    assert not any(str(pid).encode() + b" " in line for line in result.stdout.split(b"\n") for pid in targets)


def test_options():
    for args, message in (
            (["--by=program", "1"], b"pymap: option --by goes with --summary\n"),
            (["--summary", "--by=size"],
             b"pymap: --by: 'size' is not one of process, program, user, mapping, cgroup, role\n"),
            (["--summary", "--by=user", "--sort=oom"], b"pymap: --sort=oom goes with processes, not with --by=user\n"),
            (["--summary", "--sort=kbytes"],
             b"pymap: --sort: 'kbytes' is not one of pss, rss, uss, swap, oom, pid, command\n"),
            (["--summary", "-A", "0"], b"pymap: option --summary covers whole processes: -A is not supported with it\n")):
        result = _pymap(*args)
        assert (result.returncode, result.stderr) == (1, message), args


# --- generated rollups ----------------------------------------------------------

FIELDS = ("Rss", "Pss", "Pss_Anon", "Private_Clean", "Private_Dirty", "Swap", "SwapPss", "Locked")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 10 ** 12)),
                          st.integers(0, 10 ** 9), st.integers(-1000, 1000)), min_size=1, max_size=5),
       st.sampled_from(["pss", "rss", "uss", "swap", "pid"]))
def test_generated_rollups(tmp_path_factory, processes, sort):
    root = tmp_path_factory.mktemp("proc")
    for index, (fields, anon, adj) in enumerate(processes):
        folder = root / str(100 + index)
        folder.mkdir()
        (folder / "status").write_bytes(b"Name:\tg\nUid:\t%d\t%d\t0\t0\nVmSize:\t  1 kB\nRssAnon:\t%d kB\n"
                                        % (index, index, anon))
        (folder / "smaps_rollup").write_bytes(b"5000-6000 ---p 00000000 00:00 0 [rollup]\n" + b"".join(
            b"%s:%s%d kB\n" % (name.encode(), b" " * 8, value) for name, value in fields.items()))
        (folder / "cmdline").write_bytes(b"g\0-%d\0" % index)
        (folder / "oom_score_adj").write_bytes(b"%d\n" % adj)
    status, out, err = run_captured([b"pymap", b"--summary", b"--json", b"--sort=" + sort.encode(),
                                     b"--proc-root", bytes(root)], {})
    assert (status, err) == (0, b"")
    rows = [json.loads(line) for line in out.splitlines()]
    totals = rows.pop()
    assert len(rows) == len(processes)
    for row in rows:
        fields, anon, adj = processes[row["pid"] - 100]
        assert row["Rss"] == fields.get("Rss", 0) and row["Pss"] == fields.get("Pss", 0)
        assert row["Uss"] == fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        assert row["SwapPss"] == fields.get("SwapPss", 0) and row["RssAnon"] == anon
        assert row["oom_score_adj"] == adj and row["oom_score"] is None
    assert totals["totals"]["Rss"] == sum(fields.get("Rss", 0) for fields, _, _ in processes)
    key = {"pss": "Pss", "rss": "Rss", "uss": "Uss", "swap": "Swap"}.get(sort)
    if key:  # largest first, ties by PID
        assert [(row[key], row["pid"]) for row in rows] == sorted(((row[key], row["pid"]) for row in rows),
                                                                  key=lambda item: (-item[0], item[1]))
        assert [row["Swap"] for row in rows] == [processes[row["pid"] - 100][0].get("Swap", 0) for row in rows]
    else:
        assert [row["pid"] for row in rows] == sorted(row["pid"] for row in rows)


# the reading of status and smaps_rollup, stated as patterns (the module
# reads them with rfind(), so that --summary need not import re): the last
# line of each key that has the form
STATUS_SPEC = re.compile(rb"(?m)^(Uid|Tgid|State|VmSize|RssAnon|RssFile|RssShmem|VmSwap):[ \t]*([^\n]*)")
ROLLUP_SPEC = re.compile(rb"(?m)^(Rss|Pss|Private_Clean|Private_Dirty|Swap|SwapPss):[ \t]*([0-9]+) kB$")
KEYS = [b"Uid", b"Tgid", b"State", b"VmSize", b"RssAnon", b"Rss", b"Pss", b"Private_Clean", b"Swap", b"SwapPss",
        b"VmSwapX", b"Name", b"rss"]
LINE = st.tuples(st.sampled_from(KEYS + [b""]), st.sampled_from([b":", b": ", b":\t", b"", b" :"]),
                 st.sampled_from([b"", b" ", b"\t \t", b"  "]),
                 st.sampled_from([b"12", b"0", b"007", b"18446744073709551616", b"12abc", b"1_000", b"+5", b"-3",
                                  b"\xd9\xa3", b"", b"x"]),
                 st.sampled_from([b" kB", b" kB ", b"kB", b"", b" MB", b" kB\r", b"\t1\t2"])).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(LINE, max_size=12), ending=st.sampled_from([b"\n", b""]))
@example(lines=[b"Rss:    12 kB", b"Pss: 3 kB", b"Rss: 12 MB", b"Rss:x"], ending=b"")  # the last Rss line has no value
@example(lines=[b"RssAnon: 4 kB", b"Uid:\t0\t0", b"RssAnon:"], ending=b"\n")
def test_status_and_rollup_lines_as_the_patterns_read_them(lines, ending):
    from pymap.parse.c_rules import strtoul
    from pymap.parse.proc_files import counters, is_kilobytes, number

    text = b"\n".join(lines) + ending
    status_keys = (b"Uid", b"Tgid", b"State", b"VmSize", b"RssAnon", b"RssFile", b"RssShmem", b"VmSwap")
    rollup_keys = (b"Rss", b"Pss", b"Private_Clean", b"Private_Dirty", b"Swap", b"SwapPss")
    assert counters(text, status_keys) == dict(STATUS_SPEC.findall(text))
    assert {key: value[:-3] for key, value in counters(text, rollup_keys, is_kilobytes).items()} == dict(
        ROLLUP_SPEC.findall(text))
    for value in dict(STATUS_SPEC.findall(text)).values():
        expected = strtoul(value, 10)[0] if value[:1].isdigit() else 0
        assert number(value) == expected, value


def test_smaps_without_rollup(tmp_path):
    """A kernel without smaps_rollup: smaps summed."""
    folder = tmp_path / "proc" / "7"
    folder.mkdir(parents=True)
    (folder / "status").write_bytes(b"Uid:\t0\t0\t0\t0\nVmSize:\t 1 kB\n")
    (folder / "smaps").write_bytes(
        b"1000-2000 rw-p 00000000 00:00 0 \nRss: 4 kB\nPss: 2 kB\nPrivate_Dirty: 4 kB\nSwap: 1 kB\n"
        b"3000-5000 r--p 00000000 08:01 9 /lib/x.so\nRss: 8 kB\nPss: 8 kB\nPrivate_Clean: 8 kB\n")
    status, out, _ = run_captured([b"pymap", b"--summary", b"--json", b"-q", b"--proc-root",
                                   bytes(tmp_path / "proc")], {})
    row = json.loads(out)
    assert status == 0 and (row["Rss"], row["Pss"], row["Uss"], row["Swap"], row["source"]) == (12, 10, 12, 1,
                                                                                               "smaps")


def test_forked_readers_give_what_one_reader_gives(snapshot, monkeypatch):
    """Many PIDs are read by forked helpers as well (their rows come back
    through a pipe); a helper that fails leaves its share to pymap itself."""
    from pymap.modes import summary

    argv = [b"pymap", b"--summary", b"--json", b"--by=process", b"--proc-root", os.fsencode(snapshot)]
    monkeypatch.setattr(summary, "READERS", 1)
    alone = run_captured(argv, {})
    by_mapping = run_captured(argv[:3] + [b"--by=mapping"] + argv[4:], {})
    by_role = run_captured(argv[:3] + [b"--by=role"] + argv[4:], {})
    monkeypatch.setattr(summary, "READERS", 3)
    monkeypatch.setattr(summary, "FORKED_MINIMUM", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    forks = []
    fork = os.fork

    def counted_fork():
        pid = fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    assert run_captured(argv, {}) == alone and len(forks) == 2
    assert run_captured(argv[:3] + [b"--by=mapping"] + argv[4:], {}) == by_mapping
    assert run_captured(argv[:3] + [b"--by=role"] + argv[4:], {}) == by_role and by_role[0] == 0
    # helpers that die before they send anything
    parent = os.getpid()
    real = summary.read_process_row
    monkeypatch.setattr(summary, "read_process_row",
                        lambda *arguments: os._exit(3) if os.getpid() != parent else real(*arguments))
    assert run_captured(argv, {}) == alone and len(forks) == 8


# --- hostile names: no row of --summary's text can be forged ---------------------------


def _started_as(*names):
    """``sleep`` processes started under the command names ``names`` (bytes,
    through exec -a), each stopped; yields their PIDs."""
    import contextlib

    @contextlib.contextmanager
    def started():
        children = []
        try:
            for name in names:
                child = subprocess.Popen(["bash", "-c", 'exec -a "$0" sleep 3600', name], stdin=subprocess.DEVNULL,
                                         env=livetools.base_environ())
                children.append(child)
                livetools.wait_until_exec(child.pid, b"sleep")
                os.kill(child.pid, 19)  # SIGSTOP
                livetools.wait_stopped(child.pid)
            yield [child.pid for child in children]
        finally:
            for child in children:
                child.kill()
                child.wait(timeout=TIMEOUT)

    return started()


FORGED_ROW = b"evil\n\t\t1\t99999999\t99999999\t99999999\t0\t0\t0\t0\t0\tsshd"


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_program_names_cannot_forge_rows(locale):
    names = [FORGED_ROW, b"\x1b[31mred", b"csi\x9b31m", b"c1\xc2\x9b31m", b"daemon: worker"]
    with _started_as(*names) as pids:
        environ = livetools.base_environ(locale=locale)
        environ["PATH"] = livetools.launcher_dir() + ":" + environ["PATH"]
        result = subprocess.run(["pymap", "--summary", "--by=program"] + [str(pid) for pid in pids],
                                executable=os.path.join(livetools.launcher_dir(), "pymap"), env=environ,
                                capture_output=True, timeout=TIMEOUT)
        assert (result.returncode, result.stderr) == (0, b"")
        lines = result.stdout.split(b"\n")
        # a heading, one row per program (daemon: worker is "daemon"), the totals; nothing else
        assert lines[-1] == b"" and len(lines) == 1 + len(names) + 1 + 1, result.stdout
        for line in lines:
            assert not any(byte < 0x20 or 0x7F <= byte <= 0x9F for byte in line.replace(b"\xc2\x9b", b"")), line
            assert b"\xc2\x9b" not in line and b"\x9b" not in line and b"\t" not in line
        programs = [line.split(None, 9)[-1] for line in lines[1:-2]]
        assert b"daemon" in programs and not any(b"worker" in program for program in programs)
        assert any(program.startswith(b"evil") and program.endswith(b"sshd") for program in programs)
        # JSON keeps the names, escaped as JSON escapes them
        rows = _rows(subprocess.run(["pymap", "--summary", "--by=program", "--json", "-q"] + [str(pid) for pid in pids],
                                    executable=os.path.join(livetools.launcher_dir(), "pymap"), env=environ,
                                    capture_output=True, timeout=TIMEOUT))
        keys = {row["program"].encode("utf-8", "surrogateescape") for row in rows}
        assert {FORGED_ROW, b"\x1b[31mred", b"daemon"} <= keys


def test_comm_and_mapping_names_cannot_forge_rows(tmp_path):
    """A process with an empty command line is grouped by its comm (which
    prctl(PR_SET_NAME) sets to anything), and --by=mapping by file names:
    both escaped in text, kept in JSON."""
    root = tmp_path / "proc"
    comm = b"ev\til\n\x1b]0;x\x07"
    mapping = b"/srv/evil\t\t1\t999999\tsshd\x1b[2J\x9b"  # (the kernel writes a newline as \\012)
    for pid, cmdline in ((30, b""), (31, b"ok\0")):
        folder = root / str(pid)
        folder.mkdir(parents=True)
        (folder / "status").write_bytes(b"Name:\tx\nTgid:\t%d\nUid:\t0\t0\t0\t0\nVmSize:\t 8 kB\n" % pid)
        (folder / "stat").write_bytes(b"%d (%s) S 1 1 1 0" % (pid, comm))
        (folder / "comm").write_bytes(comm + b"\n")
        (folder / "cmdline").write_bytes(cmdline)
        (folder / "smaps").write_bytes(b"1000-2000 r--p 00000000 08:01 9 %s\nRss: 4 kB\nPrivate_Clean: 4 kB\n"
                                       % mapping)
    for by, count in ((b"program", 2), (b"mapping", 1)):
        status, out, err = run_captured([b"pymap", b"--summary", b"--by=" + by, b"--proc-root", bytes(root)],
                                        {b"LANG": b"C.UTF-8"})
        assert (status, err) == (0, b"")
        lines = out.split(b"\n")
        assert len(lines) == 1 + count + (by == b"program") + 1, out
        assert not any(byte < 0x20 or 0x7F <= byte <= 0x9F for line in lines for byte in line), out
        status, out, err = run_captured([b"pymap", b"--summary", b"--by=" + by, b"--json", b"-q", b"--proc-root",
                                         bytes(root)], {b"LANG": b"C.UTF-8"})
        keys = {row[by.decode()].encode("utf-8", "surrogateescape") for row in _rows(
            subprocess.CompletedProcess([], 0, out, err))}
        assert (comm if by == b"program" else mapping) in keys


def test_rows_are_cut_to_the_terminal_only(tmp_path):
    """One process with 3,000 arguments: on a terminal its row is cut to the
    terminal's width (COLUMNS first, as ps), whole with -w/--wide and in a
    pipe.  (Read from a capture: a shared page's Pss moves between reads.)"""
    arguments = ["argument-%04d" % index for index in range(3000)]
    environ = livetools.base_environ()
    with livetools.stopped_process("", argv_tail=arguments) as pid:
        assert run_captured([b"pymap", b"--capture", bytes(tmp_path / "cap"), b"%d" % pid], {})[0] == 0
    summary = ["--summary", "--proc-root", tmp_path / "cap"]
    piped = subprocess.run([sys.executable, "-m", "pymap"] + [str(arg) for arg in summary], cwd=livetools.ROOT,
                           env=dict(environ, COLUMNS="60"), capture_output=True, timeout=TIMEOUT)
    whole = piped.stdout.split(b"\n")
    assert whole[1].endswith(b"argument-2999") and len(whole[1]) > 30000
    for columns, extra, width in ((100, {}, 100), (100, {"COLUMNS": "60"}, 60), (100, {}, None)):
        options = ["-w"] if width is None else []
        status, output = livetools.on_terminal(summary + options, dict(environ, **extra), columns=columns)
        lines = output.replace(b"\r\n", b"\n").split(b"\n")[:-1]
        # the heading, the row and the totals are cut; the lines of where the memory is are prose, whole
        assert status == 0 and len(lines) == len(whole) - 1 and whole[3].startswith(b"Where"), output[:300]
        assert lines == [line if width is None or index >= 3 else line[:width]
                         for index, line in enumerate(whole[:-1])]
    # in UTF-8 too (a character is one column there)
    status, output = livetools.on_terminal(summary, livetools.base_environ("C.UTF-8"), columns=70)
    assert output.replace(b"\r\n", b"\n").split(b"\n")[1] == whole[1][:70]
    status, output = livetools.on_terminal(summary + ["--wide"], environ, columns=80)
    assert output.replace(b"\r\n", b"\n").split(b"\n")[1] == whole[1]
    # -w is pymap's only with --summary: without it, an invalid option, as for pmap
    result = subprocess.run([sys.executable, "-m", "pymap", "-w", "1"], cwd=livetools.ROOT, env=environ,
                            capture_output=True, timeout=TIMEOUT)
    assert result.returncode == 1 and result.stderr.startswith(b"pymap: invalid option -- 'w'\n")


def test_help_lists_every_sort_key_and_grouping():
    """--help names each key --sort accepts and each grouping --by accepts
    (the keys as the refusal of a wrong one lists them)."""
    help_text = _pymap("--help").stdout

    def listed(option, mode):
        """The words of the lines under --OPTION's line that name MODE (a
        long list shares more than one)."""
        section = help_text.split(b"\n     --%s=" % option)[1].split(b"\n     --")[0]
        return b" ".join(re.findall(rb"^ {31}%s: ([a-z ]+)$" % mode.encode(), section, re.M)).split(b" ")

    for mode, extra in (("--summary", []), ("--diff", ["/"])):
        refusal = _pymap(mode, *extra, "--sort=nonsense", "1").stderr
        keys = re.search(rb"is not one of (.*)\n", refusal).group(1).split(b", ")
        assert listed(b"sort", mode) == keys, mode
    groups = re.search(rb"is not one of (.*)\n", _pymap("--summary", "--by=nonsense").stderr).group(1).split(b", ")
    assert listed(b"by", "--summary") == groups


# --- what the kernel and ps say, against what --summary says -------------------------


def test_user_is_the_effective_one():
    """A process whose real, effective and saved uids differ (setresuid(0,
    nobody, 0)): User and uid are the effective one, as ps -o euid= says."""
    code = "import os\nos.setresuid(0, 65534, 0)\n"
    with livetools.stopped_process(code) as pid:
        euid = subprocess.run(["ps", "-o", "euid=", "-p", str(pid)], capture_output=True, timeout=TIMEOUT,
                              env=livetools.base_environ()).stdout.strip()
        ruid = subprocess.run(["ps", "-o", "ruid=", "-p", str(pid)], capture_output=True, timeout=TIMEOUT,
                              env=livetools.base_environ()).stdout.strip()
        assert (euid, ruid) == (b"65534", b"0")
        (row,) = _rows(_pymap("--summary", "--json", "-q", str(pid)))
        assert row["uid"] == int(euid) and row["user"] == "nobody"
        (group,) = _rows(_pymap("--summary", "--json", "-q", "--by=user", str(pid)))
        assert group["user"] == "nobody"


def _meminfo_kb(name):
    with open("/proc/meminfo", "rb") as handle:
        return int(re.search(rb"(?m)^%s:\s+(\d+) kB" % name.encode(), handle.read()).group(1))


def test_sort_oom_puts_the_kernels_choice_first():
    """A process holding about 1.2% of RAM + swap with oom_score_adj 0, and a
    small one with oom_score_adj 5 (0.5%): the first row of --sort=oom is the
    process with the highest /proc/PID/oom_score, the big one, though its
    adj is the lower."""
    total_kb = _meminfo_kb("MemTotal") + _meminfo_kb("SwapTotal")
    pages = total_kb * 12 // 1000 // PAGE_KB
    shapes = [(pages, 1, 1, "0"), (10, 1, 1, "5")]
    folder = tempfile.mkdtemp(prefix="pymap-summary-oom-")
    path = os.path.join(folder, "data.bin")
    with open(path, "wb") as handle:
        handle.write(b"\0" * PAGE_KB * 1024)
    contexts = []
    try:
        pids = []
        for anon, file_pages, shmem, adj in shapes:
            contexts.append(livetools.stopped_process(TARGET, [str(anon), str(file_pages), str(shmem), path, adj]))
            pids.append(contexts[-1].__enter__())
        scores = {pid: _kernel_figures(pid)[3] for pid in pids}
        assert scores[pids[0]] > scores[pids[1]], scores  # the kernel would choose the big one
        rows = _rows(_pymap("--summary", "--json", "-q", "--sort=oom", *map(str, reversed(pids))))
        assert rows[0]["pid"] == max(scores, key=scores.get) == pids[0]
        assert [row["oom_score"] for row in rows] == sorted(scores.values(), reverse=True)
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)


def test_sort_by_command_orders_the_command_column(tmp_path):
    """--sort=command: the rows in the byte order of their Command column,
    where a process with no command line (one that cleared it) shows [comm]."""
    for pid, cmdline, comm in ((10, b"b-daemon\0", b"b-daemon"), (11, b"", b"renamed"), (12, b"a\0-x\0", b"a"),
                               (13, b"c\0", b"c")):
        folder = tmp_path / str(pid)
        folder.mkdir()
        (folder / "status").write_bytes(b"Name:\t%s\nUid:\t0\t0\t0\t0\nTgid:\t%d\nState:\tS (sleeping)\n"
                                        b"VmSize:\t 4 kB\nVmRSS:\t 4 kB\nRssAnon:\t 4 kB\nRssFile:\t 0 kB\nRssShmem:\t 0 kB\n"
                                        % (comm, pid))
        (folder / "cmdline").write_bytes(cmdline)
        (folder / "comm").write_bytes(comm + b"\n")
        (folder / "smaps_rollup").write_bytes(b"00400000-00401000 ---p 00000000 00:00 0 [rollup]\nRss: 4 kB\n"
                                              b"Pss: 4 kB\nPrivate_Dirty: 4 kB\n")
    result = _pymap("--summary", "-q", "--sort=command", "--proc-root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    commands = [line.split(None, 12)[12] for line in result.stdout.splitlines()]
    assert commands == sorted(commands) == [b"[renamed]", b"a -x", b"b-daemon", b"c"]


def test_a_process_that_exits_while_it_is_read_is_counted(monkeypatch):
    """A process that exits between its status and its smaps_rollup (made to
    exit there: the read of its rollup first kills and reaps it) is counted
    on stderr's line and in the JSON totals' "unreadable" alike."""
    from pymap.source import ProcessFiles

    with livetools.stopped_process("") as victim:
        real = ProcessFiles.read

        def read(self, name, limit=None):
            if self.pid == victim and name == b"smaps_rollup":
                os.kill(victim, 9)
                os.waitpid(victim, 0)
            return real(self, name, limit)

        monkeypatch.setattr(ProcessFiles, "read", read)
        status, out, err = run_captured([b"pymap", b"--summary", b"--json"], {})
    rows = [json.loads(line) for line in out.splitlines()]
    counted = int(re.match(rb"pymap: (\d+) process", err).group(1))
    assert status == 0 and rows[-1]["unreadable"] == counted >= 1
    assert re.search(rb"exited while being read[^\n]*PIDs? [0-9, ]*\b%d\b" % victim, err), err
    # "PID 12" for one, "PIDs 12, 40" for more
    word, pids = re.search(rb"exited while being read[^\n]*?(PIDs?) ([0-9]+(?:, [0-9]+)*)", err).groups()
    assert (word == b"PID") == (len(pids.split(b", ")) == 1), err
    assert victim not in [row.get("pid") for row in rows]


def test_by_mapping_figures_are_its_own_smaps(snapshot, targets):
    """--by=mapping: each name's Rss, Pss, Uss (Private_Clean + Private_Dirty),
    Swap and Anonymous are its smaps records' sums, read here from the
    capture."""
    sums = {}
    for pid in targets:
        with open(os.path.join(snapshot, str(pid), "smaps"), "rb") as handle:
            name = None
            for line in handle:
                header = re.match(rb"[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+ *(.*)\n", line)
                if header:
                    name = header.group(1) or b"[anon]"
                    entry = sums.setdefault(name, dict.fromkeys(("Rss", "Pss", "Uss", "Swap", "Anonymous"), 0))
                    continue
                key, _, value = line.partition(b":")
                figure = {b"Private_Clean": "Uss", b"Private_Dirty": "Uss"}.get(key, key.decode())
                if figure in entry:
                    entry[figure] += int(value.split()[0])
    rows = {row["mapping"].encode("utf-8", "surrogateescape"): row
            for row in _rows(_pymap("--summary", "--json", "--by=mapping", "--proc-root", snapshot))}
    assert set(rows) == set(sums)
    for name, expected in sums.items():
        assert {figure: rows[name][figure] for figure in expected} == expected, name


def test_by_mapping_uss_counts_clean_private_pages(tmp_path):
    """A snapshot whose mappings hold private clean pages (a file read by
    one process alone): each name's Uss is its Private_Clean + Private_Dirty."""
    root = tmp_path / "proc"
    expected = {}
    for pid, (clean, dirty) in ((31, (40, 8)), (32, (4, 0))):
        folder = root / str(pid)
        folder.mkdir(parents=True)
        (folder / "status").write_bytes(b"Name:\tx\nTgid:\t%d\nUid:\t0\t0\t0\t0\nVmSize:\t 8 kB\n" % pid)
        (folder / "stat").write_bytes(b"%d (x) S 1 1 1 0" % pid)
        (folder / "cmdline").write_bytes(b"x\0")
        (folder / "smaps").write_bytes(
            b"1000-30000 r--p 00000000 08:01 9 /lib/shared.so\nRss: %d kB\nPrivate_Clean: %d kB\n"
            b"Private_Dirty: %d kB\n40000-41000 rw-p 00000000 00:00 0 \nRss: 4 kB\nPrivate_Dirty: 4 kB\n"
            % (clean + dirty, clean, dirty))
        expected[b"/lib/shared.so"] = expected.get(b"/lib/shared.so", 0) + clean + dirty
        expected[b"[anon]"] = expected.get(b"[anon]", 0) + 4
    status, out, err = run_captured([b"pymap", b"--summary", b"--json", b"--by=mapping", b"--proc-root",
                                     bytes(root)], {})
    assert (status, err) == (0, b"")
    assert {row["mapping"].encode(): row["Uss"] for row in map(json.loads, out.splitlines())} == expected
