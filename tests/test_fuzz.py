"""Fuzzing: whatever bytes a /proc snapshot, the arguments, the environment
or an rc file hold, pymap ends with one of pmap's statuses and either
output or clean one-line messages -- never an exception.

Everything runs in-process through run_captured against --proc-root
folders, inside a fresh scratch directory (so -n/-N create nothing here).
"""

import contextlib
import os
import re
import shutil
import tempfile

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pymap.command.cli import run_captured

pytestmark = pytest.mark.unit

PID = 4242
HEADER = re.compile(rb"-?[0-9]+:   ")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

MAPS = (b"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1311 /usr/bin/cat\n"
        b"55d0c0a02000-55d0c0a07000 r-xp 00002000 08:01 1311 /usr/bin/cat\n"
        b"55d0c1c00000-55d0c1c21000 rw-p 00000000 00:00 0 [heap]\n"
        b"7f1e2c000000-7f1e2c200000 rw-s 00000000 00:01 32769 /SYSV00000000 (deleted)\n"
        b"7f1e2d000000-7f1e2d001000 r--p 00000000 08:01 77 /tmp/a name with spaces\xff (deleted)\n"
        b"7ffc9a1e0000-7ffc9a201000 rw-p 00000000 00:00 0 [stack]\n"
        b"7ffc9a3f4000-7ffc9a3f6000 r-xp 00000000 00:00 0 [vdso]\n"
        b"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n")
FIELDS = (b"Size:                  8 kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n"
          b"Rss:                   8 kB\nPss:                   4 kB\nPss_Dirty:             0 kB\n"
          b"Shared_Clean:          8 kB\nShared_Dirty:          0 kB\nPrivate_Clean:         0 kB\n"
          b"Private_Dirty:         0 kB\nReferenced:            8 kB\nAnonymous:             0 kB\n"
          b"LazyFree:              0 kB\nAnonHugePages:         0 kB\nSwap:                  0 kB\n"
          b"SwapPss:               0 kB\nLocked:                0 kB\nTHPeligible:           0\n"
          b"ProtectionKey:         0\nVmFlags: rd mr mw me sd \n")
SMAPS = b"".join(line + b"\n" + FIELDS for line in MAPS.splitlines())
STAT = (b"4242 (c\xffa t) S 1 4242 4242 34816 4242 4194304 97 0 0 0 0 0 0 0 20 0 1 0 3155 5820416 "
        b"216 18446744073709551615 94380000000000 94380000020000 140722897092288 0 0 0 0 0 0 0 0 0 17 "
        b"3 0 0 0 0 0\n")
STATUS = b"Name:\tcat\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t1\n"
CMDLINE = b"cat\0-\0\xe2\x82\xac\x1b[31m\0"
TEMPLATES = {"maps": MAPS, "smaps": SMAPS, "stat": STAT, "status": STATUS, "cmdline": CMDLINE}

CLASSIC_MODES = [[], ["-x"], ["-d"], ["-q"], ["-x", "-q"], ["-d", "-q"], ["-p"], ["-x", "-p"], ["-k"],
                 ["-A", "7f1e2c000000,7ffc9a3f4000"], ["-x", "-A", "ffffffffffffffffffffff"]]
TABLE_MODES = [["-X"], ["-XX"], ["-X", "-p"], ["-XX", "-q"], ["-X", "-A", "0,55d0c1c00000"]]
RELEASES = [b"4.0.2", b"4.0.4", b"4.0.5", b"4.0.6", b"main"]
LOCALES = [b"C", b"C.UTF-8", b"en_US.UTF-8", b"POSIX", b"", b"xx_XX.ISO-8859-1", b"\xff\xfe", b"de_DE@euro"]


@contextlib.contextmanager
def scratch():
    """A fresh directory that is also the working directory and HOME."""
    folder = tempfile.mkdtemp(prefix="pymap-fuzz-")
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(previous)
        shutil.rmtree(folder, ignore_errors=True)


def check_result(result, echoed=()):
    """What every run must satisfy, whatever its input.  ``echoed``: the
    arguments, which pmap's own messages (getopt's, -A's) quote raw, newlines
    and all."""
    status, stdout, stderr = result
    assert status in (0, 1, 42, 43), status
    assert isinstance(stdout, bytes) and isinstance(stderr, bytes)
    assert b"Traceback" not in stderr
    if stderr:
        assert stderr.endswith(b"\n"), stderr
        # two multi-line messages are pmap's own: its usage, and -X's
        # complaint that quotes the offending smaps line
        if b"\nUsage:\n" not in stderr and b": ERROR: inconsistent detail field in smaps file, line:\n" not in stderr:
            text = stderr
            for argument in sorted(echoed, key=len, reverse=True):
                if b"\n" in argument:
                    text = text.replace(argument, b"<argument>")
            for line in text[:-1].split(b"\n"):
                assert line.startswith(b"pmap: "), stderr
    if stdout:
        assert stdout.endswith(b"\n"), stdout[-200:]
    return status, stdout, stderr


# mutations of a template: (where, what) pairs applied in order
_PAYLOADS = st.sampled_from([b"\n", b" ", b"-", b":", b"(", b")", b")(", b"0", b"f" * 24, b"9" * 30, b"\xff",
                             b"\0", b" kB", b"VmFlags:", b"Rss:", b"Rss: 99999999999999999999 kB",
                             b"Size: -5 kB", b"\t", b"0-0 ---- 0 0:0 0\n", b"[stack]", b"(deleted)"])
_MUTATION = st.tuples(st.floats(0, 1), st.sampled_from(["set", "insert", "delete", "cut"]),
                      st.one_of(_PAYLOADS, st.binary(min_size=1, max_size=12)))


def mutate(data, mutations):
    data = bytearray(data)
    for where, kind, payload in mutations:
        position = int(where * len(data))
        if kind == "set" and position < len(data):
            data[position] = payload[0]
        elif kind == "insert":
            data[position:position] = payload
        elif kind == "delete":
            del data[position:position + len(payload) * 4]
        elif kind == "cut":
            del data[position:]
    return bytes(data)


_FILE = st.one_of(
    st.none(),  # absent
    st.binary(max_size=300),  # noise
    st.lists(_MUTATION, max_size=8),  # near-valid
)


def write_snapshot(folder, contents):
    process = os.path.join(folder, "proc", str(PID))
    os.makedirs(process)
    for name, content in contents.items():
        if content is None:
            continue
        if isinstance(content, list):
            content = mutate(TEMPLATES[name], content)
        with open(os.path.join(process, name), "wb") as handle:
            handle.write(content)
    return os.path.join(folder, "proc").encode()


def run_snapshot(root, mode, release=b"main", locale=b"C", pids=(PID,)):
    argv = [b"pmap", b"--proc-root", root] + [word if isinstance(word, bytes) else word.encode() for word in mode] + [b"%d" % pid for pid in pids]
    return run_captured(argv, {b"PYMAP_COMPAT": release, b"LANG": locale})


# -- snapshots that still list mappings ----------------------------------------
# Every file fuzzed at once rarely leaves a listing (a broken stat alone ends
# the run), so two more kinds of snapshot: the template with one file fuzzed,
# and snapshots made line by line that keep pmap's line structure whatever
# the values, so that every classic mode lists one row per mapping.

def _one_file_fuzzed():
    """The template with one of its files absent, noise or near-valid."""
    return st.sampled_from(sorted(TEMPLATES)).flatmap(
        lambda name: _FILE.map(lambda content: dict(TEMPLATES, **{name: content})))


MASK64 = (1 << 64) - 1
_ODD_NAMES = [b"", b"[heap]", b"[stack]", b"[vdso]", b"[vvar]", b"[vsyscall]", b"[anon:zone]", b"/usr/lib/libc.so.6",
              b"/SYSV00000000 (deleted)", b"/memfd:x (deleted)", b"/dev/zero (deleted)", b"(deleted)",
              b"/tmp/a name\twith\xff\x1b[31m esc", b"/\xe2\x82\xac/\xc3\x28", b"  two spaces first", b"/x" * 90]
# no newline (it would start a line) and no NUL (it ends C's string early)
_NAME = st.one_of(st.sampled_from(_ODD_NAMES),
                  st.binary(max_size=60).map(lambda name: name.replace(b"\n", b"?").replace(b"\0", b"?")))
_PERMS = [b"%c%c%c%c" % (r, w, x, s) for r in b"r-" for w in b"w-" for x in b"x-" for s in b"ps"]
# smaps' fields in the kernel's order; -x takes Rss, Shared_Dirty,
# Private_Dirty and prints its row at Swap, which therefore stays (once, and
# scannable); the others may be missing or hold what does not scan
_SMAPS_KEYS = [b"Size", b"KernelPageSize", b"MMUPageSize", b"Rss", b"Pss", b"Pss_Dirty", b"Shared_Clean",
               b"Shared_Dirty", b"Private_Clean", b"Private_Dirty", b"Referenced", b"Anonymous", b"LazyFree",
               b"AnonHugePages", b"ShmemPmdMapped", b"FilePmdMapped", b"Shared_Hugetlb", b"Private_Hugetlb",
               b"Swap", b"SwapPss", b"Locked", b"THPeligible", b"ProtectionKey", b"Bogus_Field"]
_ODD_VALUES = [b"", b"-5", b"x", b"0x10", b"18446744073709551615", b"9" * 40, b"12abc"]


def _field_value(rnd):
    choice = rnd.randrange(4)
    if choice == 0:
        return rnd.choice(_ODD_VALUES)
    return b"%d" % rnd.randrange(1 << (70 if choice == 1 else 20))


def _mapping_lines(rnd, start, perms, name):
    """One mapping: (end, maps line, smaps record); ``rnd`` (a Random that
    hypothesis drew, to keep the draws few) picks its size and the values."""
    size = rnd.randrange(1, 65) * 4096 if rnd.randrange(4) else rnd.randrange(1 << 64)
    end = (start + size) & MASK64  # a size that wraps gives an end below the start
    width = rnd.choice([1, 8, 12, 16])
    header = b"%0*x-%0*x %s %08x %02x:%02x %d" % (
        width, start, width, end, perms, rnd.randrange(1 << 64), rnd.randrange(0x1000), rnd.randrange(0x100000),
        rnd.choice([0, 1311, MASK64]))
    line = header + (b" " * rnd.randrange(1, 30) + name if name or rnd.randrange(2) else b"") + b"\n"
    record = [line]
    for key in _SMAPS_KEYS:
        if key == b"Swap":
            record.append(b"Swap:%s%d kB\n" % (b" " * rnd.randrange(1, 20), rnd.randrange(1 << 40)))
        elif rnd.randrange(5):  # most fields are there
            record.append(b"%s:%s%s kB\n" % (key, b" " * rnd.randrange(20), _field_value(rnd)))
    record.append(b"VmFlags: %s\n" % b" ".join(rnd.choice([b"rd", b"wr", b"mr", b"sd", b"??"])
                                                for _ in range(rnd.randrange(5))))
    return end, line, b"".join(record)


_MAPPING = st.tuples(st.sampled_from(_PERMS), _NAME)


@st.composite
def _listed_snapshots(draw):
    """(contents, [(start, end)] in file order): 3 to 10 mappings, most in
    increasing order, with odd names, perms, devices, bounds and smaps
    values; stat has a fuzzed comm, cmdline is any of _FILE's, status is
    whole, absent or noise (a fuzzed Tgid would make it another process's
    thread, listed from that process's files)."""
    rnd = draw(st.randoms(use_true_random=True))  # a seeded Random: few draws
    spans, maps, smaps = [], [], []
    address = draw(st.integers(0, 1 << 47))
    for perms, name in draw(st.lists(_MAPPING, min_size=3, max_size=10)):
        if rnd.randrange(10) == 0:
            address = rnd.randrange(1 << 64)  # out of order, or anywhere
        end, line, record = _mapping_lines(rnd, address, perms, name)
        spans.append((address, end))
        maps.append(line)
        smaps.append(record)
        address = (max(address, end) + rnd.choice([0, 4096, 1 << 30])) & MASK64
    comm = draw(st.binary(max_size=15)).replace(b"\0", b"?")
    contents = {"maps": b"".join(maps), "smaps": b"".join(smaps),
                "stat": STAT.replace(b"(c\xffa t)", b"(" + comm + b")"),
                "status": draw(st.one_of(st.none(), st.just(STATUS), st.binary(max_size=100))),
                "cmdline": draw(_FILE)}
    return contents, spans


# for the crash test of the classic modes: every file fuzzed, one file
# fuzzed, or made line by line
_SNAPSHOTS = st.one_of(st.fixed_dictionaries({name: _FILE for name in TEMPLATES}), _one_file_fuzzed(),
                       _listed_snapshots().map(lambda snapshot: snapshot[0]))
_LISTED_MODES = [[], ["-x"], ["-d"], ["-q"], ["-x", "-q"], ["-d", "-q"], ["-p"], ["-x", "-p"], ["-d", "-k"]]


def _release_for(mode):
    return st.sampled_from([release for release in RELEASES if "-k" not in mode or release >= b"4.0.6"])


def _split_listing(stdout, mode):
    """(header, rows, lines after the rows) of a classic listing."""
    header, _, body = stdout.partition(b"\n")
    lines = body.split(b"\n")
    assert lines.pop() == b""
    quiet = "-q" in mode
    heading = 0 if quiet or not ("-x" in mode or "-d" in mode) else 1
    trailer = 0 if quiet else 2 if "-x" in mode else 1
    return header, lines[heading:len(lines) - trailer], lines[len(lines) - trailer:]


@SETTINGS
@given(snapshot=_listed_snapshots(), mode_release=st.sampled_from(_LISTED_MODES).flatmap(
    lambda mode: st.tuples(st.just(mode), _release_for(mode))), locale=st.sampled_from(LOCALES))
def test_fuzzed_snapshot_lists_every_mapping(snapshot, mode_release, locale):
    """Whatever the names, perms, devices, bounds and smaps values: status 0,
    no message, and one row per mapping, with its address and size."""
    (contents, spans), (mode, release) = snapshot, mode_release
    with scratch() as folder:
        root = write_snapshot(folder, contents)
        status, stdout, stderr = check_result(run_snapshot(root, mode, release, locale))
    assert (status, stderr) == (0, b""), stdout[-300:]
    header, rows, trailer = _split_listing(stdout, mode)
    assert HEADER.match(header), header
    if "-x" in mode:
        # -x's Mapping column points into pmap's line buffer, where a field
        # line read since, if it reached that far, left its tail: the row
        # then ends with that tail's newline, and an empty line follows
        rows = [row for row in rows if row]
    assert [(int(row.split()[0], 16), int(row.split()[1].rstrip(b"K"))) for row in rows] == [
        (start, ((end - start) & MASK64) >> 10) for start, end in spans], stdout
    if trailer:
        assert trailer[-1].startswith(b"total kB " if "-x" in mode else b"mapped: " if "-d" in mode else b" total ")


# -- -A ranges that parse --------------------------------------------------------

_SPANS = [tuple(int(bound, 16) for bound in line.split(None, 1)[0].split(b"-")) for line in MAPS.splitlines()]
_BOUNDS = sorted({min(MASK64, max(0, value + delta)) for span in _SPANS for value in span + (sum(span) // 2,)
                  for delta in (-1, 0, 1)} | {0, MASK64})


@st.composite
def _spelled_bound(draw):
    """(value, text): a bound near the template's mappings (or anywhere) and
    a way of writing it that strtoul(text, &end, 16) reads to its end:
    white space, a sign (minus negates modulo 2**64), 0x, leading zeros,
    either case, or too many digits for ULONG_MAX (which saturate)."""
    value = draw(st.sampled_from(_BOUNDS) if draw(st.integers(0, 3)) else st.integers(0, MASK64))
    space = draw(st.sampled_from([b"", b" ", b"\t", b" \n\v\f\r"]))
    sign = draw(st.sampled_from([b"", b"+", b"-"]))
    prefix = draw(st.sampled_from([b"", b"0x", b"0X"]))
    if value == MASK64 and draw(st.booleans()):
        digits = b"1" + b"0" * draw(st.integers(16, 30))  # overflow, whatever the sign
    else:
        digits = b"0" * draw(st.integers(0, 20)) + b"%x" % ((-value) & MASK64 if sign == b"-" else value)
        if draw(st.booleans()):
            digits = digits.upper()
    return value, space + sign + prefix + digits


@st.composite
def _valid_ranges(draw):
    """(low, high, argument) for -A: both bounds, one of them, one value
    for both, or none."""
    kind = draw(st.sampled_from(["both", "both", "both", "low", "high", "one", "none"]))
    (low, low_text), (high, high_text) = draw(_spelled_bound()), draw(_spelled_bound())
    if kind == "both":
        if draw(st.integers(0, 3)):  # mostly in order, to cut through the listing
            (low, low_text), (high, high_text) = sorted([(low, low_text), (high, high_text)])
        return low, high, low_text + b"," + high_text
    if kind == "low":
        return low, MASK64, low_text + b","
    if kind == "high":
        return 0, high, b"," + high_text
    if kind == "one":
        return low, low, low_text
    return 0, MASK64, draw(st.sampled_from([b"", b","]))


@SETTINGS
@given(bounds=_valid_ranges(), mode=st.sampled_from([[], ["-x"], ["-d"], ["-q"], ["-x", "-q"]]))
@example(bounds=(0x55d0c0a02000, 0, b"55d0c0a02000,0"), mode=["-x"])  # LOW above HIGH
@example(bounds=(0x7f1e2d000000, 0x7f1e2c000000, b"7f1e2d000000,7f1e2c000000"), mode=["-x"])
def test_fuzzed_valid_ranges_cut_the_listing(bounds, mode):
    """A range that parses lists exactly the mappings it meets (their last
    byte at or above LOW, their start at or below HIGH) and totals their
    sizes.  Under -x the RSS total adds every mapping pmap's loop reads: it
    skips those that end below LOW (their Rss still counts) and stops at
    the first of the others that starts above HIGH."""
    low, high, argument = bounds
    shown = [(start, end) for start, end in _SPANS if end - 1 >= low and start <= high]
    read = []
    for start, end in _SPANS:
        if end - 1 >= low and start > high:
            break
        read.append((start, end))
    with scratch() as folder:
        root = write_snapshot(folder, dict(TEMPLATES))
        status, stdout, stderr = check_result(run_snapshot(root, mode + ["-A", argument]), [argument])
    assert (status, stderr) == (0, b""), argument
    _, rows, trailer = _split_listing(stdout, mode)
    assert [int(row.split()[0], 16) for row in rows] == [start for start, _ in shown], (argument, stdout)
    kbytes = sum(end - start for start, end in shown) >> 10
    if mode == ["-x"]:
        assert trailer[-1].split() == [b"total", b"kB", b"%d" % kbytes, b"%d" % (8 * len(read)), b"0"], stdout
    elif mode == ["-d"]:
        assert trailer[-1].startswith(b"mapped: %dK " % kbytes), stdout
    elif mode == []:
        assert trailer[-1].split() == [b"total", b"%dK" % kbytes], stdout
    # (-q: no totals, and any line more would have failed as a row)


@settings(SETTINGS, max_examples=120)
@given(contents=_SNAPSHOTS,
       mode=st.sampled_from(CLASSIC_MODES), release=st.sampled_from(RELEASES), locale=st.sampled_from(LOCALES))
def test_fuzzed_snapshot_classic_modes(contents, mode, release, locale):
    with scratch() as folder:
        root = write_snapshot(folder, contents)
        first = check_result(run_snapshot(root, mode, release, locale))
        # the same files give the same answer (nothing depends on stray state)
        assert run_snapshot(root, mode, release, locale) == first
    status, stdout, stderr = first
    if status == 1 and stdout == b"" and "-k" in mode and release < b"4.0.6":
        assert b"invalid option -- 'k'" in stderr  # -k came with 4.0.6
        return
    # in a snapshot, what made a process unreadable may be told: one line
    assert stderr.count(b"\n") <= 1
    if status == 42:
        assert stdout == b""
        return
    header, _, body = stdout.partition(b"\n")
    assert HEADER.match(header), header  # the Tgid of status, which may be fuzzed too
    if status == 1:
        # a process that cannot be read: its header line and nothing else
        assert body == b""
        return
    assert status == 0 and stderr == b""
    lines = body.splitlines()
    if "-q" in mode:
        assert not any(line.startswith((b" total", b"total kB", b"mapped:")) for line in lines)
    elif "-x" in mode:
        assert lines[-1].startswith(b"total kB ")
    elif "-d" in mode:
        assert lines[-1].startswith(b"mapped: ")
    else:
        assert lines[-1].startswith(b" total ")


@SETTINGS
@given(contents=st.fixed_dictionaries({name: _FILE for name in TEMPLATES}),
       mode=st.sampled_from(TABLE_MODES), release=st.sampled_from(RELEASES), locale=st.sampled_from(LOCALES))
def test_fuzzed_snapshot_table_modes(contents, mode, release, locale):
    with scratch() as folder:
        root = write_snapshot(folder, contents)
        status, stdout, stderr = check_result(run_snapshot(root, mode, release, locale))
    if status != 42:
        assert HEADER.match(stdout), stdout[:100]
    if status == 1 and not stderr:
        assert stdout.count(b"\n") == 1  # header line only


@SETTINGS
@given(noise=st.lists(st.tuples(st.sampled_from(sorted(TEMPLATES)), st.binary(max_size=200)), max_size=5),
       mode=st.sampled_from(CLASSIC_MODES + TABLE_MODES))
def test_several_processes_some_broken(noise, mode):
    """Good and broken processes in one call: the good ones print in full,
    each broken one only costs its own table."""
    with scratch() as folder:
        good = os.path.join(folder, "proc", "100")
        os.makedirs(good)
        for name, content in TEMPLATES.items():
            with open(os.path.join(good, name), "wb") as handle:
                handle.write(content.replace(b"%d" % PID, b"100"))
        os.makedirs(os.path.join(folder, "proc", str(PID)))
        for name, content in noise:
            with open(os.path.join(folder, "proc", str(PID), name), "wb") as handle:
                handle.write(content)
        root = os.path.join(folder, "proc").encode()
        alone = check_result(run_snapshot(root, mode, pids=(100,)))
        together = check_result(run_snapshot(root, mode, pids=(100, PID, 100)))
    assert alone[0] == 0
    if "-X" not in mode and "-XX" not in mode:
        # the table of the good process is the same wherever it comes
        assert together[1].startswith(alone[1])
        assert together[1].endswith(alone[1])


# -- arguments and environment -------------------------------------------------

_WORDS = [b"-x", b"-X", b"-XX", b"-d", b"-q", b"-p", b"-k", b"-r", b"-V", b"-h", b"-c", b"-n", b"-N", b"-C",
          b"-A", b"ffffffffffffffffffffff", b"0x", b",", b",,", b"-1,", b"--", b"-", b"--compat", b"4.0.2",
          b"--compat=main", b"--compat=4.0.6", b"--compat=9", b"--range", b"--range=1,2", b"--extended",
          b"--ext", b"--e", b"--device", b"--quiet", b"--show-path", b"--use-kernel-name", b"--version",
          b"--help", b"--read-rc", b"--read-rc-from", b"--read-rc-from=rc", b"--create-rc", b"--create-rc-to=rc",
          b"--proc-root", b"/nonexistent", b"--pr", b"rc", b"1", b"0", b"-0", b"+1", b"2", b"%d" % PID,
          b"/proc/%d" % PID, b"/proc/", b"/proc/x", b"0x10", b"010", b"08", b"9" * 40, b"2147483648",
          b"4294967297", b"\xff", b"\0", b"1\0", b"-Ax", b"-xd", b"-xq", b"-pq", b"-A0,1", b"\xc3\x28"]
_ARGUMENT = st.one_of(st.sampled_from(_WORDS), st.binary(max_size=10))
_ENVIRON = st.fixed_dictionaries({}, optional={
    b"PYMAP_COMPAT": st.one_of(st.sampled_from(RELEASES + [b"", b"4.0.1", b"main\n", b"\xff"]), st.binary(max_size=8)),
    b"POSIXLY_CORRECT": st.sampled_from([b"", b"1"]),
    b"LANG": st.one_of(st.sampled_from(LOCALES), st.binary(max_size=12)),
    b"LC_ALL": st.one_of(st.sampled_from(LOCALES), st.binary(max_size=12)),
    b"LC_CTYPE": st.sampled_from(LOCALES),
    b"LIBPROC_HIDE_KERNEL": st.sampled_from([b"", b"1"]),
})


@SETTINGS
@given(arguments=st.lists(_ARGUMENT, max_size=7), environ=_ENVIRON)
def test_fuzzed_arguments_and_environment(arguments, environ):
    with scratch() as folder:
        root = write_snapshot(folder, dict(TEMPLATES))
        environ = dict(environ, HOME=folder.encode())
        environ = {key if isinstance(key, bytes) else key.encode(): value for key, value in environ.items()}
        check_result(run_captured([b"pmap", b"--proc-root", root] + arguments, environ), arguments)
        # without --proc-root first (it may come later, or never: then /proc)
        live = [word for word in arguments if word not in (b"2", b"1", b"%d" % PID, b"/proc/%d" % PID)]
        check_result(run_captured([b"pmap"] + live, environ), arguments)


# either side of -A: any bytes, strtoul's own alphabet, or a bound that parses
_RANGE_SIDE = st.one_of(st.binary(max_size=30),
                        st.text("0123456789abcdefABCDEFxX+- \t\n", max_size=24).map(str.encode),
                        _spelled_bound().map(lambda bound: bound[1]))


@SETTINGS
@given(low=_RANGE_SIDE, high=st.one_of(st.none(), _RANGE_SIDE))
def test_fuzzed_ranges(low, high):
    argument = low if high is None else low + b"," + high
    with scratch() as folder:
        root = write_snapshot(folder, dict(TEMPLATES))
        status, stdout, stderr = check_result(run_snapshot(root, ["-x", "-A", argument]), [argument])
    if status == 1 and stderr:
        assert stderr == b"pmap: failed to parse argument: '%s'\n" % argument or b"\0" in argument


def test_huge_range_values_saturate():
    with scratch() as folder:
        root = write_snapshot(folder, dict(TEMPLATES))
        status, stdout, stderr = check_result(run_snapshot(root, ["-A", "ffffffffffffffffffffff"]))
        assert (status, stderr) == (0, b"")
        assert stdout.splitlines()[-1] == b" total                0K"  # nothing lies at ULONG_MAX
        status, stdout, stderr = check_result(run_snapshot(root, ["-A", "0,ffffffffffffffffffffff"]))
        assert (status, stderr) == (0, b"")
        assert stdout == check_result(run_snapshot(root, []))[1]


# -- rc files -------------------------------------------------------------------

_RC_LINES = [b"[Fields Display]", b"[Mapping]", b"[Global]", b"Rss", b"Pss", b"Size", b"VmFlags", b"Mapping",
             b"ShowPath", b"Address", b"# comment", b"", b" ", b"Rss Pss", b"Bogus", b"\xff", b"=", b"[", b"]"]


@SETTINGS
@given(lines=st.lists(st.one_of(st.sampled_from(_RC_LINES), st.binary(max_size=40)), max_size=12),
       newline=st.sampled_from([b"\n", b"\r\n", b""]))
def test_fuzzed_rc_files(lines, newline):
    with scratch() as folder:
        root = write_snapshot(folder, dict(TEMPLATES))
        rc = os.path.join(folder, "rc").encode()
        with open(rc, "wb") as handle:
            handle.write(newline.join(lines) + newline)
        check_result(run_captured([b"pmap", b"--proc-root", root, b"-C", rc, b"%d" % PID], {b"LANG": b"C"}))
        check_result(run_captured([b"pmap", b"--proc-root", root, b"-c", b"%d" % PID],
                                  {b"LANG": b"C", b"HOME": folder.encode()}))


def test_rc_file_that_is_a_directory_or_missing():
    with scratch() as folder:
        root = write_snapshot(folder, dict(TEMPLATES))
        # pmap's fopen() takes a directory, whose first fgets() fails: an empty rc
        empty = os.path.join(folder, "empty").encode()
        open(empty, "wb").close()
        as_directory = check_result(run_captured([b"pmap", b"--proc-root", root, b"-C", folder.encode(),
                                                  b"%d" % PID], {b"LANG": b"C"}))
        assert as_directory == run_captured([b"pmap", b"--proc-root", root, b"-C", empty, b"%d" % PID],
                                            {b"LANG": b"C"})
        assert as_directory[0] == 0
        for path in (b"/nonexistent/rc", b""):
            status, stdout, stderr = check_result(run_captured(
                [b"pmap", b"--proc-root", root, b"-C", path, b"%d" % PID], {b"LANG": b"C"}))
            assert status == 1 and stdout == b"" and stderr, (path, stderr)
