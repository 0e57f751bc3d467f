"""pymap's options: pmap's, with glibc getopt_long semantics, and pymap's own.

OPTIONS is the one description of every option.  The command line parses
with getopt_long() below (glibc's behaviour, messages included); the man
page is generated from build_parser(), an argparse.ArgumentParser made from
the same table, and a test keeps the two in agreement.

The Request: what one command asks for, frozen once made.  Its fields are
the fixed ones below and one per option that has a ``dest`` (with that
option's default when it is not given), so a new option is its spec alone:
no list of fields is copied by hand.

Fixed fields: ``mode`` (a name of modes.MODES), ``compat`` (the release
followed, compat.Compat), ``program`` (the name messages start with,
bytes), ``environ`` (the environment pmap would have seen, bytes to bytes),
``language`` (language.Language; None: English, the C locale), ``pids``,
``rc`` (the rc file's RcConfig, -c/-C), ``given`` (the options given, as
the exclusion messages write them: "-x", "--json"), ``snapshot`` (whether
``proc_root`` is a snapshot).  Derived: ``proc_root`` is b"/proc" unless
--proc-root; ``show_path`` is -p after the rc file's ShowPath toggles;
``range_low`` and ``range_high`` are -A's bounds.
"""

__all__ = ["OPTIONS", "OPTION_BY_KEY", "REQUEST_FIELDS", "SHORT_OPTIONS", "long_options", "usage_text",
           "build_parser", "LongOption", "GetoptError", "getopt_long", "Request", "NO_ARGUMENT", "REQUIRED_ARGUMENT",
           "OPTIONAL_ARGUMENT"]

# getopt_long's has_arg values (getopt.h)
NO_ARGUMENT, REQUIRED_ARGUMENT, OPTIONAL_ARGUMENT = 0, 1, 2


class OptionSpec:
    """One option: its short letter (or None), long name (or None), the
    name of its argument (or None), its help text (the man page's), whether
    it is pmap's or pymap's own, the first procps release that has it, its
    lines in pmap's usage text (each a msgid of pmap's catalog), for
    pymap's own its line in --help (pmap's terse style) and any ``more``
    lines under it; and what it does
    to the Request: ``dest``, the Request field it sets (None: it only
    selects a mode, or acts at once), ``action`` ("flag": True, "count": one
    more each time, "store": the argument as given, "text": the argument as
    a str, or one the command line carries out at once: "help", "version",
    "range", "warn"), and ``default``, the field's value when the option is
    not given; ``optional`` says its argument may be left out (getopt's
    optional_argument: given only as --long=ARG; --long alone stores None)."""

    __slots__ = ("short", "long", "metavar", "help", "pymap_only", "since", "usage", "brief", "more", "dest",
                 "action", "default", "optional")

    def __init__(self, short, long, metavar, help, pymap_only=False, since=None, usage=(), brief=None, more=(),
                 dest=None, action=None, default=None, optional=False):
        self.short = short
        self.long = long
        self.metavar = metavar
        self.help = help
        self.pymap_only = pymap_only
        self.since = since
        self.usage = usage
        self.brief = brief
        self.more = more
        self.dest = dest
        self.action = action
        self.default = default
        self.optional = optional

    @property
    def has_arg(self):
        """getopt_long's has_arg for it."""
        if self.metavar is None:
            return NO_ARGUMENT
        return OPTIONAL_ARGUMENT if self.optional else REQUIRED_ARGUMENT

    @property
    def key(self):
        """What getopt_long() returns for it: the letter, or "--long" for
        one of pymap's own."""
        return self.short if self.short else "--" + self.long

    @property
    def given_name(self):
        """How the exclusion messages write it: "-x", "--json"."""
        return "-" + self.short if self.short else "--" + self.long


# in the order of pmap's usage text
OPTIONS = (
    OptionSpec("x", "extended", None, "Show the extended format.",
               usage=(b" -x, --extended              show details\n",)),
    OptionSpec("X", None, None, dest="table_level", action="count", default=0, help="Show even more details than the -x option. WARNING: format changes "
               "according to /proc/PID/smaps. Given twice, -XX: show everything the kernel provides.",
               usage=(b" -X                          show even more details\n",
                      b"            WARNING: format changes according to /proc/PID/smaps\n",
                      b" -XX                         show everything the kernel provides\n")),
    OptionSpec("c", "read-rc", None, "Read the default configuration.",
               usage=(b" -c, --read-rc               read the default rc\n",)),
    OptionSpec("C", "read-rc-from", "file", "Read the configuration from file.", dest="rc_path", action="store",
               usage=(b" -C, --read-rc-from=<file>   read the rc from file\n",)),
    OptionSpec("n", "create-rc", None, "Create new default configuration.",
               usage=(b" -n, --create-rc             create new default rc\n",)),
    OptionSpec("N", "create-rc-to", "file", "Create new configuration to file.", dest="rc_path", action="store",
               usage=(b" -N, --create-rc-to=<file>   create new rc to file\n",
                      b"            NOTE: pid arguments are not allowed with -n, -N\n")),
    OptionSpec("d", "device", None, "Show the device format.",
               usage=(b" -d, --device                show the device format\n",)),
    OptionSpec("q", "quiet", None, "Do not display some header or footer lines.", dest="quiet", action="flag",
               default=False,
               usage=(b" -q, --quiet                 do not display header and footer\n",)),
    OptionSpec("p", "show-path", None, "Show full path to files in the mapping column.", dest="show_path",
               action="flag", default=False,
               usage=(b" -p, --show-path             show path in the mapping\n",)),
    OptionSpec("k", "use-kernel-name", None, "Use the names the kernel provides for mappings (procps-ng 4.0.6 and "
               "later; an invalid option, as in pmap, when pymap follows an earlier release).", since="4.0.6",
               dest="kernel_names", action="flag", default=False,
               usage=(b" -k, --use-kernel-name       use names provided by kernel\n",)),
    OptionSpec("A", "range", "low[,high]", "Limit results to the given range to low and high address "
               "range. Notice that the low and high arguments are single string separated with comma.",
               dest="address_range", action="range", default=(0, (1 << 64) - 1),
               usage=(b" -A, --range=<low>[,<high>]  limit results to the given range\n",)),
    OptionSpec("r", None, None, "Ignored, for SunOS compatibility (with a warning).", action="warn"),
    OptionSpec("h", "help", None, "Display help text and exit.", action="help",
               usage=(b" -h, --help     display this help and exit\n",)),
    OptionSpec("V", "version", None, "Display version information and exit.", action="version",
               usage=(b" -V, --version  output version information and exit\n",)),
    OptionSpec(None, "proc-root", "dir",
               "Read DIR/PID/... instead of /proc/PID/... (a snapshot of /proc).", pymap_only=True, dest="proc_root",
               action="store",
               brief="read a snapshot of /proc from dir"),
    OptionSpec(None, "capture", "dir",
               "Save what pmap reads of each PID (cmdline, comm, stat, status, maps, smaps, smaps_rollup) "
               "under DIR/PID/, for a later --proc-root DIR; never overwrites a file.", pymap_only=True,
               dest="capture_dir", action="store",
               brief="save what pmap reads of each pid under dir"),
    OptionSpec(None, "compat", "version",
               "Emulate this procps-ng release: 3.3.15, 3.3.16, 3.3.17, 4.0.2 to 4.0.6, or main (overrides "
               "PYMAP_COMPAT).",
               pymap_only=True, brief="behave as this procps-ng release", action="compat"),
    OptionSpec(None, "json", None,
               "Print one JSON object per process per line (JSON Lines): every mapping with its smaps "
               "fields in kB, pmap's label and its role (heap, stack, thread_stack, guard, malloc_arena, "
               "malloc_mmap, file, anon...), and the totals.", pymap_only=True, dest="json", action="flag",
               default=False,
               brief="print each process as a line of JSON"),
    OptionSpec(None, "diff", "before",
               "Show what changed in each process since the capture BEFORE (a folder written by --capture): "
               "the mappings that appeared (+), went away (-) or changed (~), with the deltas of Kbytes, RSS, "
               "Dirty, Anon and Swap, then the totals' deltas; the later side is the live process, or the "
               "snapshot given with --proc-root (as JSON Lines with --json).", pymap_only=True,
               dest="diff_before", action="store",
               brief="show what changed since the capture before"),
    OptionSpec(None, "sort", "key",
               "Order --diff's rows by the growth of kbytes, rss, dirty, anon or swap, largest first "
               "(default: address); --summary's by pss (the default), rss, uss or swap, largest first, by pid "
               "or command, or by oom: as the kernel's OOM killer ranks them (oom_badness(), in the scope of "
               "the machine, or of --cgroup's limit), the process it would kill first, with each one's badness; "
               "--by=cgroup's rows come by the cgroup's charge unless sorted by the processes' sums.",
               pymap_only=True, brief="order --diff's or --summary's rows by key:", dest="sort", action="text"),
    OptionSpec(None, "summary", None,
               "Show who uses the memory: one row per process (every process when no PID is given), with RSS, "
               "PSS, USS, swap, the anon/file/shmem split of RSS, oom_score and oom_score_adj, sorted by PSS, "
               "and the totals, with where the machine's memory is (/proc/meminfo: the processes' own and shared "
               "pages, page cache and shmem no process maps, the kernel's, free) (as JSON Lines with --json).",
               pymap_only=True,
               brief="show the memory of every process, or of each pid"),
    OptionSpec(None, "by", "group",
               "Group --summary's rows by program, user, mapping (the mapped files across processes), cgroup "
               "(each memory cgroup that holds processes: its charge, limit, the charge's parts from "
               "memory.stat, what no process has in its RSS, its OOM kills, and the container, unit or pod it "
               "is) or role (what each mapping is for: heap, malloc arenas, thread stacks, files... across "
               "processes), or show each process (the default).", pymap_only=True,
               brief="group --summary's rows by group:", dest="group_by", action="text"),
    OptionSpec(None, "cgroup", "path",
               "With --summary: only the processes in this memory cgroup and below it; PATH as /proc/PID/cgroup "
               "writes it (/system.slice/nginx.service), or its folder under the cgroup mount "
               "(/sys/fs/cgroup/system.slice/nginx.service). --sort=oom then ranks them for an OOM of the "
               "cgroup's limit, and the totals are reconciled with its memory.stat.", pymap_only=True,
               brief="with --summary: only the processes of this cgroup", dest="cgroup", action="store"),
    OptionSpec(None, "bars", None, "Show each row's share of the total as a bar (--summary).", pymap_only=True,
               brief="show each row's share as a bar", dest="bars", action="flag", default=False),
    OptionSpec(None, "wide", None,
               "Never cut --summary's rows: on a terminal they are cut to its width (COLUMNS, else the "
               "terminal's own), as ps cuts them; to a pipe or a file they are whole. -w is the same, with "
               "--summary.", pymap_only=True, brief="with --summary: never cut the rows (also -w)", dest="wide",
               action="flag", default=False),
    OptionSpec(None, "openmetrics", None,
               "With --summary: print the figures as metrics for Prometheus, in the OpenMetrics 1.0 text format "
               "(HELP, TYPE and UNIT lines, ending with # EOF): pymap_program_memory_bytes{program,kind} (grouped by "
               "program unless --by says otherwise), pymap_user_memory_bytes{user,kind} with --by=user, "
               "pymap_mapping_memory_bytes{mapping,kind} with --by=mapping, pymap_process_memory_bytes{pid,program,"
               "kind} and pymap_process_oom_badness{pid,program} with --by=process only; kind is rss, pss, uss, swap, "
               "anon, file or shmem; pymap_processes counts each group, pymap_unreadable_processes what could not be "
               "read. Program labels are command names, never command lines.", pymap_only=True,
               brief="with --summary: print OpenMetrics for Prometheus", dest="openmetrics",
               action="flag", default=False),
    OptionSpec(None, "textfile", "dir",
               "With --summary: write the metrics of --openmetrics as DIR/pymap.prom (DIR/pymap-BY.prom with a "
               "--by=BY other than program, so that groupings go side by side) for node_exporter's textfile "
               "collector, atomically (a temporary file in DIR, then a rename; nothing else is left in DIR), in "
               "the Prometheus text format 0.0.4, which is what that collector reads (it does not read "
               "OpenMetrics); nothing is printed. DIR must exist and be writable by no one else.", pymap_only=True,
               brief="with --summary: write metrics to dir/pymap.prom",
               more=("for node_exporter's textfile collector, in the", "Prometheus text format 0.0.4 (that collector",
                     "does not read OpenMetrics)"),
               dest="textfile", action="store", default=None),
    OptionSpec(None, "reconcile", None,
               "Compare pmap's totals, summed smaps and /proc/PID/status side by side, explain each gap, "
               "sum the memory by role (the heap, malloc's arenas and large blocks, thread stacks...), and "
               "show the OOM killer's view (as JSON with --json).", pymap_only=True,
               brief="explain pmap's, smaps' and status' figures"),
    OptionSpec(None, "oom-report", "file",
               "Explain each OOM kill in the kernel log: when, in what scope (the system, a memory cgroup and "
               "its limit, a cpuset), the victim's RSS as anon + file + shmem, its badness against the other "
               "tasks and why the kernel chose it, the cgroup's memory.stat. The log is the running kernel's "
               "(/dev/kmsg, else the output of dmesg), or FILE given as --oom-report=FILE (a saved dmesg, "
               "journalctl -k or kern.log; - for standard input). As JSON Lines with --json.",
               pymap_only=True, dest="oom_log", action="store", optional=True,
               brief="explain the OOM kills in the kernel log (or file)"),
)


OPTION_BY_KEY = {spec.key: spec for spec in OPTIONS}
OPTION_BY_KEY["w"] = OPTION_BY_KEY["--wide"]  # (-w: --wide, with --summary)
# the Request's fields that options set, with their defaults when not given
REQUEST_FIELDS = {}
for _spec in OPTIONS:
    if _spec.dest is not None:
        REQUEST_FIELDS.setdefault(_spec.dest, _spec.default)

_FIXED = {"mode": "default", "compat": None, "program": b"pymap", "environ": {}, "language": None, "pids": (),
          "rc": None, "given": frozenset(), "snapshot": False}


class Request:
    """What one command asks for (see the module's docstring): made once
    from the command line, never changed."""

    __slots__ = tuple(_FIXED) + tuple(name for name in REQUEST_FIELDS if name not in _FIXED)

    def __init__(self, **values):
        unknown = set(values) - set(self.__slots__)
        if unknown:
            raise TypeError("unknown Request fields: %s" % ", ".join(sorted(unknown)))
        setter = object.__setattr__
        for defaults in (_FIXED, REQUEST_FIELDS):
            for name, default in defaults.items():
                setter(self, name, values.get(name, default))
        if self.proc_root is None:
            setter(self, "proc_root", b"/proc")

    def __setattr__(self, name, value):
        raise AttributeError("a Request is frozen")

    @property
    def range_low(self):
        return self.address_range[0]

    @property
    def range_high(self):
        return self.address_range[1]

    @property
    def metrics(self):
        """Whether the output is metrics for Prometheus (--openmetrics, --textfile)."""
        return self.openmetrics or self.textfile is not None

    def __repr__(self):
        return "Request(%r, %r, pids=%r)" % (self.mode, self.compat.release if self.compat else None, self.pids)


def short_options(compat, summary=False):
    """The optstring pmap hands to getopt_long, for this release; with
    ``summary`` (--summary was given: no pmap command line), pymap's -w too,
    which without it stays an invalid option, as for pmap."""
    letters = "xXrdqA:hVcC:nN:p"
    if compat.has_kernel_names:
        letters += "k"
    if summary:
        letters += "w"
    return letters


_LONG_OPTIONS = {}  # has_kernel_names -> the list: the same for every call of a run


def long_options(compat):
    """LongOption list in pmap's order (its longopts array); pymap's own are
    matched only in full."""
    result = _LONG_OPTIONS.get(compat.has_kernel_names)
    if result is not None:
        return result
    result = []
    pmap_order = ("extended", "device", "quiet", "range", "help", "version", "read-rc", "read-rc-from",
                  "create-rc", "create-rc-to", "show-path", "use-kernel-name")
    by_name = {spec.long: spec for spec in OPTIONS if spec.long}
    for name in pmap_order:
        spec = by_name[name]
        if available(spec, compat):
            result.append(LongOption(name.encode(), spec.has_arg, spec.short))
    for spec in OPTIONS:
        if spec.pymap_only:
            result.append(LongOption(spec.long.encode(), spec.has_arg, "--" + spec.long, exact_only=True))
    _LONG_OPTIONS[compat.has_kernel_names] = result
    return result


SHORT_OPTIONS = short_options


def available(spec, compat):
    """Whether release ``compat`` has the option."""
    return spec.since != "4.0.6" or compat.has_kernel_names


def usage_text(program, compat, translate=None):
    """pmap's usage text, byte for byte, with ``program`` (bytes) as its name
    and every line through ``translate`` (pmap's catalog; None: English);
    under any name but pmap's, pymap's own options follow pmap's (and the
    last line points to pymap(1))."""
    _ = translate if translate is not None else (lambda text: text)
    parts = [_(b"\nUsage:\n"), _(b" %s [options] PID [PID ...]\n") % program, _(b"\nOptions:\n")]
    for spec in OPTIONS:
        if spec.short not in ("h", "V") and available(spec, compat):
            parts += [_(line) for line in spec.usage]
    parts.append(b"\n")  # USAGE_SEPARATOR
    for spec in OPTIONS:
        if spec.short in ("h", "V"):
            parts += [_(line) for line in spec.usage]
    manual = b"pmap(1)"
    if program != b"pmap":
        parts.append(b"\npymap's own options:\n")
        parts += [own_option_line(spec) + b"\n" + b"".join(own_option_details(spec))
                  for spec in OPTIONS if spec.pymap_only]
        manual = b"pymap(1)"
    parts.append(_(b"\nFor more details see %s.\n") % manual)
    return b"".join(parts)


def own_option_line(spec):
    """A line of --help for one of pymap's own options, in pmap's layout."""
    flags = "     --%s" % spec.long + ("[=<%s>]" if spec.optional else "=<%s>") % spec.metavar if spec.metavar \
        else "     --%s" % spec.long
    return ("%-29s%s" % (flags, spec.brief)).encode("ascii")


def own_option_details(spec):
    """The lines under an option's line in --help: its ``more`` lines, and
    for --sort and --by the keys and groupings each mode takes
    (modes.MODES, where they are defined)."""
    from ..modes import MODES

    if spec.more:
        return [b"%-31s%s\n" % (b"", line.encode("ascii")) for line in spec.more]
    if spec.long == "sort":
        return [line for mode in MODES if mode.sort_keys for line in _mode_words(mode.options[0], mode.sort_keys)]
    if spec.long == "by":
        return [line for mode in MODES if mode.groups for line in _mode_words(mode.options[0], mode.groups)]
    return []


def _mode_words(option, words):
    """Lines of "OPTION: WORDS" under 80 columns: as few as the words need,
    which share the words evenly, each naming the option again."""
    def fits(line):
        return 31 + len(option) + 2 + len(" ".join(line)) < 80

    count = 1
    while True:
        size = -(-len(words) // count)
        lines = [words[at:at + size] for at in range(0, len(words), size)]
        if all(fits(line) for line in lines) or size == 1:
            return [b"%-31s%s: %s\n" % (b"", option.encode(), " ".join(line).encode()) for line in lines]
        count += 1


def build_parser():
    """An argparse.ArgumentParser describing the same options, for the man
    page (argparse-manpage) and for readers; the CLI itself parses with
    getopt.py, because argparse differs from glibc in corners pmap users
    rely on (permutation, abbreviations, messages)."""
    import argparse

    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="pymap",
        description="pymap reports the memory map of one or more processes, byte for byte as "
                    "procps-ng pmap(1) does, and reads snapshots of /proc as well as the live system.",
        add_help=False,
    )
    for spec in OPTIONS:
        flags = []
        if spec.short:
            flags.append("-" + spec.short)
        if spec.long:
            flags.append("--" + spec.long)
        kwargs = {"help": spec.help}
        if spec.short == "X":
            kwargs["action"] = "count"
        elif spec.short == "h":
            kwargs["action"] = "help"
        elif spec.short == "V":
            kwargs["action"] = "version"
            kwargs["version"] = "pymap " + __version__
        elif spec.metavar is None:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = spec.metavar.upper()
            if spec.optional:
                kwargs["nargs"] = "?"
        parser.add_argument(*flags, **kwargs)
    parser.add_argument("pids", nargs="*", metavar="PID", help="process IDs (also /proc/PID)")
    return parser


# --- glibc's getopt_long(), option by option, with its messages word for word ---
#
# pmap acts on each option as getopt returns it (-V prints and exits before
# a later bad option is seen, -A's argument is checked at once), so this is
# a generator: the caller acts on each (key, argument) pair in turn and a
# GetoptError is raised where glibc's getopt would print its complaint.
# Arguments are bytes; messages are bytes prefixed with argv[0] as given.


class LongOption:
    """One long option.  ``has_arg`` is getopt_long's (NO_ARGUMENT,
    REQUIRED_ARGUMENT, OPTIONAL_ARGUMENT; a bool is no or required).
    ``key`` is what getopt_long returns for it (the short option letter).
    ``exact_only`` options are matched only when spelled in full, so they
    never make a pmap abbreviation ambiguous."""

    __slots__ = ("name", "has_arg", "key", "exact_only")

    def __init__(self, name, has_arg, key, exact_only=False):
        self.name = name
        self.has_arg = has_arg
        self.key = key
        self.exact_only = exact_only

    def __repr__(self):
        return "LongOption(%r)" % self.name


class GetoptError(Exception):
    """getopt's complaint: glibc's ``msgid`` (a printf format of the libc
    catalog) and its arguments, and what glibc prints after it untranslated
    (the ambiguous option's possibilities).  ``message`` is the English line
    without its newline; text() the line as printed in the user's language."""

    def __init__(self, msgid, arguments, tail=b""):
        self.msgid = msgid
        self.arguments = arguments
        self.tail = tail
        self.message = (msgid % arguments + tail).rstrip(b"\n")
        super().__init__(self.message)

    def text(self, translate=None):
        """The complaint as glibc prints it, through ``translate`` (the libc
        catalog's lookup; None for English)."""
        if translate is not None:
            from ..language import printf

            return printf(translate(self.msgid), self.msgid, self.arguments) + self.tail
        return self.msgid % self.arguments + self.tail


def getopt_long(argv, shortopts, longopts, operands, permute=True):
    """Yield (key, argument) for each option of argv[1:]; append the
    operands to the list ``operands``.

    ``shortopts`` is a str like "xA:"; ``longopts`` a sequence of LongOption
    with bytes names.  With ``permute`` false (POSIXLY_CORRECT) options end
    at the first operand, as in glibc.
    """
    program = argv[0] if argv else b""
    index = 1
    count = len(argv)
    while index < count:
        argument = argv[index]
        if argument == b"--":
            operands.extend(argv[index + 1:])
            return
        if not argument.startswith(b"-") or argument == b"-":
            if not permute:
                operands.extend(argv[index:])
                return
            operands.append(argument)
            index += 1
            continue
        if argument.startswith(b"--"):
            index += 1
            option, value, index = _long_option(program, argv, index, argument[2:], longopts)
            yield option.key, value
            continue
        index += 1
        position = 1
        while position < len(argument):
            letter = chr(argument[position])
            position += 1
            spec = shortopts.find(letter)
            if letter == ":" or spec < 0:
                raise GetoptError(b"%s: invalid option -- '%c'\n", (program, argument[position - 1]))
            if shortopts[spec + 1:spec + 2] == ":":
                if position < len(argument):
                    value = argument[position:]
                elif index < count:
                    value = argv[index]
                    index += 1
                else:
                    raise GetoptError(b"%s: option requires an argument -- '%c'\n", (program, argument[position - 1]))
                yield letter, value
                break
            yield letter, None


def _long_option(program, argv, index, text, longopts):
    """Match --TEXT; returns (option, value, next index)."""
    name, equals, value = text.partition(b"=")
    found = None
    for option in longopts:
        if option.name == name:
            found = option
            break
    if found is None:
        candidates = [option for option in longopts
                      if not option.exact_only and option.name.startswith(name)]
        if candidates:
            first = candidates[0]
            different = [option for option in candidates[1:]
                         if (option.has_arg, option.key) != (first.has_arg, first.key)]
            if different:
                listed = b"".join(b" '--%s'" % option.name for option in [first] + different)
                raise GetoptError(b"%s: option '%s%s' is ambiguous; possibilities:", (program, b"--", text),
                                  listed + b"\n")
            found = first
    if found is None:
        raise GetoptError(b"%s: unrecognized option '%s%s'\n", (program, b"--", text))
    if equals:
        if not found.has_arg:
            raise GetoptError(b"%s: option '%s%s' doesn't allow an argument\n", (program, b"--", found.name))
        return found, value, index
    if found.has_arg == OPTIONAL_ARGUMENT:
        return found, None, index  # (the next argument is never taken: it is an operand)
    if found.has_arg:
        if index < len(argv):
            return found, argv[index], index + 1
        raise GetoptError(b"%s: option '%s%s' requires an argument\n", (program, b"--", found.name))
    return found, None, index
