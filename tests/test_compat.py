"""compat.py: which release an installed pmap is, found the way the README
says (the first procps-ng pmap on PATH, its version and catalog folder read
from the program file), and which known release a version behaves as."""

import os
import subprocess

import pytest

from pymap import compat
from pymap.compat import RELEASES, installed_pmap, release_for_version

pytestmark = pytest.mark.golden


@pytest.mark.parametrize("version, expected", [
    (b"4.0.2", ("4.0.2", None)),
    (b"4.0.4", ("4.0.4", None)),
    (b"4.0.6", ("4.0.6", None)),
    (b"main", ("main", None)),
    # a development snapshot after the newest release is upstream's line
    (b"4.0.6-58-gcbe5f3fe", ("main", None)),
    (b"4.0.7", ("main", "newer than pymap knows")),
    (b"4.0.10", ("main", "newer than pymap knows")),
    (b"4.1.0", ("main", "newer than pymap knows")),
    (b"5", ("main", "newer than pymap knows")),
    (b"3.3.17", ("3.3.17", None)),
    (b"3.3.15", ("3.3.15", None)),
    # the nearest release of the same line (3.3's libprocps, 4.x's libproc2)
    (b"4.0.1", ("4.0.2", "older than pymap knows")),
    (b"4.0.0", ("4.0.2", "older than pymap knows")),
    (b"4.0.x", ("4.0.2", "older than pymap knows")),
    (b"3.3.12", ("3.3.15", "older than pymap knows")),
    (b"3.3.9", ("3.3.15", "older than pymap knows")),
    (b"3.2.8", ("3.3.15", "older than pymap knows")),
    (b"3.3.16-2ubuntu1", ("3.3.16", None)),
    (b"3.3.18", ("3.3.17", "not a release pymap knows")),
    (b"4.0.5-rc1", ("4.0.5", None)),
    (b"4.0.3.1", ("4.0.3", None)),
    (b"4.0.4a", ("4.0.4", None)),
    # the newest release with a suffix but no dash is that release, not a
    # development snapshot after it
    (b"4.0.6.1", ("4.0.6", None)),
    (b"4.0.6a", ("4.0.6", None)),
])
def test_release_for_version(version, expected):
    assert release_for_version(version) == expected


def test_known_releases_are_their_own():
    for release in RELEASES:
        assert release_for_version(release.encode()) == (release, None)


def _program(folder, name=b"pmap", content=None, mode=0o755):
    path = os.path.join(os.fsencode(folder), name)
    with open(path, "wb") as handle:
        handle.write(content)
    os.chmod(path, mode)
    return path


def _elf(version, localedir=b"/usr/share/locale"):
    """Bytes laid out as the parts of a pmap binary that are read."""
    # before the version: "procps-ng " strings not followed by a digit (the
    # bytes on either side of "0"-"9" included), as other strings may hold
    return (b"\x7fELF\x02\x01\x01" + b"\0" * 200 + b"procps-ng \0other procps-ng X\0procps-ng /\0procps-ng :\0"
            + b"\0" * 50
            + b"procps-ng " + version + b"\0" + b"\0" * 30 + localedir + b"\0" + b"\0" * 100)


def test_the_first_procps_pmap_on_path(tmp_path):
    script, elf, later = (tmp_path / name for name in ("script", "elf", "later"))
    for folder in (script, elf, later):
        folder.mkdir()
    _program(script, content=b"#!/bin/sh\n# procps-ng 4.0.2 (a wrapper, or pymap's own launcher)\n")
    found_path = _program(elf, content=_elf(b"4.0.4"))
    _program(later, content=_elf(b"4.0.6"))
    found = installed_pmap({b"PATH": b":".join(os.fsencode(folder) for folder in (script, elf, later))})
    assert (found.path, found.version, found.release, found.note, found.localedir) == (
        found_path, b"4.0.4", "4.0.4", None, b"/usr/share/locale")


@pytest.mark.parametrize("what", ["not executable", "writable by others only", "not ELF", "no version", "a folder", "a FIFO", "too small"])
def test_what_is_not_a_procps_pmap(tmp_path, what):
    """Each is passed over (so the search goes on to /usr/bin/pmap, which is
    this machine's, or finds none)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if what == "not executable":
        _program(folder, content=_elf(b"4.0.5"), mode=0o644)
    elif what == "writable by others only":  # no execute bit: not run by a shell either
        _program(folder, content=_elf(b"4.0.5"), mode=0o646)
        assert subprocess.run(["/bin/sh", "-c", "command -v pmap"], env={"PATH": str(folder)},
                              capture_output=True, timeout=60).returncode != 0
    elif what == "not ELF":
        _program(folder, content=_elf(b"4.0.5")[4:])
    elif what == "no version":
        _program(folder, content=_elf(b"x.y"))
    elif what == "a folder":
        (folder / "pmap").mkdir()
    elif what == "a FIFO":
        os.mkfifo(folder / "pmap")  # opened without blocking, then refused
    else:
        _program(folder, content=b"\x7fE")
    found = installed_pmap({b"PATH": os.fsencode(folder)})
    assert found is None or found.path == b"/usr/bin/pmap"


@pytest.mark.parametrize("padding", [0, compat.READ_WHOLE - 400, compat.READ_WHOLE, 3 << 20])
def test_small_binaries_are_read_and_large_ones_mapped_alike(tmp_path, padding, monkeypatch):
    """A binary up to READ_WHOLE bytes is read whole (no mmap import at
    start-up), a larger one mapped; both readings find the same version and
    catalog folder, wherever they lie (here after PADDING bytes)."""
    elf = _elf(b"4.0.3", localedir=b"/opt/share/locale")
    content = elf[:7] + b"\0" * padding + elf[7:]
    folder = tmp_path / "bin"
    folder.mkdir()
    _program(folder, content=content)
    mapped = []
    real_image = compat.version_and_localedir
    monkeypatch.setattr(compat, "version_and_localedir",
                        lambda image: mapped.append(not isinstance(image, bytes)) or real_image(image))
    found = installed_pmap({b"PATH": os.fsencode(folder)})
    assert (found.version, found.localedir) == (b"4.0.3", b"/opt/share/locale")
    assert mapped == [len(content) > compat.READ_WHOLE]


def test_a_version_at_the_end_of_the_file(tmp_path):
    """A version string with nothing after it: it ends where the file does."""
    folder = tmp_path / "bin"
    folder.mkdir()
    _program(folder, content=b"\x7fELF\x02\x01\x01" + b"\0" * 200 + b"procps-ng 4.0.3")
    found = installed_pmap({b"PATH": os.fsencode(folder)})
    assert (found.version, found.localedir) == (b"4.0.3", None)


def test_catalog_folder(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    _program(folder, content=_elf(b"4.0.2", localedir=b"/opt/procps/share/locale"))
    assert installed_pmap({b"PATH": os.fsencode(folder)}).localedir == b"/opt/procps/share/locale"
    _program(folder, content=_elf(b"4.0.2", localedir=b"relative/locale"))
    assert installed_pmap({b"PATH": os.fsencode(folder)}).localedir is None


@pytest.mark.parametrize("version, release, note", [(b"4.1.2", "main", "newer than pymap knows"),
                                                    (b"0.9.1", "3.3.15", "older than pymap knows"),
                                                    (b"3.3.10", "3.3.15", "older than pymap knows"),
                                                    (b"9", "main", "newer than pymap knows")])
def test_version_notes(tmp_path, version, release, note):
    folder = tmp_path / "bin"
    folder.mkdir()
    _program(folder, content=_elf(version))
    found = installed_pmap({b"PATH": os.fsencode(folder)})
    assert (found.version, found.release, found.note) == (version, release, note)


def test_empty_path_entry_is_the_current_folder(tmp_path, monkeypatch):
    _program(tmp_path, content=_elf(b"4.0.3"))
    monkeypatch.chdir(tmp_path)
    found = installed_pmap({b"PATH": b":/nonexistent"})
    assert (found.path, found.version) == (b"./pmap", b"4.0.3")


@pytest.mark.parametrize("version", [b"3.3.15", b"3.3.16", b"3.3.17"])
def test_an_installed_33_pmap_is_followed_without_a_flag(tmp_path, version):
    """A machine whose pmap is a 3.3 release (RHEL 8 and 9, Debian 10 and
    11, Ubuntu 20.04 and 22.04): with nothing said, pymap prints what that
    release printed for the golden snapshots, zombies, threads, long and odd
    command lines included, and pmap -V names it."""
    from tests.support import goldens
    from pymap.command.cli import run_captured

    folder = tmp_path / "bin"
    folder.mkdir()
    _program(folder, content=_elf(version))
    rows = [case for case in goldens.cases() if case.version == version.decode()
            and case.case in ("zombie", "longargs", "oddargs", "titles", "thread-ids")]
    assert len(rows) >= 5 * 4
    for case in rows:
        environ = case.environ()
        environ[b"PATH"] = os.fsencode(folder)
        del environ[b"PYMAP_COMPAT"]
        status, stdout, stderr = run_captured(case.argv(), environ)
        assert (stdout, status) == (case.expected_stdout(), case.exit_status), case
    environ = {b"PATH": os.fsencode(folder), b"LANG": b"C"}
    assert run_captured([b"pmap", b"-V"], environ)[1] == b"pmap from procps-ng %s\n" % version
    assert run_captured([b"pymap", b"-V"], environ)[1].endswith(b"(procps-ng %s, as %s/pmap)\n" % (
        version, os.fsencode(folder)))
