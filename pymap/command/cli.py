"""The pymap command: pmap's options, messages and exit statuses.

The order of checks follows pmap's main(): options as getopt returns them
(options.OPTIONS says what each does to the Request), then the mutual
exclusions and each mode's own checks, the rc file, the PID arguments; then
the Request goes to run.run().  Every message is one line "NAME: ..." on
stderr, where NAME is the basename of argv[0], as pmap's
program_invocation_short_name.
"""

import os
try:
    import _signal as signal  # what signal wraps: importing signal costs enum at start-up
except ImportError:  # pragma: no cover
    import signal
import sys

from .. import __version__
from ..compat import RELEASES, Compat, UnknownRelease
from ..errors import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_SUCCESS, Exit, Failure
from ..parse.c_rules import strtoul
from .options import OPTION_BY_KEY, GetoptError, getopt_long, long_options, short_options, usage_text


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
    text = usage_text(console.program, compat, console.translate)
    if to_stdout:
        console.write(text)
        raise Exit(EXIT_SUCCESS)
    console.raw_error(text)
    raise Exit(EXIT_FAILURE)


def fail(console, msgid, *arguments, status=EXIT_FAILURE):
    """pmap's errx(): one of its messages, in the user's language, then exit."""
    console.pmap_message(msgid, *arguments)
    raise Exit(status)


def fail_own(console, text, status=EXIT_FAILURE):
    """A message of pymap's own (in English), then exit."""
    console.message(text)
    raise Exit(status)


def _prescan(argv, environ):
    """(--compat's value or None, whether --summary is given): both decide
    which options exist, so they are found before the real parse, by a
    quiet getopt pass with every option, so that one given as another
    option's argument (-A --compat) is not taken."""
    permute = b"POSIXLY_CORRECT" not in environ
    newest = Compat()
    compat = None
    summary = False
    try:
        for key, option_value in getopt_long(argv, short_options(newest, summary=True), long_options(newest), [],
                                             permute):
            if key == "--compat":
                compat = option_value
            elif key == "--summary":
                summary = True
    except GetoptError:
        pass  # the real parse reports it
    return compat, summary


def _compat_from(environ, argv, console, installed, given=None):
    """The release pymap follows: --compat (``given``), else PYMAP_COMPAT,
    else the installed pmap's (compat.installed_pmap), else main."""
    value = environ.get(b"PYMAP_COMPAT") or None
    source = b"PYMAP_COMPAT"
    if given is not None:
        value, source = given, b"--compat"
    if value is None:
        if installed is None:
            return Compat(source=b"no procps-ng pmap is installed")
        note = None
        if installed.note:
            note = b"%s is procps-ng %s, %s: following %s" % (installed.path, installed.version,
                                                            installed.note.encode(), installed.release.encode())
        return Compat(installed.release, b"as " + installed.path, note, installed.version)
    try:
        return Compat(value.decode("ascii"), b"from " + source)
    except (UnknownRelease, UnicodeDecodeError):
        # the value may hold any byte (a newline would break the one-line message)
        shown = value.decode("latin-1").encode("unicode_escape")
        fail_own(console, b"unsupported procps-ng release '%s' in %s (supported: %s)" % (
            shown, source, ", ".join(RELEASES).encode()))


def _parse_range(argument, current, console):
    """-A LOW[,HIGH] as pmap's range_arguments(): hex, either side may be
    empty (that bound stays as it was), a single value is both bounds."""
    first, comma, second = argument.partition(b",")
    if not comma:
        second = first
    low, high = current
    first_rest = first
    second_rest = second
    if first:
        low, used = strtoul(first, 16)
        first_rest = first[used:]
    if second:
        high, used = strtoul(second, 16)
        second_rest = second[used:]
    if first_rest or second_rest:
        fail_own(console, b"%s: '%s'" % (console.pmap_text(b"failed to parse argument"), argument))
    return low, high


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


def parse_arguments(argv, environ, console, installed=None):
    """(compat, {Request field: value}, the options given, operands) of
    argv, acting on -h, -V, -r and -A at once as pmap does; ``installed``
    is the installed pmap (or None)."""
    given_compat, summary = _prescan(argv, environ)
    compat = _compat_from(environ, argv, console, installed, given_compat)
    console.flushing_messages = compat.messages_flush_stdout
    if len(argv) < 2:
        usage(console, compat)
    values = {}
    given = set()
    operands = []
    permute = b"POSIXLY_CORRECT" not in environ
    try:
        for key, value in getopt_long(argv, short_options(compat, summary), long_options(compat), operands,
                                      permute):
            spec = OPTION_BY_KEY[key]
            action = spec.action
            if action == "help":
                usage(console, compat, to_stdout=True)
            elif action == "version":
                _version(console, compat)
            elif action == "warn":
                console.pmap_message(b"option -r is ignored as SunOS compatibility")
            elif action == "range":
                values[spec.dest] = _parse_range(value, values.get(spec.dest, spec.default), console)
            elif action == "count":
                values[spec.dest] = values.get(spec.dest, spec.default) + 1
            elif action == "flag":
                values[spec.dest] = True
            elif action == "store":
                values[spec.dest] = value
            elif action == "text":
                values[spec.dest] = value.decode("latin-1")
            if action != "compat":  # (read before parsing: it decides which options exist)
                given.add(spec.given_name)
    except GetoptError as error:
        console.raw_error(error.text(console.translate_libc))
        usage(console, compat)
    return compat, values, given, operands


def _version(console, compat):
    """-V: through a link named pmap, pmap's own line (which scripts parse);
    under pymap's name, which release it follows, and why."""
    if console.program == b"pmap":
        console.write(console.pmap_text(b"%s from %s\n", console.program, b"procps-ng " + compat.version))
    else:
        console.write(b"%s from pymap %s (procps-ng %s, %s)\n" % (
            console.program, __version__.encode(), compat.release.encode(), compat.source))
        if compat.note:
            console.message(compat.note)
    raise Exit(EXIT_SUCCESS)


def _check_exclusions(given, values, console):
    """pmap's mutual exclusions, then pymap's for its own modes and what
    each mode's table entry says; the chosen modes.Mode."""
    from ..modes import MODES, exclusion_message, selected_modes

    pmap_modes = sum(option in given for option in ("-c", "-C", "-d", "-n", "-N", "-x", "-X"))
    if pmap_modes > 1:
        fail(console, b"options -c, -C, -d, -n, -N, -x, -X are mutually exclusive")
    chosen = selected_modes(given)
    own = [mode for mode in chosen if not mode.pmap]
    if own and len(chosen) > 1:
        fail_own(console, exclusion_message(own[0], chosen))
    mode = chosen[0]
    for option, message in mode.refuses.items():
        if option in given:
            fail_own(console, message)
    sort = values.get("sort")
    if sort is not None:
        if not mode.sort_keys:
            fail_own(console, b"option --sort goes with %s" % b" or ".join(
                other.options[0].encode() for other in MODES if other.sort_keys))
        if sort not in mode.sort_keys:
            fail_own(console, b"--sort: '%s' is not one of %s" % (sort.encode("unicode_escape"),
                                                                 ", ".join(mode.sort_keys).encode()))
    for other in MODES:
        if other is not mode:
            for option in other.own_options:
                if option in given:
                    fail_own(console, b"option %s goes with %s" % (option.encode(), other.options[0].encode()))
    group = values.get("group_by")
    if group is not None and group not in mode.groups:
        fail_own(console, b"--by: '%s' is not one of %s" % (group.encode("unicode_escape"),
                                                           ", ".join(mode.groups).encode()))
    return mode


def run(argv, environ, console):
    """pmap's main() for ``argv`` (bytes): the exit status."""
    from ..compat import installed_pmap
    from ..language import from_environment
    from .options import Request

    installed = installed_pmap(environ)
    language = from_environment(environ)  # nls_initialize(): setlocale(LC_ALL, ""), the catalogs
    if installed is not None and installed.localedir:
        language.localedirs[b"procps-ng"] = installed.localedir
    console.translate = language.translate(b"procps-ng")
    console.translate_libc = language.translate(b"libc")
    if console.stdout.buffering == "line":  # a terminal: names never reach it raw
        from ..escape import terminal_safe

        utf8 = language.codeset.upper() in (b"UTF-8", b"UTF8")
        console.terminal = lambda data: terminal_safe(data, utf8)
    compat, values, given, operands = parse_arguments(argv, environ, console, installed)
    mode = _check_exclusions(given, values, console)
    fields = dict(values, mode=mode.name, compat=compat, program=console.program, environ=environ,
                  language=language, given=frozenset(given))
    mode_class = mode.load() if mode.target is not None else None
    if mode_class is not None:
        _checked(mode_class.check(Request(**fields), operands), console)
    if not mode.takes_pids:  # (-n, -N: before the PIDs and the rc file are looked at)
        return _run(Request(**fields), console)

    if not operands and not mode.all_pids:
        fail(console, b"argument missing")
    for option, folder in ((b"--proc-root", values.get("proc_root")), (b"--diff", values.get("diff_before"))):
        if folder is not None:
            _check_proc_root(folder, console, option)

    if "-c" in given or "-C" in given:
        from ..emulate import rcfile

        path = values.get("rc_path") if "-C" in given else rcfile.default_path(environ, console)
        if path is None:
            return EXIT_FAILURE
        rc = rcfile.read(path, console)
        if rc is None:
            if "-C" in given:
                fail(console, b"couldn't read the rc file")
            console.pmap_message(b"couldn't read ~/.%src", console.program)
            return EXIT_FAILURE
        fields["rc"] = rc
        if rc.show_path_toggles % 2:
            fields["show_path"] = not values.get("show_path", False)

    pids = _parse_pid_arguments(operands, console, compat)
    limit = compat.max_pids if mode.pid_limit else None
    if not pids and operands and not compat.no_pid_fails:
        return EXIT_SUCCESS  # (3.3: /proc/self alone selects nothing, silently)
    if (not pids and (operands or not mode.all_pids)) or (limit is not None and len(pids) > limit):
        fail(console, b"library failed pids statistics")
    fields.update(pids=tuple(pids), snapshot=values.get("proc_root") is not None)
    return _run(Request(**fields), console)


def _checked(problem, console):
    """A mode's own check (its class's check()): None, or (message, pmap's)
    where pmap's says it is one of pmap's messages (in the user's language)."""
    if problem is not None:
        message, pmaps = problem
        if pmaps:
            fail(console, message)
        fail_own(console, message)


def _run(request, console):
    from .run import run as run_request

    try:
        return run_request(request, console)
    except Failure as failure:
        fail_own(console, failure.message)


def _check_proc_root(root, console, option=b"--proc-root"):
    """A --proc-root (or --diff) folder that cannot be used is named at
    once.  Missing or not a folder: none of the PIDs can be found there
    (status 42), and a typo must not pass for processes that are gone.
    There but not readable (another user's capture): its processes may be
    there, they cannot be read (status 1)."""
    from ..source import root_problem

    problem = root_problem(root)
    if problem is not None:
        denied, reason = problem
        fail_own(console, b"%s %s: %s" % (option, root, reason.encode()), EXIT_FAILURE if denied else EXIT_NOT_FOUND)


def run_guarded(argv, environ, console):
    """run() with its exits turned into a status, and procps's
    close_stdout() at the end."""
    try:
        status = run(argv, environ, console)
    except Exit as leave:
        status = leave.status
    return console.close(status)


def _console(program, stdout_sink, stderr_sink, buffering):
    from ..output import Console, StdioStream

    return Console(program, StdioStream(stdout_sink, *buffering), StdioStream(stderr_sink, "unbuffered", 1))


def run_captured(argv, environ):
    """Run pymap in this process with ``argv`` (bytes, argv[0] included) and
    a bytes ``environ``; returns (status, stdout bytes, stderr bytes).
    stdout is buffered as on a pipe."""
    import io

    stdout, stderr = io.BytesIO(), io.BytesIO()
    argv = list(argv)
    console = _console(_basename(argv[0]), stdout.write, stderr.write, ("full", 4096))
    status = run_guarded(argv, dict(environ), console)
    return status, stdout.getvalue(), stderr.getvalue()


def _argv_bytes():
    return [os.fsencode(argument) for argument in sys.argv]


def main(argv=None, sigpipe_ignored=False):
    """Entry point of the launcher and of python -m pymap.  ``sigpipe_ignored``:
    pymap was started with SIGPIPE ignored (the launcher knows; Python
    itself hides it), so a closed pipe is an error pymap ignores, as pmap."""
    # like a C program: a closed pipe ends pymap by SIGPIPE, Ctrl-C by SIGINT
    if not sigpipe_ignored:
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
    from ..output import StdioStream
    from ..source import original_environment

    environ = original_environment()
    stdout = StdioStream.for_fd(1)
    console = _console(_basename(argv0), stdout.sink, _stderr_sink, (stdout.buffering, stdout.size))
    return run_guarded(argv, environ, console)


def _stderr_sink(data):
    return os.write(2, data)


def launch(arguments):
    """The launcher's entry point (bin/pymap-python): ``arguments`` is its
    sys.argv; after "--from-launcher", whether SIGPIPE was ignored and the
    name pymap was run as come from the shell half (bin/pymap)."""
    sigpipe_ignored = False
    if len(arguments) >= 4 and arguments[1] == "--from-launcher":
        sigpipe_ignored = arguments[2] == "ignored"
        arguments = arguments[3:]
    return main([os.fsencode(argument) for argument in arguments], sigpipe_ignored)


def launch_and_exit(arguments):
    """launch(), then os._exit() with its status (bin/pymap-python).  pymap
    has written its output with os.write() and flushed it, reporting a
    failed write, as procps's close_stdout() does: the interpreter's
    finalization, a fifth of a small run, would change nothing but the
    time.  Python's own streams hold nothing of pymap's; they are flushed
    all the same."""
    status = launch(arguments)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # None (its fd was closed at start), a closed pipe
            pass
    os._exit(status)
