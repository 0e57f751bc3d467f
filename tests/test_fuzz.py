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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymap.cli import run_captured

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


@SETTINGS
@given(contents=st.fixed_dictionaries({name: _FILE for name in TEMPLATES}),
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


@SETTINGS
@given(low=st.binary(max_size=30), high=st.one_of(st.none(), st.binary(max_size=30)))
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

def _rcfile_is_placeholder():
    from pymap import rcfile

    with scratch() as folder:
        path = os.path.join(folder, "probe").encode()
        with open(path, "wb") as handle:
            handle.write(b"")
        try:
            rcfile.read(path, None)
        except NotImplementedError:
            return True
        except Exception:  # noqa: BLE001 - any other answer means the real code is there
            return False
    return False


_RC_LINES = [b"[Fields Display]", b"[Mapping]", b"[Global]", b"Rss", b"Pss", b"Size", b"VmFlags", b"Mapping",
             b"ShowPath", b"Address", b"# comment", b"", b" ", b"Rss Pss", b"Bogus", b"\xff", b"=", b"[", b"]"]


@pytest.mark.skipif(_rcfile_is_placeholder(), reason="pymap/rcfile.py is still the placeholder: no rc parsing to fuzz")
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
