"""--json: each process's mappings as one JSON object per line, written as
smaps is read (report/json_lines.py's stream_process)."""

from ..errors import EXIT_FAILURE, EXIT_SUCCESS, ProcessError
from ..parse.smaps import iter_smaps
from ..report.json_lines import dumps, error_object, stream_process
from . import OutputMode

__all__ = ["JsonMode"]


class JsonMode(OutputMode):
    """Each object is held back until the process was read to its end, as a
    listing is (past the console's hold limit, an object that meets an
    error ends with an "error" member)."""

    def show(self, process):
        context = self.context
        console = context.console
        console.hold()
        try:
            mappings = iter_smaps(context.blocks(process, b"smaps"), lenient=True)
            stream_process(process, mappings, context.view, console.write)
        except ProcessError as error:
            if console.discard():
                console.write(dumps(error_object(process, error)))
            return EXIT_FAILURE
        console.release()
        return EXIT_SUCCESS
