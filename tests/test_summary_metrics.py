"""--summary --openmetrics and --textfile: every output read back by
prometheus_client's parsers (and promtool where installed); the families'
sums are --summary --json's totals on the same snapshot; process names of
any bytes (real processes with hostile command names and comms) come back
whole; the OOM badness is the kernel's (its oom_score follows from it);
the options and their refusals; the textfile's folder as the command
meets it."""

import json
import os
import re
import stat
import subprocess
import sys
import tempfile

import pytest

from pymap.command.cli import run_captured
from pymap.report.openmetrics import decode_label_value
from tests.support import TIMEOUT
from tests.support import livetools
from tests.support.prometheus import needs_client, read_openmetrics, read_text_format

pytestmark = [pytest.mark.live, needs_client]

PAGE = os.sysconf("SC_PAGE_SIZE")
KINDS = {"rss": "Rss", "pss": "Pss", "uss": "Uss", "swap": "Swap", "anon": "RssAnon", "file": "RssFile",
         "shmem": "RssShmem"}
MAPPING_KINDS = {"rss": "Rss", "pss": "Pss", "uss": "Uss", "swap": "Swap", "anon": "Anonymous"}
ENVIRON = {b"LANG": b"C.UTF-8"}

# anonymous and shared pages written, an oom_score_adj, then (hex; may be
# empty) a comm set with prctl(PR_SET_NAME) and the command line blanked
# (its arguments' memory zeroed: /proc/PID/cmdline is then NULs only, and
# the process is shown by its comm, as a process that has no command line)
TARGET = r"""
import ctypes, mmap, sys
anon_pages, shmem_pages, adj, comm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4])
anon = mmap.mmap(-1, mmap.PAGESIZE * anon_pages, flags=mmap.MAP_PRIVATE)
for i in range(anon_pages):
    anon[i * mmap.PAGESIZE] = 1
shared = mmap.mmap(-1, mmap.PAGESIZE * max(shmem_pages, 1), flags=mmap.MAP_SHARED)
for i in range(shmem_pages):
    shared[i * mmap.PAGESIZE] = 1
with open("/proc/self/oom_score_adj", "w") as handle:
    handle.write(adj)
if comm:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, ctypes.c_char_p(comm), 0, 0, 0):  # PR_SET_NAME
        raise OSError(ctypes.get_errno(), "prctl")
    with open("/proc/self/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    start, end = int(fields[45]), int(fields[46])  # arg_start and arg_end, stat's fields 48 and 49
    ctypes.memset(start, 0, end - start)
"""

SHAPES = [(1500, 10, "0"), (200, 900, "400"), (600, 50, "100")]
# oom_score_adj below 0 needs CAP_SYS_RESOURCE, which root in a container may lack
LOWERED = [(600, 50, "-300"), (50, 5, "-1000")]


def can_lower_oom_score_adj():
    return subprocess.run(["sh", "-c", "echo -1 > /proc/self/oom_score_adj"], capture_output=True,
                          env=livetools.base_environ(), timeout=TIMEOUT).returncode == 0

# program names (argv[0], through exec -a) and comms (prctl) that break a
# careless exposition: quotes, backslashes, newlines, the text "\x9b" beside
# the byte 0x9B, invalid UTF-8, control characters, "# EOF"; argv[0]s hold no
# "/", ":" or " ", where a program's name is cut, and comms at most 15 bytes
ARGV0S = [b'ev"il\\x9b\n\xff\x9bx', b"\\x9b", b"\x9b", b"caf\xc3\xa9\xe2\x82", b"\xed\xa0\x80\r\t}{", b'a="b"']
COMMS = [b'q"\\\n\xff', b"\\\\x9b", b"\\\x9b", b"# EOF", b"\x1b[31m\x7f\xc2\x9b", b"\xf0\x9f\x98"]


def pymap(*args, environ=ENVIRON):
    """(status, stdout, stderr) of pymap ARGS, run in this process."""
    return run_captured([b"pymap"] + [os.fsencode(arg) if not isinstance(arg, bytes) else arg for arg in args],
                        environ)


def json_rows(output):
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture(scope="module")
def targets():
    """Stopped targets of SHAPES, with ordinary command lines."""
    contexts = []
    try:
        pids = []
        for anon, shmem, adj in SHAPES:
            contexts.append(livetools.stopped_process(TARGET, [str(anon), str(shmem), adj, ""]))
            pids.append(contexts[-1].__enter__())
        yield pids
    finally:
        for context in contexts:
            context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def hostile():
    """{pid: the name pymap groups it by}: stopped sleeps started as each of
    ARGV0S, and stopped targets named each of COMMS with no command line."""
    children = []
    contexts = []
    names = {}
    try:
        for name in ARGV0S:
            child = subprocess.Popen(["bash", "-c", 'exec -a "$0" sleep 3600', name], stdin=subprocess.DEVNULL,
                                     env=livetools.base_environ())
            children.append(child)
            livetools.wait_until_exec(child.pid, b"sleep")
            os.kill(child.pid, 19)  # SIGSTOP
            livetools.wait_stopped(child.pid)
            names[child.pid] = name
        for comm in COMMS:
            contexts.append(livetools.stopped_process(TARGET, ["1", "1", "0", comm.hex()]))
            pid = contexts[-1].__enter__()
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                assert handle.read().strip(b"\0") == b""  # shown by its comm
            with open("/proc/%d/comm" % pid, "rb") as handle:
                assert handle.read() == comm + b"\n"  # the kernel holds the name whole
            names[pid] = comm
        yield names
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=TIMEOUT)
        for context in contexts:
            context.__exit__(None, None, None)


@pytest.fixture(scope="module")
def machine(targets, hostile, tmp_path_factory):
    """A capture of every process of the machine (those that exit or cannot
    be read meanwhile are left out), the targets and hostile names among
    them: both readings of a comparison see the same figures."""
    folder = tmp_path_factory.mktemp("machine") / "capture"
    pids = sorted(name for name in os.listdir("/proc") if name.isdigit())
    pymap("--capture", folder, *pids)  # (status 1 or 42 when one exited or cannot be read)
    for pid in targets + list(hostile):
        assert os.path.isdir(folder / str(pid)), pid
    return folder


def samples(family, **wanted):
    return [sample for sample in family.samples
            if all(sample.labels.get(name) == value for name, value in wanted.items())]


# --- the families against --summary --json on one snapshot -------------------------------

@pytest.mark.parametrize("by", [None, "program", "user", "process"])
def test_sums_are_the_json_totals(machine, by):
    grouping = ["--by=" + by] if by else []
    status, out, err = pymap("--summary", "--openmetrics", "--proc-root", machine, *grouping)
    assert status == 0, err
    families = read_openmetrics(out)
    (totals,) = [row for row in json_rows(pymap("--summary", "--json", "--proc-root", machine, *grouping)[1])
                 if "totals" in row]
    group = by or "program"  # metrics are grouped by program unless --by says otherwise
    memory = families["pymap_%s_memory_bytes" % group]
    assert (memory.type, memory.unit) == ("gauge", "bytes") and memory.documentation
    for kind, figure in KINDS.items():
        assert sum(sample.value for sample in samples(memory, kind=kind)) == totals["totals"][figure] * 1024, kind
    assert {sample.labels["kind"] for sample in memory.samples} == set(KINDS)
    count = families["pymap_processes"]
    assert sum(sample.value for sample in count.samples) == totals["processes"]
    assert [(sample.labels, sample.value) for sample in families["pymap_unreadable_processes"].samples] == [
        ({"by": group}, totals["unreadable"])]
    # one series per group and kind
    groups = {sample.labels[group if group != "process" else "pid"] for sample in memory.samples}
    assert len(memory.samples) == len(groups) * len(KINDS)
    if group == "process":
        assert [sample.labels for sample in count.samples] == [{}]
        assert len(groups) == totals["processes"]
        assert "pymap_process_oom_badness" in families
    else:
        assert len(count.samples) == len(groups) and "pymap_process_oom_badness" not in families
        assert not any(name.startswith("pymap_process_") for name in families)
    # --textfile writes the same figures in the Prometheus text format
    with tempfile.TemporaryDirectory(prefix="pymap-textfile-") as folder:
        os.chmod(folder, 0o755)
        assert pymap("--summary", "--textfile", folder, "--proc-root", machine, *grouping)[:2] == (0, b"")
        name = "pymap.prom" if group == "program" else "pymap-%s.prom" % group
        assert os.listdir(folder) == [name]
        with open(os.path.join(folder, name), "rb") as handle:
            text_families = read_text_format(handle.read())
    assert {name: sorted((sorted(sample.labels.items()), sample.value) for sample in family.samples)
            for name, family in text_families.items()} == \
        {name: sorted((sorted(sample.labels.items()), sample.value) for sample in family.samples)
         for name, family in families.items()}


def test_groups_are_the_json_groups(machine):
    """Each group's series are its --json row, for every grouping; with
    --by=mapping (no totals: a shared page is in several rows) and
    --by=role too."""
    for by, key, kinds in (("program", "program", KINDS), ("user", "user", KINDS),
                           ("mapping", "mapping", MAPPING_KINDS), ("role", "role", dict(size="Size", **MAPPING_KINDS))):
        families = read_openmetrics(pymap("--summary", "--openmetrics", "--by=" + by, "--proc-root", machine)[1])
        memory = families["pymap_%s_memory_bytes" % by]
        rows = [row for row in json_rows(pymap("--summary", "--json", "--by=" + by, "--proc-root", machine)[1])
                if key in row]
        read = {}
        for sample in memory.samples:
            read.setdefault(decode_label_value(sample.labels[key]), {})[sample.labels["kind"]] = sample.value
        assert read == {row[key].encode("utf-8", "surrogateescape"): {kind: row[figure] * 1024
                                                                       for kind, figure in kinds.items()}
                        for row in rows}, by
        counts = {decode_label_value(sample.labels[key]): sample.value
                  for sample in families["pymap_processes"].samples}
        assert counts == {row[key].encode("utf-8", "surrogateescape"): row["processes"] for row in rows}


def test_process_series_are_the_json_rows(machine):
    families = read_openmetrics(pymap("--summary", "--openmetrics", "--by=process", "--sort=pid", "--proc-root",
                                      machine)[1])
    rows = [row for row in json_rows(pymap("--summary", "--json", "-q", "--sort=pid", "--proc-root", machine)[1])]
    read = {}
    for sample in families["pymap_process_memory_bytes"].samples:
        read.setdefault(int(sample.labels["pid"]), {})[sample.labels["kind"]] = sample.value
    assert read == {row["pid"]: {kind: row[figure] * 1024 for kind, figure in KINDS.items()} for row in rows}
    # --sort orders the series as it orders the rows
    pids = [int(sample.labels["pid"]) for sample in samples(families["pymap_process_memory_bytes"], kind="rss")]
    assert pids == [row["pid"] for row in rows] == sorted(pids)


# --- real processes with hostile names ------------------------------------------------------

@pytest.mark.parametrize("locale", [b"C", b"C.UTF-8"])
def test_hostile_names_come_back_whole(hostile, locale):
    """Each name is one label value whatever its bytes (the locale changes
    nothing), decode_label_value() gives the process's very bytes back, and
    --summary --json groups them by the same names."""
    pids = [b"%d" % pid for pid in hostile]
    environ = {b"LANG": locale}
    wanted = sorted(hostile.values())
    for by in ("program", "process"):
        status, out, err = pymap("--summary", "--openmetrics", "--by=" + by, *pids, environ=environ)
        assert (status, err) == (0, b"")
        families = read_openmetrics(out)
        memory = families["pymap_%s_memory_bytes" % by]
        assert sorted(decode_label_value(sample.labels["program"]) for sample in samples(memory, kind="rss")) == \
            wanted
        lines = [line for line in out.split(b"\n") if line and not line.startswith(b"#")]
        assert len(lines) == sum(len(family.samples) for family in families.values())  # no name breaks a line
        if by == "process":
            assert {int(sample.labels["pid"]): decode_label_value(sample.labels["program"])
                    for sample in samples(memory, kind="rss")} == hostile
    rows = json_rows(pymap("--summary", "--json", "-q", "--by=program", *pids, environ=environ)[1])
    assert sorted(row["program"].encode("utf-8", "surrogateescape") for row in rows) == wanted


def test_program_labels_are_names_never_command_lines(targets):
    """A process's arguments are no label value: only its command's name."""
    with livetools.stopped_process("", argv_tail=["--secret=hunter2", "x" * 5000]) as pid:
        out = pymap("--summary", "--openmetrics", "--by=process", b"%d" % pid)[1]
    families = read_openmetrics(out)
    (sample,) = samples(families["pymap_process_memory_bytes"], kind="rss")
    assert sample.labels == {"pid": str(pid), "program": os.path.basename(sys.executable), "kind": "rss"}
    assert b"hunter2" not in out and b"xxxx" not in out


# --- the kernel's own figures --------------------------------------------------------------

def _kernel(pid, name):
    with open("/proc/%d/%s" % (pid, name), "rb") as handle:
        return handle.read()


def _kb(data, name):
    return int(re.search(rb"(?m)^%s:\s+(\d+) kB" % name.encode(), data).group(1))


def test_process_figures_and_badness_are_the_kernels(targets):
    """Stopped targets: their series are the kernel's files (Rss of
    smaps_rollup, the split of status), and their badness gives, through
    the kernel's formula, the kernel's own oom_score: the process the OOM
    killer picks has the highest."""
    check_against_the_kernel(targets, SHAPES)


@pytest.mark.skipif(not can_lower_oom_score_adj(), reason="needs CAP_SYS_RESOURCE to lower oom_score_adj")
def test_lowered_badness_is_the_kernels():
    """oom_score_adj below 0 lowers the badness as the kernel does; -1000:
    never chosen, no badness sample."""
    contexts = []
    try:
        pids = []
        for anon, shmem, adj in LOWERED + SHAPES[:1]:
            contexts.append(livetools.stopped_process(TARGET, [str(anon), str(shmem), adj, ""]))
            pids.append(contexts[-1].__enter__())
        check_against_the_kernel(pids, LOWERED + SHAPES[:1])
    finally:
        for context in contexts:
            context.__exit__(None, None, None)


def check_against_the_kernel(targets, shapes):
    out = pymap("--summary", "--openmetrics", "--by=process", *[b"%d" % pid for pid in targets])[1]
    families = read_openmetrics(out)
    memory = families["pymap_process_memory_bytes"]
    with open("/proc/meminfo", "rb") as handle:
        meminfo = handle.read()
    totalpages = (_kb(meminfo, "MemTotal") + _kb(meminfo, "SwapTotal")) * 1024 // PAGE
    badness = {int(sample.labels["pid"]): sample.value for sample in families["pymap_process_oom_badness"].samples}
    for pid, (anon, shmem, adj) in zip(targets, shapes):
        rollup, status = _kernel(pid, "smaps_rollup"), _kernel(pid, "status")
        value = {sample.labels["kind"]: sample.value for sample in samples(memory, pid=str(pid))}
        # (not Pss: it moves as other processes map or unmap the pages the target shares)
        assert value["rss"] == _kb(rollup, "Rss") * 1024 and value["swap"] == _kb(rollup, "Swap") * 1024
        assert (value["anon"], value["file"], value["shmem"]) == tuple(
            _kb(status, name) * 1024 for name in ("RssAnon", "RssFile", "RssShmem"))
        assert value["anon"] >= anon * PAGE and value["shmem"] >= shmem * PAGE
        if adj == "-1000":
            assert pid not in badness and int(_kernel(pid, "oom_score")) == 0
            continue
        points = badness[pid]
        scaled = points * 1000
        quotient = abs(scaled) // totalpages * (1 if scaled >= 0 else -1)  # C's division
        assert (1000 + quotient) * 2 // 3 == int(_kernel(pid, "oom_score")), pid
    scores = {pid: int(_kernel(pid, "oom_score")) for pid in badness}
    assert max(badness, key=badness.get) == max(scores, key=scores.get)


# --- options ---------------------------------------------------------------------------------

def test_refusals():
    for args, message in (
            (["--openmetrics", "1"], b"pymap: option --openmetrics goes with --summary\n"),
            (["-x", "--openmetrics", "1"], b"pymap: option --openmetrics goes with --summary\n"),
            (["--json", "--openmetrics", "1"], b"pymap: option --openmetrics goes with --summary\n"),
            (["--reconcile", "--textfile", "/", "1"], b"pymap: option --textfile goes with --summary\n"),
            (["--summary", "--openmetrics", "--json"],
             b"pymap: options --json and --openmetrics are two output formats: give one\n"),
            (["--summary", "--textfile", "/", "--json"],
             b"pymap: options --json and --textfile are two output formats: give one\n"),
            (["--summary", "--openmetrics", "--sort=oom"],
             b"pymap: --sort=oom goes with processes, not with --by=program (metrics are grouped by program unless "
             b"--by=process)\n"),
            (["--summary", "--openmetrics", "--by=user", "--sort=pid"],
             b"pymap: --sort=pid goes with processes, not with --by=user\n")):
        status, out, err = pymap(*args)
        assert (status, out, err) == (1, b"", message), args


def test_what_goes_with_openmetrics(targets):
    """--sort, -q, --bars and --wide are taken (the last three change
    nothing: metrics have no table); a PID that is not there is 42, as
    without --openmetrics, with the metrics of the others."""
    pids = [b"%d" % pid for pid in targets]
    plain = pymap("--summary", "--openmetrics", "--by=process", "--sort=pid", *pids)
    for extra in (["-q"], ["--bars"], ["--wide"], ["-w"]):
        assert pymap("--summary", "--openmetrics", "--by=process", "--sort=pid", *extra, *pids)[:1] == (0,)
    status, out, err = pymap("--summary", "--openmetrics", "--by=process", "--sort=pid", *pids, b"999999999")
    assert status == 42 and err == b""
    assert read_openmetrics(out)["pymap_processes"].samples[0].value == len(targets)
    assert plain[0] == 0


def test_help_and_man_page_say_the_textfile_is_not_openmetrics():
    help_text = pymap("--help")[1]
    assert b"--openmetrics" in help_text and b"--textfile=<dir>" in help_text
    assert b"Prometheus text format 0.0.4" in help_text and b"does not read OpenMetrics" in help_text


# --- --textfile as the command meets it ----------------------------------------------------

@pytest.fixture
def textfile_dir(tmp_path):
    folder = tmp_path / "textfile"
    folder.mkdir()
    folder.chmod(0o755)
    return folder


def test_textfile_alone_in_its_folder(textfile_dir, targets):
    pids = [b"%d" % pid for pid in targets]
    old = os.umask(0o077)
    try:
        status, out, err = pymap("--summary", "--openmetrics", "--textfile", textfile_dir, *pids)
    finally:
        os.umask(old)
    assert (status, out, err) == (0, b"", b"")  # nothing printed: the file is the output
    assert os.listdir(textfile_dir) == ["pymap.prom"]
    path = textfile_dir / "pymap.prom"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644  # node_exporter runs as another user
    families = read_text_format(path.read_bytes())
    assert families["pymap_processes"].samples[0].value == len(targets)
    # replaced by the next run; a PID that is not there is 42, and the file is written all the same
    status, out, err = pymap("--summary", "--textfile", textfile_dir, *pids, b"999999999")
    assert (status, out, err) == (42, b"", b"")
    assert sum(sample.value for sample in read_text_format(path.read_bytes())["pymap_processes"].samples) == \
        len(targets)
    assert os.listdir(textfile_dir) == ["pymap.prom"]
    # another grouping goes beside it, in its own file: node_exporter serves both without an error
    status, out, err = pymap("--summary", "--textfile", textfile_dir, "--by=process", *pids)
    assert (status, out, err) == (0, b"", b"")
    assert "pymap_process_memory_bytes" in read_text_format((textfile_dir / "pymap-process.prom").read_bytes())
    assert sorted(os.listdir(textfile_dir)) == ["pymap-process.prom", "pymap.prom"]


@pytest.mark.parametrize("make, reason", [
    (lambda folder: None, b"No such file or directory"),
    (lambda folder: folder.write_bytes(b""), b"Not a directory"),
    (lambda folder: (folder.mkdir(), folder.chmod(0o777)),
     b"writable by others (mode 0777, no sticky bit): they could replace pymap.prom; pymap writes only into a "
     b"folder no one else can change"),
])
def test_textfile_folder_refused_before_reading(tmp_path, make, reason):
    """A folder it cannot use: one line, status 1, at once (no process is
    read), and nothing made or left."""
    folder = tmp_path / "folder"
    make(folder)
    before = sorted(os.listdir(tmp_path))
    status, out, err = pymap("--summary", "--textfile", folder, "--proc-root", tmp_path / "no-such-root")
    assert (status, out, err) == (1, b"", b"pymap: --textfile %s: %s\n" % (bytes(folder), reason))
    assert sorted(os.listdir(tmp_path)) == before
    if folder.is_dir():
        assert os.listdir(folder) == []


@pytest.mark.skipif(not livetools.is_root() or livetools.SYSTEM_PYTHON is None,
                    reason="needs root (to run pymap as nobody) and a python3 in /usr/bin or /bin")
def test_textfile_folder_not_writable(textfile_dir, targets):
    """As nobody, into root's folder: Permission denied, status 1; the
    launcher's pmap-like status and message."""
    with livetools.public_folder("pymap-textfile-") as folder:
        code = livetools.public_copy_of_pymap(folder)
        result = livetools.run_as_nobody(code, ["--summary", "--textfile", textfile_dir])
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr == b"pymap: --textfile %s: Permission denied\n" % bytes(textfile_dir)
    assert os.listdir(textfile_dir) == []


def test_textfile_through_the_launcher(textfile_dir, targets):
    """The installed command (the launcher, another process) writes the same file."""
    environ = livetools.base_environ(locale="C.UTF-8")
    environ["PATH"] = livetools.launcher_dir() + ":" + environ["PATH"]
    result = subprocess.run(["pymap", "--summary", "--textfile", str(textfile_dir), "--by=process"]
                            + [str(pid) for pid in targets],
                            executable=os.path.join(livetools.launcher_dir(), "pymap"), env=environ,
                            capture_output=True, timeout=TIMEOUT)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    families = read_text_format((textfile_dir / "pymap-process.prom").read_bytes())
    assert sorted(int(sample.labels["pid"]) for sample in samples(families["pymap_process_memory_bytes"],
                                                                  kind="pss")) == sorted(targets)


def test_badness_of_a_snapshot(tmp_path):
    """From a snapshot's own meminfo (not this machine's): a process whose
    oom_score the kernel showed as 0 while its badness would give more is
    one the kernel never kills (init), as is one of oom_score_adj -1000;
    without meminfo there is no badness at all, and the rest is there."""
    root = tmp_path / "proc"
    page_kb = PAGE // 1024
    totalpages = 4000000 // page_kb
    shapes = {  # pid: (RssAnon kB, VmSwap kB, VmPTE kB, oom_score_adj, the oom_score the kernel showed)
        1: (40000, 0, 400, 0, 0),  # init: unkillable
        10: (40000, 800, 400, 0, None),
        11: (40000, 0, 400, -1000, 0),
        12: (400, 0, 40, -500, None),
        13: (40000, 0, 400, 800, None),
    }
    expected = {}
    for pid, (anon, swap, pte, adj, score) in shapes.items():
        points = (anon // page_kb + swap // page_kb + pte // page_kb + adj * (totalpages // 1000))
        if score is None:
            score = (1000 + int(points * 1000 / totalpages)) * 2 // 3
            expected[pid] = points
        folder = root / str(pid)
        folder.mkdir(parents=True)
        (folder / "status").write_bytes(b"Name:\tp\nTgid:\t%d\nUid:\t0\t0\t0\t0\nVmSize:\t 99999 kB\nRssAnon:\t%d kB\n"
                                        b"RssFile:\t0 kB\nRssShmem:\t0 kB\nVmPTE:\t%d kB\nVmSwap:\t%d kB\n"
                                        % (pid, anon, pte, swap))
        (folder / "smaps_rollup").write_bytes(b"00-ff ---p 0 0:0 0 [rollup]\nRss: %d kB\nPss: %d kB\n" % (anon, anon))
        (folder / "cmdline").write_bytes(b"prog%d\0" % pid)
        (folder / "oom_score").write_bytes(b"%d\n" % score)
        (folder / "oom_score_adj").write_bytes(b"%d\n" % adj)
    (root / "meminfo").write_bytes(b"MemTotal:        3000000 kB\nMemFree:          1000 kB\n"
                                   b"SwapTotal:       1000000 kB\n")
    out = pymap("--summary", "--openmetrics", "--by=process", "--proc-root", root)[1]
    families = read_openmetrics(out)
    assert {int(sample.labels["pid"]): sample.value
            for sample in families["pymap_process_oom_badness"].samples} == expected
    assert set(expected) == {10, 12, 13} and expected[12] < 0
    os.unlink(root / "meminfo")
    families = read_openmetrics(pymap("--summary", "--openmetrics", "--by=process", "--proc-root", root)[1])
    assert families["pymap_process_oom_badness"].samples == []
    assert len(samples(families["pymap_process_memory_bytes"], kind="rss")) == len(shapes)
