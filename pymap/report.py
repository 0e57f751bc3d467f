"""From PIDs to output: select each process as procps's library does, read
its maps or smaps once, and hand the model to the formatter of the mode."""

from . import procfs
from .errors import ProcessError
from .escape import charset_from_environment, escape_command_line
from .formats import Display, header_line
from .model import Process, SmapsFormatError, parse_maps, parse_smaps

_UNKNOWN = object()


def select_process(root, pid, hide_kernel=False):
    """The Process for a PID argument as procps selects it, or None when it
    counts as not found: no /proc/PID, an unreadable stat, or a kernel
    thread hidden by LIBPROC_HIDE_KERNEL."""
    if not procfs.exists(root, pid):
        return None
    tgid = procfs.read_tgid(root, pid)
    try:
        stat = procfs.read_stat(root, pid)
    except ProcessError:
        return None
    if hide_kernel and (stat.ppid == 2 or pid == 2):
        return None
    cmdline = procfs.read_cmdline(root, pid)
    return Process(pid, tgid, cmdline, stat.comm if stat.comm is not None else None, stat.state, stat.ppid,
                   stat.start_stack)


class Reporter:
    """Prints one process after another and works out the exit status."""

    def __init__(self, settings, compat, console, environ, rc=None):
        self.settings = settings
        self.compat = compat
        self.console = console
        self.rc = rc
        self.snapshot = settings.proc_root is not None
        self.root = settings.proc_root if self.snapshot else procfs.PROC
        self.hide_kernel = b"LIBPROC_HIDE_KERNEL" in environ
        self.charset = charset_from_environment(environ)
        self.display = Display(self.charset, compat.name_escaping, quiet=bool(settings.q),
                               show_path=bool(settings.show_path), kernel_names=settings.kernel_names,
                               range_low=settings.range_low, range_high=settings.range_high)
        self._shm_minor = _UNKNOWN
        self._table_state = None

    def report(self, pids):
        status = 0
        missing = 0
        for pid in pids:
            process = select_process(self.root, pid, self.hide_kernel)
            if process is None:
                missing += 1
                if self.snapshot:
                    self._explain_missing(pid)
                continue
            status |= self.one_process(process)
        if missing:
            status |= 42
        return status

    def command_line(self, process):
        return escape_command_line(process.cmdline, process.comm, process.state, self.charset,
                                   self.compat.cmdline_escaping, self.compat.empty_cmdline)

    def one_process(self, process):
        """Print one process; 1 when its maps could not be read, else 0."""
        settings = self.settings
        if getattr(settings, "json", False) or getattr(settings, "reconcile", False):
            return _json_or_reconcile(self, process)
        self.console.write(header_line(process.tgid, self.command_line(process)))
        if not (settings.big_x or settings.c or settings.d):
            from .formats import streamed

            try:
                return self._streamed(process, streamed)
            except streamed.LongLine:
                pass  # pmap's fgets() splits such lines: the whole-file reading below replays it
        elif settings.big_x or settings.c:
            return self._smaps_table(process)
        uses_smaps = settings.x or settings.big_x or settings.c
        try:
            data = procfs.read_file(self.root, process.tgid, b"smaps" if uses_smaps else b"maps",
                                      whole_map=True)
        except ProcessError as error:
            if self.snapshot:
                # pmap is silent here (a live process may just have gone);
                # a snapshot with a file missing deserves a word
                self._snapshot_error(error)
            return 1
        from . import longlines

        if longlines.has_long_line(data):
            mappings = longlines.parse_pieces(data)  # as pmap's 1024-byte fgets() splits them
        elif settings.x:
            try:
                mappings = parse_smaps(data)
            except SmapsFormatError:
                mappings = _lenient_smaps(data)
        else:
            mappings = parse_maps(data)
        self._prepare_labels(mappings)
        from .formats import classic

        if settings.x:
            body = classic.extended_listing(process.start_stack, mappings, self.display)
        elif settings.d:
            body = classic.device_listing(process.start_stack, mappings, self.display)
        else:
            body = classic.default_listing(process.start_stack, mappings, self.display)
        self.console.write(body)
        return 0

    def _snapshot_error(self, error):
        """One line naming the snapshot file that failed: "DIR/PID/maps: reason"."""
        import os

        self.console.message(b"%s: %s" % (os.fsencode(error.path or ""), os.fsencode(error.reason or "")))

    def _explain_missing(self, pid):
        """Why a snapshot PID counts as not found, when it is not simply absent
        (pmap says nothing for an absent PID, and neither does pymap)."""
        if not procfs.exists(self.root, pid):
            return
        try:
            procfs.read_stat(self.root, pid)
        except ProcessError as error:
            self._snapshot_error(error)

    def _streamed(self, process, streamed):
        """The default listing and -x, read and formatted block by block
        (formats/streamed.py): a large process costs neither its whole file
        nor a Mapping per line.  Nothing is written before the file was read
        to its end."""
        extended = self.settings.x
        listing = streamed.extended_listing_blocks if extended else streamed.default_listing_blocks
        try:
            blocks = procfs.read_line_blocks(self.root, process.tgid, b"smaps" if extended else b"maps",
                                             whole_records=extended)
            body = listing(process.start_stack, blocks, self.display, self._prepare_labels)
        except ProcessError as error:
            if self.snapshot:
                self._snapshot_error(error)
            return 1
        self.console.write(body)
        return 0

    def _prepare_labels(self, mappings):
        """Find the SysV minor when a mapping could need it."""
        if self._shm_minor is not _UNKNOWN:
            self.display.shm_minor = self._shm_minor
            return
        from . import shm

        if not shm.may_need_minor(mappings):
            return
        if self.snapshot:
            minor = shm.infer_minor(mappings)
            if minor is None:
                return  # maybe a later process of the snapshot tells
        else:
            minor = shm.probe_live_minor()
        self._shm_minor = minor
        self.display.shm_minor = minor

    def _smaps_table(self, process):
        """-X, -XX and -c/-C: smaps read once, block by block, when it is the
        kernel's regular text (smaps_table.render_blocks); otherwise, or when
        it is small, the whole file goes through pmap's replay."""
        from .formats import smaps_table

        if self._table_state is None:
            self._table_state = smaps_table.TableState(self.compat)
        level = self.settings.big_x
        try:
            blocks = procfs.read_line_blocks(self.root, process.tgid, b"smaps", whole_records=True)
            try:
                pieces = smaps_table.render_blocks(blocks, self.display, level, self.rc, self._table_state)
            except smaps_table.Fallback as fallback:
                blocks.close()
                data = fallback.data
                if data is None:  # read again, as pmap reads it twice anyway
                    data = procfs.read_file(self.root, process.tgid, b"smaps", whole_map=True)
                pieces = [smaps_table.render(data, self.display, level, self.rc, self._table_state)]
        except smaps_table.SmapsTableError as error:
            self.console.fail(error.message)
        except ProcessError as error:
            if self.snapshot:
                self._snapshot_error(error)
            return 1
        for piece in pieces:
            self.console.write(piece)
        return 0


def _json_or_reconcile(self, process):
    """--json and --reconcile for Reporter ``self``: smaps read once, as JSON
    Lines or as the reconciliation table; an unreadable process is an error
    object (JSON) or a message (table), exit status 1."""
    settings = self.settings
    try:
        data = procfs.read_file(self.root, process.tgid, b"smaps", whole_map=True)
        try:
            mappings = parse_smaps(data)
        except SmapsFormatError:
            mappings = _lenient_smaps(data)
    except ProcessError as error:
        if settings.json:
            from .formats import json_lines

            self.console.write(json_lines.dumps(json_lines.error_object(process, error)))
        else:
            self.console.write(header_line(process.tgid, self.command_line(process)))
            self.console.message(str(error).encode("utf-8", "surrogateescape"))
        return 1
    self._prepare_labels(mappings)
    if settings.reconcile:
        from . import reconcile

        figures = reconcile.gather(self.root, process, mappings, self.display, self.snapshot)
        if settings.json:
            from .formats import json_lines

            self.console.write(json_lines.dumps(figures))
        else:
            self.console.write(reconcile.render_text(
                header_line(process.tgid, self.command_line(process)), figures))
        return 0
    from .formats import json_lines

    self.console.write(json_lines.dumps(json_lines.process_object(process, mappings, self.display)))
    return 0


def _lenient_smaps(data):
    """Mappings of a smaps file with lines that fit no pattern left out, as
    pmap's -x reading skips what it does not recognise."""
    from .model import _is_header, _add_field, parse_maps_line

    mappings = []
    current = None
    for line in data.split(b"\n"):
        if not line:
            continue
        if _is_header(line):
            current = parse_maps_line(line)
            if current is not None:
                mappings.append(current)
        elif current is not None:
            try:
                _add_field(current, line)
            except SmapsFormatError:
                pass
    return mappings
