"""The output modes, in one table, and the Invocation that names one.

MODES says which option selects each mode, which module does the work, and
what it goes with.  cli.py decides the mode from this table (and words
pymap's own exclusion messages from it) and makes an Invocation, what one
command asks for; report.py loads the mode's class and runs it.  A mode's
class follows the contract of formats.OutputMode.  Adding a mode is one
module and one entry here (README, "Adding an output mode").
"""

__all__ = ["Mode", "MODES", "mode_named", "selected_modes", "exclusion_message", "Invocation"]


class Mode:
    """One output mode.

    ``name`` is the key of the Invocation, ``options`` the options that
    select it (as the exclusion messages name them: "-x", "--json"),
    ``target`` "module:Class" of its implementation (loaded on use; None
    for -n/-N, which cli.py carries out before any process is read),
    ``pmap`` whether pmap has it (pmap's own exclusion message covers those),
    ``takes_pids`` whether it shows processes, ``with_json`` whether
    --json gives its output as JSON instead of being a mode of its own,
    ``refuses`` {option: message} for options it cannot honour,
    ``sort_keys`` the keys --sort takes with it (the first is the default;
    none: --sort does not go with it), ``groups`` the groupings --by takes
    with it (the first is the default), ``all_pids`` whether it shows every
    process when no PID is given, ``pid_limit`` whether pmap's limit on the
    number of PIDs applies."""

    __slots__ = ("name", "options", "target", "pmap", "takes_pids", "with_json", "refuses", "sort_keys", "groups",
                 "all_pids", "pid_limit")

    def __init__(self, name, options, target, pmap=False, takes_pids=True, with_json=False, refuses=None,
                 sort_keys=(), groups=(), all_pids=False, pid_limit=True):
        self.name = name
        self.options = options
        self.target = target
        self.pmap = pmap
        self.takes_pids = takes_pids
        self.with_json = with_json
        self.refuses = refuses or {}
        self.sort_keys = sort_keys
        self.groups = groups
        self.all_pids = all_pids
        self.pid_limit = pid_limit

    def load(self):
        """The class that implements the mode (importlib itself is not
        imported: it costs a millisecond at start-up)."""
        module, _, name = self.target.partition(":")
        package = __import__(__package__ + module, fromlist=[name])
        return getattr(package, name)

    def __repr__(self):
        return "Mode(%r)" % self.name


MODES = (
    Mode("default", (), ".formats.listing:ListingMode", pmap=True),
    Mode("extended", ("-x",), ".formats.listing:ListingMode", pmap=True),
    Mode("device", ("-d",), ".formats.listing:ListingMode", pmap=True),
    Mode("table", ("-c", "-C", "-X"), ".formats.table:TableMode", pmap=True),
    Mode("create-rc", ("-n", "-N"), None, pmap=True, takes_pids=False),  # cli.py writes the rc file
    Mode("json", ("--json",), ".formats.json_lines:JsonMode"),
    Mode("reconcile", ("--reconcile",), ".formats.reconcile:ReconcileMode", with_json=True,
         refuses={"-A": b"option --reconcile covers the whole process: -A is not supported with it"}),
    Mode("capture", ("--capture",), ".capture:CaptureMode", pid_limit=False),
    Mode("diff", ("--diff",), ".formats.diff:DiffMode", with_json=True,
         sort_keys=("address", "kbytes", "rss", "dirty", "anon", "swap")),
    Mode("summary", ("--summary",), ".formats.summary:SummaryMode", with_json=True,
         refuses={"-A": b"option --summary covers whole processes: -A is not supported with it"},
         sort_keys=("pss", "rss", "uss", "swap", "oom", "pid", "command"),
         groups=("process", "program", "user", "mapping"), all_pids=True, pid_limit=False),
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
    the options of every other mode that shows processes."""
    others = []
    for other in MODES:
        if other is mode or not other.takes_pids:
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


class Invocation:
    """The mode (a key of modes.MODES), its options, the PIDs and the
    release: frozen once made.

    ``program`` is the name messages start with (bytes), ``environ`` the
    environment pmap would have seen (bytes to bytes), ``language`` the
    user's (language.Language; None: English, C locale), ``table_level`` the
    number of -X (0 for -c/-C), ``rc`` the rc file's RcConfig (-c/-C),
    ``show_path`` -p after the rc file's ShowPath toggles, ``proc_root``
    the /proc to read (b"/proc" unless --proc-root), ``json`` whether --json
    was given, ``capture_dir`` --capture's folder, ``diff_before`` --diff's
    folder, ``sort`` --sort's key (None: the mode's own order),
    ``group_by`` --by's grouping, ``bars`` whether --bars was given, ``wide``
    whether --wide (-w) was given."""

    __slots__ = ("mode", "compat", "program", "environ", "language", "pids", "quiet", "show_path", "kernel_names",
                 "range_low", "range_high", "table_level", "rc", "proc_root", "snapshot", "json", "capture_dir",
                 "diff_before", "sort", "group_by", "bars", "wide")

    _DEFAULTS = {"pids": (), "quiet": False, "show_path": False, "kernel_names": False, "range_low": 0,
                 "range_high": (1 << 64) - 1, "table_level": 0, "rc": None, "proc_root": b"/proc",
                 "snapshot": False, "json": False, "capture_dir": None, "environ": {}, "language": None,
                 "diff_before": None, "sort": None, "group_by": None, "bars": False, "wide": False}

    def __init__(self, mode, compat, program, **values):
        unknown = set(values) - set(self.__slots__)
        if unknown:
            raise TypeError("unknown Invocation fields: %s" % ", ".join(sorted(unknown)))
        setter = object.__setattr__
        setter(self, "mode", mode)
        setter(self, "compat", compat)
        setter(self, "program", program)
        for name, default in self._DEFAULTS.items():
            setter(self, name, values.get(name, default))

    def __setattr__(self, name, value):
        raise AttributeError("an Invocation is frozen")

    def __repr__(self):
        return "Invocation(%r, %r, pids=%r)" % (self.mode, self.compat.release, self.pids)
