"""--diff: a stopped target does known things between two looks, and the
deltas pymap shows are what it did; the later side read live or from a
capture prints the same; processes that cannot be compared say so."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from tests.support import livetools
from tests.support import TIMEOUT
from pymap.report.diff import match
from pymap.parse.smaps import Mapping

pytestmark = pytest.mark.live

PAGE = os.sysconf("SC_PAGE_SIZE")
KB = PAGE // 1024

# A target that maps regions at known places inside a PROT_NONE reservation
# (so the kernel merges none of them with a neighbour), prints where, stops;
# then changes them as the test expects and stops again.
TARGET = r"""
import ctypes, mmap, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
PAGE = os.sysconf("SC_PAGE_SIZE")
RW = mmap.PROT_READ | mmap.PROT_WRITE
PRIVATE_ANON = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
FIXED = 0x10

def place(address, pages, protection=RW, flags=PRIVATE_ANON, fd=-1):
    result = libc.mmap(address, pages * PAGE, protection, flags | (FIXED if address else 0), fd, 0)
    assert result not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
    return result

def touch(address, first, last):
    for page in range(first, last):
        ctypes.c_char.from_address(address + page * PAGE).value = b"x"

libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
reserve = place(None, 2048, protection=0)  # PROT_NONE
grown = place(reserve + 16 * PAGE, 64)        # gets 31 more pages resident
shrunk = place(reserve + 128 * PAGE, 32)      # loses its second half
front = place(reserve + 256 * PAGE, 16)       # loses its first page: its start moves
guarded = place(reserve + 320 * PAGE, 8)      # made read-only: its permissions alone change
fresh = reserve + 512 * PAGE                  # mapped and written later
touch(grown, 0, 1)
touch(shrunk, 0, 4)
touch(front, 0, 8)
touch(guarded, 0, 2)
fd = os.open(sys.argv[1], os.O_RDONLY)
mapped_file = place(None, 100, protection=mmap.PROT_READ, flags=mmap.MAP_SHARED, fd=fd)   # unmapped later
odd_fd = os.open(sys.argv[2], os.O_RDONLY)
odd = place(None, 2, protection=mmap.PROT_READ, flags=mmap.MAP_SHARED, fd=odd_fd)         # stays
read = place(None, 600, protection=mmap.PROT_READ, flags=mmap.MAP_PRIVATE, fd=fd)         # read later: RSS, not Dirty
os.write(1, b"%x %x %x %x %x %x %x %x\n" % (grown, shrunk, fresh, mapped_file, odd, front, guarded, read))
os.kill(os.getpid(), signal.SIGSTOP)
touch(grown, 1, 32)
libc.munmap(shrunk + 16 * PAGE, 16 * PAGE)
libc.munmap(front, PAGE)
assert libc.mprotect(guarded, 8 * PAGE, mmap.PROT_READ) == 0
place(fresh, 256)
touch(fresh, 0, 256)
libc.munmap(mapped_file, 100 * PAGE)
for page in range(600):
    ctypes.c_char.from_address(read + page * PAGE).value
os.kill(os.getpid(), signal.SIGSTOP)
"""


def _pymap(args, root=None):
    environ = livetools.base_environ()
    result = livetools.run_pymap(args, environ=environ, name="pymap")
    return result


class Target:
    """The TARGET process: stopped first before, then after its changes."""

    def __init__(self, folder):
        self.folder = folder
        self.data = folder / "data.bin"
        with open(self.data, "wb") as handle:
            handle.write(os.urandom(600 * PAGE))
            handle.flush()
            os.fsync(handle.fileno())  # written back: its pages are read, never dirty, in the target
        self.odd = os.path.join(os.fsencode(folder), b"odd \t name \xff\xfe.bin")
        with open(self.odd, "wb") as handle:
            handle.write(b"y" * 2 * PAGE)
        self.child = subprocess.Popen([sys.executable, "-c", TARGET, str(self.data), self.odd],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      env=livetools.base_environ())
        self.pid = self.child.pid
        livetools.wait_stopped(self.pid)
        line = self.child.stdout.readline()  # written before it stopped: no wait
        (self.grown, self.shrunk, self.fresh, self.mapped_file, self.odd_start, self.front, self.guarded,
         self.read) = (int(word, 16) for word in line.split())

    def go_on(self):
        os.kill(self.pid, signal.SIGCONT)
        # it runs until it stops itself again
        livetools.wait_stopped(self.pid)

    def close(self):
        self.child.kill()
        self.child.wait(timeout=TIMEOUT)


@pytest.fixture
def target(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    made = Target(folder)
    try:
        yield made
    finally:
        made.close()


def _capture(tmp_path, name, pid):
    folder = tmp_path / name
    result = livetools.run_pymap(["--capture", str(folder), str(pid)], name="pymap")
    assert result.returncode == 0, result.stderr
    return folder


def _smaps_figures(folder, pid):
    """{start: (Kbytes, RSS, Dirty, Anon, Swap)} of a captured smaps, read
    here without pymap."""
    figures = {}
    current = None
    with open(os.path.join(folder, str(pid), "smaps"), "rb") as handle:
        for line in handle:
            match_ = re.match(rb"([0-9a-f]+)-([0-9a-f]+) ", line)
            if match_:
                start, end = int(match_.group(1), 16), int(match_.group(2), 16)
                current = figures[start] = [(end - start) // 1024, 0, 0, 0, 0]
                continue
            key, _, value = line.partition(b":")
            column = {b"Rss": 1, b"Shared_Dirty": 2, b"Private_Dirty": 2, b"Anonymous": 3, b"Swap": 4}.get(key)
            if column is not None:
                current[column] += int(value.split()[0])
    return figures


def _rows(output):
    """{(change, start): (deltas, mapping column and what follows)} of
    --diff's text rows."""
    rows = {}
    for line in output.split(b"\n"):
        found = re.match(rb"([~+-]) ([0-9a-f]{16})((?: +(?:[+-]?[0-9]+)){5}) [-rwxsp]{5} (.*)", line)
        if found:
            deltas = tuple(int(word) for word in found.group(3).split())
            rows[(found.group(1), int(found.group(2), 16))] = (deltas, found.group(4))
    return rows


def _without_rates(output):
    return b"".join(line for line in output.splitlines(True) if not line.startswith(b"  per minute "))


def _total(output):
    line = next(line for line in output.split(b"\n") if line.startswith(b"  total kB"))
    return tuple(int(word) for word in line.split()[2:])


def test_deltas_are_what_the_target_did(tmp_path, target):
    before = _capture(tmp_path, "before", target.pid)
    target.go_on()
    after = _capture(tmp_path, "after", target.pid)
    live = _pymap(["--diff", str(before), str(target.pid)])
    assert live.returncode == 0 and live.stderr == b"", live.stderr
    rows = _rows(live.stdout)
    assert rows[(b"~", target.grown)][0] == (0, 31 * KB, 31 * KB, 31 * KB, 0)
    shrunk = rows[(b"~", target.shrunk)]
    assert shrunk[0] == (-16 * KB, 0, 0, 0, 0)
    assert b"(was %016x-%016x)" % (target.shrunk, target.shrunk + 32 * PAGE) in shrunk[1]
    assert rows[(b"+", target.fresh)][0] == (256 * KB,) * 4 + (0,)
    gone_before = _smaps_figures(before, target.pid)[target.mapped_file]
    assert rows[(b"-", target.mapped_file)] == (tuple(-value if value else 0 for value in gone_before),
                                                b"data.bin")
    assert not any(start == target.odd_start for _, start in rows), "an unchanged mapping is not shown"
    # a region that lost its first page is the same mapping, its old range said; none appeared or went there
    front = rows[(b"~", target.front + PAGE)]
    assert front[0][0] == -KB and b"(was %016x-%016x)" % (target.front, target.front + 16 * PAGE) in front[1]
    assert (b"-", target.front) not in rows and (b"+", target.front + PAGE) not in rows
    # a change of permissions alone is a change, its old mode said
    guarded = rows[(b"~", target.guarded)]
    assert guarded[0] == (0, 0, 0, 0, 0) and guarded[1].endswith(b"(was rw---)")
    # a file mapping that was read: RSS grew, Dirty did not
    assert rows[(b"~", target.read)][0] == (0, 600 * KB, 0, 0, 0)
    # the totals are the whole process's, from the two captures' own figures
    then = _smaps_figures(before, target.pid)
    now = _smaps_figures(after, target.pid)
    expected = tuple(sum(row[index] for row in now.values()) - sum(row[index] for row in then.values())
                     for index in range(5))
    assert _total(live.stdout) == expected
    # and every row is a start whose figures changed by exactly its deltas
    for (change, start), (deltas, rest) in rows.items():
        was = re.search(rb"\(was ([0-9a-f]{16})-", rest)
        old_start = int(was.group(1), 16) if was else start  # a mapping whose start moved: its old one
        old = then[old_start] if change != b"+" else [0] * 5
        new = now[start] if change != b"-" else [0] * 5
        assert deltas == tuple(a - b for a, b in zip(new, old)), (change, hex(start))

    # the later side from the capture prints the same as the live process
    # (but for the growth per minute: the live side is later than the second capture)
    snapshot = _pymap(["--diff", str(before), "--proc-root", str(after), str(target.pid)])
    assert snapshot.returncode == 0 and _without_rates(snapshot.stdout) == _without_rates(live.stdout)

    # largest growth first, by each figure: the order the captures' own figures give (ties by address)
    for index, key in enumerate(("kbytes", "rss", "dirty", "anon"), 0):
        ordered = _pymap(["--diff", str(before), "--sort=" + key, "-q", str(target.pid)])
        lines = ordered.stdout.split(b"\n")[1:-1]
        shown = [(line[:1], int(line.split()[1], 16)) for line in lines]
        expected = sorted(rows, key=lambda row: (-rows[row][0][index], row[1]))
        assert shown == expected, key
        assert not any(b"total kB" in line or b"Address" in line for line in lines)
    assert rows[(b"~", target.read)][0][1] > rows[(b"+", target.fresh)][0][1]  # RSS and Dirty order differ


def test_json_of_the_same_changes(tmp_path, target):
    before = _capture(tmp_path, "before", target.pid)
    target.go_on()
    result = _pymap(["--diff", str(before), "--json", str(target.pid)])
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    changes = {(entry["change"], int(entry["start"], 16)): entry for entry in objects if "change" in entry}
    fresh = changes[("appeared", target.fresh)]
    assert fresh["kb"]["Rss"] == fresh["kb"]["Anonymous"] == fresh["kb"]["Size"] == 256 * KB
    assert fresh["end"] == "%08x" % (target.fresh + 256 * PAGE) and fresh["label"] == "[ anon ]"
    shrunk = changes[("changed", target.shrunk)]
    assert shrunk["before"]["end"] == "%08x" % (target.shrunk + 32 * PAGE) and shrunk["kb"]["Size"] == -16 * KB
    gone = changes[("gone", target.mapped_file)]
    assert gone["name"].encode("utf-8", "surrogateescape") == os.fsencode(target.data)
    assert "KernelPageSize" not in gone["kb"]
    totals = objects[-1]
    assert totals["pid"] == target.pid and totals["cmdline"][0] == sys.executable
    assert totals["totals"]["Rss"] == sum(entry["kb"]["Rss"] for entry in changes.values())
    assert all(entry["schema"] == 3 for entry in objects)


def test_odd_names_round_trip(tmp_path, target):
    """A file name with a tab and bytes that are not UTF-8: the text row shows
    pmap's label, JSON gives back the kernel's bytes."""
    before = _capture(tmp_path, "before", target.pid)
    odd_dir = tmp_path / "odd"
    shutil.copytree(before, odd_dir)
    smaps = odd_dir / str(target.pid) / "smaps"
    data = smaps.read_bytes()
    # make the odd mapping look grown on the later side
    header = re.search(rb"(?m)^%x-[0-9a-f]+ [^\n]*\n" % target.odd_start, data).group(0)
    record_end = data.index(b"VmFlags", data.index(header))
    record = data[data.index(header):record_end]
    grown = re.sub(rb"\nRss: +\d+ kB", b"\nRss:                   8 kB", record)
    (odd_dir / str(target.pid) / "smaps").write_bytes(data.replace(record, grown))
    text = _pymap(["--diff", str(before), "--proc-root", str(odd_dir), str(target.pid)])
    row = _rows(text.stdout)[(b"~", target.odd_start)]
    # the Mapping column as pmap -x shows it (escaped as the release escapes it)
    listing = livetools.run_pymap(["-x", str(target.pid)]) if not livetools.have_pmap() else \
        livetools.run_pmap(["-x", str(target.pid)])
    shown = next(line for line in listing.stdout.split(b"\n") if line.startswith(b"%016x" % target.odd_start))
    assert row[1] == re.match(rb"\S+ +\d+ +\d+ +\d+ [-rwxsp]{5} (.*)", shown).group(1)
    assert row[1].startswith(b"odd ") and row[1].endswith(b".bin")
    objects = [json.loads(line) for line in _pymap(["--diff", str(before), "--proc-root", str(odd_dir), "--json",
                                                    str(target.pid)]).stdout.splitlines()]
    entry = next(entry for entry in objects if entry.get("start") == "%08x" % target.odd_start)
    assert entry["name"].encode("utf-8", "surrogateescape") == target.odd


def test_processes_that_cannot_be_compared(tmp_path, target):
    before = _capture(tmp_path, "before", target.pid)
    pid = str(target.pid)
    # another process under the same number: another start time in stat
    restarted = tmp_path / "restarted"
    shutil.copytree(before, restarted)
    stat = restarted / pid / "stat"
    head, _, tail = stat.read_bytes().rpartition(b") ")
    fields = tail.split(b" ")
    fields[19] = b"%d" % (int(fields[19]) + 100)
    stat.write_bytes(head + b") " + b" ".join(fields))
    result = _pymap(["--diff", str(before), "--proc-root", str(restarted), pid])
    assert result.returncode == 42
    assert result.stdout.split(b"\n")[1].startswith(b"  restarted since the capture")
    result = _pymap(["--diff", str(before), "--proc-root", str(restarted), "--json", pid])
    assert json.loads(result.stdout) == {"schema": 3, "pid": target.pid, "state": "restarted"}
    # gone on the later side; not captured on the earlier one
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _pymap(["--diff", str(before), "--proc-root", str(empty), pid])
    assert (result.returncode, result.stdout.split(b"\n")[1]) == (42, b"  gone since the capture")
    result = _pymap(["--diff", str(empty), pid])
    assert result.returncode == 42 and b"nothing to compare with" in result.stdout
    # absent on both sides: nothing, as pmap
    result = _pymap(["--diff", str(empty), "--proc-root", str(empty), pid])
    assert (result.returncode, result.stdout, result.stderr) == (42, b"", b"")
    # a capture compared with itself: no rows, zero totals
    result = _pymap(["--diff", str(before), "--proc-root", str(before), pid])
    assert result.returncode == 0 and _rows(result.stdout) == {} and _total(result.stdout) == (0,) * 5
    # a capture whose smaps is missing: the file is named, status 1
    (restarted / pid / "smaps").unlink()
    shutil.copy(before / pid / "stat", restarted / pid / "stat")
    result = _pymap(["--diff", str(before), "--proc-root", str(restarted), pid])
    assert result.returncode == 1 and result.stderr.startswith(b"pymap: ") and b"smaps" in result.stderr


def test_options(tmp_path):
    assert _pymap(["--diff", str(tmp_path / "nothing"), "1"]).stderr == (
        b"pymap: --diff %s: No such file or directory\n" % os.fsencode(tmp_path / "nothing"))
    result = _pymap(["--diff", str(tmp_path), "--sort=size", "1"])
    assert (result.returncode, result.stderr) == (
        1, b"pymap: --sort: 'size' is not one of address, kbytes, rss, dirty, anon, swap\n")
    result = _pymap(["--sort=rss", "1"])
    assert result.returncode == 1 and result.stderr.startswith(b"pymap: option --sort goes with --diff")
    result = _pymap(["--diff", str(tmp_path), "-x", "1"])
    assert result.returncode == 1 and result.stderr.startswith(b"pymap: option --diff is mutually exclusive with")


# --- matching ---------------------------------------------------------------------

@st.composite
def address_ordered(draw):
    mappings = []
    address = 0x1000
    for _ in range(draw(st.integers(0, 8))):
        address += draw(st.integers(0, 3)) * 0x1000
        size = draw(st.integers(1, 4)) * 0x1000
        mappings.append(Mapping(address, address + size, b"rw-p", 0, 0, 0, 0, draw(st.sampled_from([b"", b"a", b"b"]))))
        address += size
    return mappings


@settings(max_examples=300, deadline=None)
@given(address_ordered(), address_ordered())
def test_match(before, after):
    pairs = list(match(before, after))
    assert [old for old, _ in pairs if old is not None] == before
    assert [new for _, new in pairs if new is not None] == after
    for old, new in pairs:
        if old is not None and new is not None:
            assert old.name == new.name and old.start < new.end and new.start < old.end
    # an unchanged side matches itself one to one
    assert all(old is new for old, new in match(after, after))


# --- generated captures: every figure known, and any number of changed rows ------------

def _generated_pair(root, count, seed):
    """Two snapshots of one process (PID 7), ``root``/before and ``root``/after,
    with ``count`` mappings whose figures (Size, Rss, Dirty, Anonymous, Swap)
    change at random; returns {start: deltas} of the text's five columns."""
    import random

    draw = random.Random(seed)
    stat = b"7 (gen) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 1 1 1 1 1 1 1 0\n"
    sides = {"before": [], "after": []}
    deltas = {}
    for index in range(count):
        start = 0x10000000 + index * 0x10000
        figures = {}
        for side in sides:
            rss = draw.randrange(0, 64) * 4
            figures[side] = (rss, draw.randrange(0, rss // 4 + 1) * 4, draw.randrange(0, rss // 4 + 1) * 4,
                             draw.randrange(0, 16) * 4)
            rss, dirty, anon, swap = figures[side]
            sides[side].append(b"%x-%x rw-p 00000000 00:00 0 \nSize:                 64 kB\nRss: %d kB\n"
                               b"Private_Dirty: %d kB\nAnonymous: %d kB\nSwap: %d kB\n"
                               % (start, start + 0x10000, rss, dirty, anon, swap))
        deltas[start] = (0,) + tuple(now - then for now, then in zip(figures["after"], figures["before"]))
    for side, records in sides.items():
        folder = os.path.join(root, side, "7")
        os.makedirs(folder)
        for name, data in (("stat", stat), ("status", b"Name:\tgen\nTgid:\t7\n"), ("cmdline", b"gen\0"),
                           ("smaps", b"".join(records))):
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
    return {start: row for start, row in deltas.items() if any(row)}


def _diff(root, *options):
    from pymap.command.cli import run_captured

    return run_captured([b"pymap", b"--diff", os.fsencode(os.path.join(root, "before")), b"--proc-root",
                         os.fsencode(os.path.join(root, "after"))] + [option.encode() for option in options] + [b"7"],
                        {b"LANG": b"C"})


def test_sort_by_swap_and_every_figure(tmp_path):
    changed = _generated_pair(str(tmp_path), 300, seed=5)
    for index, key in enumerate(("kbytes", "rss", "dirty", "anon", "swap")):
        status, stdout, stderr = _diff(str(tmp_path), "--sort=" + key, "-q")
        assert (status, stderr) == (0, b"")
        shown = [int(line.split()[1], 16) for line in stdout.split(b"\n")[1:-1]]
        assert shown == sorted(changed, key=lambda start: (-changed[start][index], start)), key
        assert [_rows(stdout)[(b"~", start)][0] for start in shown] == [changed[start] for start in shown]


def test_sorting_many_rows_spills_and_keeps_the_order(tmp_path, monkeypatch):
    """Rows beyond SortedLines.RUN_BYTES go to a temporary file in sorted runs, merged at
    the end: the same bytes as sorting them all in memory, text and JSON."""
    from pymap.report import diff

    changed = _generated_pair(str(tmp_path), 2000, seed=9)
    whole = {options: _diff(str(tmp_path), *options) for options in (("--sort=rss",), ("--sort=swap", "--json"))}
    monkeypatch.setattr(diff.SortedLines, "RUN_BYTES", 8192)
    monkeypatch.setattr(diff.SortedLines, "MERGE_BYTES", 1024)
    spills = []
    real = diff.SortedLines.spill_run
    monkeypatch.setattr(diff.SortedLines, "spill_run", lambda self: spills.append(1) or real(self))
    for options, expected in whole.items():
        assert _diff(str(tmp_path), *options) == expected
    assert len(spills) > 10
    shown = [int(line.split()[1], 16) for line in whole[("--sort=rss",)][1].split(b"\n")[2:-3]]
    assert shown == sorted(changed, key=lambda start: (-changed[start][1], start))


def test_sorted_rows_take_bounded_memory(tmp_path, monkeypatch):
    """--diff --sort's peak memory does not grow with the number of changed
    rows: with runs of 64 kB, 8,000 rows take no more than streaming them
    unsorted, runs and read buffers aside (holding them took 3 MB more)."""
    import tracemalloc

    from pymap.report import diff

    _generated_pair(str(tmp_path), 8000, seed=3)
    monkeypatch.setattr(diff.SortedLines, "RUN_BYTES", 64 << 10)
    monkeypatch.setattr(diff.SortedLines, "MERGE_BYTES", 64 << 10)
    peaks = {}
    for options in ((), ("--sort=rss",)):
        tracemalloc.start()
        try:
            status = _diff(str(tmp_path), *options)[0]
            peaks[options] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert status == 0
    # (the output itself is held by run_captured: the same in both)
    assert peaks[("--sort=rss",)] <= peaks[()] + 2 * (64 << 10) + (512 << 10), peaks
