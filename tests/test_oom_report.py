"""pymap --oom-report[=FILE] on recorded kernel logs: the command's text and
JSON Lines against the numbers read here from each log's "Killed process"
lines, standard input, logs that cannot be read (one line, status 1),
hostile logs (control bytes in names, a line larger than the memory pymap
may take), and the optional argument as getopt takes it.

The running kernel's log, and a real OOM kill, are test_oom_report_live's.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from pymap.command.cli import run_captured
from pymap.source import FILES, kernel_log
from tests.support import ROOT, TIMEOUT
from tests.support import livetools
from tests.test_oomlog import FIXTURES, LOGS, REAL, data_of, reports

pytestmark = pytest.mark.golden

ENVIRON = {b"PATH": b"/usr/bin:/bin", b"LANG": b"C.UTF-8"}
JSON_KEYS = ("pid", "comm", "cgroup", "constraint", "anon_rss", "file_rss", "shmem_rss", "candidates")


def pymap(*args, environ=ENVIRON):
    """(status, stdout, stderr) of pymap ARGS, run in this process."""
    return run_captured([b"pymap"] + [os.fsencode(arg) for arg in args], environ)


def fixture(name):
    return os.path.join(FIXTURES, name)


@pytest.fixture()
def folder():
    path = tempfile.mkdtemp(prefix="pymap-oom-report-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def expected_kills(name):
    """(pid, comm, anon, file, shmem) of each kill, from the log's own
    "Killed process" lines (test_oomlog.reports reads them)."""
    found = []
    for report in reports(name):
        pid, comm, _, anon, file, shmem = report["killed"].groups()[:6]
        found.append((int(pid), comm, int(anon), int(file), int(shmem) if shmem is not None else None))
    return found


@pytest.mark.parametrize("name", LOGS)
def test_text_names_each_victim_with_the_kernels_rss_split(name):
    status, output, errors = pymap("--oom-report=" + fixture(name))
    assert (status, errors) == (0, b"")
    text = output.decode("utf-8")
    expected = expected_kills(name)
    blocks = [block for block in text.split("\n\n") if block]
    if not expected:
        assert text == "no OOM kill found in %s\n" % fixture(name)
        assert pymap("--oom-report=" + fixture(name), "-q") == (0, b"", b"")
        return
    assert len(blocks) == len(expected)
    for block, (pid, comm, anon, file, shmem) in zip(blocks, expected):
        assert block.startswith("OOM kill at ")
        killed = block.splitlines()[1]
        assert killed.startswith("  killed   PID %d (%s)" % (pid, comm))
        split = "anon-rss %d kB + file-rss %d kB" % (anon, file)
        if shmem is None:  # 4.4 prints no shmem-rss
            assert "%s = %d kB resident" % (split, anon + file) in killed
        else:
            assert "%s + shmem-rss %d kB = %d kB resident" % (split, shmem, anon + file + shmem) in killed
        assert "\n  why      " in block


@pytest.mark.parametrize("name", LOGS)
def test_json_has_an_object_per_kill_then_the_count(name):
    status, output, errors = pymap("--oom-report=" + fixture(name), "--json")
    assert (status, errors) == (0, b"")
    objects = [json.loads(line) for line in output.splitlines()]
    expected = expected_kills(name)
    assert objects[-1] == {"schema": 3, "log": fixture(name), "kills": len(expected)}
    kills = objects[:-1]
    assert [(kill["pid"], kill["comm"], kill["anon_rss"], kill["file_rss"], kill["shmem_rss"]) for kill in kills] \
        == expected
    for kill, report in zip(kills, reports(name)):
        assert kill["schema"] == 3 and all(key in kill for key in JSON_KEYS)
        assert set(kill["cgroup"]) == {"oom_memcg", "task_memcg"}
        summary = report["summary"]
        if summary is not None:
            assert kill["constraint"] == re.search(r"constraint=(\w+)", summary).group(1)
        assert sorted(row["pid"] for row in kill["candidates"]) == sorted(row["pid"] for row in report["table"] or [])
        assert isinstance(kill["why"], str) and kill["why"]
        invoked = report["invoked"]
        if invoked is not None:
            assert (kill["trigger"]["comm"], kill["trigger"]["gfp_mask"], kill["trigger"]["order"]) == (
                invoked.group(1), invoked.group(2), int(invoked.group(4)))
        else:
            assert kill["trigger"] is None
    # -q leaves out the count
    quiet = pymap("--oom-report=" + fixture(name), "--json", "-q")[1]
    assert quiet.splitlines() == output.splitlines()[:-1]


def test_the_real_report_names_the_victim_and_the_runner_up():
    with open(fixture(REAL + ".json")) as handle:
        started = json.load(handle)
    status, output, _ = pymap("--oom-report=" + fixture(REAL + ".dmesg.log"))
    first = output.decode().split("\n\n")[0]
    assert status == 0
    assert "memory cgroup /pymap-oomlog-fixture, CONSTRAINT_MEMCG" in first.splitlines()[0]
    assert "  cgroup   /pymap-oomlog-fixture, limit 65536 kB\n" in first
    assert "PID %d (sleep) had the highest badness" % started["sleeper_adj_500"] in first
    assert "the runner-up, PID %d (python)" % started["holder_16mib"] in first
    assert "oom_score_adj decided it" in first
    # the kernel's memory.stat (bytes) in kB: rss 22781952, cache 43941888, shmem 43925504
    assert "  stat     /pymap-oomlog-fixture: rss 22248 kB, rss_huge 0 kB, cache 42912 kB, shmem 42896 kB," in first
    # the tasks' rss: 412 + 6638 + 679 pages of 4 kB, of a 65536 kB charge
    resident = (412 + 6638 + 679) * 4
    assert "RSS adds up to %d kB of the cgroup's 65536 kB: at least %d kB" % (resident, 65536 - resident) in first


def test_every_rendering_of_the_real_report_says_the_same():
    outputs = {}
    for style in ("dmesg", "dmesg-r", "kmsg"):
        outputs[style] = pymap("--oom-report=" + fixture("%s.%s.log" % (REAL, style)), "--json", "-q")[1]
    assert outputs["dmesg"] == outputs["dmesg-r"] == outputs["kmsg"]


def test_standard_input_is_the_same_as_the_file():
    path = fixture("4.9-memcg-v1-child.dmesg.log")
    with open(path, "rb") as handle:
        piped = livetools.run_pymap(["--oom-report=-"], name="pymap", stdin=handle)
    assert piped.returncode == 0 and piped.stderr == b""
    assert piped.stdout == pymap("--oom-report=" + path)[1]
    empty = livetools.run_pymap(["--oom-report=-"], name="pymap", stdin=subprocess.DEVNULL)
    assert (empty.returncode, empty.stdout, empty.stderr) == (0, b"no OOM kill found in standard input\n", b"")


# --- logs that cannot be read ------------------------------------------------------

def test_unreadable_logs_are_one_line_and_status_1(folder):
    link = os.path.join(folder, "link")
    os.symlink(fixture(REAL + ".dmesg.log"), link)
    fifo = os.path.join(folder, "fifo")
    os.mkfifo(fifo)  # (no writer: a blocking open would hang)
    cases = {
        os.path.join(folder, "missing"): "No such file or directory",
        folder: "Is a directory",
        link: "a symbolic link (pymap follows none: name the file it points to)",
        fifo: "not a regular file (a pipe goes as -, on standard input)",
        "/dev/null": "not a regular file (a pipe goes as -, on standard input)",
        "/proc/self/mem": "Input/output error",  # a regular file whose read fails
        os.path.join(folder, "missing", "x"): "No such file or directory",
    }
    status, output, errors = pymap("--oom-report=" + os.path.join(folder, "new\nline\x1b"))
    assert (status, output, errors) == (1, b"", ("pymap: %s/new?line?: No such file or directory\n" % folder).encode())
    for path, reason in cases.items():
        status, output, errors = pymap("--oom-report=" + path)
        assert (status, output, errors) == (1, b"", ("pymap: %s: %s\n" % (path, reason)).encode()), path


def test_the_argument_is_optional_as_getopt_takes_it(folder):
    path = fixture("no-oom.dmesg.log")
    assert pymap("--oom-report", "50%s%d%n") == (  # (said as it is: no format of pmap's catalog)
        1, b"", b"pymap: option --oom-report takes no PID (a log file is named as --oom-report=FILE): '50%s%d%n'\n")
    assert pymap("--oom-report", "a\nb\x1b") == (  # one line
        1, b"", b"pymap: option --oom-report takes no PID (a log file is named as --oom-report=FILE): 'a\\nb\\x1b'\n")
    status, output, errors = pymap("--oom-report", path)  # a separate word is no argument: an operand
    assert (status, output) == (1, b"")
    assert errors == b"pymap: option --oom-report takes no PID (a log file is named as --oom-report=FILE): '%s'\n" \
        % path.encode()
    assert pymap("--oom-report=") == (1, b"", b"pymap: option --oom-report=FILE: the file name is empty\n")
    assert pymap("--oom-report", "1")[0] == 1
    status, _, errors = pymap("--oom")  # pymap's own options are never abbreviated
    assert status == 1 and errors.startswith(b"pymap: unrecognized option '--oom'\n")


def test_it_excludes_the_other_modes():
    path = "--oom-report=" + fixture("no-oom.dmesg.log")
    status, _, errors = pymap(path, "-x", "1")
    assert status == 1 and errors == (b"pymap: option --oom-report is mutually exclusive with -c, -C, -d, -x, -X, "
                                      b"--reconcile, --capture, --diff, --summary\n")
    assert pymap("--summary", path)[2] == (b"pymap: option --summary is mutually exclusive with -c, -C, -d, -x, -X, "
                                          b"--reconcile, --capture, --diff, --oom-report\n")
    assert pymap(path, "--proc-root", "/proc")[2] == (b"pymap: option --oom-report reads a kernel log, not a "
                                                      b"snapshot: name a saved log as --oom-report=FILE\n")
    assert pymap(path, "-A", "0")[2] == b"pymap: option --oom-report reads a kernel log: -A is not supported with it\n"
    assert pymap(path, "--sort=pss")[2].startswith(b"pymap: option --sort goes with ")


# --- hostile logs -------------------------------------------------------------------

def hostile_name(data, old, new):
    """The real report with the sleep's name made ``new`` (bytes), as
    /dev/kmsg escapes it (every byte outside printable ASCII, and the
    backslash, as \\xNN)."""
    escaped = b"".join(bytes((byte,)) if 32 <= byte < 127 and byte != 0x5C else b"\\x%02x" % byte for byte in new)
    return data.replace(b"(%s)" % old, b"(%s)" % escaped).replace(b" %s\n" % old, b" %s\n" % escaped)


def test_names_are_bytes_shown_without_control_characters(folder):
    name = b"sl\x1b[31m\x07\xff\teep"
    path = os.path.join(folder, "kmsg.log")
    with open(path, "wb") as handle:
        handle.write(hostile_name(data_of(REAL + ".kmsg.log"), b"sleep", name))
    status, output, errors = pymap("--oom-report=" + path)
    assert (status, errors) == (0, b"")
    assert not re.search(rb"[\x00-\x09\x0b-\x1f\x7f]", output)  # nothing a terminal acts on, no tab
    assert re.search(rb"PID 10005 \(sl\?\[31m[?.]{3}eep\)", output)  # (a tab: "." or "?" by release)
    assert output.count(b"sl?[31m") == 3  # the killed line, the why, the table
    # a name in UTF-8 as it is in a UTF-8 locale, as "?" in the C locale
    kmsg = fixture("5.10-system-allocating-task.kmsg.log")
    assert "PID 3310 (pythön)".encode() in pymap("--oom-report=" + kmsg)[1]
    assert b"PID 3310 (pyth??n)" in pymap("--oom-report=" + kmsg, environ={**ENVIRON, b"LANG": b"C"})[1]
    objects = [json.loads(line) for line in pymap("--oom-report=" + path, "--json")[1].splitlines()]
    assert objects[0]["comm"].encode("utf-8", "surrogateescape") == name  # the kernel's bytes, back
    victim = next(row for row in objects[0]["candidates"] if row["victim"])
    assert victim["name"].encode("utf-8", "surrogateescape") == name


def test_garbage_and_torn_logs_are_no_traceback(folder):
    import random

    generator = random.Random(23)
    real = data_of(REAL + ".dmesg.log")
    garbage = bytes(generator.randrange(256) for _ in range(200000))
    torn = b"".join(line[:generator.randrange(len(line) + 1)] + b"\n" for line in real.splitlines())
    for index, data in enumerate((garbage, torn, real[:len(real) // 2], b"\n" * 1000, b"\0" * 5000)):
        path = os.path.join(folder, "%d.log" % index)
        with open(path, "wb") as handle:
            handle.write(data)
        for extra in ((), ("--json",)):
            status, _, errors = pymap("--oom-report=" + path, *extra)
            assert (status, errors) == (0, b""), index


def test_a_line_larger_than_the_memory_allowed_streams_through():
    """600 MB on standard input, most of it one line, under an address-space
    limit of 512 MiB: nothing holds the line, and the kill after it is read."""
    if shutil.which("prlimit") is None:
        pytest.skip("needs prlimit (util-linux)")
    report = data_of("4.9-memcg-v1-child.dmesg.log")
    writer = ("import sys\nout = sys.stdout.buffer\nblock = b'x' * (1 << 20)\n"
              "for _ in range(600): out.write(block)\nout.write(b'\\n' + open(sys.argv[1], 'rb').read())\n")
    source = subprocess.Popen([sys.executable, "-c", writer, fixture("4.9-memcg-v1-child.dmesg.log")],
                              stdout=subprocess.PIPE)
    try:
        result = subprocess.run(["prlimit", "--as=%d" % (512 << 20), "--", sys.executable, "-m", "pymap",
                                 "--oom-report=-", "--json", "-q"], stdin=source.stdout, capture_output=True,
                                cwd=ROOT, env=livetools.base_environ(), timeout=TIMEOUT)
    finally:
        source.stdout.close()
        source.kill()
        source.wait()
    assert result.returncode == 0 and result.stderr == b""
    assert [json.loads(line)["pid"] for line in result.stdout.splitlines()] == [
        int(pid) for pid in re.findall(rb"Killed process (\d+) ", report)]


# --- the running kernel's log, with the fallback's command stood in for --------------

@pytest.fixture()
def no_kmsg(monkeypatch):
    """/dev/kmsg stood in for by /dev/null, a character device that is not
    the kernel's log (as a container may bind it): pymap must take dmesg."""
    monkeypatch.setattr(FILES[b"kmsg"], "path", b"/dev/null")
    return monkeypatch


def test_the_fallback_reads_what_dmesg_prints(no_kmsg):
    name = "5.15-memcg-v2-group.dmesg-x.log"
    no_kmsg.setattr(kernel_log, "DMESG", (b"cat", os.fsencode(fixture(name))))
    status, output, errors = pymap("--oom-report", "--json")
    assert (status, errors) == (0, b"")
    objects = [json.loads(line) for line in output.splitlines()]
    assert [kill["pid"] for kill in objects[:-1]] == [pid for pid, *_ in expected_kills(name)]
    assert objects[-1] == {"schema": 3, "log": "dmesg", "kills": len(expected_kills(name))}
    # the text is the file's, but for the clock time a live log's times stand for
    live = pymap("--oom-report", "-q")[1]
    assert re.findall(rb" \(about \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)", live)
    assert re.sub(rb" \(about [^)]*\)", b"", live) == pymap("--oom-report=" + fixture(name), "-q")[1]


def test_when_dmesg_fails_too_one_line_says_both(no_kmsg):
    no_kmsg.setattr(kernel_log, "DMESG", (b"sh", b"-c", b"echo 'dmesg: read kernel buffer failed: Operation not "
                                                        b"permitted' >&2; echo 'and more' >&2; exit 1"))
    assert pymap("--oom-report") == (1, b"", b"pymap: dmesg: read kernel buffer failed: Operation not permitted "
                                             b"(/dev/null: not the kernel's log device)\n")
    no_kmsg.setattr(kernel_log, "DMESG", (b"/nonexistent/dmesg",))
    assert pymap("--oom-report") == (1, b"", b"pymap: dmesg: No such file or directory (/dev/null: not the "
                                             b"kernel's log device)\n")
    # kills read before dmesg fails are shown, then the failure
    log = os.fsencode(fixture(REAL + ".dmesg.log"))
    no_kmsg.setattr(kernel_log, "DMESG", (b"sh", b"-c", b"cat \"$0\"; exit 3", log))
    status, output, errors = pymap("--oom-report", "--json")
    assert status == 1 and errors == b"pymap: dmesg: exit status 3 (/dev/null: not the kernel's log device)\n"
    assert [json.loads(line)["pid"] for line in output.splitlines()] == [10005, 10006, 10014]


def test_a_non_blocking_standard_input_is_waited_on():
    """A pipe handed over non-blocking (EAGAIN while its writer has not
    written yet) is not the end of the log."""
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(read_end, fcntl.F_SETFL, fcntl.fcntl(read_end, fcntl.F_GETFL) | os.O_NONBLOCK)
    child = subprocess.Popen([sys.executable, "-m", "pymap", "--oom-report=-", "--json"], stdin=read_end,
                             stdout=subprocess.PIPE, cwd=ROOT, env=livetools.base_environ())
    os.close(read_end)
    try:
        # wait until it waits on the pipe (or has ended, which is the failure)
        deadline = time.monotonic() + TIMEOUT
        while child.poll() is None and time.monotonic() < deadline:
            with open("/proc/%d/stat" % child.pid, "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
            with open("/proc/%d/wchan" % child.pid, "rb") as handle:
                waiting = handle.read()
            if state == b"S" and (b"select" in waiting or b"poll" in waiting or b"pipe_read" in waiting):
                break
            time.sleep(0.01)
        os.write(write_end, data_of("4.9-memcg-v1-child.dmesg.log"))
    finally:
        os.close(write_end)
    output = child.communicate(timeout=TIMEOUT)[0]
    assert child.returncode == 0
    assert [json.loads(line).get("pid") for line in output.splitlines()] == [30412, None]
