"""-X, -XX and -c tables: pmap's sscanf patterns, live differential runs and
generated smaps files read by both tools."""

import ctypes
import ctypes.util
import os
import re
import shutil
import tempfile

import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from tests.support import livetools
from tests.support import TIMEOUT
from tests.support import zoo
from pymap.compat import Compat
from pymap.parse import c_rules
from pymap.emulate import table as smaps_table, table_layout
from pymap.emulate.words import ViewOptions
from pymap.emulate.table_fast import ONE_PASS_MINIMUM
from pymap.escape import charset_from_environment

pytestmark = pytest.mark.live

PSS_FAMILY = {b"Pss", b"Pss_Anon", b"Pss_File", b"Pss_Shmem", b"Pss_Dirty", b"SwapPss"}
# whether a clean file page counts as shared depends on who else maps it at that moment (pymap itself
# is a Python process mapping the same libpython as the targets): only their sum is fixed
CLEAN_PAIR = (b"Shared_Clean", b"Private_Clean")
LOOSE = PSS_FAMILY | set(CLEAN_PAIR)

needs_pmap = pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)
needs_unshare = pytest.mark.skipif(not (livetools.have_pmap() and livetools.can_unshare()),
                                   reason="needs %s, root and unshare -m" % livetools.PMAP)


# --- pmap's sscanf patterns against the C library's own sscanf ----------------

_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME) if _LIBC_NAME else None
needs_libc = pytest.mark.skipif(_LIBC is None, reason="no C library for ctypes")

_LINE_BYTES = st.binary(max_size=60).map(lambda data: data.replace(b"\0", b""))
_LINE_TEXT = st.text(alphabet="0123456789abcdef-:kBVmFlgs rwxp/\t\n", max_size=70).map(str.encode)
_LINES = st.one_of(_LINE_BYTES, _LINE_TEXT, st.sampled_from([
    b"Size:   4 kB\n", b"THPeligible:    0\n", b"ProtectionKey:  0\n", b"Rss: 4 kB x\n", b"VmFlags: rd wr \n",
    b"VmFlags: \n", b"7f00-7f01 r-xp 00000000 fe:00 1234     /usr/lib/x y\n", b"00-01 ---p 0 0:0 0\n",
    b"Size: 123456789012345678901234 kB\n", b"a" * 40 + b": 4 kB\n"]))


def _c_scan(text, pattern, count):
    buffers = [ctypes.create_string_buffer(256) for _ in range(count)]
    result = _LIBC.sscanf(text, pattern, *buffers)
    return result, [buffer.value for buffer in buffers]


@needs_libc
@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_detail_scan_matches_c(text):
    character = ctypes.c_char()
    name, value = ctypes.create_string_buffer(64), ctypes.create_string_buffer(64)
    count = _LIBC.sscanf(text, b"%31[^:]: %20[0-9] kB %c", name, value, ctypes.byref(character))
    expected = (name.value, value.value) if count == 2 else None
    assert c_rules.scan_detail_line(text) == expected


@needs_libc
@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_vmflags_scan_matches_c(text):
    count, (flags,) = _c_scan(text, b"VmFlags: %127[a-z ]", 1)
    assert c_rules.scan_vmflags_line(text) == (flags if count == 1 else None)


@needs_libc
@settings(max_examples=300, deadline=None)
@given(_LINES)
def test_mapping_scan_matches_c(text):
    count, values = _c_scan(text, b"%20[0-9a-f]-%20[0-9a-f] %31s %20[0-9a-f] %63[0-9a-f:] %20s %127[^\n]", 7)
    header = c_rules.scan_table_header(text)
    found = [header.start, header.end, header.perms, header.offset, header.device, header.inode,
             header.name][:header.count]
    assert len(found) == max(count, 0)
    assert found == values[:len(found)]


def test_fgets_pieces_cut_long_lines_and_nul_bytes():
    data = b"x" * 1030 + b"\nab\0cd\nlast"
    pieces = [c_rules.c_string(piece) for piece in c_rules.fgets_pieces(data)]
    assert pieces == [b"x" * 1023, b"x" * 7 + b"\n", b"ab", b"last"]


def test_values_beyond_64_bits_saturate_like_sscanf():
    assert c_rules.digits_value(b"99999999999999999999") == (1 << 64) - 1


# --- in-process rendering of hand-made files ------------------------------------

HEADER = b"00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n"


def _display(quiet=False, show_path=False):
    return ViewOptions(charset_from_environment({}), quiet=quiet, show_path=show_path)


def test_inconsistent_field_is_pmaps_error():
    data = HEADER + b"Size: 4 kB\nRss: 4 kB\n" + HEADER + b"Size: 4 kB\nPss: 4 kB\n"
    with pytest.raises(table_layout.SmapsTableError) as caught:
        smaps_table.render(data, _display(), 2, None, table_layout.TableState(Compat("4.0.2")))
    assert caught.value.message == b"ERROR: inconsistent detail field in smaps file, line:\n Pss: 4 kB\n"


def test_unknown_format():
    with pytest.raises(table_layout.SmapsTableError) as caught:
        smaps_table.render(b"garbage\n", _display(), 1, None, table_layout.TableState(Compat("4.0.2")))
    assert caught.value.message == b"Unknown format in smaps file!"


def test_empty_smaps_prints_nothing_then_old_columns_footer():
    state = table_layout.TableState(Compat("4.0.2"))
    assert smaps_table.render(b"", _display(), 1, None, state) == b""
    first = smaps_table.render(HEADER + b"Size: 4 kB\n", _display(), 1, None, state)
    assert first.endswith(b"KB \n")
    # pmap's column list outlives the PID: the next (empty) one gets a footer with the old totals,
    # indented by one space per enabled Address/Perm/Offset/Device/Inode column (their widths are 0)
    assert smaps_table.render(b"", _display(), 1, None, state) == b"     ==== \n        4 KB \n"


def test_totals_per_pid_from_4_0_4():
    data = HEADER + b"Size: 4 kB\n"
    for release, second_total in (("4.0.2", b"8"), ("4.0.4", b"4")):
        state = table_layout.TableState(Compat(release))
        smaps_table.render(data, _display(), 1, None, state)
        second = smaps_table.render(data, _display(), 1, None, state)
        assert second.splitlines()[-1].split() == [second_total, b"KB"]


# --- live targets ------------------------------------------------------------------

_CELL = re.compile(rb" *\S+")


def _mask_pss(output, columns_by_pid, quiet):
    """``output`` with every Pss-family and Shared/Private_Clean cell
    (header, values, rule, totals) replaced by "P", so two tables compare
    exactly elsewhere; each value row then ends with the sum of its
    Shared_Clean and Private_Clean, which must not change."""
    masked, loose = [], []
    columns = None
    lines = output.split(b"\n")
    for line in lines:
        head = re.match(rb"^(\d+):   ", line)
        if head:
            columns = columns_by_pid[int(head.group(1))]
            masked.append(line)
            continue
        if not line:
            masked.append(line)
            continue
        is_footer = line.endswith(b"KB ") or (b"=" in line and line.strip(b" =") == b"")
        names = columns[5:] if is_footer else columns
        if is_footer:
            fields = [name for name in names if name not in (b"VmFlags",)]
            names = fields
        else:
            names = [name for name in columns if name != b"VmFlags"]
        cells, pos, clean = [], 0, 0
        for name in names:
            match = _CELL.match(line, pos)
            assert match, line
            cell = match.group()
            pos = match.end()
            if name in LOOSE:
                loose.append(cell.strip())
                if name in CLEAN_PAIR and cell.strip().isdigit():
                    clean += int(cell)
                cell = b"P"
            cells.append(cell)
        masked.append(b"|".join(cells) + b"|" + line[pos:] + b"|clean=%d" % clean)
    for cell in loose:
        assert cell.isdigit() or set(cell) <= {ord("=")} or cell in LOOSE, cell
    return b"\n".join(masked)


def _columns(pid, level_flag):
    """The column names of pmap's table for this PID (from its header)."""
    header = livetools.run_pmap([level_flag, str(pid)]).stdout.split(b"\n")[1]
    names = header.split()
    assert names[-1] == b"Mapping"
    return names[:-1]


@pytest.fixture(scope="module")
def targets():
    folder = tempfile.mkdtemp(prefix="pymap-xzoo-")
    zoo_child = zoo.start(folder)
    with livetools.stopped_process("import mmap\nm = mmap.mmap(-1, 1 << 22)\nm[0:1] = b'x'") as plain:
        yield zoo_child.pid, plain
    zoo_child.kill()
    zoo_child.wait(timeout=TIMEOUT)
    shutil.rmtree(folder, ignore_errors=True)


LIVE_OPTIONS = (["-X"], ["-XX"], ["-Xq"], ["-XXq"], ["-X", "-p"], ["-XX", "-p", "-q"], ["-XXX"])


@needs_pmap
@pytest.mark.parametrize("options", LIVE_OPTIONS, ids=" ".join)
@pytest.mark.parametrize("both", [False, True], ids=["one-pid", "two-pids"])
def test_live_tables(targets, options, both):
    pids = list(targets) if both else [targets[0]]
    level_flag = "-XX" if "XX" in "".join(options) else "-X"
    columns = {pid: _columns(pid, level_flag) for pid in pids}
    args = options + [str(pid) for pid in pids]
    expected = livetools.run_pmap(args)
    actual = livetools.run_pymap(args)
    assert (actual.returncode, actual.stderr) == (expected.returncode, expected.stderr)
    quiet = "q" in "".join(options)
    assert _mask_pss(actual.stdout, columns, quiet) == _mask_pss(expected.stdout, columns, quiet)


@pytest.fixture(scope="module")
def large_pid():
    with livetools.large_process() as pid:
        yield pid


@needs_pmap
@pytest.mark.parametrize("options", LIVE_OPTIONS + (["-X", "-q", "-p"],), ids=" ".join)
def test_live_large_tables(large_pid, options):
    """3,000 mappings: the one-pass table (table_fast.render_blocks)."""
    with open("/proc/%d/smaps" % large_pid, "rb") as handle:
        assert len(handle.read()) > 4 * ONE_PASS_MINIMUM
    level_flag = "-XX" if "XX" in "".join(options) else "-X"
    columns = {large_pid: _columns(large_pid, level_flag)}
    expected = livetools.run_pmap(options + [str(large_pid)])
    actual = livetools.run_pymap(options + [str(large_pid)])
    assert (actual.returncode, actual.stderr) == (expected.returncode, expected.stderr)
    quiet = "q" in "".join(options)
    assert _mask_pss(actual.stdout, columns, quiet) == _mask_pss(expected.stdout, columns, quiet)
    assert actual.stdout.count(b"\n") > 3000


# --- generated smaps read by both tools through a bind mount ---------------------

# field sets of a few kernels, in their order
KERNEL_FIELDS = {
    "3.10": (b"Size", b"Rss", b"Pss", b"Shared_Clean", b"Shared_Dirty", b"Private_Clean", b"Private_Dirty",
             b"Referenced", b"Anonymous", b"AnonHugePages", b"Swap", b"KernelPageSize", b"MMUPageSize",
             b"Locked"),
    "4.19": (b"Size", b"KernelPageSize", b"MMUPageSize", b"Rss", b"Pss", b"Shared_Clean", b"Shared_Dirty",
             b"Private_Clean", b"Private_Dirty", b"Referenced", b"Anonymous", b"LazyFree", b"AnonHugePages",
             b"ShmemPmdMapped", b"Shared_Hugetlb", b"Private_Hugetlb", b"Swap", b"SwapPss", b"Locked"),
    "6.x": (b"Size", b"KernelPageSize", b"MMUPageSize", b"Rss", b"Pss", b"Pss_Dirty", b"Shared_Clean",
            b"Shared_Dirty", b"Private_Clean", b"Private_Dirty", b"Referenced", b"Anonymous", b"KSM", b"LazyFree",
            b"AnonHugePages", b"ShmemPmdMapped", b"FilePmdMapped", b"Shared_Hugetlb", b"Private_Hugetlb",
            b"Swap", b"SwapPss", b"Locked", b"THPeligible", b"ProtectionKey"),
}
UNITLESS = {b"THPeligible", b"ProtectionKey"}

_VALUES = st.one_of(st.integers(0, 5000), st.integers(0, 2 ** 64 - 1), st.integers(0, 10 ** 20 - 1))
_NAMES = st.one_of(
    st.just(b""),
    st.sampled_from([b"[heap]", b"[stack]", b"[vdso]", b"/usr/lib/libc.so.6", b"/opt/demo/a b/c d (deleted)",
                     b"/srv/zoo/\xff\xfe", b"/memfd:x (deleted)", b"/x/" + b"long" * 60, b"/ends/with/"]),
    st.binary(min_size=1, max_size=40).map(lambda name: b"/" + name.replace(b"\n", b"?").replace(b"\0", b"?")),
)
_FLAGS = st.lists(st.sampled_from(["rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "ac", "dd", "sd"]),
                  min_size=1, max_size=12).map(lambda flags: (" ".join(flags) + " ").encode())


@st.composite
def smaps_files(draw):
    kernel = draw(st.sampled_from(sorted(KERNEL_FIELDS)))
    fields = KERNEL_FIELDS[kernel]
    with_flags = kernel != "3.10" or draw(st.booleans())
    lines = []
    address = draw(st.integers(0x400000, 0x7F0000000000)) & ~0xFFF
    for _ in range(draw(st.integers(1, 6))):
        size = draw(st.integers(1, 4096)) * 4096
        perms = draw(st.sampled_from([b"r-xp", b"rw-p", b"r--s", b"---p", b"rw-s"]))
        inode = draw(st.integers(0, 2 ** 40))
        device = draw(st.sampled_from([b"00:00", b"fe:01", b"103:02"]))
        name = draw(_NAMES)
        line = b"%08x-%08x %s %08x %s %d" % (address, address + size, perms, draw(st.integers(0, 2 ** 36)), device,
                                             inode)
        line += (b" " * max(1, 73 - len(line)) + name) if name else b" "
        lines.append(line + b"\n")
        address += size + draw(st.sampled_from([0, 4096]))
        for field in fields:
            value = draw(_VALUES) if field not in UNITLESS else draw(st.integers(0, 15))
            if field in UNITLESS:
                lines.append(b"%s:%s%d\n" % (field + b"", b" " * max(1, 16 - len(field)), value))
            else:
                lines.append(b"%-16s%8d kB\n" % (field + b":", value))
        if with_flags:
            lines.append(b"VmFlags: " + draw(_FLAGS) + b"\n")
    return b"".join(lines)


def _copy_process_files(pid, folder):
    for name in ("stat", "status", "cmdline", "comm"):
        with open("/proc/%d/%s" % (pid, name), "rb") as source:
            data = source.read()
        with open(os.path.join(folder, name), "wb") as target:
            target.write(data)


def _compare_on_folder(pid, folder, args):
    expected = livetools.run_pmap_on_folder(pid, folder, args)
    environ = livetools.base_environ(PYMAP_COMPAT=livetools.pmap_version() or "4.0.2")
    root = os.path.dirname(folder)
    actual = livetools.run_pymap(["--proc-root", root] + args + [str(pid)], environ)
    assert actual.stdout == expected.stdout, args
    assert actual.stderr == expected.stderr, args
    assert actual.returncode == expected.returncode, args


@pytest.fixture(scope="module")
def folder_target():
    """A stopped target and a folder named after its pid, whose smaps the tests replace."""
    root = tempfile.mkdtemp(prefix="pymap-xproc-")
    with livetools.stopped_process("pass") as pid:
        folder = os.path.join(root, str(pid))
        os.mkdir(folder)
        _copy_process_files(pid, folder)
        yield pid, folder
    shutil.rmtree(root, ignore_errors=True)


def _write_smaps(folder, data):
    with open(os.path.join(folder, "smaps"), "wb") as handle:
        handle.write(data)


@needs_unshare
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=smaps_files(), options=st.sampled_from([["-X"], ["-XX"], ["-Xq"], ["-XXq"], ["-X", "-p"], ["-XX", "-p"]]))
def test_generated_smaps_byte_for_byte(folder_target, data, options):
    pid, folder = folder_target
    _write_smaps(folder, data)
    _compare_on_folder(pid, folder, options)


FIELDS_6X = b"".join(b"%-16s%8d kB\n" % (field + b":", 4) for field in KERNEL_FIELDS["6.x"]
                     if field not in UNITLESS) + b"THPeligible:    0\nProtectionKey:  0\n"
MAP_A = b"7f0000000000-7f0000001000 r-xp 00000000 fe:01 42                         /usr/lib/a.so\n"
MAP_B = b"7f0000001000-7f0000002000 rw-p 00000000 00:00 0 \n"
ODD_FILES = {
    "empty": b"",
    "fewer-fields-later": MAP_A + FIELDS_6X + MAP_B + b"Size:   8 kB\nRss:  12 kB\n",
    "more-fields-later": MAP_A + b"Size:   8 kB\n" + MAP_B + FIELDS_6X,
    "inconsistent": MAP_A + b"Size: 4 kB\nRss: 4 kB\n" + MAP_B + b"Size: 4 kB\nPss: 4 kB\n",
    "unknown": b"not a mapping\n",
    "long-name-line": MAP_A[:-1] + b"/very" * 300 + b"\n" + FIELDS_6X,
    "long-field-line": MAP_A + b"Size:" + b" " * 1100 + b"4 kB\n" + FIELDS_6X,
    "empty-vmflags": MAP_A + FIELDS_6X + b"VmFlags: \n",
    "flags-then-none": MAP_A + FIELDS_6X + b"VmFlags: rd ex \n" + MAP_B + FIELDS_6X,
    "huge-values": MAP_A + b"Size: 99999999999999999999 kB\nRss: 18446744073709551615 kB\n" + MAP_B
    + b"Size: 1 kB\nRss: 1 kB\n",
    "extra-text-after-kb": MAP_A + b"Size: 4 kB\nRss: 4 kB extra\n",
}


@needs_unshare
@pytest.mark.parametrize("name", sorted(ODD_FILES))
@pytest.mark.parametrize("options", [["-X"], ["-XXq"]], ids=" ".join)
def test_odd_smaps_files(folder_target, name, options):
    pid, folder = folder_target
    _write_smaps(folder, ODD_FILES[name])
    _compare_on_folder(pid, folder, options)
