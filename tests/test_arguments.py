"""pymap's command line against /usr/bin/pmap: options, PID arguments and
every way to get them wrong, compared on stdout, stderr and exit status."""

import re

import pytest

from tests.support import livetools

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)]


def assert_same(args, environ=None):
    expected = livetools.run_pmap(args, environ)
    actual = livetools.run_pymap(args, environ)
    assert (actual.stdout, actual.stderr, actual.returncode) == (
        expected.stdout, expected.stderr, expected.returncode), args
    return expected


SELF = "$SELF"  # replaced by the pid of a stopped process

BAD_ARGUMENTS = (
    [], ["-h"], ["--help"], ["--he"], ["-r"], ["-k"], ["-k", SELF], ["--use-kernel-name", SELF],
    ["-z"], ["-z", SELF], ["-:"], ["-?"], ["-A"], ["--range"], ["-x", "-A"], ["--extended=1", SELF],
    ["--quiet=yes", SELF], ["--bogus"], ["--bogus", SELF], ["--"], ["--", SELF], ["-"], ["-", SELF],
    ["--read-rc-fro"], ["--create"], ["--read"], ["--c"], ["--r"], ["--e"], ["--d"], ["--s"],
    ["--h", SELF], ["--ra"], ["--ra", "1,2"],
    ["0"], ["-0"], ["0x1f"], ["017"], ["08"], ["0x"], ["+5"], ["-5"], [" 5"], ["5 "], ["abc"], ["12abc"],
    ["/proc/"], ["/proc/abc"], ["/proc/self"], ["/proc/0"], ["/proc/08"], ["/proc//1"], ["proc/1"],
    ["4294967297"], ["2147483648"], ["99999999999999999999999"],
    ["-x", "-d", SELF], ["-d", "-x", SELF], ["-xd"], ["-X", "-x", SELF], ["-c", "-x", SELF], ["-n", "-q"],
    ["-n", "-p"], ["-N", "f", "-q"], ["-n", SELF], ["-q"], ["-x"], ["-p", "-q"],
    ["-A", "zz"], ["-A", "zz", "-V"], ["-z", "-V"], ["-h", "-z"], ["-xz"],
    ["-A", "1,zz", SELF], ["-A", "1,2,3", SELF], ["-r", "-h"], ["-qx", "--dev", SELF],
    ["abc", "-z"], [SELF, "abc"], ["abc", SELF], [SELF, "/proc/abc"], [SELF, "0"],
)


@pytest.fixture(scope="module")
def stopped_pid():
    with livetools.stopped_process("pass") as pid:
        yield str(pid)


@pytest.mark.parametrize("args", BAD_ARGUMENTS, ids=lambda args: " ".join(args) or "(none)")
def test_arguments(args, stopped_pid):
    assert_same([stopped_pid if argument == SELF else argument for argument in args])


@pytest.mark.parametrize("args", [["-z", "--bogus"], ["--ext", "-x", "zzz"], ["1", "-q", "-z"]], ids=" ".join)
def test_posixly_correct(args):
    assert_same(args, livetools.base_environ(POSIXLY_CORRECT="1"))


def test_too_many_pids(stopped_pid):
    """pmap 4.0.2 refuses more than 255 PIDs; 255 are fine."""
    assert_same(["-q"] + [stopped_pid] * 255)
    result = assert_same(["-q"] + [stopped_pid] * 256)
    if livetools.pmap_version() in ("4.0.2", "4.0.3", "4.0.4", "4.0.5"):
        assert result.stderr == b"pmap: library failed pids statistics\n" and result.returncode == 1


def test_program_name_in_messages():
    """Messages carry the name pymap was run as, as pmap's do."""
    result = livetools.run_pymap(["-z"], name="pymap")
    assert result.stderr.startswith(b"pymap: invalid option -- 'z'\n")
    assert result.returncode == 1


def test_version_line():
    """Through a link named pmap, -V prints pmap's own line (which scripts
    and upstream's test suite parse for the release); under pymap's name,
    pymap's, naming the release it follows and why."""
    release = livetools.pmap_version()
    for args in (["-V"], ["--version", "-z"], ["--v", "1"], ["-V", "-A", "zz"], ["-qV"], ["-V", "-x", "-d"]):
        expected = livetools.run_pmap(args)
        result = livetools.run_pymap(args)
        assert (result.stdout, result.stderr, result.returncode) == (expected.stdout, expected.stderr,
                                                                     expected.returncode), args
    assert expected.stdout == b"pmap from procps-ng %s\n" % release.encode()
    own = livetools.run_pymap(["-V"], name="pymap")
    assert (own.returncode, own.stderr) == (0, b"")
    assert re.fullmatch(rb"pymap from pymap \S+ \(procps-ng %s, from PYMAP_COMPAT\)\n" % re.escape(release.encode()),
                        own.stdout)
    # a release given names itself as pmap -V would
    assert livetools.run_pymap(["-V"], compat="3.3.17").stdout == b"pmap from procps-ng 3.3.17\n"


@pytest.mark.parametrize("args, stream", [(["--help"], "stdout"), (["-z"], "stderr"), (["--json", "-x", "1"], None)])
def test_help_under_pymaps_own_name_lists_its_options(args, stream):
    """Under its own name pymap's usage text is pmap's, then a block naming
    every option of pymap's own; through a link named pmap it is pmap's
    alone (test_arguments compares that byte for byte)."""
    from pymap.command.options import OPTIONS

    as_pmap = livetools.run_pymap(args)
    as_pymap = livetools.run_pymap(args, name="pymap")
    assert as_pymap.returncode == as_pmap.returncode
    if stream is None:
        return
    pmap_text = getattr(as_pmap, stream).replace(b"pmap", b"pymap").replace(b"pymap(1)", b"pmap(1)")
    text = getattr(as_pymap, stream)
    shared, _, rest = pmap_text.partition(b"\nFor more details see pmap(1).\n")
    assert text.startswith(shared + b"\npymap's own options:\n")
    own = text[len(shared) + len(b"\npymap's own options:\n"):].split(b"\n")
    assert own[-3:] == [b"", b"For more details see pymap(1).", b""]
    # each option's line, and under --sort's and --by's the keys of each mode, indented
    lines = [re.match(rb"     --([a-z-]+)(=<[a-z]+>|\[=<[a-z]+>\])? +[a-z]", line) for line in own[:-3]
             if not line.startswith(b" " * 31)]
    names = [line.group(1).decode() for line in lines]
    assert names == [spec.long for spec in OPTIONS if spec.pymap_only]
    more = {spec.long.encode(): [line.encode() for line in spec.more] for spec in OPTIONS if spec.more}
    # an optional argument is shown as getopt takes it, with "=" only
    assert [(line.group(2) or b"")[:1] == b"[" for line in lines] == [spec.optional for spec in OPTIONS if spec.pymap_only]
    details = [index for index, line in enumerate(own[:-3]) if line.startswith(b" " * 31)]
    owners = {}
    for index in details:
        above = max(line for line in range(index) if line not in details)
        owners.setdefault(re.match(rb"     --([a-z]+)", own[above]).group(1), []).append(own[index][31:])
    assert set(owners) == {b"sort", b"by"} | set(more)
    for owner, lines in owners.items():
        if owner in more:
            assert lines == more[owner]
        else:
            assert all(re.match(rb"--[a-z]+: [a-z]+( [a-z]+)+$", line) for line in lines)
    assert all(len(line) < 80 for line in own)
