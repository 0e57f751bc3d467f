"""--oom-report[=FILE]: each OOM kill of a kernel log explained
(report/oom_report.py), from the running kernel's log (/dev/kmsg, else
dmesg) or from FILE (- for standard input), as text or JSON Lines.  The
log is read as it comes, in bounded memory, whatever its size."""

import time

from ..errors import EXIT_FAILURE, EXIT_SUCCESS, UnreadableFile
from ..parse.oomlog import iter_kills
from ..report.oom_report import KillRecord, LogEnd
from ..source.kernel_log import kernel_log, log_file
from . import OutputMode

__all__ = ["OomReportMode", "boot_clock"]


def boot_clock():
    """The wall-clock time (epoch seconds) of the kernel log's zero: the
    kernel stamps its messages with its monotonic clock since boot, which
    stops while the machine is suspended, so the times it gives are
    approximate, as dmesg -T's."""
    return time.time() - time.clock_gettime(time.CLOCK_MONOTONIC)


class OomReportMode(OutputMode):

    @classmethod
    def check(cls, request, operands):
        if operands:
            shown = operands[0].decode("latin-1").encode("unicode_escape")  # (one line, whatever it holds)
            return b"option --oom-report takes no PID (a log file is named as --oom-report=FILE): '%s'" % shown, False
        if request.oom_log == b"":
            return b"option --oom-report=FILE: the file name is empty", False
        return None

    def run(self, pids):
        context = self.context
        request = context.request
        try:
            log = kernel_log(request.environ) if request.oom_log is None else log_file(request.oom_log)
        except UnreadableFile as error:
            context.console.message(error.message)
            return EXIT_FAILURE
        clock = boot_clock() if log.live else None
        kills = 0
        try:
            for kill in iter_kills(log):
                context.sink.emit(KillRecord(kill, first=not kills, clock=clock))
                kills += 1
        except UnreadableFile as error:
            context.console.message(error.message)
            return EXIT_FAILURE
        finally:
            log.close()
        context.sink.emit(LogEnd(log.name, kills, log.live, request.quiet))
        return EXIT_SUCCESS
