"""Where the records of pymap's reports go: one sink for the whole command,
chosen once from the request (sink_for): text, JSON Lines, or (with
--openmetrics) the OpenMetrics exposition.

A report makes records and a mode hands each to the sink; the sink asks the
record for its own form (``Record``): so no report branches on the format,
and a new format is one sink.  ``render(record)`` gives a record's bytes
for standard output (for a mode that holds them, sorted, before writing);
``emit(record)`` writes them, and the record's message, if any, to
standard error.
"""

from .json_lines import dumps

__all__ = ["Record", "Unreadable", "TextSink", "JsonLinesSink", "sink_for"]


class Record:
    """One record of a report.  ``text(context)`` is its text (bytes, for a
    terminal or a pipe: the context gives the charset, pmap's words and the
    terminal), ``json_objects()`` its JSON Lines objects (JSON-ready dicts,
    a line each), ``metrics()`` its OpenMetrics samples (families, see
    report/metrics.py; a record without any gives none), and ``message`` a
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


class TextSink(_Sink):
    """Records as text (the default)."""

    def render(self, record):
        return record.text(self.context)


class JsonLinesSink(_Sink):
    """Records as JSON Lines (--json)."""

    json = True

    def render(self, record):
        return b"".join(dumps(item) for item in record.json_objects())


def sink_for(context):
    """The sink the request asks for."""
    return JsonLinesSink(context) if context.request.json else TextSink(context)
