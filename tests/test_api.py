"""pymap.read_process: the Python API reads what the command reads."""

import inspect
import os
import pathlib
import sys
import typing

import pytest

from tests.support import livetools
import pymap
from pymap.command.cli import run_captured

pytestmark = pytest.mark.live

TARGET = "import mmap\nblock = mmap.mmap(-1, 1 << 20)\nblock.write(b'y' * 200000)\n"


@pytest.fixture(scope="module")
def target():
    with livetools.stopped_process(TARGET, argv_tail=["arg one", b"\xff"]) as pid:
        yield pid


def test_read_process_matches_the_kernel_files(target):
    process = pymap.read_process(target)
    assert isinstance(process, pymap.Process)
    assert (process.pid, process.tgid) == (target, target)
    with open("/proc/%d/cmdline" % target, "rb") as handle:
        assert process.cmdline == handle.read()
    assert process.cmdline.endswith(b"\0arg one\0\xff\0")
    with open("/proc/%d/stat" % target, "rb") as handle:
        assert process.start_stack == int(handle.read().rsplit(b")", 1)[1].split()[25])
    with open("/proc/%d/smaps" % target, "rb") as handle:
        smaps = handle.read()
    headers = [line for line in smaps.split(b"\n") if line and not line[:1].isupper()]
    assert len(process.mappings) == len(headers)
    for mapping, header in zip(process.mappings, headers):
        parts = header.split(None, 5)
        # (the kernel pads addresses to 8 digits: a non-PIE interpreter sits at 00400000)
        assert "%08x-%08x" % (mapping.start, mapping.end) == parts[0].decode()
        assert mapping.perms == parts[1]
        assert mapping.offset == int(parts[2], 16)
        assert mapping.device == parts[3].decode()
        assert mapping.inode == int(parts[4])
        assert mapping.name == (parts[5] if len(parts) == 6 else b"")
        assert mapping.fields["Size"] == (mapping.end - mapping.start) >> 10
        assert mapping.vmflags and all(len(flag) == 2 for flag in mapping.vmflags)
    first = smaps.split(b"\n")[1:]
    names = [line.split(b":", 1)[0].decode() for line in first[:len(process.mappings[0].fields) + 1]]
    assert list(process.mappings[0].fields) == [name for name in names if name != "VmFlags"]
    assert any(mapping.fields["Rss"] >= 196 and mapping.name == b"" for mapping in process.mappings)


def test_read_process_is_what_the_command_prints(target):
    process = pymap.read_process(target)
    status, stdout, _ = run_captured([b"pmap", b"-x", b"-q", b"%d" % target], {b"LANG": b"C"})
    rows = stdout.split(b"\n")[1:-1]
    assert status == 0 and len(rows) == len(process.mappings)
    for mapping, row in zip(process.mappings, rows):
        words = row.split()
        assert int(words[0], 16) == mapping.start
        assert int(words[2]) == mapping.fields["Rss"]
        assert int(words[3]) == mapping.fields["Shared_Dirty"] + mapping.fields["Private_Dirty"]


def test_read_process_from_a_snapshot(target, tmp_path):
    assert run_captured([b"pmap", b"--capture", os.fsencode(tmp_path), b"%d" % target], {})[0] == 0
    live = pymap.read_process(target)
    for root in (str(tmp_path), os.fsencode(tmp_path), pathlib.Path(tmp_path)):
        saved = pymap.read_process(target, proc_root=root)
        assert saved.cmdline == live.cmdline
        assert [(m.start, m.end, m.name, m.vmflags) for m in saved.mappings] == \
            [(m.start, m.end, m.name, m.vmflags) for m in live.mappings]


def test_read_process_errors(tmp_path):
    missing = 0x7FFFFFF0
    with pytest.raises(pymap.NoSuchProcess) as caught:
        pymap.read_process(missing)
    assert caught.value.pid == missing and caught.value.path == "/proc/%d" % missing
    assert issubclass(pymap.NoSuchProcess, pymap.ProcessError)
    assert issubclass(pymap.AccessDenied, pymap.ProcessError)
    folder = tmp_path / "7"
    folder.mkdir()
    (folder / "stat").write_bytes(b"7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0 0 0 0 0 0\n")
    with pytest.raises(pymap.NoSuchProcess) as caught:
        pymap.read_process(7, proc_root=str(tmp_path))
    assert caught.value.path == "%s/7/smaps" % tmp_path
    (folder / "smaps").write_bytes(b"Rss: 4 kB\n")
    with pytest.raises(pymap.UnreadableProcess):
        pymap.read_process(7, proc_root=str(tmp_path))


def test_public_functions_are_typed():
    package = os.path.dirname(pymap.__file__)
    assert os.path.isfile(os.path.join(package, "py.typed"))
    from pymap.parse import smaps as model
    from pymap.report import capture

    for function in (pymap.read_process, model.parse_smaps, model.parse_maps, model.parse_maps_line,
                     capture.capture):
        parameters = inspect.signature(function).parameters
        assert set(function.__annotations__) == set(parameters) | {"return"}, function.__name__
        if sys.version_info >= (3, 10):  # "X | Y" in an annotation's text evaluates from 3.10 on
            hints = typing.get_type_hints(function, vars(model) | vars(pymap) | vars(capture))
            assert set(hints) == set(function.__annotations__), function.__name__
