r"""Metrics for Prometheus: the OpenMetrics 1.0 text format (--openmetrics)
and the Prometheus text format 0.0.4 that node_exporter's textfile
collector reads (--textfile; report/textfile.py puts the file in place).
Records give their families (sinks.Record.metrics()); the metrics sink
(sinks.MetricsSink) renders them once, at the end.

The model
=========

``MetricFamily(name, type, help="", unit=None)`` holds ``samples``, added
with ``family.add(labels, value)``, or many at once with
``family.add_each(labels, name, [(label value, value), ...])`` (a sample
for each, with ``labels`` and the label ``name``: a process's figures, one
a kind); ``LabelSet(labels)`` checks and encodes labels once for samples
of several families:

* ``type`` is one of GAUGE, COUNTER, INFO, UNKNOWN ("gauge", "counter",
  "info", "unknown");
* ``name`` and each label name follow the spec's grammar (a metric name is
  ``[a-zA-Z_:][a-zA-Z0-9_:]*``, a label name ``[a-zA-Z_][a-zA-Z0-9_]*``,
  ASCII only) and do not start with "_" (reserved by the spec); a bad name,
  a ``unit`` that is not the name's suffix (``pymap_rss_bytes`` with unit
  ``bytes``), a counter named ``..._total`` or ``..._created``, an info
  named ``..._info``, an info with a unit or a value other than 1, a counter
  value below 0 or NaN, two samples of a family with the same labels, or a
  help text that starts or ends with a blank (parsers drop those) raise
  ValueError: each is a programming error, not something to report;
* ``labels`` is a mapping (its order is kept), a sequence of (name,
  value) pairs or a LabelSet; a value is bytes (any bytes), str or int,
  mapped by encode_label_value() below;
* ``help`` is a str (bytes are mapped as label values are), written only
  when not empty;
* ``value`` is an int (bool included) or a float (anything with __index__
  or __float__): ints are written as integers (``123``, never ``1.23e2``
  nor ``123.0``), floats with repr() (``0.5``, ``1e+16``, ``100.0``), and
  NaN, +inf and -inf as ``NaN``, ``+Inf`` and ``-Inf``.

Rendering
=========

``render(families)`` returns the OpenMetrics 1.0 exposition (bytes, UTF-8):
per family ``# TYPE``, ``# UNIT`` (only with a unit) and ``# HELP`` (only
with a non-empty help text, in which backslash, newline and double quote are
written ``\\``, ``\n`` and ``\"`` as the ABNF's escaped-string asks), then
its samples ``name{label="value",...} number``: a counter's are named
``<name>_total``, an info's ``<name>_info``; the whole ends with ``# EOF``
and a newline.  The families' names and the names of their samples must not
clash (a gauge ``foo_total`` beside a counter ``foo``): ValueError.

``render_prometheus(families)`` returns the same families in the Prometheus
text format 0.0.4, which is what node_exporter's textfile collector and
``promtool check metrics`` read (both parse with Prometheus's text parser,
which rejects the types ``info`` and ``unknown`` and the escape ``\"`` in a
HELP line, and takes ``# UNIT`` and ``# EOF`` for comments): a counter is
the family ``<name>_total`` of type counter, an info the gauge
``<name>_info``, an unknown the type ``untyped``; HELP escapes only the
backslash and the newline; there is no UNIT line and no ``# EOF``.  Label
values are written the same way in both formats.

Label values: bytes of any value, losslessly
============================================

Prometheus's label values are UTF-8 text, and the exposition allows only
the escapes ``\\``, ``\"`` and ``\n`` in them; process and command names
are arbitrary bytes.  encode_label_value(raw) turns bytes into the text
Prometheus will hold, decode_label_value(text) gives the bytes back:

* valid UTF-8 is kept as it is, control characters included (NUL, tab,
  carriage return, ESC, DEL, U+0080 to U+009F, U+2028 ...): the spec allows
  them, and prometheus_client's parsers, promtool and node_exporter accept
  and keep each of them;
* each byte that is not part of valid UTF-8 (a lone 0x9B, 0xFF, a cut or
  overlong sequence, an encoded surrogate) becomes the 4 characters
  ``\xNN`` (lowercase hex);
* a backslash becomes 2 backslashes, so that text that reads ``\x9b``
  and the byte 0x9B stay apart: the mapping is injective (decode_label_value
  is its inverse), which tests/test_openmetrics.py proves with hypothesis;
* then the exposition's own escaping applies: backslash, double quote and
  newline are written ``\\``, ``\"`` and ``\n`` in the file.

So (bytes as Python writes them; the value Prometheus holds; the file)::

    b"bash"            bash                 bash
    b'say "hi"\n'      say "hi"<newline>    say \"hi\"\n
    b"caf\xc3\xa9"     café                 café (the same 2 UTF-8 bytes)
    b"a\x9bb"          a\x9bb               a\\x9bb
    b"a\\x9bb"         a\\x9bb              a\\\\x9bb
    b"tab\there"       tab<tab>here         tab<tab>here

A str value is first encoded as UTF-8 with surrogateescape (so that
os.fsdecode()'d names map as their bytes do); an int is written in decimal.
Empty values are written (``comm=""``), though Prometheus treats an empty
label as an absent one.

Standard library only, no ``re``.
"""

_type = type  # (MetricFamily takes a parameter named type)

__all__ = ["GAUGE", "COUNTER", "INFO", "UNKNOWN", "TYPES", "MetricFamily", "Sample", "LabelSet", "render",
           "render_prometheus", "encode_label_value", "decode_label_value", "OPENMETRICS_CONTENT_TYPE",
           "PROMETHEUS_CONTENT_TYPE"]

GAUGE = "gauge"
COUNTER = "counter"
INFO = "info"
UNKNOWN = "unknown"
TYPES = (GAUGE, COUNTER, INFO, UNKNOWN)

OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# the suffix of a family's sample names, and every name its samples may take
# (the spec's list: a name must not clash with another family's)
_SAMPLE_SUFFIX = {GAUGE: "", COUNTER: "_total", INFO: "_info", UNKNOWN: ""}
_CLASHING_SUFFIXES = {GAUGE: ("",), COUNTER: ("", "_total", "_created"), INFO: ("", "_info"), UNKNOWN: ("",)}
# the type a family has in the Prometheus text format
_PROMETHEUS_TYPE = {GAUGE: "gauge", COUNTER: "counter", INFO: "gauge", UNKNOWN: "untyped"}

_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_METRIC_FIRST = _ALPHA | {"_", ":"}
_METRIC_CHAR = _METRIC_FIRST | _DIGIT
_LABEL_FIRST = _ALPHA | {"_"}
_LABEL_CHAR = _LABEL_FIRST | _DIGIT
_HEX = frozenset("0123456789abcdef")
_INFINITY = float("inf")
_INT_RANGE = 1 << 1023  # an int within it is a float's (float(int) raises OverflowError from 2**1024 on)
_CHECKED_LABEL_NAMES = set()  # label names found valid already


def _check_name(name, first, rest, what):
    if not isinstance(name, str):
        raise TypeError("%s must be a str, not %s" % (what, type(name).__name__))
    if not name or name[0] not in first or not rest.issuperset(name):
        raise ValueError("invalid %s %r (OpenMetrics allows %s)" % (
            what, name, "[a-zA-Z_:][a-zA-Z0-9_:]*" if first is _METRIC_FIRST else "[a-zA-Z_][a-zA-Z0-9_]*"))
    if name[0] == "_":
        raise ValueError("%s %r starts with '_', which OpenMetrics reserves" % (what, name))


def encode_label_value(value: "bytes | str | int") -> str:
    """The label value Prometheus will hold for ``value`` (see the module's
    docstring): valid UTF-8 kept, a backslash doubled, each byte that is not
    part of valid UTF-8 written ``\\xNN``.  Injective; decode_label_value()
    is its inverse.  (Not yet escaped for the exposition: render() does
    that.)"""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    elif isinstance(value, str):
        raw = value.encode("utf-8", "surrogateescape")  # a lone surrogate not of fsdecode(): ValueError
    elif isinstance(value, int) and not isinstance(value, bool):
        return "%d" % value
    else:
        raise TypeError("a label value must be bytes, str or int, not %s" % type(value).__name__)
    # a backslash (0x5C) is never part of a multi-byte UTF-8 character, nor
    # of an invalid sequence: doubled first, it stays apart from the \xNN
    # the decoder writes for each byte it cannot decode
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def decode_label_value(text: str) -> bytes:
    """The bytes encode_label_value() was given for ``text`` (a label value
    as Prometheus holds it, after the exposition's unescaping).  ValueError
    for text it never returns (a backslash followed by anything but a
    backslash or ``xNN``)."""
    out = bytearray()
    start = 0
    while True:
        at = text.find("\\", start)
        if at < 0:
            out += text[start:].encode("utf-8")
            return bytes(out)
        out += text[start:at].encode("utf-8")
        if text.startswith("\\", at + 1):
            out += b"\\"
            start = at + 2
        elif text.startswith("x", at + 1) and len(text) >= at + 4 and _HEX.issuperset(text[at + 2:at + 4]):
            out.append(int(text[at + 2:at + 4], 16))
            start = at + 4
        else:
            raise ValueError("not a label value of encode_label_value(): %r at %d" % (text, at))


def _help_text(value):
    """The help text as a str (bytes mapped as label values are)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = encode_label_value(value)
    elif not isinstance(value, str):
        raise TypeError("help must be str or bytes, not %s" % type(value).__name__)
    value.encode("utf-8")  # a lone surrogate: UnicodeEncodeError, a ValueError
    if value and (value[0].isspace() or value[-1].isspace()):
        raise ValueError("help text %r starts or ends with a blank, which parsers drop" % value)
    return value


def _number(value):
    """``value`` as an int or a float (TypeError for anything else)."""
    if isinstance(value, int):
        number = int(value)
    elif isinstance(value, float):
        number = float(value)
    elif isinstance(value, (str, bytes, bytearray)):
        raise TypeError("a sample value must be a number, not %s" % type(value).__name__)
    elif hasattr(type(value), "__index__"):
        number = value.__index__()
    elif hasattr(type(value), "__float__"):
        number = float(value)
    else:
        raise TypeError("a sample value must be a number, not %s" % type(value).__name__)
    if isinstance(number, int):
        try:
            float(number)
        except OverflowError:
            raise ValueError("sample value %d is out of a 64-bit float's range" % number) from None
    return number


def _format_number(number):
    if isinstance(number, int):
        return "%d" % number
    if number != number:
        return "NaN"
    if number == _INFINITY:
        return "+Inf"
    if number == -_INFINITY:
        return "-Inf"
    return repr(number)


def _escape(text):
    """Backslash, newline and double quote as the exposition writes them."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Sample:
    """One sample of a family: ``labels``, a tuple of (label name, label
    value as Prometheus holds it: encode_label_value()'s), and ``value``,
    an int or a float; ``text`` is its labels as the exposition writes
    them (``{pid="1",comm="a\\"b"}``, "" for none), the same in both
    formats."""

    __slots__ = ("labels", "value", "text")

    def __init__(self, labels, value, text=None):
        self.labels = labels
        self.value = value
        if text is None:
            text = "{%s}" % ",".join('%s="%s"' % (name, _escape(label)) for name, label in labels) if labels else ""
        self.text = text

    def __repr__(self):
        return "Sample(%r, %r)" % (self.labels, self.value)

    def __eq__(self, other):
        return isinstance(other, Sample) and (self.labels, self.value) == (other.labels, other.value)

    __hash__ = None


class LabelSet:
    """Labels checked and encoded once, for samples of several families (a
    process's pid and program): ``pairs``, the (name, encoded value) pairs,
    and ``parts``, each pair as the exposition writes it.  add() and
    add_each() take one wherever they take labels."""

    __slots__ = ("pairs", "parts")

    def __init__(self, labels=()):
        self.pairs, self.parts = _encode_labels(labels.items() if hasattr(labels, "items") else labels, (), None)

    def __repr__(self):
        return "LabelSet(%r)" % (self.pairs,)


def _encode_labels(pairs, taken, cache):
    """The (name, encoded value) pairs of ``pairs`` and their text in the
    exposition, each label name checked (and not one of ``taken``); bytes
    and str values are looked up in (and added to) ``cache`` (a dict, or
    None)."""
    encoded = []
    parts = []
    for name, label in pairs:
        if name not in _CHECKED_LABEL_NAMES:
            _check_name(name, _LABEL_FIRST, _LABEL_CHAR, "label name")
            _CHECKED_LABEL_NAMES.add(name)
        if name in taken or any(name == other for other, _ in encoded):
            raise ValueError("label %r given twice" % name)
        kind = type(label)
        cached = cache is not None and (kind is bytes or kind is str)
        known = cache.get(label) if cached else None
        if known is None:
            text = encode_label_value(label)
            known = (text, _escape(text))
            if cached:
                cache[label] = known
        encoded.append((name, known[0]))
        parts.append('%s="%s"' % (name, known[1]))
    return tuple(encoded), parts


class MetricFamily:
    """A metric family: ``name``, ``type`` (one of TYPES), ``unit`` (None or
    the name's suffix), ``help`` (str) and ``samples`` (a list of Sample,
    made when asked for; they are added by add() and add_each()).  See the
    module's docstring for what ValueError catches."""

    def __init__(self, name: str, type: str, help: "str | bytes" = "", unit: "str | None" = None):
        _check_name(name, _METRIC_FIRST, _METRIC_CHAR, "metric family name")
        if type not in TYPES:
            raise ValueError("metric type %r is none of %s" % (type, ", ".join(TYPES)))
        for suffix in _CLASHING_SUFFIXES[type]:
            if suffix and name.endswith(suffix):
                raise ValueError("a %s family's name must not end with %r (its samples are named %s%s)"
                                 % (type, suffix, name, _SAMPLE_SUFFIX[type]))
        if unit is not None:
            if not isinstance(unit, str):
                raise TypeError("unit must be a str or None, not %s" % _type(unit).__name__)
            if not unit or not _METRIC_CHAR.issuperset(unit):
                raise ValueError("invalid unit %r" % unit)
            if type == INFO:
                raise ValueError("an info family has no unit")
            if not name.endswith("_" + unit):
                raise ValueError("the family name %r must end with '_%s', its unit" % (name, unit))
        self.name = name
        self.type = type
        self.unit = unit
        self.help = _help_text(help)
        # the samples, compactly: (labels, value, their text) each (a summary has thousands)
        self._rows = []
        # duplicate label sets are found by the frozenset of each sample's labels (_label_sets),
        # or, while every sample came from add_each() with the same label names (_shape: those
        # names; None before the first sample, False once the frozensets are kept), by each
        # group's common labels and the values of the last label (_seen)
        self._label_sets = set()
        self._shape = None
        self._seen = {}
        self._values = {}  # bytes or str label value -> (encode_label_value's, escaped for the exposition)
        self._each = {}  # add_each(): label name -> {label value: its pair and text}

    def __repr__(self):
        return "MetricFamily(%r, %r, help=%r, unit=%r) with %d samples" % (
            self.name, self.type, self.help, self.unit, len(self._rows))

    @property
    def samples(self):
        return [Sample(labels, value, text) for labels, value, text in self._rows]

    @property
    def sample_name(self):
        """The name of its samples in the OpenMetrics exposition."""
        return self.name + _SAMPLE_SUFFIX[self.type]

    def add(self, labels=(), value=1) -> Sample:
        """Add (and return) a sample with ``labels`` (a mapping, (name,
        value) pairs, see encode_label_value, or a LabelSet) and ``value``."""
        encoded, parts = self._labels(labels)
        number = self._value(value)
        self._keep_label_sets()
        label_set = frozenset(encoded)
        if label_set in self._label_sets:
            raise ValueError("%s: two samples with the labels %r" % (self.name, encoded))
        self._label_sets.add(label_set)
        text = "{%s}" % ",".join(parts) if parts else ""
        self._rows.append((encoded, number, text))
        return Sample(encoded, number, text)

    def add_each(self, labels, name, values) -> None:
        """For each (label value, value) pair of ``values``, add a sample
        with ``labels`` and the label ``name`` of that value: add() for each,
        with ``labels`` checked and encoded once (a process's figures, one
        sample per kind)."""
        common, common_parts = self._labels(labels)
        taken = tuple(label for label, _ in common)
        if name in taken:
            raise ValueError("label %r given twice" % name)
        shape = (taken, name)
        if self._shape is None and not self._rows:
            self._shape = shape
        if self._shape != shape:
            self._keep_label_sets()
        seen = self._seen.setdefault(common, set()) if self._shape else None
        prefix = "{%s," % ",".join(common_parts) if common_parts else "{"
        known = self._each.setdefault(name, {})  # label value -> ((name, encoded), its text and "}")
        label_sets = self._label_sets
        rows = self._rows
        plain = self.type == GAUGE
        for label, value in values:  # (add()'s work, the common part done once: a summary has many samples)
            pair = known.get(label)
            if pair is None:
                (encoded,), (part,) = _encode_labels(((name, label),), taken, self._values)
                pair = (encoded, part + "}")
                if type(label) in (bytes, str):
                    known[label] = pair
            number = value if plain and type(value) is int and -_INT_RANGE < value < _INT_RANGE \
                else self._value(value)
            last = pair[0]
            if seen is not None:
                duplicate = last[1] in seen
            else:
                label_set = frozenset(common + (last,))
                duplicate = label_set in label_sets
            if duplicate:
                raise ValueError("%s: two samples with the labels %r" % (self.name, common + (last,)))
            if seen is not None:
                seen.add(last[1])
            else:
                label_sets.add(label_set)
            rows.append((common + (last,), number, prefix + pair[1]))

    def _labels(self, labels):
        if isinstance(labels, LabelSet):
            return labels.pairs, labels.parts
        return _encode_labels(labels.items() if hasattr(labels, "items") else labels, (), self._values)

    def _keep_label_sets(self):
        """From now on, find duplicates by each sample's label set."""
        if self._shape is not False:
            self._label_sets = {frozenset(labels) for labels, _, _ in self._rows}
            self._shape = False
            self._seen = {}

    def _value(self, value):
        """A sample's value as the family's type allows it (ValueError)."""
        number = value if type(value) is int and -_INT_RANGE < value < _INT_RANGE else _number(value)
        if self.type == COUNTER and (number != number or number < 0):
            raise ValueError("a counter's value must be 0 or more, not %r" % number)
        if self.type == INFO and number != 1:
            raise ValueError("an info's value is 1, not %r" % number)
        return number


def _check_set(families):
    """ValueError when two families' names or sample names clash."""
    owners = {}
    for family in families:
        if not isinstance(family, MetricFamily):
            raise TypeError("not a MetricFamily: %r" % (family,))
        for suffix in _CLASHING_SUFFIXES[family.type]:
            name = family.name + suffix
            other = owners.get(name)
            if other is not None:
                raise ValueError("the families %r and %r clash on the name %r" % (other.name, family.name, name))
            owners[name] = family


def _sample_lines(name, family):
    return ["%s%s %s\n" % (name, text, "%d" % value if type(value) is int else _format_number(value))
            for _, value, text in family._rows]


def render(families) -> bytes:
    """The OpenMetrics 1.0 text exposition of ``families`` (an iterable of
    MetricFamily), ``# EOF`` included; UTF-8 bytes."""
    families = list(families)
    _check_set(families)
    lines = []
    for family in families:
        lines.append("# TYPE %s %s\n" % (family.name, family.type))
        if family.unit is not None:
            lines.append("# UNIT %s %s\n" % (family.name, family.unit))
        if family.help:
            lines.append("# HELP %s %s\n" % (family.name, _escape(family.help)))
        name = family.sample_name
        lines.extend(_sample_lines(name, family))
    lines.append("# EOF\n")
    return "".join(lines).encode("utf-8")


def render_prometheus(families) -> bytes:
    """``families`` in the Prometheus text format 0.0.4 (what node_exporter's
    textfile collector and promtool check metrics read); UTF-8 bytes."""
    families = list(families)
    _check_set(families)
    lines = []
    for family in families:
        name = family.sample_name
        if family.help:
            lines.append("# HELP %s %s\n" % (name, family.help.replace("\\", "\\\\").replace("\n", "\\n")))
        lines.append("# TYPE %s %s\n" % (name, _PROMETHEUS_TYPE[family.type]))
        lines.extend(_sample_lines(name, family))
    return "".join(lines).encode("utf-8")
