"""From a Request to output: the Context every mode shares, and running
the request's mode (modes.MODES) on it.

``run(request, console)`` returns pmap's exit status, or raises
errors.Failure when the mode gives up as pmap does (one message, status 1).
"""

import os

from ..emulate.words import ENGLISH, PmapStrings, ViewOptions, header_line
from ..errors import EXIT_FAILURE, EXIT_SUCCESS
from ..escape import charset_of_codeset, escape_command_line, report_name
from ..parse.procps import select_process
from ..source import ProcRoot

__all__ = ["run", "Context"]


class Context:
    """What the modes of one command share: the ``request``, the
    ``console``, the release (``compat``), the /proc to read (``root``, a
    source.ProcRoot), the user's ``charset``, the ViewOptions (``view``)
    and the ``sink`` every record goes to (chosen once); and how a process
    is selected, its map read, its header made and a failure reported."""

    def __init__(self, request, console):
        self.request = request
        self.console = console
        self.compat = request.compat
        self.root = ProcRoot(request.proc_root, request.snapshot)
        self.snapshot = request.snapshot
        self.hide_kernel = b"LIBPROC_HIDE_KERNEL" in request.environ and self.compat.honours_hide_kernel
        language = request.language
        self.charset = charset_of_codeset(language.codeset if language is not None else b"ANSI_X3.4-1968")
        words = PmapStrings(language.translate(b"procps-ng")) if language is not None else ENGLISH
        self.view = ViewOptions(self.charset, self.compat.name_escaping, quiet=request.quiet,
                                show_path=request.show_path, kernel_names=request.kernel_names,
                                range_low=request.range_low, range_high=request.range_high, words=words,
                                skip_partial_headers=self.compat.skips_partial_headers)
        self._sink = None

    @property
    def sink(self):
        """The sink of the request's records (report.sinks.sink_for), made
        when a mode first hands one over (pmap's formats have none)."""
        if self._sink is None:
            from ..report.sinks import sink_for

            self._sink = sink_for(self)
        return self._sink

    def finish(self):
        """The sink's last word (what it held back), once the mode is done:
        the exit status bits of that."""
        return self._sink.finish() if self._sink is not None else EXIT_SUCCESS

    def select(self, pid):
        """select_process(), and for a snapshot a word on why a PID whose
        folder is there counts as not found."""
        process = select_process(self.root, pid, self.hide_kernel, self.compat.shows_thread_group)
        if process is None and self.snapshot:
            self.explain_missing(pid)
        return process

    def header(self, process):
        """pmap's first line for the process."""
        compat = self.compat
        return header_line(process.tgid, escape_command_line(process.cmdline, process.comm, process.state,
                                                             self.charset, compat.cmdline_escaping,
                                                             compat.empty_cmdline))

    def report_name(self, name):
        """A name as pymap's own reports show it (escape.report_name)."""
        return report_name(name, self.charset, self.compat.cmdline_escaping)

    def blocks(self, process, name):
        """The process's maps or smaps in line blocks (ProcRoot.line_blocks),
        smaps cut before records where it can; its SysV minor, should a
        label need it, is the source's for this process and file."""
        root = self.root
        self.view.sysv_minor = lambda: root.sysv_minor(process.tgid, name)
        return self.root.line_blocks(process.tgid, name, whole_records=name == b"smaps", state=process.state)

    def unreadable(self, error):
        """A process whose map could not be read (status 1): what was held
        of its listing is dropped (pmap is silent, a live process may just
        have gone), a snapshot's missing file is named, and a listing partly
        written already is said to be incomplete."""
        if not self.console.discard():
            self.message_of(error)
        elif self.snapshot:
            self.snapshot_error(error)
        return EXIT_FAILURE

    def message_of(self, error):
        self.console.message(str(error).encode("utf-8", "surrogateescape"))

    def snapshot_error(self, error):
        """One line naming the snapshot file that failed: "DIR/PID/maps: reason"."""
        self.console.message(b"%s: %s" % (os.fsencode(error.path or ""), os.fsencode(error.reason or "")))

    def explain_missing(self, pid):
        """Why a snapshot PID counts as not found, when it is not simply absent
        (pmap says nothing for an absent PID, and neither does pymap)."""
        error = self.root.why_unreadable(pid)
        if error is not None:
            self.snapshot_error(error)


def run(request, console):
    """Carry out ``request``: pmap's exit status (errors.Failure when the
    mode gives up)."""
    from ..modes import mode_named

    context = Context(request, console)
    mode = mode_named(request.mode).load()(context)
    status = mode.run(request.pids)
    return status | context.finish()
