"""--json and --reconcile on stopped processes whose memory the test arranges:
anonymous memory touched, copy-on-write pages written in a MAP_PRIVATE file
mapping (whose name is not UTF-8), MAP_SHARED anonymous memory and a SysV
segment.  Figures are checked against /proc and against the real pmap."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.support import livetools
from tests.support import ROOT, TIMEOUT

pytestmark = pytest.mark.live

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
COW_NAME = b"cow \xff.bin"

# Since Linux 6.16 ("mm: fix the inaccurate memory statistics issue for users"), the RSS counters of
# /proc/PID/status are the exact sums of the kernel's per-CPU counters; before, they are the folded
# part only (6.2 to 6.15) or per-thread caches synchronised every 64 faults (before 6.2), which
# lag behind even in a stopped process
_RELEASE = re.match(r"(\d+)\.(\d+)", os.uname().release)
PRECISE_STATUS = _RELEASE is not None and (int(_RELEASE.group(1)), int(_RELEASE.group(2))) >= (6, 16)
needs_precise_status = pytest.mark.skipif(not PRECISE_STATUS, reason="status RSS counters are approximations "
                                          "before Linux 6.16")
needs_pmap = pytest.mark.skipif(not livetools.have_pmap(), reason="no pmap to compare with")

TARGET = r"""
import ctypes, mmap, os, sys
PAGE = mmap.PAGESIZE
folder = os.fsencode(sys.argv[1])
keep = []
anon = mmap.mmap(-1, PAGE * 40)
for i in range(40):
    anon[i * PAGE] = 1
path = os.path.join(folder, %(cow)r)
with open(path, "wb") as handle:
    handle.write(b"z" * PAGE * 32)
fd = os.open(path, os.O_RDONLY)
cow = mmap.mmap(fd, PAGE * 32, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
os.close(fd)
for i in range(32):
    cow[i * PAGE]
for i in range(24):
    cow[i * PAGE] = 1
shared = mmap.mmap(-1, PAGE * 16, flags=mmap.MAP_SHARED)
for i in range(12):
    shared[i * PAGE] = 1
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
libc.shmget.argtypes = (ctypes.c_int, ctypes.c_size_t, ctypes.c_int)
libc.shmctl.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
shmid = libc.shmget(0, PAGE * 10, 0o1000 | 0o600)
address = libc.shmat(shmid, None, 0)
libc.shmctl(shmid, 0, None)
for i in range(8):
    ctypes.memset(address + i * PAGE, 1, 1)
with open("/proc/self/oom_score_adj", "w") as handle:
    handle.write(sys.argv[2])
""" % {"cow": COW_NAME}


def _filesystem_type(folder):
    """The type of the file system ``folder`` is on (/proc/self/mountinfo)."""
    device = os.stat(folder).st_dev
    wanted = b"%d:%d" % (os.major(device), os.minor(device))
    with open("/proc/self/mountinfo", "rb") as handle:
        for line in handle:
            fields = line.split()
            if fields[2] == wanted and b"-" in fields:
                return fields[fields.index(b"-") + 1].decode()
    return None


def _folder_off_tmpfs():
    """A scratch folder whose files the kernel does not count as shmem: pymap
    tells shmem by name and device, so a private mapping of a file on a tmpfs
    other than /dev/shm is file memory to pymap and shmem to the kernel (a
    limitation the README states); these tests are about the rest."""
    for parent in (tempfile.gettempdir(), ROOT):
        folder = tempfile.mkdtemp(prefix="pymap-json-", dir=parent)
        if _filesystem_type(folder) != "tmpfs":
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    pytest.skip("no scratch folder off tmpfs (the temporary folder and the checkout are on tmpfs)")


@pytest.fixture(scope="module")
def target():
    folder = _folder_off_tmpfs()
    try:
        with livetools.stopped_process(TARGET, [folder, "0"]) as pid:
            # the 8 pages of the file the target only read are dirty page cache until written back (some
            # 30 s later, at any moment between two reads): written back now, every Dirty figure stays put
            fd = os.open(os.path.join(os.fsencode(folder), COW_NAME), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            yield pid
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def pymap(*args):
    result = subprocess.run([sys.executable, "-m", "pymap"] + [str(arg) for arg in args], cwd=ROOT,
                            capture_output=True, env=livetools.base_environ(), timeout=TIMEOUT)
    assert b"Traceback" not in result.stderr
    return result


def json_lines(stdout):
    assert stdout.endswith(b"\n")
    return [json.loads(line) for line in stdout.split(b"\n")[:-1]]


def raw(text):
    return text.encode("utf-8", "surrogateescape")


def read_smaps(pid):
    """[(start, name bytes, {field: kB})] straight from /proc."""
    result = []
    with open("/proc/%d/smaps" % pid, "rb") as handle:
        for line in handle.read().split(b"\n"):
            if not line:
                continue
            if line[:1].isupper():
                key, _, rest = line.partition(b":")
                words = rest.split()
                if words[1:] == [b"kB"]:
                    result[-1][2][key.decode()] = int(words[0])
            else:
                parts = line.split(None, 5)
                result.append((int(parts[0].split(b"-")[0], 16), parts[5] if len(parts) > 5 else b"", {}))
    return result


def stable(record):
    """A --json record without the figures that change when other processes
    map or unmap the same pages (Pss, and Shared_/Private_ by mapcount)."""
    def keep(kb):
        return {name: value for name, value in kb.items() if not name.startswith(("Pss", "SwapPss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty"))}
    result = dict(record, totals=keep(record["totals"]))
    result["mappings"] = [dict(mapping, kb=keep(mapping["kb"])) for mapping in record["mappings"]]
    return result


def status_counters(pid):
    with open("/proc/%d/status" % pid, "rb") as handle:
        return {line.split(b":")[0].decode(): int(line.split()[1])
                for line in handle if line.rstrip().endswith(b"kB")}


def read_rollup(pid):
    """{field: kB} of /proc/PID/smaps_rollup, read by the test."""
    with open("/proc/%d/smaps_rollup" % pid, "rb") as handle:
        lines = handle.read().split(b"\n")[1:]
    return {line.split(b":")[0].decode(): int(line.split()[1]) for line in lines if line.endswith(b" kB")}


def sums(smaps):
    """Every kB field of read_smaps() summed over the mappings."""
    total = {}
    for _, _, fields in smaps:
        for name, kb in fields.items():
            total[name] = total.get(name, 0) + kb
    return total


def test_json_lines_one_object_per_process(target):
    result = pymap("--json", target, target)
    assert result.returncode == 0
    first, second = json_lines(result.stdout)
    assert stable(first) == stable(second)
    assert first["pid"] == first["tgid"] == target
    with open("/proc/%d/cmdline" % target, "rb") as handle:
        assert [raw(argument) for argument in first["cmdline"]] == handle.read().split(b"\0")[:-1]
    with open("/proc/%d/maps" % target, "rb") as handle:
        maps_lines = handle.read().split(b"\n")[:-1]
    assert len(first["mappings"]) == len(maps_lines)
    assert first["schema"] == 3
    for mapping, line in zip(first["mappings"], maps_lines):
        parts = line.split(None, 5)
        # addresses as maps writes them: strings, which jq's doubles cannot round
        assert ("%s-%s" % (mapping["start"], mapping["end"])).encode() == parts[0]
        assert raw(mapping["perms"]) == parts[1]
        assert mapping["offset"].encode() == parts[2]
        assert mapping["device"].encode() == parts[3]
        assert mapping["inode"].encode() == parts[4]  # a string too: an inode may exceed 2^53
        assert raw(mapping["name"]) == (parts[5] if len(parts) > 5 else b"")


def test_json_round_trips_a_name_that_is_not_utf8(target):
    output = pymap("--json", target).stdout
    assert output.isascii() and b"\\udcff" in output  # the lone surrogate escape, documented
    names = [raw(mapping["name"]) for mapping in json_lines(output)[0]["mappings"]]
    assert any(name.endswith(b"/" + COW_NAME) for name in names)


def test_json_fields_and_totals_are_the_kernels(target):
    record = json_lines(pymap("--json", target).stdout)[0]
    smaps = read_smaps(target)
    assert [(int(m["start"], 16), raw(m["name"]), list(m["kb"])) for m in record["mappings"]] == \
        [(start, name, list(fields)) for start, name, fields in smaps]
    # totals of what adds up: every kB field but the page sizes
    assert set(record["totals"]) == set(record["mappings"][0]["kb"]) - {"KernelPageSize", "MMUPageSize"}
    for name in record["totals"]:
        assert record["totals"][name] == sum(m["kb"][name] for m in record["mappings"])
    for name in ("Size", "Rss", "Anonymous", "Swap", "Locked"):
        assert [m["kb"][name] for m in record["mappings"]] == [fields[name] for _, _, fields in smaps]
        assert record["totals"][name] == sum(fields[name] for _, _, fields in smaps)
    cow = [m for m in record["mappings"] if raw(m["name"]).endswith(COW_NAME)][0]
    assert cow["kb"]["Rss"] == 32 * PAGE_KB and cow["kb"]["Anonymous"] == 24 * PAGE_KB
    assert cow["perms"] == "rw-p" and "wr" in cow["vmflags"]


@pytest.mark.skipif(not livetools.have_pmap(), reason="no pmap to compare with")
@pytest.mark.parametrize("options", [[], ["-p"]], ids=["plain", "show-path"])
def test_json_label_is_pmaps_mapping_column(target, options):
    expected = livetools.run_pmap(["-x"] + options + [str(target)]).stdout.split(b"\n")[2:-3]
    labels = [raw(m["label"]) for m in json_lines(pymap("--json", *options, target).stdout)[0]["mappings"]]
    # "%016x %7d %7d %7d %5s " is 47 bytes; the Mapping column follows, without
    # the padding of pmap's own labels
    assert labels == [line[47:].lstrip(b" ") if line[47:].startswith(b"  [ ") else line[47:] for line in expected]
    assert b"[ stack ]" in labels and any(label.startswith(b"[ shmid=0x") for label in labels)
    assert b"cow ?.bin" in labels or options


def test_json_range_keeps_overlapping_mappings(target):
    mappings = json_lines(pymap("--json", target).stdout)[0]["mappings"]
    middle = mappings[len(mappings) // 2]
    inside = int(middle["start"], 16) + 1
    only = json_lines(pymap("--json", "-A", "%x" % inside, target).stdout)[0]
    assert [m["start"] for m in only["mappings"]] == [middle["start"]]
    assert only["totals"]["Rss"] == middle["kb"]["Rss"]
    nothing = json_lines(pymap("--json", "-A", "1,2", target).stdout)[0]
    assert nothing["mappings"] == [] and nothing["totals"]["Rss"] == 0  # zeros, not a missing field
    low, high = int(mappings[2]["end"], 16) - 1, int(mappings[5]["start"], 16)
    some = json_lines(pymap("--json", "-A", "%x,%x" % (low, high), target).stdout)[0]["mappings"]
    assert [m["start"] for m in some] == [m["start"] for m in mappings[2:6]]


def _snapshot(pid, names):
    root = tempfile.mkdtemp(prefix="pymap-snap-")
    os.mkdir(os.path.join(root, str(pid)))
    for name in names:
        with open("/proc/%d/%s" % (pid, name), "rb") as source:
            data = source.read()
        with open(os.path.join(root, str(pid), name), "wb") as copy:
            copy.write(data)
    return root


def test_json_error_object_and_missing_pid(target):
    root = _snapshot(target, ["stat", "status", "cmdline"])  # no smaps
    try:
        result = pymap("--json", "--proc-root", root, target, 99999)
        assert result.returncode == 1 | 42
        (record,) = json_lines(result.stdout)
        assert record["pid"] == target and "smaps" in record["error"] and "mappings" not in record
        result = pymap("--json", "--proc-root", root, 99999)
        assert (result.returncode, result.stdout) == (42, b"")
    finally:
        shutil.rmtree(root)


def test_json_from_a_snapshot_matches_live(target):
    root = _snapshot(target, ["stat", "status", "cmdline", "smaps"])
    try:
        live = json_lines(pymap("--json", target).stdout)[0]
        snapshot = json_lines(pymap("--json", "--proc-root", root, target).stdout)[0]
        assert stable(snapshot) == stable(live)
    finally:
        shutil.rmtree(root)


def _reconcile(pid):
    result = pymap("--reconcile", "--json", pid)
    assert result.returncode == 0
    (record,) = json_lines(result.stdout)
    return record, {gap["name"]: gap["kb"] for gap in record["gaps"]}


@needs_pmap
def test_reconcile_pmap_view_is_what_pmap_prints(target):
    record, gaps = _reconcile(target)
    lines = livetools.run_pmap(["-x", str(target)]).stdout.split(b"\n")
    smaps = read_smaps(target)
    rows, total = lines[2:-3], lines[-2].split()
    anon_sum = sum(int(line.split()[2]) for line in rows if b"anon" in line)  # grep anon | awk
    assert record["pmap"]["anon_rows_RSS"] == anon_sum
    assert [record["pmap"][key] for key in ("Kbytes", "RSS", "Dirty")] == [int(word) for word in total[2:5]]
    cow_rss = [int(line.split()[2]) for line in rows if line.endswith(b"cow ?.bin")]
    assert cow_rss == [32 * PAGE_KB]  # under the file's name, not in the anon sum
    # the split of the [ anon ] sum: pmap's labels for the rows, the kernel's smaps for the figures
    assert [int(line.split()[0], 16) for line in rows] == [start for start, _, _ in smaps]
    anon_rows = [fields for line, (_, _, fields) in zip(rows, smaps) if line.endswith(b" [ anon ]")]
    stack_rows = [fields for line, (_, _, fields) in zip(rows, smaps) if line.endswith(b" [ stack ]")]
    named = [(name, fields) for line, (_, name, fields) in zip(rows, smaps)
             if not line.endswith((b" [ anon ]", b" [ stack ]"))]
    assert len(stack_rows) == 1 and stack_rows[0]["Anonymous"] > 0
    anonymous = sum(fields["Anonymous"] for _, _, fields in smaps)
    expected = {
        "anon_rows_vs_Anonymous": sum(fields["Rss"] for fields in anon_rows) - anonymous,
        "anon_under_file_names": -sum(fields["Anonymous"] for _, fields in named),
        "stack_anon": -stack_rows[0]["Anonymous"],
        "anon_rows_not_anonymous": sum(fields["Rss"] - fields["Anonymous"] for fields in anon_rows),
    }
    assert expected["anon_under_file_names"] <= -24 * PAGE_KB  # the target's copy-on-write pages at least
    assert {name: gaps.get(name, 0) for name in expected} == expected
    by_name = {}
    for name, fields in named:
        if fields["Anonymous"]:
            by_name[name] = by_name.get(name, 0) + fields["Anonymous"]
    assert {raw(name): kb for name, kb in record["anon_split"]["named_anon_mappings"]} == by_name


def test_reconcile_smaps_sums_are_the_kernels(target):
    record, gaps = _reconcile(target)
    smaps = read_smaps(target)  # read by the test, after pymap: nothing below moves in a stopped process
    rollup = read_rollup(target)
    total = sums(smaps)
    expected = {
        "Size": total["Size"], "Rss": total["Rss"], "Anonymous": total["Anonymous"], "Swap": total["Swap"],
        "Locked": total["Locked"], "AnonHugePages": total["AnonHugePages"],
        "Dirty": total["Shared_Dirty"] + total["Private_Dirty"],
        "Hugetlb": total["Shared_Hugetlb"] + total["Private_Hugetlb"],
    }
    assert {name: record["smaps"][name] for name in expected} == expected
    # smaps_rollup, the kernel's own sum (Pss aside: it moves with the processes sharing the pages)
    own_rollup = {name: rollup[name] for name in ("Rss", "Anonymous", "Swap", "Locked", "AnonHugePages")}
    own_rollup["Dirty"] = rollup["Shared_Dirty"] + rollup["Private_Dirty"]
    own_rollup["Hugetlb"] = rollup["Shared_Hugetlb"] + rollup["Private_Hugetlb"]
    assert {name: record["smaps_rollup"][name] for name in own_rollup} == own_rollup
    # the gaps, from the figures the test read (a gap of 0 is left out)
    expected_gaps = {"rollup_%s_minus_smaps" % name: rollup[name] - total[name]
                     for name in ("Rss", "Anonymous", "Swap")}
    expected_gaps.update(swap=expected["Swap"], hugetlb=expected["Hugetlb"],
                         transparent_huge_pages=expected["AnonHugePages"])
    assert {name: gaps.get(name, 0) for name in expected_gaps} == expected_gaps
    # the pages the target made: copy-on-write pages are anonymous under the file's name
    by_name = dict((raw(name), kb) for name, kb in record["anon_split"]["named_anon_mappings"])
    assert [kb for name, kb in by_name.items() if name.endswith(COW_NAME)] == [24 * PAGE_KB]
    # shared anonymous memory and the SysV segment are shmem, not anonymous
    sysv = [fields for _, name, fields in smaps if name.startswith(b"/SYSV")]
    zero = [fields for _, name, fields in smaps if name.startswith(b"/dev/zero") and fields["Rss"] == 12 * PAGE_KB]
    assert sysv[0]["Rss"] == 8 * PAGE_KB and sysv[0]["Anonymous"] == 0
    assert zero and zero[0]["Anonymous"] == 0


@needs_precise_status
def test_reconcile_status_counters_are_exact_for_a_stopped_process(target):
    before = status_counters(target)
    record, gaps = _reconcile(target)
    status = status_counters(target)
    assert status == before  # read twice: a stopped process's counters do not move
    smaps = read_smaps(target)
    total = sums(smaps)
    assert record["status"] == {name: status.get(name) for name in record["status"]}
    # the kernel's counters are the smaps sums, to the kB
    assert (status["VmRSS"], status["RssAnon"], status["VmSwap"]) == (total["Rss"], total["Anonymous"], total["Swap"])
    # what smaps does not split, the kernel counts: shmem (the target's SysV segment and MAP_SHARED
    # anonymous memory, and the interpreter's own), and file pages
    assert status["RssShmem"] >= 20 * PAGE_KB
    assert (record["smaps"]["Shmem"], record["smaps"]["File"]) == (status["RssShmem"], status["RssFile"])
    assert gaps["shmem"] == status["RssShmem"]
    # the gaps to status, from the figures the test read (a gap of 0 is left out): none but [vsyscall],
    # which maps lists and VmSize leaves out, and the peak
    expected = {
        "status_VmRSS_minus_smaps_Rss": status["VmRSS"] - total["Rss"],
        "status_RssAnon_minus_smaps_Anonymous": status["RssAnon"] - total["Anonymous"],
        "status_VmSwap_minus_smaps_Swap": status["VmSwap"] - total["Swap"],
        "status_RssFile_minus_smaps_File": 0,
        "status_RssShmem_minus_smaps_Shmem": 0,
        "status_VmSize_minus_pmap_Kbytes": status["VmSize"] - total["Size"],
        "peak_above_current": status["VmHWM"] - status["VmRSS"],
    }
    assert {name: gaps.get(name, 0) for name in expected} == expected
    vsyscall = sum(fields["Size"] for _, name, fields in smaps if name == b"[vsyscall]")
    assert expected["status_VmSize_minus_pmap_Kbytes"] == -vsyscall


def test_reconcile_table_prints_the_gaps(target):
    record, gaps = _reconcile(target)
    result = pymap("--reconcile", target)
    assert result.returncode == 0
    text = result.stdout
    assert text.startswith(b"%d:   " % target)
    # each file's share has the sign of the gap it is part of
    assert b"%+8d kB  in " % -(24 * PAGE_KB) in text and text.count(COW_NAME.replace(b"\xff", b"?")) >= 1
    assert b"%+8d kB  the stack is anonymous" % gaps["stack_anon"] in text
    assert b"%+8d kB  shared anonymous memory" % gaps["shmem"] in text
    assert b"oom_score_adj 0, oom_score %d (kernel)" % record["oom"]["oom_score"] in text
    # the anon rows' parts under their gap (indented further), shared memory under its section's title
    gaps_text = text.split(b"\nGaps:\n", 1)[1]
    outside = b"  Memory that Anonymous or RSS leaves out, or splits differently:\n"
    assert gaps_text.index(b"kB  the stack is anonymous") < gaps_text.index(outside) < \
        gaps_text.index(b"    %+8d kB  shared anonymous memory" % gaps["shmem"])
    assert b"\n      %+8d kB  the stack is anonymous" % gaps["stack_anon"] in gaps_text


def _c_divide(numerator, denominator):
    """C's / on longs: the quotient truncated toward zero."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator < 0) == (denominator < 0) else -quotient


def kernel_oom_score(status, meminfo, adj, page_kb):
    """/proc/PID/oom_score as the kernel computes it, from the files the
    kernel's counters show (fs/proc/base.c proc_oom_score(), mm/oom_kill.c
    oom_badness()): rss + swap entries + page-table pages, plus adj x
    totalpages / 1000, where totalpages is RAM + swap in pages; then
    (1000 + badness x 1000 / totalpages) x 2 / 3 in C's long arithmetic."""
    totalpages = (meminfo["MemTotal"] + meminfo["SwapTotal"]) // page_kb
    if adj == -1000:
        return 0
    badness = (status["VmRSS"] // page_kb + status.get("VmSwap", 0) // page_kb + status["VmPTE"] // page_kb
               + adj * (totalpages // 1000))
    return _c_divide((1000 + _c_divide(badness * 1000, totalpages)) * 2, 3)


def _counters(data):
    return {key.decode(): int(value) for key, value in re.findall(rb"(?m)^(\w+):\s+(\d+) kB", data)}


@pytest.mark.parametrize("adjust", [0, 500, 1000])  # lowering it takes CAP_SYS_RESOURCE
def test_reconcile_oom_badness_matches_the_kernel(adjust):
    folder = tempfile.mkdtemp(prefix="pymap-oom-")
    try:
        with livetools.stopped_process(TARGET, [folder, str(adjust)]) as pid:
            record, _ = _reconcile(pid)
            oom = record["oom"]
            with open("/proc/%d/oom_score" % pid) as handle:
                kernel = int(handle.read())
            assert oom["oom_score"] == kernel and oom["oom_score_adj"] == adjust
            assert oom["predicted_oom_score"] == kernel
            # the terms from the kernel's own files, read here
            with open("/proc/%d/status" % pid, "rb") as handle:
                status = _counters(handle.read())
            with open("/proc/meminfo", "rb") as handle:
                totalpages = sum(value for key, value in _counters(handle.read()).items()
                                 if key in ("MemTotal", "SwapTotal")) // PAGE_KB
            assert (oom["rss_pages"], oom["swap_pages"], oom["page_table_pages"], oom["adj_pages"]) == (
                status["VmRSS"] // PAGE_KB, status["VmSwap"] // PAGE_KB, status["VmPTE"] // PAGE_KB,
                adjust * (totalpages // 1000))
            text = pymap("--reconcile", pid).stdout
            assert b"predicted oom_score %d\n" % kernel in text
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("adjust, swap_kb", [(-500, 0), (-999, 0), (-300, 4 << 20), (0, 1 << 20), (700, 123456)])
def test_reconcile_oom_score_as_the_kernel_computes_it(target, adjust, swap_kb):
    """What this machine cannot show live (no CAP_SYS_RESOURCE to lower
    oom_score_adj, no swap): a snapshot edited to a negative oom_score_adj
    (C truncates toward zero, Python's // toward minus infinity) and to swapped
    pages (the OOM killer counts them), against the kernel's formula."""
    root = _snapshot(target, ["stat", "status", "cmdline", "smaps"])
    try:
        folder = os.path.join(root, str(target))
        with open(os.path.join(folder, "status"), "rb") as handle:
            status_text = handle.read()
        status_text = re.sub(rb"(?m)^VmSwap:\s+\d+ kB", b"VmSwap:\t%8d kB" % swap_kb, status_text)
        with open(os.path.join(folder, "status"), "wb") as handle:
            handle.write(status_text)
        with open(os.path.join(folder, "oom_score_adj"), "wb") as handle:
            handle.write(b"%d\n" % adjust)
        with open("/proc/meminfo", "rb") as handle:
            meminfo_text = handle.read()
        with open(os.path.join(root, "meminfo"), "wb") as handle:
            handle.write(meminfo_text)
        status, meminfo = _counters(status_text), _counters(meminfo_text)
        assert status["VmSwap"] == swap_kb
        record = json_lines(pymap("--reconcile", "--json", "--proc-root", root, target).stdout)[0]
        assert record["oom"]["swap_pages"] == swap_kb // PAGE_KB
        assert record["oom"]["predicted_oom_score"] == kernel_oom_score(status, meminfo, adjust, PAGE_KB)
    finally:
        shutil.rmtree(root)


def test_reconcile_oom_pages_are_the_snapshots_own(target):
    """A snapshot of a machine with 64 kB pages (arm64, ppc64: its smaps say
    KernelPageSize 64 kB): the OOM killer's pages are of that size, not of
    this machine's."""
    root = _snapshot(target, ["stat", "status", "cmdline", "smaps"])
    try:
        folder = os.path.join(root, str(target))
        with open(os.path.join(folder, "smaps"), "rb") as handle:
            smaps = handle.read()
        smaps = re.sub(rb"(?m)^(KernelPageSize|MMUPageSize):( +)\d+ kB", rb"\1:\g<2>64 kB", smaps)
        with open(os.path.join(folder, "smaps"), "wb") as handle:
            handle.write(smaps)
        with open(os.path.join(folder, "status"), "rb") as handle:
            status = _counters(handle.read())
        with open(os.path.join(folder, "oom_score_adj"), "wb") as handle:
            handle.write(b"200\n")
        with open("/proc/meminfo", "rb") as handle:
            meminfo_text = handle.read()
        with open(os.path.join(root, "meminfo"), "wb") as handle:
            handle.write(meminfo_text)
        record = json_lines(pymap("--reconcile", "--json", "--proc-root", root, target).stdout)[0]
        assert record["oom"]["page_kb"] == 64 and record["oom"]["rss_pages"] == status["VmRSS"] // 64
        assert record["oom"]["predicted_oom_score"] == kernel_oom_score(status, _counters(meminfo_text), 200, 64)
    finally:
        shutil.rmtree(root)


def test_reconcile_oom_score_adj_minimum_is_never_chosen(target):
    root = _snapshot(target, ["stat", "status", "cmdline", "smaps"])
    try:
        for name, value in (("oom_score_adj", b"-1000\n"), ("oom_score", b"0\n")):
            with open(os.path.join(root, str(target), name), "wb") as handle:
                handle.write(value)
        shutil.copy("/proc/meminfo", os.path.join(root, "meminfo"))
        result = pymap("--reconcile", "--proc-root", root, target)
        assert b"predicted oom_score 0\n" in result.stdout
        assert b"oom_score_adj -1000: the OOM killer never chooses this process" in result.stdout
    finally:
        shutil.rmtree(root)


def test_reconcile_snapshot_names_missing_files(target):
    root = _snapshot(target, ["stat", "status", "cmdline", "smaps"])
    try:
        result = pymap("--reconcile", "--proc-root", root, target)
        assert result.returncode == 0
        assert b"Missing files: smaps_rollup, oom_score, oom_score_adj, meminfo\n" in result.stdout
        assert b"badness: cannot be computed" in result.stdout
        shutil.copy("/proc/meminfo", os.path.join(root, "meminfo"))
        record = json_lines(pymap("--reconcile", "--json", "--proc-root", root, target).stdout)[0]
        assert record["missing"] == ["smaps_rollup", "oom_score", "oom_score_adj"]
        assert record["oom"]["predicted_oom_score"] is not None and record["smaps_rollup"] is None
        result = pymap("--reconcile", "--proc-root", root + "/nowhere", target)
        assert (result.returncode, result.stdout) == (42, b"")
    finally:
        shutil.rmtree(root)


def test_reconcile_unreadable_process(target):
    root = _snapshot(target, ["stat", "status", "cmdline"])
    try:
        result = pymap("--reconcile", "--proc-root", root, target)
        assert result.returncode == 1
        assert result.stdout.startswith(b"%d:   " % target)
        assert result.stderr.startswith(b"pymap: ") and b"smaps" in result.stderr
        assert result.stderr.count(b"\n") == 1
    finally:
        shutil.rmtree(root)


def _translating_languages(msgids):
    """The languages whose installed procps-ng catalog translates one of
    ``msgids`` (pmap's own words), read with Python's gettext."""
    import gettext

    found = []
    for language in ("pt_BR", "uk", "vi", "fr", "es", "pl", "ro", "de"):
        path = "/usr/share/locale/%s/LC_MESSAGES/procps-ng.mo" % language
        if os.path.exists(path):
            with open(path, "rb") as handle:
                catalog = gettext.GNUTranslations(handle)
            if any(catalog.gettext(msgid) != msgid for msgid in msgids):
                found.append(language)
    return found


TRANSLATED = _translating_languages(["  [ anon ]", "  [ stack ]"])


@pytest.mark.skipif(not TRANSLATED, reason="no installed procps-ng catalog translates [ anon ] or [ stack ]")
def test_reconcile_figures_do_not_depend_on_the_language(target):
    """pmap's labels are words of the user's language; --reconcile's figures
    (which mapping is an [ anon ] row, which the stack) are not."""
    root = _snapshot(target, ["stat", "status", "cmdline", "smaps", "smaps_rollup", "oom_score", "oom_score_adj"])
    try:
        def reconcile(**language):
            result = subprocess.run([sys.executable, "-m", "pymap", "--reconcile", "--json", "--proc-root", root,
                                     str(target)], cwd=ROOT, capture_output=True, timeout=TIMEOUT,
                                    env=livetools.base_environ(locale="C.UTF-8", **language))
            assert result.returncode == 0, result.stderr
            return json_lines(result.stdout)[0]

        english = reconcile()
        assert english["pmap"]["anon_rows_RSS"] > 0 and english["anon_split"]["stack_anon"] > 0
        for language in TRANSLATED:
            assert reconcile(LANGUAGE=language) == english, language
    finally:
        shutil.rmtree(root)


def test_options_are_exclusive_and_exact():
    for args in (["--json", "-x", "1"], ["--reconcile", "-d", "1"], ["--reconcile", "-A", "0,1", "1"]):
        result = pymap(*args)
        assert result.returncode == 1 and result.stdout == b"" and result.stderr.count(b"\n") == 1
    result = pymap("--jso", "1")  # pymap's own options are never abbreviated
    assert result.returncode == 1 and b"unrecognized option '--jso'" in result.stderr


def test_reconcile_names_every_file_and_the_lines_add_up(tmp_path):
    """Eleven files hold anonymous pages: eight are named, one line sums the
    other three, and the file lines add up to their gap, sign and all."""
    folder = tmp_path / "proc" / "7"
    folder.mkdir(parents=True)
    (folder / "stat").write_bytes(b"7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1 1 1 1 1 0\n")
    (folder / "status").write_bytes(b"Name:\tx\nTgid:\t7\n")
    (folder / "cmdline").write_bytes(b"x\0")
    records = []
    for index in range(11):
        start = 0x10000000 + index * 0x100000
        records.append(b"%x-%x rw-p 00000000 08:01 %d /lib/f%02d.so\nSize: 1024 kB\nRss: %d kB\nAnonymous: %d kB\n"
                       % (start, start + 0x100000, 100 + index, index, 4 * (index + 1), 4 * (index + 1)))
    (folder / "smaps").write_bytes(b"".join(records))
    result = pymap("--reconcile", "--proc-root", tmp_path / "proc", 7)
    assert result.returncode == 0
    lines = result.stdout.split(b"\n")
    parent = next(line for line in lines if b"anonymous pages listed under a file's name" in line)
    parent_kb = int(parent.split()[0])
    files = [line for line in lines if re.match(rb" +[-+]\d+ kB  in ", line)]
    assert len(files) == 9 and files[-1].endswith(b"in 3 more files")
    assert [line.rsplit(b" ", 1)[-1] for line in files[:8]] == [b"/lib/f%02d.so" % index for index in range(10, 2, -1)]
    assert sum(int(line.split()[0]) for line in files) == parent_kb == -sum(4 * (index + 1) for index in range(11))
    assert int(files[-1].split()[0]) == -(4 + 8 + 12)


def test_an_inode_beyond_doubles_stays_exact(tmp_path):
    """overlayfs with xino writes inodes above 2^53: a JSON number would
    reach jq (doubles) as another inode, so inodes are strings, as in maps."""
    folder = tmp_path / "proc" / "7"
    folder.mkdir(parents=True)
    (folder / "stat").write_bytes(b"7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1 1 1 1 1 1 0\n")
    (folder / "cmdline").write_bytes(b"x\0")
    (folder / "smaps").write_bytes(b"10000-11000 r--p 00000000 00:2e 9223372036854775811 /usr/bin/x\nRss: 4 kB\n")
    (record,) = json_lines(pymap("--json", "--proc-root", tmp_path / "proc", 7).stdout)
    assert record["mappings"][0]["inode"] == "9223372036854775811"
    assert float(9223372036854775811) != 9223372036854775811  # what a number would have become
