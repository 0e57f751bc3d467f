"""Every JSON object pymap writes, held to the README's schema.

Written from the README (sections "JSON and reconcile", "Who uses the
memory: --summary" and "What grew: --diff"), not from the code: for
--json, --reconcile --json, --diff --json and --summary --json (with
--by=program), each member the README names is there with the type it
documents, and no member it does not name.  Where a figure can be known
outside pymap it is checked too: the kernel's own maps, smaps, status and
cmdline of stopped processes the test starts, copies of them the test makes
(a kernel-thread-like process, a snapshot without VmFlags or smaps_rollup),
and pmap's Mapping column.

Where the code and the README disagree, the test fails:
test_readme_names_every_member finds members the README does not name
(UNDOCUMENTED lists any the other tests are to let pass meanwhile), and
test_unitless_without_bare_numbers holds "unitless" present, empty, in a
mapping without bare numbers.
"""

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

from tests.support import livetools
from tests.support import TIMEOUT

pytestmark = pytest.mark.live

SCHEMA = 3
HEX = re.compile(r"[0-9a-f]+\Z")
PAGE = os.sysconf("SC_PAGE_SIZE")

# README, "JSON and reconcile": the process object, in the order of its example
PROCESS_KEYS = ["schema", "pid", "tgid", "comm", "cmdline", "mappings", "totals"]
MAPPING_KEYS = ["start", "end", "offset", "inode", "perms", "device", "name", "label", "kb", "unitless", "vmflags",
                "role"]
# "role" is one of these; "certain" follows it, only when false
ROLES = {"heap", "stack", "thread_stack", "guard", "malloc_arena", "malloc_arena_reserve", "malloc_mmap", "shmem",
         "vdso", "vvar", "vsyscall", "file", "anon"}
ERROR_KEYS = {"schema", "pid", "tgid", "error"}
NOT_TOTALLED = {"KernelPageSize", "MMUPageSize"}
# --reconcile --json: "(pmap, smaps, smaps_rollup, status, anon_split, oom,
# gaps as {"name", "kb", "reason"}, missing)", in the same version
RECONCILE_KEYS = {"schema", "pid", "tgid", "pmap", "smaps", "smaps_rollup", "status", "anon_split", "roles", "threads",
                  "oom", "gaps", "missing"}
# --reconcile --json's roles: {ROLE: these}, and threads
RECONCILE_ROLE_KEYS = {"mappings", "Size", "Rss", "Anonymous", "Swap", "anon_rows_Rss", "guessed"}
RECONCILE_THREADS_KEYS = {"count", "stack_pointers"}
RECONCILE_SMAPS = {"Size", "Rss", "Anonymous", "Swap", "Dirty", "Pss", "Locked", "Hugetlb"}
RECONCILE_STATUS = {"VmSize", "VmRSS", "RssAnon", "RssShmem", "RssFile", "VmSwap", "VmLck", "HugetlbPages", "VmPTE",
                    "VmHWM"}
RECONCILE_OOM = {"oom_score_adj", "oom_score", "MemTotal", "SwapTotal"}
# --diff --json
CHANGE_KEYS = {"schema", "pid", "tgid", "change", "start", "end", "offset", "inode", "perms", "device", "name",
               "label", "kb"}
BEFORE_KEYS = {"start", "end", "offset", "perms"}
DIFF_TOTALS_KEYS = {"schema", "pid", "tgid", "comm", "cmdline", "totals", "age_seconds", "per_minute"}
STATE_KEYS = {"schema", "pid", "state"}
# --summary --json, in the README's order
FIGURES = ["Rss", "Pss", "Uss", "Swap", "SwapPss", "RssAnon", "RssFile", "RssShmem"]
SUMMARY_ROW_ORDER = ["pid", "user", "uid", "comm", "cmdline"] + FIGURES + ["oom_score", "oom_score_adj", "oom_badness",
                                                                           "source"]
SUMMARY_ROW_KEYS = ["schema"] + SUMMARY_ROW_ORDER
SUMMARY_TOTALS_KEYS = {"schema", "totals", "processes", "unreadable"}

# what the code writes beyond the README's names (see the module's docstring): nothing now
UNDOCUMENTED = {}
# the figures of a --by=mapping group, of a --by=role group
MAPPING_FIGURES = ["Rss", "Pss", "Uss", "Swap", "SwapPss", "Anonymous"]
ROLE_FIGURES = ["Size"] + MAPPING_FIGURES

needs_pmap = pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)

ODD_NAME = b"odd name \xfe.bin"
ODD_COMM = b"js\xfeon comm"
ODD_ARGS = ["", b"arg \xff", "\u00e9t\u00e9"]
TARGET = r"""
import ctypes, mmap, os
folder = %(folder)r
libc = ctypes.CDLL(None)
libc.prctl(15, %(comm)r, 0, 0, 0)  # PR_SET_NAME
with open("/proc/self/oom_score_adj", "w") as handle:
    handle.write("123")
path = os.path.join(folder, %(name)r)
with open(path, "wb") as handle:
    handle.write(b"z" * mmap.PAGESIZE * 4)
with open(path, "r+b") as handle:
    mapped = mmap.mmap(handle.fileno(), mmap.PAGESIZE * 4, flags=mmap.MAP_PRIVATE,
                       prot=mmap.PROT_READ | mmap.PROT_WRITE)
mapped[0] = 1
anon = mmap.mmap(-1, mmap.PAGESIZE * 16)
for i in range(0, 16, 2):
    anon[i * mmap.PAGESIZE] = 1
shared = mmap.mmap(-1, mmap.PAGESIZE * 4, flags=mmap.MAP_SHARED)
shared[0] = 1
"""


# ---------------------------------------------------------------- the kernel's files, read here


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


MAPS_LINE = re.compile(rb"([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+) ?(?: *)(.*)\Z")


def parse_maps(data):
    """[(start, end, perms, offset, device, inode, name)] as texts (bytes),
    as maps writes them."""
    rows = []
    for line in data.splitlines():
        found = MAPS_LINE.match(line)
        assert found, line
        start, end, perms, offset, device, inode, name = found.groups()
        rows.append((start, end, perms, offset, device, inode, name))
    return rows


def parse_smaps(data):
    """[(maps row, [(field, value, has_kb)], vmflags or None)]."""
    records = []
    for line in data.splitlines():
        if line[:1].isupper():
            key, _, value = line.partition(b":")
            if key == b"VmFlags":
                records[-1][2] = value.decode().split()
                continue
            words = value.split()
            records[-1][1].append((key.decode(), int(words[0]), words[1:] == [b"kB"]))
        else:
            records.append([parse_maps(line)[0], [], None])
    return records


def status_kb(pid_folder):
    values = {}
    for line in read(os.path.join(pid_folder, "status")).splitlines():
        key, _, value = line.partition(b":")
        words = value.split()
        if len(words) == 2 and words[1] == b"kB":
            values[key.decode()] = int(words[0])
    return values


def text(data):
    """The README's decoding of the kernel's bytes."""
    return data.decode("utf-8", "surrogateescape")


def kernel_cmdline(data):
    return [text(argument) for argument in data.split(b"\0")[:-1]] if data else []


# ---------------------------------------------------------------- checks


def is_int(value):
    return type(value) is int  # noqa: E721 (a bool is no integer here)


def json_lines(result, status=0, messages=0):
    """The objects of JSON Lines output: each line one object, pure ASCII,
    no key twice; ``messages`` lines on stderr."""
    assert result.returncode == status, result.stderr
    assert len(result.stderr.splitlines()) == messages and result.stderr.endswith(b"\n" if messages else b""), \
        result.stderr
    assert result.stdout.isascii(), "the output is pure ASCII"
    assert result.stdout == b"" or result.stdout.endswith(b"\n")

    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    objects = [json.loads(line, object_pairs_hook=no_duplicates) for line in result.stdout.splitlines()]
    for item in objects:
        assert isinstance(item, dict)
        assert is_int(item["schema"]) and item["schema"] == SCHEMA, item
    return objects


def assert_keys(item, documented, kind=None, ordered=()):
    """``item`` has every member ``documented`` names and no other (but the
    UNDOCUMENTED ones of ``kind``); the members ``ordered`` names in that
    order."""
    keys = list(item)
    tolerated = UNDOCUMENTED.get(kind, set())
    assert set(documented) <= set(keys), ("missing", set(documented) - set(keys))
    assert set(keys) <= set(documented) | tolerated, ("undocumented", set(keys) - set(documented))
    assert [key for key in keys if key in ordered] == list(ordered), "in the README's order"


def assert_ints(mapping, allow_none=False):
    assert isinstance(mapping, dict)
    for key, value in mapping.items():
        assert isinstance(key, str)
        assert is_int(value) or (allow_none and value is None), (key, value)


def assert_decimal(value):
    """An inode: a decimal string as maps writes it (jq's doubles would
    round one above 2^53)."""
    assert isinstance(value, str) and value.isdigit() and value.isascii() and (value == "0" or value[0] != "0"), value


def assert_hex(value):
    assert isinstance(value, str) and HEX.match(value), value


def check_mapping(mapping):
    keys = MAPPING_KEYS + (["certain"] if "certain" in mapping else [])
    assert_keys(mapping, keys, ordered=keys)
    assert mapping["role"] in ROLES and mapping.get("certain", False) is False
    for key in ("start", "end", "offset"):
        assert_hex(mapping[key])
    assert_decimal(mapping["inode"])
    for key in ("perms", "device", "name", "label"):
        assert isinstance(mapping[key], str)
    label = mapping["label"]
    assert label and label == label.strip(" "), "a label without pmap's padding: %r" % label
    assert_ints(mapping["kb"])
    assert_ints(mapping["unitless"])
    flags = mapping["vmflags"]
    assert flags is None or (isinstance(flags, list) and all(isinstance(flag, str) for flag in flags))


def check_process(item, pid, comm, cmdline):
    """A --json process object: the members, pid, comm, cmdline, and
    totals that add up every kB field but the two page sizes."""
    assert_keys(item, PROCESS_KEYS, ordered=PROCESS_KEYS)
    assert is_int(item["pid"]) and is_int(item["tgid"])
    assert (item["pid"], item["tgid"], item["comm"], item["cmdline"]) == (pid, pid, comm, cmdline)
    assert isinstance(item["mappings"], list)
    for mapping in item["mappings"]:
        check_mapping(mapping)
    totals = item["totals"]
    assert_ints(totals)
    assert totals["Rss"] == sum(mapping["kb"].get("Rss", 0) for mapping in item["mappings"])
    if item["mappings"]:
        fields = [key for key in item["mappings"][0]["kb"] if key not in NOT_TOTALLED]
        assert list(totals) == fields
        for key in fields:
            assert totals[key] == sum(mapping["kb"][key] for mapping in item["mappings"]), key


def assert_matches_kernel(item, maps, smaps=None):
    """The mappings are the kernel's maps lines, in order, their texts as
    maps writes them; with ``smaps``, kb, unitless and vmflags its records."""
    rows = [(mapping["start"], mapping["end"], mapping["perms"], mapping["offset"], mapping["device"],
             mapping["inode"], mapping["name"]) for mapping in item["mappings"]]
    expected = [tuple(text(part) if isinstance(part, bytes) else part for part in row) for row in maps]
    assert rows == expected
    for mapping, row in zip(item["mappings"], maps):
        assert mapping["name"].encode("utf-8", "surrogateescape") == row[6], "the kernel's bytes back"
    if smaps is not None:
        assert len(item["mappings"]) == len(smaps)
        for mapping, (_, fields, flags) in zip(item["mappings"], smaps):
            assert list(mapping["kb"].items()) == [(key, value) for key, value, has_kb in fields if has_kb]
            assert list(mapping["unitless"].items()) == [(key, value) for key, value, has_kb in fields if not has_kb]
            assert mapping["vmflags"] == flags


# ---------------------------------------------------------------- processes and copies


@pytest.fixture(scope="module")
def workdir():
    folder = tempfile.mkdtemp(prefix="pymap-json-schema-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def odd(workdir):
    """A stopped process with a file mapping whose name is not UTF-8,
    anonymous and shared memory, a comm that is not UTF-8, an empty
    argument and oom_score_adj 123."""
    code = TARGET % {"folder": os.fsencode(workdir), "comm": ODD_COMM, "name": ODD_NAME}
    with livetools.stopped_process(code, argv_tail=ODD_ARGS) as pid:
        yield pid


@pytest.fixture(scope="module")
def plain():
    with livetools.stopped_process("x = bytearray(1 << 20)") as pid:
        yield pid


def identity(pid):
    """(comm, cmdline) as the README says they are written."""
    return text(read("/proc/%d/comm" % pid).rstrip(b"\n")), kernel_cmdline(read("/proc/%d/cmdline" % pid))


PROCESS_FILES = ("stat", "status", "cmdline", "comm", "maps", "smaps", "smaps_rollup", "oom_score", "oom_score_adj")


def copy_process(pid, root):
    """A /proc-like copy of a stopped process made here (not by pymap)."""
    folder = os.path.join(root, str(pid))
    os.makedirs(folder, mode=0o700)
    for name in PROCESS_FILES:
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(read("/proc/%d/%s" % (pid, name)))
    with open(os.path.join(root, "meminfo"), "wb") as handle:
        handle.write(read("/proc/meminfo"))
    return folder


def fresh_root(workdir, name):
    root = os.path.join(workdir, name)
    os.mkdir(root, 0o700)
    return root


def write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def pymap(args, compat=None):
    return livetools.run_pymap([str(arg) for arg in args], name="pymap", compat=compat)


def pmap_column(output):
    """pmap's Mapping column of each row of its default listing (or -p),
    without its padding."""
    labels = []
    for line in output.splitlines()[1:-1]:
        found = re.match(rb"[0-9a-f]{16} +\d+K \S+ (.*)\Z", line)
        assert found, line
        labels.append(text(found.group(1).lstrip(b" ")))
    return labels


# ---------------------------------------------------------------- --json


def test_json_process(odd):
    """--json on a live process: the members and their types, the mappings
    as maps writes them, text as surrogate escapes, totals that add up."""
    comm, cmdline = identity(odd)
    assert comm == text(ODD_COMM) and cmdline[-3:] == ["", "arg \udcff", "\u00e9t\u00e9"]
    maps = parse_maps(read("/proc/%d/maps" % odd))
    [item] = json_lines(pymap(["--json", odd]))
    check_process(item, odd, comm, cmdline)
    assert_matches_kernel(item, maps)
    odd_mapping = [mapping for mapping in item["mappings"] if mapping["name"].endswith(text(ODD_NAME))]
    # the basename, as pmap shows it (LANG=C: the byte that is not text is
    # shown as pmap shows it, see test_json_labels_are_pmaps_column)
    assert len(odd_mapping) == 1 and re.match(r"odd name .+\.bin\Z", odd_mapping[0]["label"])
    assert odd_mapping[0]["name"].encode("utf-8", "surrogateescape").endswith(ODD_NAME)
    labels = [mapping["label"] for mapping in item["mappings"]]
    assert labels.count("[ stack ]") == 1 and "[ anon ]" in labels
    for mapping in item["mappings"]:
        if not mapping["name"]:
            assert mapping["label"] in ("[ anon ]", "[ stack ]")


@needs_pmap
@pytest.mark.parametrize("option", [None, "-p"])
def test_json_labels_are_pmaps_column(odd, option):
    """label is pmap's Mapping column without its padding (-p: the path)."""
    options = [option] if option else []
    real = livetools.run_pmap(options + [str(odd)])
    assert real.returncode == 0, real.stderr
    [item] = json_lines(pymap(options + ["--json", odd]))
    assert [mapping["label"] for mapping in item["mappings"]] == pmap_column(real.stdout)
    if option == "-p":
        for mapping in item["mappings"]:
            if mapping["name"].startswith("/") and mapping["name"].isascii() and mapping["name"].isprintable():
                assert mapping["label"] == mapping["name"]


@pytest.mark.skipif(livetools.release_build("main") is None, reason="no build of pmap main (-k)")
def test_json_labels_with_kernel_names(odd):
    """-k applies to label (as pmap main's -k shows it)."""
    real = subprocess.run(["pmap", "-k", str(odd)], executable=livetools.release_build("main"),
                          env=livetools.base_environ(), capture_output=True, timeout=TIMEOUT)
    assert real.returncode == 0, real.stderr
    [item] = json_lines(pymap(["-k", "--json", odd], compat="main"))
    labels = [mapping["label"] for mapping in item["mappings"]]
    assert labels == pmap_column(real.stdout)
    assert "[heap]" in labels or "[stack]" in labels


def test_json_fields_are_smaps(odd, workdir):
    """kb, unitless and vmflags are smaps' records, in the kernel's order,
    read from a copy of the process made here; vmflags is null without a
    VmFlags line."""
    root = fresh_root(workdir, "fields")
    folder = copy_process(odd, root)
    comm, cmdline = identity(odd)
    smaps_data = read(os.path.join(folder, "smaps"))
    smaps = parse_smaps(smaps_data)
    assert smaps and all(flags for _, _, flags in smaps), "the kernel writes VmFlags"
    [item] = json_lines(pymap(["--proc-root", root, "--json", odd]))
    check_process(item, odd, comm, cmdline)
    assert_matches_kernel(item, [row for row, _, _ in smaps], smaps)
    assert any(mapping["unitless"] for mapping in item["mappings"])

    write(os.path.join(folder, "smaps"), b"".join(line for line in smaps_data.splitlines(True)
                                                  if not line.startswith(b"VmFlags:")))
    [item] = json_lines(pymap(["--proc-root", root, "--json", odd]))
    check_process(item, odd, comm, cmdline)
    assert [mapping["vmflags"] for mapping in item["mappings"]] == [None] * len(smaps)


def test_json_range(odd):
    """-A LOW,HIGH keeps the mappings that overlap the range and totals
    them; a range that meets no mapping gives zeros."""
    comm, cmdline = identity(odd)
    maps = parse_maps(read("/proc/%d/maps" % odd))
    # from the start of the third mapping to the last byte of the fourth:
    # the second (ending where the range starts) and the fifth stay out
    low, high = int(maps[2][0], 16), int(maps[3][1], 16) - 1
    [item] = json_lines(pymap(["-A", "%x,%x" % (low, high), "--json", odd]))
    check_process(item, odd, comm, cmdline)
    kept = [row for row in maps if int(row[1], 16) - 1 >= low and int(row[0], 16) <= high]
    assert_matches_kernel(item, kept)
    assert len(item["mappings"]) >= 2

    [item] = json_lines(pymap(["-A", "10,20", "--json", odd]))
    check_process(item, odd, comm, cmdline)
    assert item["mappings"] == []
    smaps = parse_smaps(read("/proc/%d/smaps" % odd))
    assert list(item["totals"]) == [key for key, _, has_kb in smaps[0][1] if has_kb and key not in NOT_TOTALLED]
    assert set(item["totals"].values()) == {0}


def kernel_thread_like(pid, workdir, name):
    """A copy of ``pid`` as a kernel thread looks: no maps, no memory in
    status, no command line, stack start 0, no smaps_rollup."""
    root = fresh_root(workdir, name)
    folder = copy_process(pid, root)
    for empty in ("maps", "smaps", "cmdline"):
        write(os.path.join(folder, empty), b"")
    os.unlink(os.path.join(folder, "smaps_rollup"))
    status = read(os.path.join(folder, "status"))
    write(os.path.join(folder, "status"), b"".join(line for line in status.splitlines(True)
                                                   if not re.match(rb"(Vm|Rss|Hugetlb)", line)))
    stat = read(os.path.join(folder, "stat"))
    head, tail = stat.rsplit(b")", 1)
    fields = tail.split()
    fields[25] = b"0"  # startstack
    write(os.path.join(folder, "stat"), head + b") " + b" ".join(fields) + b"\n")
    return root


def test_json_kernel_thread_like(plain, workdir):
    """A process without mappings: an empty list and totals that are all
    zeros, Rss and Size among them."""
    root = kernel_thread_like(plain, workdir, "kthread-json")
    comm, _ = identity(plain)
    [item] = json_lines(pymap(["--proc-root", root, "--json", plain]))
    check_process(item, plain, comm, [])
    assert item["mappings"] == []
    assert item["totals"] and set(item["totals"].values()) == {0}
    assert {"Size", "Rss"} <= set(item["totals"])


def test_json_errors(plain, workdir):
    """A process that cannot be read: the error object and status 1; a PID
    that does not exist: nothing, status 42."""
    root = fresh_root(workdir, "unreadable")
    folder = copy_process(plain, root)
    os.unlink(os.path.join(folder, "smaps"))
    for mode in (["--json"], ["--reconcile", "--json"]):
        [item] = json_lines(pymap(["--proc-root", root] + mode + [plain]), status=1)
        assert_keys(item, ERROR_KEYS)
        assert (item["pid"], item["tgid"]) == (plain, plain)
        assert isinstance(item["error"], str) and "smaps" in item["error"]
        assert json_lines(pymap(mode + [_free_pid()]), status=42) == []


def _free_pid():
    pid = int(read("/proc/sys/kernel/pid_max")) - 1
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


# ---------------------------------------------------------------- --reconcile --json


@needs_pmap
def test_reconcile_json(odd):
    """The groups of figures, the README's names in them, figures the
    kernel (and pmap -x) can confirm, gaps as {name, kb, reason}."""
    [item] = json_lines(pymap(["--reconcile", "--json", odd]))
    assert_keys(item, RECONCILE_KEYS, "reconcile")
    for group in ("pmap", "smaps", "smaps_rollup", "status"):
        assert_ints(item[group], allow_none=group == "smaps_rollup")
    assert isinstance(item["anon_split"], dict) and isinstance(item["oom"], dict)
    assert RECONCILE_SMAPS <= set(item["smaps"])
    assert set(item["status"]) == RECONCILE_STATUS
    assert RECONCILE_OOM <= set(item["oom"])
    for key in RECONCILE_OOM:
        assert is_int(item["oom"][key]), key
    assert item["missing"] == []
    assert isinstance(item["roles"], dict) and set(item["roles"]) <= ROLES and item["roles"]
    for sums in item["roles"].values():
        assert_keys(sums, RECONCILE_ROLE_KEYS)
        assert_ints(sums)
    assert_keys(item["threads"], RECONCILE_THREADS_KEYS)
    assert_ints(item["threads"])
    assert item["threads"]["count"] == len(os.listdir("/proc/%d/task" % odd))
    assert isinstance(item["gaps"], list) and item["gaps"]
    for gap in item["gaps"]:
        assert_keys(gap, {"name", "kb", "reason"})
        assert isinstance(gap["name"], str) and is_int(gap["kb"]) and isinstance(gap["reason"], str)
    # the figures the stopped process's files give
    status = status_kb("/proc/%d" % odd)
    assert item["status"] == {key: status[key] for key in item["status"]}
    smaps = parse_smaps(read("/proc/%d/smaps" % odd))
    for key in ("Size", "Rss", "Anonymous", "Swap", "Locked"):
        assert item["smaps"][key] == sum(dict((field, value) for field, value, _ in fields)[key]
                                         for _, fields, _ in smaps), key
    assert item["oom"]["oom_score_adj"] == 123
    assert item["oom"]["MemTotal"] == int(re.search(rb"MemTotal: +(\d+) kB", read("/proc/meminfo")).group(1))
    # pmap's view: the -x totals, under pmap's own column names
    real = livetools.run_pmap(["-x", str(odd)])
    kbytes, rss, dirty = real.stdout.splitlines()[-1].split()[2:5]
    assert (item["pmap"]["Kbytes"], item["pmap"]["RSS"], item["pmap"]["Dirty"]) == (int(kbytes), int(rss),
                                                                                     int(dirty))


def test_reconcile_json_missing_files(plain, workdir):
    """Files missing from a snapshot are named in missing (strings)."""
    root = fresh_root(workdir, "reconcile-missing")
    folder = copy_process(plain, root)
    gone = ["smaps_rollup", "status", "oom_score"]
    for name in gone:
        os.unlink(os.path.join(folder, name))
    os.unlink(os.path.join(root, "meminfo"))
    [item] = json_lines(pymap(["--proc-root", root, "--reconcile", "--json", plain]))
    assert_keys(item, RECONCILE_KEYS, "reconcile")
    assert isinstance(item["missing"], list) and all(isinstance(name, str) for name in item["missing"])
    for name in gone + ["meminfo"]:
        assert any(name in missing for missing in item["missing"]), name
    assert_ints(item["smaps"])


# ---------------------------------------------------------------- --diff --json


def capture(pid, workdir, name):
    folder = os.path.join(workdir, name)
    result = pymap(["--capture", folder, pid])
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    return folder


def totalled(fields):
    return {key: value for key, value, has_kb in fields if has_kb and key not in NOT_TOTALLED}


def smaps_totals(records):
    totals = {}
    for _, fields, _ in records:
        for key, value in totalled(fields).items():
            totals[key] = totals.get(key, 0) + value
    return totals


def header_line(row):
    start, end, perms, offset, device, inode, name = row
    line = b"%s-%s %s %s %s %s " % (start, end, perms, offset, device, inode)
    return (line.ljust(73) + name if name else line) + b"\n"


def smaps_text(records):
    lines = []
    for row, fields, flags in records:
        lines.append(header_line(row))
        for key, value, has_kb in fields:
            lines.append(b"%s%8d%s\n" % ((key + ":").encode().ljust(16), value, b" kB" if has_kb else b""))
        if flags is not None:
            lines.append(b"VmFlags: %s \n" % " ".join(flags).encode())
    return b"".join(lines)


def check_change(item, pid):
    documented = CHANGE_KEYS | ({"before"} if item.get("change") == "changed" else set())
    assert_keys(item, documented, "diff change")
    if "pid" in item:
        assert (item["pid"], item["tgid"]) == (pid, pid)
    assert item["change"] in ("appeared", "gone", "changed")
    for key in ("start", "end", "offset"):
        assert_hex(item[key])
    assert_decimal(item["inode"])
    for key in ("perms", "device", "name", "label"):
        assert isinstance(item[key], str)
    assert item["label"] == item["label"].strip(" ")
    assert_ints(item["kb"])
    assert not NOT_TOTALLED & set(item["kb"]), "kb: the fields that add up"
    if item["change"] == "changed":
        assert_keys(item["before"], BEFORE_KEYS)
        for key in ("start", "end", "offset"):
            assert_hex(item["before"][key])
        assert isinstance(item["before"]["perms"], str)


def test_diff_json(plain, workdir):
    """A capture against the live process, and against a copy the test
    changed: a mapping gone, one that appeared, one resized; one object per
    changed mapping, then the totals object with the deltas of --json's
    totals."""
    before = capture(plain, workdir, "diff-before")
    comm, cmdline = identity(plain)
    objects = json_lines(pymap(["--diff", before, "--json", plain]))
    assert objects, "at least the totals object"
    for item in objects[:-1]:
        check_change(item, plain)
    assert_keys(objects[-1], DIFF_TOTALS_KEYS)
    assert (objects[-1]["pid"], objects[-1]["tgid"], objects[-1]["comm"], objects[-1]["cmdline"]) == (
        plain, plain, comm, cmdline)
    assert_ints(objects[-1]["totals"])
    age = objects[-1]["age_seconds"]  # the live side is now: a number once a second has passed, else null
    assert (age is None and objects[-1]["per_minute"] is None) or (
        isinstance(age, float) and set(objects[-1]["per_minute"]) == set(objects[-1]["totals"]))

    # the later side: the capture, changed here
    after = fresh_root(workdir, "diff-after")
    shutil.copytree(os.path.join(before, str(plain)), os.path.join(after, str(plain)))
    shutil.copy(os.path.join(before, "meminfo"), after)
    old = parse_smaps(read(os.path.join(before, str(plain), "smaps")))
    new = [list(record) for record in old]
    gone = new.pop(0)
    # a nameless mapping grows by two pages into the gap after it
    nameless = next(index for index, record in enumerate(new[:-1]) if not record[0][6]
                    and int(new[index + 1][0][0], 16) >= int(record[0][1], 16) + 2 * PAGE)
    row = list(new[nameless][0])
    old_end_text = text(row[1])
    old_end = int(row[1], 16)
    row[1] = b"%08x" % (old_end + 2 * PAGE)  # as the kernel writes it
    grown = 2 * PAGE // 1024
    new[nameless] = [tuple(row), [(key, value + grown if key in ("Size", "Rss") else value, has_kb)
                                  for key, value, has_kb in new[nameless][1]], new[nameless][2]]
    appeared_start = int(new[-2][0][1], 16)  # between the last two, if there is room
    assert int(new[-1][0][0], 16) - appeared_start >= PAGE
    appeared = [(b"%08x" % appeared_start, b"%08x" % (appeared_start + PAGE), b"rw-p", b"00000000", b"00:00", b"0", b""),
                [(key, {"Size": PAGE // 1024, "Rss": PAGE // 1024, "Anonymous": PAGE // 1024}.get(
                    key, value if not has_kb else 0), has_kb)
                 for key, value, has_kb in new[0][1]], ["rd", "wr"]]
    new.insert(len(new) - 1, appeared)
    smaps = smaps_text(new)
    write(os.path.join(after, str(plain), "smaps"), smaps)
    write(os.path.join(after, str(plain), "maps"),
          b"".join(line + b"\n" for line in smaps.splitlines() if not line[:1].isupper()))

    objects = json_lines(pymap(["--diff", before, "--proc-root", after, "--json", plain]))
    changes, totals = objects[:-1], objects[-1]
    for item in changes:
        check_change(item, plain)
    by_kind = {}
    for item in changes:
        by_kind.setdefault(item["change"], []).append(item)
    assert sorted(by_kind) == ["appeared", "changed", "gone"]
    [gone_item] = by_kind["gone"]
    assert (gone_item["start"], gone_item["end"]) == (text(gone[0][0]), text(gone[0][1]))
    assert gone_item["kb"] == {key: -value for key, value in totalled(gone[1]).items()}
    [appeared_item] = by_kind["appeared"]
    assert (appeared_item["start"], appeared_item["label"]) == ("%08x" % appeared_start, "[ anon ]")
    assert appeared_item["kb"] == totalled(appeared[1])
    [changed] = by_kind["changed"]
    assert changed["before"]["end"] == old_end_text and changed["end"] == "%08x" % (old_end + 2 * PAGE)
    assert (changed["kb"]["Size"], changed["kb"]["Rss"]) == (grown, grown)
    # the totals object: the deltas of --json's totals, from the two files
    assert_keys(totals, DIFF_TOTALS_KEYS)
    new_totals, old_totals = smaps_totals(new), smaps_totals(old)
    assert totals["totals"] == {key: new_totals[key] - old_totals[key] for key in old_totals}


def test_diff_json_cannot_compare(plain, odd, workdir):
    """A process that is not the same on both sides: {schema, pid, state},
    status 42."""
    before = capture(plain, workdir, "states-before")
    empty = fresh_root(workdir, "states-gone")
    restarted = fresh_root(workdir, "states-restarted")
    shutil.copytree(os.path.join(before, str(plain)), os.path.join(restarted, str(plain)))
    stat_path = os.path.join(restarted, str(plain), "stat")
    head, tail = read(stat_path).rsplit(b")", 1)
    fields = tail.split()
    fields[19] = b"%d" % (int(fields[19]) + 1)  # field 22, starttime
    write(stat_path, head + b") " + b" ".join(fields) + b"\n")
    for args, state, pid in ((["--proc-root", empty], "gone", plain),
                             (["--proc-root", restarted], "restarted", plain),
                             ([], "not captured", odd)):
        [item] = json_lines(pymap(["--diff", before] + args + ["--json", pid]), status=42)
        assert_keys(item, STATE_KEYS)
        assert (item["pid"], item["state"]) == (pid, state)


# ---------------------------------------------------------------- --summary --json


def check_summary_totals(item, rows, processes, unreadable=0):
    assert_keys(item, SUMMARY_TOTALS_KEYS)
    assert (item["processes"], item["unreadable"]) == (processes, unreadable)
    assert is_int(item["processes"]) and is_int(item["unreadable"])
    assert_ints(item["totals"])
    assert item["totals"] and set(item["totals"]) <= set(FIGURES + ["oom_score", "oom_score_adj"])
    for key, value in item["totals"].items():
        assert value == sum(row[key] for row in rows), key


def check_summary_row(item, pid):
    assert_keys(item, SUMMARY_ROW_KEYS, ordered=SUMMARY_ROW_ORDER)
    comm, cmdline = identity(pid)
    assert (item["pid"], item["comm"], item["cmdline"]) == (pid, comm, cmdline)
    for key in ["uid"] + FIGURES + ["oom_score", "oom_score_adj"]:
        assert is_int(item[key]), key
    effective = int(re.search(rb"\nUid:\t\d+\t(\d+)", read("/proc/%d/status" % pid)).group(1))
    assert (item["uid"], item["user"]) == (effective, pwd.getpwuid(effective).pw_name)
    status = status_kb("/proc/%d" % pid)
    assert [item[key] for key in ("RssAnon", "RssFile", "RssShmem")] == [status[key] for key in
                                                                        ("RssAnon", "RssFile", "RssShmem")]
    assert item["oom_score_adj"] == int(read("/proc/%d/oom_score_adj" % pid))
    assert item["oom_badness"] is None or is_int(item["oom_badness"])
    assert item["source"] in ("smaps_rollup", "smaps")


def test_summary_json(plain, odd):
    """One object per process, then the totals object; -q leaves it out."""
    objects = json_lines(pymap(["--summary", "--json", plain, odd]))
    rows, totals = objects[:-1], objects[-1]
    assert sorted(row["pid"] for row in rows) == sorted([plain, odd])
    for row in rows:
        check_summary_row(row, row["pid"])
        assert row["source"] == ("smaps_rollup" if os.path.exists("/proc/%d/smaps_rollup" % row["pid"])
                                 else "smaps")
    check_summary_totals(totals, rows, 2)
    quiet = json_lines(pymap(["--summary", "--json", "-q", plain, odd]))
    assert len(quiet) == 2 and all("pid" in row for row in quiet)


@pytest.mark.parametrize("by", ["program", "user"])
def test_summary_json_by(plain, odd, by):
    """--by=program and --by=user: the group key, processes and the
    figures, then the totals object."""
    objects = json_lines(pymap(["--summary", "--by=" + by, "--json", plain, odd]))
    groups, totals = objects[:-1], objects[-1]
    for group in groups:
        assert_keys(group, {"schema", by, "processes"} | set(FIGURES))
        assert isinstance(group[by], str) and is_int(group["processes"]) and group["processes"] >= 1
        assert_ints({key: group[key] for key in FIGURES})
    assert sum(group["processes"] for group in groups) == 2
    if by == "user":
        assert [group["user"] for group in groups] == [pwd.getpwuid(os.geteuid()).pw_name]
    check_summary_totals(totals, groups, 2)


def test_summary_json_by_mapping(plain, odd):
    """--by=mapping: a group per mapped file, [heap], [stack], [anon], with
    the number of processes that map it; no totals (a shared page is in
    several groups)."""
    groups = json_lines(pymap(["--summary", "--by=mapping", "--json", plain, odd]))
    for group in groups:
        assert_keys(group, {"schema", "mapping", "processes"} | set(MAPPING_FIGURES), "summary mapping")
        assert isinstance(group["mapping"], str) and is_int(group["processes"])
        assert_ints({key: value for key, value in group.items() if key not in ("schema", "mapping")})
    names = {group["mapping"]: group["processes"] for group in groups}
    assert names["[anon]"] == names["[stack]"] == names["[heap]"] == 2
    program = os.path.realpath(read("/proc/%d/cmdline" % plain).split(b"\0")[0]).decode()
    assert names[program] == 2


def test_summary_json_by_role(plain, odd):
    """--by=role: a group per role, Size and the figures summed from smaps,
    with the number of processes that have it, then the totals."""
    objects = json_lines(pymap(["--summary", "--by=role", "--json", plain, odd]))
    groups, totals = objects[:-1], objects[-1]
    for group in groups:
        assert_keys(group, ["schema", "role", "processes"] + ROLE_FIGURES, "summary role",
                    ordered=["role", "processes"] + ROLE_FIGURES)
        assert group["role"] in ROLES and is_int(group["processes"])
        assert_ints({key: value for key, value in group.items() if key not in ("schema", "role")})
    found = {group["role"]: group for group in groups}
    assert found["heap"]["processes"] == found["stack"]["processes"] == found["file"]["processes"] == 2
    assert found["shmem"]["processes"] == 1, "the odd process's shared mapping"
    assert_keys(totals, SUMMARY_TOTALS_KEYS)
    assert totals["processes"] == 2 and totals["totals"]["Size"] == sum(group["Size"] for group in groups)
    sizes = 0
    for pid in (plain, odd):
        sizes += sum(int(end, 16) - int(start, 16) for start, end, *_ in parse_maps(read("/proc/%d/maps" % pid)))
    assert totals["totals"]["Size"] * 1024 == sizes


@pytest.mark.parametrize("damage", [
    "directories",
    "missing",
])
def test_summary_json_unreadable(plain, workdir, damage):
    """A named process whose memory cannot be read (a snapshot's smaps and
    smaps_rollup are not files, or are missing while its stat and status
    are there): counted in unreadable, one line on stderr, status 1."""
    root = fresh_root(workdir, "summary-" + damage)
    folder = copy_process(plain, root)
    for name in ("smaps", "smaps_rollup"):
        os.unlink(os.path.join(folder, name))
        if damage == "directories":
            os.mkdir(os.path.join(folder, name))
    [totals] = json_lines(pymap(["--proc-root", root, "--summary", "--json", plain]), status=1, messages=1)
    check_summary_totals(totals, [], 0, unreadable=1)


def test_summary_json_without_rollup(plain, workdir):
    """source is smaps where smaps_rollup is missing, the figures summed
    from smaps; a kernel-thread-like process named has zeros."""
    root = fresh_root(workdir, "summary-smaps")
    folder = copy_process(plain, root)
    os.unlink(os.path.join(folder, "smaps_rollup"))
    [row, totals] = json_lines(pymap(["--proc-root", root, "--summary", "--json", plain]))
    check_summary_row(row, plain)
    assert row["source"] == "smaps"
    smaps = parse_smaps(read(os.path.join(folder, "smaps")))
    summed = smaps_totals(smaps)
    assert (row["Rss"], row["Pss"], row["Swap"]) == (summed["Rss"], summed["Pss"], summed["Swap"])
    assert row["Uss"] == summed["Private_Clean"] + summed["Private_Dirty"]
    check_summary_totals(totals, [row], 1)

    root = kernel_thread_like(plain, workdir, "summary-kthread")
    [row, totals] = json_lines(pymap(["--proc-root", root, "--summary", "--json", plain]))
    assert_keys(row, SUMMARY_ROW_KEYS, ordered=SUMMARY_ROW_ORDER)
    assert row["cmdline"] == []
    assert [row[key] for key in FIGURES] == [0] * len(FIGURES)
    check_summary_totals(totals, [row], 1)


# ---------------------------------------------------------------- what the README does not name


def test_readme_names_every_member(plain, workdir):
    before = capture(plain, workdir, "undocumented")
    after = fresh_root(workdir, "undocumented-after")
    shutil.copytree(os.path.join(before, str(plain)), os.path.join(after, str(plain)))
    shutil.copy(os.path.join(before, "meminfo"), after)
    smaps = read(os.path.join(after, str(plain), "smaps"))
    write(os.path.join(after, str(plain), "smaps"), smaps[smaps.index(b"\n", smaps.index(b"VmFlags")) + 1:])
    found = {}
    for item in json_lines(pymap(["--diff", before, "--proc-root", after, "--json", plain]))[:-1]:
        found.setdefault("diff change", set()).update(set(item) - CHANGE_KEYS - {"before"})
    [item] = json_lines(pymap(["--reconcile", "--json", plain]))
    found["reconcile"] = set(item) - RECONCILE_KEYS
    found["reconcile roles"] = set()
    for sums in item["roles"].values():
        found["reconcile roles"].update(set(sums) - RECONCILE_ROLE_KEYS)
    found["summary mapping"] = set()
    for group in json_lines(pymap(["--summary", "--by=mapping", "--json", plain])):
        found["summary mapping"].update(set(group) - {"schema", "mapping", "processes"} - set(MAPPING_FIGURES))
    found["summary role"] = set()
    for group in json_lines(pymap(["--summary", "--by=role", "--json", "-q", plain])):
        found["summary role"].update(set(group) - {"schema", "role", "processes"} - set(ROLE_FIGURES))
    assert found == {"diff change": set(), "reconcile": set(), "reconcile roles": set(), "summary mapping": set(),
                     "summary role": set()}


def test_unitless_without_bare_numbers(plain, workdir):
    """A kernel that writes no bare numbers (no THPeligible, no
    ProtectionKey): every mapping still has unitless, empty."""
    root = fresh_root(workdir, "no-unitless")
    folder = copy_process(plain, root)
    smaps = read(os.path.join(folder, "smaps"))
    write(os.path.join(folder, "smaps"), re.sub(rb"(?m)^(THPeligible|ProtectionKey):.*\n", b"", smaps))
    [item] = json_lines(pymap(["--proc-root", root, "--json", plain]))
    for mapping in item["mappings"]:
        check_mapping(mapping)
        assert mapping["unitless"] == {}
