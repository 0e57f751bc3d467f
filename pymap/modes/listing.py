"""The default format, -x and -d: pmap's listing of each process, through
the engine (emulate/listing.py) or, for a large block of the kernel's
regular text, its accelerator (emulate/listing_fast.py), which takes what
it can read exactly as the engine would and steps the rest through it."""

from ..emulate.listing import LISTINGS
from ..errors import EXIT_SUCCESS, ProcessError
from . import OutputMode

__all__ = ["ListingMode", "feed"]

# blocks of at least this size are offered to the accelerator (a smaller
# process needs no regular expression, and no re to import)
FAST_MINIMUM = 1 << 16


class ListingMode(OutputMode):
    """Each process's header line, then its listing, held back until its
    map was read to the end (a process that exits while it is read shows
    its header alone)."""

    def __init__(self, context):
        super().__init__(context)
        self.listing_class = LISTINGS[context.request.mode]

    def show(self, process):
        context = self.context
        console = context.console
        console.write(context.header(process))
        listing = self.listing_class(process.start_stack, context.view, console.write)
        console.hold()
        try:
            blocks = context.blocks(process, listing.reads)
            listing.start()
            try:
                for block in blocks:
                    feed(listing, block)
                    if listing.stopped:
                        break  # pmap reads no further either
            finally:
                blocks.close()
        except ProcessError as error:
            return context.unreadable(error)
        listing.finish()
        console.release()
        return EXIT_SUCCESS


def feed(listing, block):
    """One block of the file (ending at a line end) to ``listing``: the
    accelerator's when it is large and the whole range is shown, else the
    engine's, piece by piece."""
    if listing.full_range and len(block) >= FAST_MINIMUM:
        from ..emulate.listing_fast import accelerator_for

        accelerator_for(listing.format).feed(listing, block)
    else:
        listing.step_pieces(block)
