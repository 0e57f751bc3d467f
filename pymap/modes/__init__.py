"""The modes, in one table, and the contract a mode's class follows.

MODES says which option selects each mode, which module does the work, and
what it goes with.  The command line (command/cli.py) decides the mode from
this table (and words pymap's own exclusion messages from it) and makes a
Request, what one command asks for; command/run.py loads the mode's class
and runs it.  A mode's class follows OutputMode's contract.  Adding a mode
is one module in this package and one entry here (README, "Adding a mode").
"""

from ..errors import EXIT_NOT_FOUND, EXIT_SUCCESS

__all__ = ["Mode", "MODES", "OutputMode", "mode_named", "selected_modes", "exclusion_message"]


class Mode:
    """One output mode.

    ``name`` is the Request's mode, ``options`` the options that
    select it (as the exclusion messages name them: "-x", "--json"),
    ``target`` "module:Class" of its implementation, a module of this
    package (loaded on use),
    ``pmap`` whether pmap has it (pmap's own exclusion message covers those),
    ``takes_pids`` whether it shows processes, ``with_json`` whether
    --json gives its output as JSON instead of being a mode of its own,
    ``refuses`` {option: message} for options it cannot honour,
    ``sort_keys`` the keys --sort takes with it (the first is the default;
    none: --sort does not go with it), ``groups`` the groupings --by takes
    with it (the first is the default), ``own_options`` the options that go
    with this mode alone, ``all_pids`` whether it shows every process when
    no PID is given, ``pid_limit`` whether pmap's limit on the number of
    PIDs applies."""

    __slots__ = ("name", "options", "target", "pmap", "takes_pids", "with_json", "refuses", "sort_keys", "groups",
                 "own_options", "all_pids", "pid_limit")

    def __init__(self, name, options, target, pmap=False, takes_pids=True, with_json=False, refuses=None,
                 sort_keys=(), groups=(), own_options=(), all_pids=False, pid_limit=True):
        self.name = name
        self.options = options
        self.target = target
        self.pmap = pmap
        self.takes_pids = takes_pids
        self.with_json = with_json
        self.refuses = refuses or {}
        self.sort_keys = sort_keys
        self.groups = groups
        self.own_options = own_options
        self.all_pids = all_pids
        self.pid_limit = pid_limit

    def load(self):
        """The class that implements the mode (importlib itself is not
        imported: it costs a millisecond at start-up)."""
        module, _, name = self.target.partition(":")
        package = __import__(__name__ + "." + module, fromlist=[name])
        return getattr(package, name)

    def __repr__(self):
        return "Mode(%r)" % self.name


MODES = (
    Mode("default", (), "listing:ListingMode", pmap=True),
    Mode("extended", ("-x",), "listing:ListingMode", pmap=True),
    Mode("device", ("-d",), "listing:ListingMode", pmap=True),
    Mode("table", ("-c", "-C", "-X"), "table:TableMode", pmap=True),
    Mode("create-rc", ("-n", "-N"), "create_rc:CreateRcMode", pmap=True, takes_pids=False),
    Mode("json", ("--json",), "json_lines:JsonMode"),
    Mode("reconcile", ("--reconcile",), "reconcile:ReconcileMode", with_json=True,
         refuses={"-A": b"option --reconcile covers the whole process: -A is not supported with it"}),
    Mode("capture", ("--capture",), "capture:CaptureMode", pid_limit=False),
    Mode("diff", ("--diff",), "diff:DiffMode", with_json=True,
         sort_keys=("address", "kbytes", "rss", "dirty", "anon", "swap")),
    Mode("summary", ("--summary",), "summary:SummaryMode", with_json=True,
         refuses={"-A": b"option --summary covers whole processes: -A is not supported with it"},
         sort_keys=("pss", "rss", "uss", "swap", "oom", "pid", "command"),
         groups=("process", "program", "user", "mapping", "cgroup", "role"),
         own_options=("--by", "--bars", "--wide", "--cgroup", "--openmetrics", "--textfile"), all_pids=True,
         pid_limit=False),
    Mode("oom-report", ("--oom-report",), "oom_report:OomReportMode", takes_pids=False, with_json=True,
         refuses={"-A": b"option --oom-report reads a kernel log: -A is not supported with it",
                  "--proc-root": b"option --oom-report reads a kernel log, not a snapshot: name a saved log as "
                                 b"--oom-report=FILE"}),
)

_BY_NAME = {mode.name: mode for mode in MODES}


def mode_named(name):
    return _BY_NAME[name]


def selected_modes(given):
    """The modes the set ``given`` of option names ("-x", "--json", ...)
    selects, in the table's order; --json counts as a mode only when no
    mode that it turns into JSON is given."""
    chosen = [mode for mode in MODES if mode.options and any(option in given for option in mode.options)]
    if any(mode.with_json for mode in chosen):
        chosen = [mode for mode in chosen if mode.name != "json"]
    return chosen or [_BY_NAME["default"]]


def exclusion_message(mode, chosen):
    """pymap's message for its own mode ``mode`` given with other modes:
    the options of every other mode but pmap's -n and -N."""
    others = []
    for other in MODES:
        if other is mode or (other.pmap and not other.takes_pids):  # (pmap's own message covers -n, -N)
            continue
        if (mode.with_json and other.name == "json") or (mode.name == "json" and other.with_json):
            continue  # they go together
        others.extend(other.options)
    flat = sorted(others, key=_option_order)
    return b"option %s is mutually exclusive with %s" % (mode.options[0].encode(), ", ".join(flat).encode())


def _option_order(option):
    """Short options first, in pmap's message order (-c, -C, -d, -n, -N,
    -x, -X), then pymap's long ones in the table's order."""
    if option.startswith("--"):
        return (1, [option in mode.options for mode in MODES].index(True))
    return (0, option[1].lower(), option[1].isupper())


class OutputMode:
    """The contract of an output mode.

    command/run.py makes one instance for the command with its Context
    and calls ``run(pids)``, which returns the exit status bits.  The usual
    ``run`` selects each PID as procps does (a PID that counts as not found
    adds 42) and calls ``show(process)`` for each: it writes through
    ``context.console`` and returns 0, or 1 when the process could not be
    read.  ``finish()`` follows the last process.  A mode reads only
    through ``context.root`` (the source layer).  A mode that fails as pmap
    fails (printing a message and exiting 1) raises errors.Failure."""

    def __init__(self, context):
        self.context = context

    @classmethod
    def check(cls, request, operands):
        """What is wrong with ``request`` for this mode, beyond what its
        table entry says: None, or (message, whether it is one of pmap's
        messages) -- the command line says it and exits 1."""
        return None

    def run(self, pids):
        context = self.context
        status = 0
        missing = 0
        for pid in pids:
            process = context.select(pid)
            if process is None:
                missing += 1
                continue
            status |= self.show(process)
        status |= self.finish()
        return status | (EXIT_NOT_FOUND if missing else 0)

    def show(self, process):
        raise NotImplementedError

    def finish(self):
        return EXIT_SUCCESS
