"""Drop-in where it runs: linked as pmap and told nothing, pymap prints what
the installed pmap prints -- its release, the user's language, the signals
and streams it inherits.

Every comparison runs both tools as "pmap" with PYMAP_COMPAT unset, on a
stopped C program (sleep: no libpython pages whose Pss would move with the
reader).
"""

import os
import signal
import subprocess
import tempfile

import pytest

from tests.support import livetools
from tests.support import TIMEOUT

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not livetools.have_pmap(), reason="no %s to compare with" % livetools.PMAP)]

LOCALEDIR = "/usr/share/locale"
LANGUAGES = ["de", "es", "fr", "ka", "ko", "pl", "pt_BR", "ro", "sv", "uk", "vi", "zh_CN"]
MODES = [[], ["-x"], ["-d"], ["-q"], ["-x", "-q"], ["-d", "-q"], ["-X"], ["-XX"], ["-X", "-q"], ["-p"]]
USAGE_ERRORS = [["-h"], ["-z"], ["--bogus", "1"], ["-A"], ["--ext=1", "1"], ["--re", "1"], ["-x", "-d", "1"],
                [], ["-n", "-q"], ["-A", "zz", "1"], ["-r", "-z"], ["0x"], ["1", "-N"], ["-V"]]


def have_catalog(language, domain="procps-ng"):
    return os.path.isfile(os.path.join(LOCALEDIR, language, "LC_MESSAGES", domain + ".mo"))


@pytest.fixture(scope="module")
def sleeper():
    """A stopped sleep, after its exec."""
    child = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL, env=livetools.base_environ())
    try:
        livetools.wait_until_exec(child.pid, b"sleep")
        livetools.wait_asleep(child.pid)  # its libraries mapped
        os.kill(child.pid, signal.SIGSTOP)
        livetools.wait_stopped(child.pid)
        yield str(child.pid)
    finally:
        child.kill()
        child.wait(timeout=TIMEOUT)


def without_pss(output, heading=None):
    return livetools.without_pss(output, heading)


def assert_same(args, environ):
    expected = livetools.run_pmap(args, environ)
    actual = livetools.run_pymap(args, environ, compat="")
    if any(arg.startswith("-X") for arg in args):
        heading = None
        if "-q" in args:  # the columns of the same table with its heading
            table = livetools.run_pmap([arg for arg in args if arg != "-q"], environ).stdout
            heading = next((line for line in table.split(b"\n") if b"Size" in line.split()), None)
        expected_stdout, actual_stdout = without_pss(expected.stdout, heading), without_pss(actual.stdout, heading)
    else:
        expected_stdout, actual_stdout = expected.stdout, actual.stdout
    assert (actual_stdout, actual.stderr, actual.returncode) == (
        expected_stdout, expected.stderr, expected.returncode), (args, environ)
    return expected


def test_follows_the_installed_release_by_default(sleeper):
    """No PYMAP_COMPAT: the installed pmap's output, whatever it is."""
    for mode in MODES + [["-x", sleeper, "2"], ["-X", sleeper, sleeper]]:
        assert_same(mode + ([sleeper] if sleeper not in mode else []), livetools.base_environ("C.UTF-8"))
    assert_same(["-V"], livetools.base_environ("C.UTF-8"))
    version = livetools.run_pymap(["-V"], compat="", name="pymap")
    assert version.stdout.endswith(b"(procps-ng %s, as %s)\n" % (livetools.pmap_version().encode(),
                                                               livetools.PMAP.encode()))


@pytest.mark.parametrize("language", LANGUAGES)
def test_translated_modes_and_messages(sleeper, language):
    if not have_catalog(language):
        pytest.skip("this machine has no %s catalog of procps-ng" % language)
    for environ in (livetools.base_environ("C.UTF-8", LANGUAGE=language),
                    livetools.base_environ("C", LC_MESSAGES="C.UTF-8", LANGUAGE=language)):
        for mode in MODES:
            assert_same(mode + [sleeper], environ)
        for args in USAGE_ERRORS:
            assert_same(args, environ)


@pytest.mark.parametrize("language", [""] + LANGUAGES)
def test_messages_name_the_path_typed_in_every_language(language):
    """Typed as a path, pmap's getopt complaints (glibc's, argv[0] as given)
    name that path and its own messages the short name, in every language:
    pymap typed as a path to a link named pmap says the same of its own."""
    if language and not have_catalog(language, "libc"):
        pytest.skip("this machine has no %s catalog of libc" % language)
    environ = livetools.base_environ("C.UTF-8", **({"LANGUAGE": language} if language else {}))
    ours = os.path.join(livetools.launcher_dir(), "pmap")
    for args in USAGE_ERRORS + [["-A", "zz", "1"]]:
        real = subprocess.run([livetools.PMAP] + args, env=environ, capture_output=True, timeout=TIMEOUT)
        mine = subprocess.run([ours] + args, env=dict(environ, PYMAP_COMPAT=livetools.pmap_version()),
                              capture_output=True, timeout=TIMEOUT)
        expected = (real.returncode, real.stdout, real.stderr.replace(livetools.PMAP.encode(), b"PATH"))
        assert (mine.returncode, mine.stdout, mine.stderr.replace(ours.encode(), b"PATH")) == expected, args


@pytest.mark.parametrize("environ", [
    {"LC_ALL": "C", "LANGUAGE": "de"},
    {"LANG": "C.UTF-8", "LC_MESSAGES": "C", "LANGUAGE": "de"},
    {"LC_ALL": "C.UTF-8", "LC_MESSAGES": "C", "LANGUAGE": "de"},
    {"LANG": "C.UTF-8", "LC_TIME": "xx_YY", "LANGUAGE": "de"},
    {"LANG": "de_DE.UTF-8", "LANGUAGE": "de"},
    {"LANG": "C.UTF-8", "LANGUAGE": "zh_CN:de"},
    {"LANG": "C.UTF-8", "LANGUAGE": "xx:C:de"},
    {"LANG": "C.UTF-8", "LANGUAGE": ":fr"},
    {"LANG": "C.UTF-8", "LANGUAGE": ""},
    {"LC_ALL": "C.utf8", "LANGUAGE": "German"},
    {"LANG": "C.UTF-8", "LANGUAGE": "de_DE.UTF-8@euro"},
    {"LANG": "C.UTF-8", "LANGUAGE": "pt"},
    {"LANG": "C", "LC_MESSAGES": "C.UTF-8", "LANGUAGE": "fr"},
], ids=lambda environ: " ".join("%s=%s" % item for item in environ.items()))
def test_which_language(sleeper, environ):
    """glibc's rules for the language and the charset: LANGUAGE only outside
    the C locale, a locale that cannot load keeps everything C, aliases,
    fallback per message, transliteration to ASCII."""
    if not have_catalog("de") or not have_catalog("fr"):
        pytest.skip("this machine has no de and fr catalogs of procps-ng")
    full = livetools.base_environ()
    del full["LANG"]
    full.update(environ)
    for args in (["-x", sleeper], ["-d", sleeper], ["-z"], ["--bogus", sleeper], ["-x", "-d", sleeper]):
        assert_same(args, full)


# -- signals and streams -----------------------------------------------------------

SIGPIPE_SCRIPT = '"$@" | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}"'


@pytest.fixture(scope="module")
def large():
    """A stopped process whose tables are far longer than a pipe holds."""
    with livetools.large_process() as pid:
        yield str(pid)


@pytest.mark.parametrize("ignored", [False, True], ids=["SIGPIPE default", "SIGPIPE ignored"])
@pytest.mark.parametrize("args", [["-x"], ["-X"], [], ["-d"]], ids=lambda args: " ".join(args) or "default")
def test_closed_pipe_as_pmap(large, args, ignored):
    """pmap | head: killed by SIGPIPE, or, when it inherits SIGPIPE ignored,
    its writes fail with EPIPE, which it ignores: its own exit status,
    nothing on stderr."""
    disposition = signal.SIG_IGN if ignored else signal.SIG_DFL
    results = []
    for tool in (livetools.PMAP, os.path.join(livetools.launcher_dir(), "pmap")):
        results.append(subprocess.run(
            ["bash", "-c", SIGPIPE_SCRIPT, "bash", tool] + args + [large, "2147483647"],
            env=livetools.base_environ(), capture_output=True, timeout=TIMEOUT, restore_signals=False,
            preexec_fn=lambda: signal.signal(signal.SIGPIPE, disposition)))
    expected, actual = results
    assert (actual.stdout, actual.stderr) == (expected.stdout, expected.stderr)
    assert expected.stdout == (b"42\n" if ignored else b"%d\n" % (128 + signal.SIGPIPE))


@pytest.mark.parametrize("args", [["-V"], ["-h"]])
def test_short_outputs_with_sigpipe_ignored(args):
    """-V and -h with SIGPIPE ignored and the reader gone: status 0."""
    for tool in (livetools.PMAP, os.path.join(livetools.launcher_dir(), "pmap")):
        result = subprocess.run(["bash", "-c", '"$@" | true; echo "${PIPESTATUS[0]}"', "bash", tool] + args,
                                env=livetools.base_environ(), capture_output=True, timeout=TIMEOUT,
                                restore_signals=False, preexec_fn=lambda: signal.signal(signal.SIGPIPE,
                                                                                      signal.SIG_IGN))
        assert (result.stdout, result.stderr) == (b"0\n", b""), tool


def test_a_folder_as_standard_input(sleeper):
    """pmap never reads its standard input: a folder there changes nothing
    (Python itself cannot start with one; the launcher closes it)."""
    results = []
    for tool in (livetools.PMAP, os.path.join(livetools.launcher_dir(), "pmap")):
        folder = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
        try:
            results.append(subprocess.run([tool, "-x", str(sleeper)], stdin=folder, env=livetools.base_environ(),
                                          capture_output=True, timeout=TIMEOUT))
        finally:
            os.close(folder)
    expected, actual = results
    assert (actual.returncode, actual.stdout, actual.stderr) == (expected.returncode, expected.stdout, b"") \
        and expected.returncode == 0


needs_bind_mount = pytest.mark.skipif(not livetools.can_unshare(), reason="needs root and unshare -m")


@needs_bind_mount
@pytest.mark.parametrize("oracle", ["installed", "main"])
def test_messages_land_where_pmap_puts_them(large, sleeper, oracle):
    """stdout and stderr on one pipe: a -X table of a large process, then a
    process whose smaps pmap gives up on.  Up to 4.0.5 pmap's message
    flushes stdout first (error()); from 4.0.6 it does not (errx()), so it
    lands after the last whole 4 KiB block of the table."""
    tool = livetools.PMAP if oracle == "installed" else livetools.release_build("main")
    if tool is None:
        pytest.skip("no build of upstream's development line (PYMAP_RELEASE_BUILDS: %s)"
                    % (livetools.RELEASE_BUILDS or "unset"))
    release = livetools.pmap_version() if oracle == "installed" else "main"
    folder = tempfile.mkdtemp(prefix="pymap-broken-")
    try:
        for name in ("stat", "status", "cmdline", "comm"):
            with open("/proc/%s/%s" % (sleeper, name), "rb") as source, \
                    open(os.path.join(folder, name), "wb") as copy:
                copy.write(source.read())
        with open(os.path.join(folder, "smaps"), "wb") as handle:
            handle.write(b"this is not a smaps file\n")
        outputs = []
        launcher = os.path.join(livetools.launcher_dir(), "pmap")
        for program in (tool, launcher):
            command = livetools.bind_mount_command(
                sleeper, folder, ["bash", "-c", 'exec -a pmap "$0" "$@" 2>&1', program, "-X", large, sleeper])
            result = subprocess.run(command, env=livetools.base_environ(PYMAP_COMPAT=release),
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
            outputs.append((result.returncode, result.stdout))
        (expected_status, expected), (actual_status, actual) = outputs
        assert actual_status == expected_status == 1
        message = b"pmap: Unknown format in smaps file!\n"
        assert expected.count(message) == actual.count(message) == 1
        # where the message landed, and what came around it (Pss aside)
        assert actual.index(message) == expected.index(message)
        assert without_pss(actual.replace(message, b"")) == without_pss(expected.replace(message, b""))
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_stdout_blocks_as_stdio(tmp_path):
    """In-process: what reaches the pipe, write by write, is glibc's blocks."""
    from pymap.output import StdioStream

    writes = []
    stream = StdioStream(lambda data: writes.append(bytes(data)) or len(data), "full", 4096)
    for line in [b"x" * 100 + b"\n"] * 100 + [b"y" * 5000, b"z" * 10]:
        stream.write(line)
    stream.flush()
    assert [len(write) for write in writes[:-1]] == [4096] * (len(writes) - 1)
    assert b"".join(writes) == b"x" * 100 * 0 + b"".join([b"x" * 100 + b"\n"] * 100) + b"y" * 5000 + b"z" * 10
    line_writes = []
    terminal = StdioStream(lambda data: line_writes.append(bytes(data)) or len(data), "line", 1024)
    terminal.write(b"one\ntwo")
    terminal.write(b" halves\n")
    assert line_writes == [b"one\n", b"two halves\n"]
