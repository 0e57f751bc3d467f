"""--json: each process's mappings as one JSON object per line, written as
smaps is read (report/json_lines.py's stream_process), each with its role
(report/roles.py)."""

from ..errors import EXIT_FAILURE, EXIT_SUCCESS, ProcessError
from ..parse.smaps import iter_smaps
from ..report.json_lines import dumps, error_object, stream_process
from ..report.roles import roles_of, thread_facts
from . import OutputMode

__all__ = ["JsonMode", "ROLES"]

# whether mappings get their roles (benchmarks/roles.py turns them off to
# measure what they cost)
ROLES = True


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
            if ROLES:
                with context.root.process(process.tgid) as files:
                    facts = thread_facts(files, process.start_stack)
                    stream_process(process, roles_of(mappings, files, facts), context.view, console.write)
            else:
                stream_process(process, ((mapping, None, True) for mapping in mappings), context.view,
                               console.write)
        except ProcessError as error:
            if console.discard():
                console.write(dumps(error_object(process, error)))
            return EXIT_FAILURE
        console.release()
        return EXIT_SUCCESS
