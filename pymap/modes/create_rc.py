"""-n and -N: pmap's rc file template, written to ~/.NAMErc or the file
given (command/rcfile.py writes it), with pmap's messages."""

from ..emulate import rcfile
from ..emulate.words import PmapStrings
from ..errors import EXIT_FAILURE, EXIT_SUCCESS, Failure
from . import OutputMode

__all__ = ["CreateRcMode"]


class CreateRcMode(OutputMode):
    """Writes the template; takes no PID."""

    @classmethod
    def check(cls, request, operands):
        if request.quiet or request.show_path:
            return b"options -p, -q are mutually exclusive with -n, -N", True
        if operands:
            return b"too many arguments", True
        return None

    def run(self, pids):
        context = self.context
        console = context.console
        request = context.request
        words = PmapStrings(console.translate)
        if "-N" in request.given:
            if rcfile.create(request.rc_path, console, words):
                console.pmap_message(b"rc file successfully created, feel free to edit the content")
                return EXIT_SUCCESS
            raise Failure(console.pmap_text(b"couldn't create the rc file"))
        path = rcfile.default_path(request.environ, console)
        if path is None:
            return EXIT_FAILURE
        if rcfile.create(path, console, words):
            console.pmap_message(b"~/.%src file successfully created, feel free to edit the content", console.program)
            return EXIT_SUCCESS
        raise Failure(console.pmap_text(b"couldn't create ~/.%src", console.program))
