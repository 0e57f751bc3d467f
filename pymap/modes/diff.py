"""--diff=BEFORE: per PID, what changed since the capture BEFORE
(report/diff.py): both smaps read at once in address order and matched as
they go; the changed mappings, sorted in bounded memory when asked."""

from ..errors import EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_SUCCESS, ProcessError
from ..parse.procps import select_process
from ..parse.smaps import iter_smaps
from ..report.diff import FIGURES, DiffHeading, DiffTotals, NotCompared, SortedLines, UnreadableCapture, \
    UnreadableSide, add_kb, changed_pair, match, overlaps
from ..source import ProcRoot
from . import MODES, OutputMode

__all__ = ["DiffMode"]


class DiffMode(OutputMode):

    def __init__(self, context):
        super().__init__(context)
        request = context.request
        self.before = ProcRoot(request.diff_before, snapshot=True)
        sort_keys = next(mode.sort_keys for mode in MODES if mode.name == "diff")
        # 0: address order, else 1 + the index of the figure
        self.sort = sort_keys.index(request.sort or "address")

    def run(self, pids):
        context = self.context
        status = 0
        for pid in pids:
            after = context.select(pid)
            before = select_process(self.before, pid)
            if before is None:
                problem = self.before.why_unreadable(pid)
                if problem is not None:  # captured, but the capture cannot be read
                    context.sink.emit(UnreadableCapture(pid, None if after is None else context.header(after),
                                                        problem))
                    status |= EXIT_FAILURE
                    continue
            if before is None or after is None or before.start_time != after.start_time:
                status |= self.not_compared(pid, before, after)
                continue
            status |= self.show(before, after)
        return status

    def not_compared(self, pid, before, after):
        """A PID that is not the same process on both sides: 42."""
        if before is not None and after is not None:
            state, line = "restarted", (b"restarted since the capture (start time %d, now %d): another process, "
                                        b"not compared" % (before.start_time, after.start_time))
        elif after is not None:
            state, line = "not captured", b"not in %s: nothing to compare with" % self.before.path
        elif before is not None:
            state, line = "gone", b"gone since the capture"
        else:
            return EXIT_NOT_FOUND  # as pmap says nothing of a PID that does not exist
        oom = self.gone_cgroup(pid) if state == "gone" else None
        self.context.sink.emit(NotCompared(pid, state, after or before, self.context.header(after or before), line,
                                           oom))
        return EXIT_NOT_FOUND

    def gone_cgroup(self, pid):
        """(its memory cgroup, OOM kills at capture time, now or None when
        the cgroup is gone) of a process gone since the capture, or None
        when the capture does not tell."""
        from ..errors import ProcessError as Unreadable
        from ..parse.cgroups import memory_cgroup
        from ..report.cgroups import CgroupReader
        from ..source.cgroups import cgroups_beside

        try:
            found = memory_cgroup(self.before.read(pid, b"cgroup"))
        except Unreadable:
            return None
        if found is None:
            return None
        version, path = found
        before = CgroupReader(cgroups_beside(self.before)).oom_kills(version, path)
        if before is None:
            return None
        now_root = cgroups_beside(self.context.root)
        if now_root.exists(version, path):
            now = CgroupReader(now_root).oom_kills(version, path)
            return None if now is None else (path, before, now)
        if now_root.snapshot:
            return None  # (a later capture without that cgroup says nothing of it)
        return path, before, None

    def show(self, before, after):
        context = self.context
        console = context.console
        sink = context.sink
        view = context.view
        rows = SortedLines() if self.sort else None  # held only to be sorted
        totals = [0] * len(FIGURES)
        kb_totals = {}  # after - before of every kB field that adds up
        console.hold()
        sink.emit(DiffHeading(after, context.header(after)))
        try:
            old_side = iter_smaps(self.before.line_blocks(before.tgid, b"smaps", whole_records=True), lenient=True)
            new_side = iter_smaps(context.blocks(after, b"smaps"), lenient=True)
            for old, new in match(old_side, new_side):
                if not (old is not None and overlaps(old, view) or new is not None and overlaps(new, view)):
                    continue
                for mapping, sign in ((old, -1), (new, 1)):
                    if mapping is not None:
                        add_kb(kb_totals, mapping, sign)
                change = changed_pair(old, new, before, after, view)
                if change is None:
                    continue
                for index, delta in enumerate(change.deltas):
                    totals[index] += delta
                if rows is None:
                    sink.emit(change)
                else:
                    rows.add(-change.deltas[self.sort - 1], change.mapping.start, sink.render(change))
        except ProcessError as error:
            record = UnreadableSide(after, context.header(after), error)
            if console.discard():  # what was held is dropped: the header (or error object) alone
                sink.emit(record)
            else:  # (part of it went out already)
                console.message(record.message)
            return EXIT_FAILURE
        if rows is not None:
            for line in rows.lines():
                sink.write(line)
        then, now = self.before.captured_at(before.tgid), context.root.captured_at(after.tgid)
        sink.emit(DiffTotals(after, totals, kb_totals, None if then is None or now is None else now - then))
        console.release()
        return EXIT_SUCCESS
