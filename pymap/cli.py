"""The pymap command: pmap's options, messages and exit statuses.

The order of checks follows pmap's main(): options as getopt returns them,
then the mutual exclusions, the rc file, the PID arguments, and one process
after another.  Every message is one line "NAME: ..." on stderr, where NAME
is the basename of argv[0], as pmap's program_invocation_short_name.
"""

import os
try:
    import _signal as signal  # what signal wraps: importing signal costs enum at start-up
except ImportError:  # pragma: no cover
    import signal
import sys

from . import __version__, procfs
from .compat import RELEASES, Compat, UnknownRelease
from .cstdlib import ULONG_MAX, strtoul
from .errors import ProcessError
from .getopt import GetoptError, getopt_long
from .options import long_options, short_options, usage_text

EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_NOT_FOUND = 42


class Exit(Exception):
    """Leave main() with this status (messages already written)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Console:
    """stdout and stderr as pmap uses them: bytes, stdout flushed before a
    message so the two keep their order when they share a pipe."""

    def __init__(self, program, argv0, stdout, stderr):
        self.program = program
        self.argv0 = argv0
        self.stdout = stdout
        self.stderr = stderr

    def write(self, data):
        if data:
            if self.stdout is None:
                raise OSError(9, "Bad file descriptor")
            self.stdout.write(data)

    def message(self, text):
        """A line on stderr: "program: text"."""
        self.flush_quietly()
        if self.stderr is not None:
            try:
                self.stderr.write(b"%s: %s\n" % (self.program, text))
                self.stderr.flush()
            except OSError:
                pass

    def raw_error(self, line):
        self.flush_quietly()
        if self.stderr is not None:
            try:
                self.stderr.write(line + b"\n")
                self.stderr.flush()
            except OSError:
                pass

    def fail(self, text, status=EXIT_FAILURE):
        self.message(text)
        raise Exit(status)

    def flush_quietly(self):
        try:
            if self.stdout is not None:
                self.stdout.flush()
        except OSError:
            pass


class Settings:
    """What the options asked for."""

    def __init__(self):
        self.x = self.d = self.q = self.c = self.n = 0
        self.big_c = self.big_n = 0
        self.big_x = 0
        self.show_path = 0
        self.kernel_names = False
        self.range_low = 0
        self.range_high = ULONG_MAX
        self.rc_filename = None
        self.proc_root = None
        self.json = False
        self.reconcile = False
        self.capture = None


def _program_argv0(argv):
    """argv[0] as the user typed it.  A console script is run through its
    interpreter, which turns a name found on PATH into a full path; when
    PATH finds that very file under its basename, the user typed the name."""
    if not argv:
        return b"pymap"
    first = argv[0]
    if first.endswith(b"/__main__.py") or first in (b"-m", b"-c", b""):
        return b"pymap"
    slash = first.rfind(b"/")
    if slash >= 0:
        base = first[slash + 1:]
        for directory in os.environb.get(b"PATH", b"").split(b":"):
            candidate = (directory or b".") + b"/" + base
            try:
                if os.path.samefile(candidate, first):
                    return base
                break
            except OSError:
                continue
    return first


def _basename(path):
    return path[path.rfind(b"/") + 1:]


def usage(console, compat, to_stdout=False):
    text = usage_text(console.program, compat)
    if to_stdout:
        console.write(text)
        raise Exit(EXIT_SUCCESS)
    console.flush_quietly()
    if console.stderr is not None:
        try:
            console.stderr.write(text)
            console.stderr.flush()
        except OSError:
            pass
    raise Exit(EXIT_FAILURE)


def _compat_from(environ, argv, console):
    value = environ.get(b"PYMAP_COMPAT") or None
    source = b"PYMAP_COMPAT"
    # --compat decides which options exist, so it is found before the real
    # parse: a quiet getopt pass with the newest release's options, so that
    # "--compat" given as another option's argument (-A --compat) is not taken
    permute = b"POSIXLY_CORRECT" not in environ
    newest = Compat()
    try:
        for key, option_value in getopt_long(argv, short_options(newest), long_options(newest), [], permute):
            if key == "--compat":
                value, source = option_value, b"--compat"
    except GetoptError:
        pass  # the real parse reports it
    if value is None:
        return Compat()
    try:
        return Compat(value.decode("ascii"))
    except (UnknownRelease, UnicodeDecodeError):
        # the value may hold any byte (a newline would break the one-line message)
        shown = value.decode("latin-1").encode("unicode_escape")
        console.fail(b"unsupported procps-ng release '%s' in %s (supported: %s)" % (
            shown, source, ", ".join(RELEASES).encode()))


def _parse_range(argument, settings, console):
    """-A LOW[,HIGH] as pmap's range_arguments(): hex, either side may be
    empty, a single value is both bounds."""
    first, comma, second = argument.partition(b",")
    if not comma:
        second = first
    first_rest = first
    second_rest = second
    if first:
        settings.range_low, used = strtoul(first, 16)
        first_rest = first[used:]
    if second:
        settings.range_high, used = strtoul(second, 16)
        second_rest = second[used:]
    if first_rest or second_rest:
        console.fail(b"failed to parse argument: '%s'" % argument)


def _parse_pid_arguments(operands, console, compat):
    pids = []
    for argument in operands:
        walk = argument
        if walk.startswith(b"/proc/"):
            walk = walk[6:]
            if not walk[:1].isdigit():
                continue
        if not walk[:1].isdigit():
            usage(console, compat)
        pid, used = strtoul(walk, 0)
        if pid < 1 or pid > 0x7FFFFFFF or used != len(walk) or b"\0" in walk:
            usage(console, compat)
        pids.append(pid)
    return pids


def parse_arguments(argv, environ, console):
    compat = _compat_from(environ, argv, console)
    if len(argv) < 2:
        usage(console, compat)
    settings = Settings()
    operands = []
    permute = b"POSIXLY_CORRECT" not in environ
    try:
        for key, value in getopt_long(argv, short_options(compat), long_options(compat), operands, permute):
            if key == "x":
                settings.x = 1
            elif key == "X":
                settings.big_x += 1
            elif key == "r":
                console.message(b"option -r is ignored as SunOS compatibility")
            elif key == "d":
                settings.d = 1
            elif key == "q":
                settings.q = 1
            elif key == "A":
                _parse_range(value, settings, console)
            elif key == "h":
                usage(console, compat, to_stdout=True)
            elif key == "V":
                console.write(b"%s from pymap %s (procps-ng %s)\n" % (
                    console.program, __version__.encode(), compat.release.encode()))
                raise Exit(EXIT_SUCCESS)
            elif key == "c":
                settings.c = 1
            elif key == "C":
                settings.big_c = 1
                settings.rc_filename = value
            elif key == "n":
                settings.n = 1
            elif key == "N":
                settings.big_n = 1
                settings.rc_filename = value
            elif key == "p":
                settings.show_path = 1
            elif key == "k":
                settings.kernel_names = True
            elif key == "--proc-root":
                settings.proc_root = value
            elif key == "--json":
                settings.json = True
            elif key == "--reconcile":
                settings.reconcile = True
            elif key == "--capture":
                settings.capture = value
            elif key == "--compat":
                pass  # read before parsing: it decides which options exist
    except GetoptError as error:
        console.raw_error(error.message)
        usage(console, compat)
    return compat, settings, operands


def run(argv, environ, console):
    compat, settings, operands = parse_arguments(argv, environ, console)
    exclusive = (settings.c + settings.big_c + settings.d + settings.n + settings.big_n + settings.x
                 + (1 if settings.big_x else 0))
    if exclusive > 1:
        console.fail(b"options -c, -C, -d, -n, -N, -x, -X are mutually exclusive")
    if (settings.json or settings.reconcile) and exclusive:
        console.fail(b"options --json, --reconcile are mutually exclusive with -c, -C, -d, -n, -N, -x, -X")
    if settings.reconcile and (settings.range_low != 0 or settings.range_high != ULONG_MAX):
        console.fail(b"option --reconcile covers the whole process: -A is not supported with it")
    if (settings.n or settings.big_n) and (settings.q or settings.show_path):
        console.fail(b"options -p, -q are mutually exclusive with -n, -N")
    if (settings.n or settings.big_n) and operands:
        console.fail(b"too many arguments")

    from . import rcfile

    if settings.big_n:
        if rcfile.create(settings.rc_filename, console):
            console.message(b"rc file successfully created, feel free to edit the content")
            return EXIT_SUCCESS
        console.fail(b"couldn't create the rc file")
    if settings.n:
        path = rcfile.default_path(environ, console)
        if path is None:
            return EXIT_FAILURE
        if rcfile.create(path, console):
            console.message(b"~/.%src file successfully created, feel free to edit the content" % console.program)
            return EXIT_SUCCESS
        console.fail(b"couldn't create ~/.%src" % console.program)

    if not operands:
        console.fail(b"argument missing")
    if settings.proc_root is not None:
        _check_proc_root(settings.proc_root, console)
    if settings.capture is not None:
        return _capture(settings, operands, console, compat)

    rc = None
    if settings.big_c:
        settings.c = 1
    if settings.c:
        path = settings.rc_filename if settings.big_c else rcfile.default_path(environ, console)
        if path is None:
            return EXIT_FAILURE
        rc = rcfile.read(path, console)
        if rc is None:
            if settings.big_c:
                console.fail(b"couldn't read the rc file")
            console.message(b"couldn't read ~/.%src" % console.program)
            return EXIT_FAILURE
        if rc.show_path_toggles % 2:
            settings.show_path = 0 if settings.show_path else 1

    pids = _parse_pid_arguments(operands, console, compat)
    if not pids or (compat.max_pids is not None and len(pids) > compat.max_pids):
        console.fail(b"library failed pids statistics")

    from .report import Reporter

    reporter = Reporter(settings, compat, console, environ, rc)
    return reporter.report(pids)


def _check_proc_root(root, console):
    """A --proc-root that is missing or not a folder is named (a typo would
    otherwise pass for processes that do not exist)."""
    import errno

    try:
        if os.path.isdir(root):
            return
        reason = os.strerror(errno.ENOTDIR) if os.path.lexists(root) else os.strerror(errno.ENOENT)
    except ValueError:  # a NUL byte
        reason = "invalid path"
    console.fail(b"--proc-root %s: %s" % (root, reason.encode()))


def _capture(settings, operands, console, compat):
    """--capture DIR PID...: save the PIDs' /proc files (see capture.py)."""
    if (settings.c or settings.big_c or settings.d or settings.x or settings.big_x
            or getattr(settings, "json", None) or getattr(settings, "reconcile", None)):
        console.fail(b"option --capture is mutually exclusive with -c, -C, -d, -x, -X, --json, --reconcile")
    pids = _parse_pid_arguments(operands, console, compat)
    if not pids:
        console.fail(b"library failed pids statistics")
    from . import capture

    root = settings.proc_root if settings.proc_root is not None else procfs.PROC
    return capture.capture(settings.capture, pids, console.message, root)


def run_guarded(argv, environ, console):
    """run() with its exits turned into a status."""
    try:
        return run(argv, environ, console)
    except Exit as leave:
        return leave.status


def run_captured(argv, environ):
    """Run pymap in this process with ``argv`` (bytes, argv[0] included) and
    a bytes ``environ``; returns (status, stdout bytes, stderr bytes)."""
    import io

    stdout, stderr = io.BytesIO(), io.BytesIO()
    console = Console(_basename(argv[0]), argv[0], stdout, stderr)
    status = run_guarded(list(argv), dict(environ), console)
    return status, stdout.getvalue(), stderr.getvalue()


def _argv_bytes():
    return [os.fsencode(argument) for argument in sys.argv]


def main(argv=None):
    """Entry point of the console script and of python -m pymap."""
    # like a C program: a closed pipe ends pymap by SIGPIPE, Ctrl-C by SIGINT
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # (Python leaves an inherited SIG_IGN in place: nohup and background
    # jobs of a script ignore SIGINT, and so does pmap there)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if argv is None:
        argv = _argv_bytes()
    argv = list(argv)
    argv0 = _program_argv0(argv)
    if argv:
        argv[0] = argv0
    else:
        argv = [argv0]
    stdout = getattr(sys.stdout, "buffer", None) if sys.stdout is not None else None
    stderr = getattr(sys.stderr, "buffer", None) if sys.stderr is not None else None
    console = Console(_basename(argv0), argv0, stdout, stderr)
    from .escape import original_environment

    try:
        status = run_guarded(argv, original_environment(), console)
    except OSError as error:  # stdout could not be written
        return _write_error(console, error)
    try:
        if stdout is not None:
            stdout.flush()
    except OSError as error:
        return _write_error(console, error)
    except ValueError:
        pass
    return status


def _write_error(console, error):
    """procps's close_stdout(): a failed write of stdout is an error."""
    if console.stderr is not None:
        try:
            console.stderr.write(b"%s: write error: %s\n" % (
                console.program, (error.strerror or str(error)).encode()))
            console.stderr.flush()
        except OSError:
            pass
    _discard_stdout()
    return EXIT_FAILURE


def _discard_stdout():
    """Point fd 1 at /dev/null: the unwritten bytes still sit in sys.stdout's
    buffer, and Python's own flush at exit would fail again and print a
    traceback-like complaint (and exit 120) after the one message pmap prints."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass


def console_main():
    sys.exit(main())
