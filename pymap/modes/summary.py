"""--summary [PID...]: who uses the memory, one row per process (or per
group), sorted (report/summary.py); every process of the root when no PID
is given, read by forked helpers too when there are many (ProcRoot.read_many).
--by=cgroup groups them by memory cgroup (report/cgroups.py), --cgroup=PATH
keeps those of one cgroup, --sort=oom ranks them as the OOM killer would
(report/oom.py), and the totals are reconciled with /proc/meminfo or the
cgroup's memory.stat (report/balance.py)."""

import os

from ..errors import EXIT_FAILURE, EXIT_NOT_FOUND, AccessDenied, NoSuchProcess, ProcessError
from ..report.summary import GroupTable, ProcessRow, ProcessTable, UnreadableCount, Users, read_process_row
from . import OutputMode

__all__ = ["SummaryMode"]

# processes that read (this one and forked helpers), when there are at
# least FORKED_MINIMUM PIDs to read
READERS = 2
FORKED_MINIMUM = 128


class SummaryMode(OutputMode):

    @staticmethod
    def grouping(request):
        """What a row is: --by's group, else each process; but metrics are
        grouped by program unless --by says otherwise (a fleet's Prometheus
        keeps every series of every host: per-process series only when
        asked for)."""
        if request.group_by is not None:
            return request.group_by
        return "program" if request.metrics else "process"

    @classmethod
    def check(cls, request, operands):
        if request.metrics and request.json:
            return b"options --json and --%s are two output formats: give one" % (
                b"openmetrics" if request.openmetrics else b"textfile"), False
        by = cls.grouping(request)
        if by != "process" and request.sort in ("oom", "pid"):
            message = b"--sort=%s goes with processes, not with --by=%s" % (request.sort.encode(), by.encode())
            if request.group_by is None:
                message += b" (metrics are grouped by program unless --by=process)"
            return message, False
        if request.cgroup is not None and (not request.cgroup or b"\0" in request.cgroup):
            return b"--cgroup: '%s' is no cgroup path" % request.cgroup.replace(b"\0", b"\\0"), False
        if request.textfile is not None:  # a mistyped folder fails now, not after every process is read
            from ..report.textfile import folder_problem

            problem = folder_problem(request.textfile)
            if problem is not None:
                return problem.message, False
        return None

    def run(self, pids):
        context = self.context
        request = context.request
        root = context.root
        by = self.grouping(request)
        sort = request.sort or ("usage" if by == "cgroup" else "pss")
        named = bool(pids)
        by_mapping, by_role, with_comm = by == "mapping", by == "role", request.json
        with_cgroup = by == "cgroup" or request.cgroup is not None
        with_start = sort == "oom"

        def read_one(pid):
            row = read_process_row(root, pid, named, by_mapping, with_comm, with_cgroup, with_start, by_role)
            return None if row is None else row.plain()

        wanted = None
        if request.cgroup is not None:
            wanted = self.wanted_cgroup(request.cgroup)
            if wanted is None:
                return EXIT_FAILURE
        try:
            results = root.read_many(list(pids) or root.pids(), read_one, READERS, FORKED_MINIMUM)
        except ProcessError as error:  # the root itself cannot be read
            context.snapshot_error(error)
            return EXIT_FAILURE
        rows = []
        missing = 0
        status = 0
        exited = []  # live processes that went away while they were read
        denied = []
        damaged = []  # any other failure (a snapshot's missing or odd file)
        for result in results:
            if isinstance(result, ProcessError) and wanted is not None and not self.may_be_in(result.pid, wanted):
                continue  # (a process of another cgroup is none of --cgroup's business, readable or not)
            if isinstance(result, NoSuchProcess):
                if named:
                    missing += 1
                else:
                    exited.append(result)
            elif isinstance(result, ProcessError):
                (denied if isinstance(result, AccessDenied) else damaged).append(result)
                if named:
                    status |= EXIT_FAILURE
            elif result is not None:
                rows.append(ProcessRow(*result))
        unreadable = len(exited) + len(denied) + len(damaged)
        reader = None
        if with_cgroup:
            from ..report.cgroups import CgroupReader, in_cgroup
            from ..source.cgroups import cgroups_beside

            reader = CgroupReader(cgroups_beside(root))
        unknown = 0
        info = None
        if wanted is not None:
            kept = [row for row in rows if row.cgroup is not None and in_cgroup(row.cgroup, wanted[1])]
            unknown = sum(row.cgroup is None for row in rows)
            version = wanted[0] or next((row.cgroup_version for row in kept), None) or self.version_of(wanted[1])
            if version is None and not kept:
                context.console.message(b"--cgroup %s: no such cgroup" % terminal_text(context, request.cgroup))
                return status | EXIT_NOT_FOUND
            rows = kept
            info = reader.info(version, wanted[1]) if version is not None else None
        meminfo = self.meminfo()
        scope = self.oom_scope(reader, info, meminfo)
        self.rank(rows, scope)
        options = (Users(), unreadable, request.quiet, request.bars, request.wide)
        balance = None
        if not request.quiet and not named and by != "mapping":
            balance = self.balance(rows, meminfo, info)
        if by == "process":
            table = ProcessTable(rows, sort, *options, scope=scope, with_cgroup=with_cgroup, balance=balance)
        elif by == "cgroup":
            from ..report.cgroups import CgroupTable, group_by_cgroup

            groups, lost = group_by_cgroup(rows)
            unknown = max(unknown, len(lost))
            for group in groups:
                group.info = reader.info(group.version, group.path)
            table = CgroupTable(groups, sort, len(rows) - len(lost), *options[1:], balance=balance)
        else:
            table = GroupTable(rows, by, sort, *options, balance=balance)
        context.sink.emit(table)
        if unreadable:
            context.sink.emit(UnreadableCount(exited, denied, damaged, root.snapshot, context.charset))
        if unknown:
            context.console.message(b"%d process%s whose memory cgroup is not known (no /proc/PID/cgroup, or no "
                                    b"memory controller) left out" % (unknown, b"" if unknown == 1 else b"es"))
        return status | (EXIT_NOT_FOUND if missing else 0)

    def wanted_cgroup(self, argument):
        """(version or None, cgroup path) of --cgroup's argument: a folder
        under a cgroup mount (or under a snapshot's cgroup/v1, cgroup/v2),
        else a cgroup path as /proc/PID/cgroup writes it; None (said) when
        it is neither."""
        from ..source.cgroups import cgroups_beside

        context = self.context
        cgroups = cgroups_beside(context.root)
        absolute = os.path.normpath(os.path.abspath(argument))
        found = cgroups.cgroup_of_folder(absolute)
        if found is not None:
            return found
        if argument.startswith(b"/"):
            return None, b"/" + b"/".join(name for name in argument.split(b"/") if name)
        context.console.message(b"--cgroup %s: neither a cgroup path (/...) nor a folder under a cgroup mount"
                                % terminal_text(context, argument))
        return None

    def may_be_in(self, pid, wanted):
        """Whether a process that could not be read may be in the cgroup
        ``wanted`` (--cgroup's): its /proc/PID/cgroup is readable where its
        memory is not; a process that is gone or whose cgroup is not known
        may be."""
        from ..parse.cgroups import memory_cgroup
        from ..report.cgroups import in_cgroup

        try:
            with self.context.root.process(pid) as files:
                found = memory_cgroup(files.read(b"cgroup"))
        except ProcessError:
            return True
        return found is None or in_cgroup(found[1], wanted[1])

    def version_of(self, path):
        """The hierarchy that has a cgroup PATH (v1's memory controller
        first), or None."""
        from ..source.cgroups import cgroups_beside

        cgroups = cgroups_beside(self.context.root)
        for version in (1, 2):
            if cgroups.has(version) and cgroups.exists(version, path):
                return version
        return None

    def meminfo(self):
        from ..parse.proc_files import kilobytes

        try:
            return kilobytes(self.context.root.machine_file(b"meminfo"))
        except ProcessError:
            return {}

    def oom_scope(self, reader, info, meminfo):
        """The OOM scope: the cgroup's (its tightest limit) under --cgroup
        when it is limited, else the machine's."""
        from ..report.oom import machine_scope

        page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        if info is not None:
            scope = reader.scope(info.version, info.path, meminfo.get("SwapTotal", 0), page_kb)
            if scope is not None:
                return scope
        return machine_scope(meminfo, page_kb)

    @staticmethod
    def rank(rows, scope):
        """Each row's badness in ``scope``: init (PID 1) and processes
        without memory are never chosen."""
        from ..report.oom import badness

        for row in rows:
            figures = row.figures
            row.oom_badness = badness(figures["RssAnon"] + figures["RssFile"] + figures["RssShmem"], row.vm_swap,
                                      row.vm_pte, row.oom_score_adj, scope, never=row.pid == 1 or row.source is None)

    @staticmethod
    def balance(rows, meminfo, info):
        """Where the memory is: the cgroup's charge under --cgroup, else the
        machine's (report/balance.py); None without meminfo."""
        from ..report.balance import CgroupBalance, MachineBalance

        if info is not None:
            return CgroupBalance(info, rows)
        return MachineBalance(meminfo, rows) if meminfo else None


def terminal_text(context, data):
    """An argument in a message: its control characters as '?'."""
    from ..escape import terminal_safe

    return terminal_safe(data, context.charset.is_utf8)
