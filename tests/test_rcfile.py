"""rc files (-c, -C, -n, -N) against /usr/bin/pmap, and pymap's refusal to
write through links."""

import os
import re
import shutil
import tempfile

import pytest

from tests.support import livetools
from pymap.emulate import rcfile

pytestmark = pytest.mark.live

needs_pmap = pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)

FULL = (b"[Fields Display]\nPerm\nOffset\nInode\nSize\nRss\nPss\nReferenced\nSwap\nVmFlags\nMapping\n"
        b"[Mapping]\nShowPath\n")
RC_FILES = {
    "template-like": rcfile.TEMPLATE.replace(b"#Rss\n", b"Rss\n").replace(b"#Mapping\n", b"Mapping\n"),
    "full": FULL,
    "no-mapping-column": b"[Fields Display]\nSize\nRss\nDevice\n",
    "showpath-twice": FULL + b"ShowPath\n",
    "comments-blank-indent": b"# hi\n\n   \t\n[Fields Display]  # c\n  Size # trailing\n\tRss\t#x\nMapping\n",
    "syntax-errors": b"Size\n[Fields Display\n[Fields Display] Rss\nSize Pss\n[Mapping]\nShowPath extra\n[Bad\nx\n",
    "unsupported-section": b"[Other]\nSize\n[Fields Display]\nRss\nMapping\n[Another] # c\n[x] y\n",
    "long-lines": b"[Fields Display]\n" + b"#" * 1023 + b"\n" + b"S" * 1024 + b"\nRss\n" + b"x" * 3000
    + b"\nSize\n" + b"Pss" + b" " * 1021 + b"\nMapping\n",
    "long-token": b"[Fields Display]\n" + b"Rss" + b"x" * 40 + b"\nMapping\n",
    "crlf": b"[Fields Display]\r\nSize\r\nRss\r\nMapping\r\n[Mapping]\r\nShowPath\r\n",
    "empty": b"",
    "no-newline-at-end": b"[Fields Display]\nMapping\nRss",
    "nul-byte": b"[Fields Display]\nRss\0Size\nMapping\n",
    "all-sections-empty": b"[Fields Display]\n[Mapping]\n",
    "no-pss": b"[Fields Display]\nPerm\nDevice\nSize\nRss\nSwap\nVmFlags\nMapping\n",
    "no-pss-showpath": b"[Fields Display]\nOffset\nSize\nAnonymous\nMapping\n[Mapping]\nShowPath\n",
    "clean-and-pss-columns": b"[Fields Display]\nRss\nShared_Clean\nPrivate_Clean\nPss_Dirty\nSwapPss\nMapping\n"
                             b"[Mapping]\nShowPath\n",
}


@pytest.fixture(scope="module")
def target():
    with livetools.stopped_process("import mmap\nm = mmap.mmap(-1, 1 << 20)") as pid:
        yield pid


@pytest.fixture()
def home():
    folder = tempfile.mkdtemp(prefix="pymap-home-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _write(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _environ(home, **extra):
    return livetools.base_environ(HOME=home, **extra)


# columns whose cells move while the tools run: Pss divides each shared page by the processes mapping
# it at that moment, and whether a clean page counts as shared or private depends on who else maps it
# (pymap itself is a Python process mapping the same libpython as the target); column widths move with
# them.  Only the sum of Shared_Clean and Private_Clean is fixed.
LOOSE = {b"Pss", b"Pss_Anon", b"Pss_File", b"Pss_Shmem", b"Pss_Dirty", b"SwapPss", b"Shared_Clean",
         b"Private_Clean"}
CLEAN_PAIR = (b"Shared_Clean", b"Private_Clean")
# columns of the table that are not totalled in the footer; VmFlags and Mapping (always the last
# two when present) hold spaces and are compared as one piece with the rest of the line
_NOT_TOTALLED = {b"Address", b"Perm", b"Offset", b"Device", b"Inode"}
_TRAILING = {b"VmFlags", b"Mapping"}
_HEADER = re.compile(rb"^\d+:   ")
_CELL = re.compile(rb" *\S+")


def _pmap_columns(args, environ, expected):
    """The column names of pmap's table, from its own heading line (under the
    "PID:   command" line); with -q, which leaves the heading out, from a run
    of pmap without it.  [] when pmap printed no table."""
    output = expected.stdout
    if "-q" in args:
        output = livetools.run_pmap([arg for arg in args if arg != "-q"], environ).stdout
    lines = output.split(b"\n")
    if len(lines) < 2 or not _HEADER.match(lines[0]):
        return []
    columns = lines[1].split()
    assert columns and columns[0] == b"Address", lines[1]
    return columns


def _mask_loose(output, columns):
    """``output`` with the cells of the LOOSE columns (heading, values, rule,
    total) replaced by "P", everything else kept byte for byte; each line
    then ends with the sum of its Shared_Clean and Private_Clean cells."""
    row_names = [name for name in columns if name not in _TRAILING]
    footer_names = [name for name in row_names if name not in _NOT_TOTALLED]
    masked, loose = [], []
    for line in output.split(b"\n"):
        if not line or _HEADER.match(line):
            masked.append(line)
            continue
        is_footer = line.endswith(b" KB ") or line.strip(b" =") == b""
        cells, pos, clean = [], 0, 0
        for name in (footer_names if is_footer else row_names):
            match = _CELL.match(line, pos)
            assert match, line
            cell, pos = match.group(), match.end()
            if name in LOOSE:
                loose.append((name, cell.strip()))
                if name in CLEAN_PAIR and cell.strip().isdigit():
                    clean += int(cell)
                cell = b"P"
            cells.append(cell)
        masked.append(b"|".join(cells) + b"|" + line[pos:] + b"|clean=%d" % clean)
    # what was masked is a value, a rule or the column's own name
    for name, cell in loose:
        assert cell.isdigit() or set(cell) == {ord("=")} or cell == name, (name, cell)
    return b"\n".join(masked)


def _assert_same(args, environ):
    expected = livetools.run_pmap(args, environ)
    actual = livetools.run_pymap(args, environ)
    assert actual.stderr == expected.stderr, args
    assert actual.returncode == expected.returncode, args
    # which columns move is read from pmap's own heading, not from pymap's parse of the rc file
    columns = _pmap_columns(args, environ, expected)
    if not LOOSE & set(columns):
        assert actual.stdout == expected.stdout, args
    else:
        assert _mask_loose(actual.stdout, columns) == _mask_loose(expected.stdout, columns), args
    return expected


@needs_pmap
@pytest.mark.parametrize("name", sorted(RC_FILES))
def test_rc_files_with_big_c(target, home, name):
    path = os.path.join(home, "rc")
    _write(path, RC_FILES[name])
    _assert_same(["-C", path, str(target)], _environ(home))
    _assert_same(["-C", path, "-p", "-q", str(target)], _environ(home))


@needs_pmap
@pytest.mark.parametrize("name", ["full", "syntax-errors", "crlf"])
def test_default_rc_with_c_follows_program_name(target, home, name):
    _write(os.path.join(home, ".pmaprc"), RC_FILES[name])
    _assert_same(["-c", str(target)], _environ(home))


@needs_pmap
def test_rc_file_odd_but_readable(target, home):
    """An executable rc file, text right after a section's bracket: read as
    pmap reads them."""
    path = os.path.join(home, "rc")
    _write(path, b"[Fields Display]\nRss\n[Unknown]Swap\n[Other]#c\n[Third]Y\n[Mapping]x\nShowPath\n")
    os.chmod(path, 0o755)
    _assert_same(["-C", path, str(target)], _environ(home))


@needs_pmap
def test_rc_file_of_the_largest_size_read(target, home):
    """An rc file of exactly 1 MiB, the largest the README promises to
    read, is read as pmap reads it; one byte more is refused (pmap would
    read on: a deliberate difference, so that /dev/zero or a huge file
    cannot hold pymap)."""
    largest = 1 << 20  # the README's figure, not rcfile's constant
    path = os.path.join(home, "rc")
    body = b"[Fields Display]\nRss\nSwap\n"
    filler = b"#" * (largest - len(body) - 1) + b"\n"
    _write(path, body + filler)
    assert os.path.getsize(path) == largest
    _assert_same(["-C", path, str(target)], _environ(home))
    _write(path, body + b"#" + filler)
    refused = livetools.run_pymap(["-C", path, str(target)], _environ(home))
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, b"", b"pmap: couldn't read the rc file\n")


@needs_pmap
def test_character_devices_and_fifos(target, home):
    """-C /dev/null is an empty rc file, as pmap reads it; /dev/zero (which
    pmap would read for ever) and a FIFO (where pmap would wait for a
    writer) are rc files that cannot be read, at once."""
    _assert_same(["-C", "/dev/null", str(target)], _environ(home))
    _assert_same(["-C", "/dev/null", "-x", str(target)], _environ(home))
    refused = livetools.run_pymap(["-C", "/dev/zero", str(target)], _environ(home))
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, b"", b"pmap: couldn't read the rc file\n")
    fifo = os.path.join(home, "fifo")
    os.mkfifo(fifo)
    refused = livetools.run_pymap(["-C", fifo, str(target)], _environ(home))
    assert (refused.returncode, refused.stdout, refused.stderr) == (1, b"", b"pmap: couldn't read the rc file\n")


@needs_pmap
def test_missing_rc_files(target, home):
    _assert_same(["-c", str(target)], _environ(home))
    _assert_same(["-C", os.path.join(home, "none"), str(target)], _environ(home))
    _assert_same(["-C", home, str(target)], _environ(home))  # a directory opens and reads as empty
    unset = livetools.base_environ()
    del unset["HOME"]
    _assert_same(["-c", str(target)], unset)
    _assert_same(["-n"], unset)


@needs_pmap
def test_create_default_and_named(home):
    pmap_home, pymap_home = os.path.join(home, "a"), os.path.join(home, "b")
    os.mkdir(pmap_home)
    os.mkdir(pymap_home)
    for args, created in ((["-n"], ".pmaprc"), (["-N", "named.rc"], "named.rc")):
        if args[0] == "-N":
            args_a, args_b = ["-N", os.path.join(pmap_home, created)], ["-N", os.path.join(pymap_home, created)]
        else:
            args_a = args_b = args
        expected = livetools.run_pmap(args_a, _environ(pmap_home))
        actual = livetools.run_pymap(args_b, _environ(pymap_home))
        assert (actual.returncode, actual.stdout, actual.stderr) == (expected.returncode, expected.stdout,
                                                                      expected.stderr)
        assert expected.returncode == 0
        assert _read(os.path.join(pymap_home, created)) == _read(os.path.join(pmap_home, created))
        assert (os.stat(os.path.join(pymap_home, created)).st_mode
                == os.stat(os.path.join(pmap_home, created)).st_mode)
        # a second time the file exists: both refuse and leave it alone
        expected = livetools.run_pmap(args_a, _environ(pmap_home))
        actual = livetools.run_pymap(args_b, _environ(pymap_home))
        assert (actual.returncode, actual.stdout, actual.stderr) == (expected.returncode, expected.stdout,
                                                                      expected.stderr)
        assert expected.returncode == 1
        assert _read(os.path.join(pymap_home, created)) == rcfile.TEMPLATE


@needs_pmap
def test_create_in_missing_folder_and_empty_name(home):
    for args in (["-N", os.path.join(home, "no", "such")], ["-N", ""]):
        expected = livetools.run_pmap(args, _environ(home))
        actual = livetools.run_pymap(args, _environ(home))
        assert (actual.returncode, actual.stderr) == (expected.returncode, expected.stderr)


@pytest.mark.parametrize("dangling", [False, True], ids=["to-file", "dangling"])
@pytest.mark.parametrize("option", ["-n", "-N"])
def test_create_never_writes_through_a_symlink(home, dangling, option):
    target = os.path.join(home, "target")
    if not dangling:
        _write(target, b"precious\n")
    link = os.path.join(home, ".pmaprc")
    os.symlink(target, link)
    args = ["-n"] if option == "-n" else ["-N", link]
    result = livetools.run_pymap(args, _environ(home), compat="4.0.2")
    assert result.returncode == 1
    expected_message = b"pmap: the file already exists - delete or rename it first\n"
    expected_message += b"pmap: couldn't create ~/.pmaprc\n" if option == "-n" else b"pmap: couldn't create the rc file\n"
    assert result.stderr == expected_message
    assert os.path.islink(link) and os.readlink(link) == target
    if dangling:
        assert not os.path.lexists(target)
    else:
        assert _read(target) == b"precious\n"


def test_template_is_pmaps_c_locale_template():
    text = rcfile.TEMPLATE
    assert text.startswith(b"# pmap's Config File\n\n")
    for word in (b"#Perm\n", b"#Offset\n", b"#Device\n", b"#Inode\n", b"#VmFlags\n", b"#Mapping\n", b"#ShowPath\n"):
        assert word in text


class _Console:
    program = b"pmap"

    def __init__(self):
        self.lines = []

    def message(self, text):
        self.lines.append(text)

    def pmap_message(self, msgid, *arguments):
        self.message(msgid % arguments if arguments else msgid)


def test_parse_collects_fields_and_toggles():
    console = _Console()
    config = rcfile.parse(RC_FILES["showpath-twice"], console)
    assert config.show_path_toggles == 2
    assert {b"Perm", b"Rss", b"Mapping"} <= config.fields and b"Device" not in config.fields
    assert console.lines == []


def test_parse_truncates_field_names_like_pmaps_buffer():
    config = rcfile.parse(b"[Fields Display]\n" + b"A" * 40 + b"\n", _Console())
    assert config.fields == {b"A" * 31}


def test_parse_warnings_name_lines():
    console = _Console()
    rcfile.parse(b"x\n[Other]\n[Fields Display] Rss\n" + b"y" * 1024 + b"\n", console)
    assert console.lines == [b"syntax error found in the config - line 1",
                             b"unsupported section found in the config - line 2",
                             b"syntax error found in the config - line 3",
                             b"config line too long - line 4"]


def test_default_path_uses_program_name():
    console = _Console()
    assert rcfile.default_path({b"HOME": b"/h"}, console) == b"/h/.pmaprc"
    assert rcfile.default_path({}, console) is None
    assert console.lines == [b"HOME variable undefined"]


def test_create_on_a_full_disk(home, monkeypatch):
    """pmap says it created the file when its writes failed; pymap says what
    failed, removes the cut file and says it could not create it."""
    import errno

    from pymap.command.cli import run_captured

    path = os.path.join(home, "full-rc")
    real_write = os.write

    def full(descriptor, data):
        if os.readlink("/proc/self/fd/%d" % descriptor) == path:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(descriptor, data)

    monkeypatch.setattr(os, "write", full)
    status, out, err = run_captured([b"pymap", b"-N", path.encode()], {b"HOME": home.encode(), b"LANG": b"C"})
    assert (status, out) == (1, b"")
    assert err == b"pymap: %s: No space left on device\npymap: couldn't create the rc file\n" % path.encode()
    assert not os.path.lexists(path)
