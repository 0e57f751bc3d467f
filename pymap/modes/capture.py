"""--capture DIR: save what pmap reads of each PID (report/capture.py), for
a later --proc-root DIR; it selects its processes itself, threads' leaders
included."""

from ..report.capture import capture
from . import OutputMode

__all__ = ["CaptureMode"]


class CaptureMode(OutputMode):

    def run(self, pids):
        context = self.context
        return capture(context.request.capture_dir, pids, context.console.message, context.root)
