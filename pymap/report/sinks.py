"""Where the records of pymap's reports go: one sink for the whole command,
chosen once from the request (sink_for): text, JSON Lines, or (with
--openmetrics) the OpenMetrics exposition.

A report makes records and a mode hands each to the sink; the sink asks the
record for its own form (``Record``): so no report branches on the format,
and a new format is one sink.  ``render(record)`` gives a record's bytes
for standard output (for a mode that holds them, sorted, before writing);
``emit(record)`` writes them, and the record's message, if any, to
standard error; ``finish()``, once the mode is done, writes what the sink
held back (the metrics sink: everything) and returns the exit status bits
of that (errors.EXIT_*).
"""

from ..errors import EXIT_FAILURE, EXIT_SUCCESS
from .json_lines import dumps

__all__ = ["Record", "Unreadable", "TextSink", "JsonLinesSink", "MetricsSink", "sink_for"]


class Record:
    """One record of a report.  ``text(context)`` is its text (bytes, for a
    terminal or a pipe: the context gives the charset, pmap's words and the
    terminal), ``json_objects()`` its JSON Lines objects (JSON-ready dicts,
    a line each), ``metrics()`` its metric families (report/openmetrics.py's
    MetricFamily; a record without any gives none), and ``message`` a
    line for standard error (bytes, or None) that every sink says, but the
    JSON sink when the record's JSON carries it (``json_says_message``: an
    error object's "error")."""

    message = None
    json_says_message = False

    def text(self, context):
        raise NotImplementedError

    def json_objects(self):
        raise NotImplementedError

    def metrics(self):
        return ()


class Unreadable(Record):
    """A process that could not be read: its header in text, its error
    object in JSON (the process's pid and tgid, "error"), and the error on
    standard error."""

    json_says_message = True

    def __init__(self, process, header, error):
        self.process = process
        self.header = header
        self.error = error
        self.message = str(error).encode("utf-8", "surrogateescape")

    def text(self, context):
        return self.header

    def json_objects(self):
        from .json_lines import error_object

        return [error_object(self.process, self.error)]


class _Sink:
    def __init__(self, context):
        self.context = context
        self.console = context.console

    def write(self, data):
        self.console.write(data)

    json = False

    def emit(self, record):
        data = self.render(record)
        if data:
            self.console.write(data)
        if record.message is not None and not (self.json and record.json_says_message):
            self.console.message(record.message)

    def finish(self):
        return EXIT_SUCCESS


class TextSink(_Sink):
    """Records as text (the default)."""

    def render(self, record):
        return record.text(self.context)


class JsonLinesSink(_Sink):
    """Records as JSON Lines (--json)."""

    json = True

    def render(self, record):
        return b"".join(dumps(item) for item in record.json_objects())


class MetricsSink(_Sink):
    """Records as metrics (--openmetrics, --textfile): the families of every
    record are gathered and written once, by finish(): the OpenMetrics 1.0
    exposition on standard output (it ends with "# EOF", after the last
    family), or with --textfile DIR the Prometheus text format 0.0.4 as
    DIR/pymap.prom (DIR/pymap-BY.prom for --by other than program: one
    folder holds several groupings; node_exporter's textfile collector reads no
    OpenMetrics), put in place atomically (report/textfile.py); nothing on
    standard output then.  Record messages go to standard error at once, as
    from every sink.  A mode that gave no record (it failed before reading
    any process) writes nothing: a textfile keeps its last figures, which
    node_exporter's node_textfile_mtime_seconds shows to be old."""

    def __init__(self, context):
        super().__init__(context)
        self.families = []
        self.records = 0

    def render(self, record):
        from .openmetrics import render

        return render(record.metrics())

    def emit(self, record):
        self.records += 1
        self.families.extend(record.metrics())
        if record.message is not None:
            self.console.message(record.message)

    def finish(self):
        directory = self.context.request.textfile
        if not self.records:
            return EXIT_SUCCESS
        if directory is None:
            from .openmetrics import render

            self.console.write(render(self.families))
            return EXIT_SUCCESS
        from .textfile import TextfileError, textfile_name, write_textfile

        try:
            write_textfile(directory, self.families, name=textfile_name(self.context.request.group_by or "program"))
        except TextfileError as error:
            self.console.message(error.message)
            return EXIT_FAILURE
        return EXIT_SUCCESS


def sink_for(context):
    """The sink the request asks for."""
    request = context.request
    if request.metrics:
        return MetricsSink(context)
    return JsonLinesSink(context) if request.json else TextSink(context)
