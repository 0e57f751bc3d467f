"""-X, -XX and -c/-C: pmap's table of every smaps field, through the
accelerator (emulate/table_fast.py) when smaps is the kernel's regular
text, else through the engine (emulate/table.py), which reads the file
twice as pmap does (a small one once)."""

from ..emulate.table import TwoPassTable, replay
from ..emulate.table_layout import ScannedPiece, SmapsTableError, TableState, pieces_of
from ..errors import EXIT_SUCCESS, Failure, ProcessError
from ..parse.c_rules import c_string, fgets_pieces
from . import OutputMode

__all__ = ["TableMode"]


class TableMode(OutputMode):
    """Each process's header line, then its table; nothing is printed while
    pmap measures."""

    def __init__(self, context):
        super().__init__(context)
        self.state = TableState(context.compat)
        request = context.request
        self.level = request.table_level
        self.rc = request.rc

    def _blocks(self, process, again=False):
        """smaps in line blocks; read ``again`` for the second pass, an
        error ends the file, as pmap's fgets() after its fseek() then
        returns NULL (the process exited between the passes)."""
        try:
            yield from self.context.blocks(process, b"smaps")
        except ProcessError:
            if not again:
                raise

    def _pieces(self, process, again=False):
        for block in self._blocks(process, again):
            for piece in fgets_pieces(block):
                yield ScannedPiece(c_string(piece))

    def show(self, process):
        from ..emulate.table_fast import Declined, render_blocks

        context = self.context
        console = context.console
        arguments = (context.view, self.level, self.rc, self.state)
        console.write(context.header(process))
        console.hold()  # nothing is printed while pmap measures
        try:
            blocks = self._blocks(process)
            try:
                pieces = render_blocks(blocks, *arguments, reread=lambda: self._blocks(process, again=True),
                                       engine=lambda: TwoPassTable(*arguments))
            except Declined as declined:
                blocks.close()
                if declined.data is not None:  # a small file, read once
                    whole = pieces_of(declined.data)
                    pieces = replay(whole, whole, *arguments)
                else:
                    pieces = replay(self._pieces(process), self._pieces(process, again=True), *arguments)
        except SmapsTableError as error:
            console.release()
            raise Failure(error.message) from None
        except ProcessError as error:
            return context.unreadable(error)
        console.release()
        try:
            for piece in pieces:
                console.write(piece)
        except SmapsTableError as error:  # the file changed between the passes
            raise Failure(error.message) from None
        return EXIT_SUCCESS
