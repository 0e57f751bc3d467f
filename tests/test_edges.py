"""The "[ stack ]" label and -A's bounds exactly on mapping edges, against
pmap itself.

pmap labels a nameless mapping "[ stack ]" when the process's stack start
(field 28 of /proc/PID/stat) lies in [start, end] of the mapping, both ends
included, and -A LOW,HIGH keeps the mappings that overlap the range.  Here
the stack start and the bounds are put on the edges of the mappings and one
byte either side: generated maps, smaps and stat files are read by the real
pmap through a bind mount over a stopped process's /proc/PID in a private
mount namespace (as tests/test_odd_lines.py does), by pymap through
--proc-root, and stdout, stderr and the exit status are compared byte for
byte, in the default listing, -x, -d, -X and -XX, as the installed pmap and,
where a build of it is found, as upstream's development line (main).

Two layouts: a small one, which pymap reads line by line (listing.step()),
and one of a few hundred records whose maps and smaps are both larger than
listing.FAST_MINIMUM, so that the regular-expression accelerators of
listing_blocks.py read them (which have a stack rule of their own); a test
checks that they do.
"""

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tests.support import livetools
from tests.support import TIMEOUT
from pymap.command.cli import run_captured

pytestmark = pytest.mark.live

MASK64 = (1 << 64) - 1

needs_bind_mount = pytest.mark.skipif(not (livetools.have_pmap() and livetools.can_unshare()),
                                      reason="needs %s, root and unshare -m" % livetools.PMAP)

# the smaps fields of a current kernel, in its order (values: see _record)
FIELDS = [b"Size", b"KernelPageSize", b"MMUPageSize", b"Rss", b"Pss", b"Pss_Dirty", b"Shared_Clean", b"Shared_Dirty",
          b"Private_Clean", b"Private_Dirty", b"Referenced", b"Anonymous", b"KSM", b"LazyFree", b"AnonHugePages",
          b"ShmemPmdMapped", b"FilePmdMapped", b"Shared_Hugetlb", b"Private_Hugetlb", b"Swap", b"SwapPss", b"Locked"]


class Mapping:
    def __init__(self, start, end, perms, name=b"", offset=0, device=b"00:00", inode=0):
        self.start, self.end, self.perms, self.name = start, end, perms, name
        self.offset, self.device, self.inode = offset, device, inode

    def header(self):
        """The maps line as the kernel writes it: the name, if any, at column 73."""
        prefix = b"%08x-%08x %s %08x %s %d " % (self.start, self.end, self.perms, self.offset, self.device,
                                                 self.inode)
        return (prefix.ljust(73) + self.name if self.name else prefix) + b"\n"

    def record(self, index):
        """The smaps record: plain kernel numbers (no leading zeros)."""
        size = (self.end - self.start) >> 10
        rss = min(size, 4 * (index % 7))
        values = {b"Size": size, b"KernelPageSize": 4, b"MMUPageSize": 4, b"Rss": rss, b"Pss": rss // 2,
                  b"Shared_Dirty": 4 if index % 5 == 0 and rss else 0,
                  b"Private_Dirty": rss // 4 * 4, b"Referenced": rss, b"Anonymous": 0 if self.name else rss,
                  b"Swap": 0 if index % 3 else 8, b"SwapPss": 0 if index % 3 else 8}
        lines = [self.header()]
        lines += [b"%s%8d kB\n" % ((key + b":").ljust(16), values.get(key, 0)) for key in FIELDS]
        lines.append(b"THPeligible:    %8d\n" % (index % 2))
        lines.append(b"ProtectionKey:  %8d\n" % 0)
        lines.append(b"VmFlags: rd wr mr mw me ac \n")
        return b"".join(lines)


class Layout:
    def __init__(self, mappings):
        self.mappings = mappings
        self.maps = b"".join(mapping.header() for mapping in mappings)
        self.smaps = b"".join(mapping.record(index) for index, mapping in enumerate(mappings))
        # the stack start candidates: the edges of nameless mappings and a
        # byte either side; -A's: those of every mapping
        self.stack_points = _around(edge for mapping in mappings if not mapping.name
                                    for edge in (mapping.start, mapping.end))
        self.range_points = _around(edge for mapping in mappings for edge in (mapping.start, mapping.end))
        nameless = [mapping for mapping in mappings if not mapping.name]
        self.first_nameless = nameless[0]


def _around(edges):
    return sorted({point for edge in edges for point in (edge - 1, edge, edge + 1) if 0 <= point <= MASK64})


LIB = b"/usr/lib/x86_64-linux-gnu/libc.so.6"


def _small():
    return Layout([
        Mapping(0x10000, 0x11000, b"rw-p"),  # nameless, low
        Mapping(0x55d0c0a00000, 0x55d0c0a02000, b"r--p", b"/usr/bin/python3.11", 0, b"fe:00", 260131),
        Mapping(0x55d0c0a02000, 0x55d0c0a05000, b"rw-p"),  # nameless, after a named one
        Mapping(0x55d0c0a05000, 0x55d0c0a06000, b"rw-p"),  # nameless, sharing an edge with the one before
        Mapping(0x55d0c1000000, 0x55d0c1021000, b"rw-p", b"[heap]"),
        Mapping(0x7f0000000000, 0x7f0000001000, b"---p"),
        Mapping(0x7f0000001000, 0x7f0000801000, b"rw-p"),
        Mapping(0x7f0000801000, 0x7f0000829000, b"r--p", LIB, 0, b"fe:00", 1234),
        Mapping(0x7f0000829000, 0x7f000082b000, b"rw-p", LIB, 0x28000, b"fe:00", 1234),
        Mapping(0x7f000082b000, 0x7f000082c000, b"rw-s"),  # shared anonymous
        Mapping(0x7ffd00000000, 0x7ffd00021000, b"rw-p", b"[stack]"),
        Mapping(0x7ffd000fe000, 0x7ffd00100000, b"r--p", b"[vvar]"),
        Mapping(0x7ffd00100000, 0x7ffd00102000, b"r-xp", b"[vdso]"),
        Mapping(0xffffffffff600000, 0xffffffffff601000, b"--xp", b"[vsyscall]"),
        Mapping(0xffffffffff601000, 0xffffffffff603000, b"rw-p"),  # nameless, 64-bit high
    ])


def _large():
    """A few hundred records: groups of a named mapping with a long path and
    two adjacent nameless ones, then a gap."""
    mappings = []
    address = 0x7f1000000000
    for group in range(96):
        name = b"/usr/lib/x86_64-linux-gnu/" + (b"%03d-" % group) * 130 + b".so"
        size = 0x1000 * (1 + group % 5)
        mappings.append(Mapping(address, address + size, b"r-xp", name, 0x1000 * group, b"fe:01", 5000 + group))
        address += size
        mappings.append(Mapping(address, address + 0x3000, b"rw-p"))
        address += 0x3000
        mappings.append(Mapping(address, address + 0x1000 * (1 + group % 3), b"rw-p" if group % 4 else b"r--p"))
        address += 0x1000 * (1 + group % 3) + 0x10000
    return Layout(mappings)


LAYOUTS = {"small": _small(), "large": _large()}
SMALL, LARGE = LAYOUTS["small"], LAYOUTS["large"]


def _with_start_stack(stat, start_stack):
    """The stat line with field 28 (startstack) set."""
    head, tail = stat.rsplit(b")", 1)
    fields = tail.split()
    fields[25] = b"%d" % start_stack  # fields[0] is field 3, the state
    return head + b") " + b" ".join(fields) + b"\n"


def _write(folders, layout, start_stack):
    root, folder, stat = folders
    for name, data in ((b"maps", layout.maps), (b"smaps", layout.smaps),
                       (b"stat", _with_start_stack(stat, start_stack))):
        with open(os.path.join(folder.encode(), name), "wb") as handle:
            handle.write(data)


def _real(oracle, pid, folder, args):
    command = livetools.bind_mount_command(pid, folder, ["bash", "-c", 'exec -a pmap "$0" "$@"', oracle]
                                           + args + [str(pid)])
    return subprocess.run(command, env=livetools.base_environ(), capture_output=True, timeout=TIMEOUT)


def _assert_same(target, folders, layout, start_stack, modes, extra=()):
    _write(folders, layout, start_stack)
    root, folder, _ = folders
    for oracle, release in livetools.oracles(["main"]):
        for mode in modes:
            args = list(mode) + list(extra)
            real = _real(oracle, target, folder, args)
            assert real.stdout.startswith(b"%d:   " % target), (release, args, real.stderr)
            environ = {b"LANG": b"C", b"PYMAP_COMPAT": release.encode()}
            mine = run_captured([b"pmap", b"--proc-root", root.encode()] + [arg.encode() for arg in args]
                                + [b"%d" % target], environ)
            assert (mine[1], mine[2], mine[0]) == (real.stdout, real.stderr, real.returncode), (
                release, args, hex(start_stack))


LISTING_MODES = [[], ["-x"], ["-d"]]
TABLE_MODES = [["-X"], ["-XX"]]


@st.composite
def stack_cases(draw):
    name = draw(st.sampled_from(sorted(LAYOUTS)))
    return name, draw(st.sampled_from(LAYOUTS[name].stack_points))


@needs_bind_mount
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=stack_cases())
@example(case=("small", SMALL.mappings[2].start))  # the start of a nameless mapping after a named one
@example(case=("small", SMALL.mappings[2].end))  # an edge two nameless mappings share
@example(case=("small", SMALL.mappings[3].end))  # the end of a nameless mapping before a named one
@example(case=("small", SMALL.mappings[0].start - 1))
@example(case=("small", SMALL.mappings[-1].end))  # 64-bit high
@example(case=("large", LARGE.mappings[1].start))  # the start of a nameless mapping after a named one
@example(case=("large", LARGE.mappings[1].end))  # an edge two nameless mappings share
@example(case=("large", LARGE.mappings[2].end))  # the end of a nameless mapping before a gap
@example(case=("large", LARGE.mappings[-1].end))
def test_stack_start_on_edges(target, folders, case):
    """The stack start on an edge of a nameless mapping or a byte beside
    it, in the listings that print labels (-X and -XX: below)."""
    name, start_stack = case
    _assert_same(target, folders, LAYOUTS[name], start_stack, LISTING_MODES)


@st.composite
def range_cases(draw):
    name = draw(st.sampled_from(sorted(LAYOUTS)))
    points = LAYOUTS[name].range_points
    low = draw(st.sampled_from(points))
    high = draw(st.sampled_from([point for point in points if point >= low] or [low]))
    form = draw(st.sampled_from(["%x,%x", "%x,%x", "%x,%x", "%x", "%x,", ",%x"]))
    if form == "%x,%x":
        bounds = form % (low, high)
    elif form == ",%x":
        bounds = form % high
    else:
        bounds = form % low
    return name, draw(st.sampled_from(LAYOUTS[name].stack_points)), bounds


@needs_bind_mount
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=range_cases())
@example(case=("small", SMALL.mappings[2].start, "%x,%x" % (SMALL.mappings[2].end, SMALL.mappings[3].start)))
@example(case=("small", SMALL.mappings[3].end, "%x,%x" % (SMALL.mappings[1].end - 1, SMALL.mappings[4].start)))
@example(case=("small", SMALL.mappings[6].start, "%x,%x" % (SMALL.mappings[6].end, SMALL.mappings[6].end)))
@example(case=("small", SMALL.mappings[-1].start, "%x" % SMALL.mappings[-1].start))
@example(case=("large", LARGE.mappings[1].end, "%x,%x" % (LARGE.mappings[1].end, LARGE.mappings[40].start)))
def test_range_on_edges(target, folders, case):
    """-A's bounds on the edges of mappings and a byte beside them, with the
    stack start on an edge too, in every mode."""
    name, start_stack, bounds = case
    _assert_same(target, folders, LAYOUTS[name], start_stack, LISTING_MODES + TABLE_MODES, ["-A", bounds])


@needs_bind_mount
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_tables_with_stack_on_edge(target, folders, name):
    """-X and -XX, whose rows show smaps' names and no label, with the stack
    start on an edge."""
    _assert_same(target, folders, LAYOUTS[name], LAYOUTS[name].first_nameless.end, TABLE_MODES)


@pytest.mark.parametrize("mode, reads", [([], "maps"), (["-x"], "smaps"), (["-d"], "maps")])
def test_large_layout_is_accelerated(monkeypatch, mode, reads):
    """The large layout is read by listing_fast.py's accelerators (the
    edges of the examples above included), the small one by step() alone:
    what each accelerator takes is counted."""
    from pymap.emulate import listing_fast
    from pymap.modes import listing

    assert len(LARGE.maps) >= listing.FAST_MINIMUM and len(LARGE.smaps) >= listing.FAST_MINIMUM
    assert len(SMALL.smaps) < listing.FAST_MINIMUM
    taken = []
    for listing_format in ("default", "device", "extended"):
        accelerator = listing_fast.accelerator_for(listing_format)

        def counting(listing_, block, position, original=accelerator.read_table):
            end = original(listing_, block, position)
            taken.append(block[position:end])
            return end

        monkeypatch.setattr(accelerator, "read_table", counting)
    root = tempfile.mkdtemp(prefix="pymap-edges-")
    try:
        for name, layout in LAYOUTS.items():
            folder = os.path.join(root, "1")
            os.makedirs(folder, exist_ok=True)
            stat = b"1 (edges) T 0 1 1 0 -1 4194560" + b" 0" * 18 + b" %d 0 0\n" % layout.mappings[1].end
            for file_name, data in ((reads, getattr(layout, reads)), ("stat", stat)):
                with open(os.path.join(folder, file_name), "wb") as handle:
                    handle.write(data)
            del taken[:]
            status, out, err = run_captured([b"pmap", b"--proc-root", root.encode()] + [arg.encode() for arg in mode]
                                            + [b"1"], {b"LANG": b"C"})
            assert (status, err) == (0, b""), err
            assert b"[ stack ]" in out
            accelerated = b"".join(taken)
            if name == "small":
                assert not accelerated
            else:
                # the records of the examples' edges, and most of the file
                for mapping in LARGE.mappings[:3]:
                    assert mapping.header() in accelerated
                assert len(accelerated) > 0.9 * len(getattr(layout, reads))
    finally:
        shutil.rmtree(root, ignore_errors=True)
