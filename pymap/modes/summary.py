"""--summary [PID...]: who uses the memory, one row per process (or per
group), sorted (report/summary.py); every process of the root when no PID
is given, read by forked helpers too when there are many (ProcRoot.read_many)."""

from ..errors import EXIT_FAILURE, EXIT_NOT_FOUND, AccessDenied, NoSuchProcess, ProcessError
from ..report.summary import GroupTable, ProcessRow, ProcessTable, UnreadableCount, Users, read_process_row
from . import OutputMode

__all__ = ["SummaryMode"]

# processes that read (this one and forked helpers), when there are at
# least FORKED_MINIMUM PIDs to read
READERS = 2
FORKED_MINIMUM = 128


class SummaryMode(OutputMode):

    @classmethod
    def check(cls, request, operands):
        if request.group_by not in (None, "process") and request.sort in ("oom", "pid"):
            return b"--sort=%s goes with processes, not with --by=%s" % (request.sort.encode(),
                                                                       request.group_by.encode()), False
        return None

    def run(self, pids):
        context = self.context
        request = context.request
        root = context.root
        by = request.group_by or "process"
        named = bool(pids)
        by_mapping, with_comm = by == "mapping", request.json

        def read_one(pid):
            row = read_process_row(root, pid, named, by_mapping, with_comm)
            return None if row is None else row.plain()

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
        sort = request.sort or "pss"
        options = (Users(), unreadable, request.quiet, request.bars, request.wide)
        if by == "process":
            table = ProcessTable(rows, sort, *options)
        else:
            table = GroupTable(rows, by, sort, *options)
        context.sink.emit(table)
        if unreadable:
            context.sink.emit(UnreadableCount(exited, denied, damaged, root.snapshot, context.charset))
        return status | (EXIT_NOT_FOUND if missing else 0)
