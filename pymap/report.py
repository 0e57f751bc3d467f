"""From an Invocation to output: select each process as procps's library
does, and run the invocation's output mode (modes.py) on it.

``run(invocation, console)`` returns pmap's exit status, or raises
ReportError when the mode fails as pmap fails (pmap prints one message and
exits 1).  ``Session`` is what every mode shares: the console, the /proc to
read, the Display options, the SysV minor, and how a process's files are
read and a failure reported.
"""

from . import procfs
from .errors import ProcessError
from .escape import charset_of_codeset, escape_command_line, report_name
from .formats import Display, Words, header_line
from .procfs import select_process

__all__ = ["run", "Session", "ReportError"]

_UNKNOWN = object()


class ReportError(Exception):
    """A mode gives up as pmap does: ``message`` (bytes) is shown, status 1."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Session:
    """What the modes of one command share."""

    def __init__(self, invocation, console):
        self.invocation = invocation
        self.console = console
        self.compat = invocation.compat
        self.root = invocation.proc_root
        self.snapshot = invocation.snapshot
        environ = invocation.environ
        self.hide_kernel = b"LIBPROC_HIDE_KERNEL" in environ and self.compat.honours_hide_kernel
        language = invocation.language
        self.charset = charset_of_codeset(language.codeset if language is not None else b"ANSI_X3.4-1968")
        words = Words(language.translate(b"procps-ng") if language is not None else None)
        self.display = Display(self.charset, self.compat.name_escaping, quiet=invocation.quiet,
                               show_path=invocation.show_path, kernel_names=invocation.kernel_names,
                               range_low=invocation.range_low, range_high=invocation.range_high,
                               find_shm_minor=self.find_shm_minor, words=words,
                               skip_partial_headers=self.compat.skips_partial_headers)
        self._shm_minor = _UNKNOWN
        self._reading = None  # (process, file name) of the map being read
        self._inferred = set()  # snapshot processes whose SysV mappings were looked at

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
        """The process's maps or smaps in line blocks (procfs.read_line_blocks),
        smaps cut before records where it can."""
        self._reading = (process, name)
        return procfs.read_line_blocks(self.root, process.tgid, name, whole_records=name == b"smaps",
                                       state=process.state)

    def read_map(self, process, name):
        """The whole of the process's maps or smaps."""
        self._reading = (process, name)
        return procfs.read_file(self.root, process.tgid, name, whole_map=True, state=process.state)

    def unreadable(self, error):
        """A process whose map could not be read (status 1): what was held
        of its listing is dropped (pmap is silent, a live process may just
        have gone), a snapshot's missing file is named, and a listing partly
        written already is said to be incomplete."""
        if not self.console.discard():
            self.message_of(error)
        elif self.snapshot:
            self.snapshot_error(error)
        return 1

    def message_of(self, error):
        self.console.message(str(error).encode("utf-8", "surrogateescape"))

    def snapshot_error(self, error):
        """One line naming the snapshot file that failed: "DIR/PID/maps: reason"."""
        import os

        self.console.message(b"%s: %s" % (os.fsencode(error.path or ""), os.fsencode(error.reason or "")))

    def explain_missing(self, pid):
        """Why a snapshot PID counts as not found, when it is not simply absent
        (pmap says nothing for an absent PID, and neither does pymap)."""
        error = procfs.why_not_selected(self.root, pid)
        if error is not None:
            self.snapshot_error(error)

    def find_shm_minor(self):
        """The SysV minor, looked for when a mapping first needs it.  Live,
        pmap's probe (pmap probes at start; the result is the same); a
        snapshot cannot be probed, so the minor is inferred from its SysV
        mappings (shm.infer_minor), those of the map being read first."""
        from . import shm

        if not self.snapshot:
            if self._shm_minor is _UNKNOWN:
                self._shm_minor = shm.probe_live_minor()
                self.display.shm_minor = self._shm_minor
            return self._shm_minor
        if self._reading is not None and self._reading[0].tgid not in self._inferred:
            process, name = self._reading
            self._inferred.add(process.tgid)
            try:
                candidates = shm.candidates(procfs.read_line_blocks(self.root, process.tgid, name))
            except ProcessError:
                candidates = []  # the read under way will tell
            self.display.shm_minor = shm.infer_minor(candidates)
        return self.display.shm_minor

    def prepare_labels(self, mappings):
        """The SysV minor for whole-file modes (JSON, reconcile), when one of
        ``mappings`` could need it."""
        from . import shm

        if self.display.shm_minor is not None or not shm.may_need_minor(mappings):
            return
        if self.snapshot:
            self.display.shm_minor = shm.infer_minor(mappings)
        else:
            self.find_shm_minor()


def run(invocation, console):
    """Carry out ``invocation``: pmap's exit status (ReportError when the
    mode gives up)."""
    from .modes import mode_named

    session = Session(invocation, console)
    mode = mode_named(invocation.mode).load()(session)
    return mode.run(invocation.pids)
