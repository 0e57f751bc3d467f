"""pymap.openmetrics: the OpenMetrics and Prometheus text expositions, the
label value mapping of arbitrary bytes, and write_textfile().

Every exposition rendered here is read back with prometheus_client's parsers
(the OpenMetrics one for render(), the text one for render_prometheus()),
and, where they are installed, with ``promtool check metrics`` and through
a real node_exporter's textfile collector; those tests skip, saying why,
where the tool is missing (apt-get install prometheus
prometheus-node-exporter; pip install prometheus-client, which the test
extra names).
"""

import contextlib
import errno
import json
import math
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import livetools
from conftest import ROOT
from pymap import openmetrics as om
from pymap.openmetrics import COUNTER, GAUGE, INFO, UNKNOWN, MetricFamily, TextfileError

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
except ImportError:  # pragma: no cover
    parse_openmetrics = parse_prometheus = None

PROMTOOL = shutil.which("promtool")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")

needs_client = pytest.mark.skipif(parse_openmetrics is None,
                                  reason="prometheus_client is not installed (pip install prometheus-client, "
                                         "or the test extra)")
needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="promtool is not installed (apt-get install prometheus)")
needs_node_exporter = pytest.mark.skipif(NODE_EXPORTER is None or parse_prometheus is None,
                                         reason="prometheus-node-exporter or prometheus_client is not installed "
                                                "(apt-get install prometheus-node-exporter; pip install "
                                                "prometheus-client)")
needs_root = pytest.mark.skipif(not livetools.is_root(), reason="needs root (to act as another user)")

# values a process or command name can take that a careless writer breaks on
HOSTILE = [bytes([byte]) for byte in range(256)] + [
    b"", b"\\", b"\\\\", b"\\x9b", b"\x9b", b"\\\x9b", b'"', b'\\"', b"\n", b"\\n", b"\r\n", b"\t", b"\0",
    b"# EOF", b"\n# EOF\n", b"}", b"{a=\"b\"} 1", b"a,b=c", b"=", b" ", b"  lead and trail  ",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xe2\x82",
    b"\xe2\x82\xe2\x82\xac", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80", b"\xef\xbb\xbf", b"\xe2\x80\xa8",
    b"\xc2\x9b[31mred", b"\x1b[31mred", b"\xef\xbf\xbe", b"\xf4\x8f\xbf\xbf", b"caf\xc3\xa9", b"caf\xe9",
    b"\xff\xfe", b"kworker/0:1H-kblockd", b"(sd-pam)", b"a\x00b\x00", bytes(range(256)),
]


def same_number(parsed, given):
    if isinstance(given, float) and math.isnan(given):
        return isinstance(parsed, float) and math.isnan(parsed)
    if isinstance(parsed, int) and isinstance(given, int):
        return parsed == given
    return float(parsed) == float(given)


def check_openmetrics(families):
    """render(families) read back by prometheus_client's OpenMetrics parser:
    the same families, samples, label values and values.  Returns the text."""
    text = om.render(families).decode("utf-8")  # (strict: it is UTF-8)
    assert text.endswith("\n# EOF\n") or text == "# EOF\n"
    parsed = list(parse_openmetrics(text))
    assert [(metric.name, metric.type, metric.unit, metric.documentation) for metric in parsed] == \
        [(family.name, family.type, family.unit or "", family.help) for family in families]
    for metric, family in zip(parsed, families):
        assert len(metric.samples) == len(family.samples)
        for read, sample in zip(metric.samples, family.samples):
            assert read.name == family.sample_name
            assert read.labels == dict(sample.labels)
            assert same_number(read.value, sample.value), (read.value, sample.value)
            assert read.timestamp is None
    return text


def check_prometheus(families):
    """render_prometheus(families) read back by prometheus_client's text
    parser (which names a counter without its _total, as OpenMetrics does)."""
    text = om.render_prometheus(families).decode("utf-8")
    parsed = list(parse_prometheus(text))
    expected = []
    for family in families:
        if family.type == COUNTER:
            expected.append((family.name, "counter"))
        elif family.type == INFO:
            expected.append((family.sample_name, "gauge"))
        else:
            expected.append((family.name, family.type))
    assert [(metric.name, metric.type) for metric in parsed] == expected
    for metric, family in zip(parsed, families):
        assert metric.documentation == family.help
        assert len(metric.samples) == len(family.samples)
        for read, sample in zip(metric.samples, family.samples):
            assert read.name == family.sample_name
            assert read.labels == dict(sample.labels)
            assert same_number(read.value, sample.value), (read.value, sample.value)
    return text


def hostile_families():
    """Families like pymap's summary's, with every HOSTILE name."""
    rss = MetricFamily("pymap_process_rss_bytes", GAUGE, 'Resident memory of a process, "RSS" \\ per PID\nin bytes',
                       unit="bytes")
    for pid, name in enumerate(HOSTILE, 1):
        rss.add({"pid": pid, "comm": name, "user": b"u\xff%d" % pid}, pid * 4096)
    runs = MetricFamily("pymap_runs", COUNTER, "Times pymap ran.")
    runs.add({}, 7)
    build = MetricFamily("pymap_build", INFO, "pymap's version.")
    build.add({"version": "1.0"})
    ratio = MetricFamily("pymap_ratio", UNKNOWN, "A ratio.")
    ratio.add({"kind": "nan"}, float("nan"))
    ratio.add({"kind": "inf"}, float("inf"))
    ratio.add({"kind": "-inf"}, float("-inf"))
    ratio.add({"kind": "small"}, 5e-324)
    ratio.add({"kind": "big"}, 1.7976931348623157e308)
    ratio.add({"kind": "int"}, -(2 ** 63))
    return [rss, runs, build, ratio]


# the model and its rendering

def test_render_matches_the_spec_line_by_line():
    size = MetricFamily("pymap_rss_bytes", GAUGE, 'Resident "set" size\nof a \\ process', unit="bytes")
    size.add({"pid": 1, "comm": b'a\x9b"b\\x9b\n\tc'}, 1234)
    size.add([("pid", 2), ("comm", "caf\u00e9")], 0.5)
    runs = MetricFamily("pymap_runs", COUNTER, "Runs.")
    runs.add({}, 3)
    build = MetricFamily("pymap_build", INFO, "Build.")
    build.add({"version": "1.0"})
    other = MetricFamily("pymap_other", UNKNOWN)
    other.add((), float("nan"))
    other.add({"a": ""}, float("-inf"))
    assert om.render([size, runs, build, other]) == (
        b'# TYPE pymap_rss_bytes gauge\n'
        b'# UNIT pymap_rss_bytes bytes\n'
        b'# HELP pymap_rss_bytes Resident \\"set\\" size\\nof a \\\\ process\n'
        b'pymap_rss_bytes{pid="1",comm="a\\\\x9b\\"b\\\\\\\\x9b\\n\tc"} 1234\n'
        b'pymap_rss_bytes{pid="2",comm="caf\xc3\xa9"} 0.5\n'
        b'# TYPE pymap_runs counter\n'
        b'# HELP pymap_runs Runs.\n'
        b'pymap_runs_total 3\n'
        b'# TYPE pymap_build info\n'
        b'# HELP pymap_build Build.\n'
        b'pymap_build_info{version="1.0"} 1\n'
        b'# TYPE pymap_other unknown\n'
        b'pymap_other NaN\n'
        b'pymap_other{a=""} -Inf\n'
        b'# EOF\n')
    assert om.render_prometheus([size, runs, build, other]) == (
        b'# HELP pymap_rss_bytes Resident "set" size\\nof a \\\\ process\n'
        b'# TYPE pymap_rss_bytes gauge\n'
        b'pymap_rss_bytes{pid="1",comm="a\\\\x9b\\"b\\\\\\\\x9b\\n\tc"} 1234\n'
        b'pymap_rss_bytes{pid="2",comm="caf\xc3\xa9"} 0.5\n'
        b'# HELP pymap_runs_total Runs.\n'
        b'# TYPE pymap_runs_total counter\n'
        b'pymap_runs_total 3\n'
        b'# HELP pymap_build_info Build.\n'
        b'# TYPE pymap_build_info gauge\n'
        b'pymap_build_info{version="1.0"} 1\n'
        b'# TYPE pymap_other untyped\n'
        b'pymap_other NaN\n'
        b'pymap_other{a=""} -Inf\n')
    if parse_openmetrics is not None:
        check_openmetrics([size, runs, build, other])
        check_prometheus([size, runs, build, other])


def test_an_empty_set_is_just_eof():
    assert om.render([]) == b"# EOF\n"
    assert om.render_prometheus([]) == b""


@pytest.mark.parametrize("value, text", [
    (0, "0"), (-1, "-1"), (10 ** 18, "1000000000000000000"), (2 ** 64, "18446744073709551616"), (True, "1"),
    (False, "0"), (1.0, "1.0"), (100.0, "100.0"), (0.1, "0.1"), (1e16, "1e+16"), (1.5e-7, "1.5e-07"),
    (-0.0, "-0.0"), (5e-324, "5e-324"), (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"),
])
def test_numbers(value, text):
    family = MetricFamily("pymap_n", GAUGE)
    family.add({}, value)
    assert om.render([family]) == b"# TYPE pymap_n gauge\npymap_n %s\n# EOF\n" % text.encode()
    if parse_openmetrics is not None:
        check_openmetrics([family])
        check_prometheus([family])


def test_numbers_of_other_types():
    class Index:
        def __index__(self):
            return 42

    class Real:
        def __float__(self):
            return 2.5

    family = MetricFamily("pymap_n", GAUGE)
    family.add({"a": "1"}, Index())
    family.add({"a": "2"}, Real())
    assert [sample.value for sample in family.samples] == [42, 2.5]
    for bad in ("1", b"1", None, [1]):
        with pytest.raises(TypeError):
            family.add({"a": repr(bad)}, bad)
    with pytest.raises(ValueError):
        family.add({"a": "huge"}, 10 ** 400)


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a.b", "a b", "caf\u00e9", "_reserved", "__name__", "a\n"])
def test_bad_family_names(name):
    with pytest.raises(ValueError):
        MetricFamily(name, GAUGE)


@pytest.mark.parametrize("name", ["", "1a", "a:b", "a-b", "\u00e9", "_x", "__name__", "a b"])
def test_bad_label_names(name):
    family = MetricFamily("pymap_x", GAUGE)
    with pytest.raises(ValueError):
        family.add({name: "v"}, 1)


def test_help_of_bytes_is_mapped_as_label_values():
    assert MetricFamily("pymap_x", GAUGE, b"caf\xe9 \\ x").help == "caf\\xe9 \\\\ x"
    with pytest.raises(ValueError):
        MetricFamily("pymap_x", GAUGE, b" x")
    with pytest.raises(TypeError):
        MetricFamily("pymap_x", GAUGE, 1)


def test_good_names():
    MetricFamily("a", GAUGE)
    MetricFamily("pymap:rss_bytes:sum", GAUGE).add({"Z9_": "v", "a": "w"}, 1)
    with pytest.raises(TypeError):
        MetricFamily(b"pymap", GAUGE)


@pytest.mark.parametrize("arguments", [
    ("pymap_x", "histogram"), ("pymap_x", "untyped"), ("pymap_x", "Gauge"),
    ("pymap_x_total", COUNTER), ("pymap_x_created", COUNTER), ("pymap_x_info", INFO),
    ("pymap_x", GAUGE, "", "bytes"), ("pymap_xbytes", GAUGE, "", "bytes"), ("pymap_x_bytes", INFO, "", "bytes"),
    ("pymap_x_bytes", GAUGE, "", ""), ("pymap_x_by-tes", GAUGE, "", "by-tes"),
    ("pymap_x", GAUGE, " leading blank"), ("pymap_x", GAUGE, "trailing newline\n"), ("pymap_x", GAUGE, "\ud800"),
])
def test_bad_families(arguments):
    with pytest.raises(ValueError):
        MetricFamily(*arguments)


def test_bad_samples():
    family = MetricFamily("pymap_x", GAUGE)
    family.add({"pid": 1, "comm": b"a"}, 1)
    with pytest.raises(ValueError):  # the same label set, in any order
        family.add({"comm": b"a", "pid": "1"}, 2)
    with pytest.raises(ValueError):
        family.add([("pid", 1), ("pid", 2)], 1)
    with pytest.raises(TypeError):
        family.add({"pid": 1.5}, 1)
    with pytest.raises(TypeError):
        family.add({"pid": True}, 1)
    counter = MetricFamily("pymap_c", COUNTER)
    for bad in (-1, -0.5, float("nan")):
        with pytest.raises(ValueError):
            counter.add({"v": repr(bad)}, bad)
    counter.add({}, 0)
    info = MetricFamily("pymap_i", INFO)
    with pytest.raises(ValueError):
        info.add({"a": "b"}, 2)
    info.add({"a": "b"}, 1.0)


@pytest.mark.parametrize("first, second", [
    (("pymap_x", GAUGE), ("pymap_x", GAUGE)),
    (("pymap_x", COUNTER), ("pymap_x_total", GAUGE)),
    (("pymap_x", COUNTER), ("pymap_x_created", UNKNOWN)),
    (("pymap_x", INFO), ("pymap_x_info", GAUGE)),
    (("pymap_x", INFO), ("pymap_x", COUNTER)),
])
def test_clashing_families(first, second):
    families = [MetricFamily(*first), MetricFamily(*second)]
    for render in (om.render, om.render_prometheus):
        with pytest.raises(ValueError):
            render(families)
        with pytest.raises(ValueError):
            render(families[::-1])


# label values: bytes of any value

def test_label_value_examples():
    encode = om.encode_label_value
    assert encode(b"bash") == "bash"
    assert encode(b'say "hi"\n') == 'say "hi"\n'
    assert encode(b"caf\xc3\xa9") == "caf\u00e9"
    assert encode(b"a\x9bb") == "a\\x9bb"  # the 4 characters \x9b
    assert encode(b"a\\x9bb") == "a\\\\x9bb"  # a backslash is doubled: 5 characters
    assert encode(b"tab\there\0") == "tab\there\0"
    assert encode(b"\xc2\x9b") == "\u009b"  # valid UTF-8 (a C1 control) is kept
    assert encode(b"\xed\xa0\x80") == "\\xed\\xa0\\x80"  # an encoded surrogate is not valid UTF-8
    assert encode(b"\xe2\x82\xe2\x82\xac") == "\\xe2\\x82\u20ac"  # a cut character before a whole one
    assert encode("caf\u00e9") == encode(b"caf\xc3\xa9")
    assert encode(b"caf\xe9".decode("utf-8", "surrogateescape")) == encode(b"caf\xe9") == "caf\\xe9"
    assert encode(1234) == "1234"
    assert encode(bytearray(b"\xff")) == encode(memoryview(b"\xff")) == "\\xff"
    with pytest.raises(ValueError):
        encode("\ud800")
    for bad in (1.5, None, True, [b"a"]):
        with pytest.raises(TypeError):
            encode(bad)


def test_label_value_examples_in_the_file():
    family = MetricFamily("pymap_x", GAUGE)
    for index, value in enumerate([b'say "hi"\n', b"a\x9bb", b"a\\x9bb"]):
        family.add({"i": index, "comm": value}, 1)
    lines = om.render([family]).split(b"\n")
    assert lines[1] == b'pymap_x{i="0",comm="say \\"hi\\"\\n"} 1'
    assert lines[2] == b'pymap_x{i="1",comm="a\\\\x9bb"} 1'
    assert lines[3] == b'pymap_x{i="2",comm="a\\\\\\\\x9bb"} 1'
    if parse_openmetrics is not None:
        (metric,) = parse_openmetrics(om.render([family]).decode())
        assert [sample.labels["comm"] for sample in metric.samples] == ['say "hi"\n', "a\\x9bb", "a\\\\x9bb"]


@given(st.binary(max_size=64))
def test_label_values_round_trip(raw):
    """decode_label_value is a left inverse: the mapping is injective."""
    text = om.encode_label_value(raw)
    assert om.decode_label_value(text) == raw
    text.encode("utf-8")  # no surrogate: valid UTF-8 once written


@given(st.binary(max_size=16), st.binary(max_size=16))
def test_label_values_are_injective(first, second):
    if first != second:
        assert om.encode_label_value(first) != om.encode_label_value(second)


@given(st.lists(st.sampled_from([b"\\", b"x", b"9", b"b", b"\x9b", b"\xc2", b"\x80", b"\\x", b"\\\\", b"\n"]),
                max_size=12),
       st.lists(st.sampled_from([b"\\", b"x", b"9", b"b", b"\x9b", b"\xc2", b"\x80", b"\\x", b"\\\\", b"\n"]),
                max_size=12))
def test_label_values_are_injective_where_they_look_alike(first, second):
    """Pieces of backslashes, x, hex digits and undecodable bytes: the
    cases where a careless mapping collides."""
    first, second = b"".join(first), b"".join(second)
    if first != second:
        assert om.encode_label_value(first) != om.encode_label_value(second)
    assert om.decode_label_value(om.encode_label_value(first)) == first


@given(st.text(max_size=32))
def test_str_label_values_map_as_their_utf8(text):
    assert om.encode_label_value(text) == om.encode_label_value(text.encode("utf-8"))


@pytest.mark.parametrize("text", ["\\", "a\\", "\\q", "\\n", "\\x9", "\\xzz", "\\x9B", "\\u1234", "\ud800"])
def test_decode_refuses_what_encode_never_writes(text):
    with pytest.raises(ValueError):
        om.decode_label_value(text)


@needs_client
def test_hostile_label_values_read_back():
    families = hostile_families()
    text = check_openmetrics(families)
    check_prometheus(families)
    lines = text.split("\n")
    assert lines.pop() == "" and lines.pop() == "# EOF"  # one line per sample, none cut by a value:
    assert sum(not line.startswith("# ") for line in lines) == sum(len(family.samples) for family in families)
    assert all(line.startswith(("# TYPE ", "# UNIT ", "# HELP ", "pymap_")) for line in lines)
    for metric in parse_openmetrics(text):
        if metric.name == "pymap_process_rss_bytes":
            assert [om.decode_label_value(sample.labels["comm"]) for sample in metric.samples] == HOSTILE


@needs_client
@given(st.lists(st.binary(max_size=32), unique=True, max_size=8))
def test_any_bytes_come_back_from_the_parsers(names):
    """Arbitrary command names, rendered in both formats, parsed, then
    decoded with decode_label_value: the very bytes."""
    family = MetricFamily("pymap_process_rss_bytes", GAUGE, "RSS.", unit="bytes")
    for name in names:
        family.add({"comm": name}, len(name))
    (metric,) = parse_openmetrics(om.render([family]).decode("utf-8"))
    assert [om.decode_label_value(sample.labels["comm"]) for sample in metric.samples] == names
    (metric,) = parse_prometheus(om.render_prometheus([family]).decode("utf-8"))
    assert [om.decode_label_value(sample.labels["comm"]) for sample in metric.samples] == names


# families of hypothesis's making

_LABEL_NAMES = ["pid", "comm", "user", "a", "Z_9"]
_help = st.text(max_size=40).filter(lambda text: not text or not (text[0].isspace() or text[-1].isspace()))
_label_value = st.one_of(st.binary(max_size=24), st.text(max_size=12), st.integers(), st.sampled_from(HOSTILE))


@st.composite
def _families(draw, help_text=_help):
    families = []
    for index, kind in enumerate(draw(st.lists(st.sampled_from(om.TYPES), max_size=4))):
        unit = draw(st.sampled_from([None, "bytes"])) if kind != INFO else None
        name = "pymap_f%d" % index + ("_" + unit if unit else "")
        family = MetricFamily(name, kind, draw(help_text), unit=unit)
        names = draw(st.lists(st.sampled_from(_LABEL_NAMES), unique=True, max_size=3))
        for _ in range(draw(st.integers(0, 4))):
            labels = [(label, draw(_label_value)) for label in names]
            if kind == INFO:
                value = 1
            elif kind == COUNTER:
                value = draw(st.one_of(st.integers(0, 2 ** 70), st.floats(min_value=0, allow_nan=False)))
            else:
                value = draw(st.one_of(st.integers(-2 ** 70, 2 ** 70), st.floats()))
            try:
                family.add(labels, value)
            except ValueError:  # the same labels drawn twice
                pass
        families.append(family)
    return families


@needs_client
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_families())
def test_any_families_read_back(families):
    check_openmetrics(families)
    check_prometheus(families)


# promtool: it reads the Prometheus text format (its parser takes # UNIT and
# # EOF for comments, and refuses the types info and unknown and a \" in
# HELP), so render_prometheus() is what it checks

def promtool(data):
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=data, capture_output=True, timeout=30)
    return result.returncode, result.stdout + result.stderr


@needs_promtool
def test_promtool_accepts_the_text_format_with_hostile_values():
    assert promtool(om.render_prometheus(hostile_families())) == (0, b"")


@needs_promtool
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_families(help_text=_help.filter(bool)))
def test_promtool_accepts_any_families_in_the_text_format(families):
    assert promtool(om.render_prometheus(families)) == (0, b"")


@needs_promtool
def test_promtool_reads_openmetrics_only_where_the_formats_agree():
    """An OpenMetrics exposition of gauges (# UNIT and # EOF included)
    passes: promtool takes those lines for comments.  The types info and
    unknown, a counter's family named without _total, and a double quote in
    HELP (which OpenMetrics escapes and the text format does not) do not:
    that is why render_prometheus() exists."""
    gauge = MetricFamily("pymap_process_rss_bytes", GAUGE, "Resident memory \\ of a process\nin bytes.",
                         unit="bytes")
    for pid, name in enumerate(HOSTILE, 1):
        gauge.add({"pid": pid, "comm": name}, pid)
    assert promtool(om.render([gauge])) == (0, b"")
    quoted = MetricFamily("pymap_g", GAUGE, 'a "quoted" word')
    for family in hostile_families() + [quoted]:
        if family.type in (INFO, UNKNOWN, COUNTER) or '"' in family.help:
            status, _ = promtool(om.render([family]))
            assert status != 0, family
            assert promtool(om.render_prometheus([family])) == (0, b""), family


# write_textfile

def listing(directory):
    return sorted(os.listdir(directory))


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture
def textfile_dir(tmp_path):
    directory = tmp_path / "textfile"
    directory.mkdir()
    directory.chmod(0o755)
    return directory


def test_textfile_is_written_0644_whatever_the_umask(textfile_dir):
    old = os.umask(0o077)
    try:
        om.write_textfile(str(textfile_dir), b"# TYPE a gauge\na 1\n")
    finally:
        os.umask(old)
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(textfile_dir / "pymap.prom") == b"# TYPE a gauge\na 1\n"
    assert stat.S_IMODE(os.stat(textfile_dir / "pymap.prom").st_mode) == 0o644


def test_textfile_of_families_is_the_text_format(textfile_dir):
    families = hostile_families()
    om.write_textfile(os.fsencode(textfile_dir), families)
    assert read(textfile_dir / "pymap.prom") == om.render_prometheus(families)
    with pytest.raises(TypeError):
        om.write_textfile(textfile_dir, "a str")


def test_textfile_replaces_the_old_one_and_a_link(textfile_dir, tmp_path):
    om.write_textfile(textfile_dir, b"old\n")
    om.write_textfile(textfile_dir, bytearray(b"new\n"))
    assert read(textfile_dir / "pymap.prom") == b"new\n"
    target = tmp_path / "target"
    target.write_bytes(b"the link's target\n")
    os.unlink(textfile_dir / "pymap.prom")
    os.symlink(target, textfile_dir / "pymap.prom")
    om.write_textfile(textfile_dir, b"newer\n")
    assert not os.path.islink(textfile_dir / "pymap.prom")
    assert read(textfile_dir / "pymap.prom") == b"newer\n"
    assert read(target) == b"the link's target\n"
    assert listing(textfile_dir) == ["pymap.prom"]


def test_textfile_temporary_name_is_ignored_by_node_exporter(textfile_dir, monkeypatch):
    seen = []
    real_write = os.write

    def write(fd, data):
        seen.append(listing(textfile_dir))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    om.write_textfile(textfile_dir, b"x\n")
    monkeypatch.undo()
    (temporary,) = seen[0]
    assert temporary.startswith(".pymap-") and temporary.endswith(".tmp") and not temporary.endswith(".prom")
    assert listing(textfile_dir) == ["pymap.prom"]


def test_textfile_reader_never_sees_a_partial_file(textfile_dir):
    """A reader looping beside the writer reads one whole version or
    another, and sees nothing in the folder but pymap.prom and the
    temporary file."""
    versions = [b"# TYPE pymap_v gauge\n" + b"pymap_v{pad=\"%s\"} %d\n" % (b"x" * 200000, index) for index in range(40)]
    known = set(versions)
    problems = []
    reads = [0]
    done = threading.Event()
    path = textfile_dir / "pymap.prom"

    def reader():
        while not done.is_set():
            try:
                data = read(path)
            except FileNotFoundError:
                if reads[0]:
                    problems.append("pymap.prom vanished")
                continue
            reads[0] += 1
            if data not in known:
                problems.append("a partial file of %d bytes" % len(data))
            for name in os.listdir(textfile_dir):
                if name != "pymap.prom" and not (name.startswith(".pymap-") and name.endswith(".tmp")):
                    problems.append("unexpected file %r" % name)

    thread = threading.Thread(target=reader)
    om.write_textfile(textfile_dir, versions[0])
    thread.start()
    try:
        for version in versions[1:]:
            om.write_textfile(textfile_dir, version)
    finally:
        done.set()
        thread.join(30)
    assert not thread.is_alive()
    assert problems == []
    assert reads[0] > 0
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(path) == versions[-1]


def test_textfile_from_another_thread(textfile_dir):
    """No signal handler can be set outside the main thread: it writes all
    the same."""
    errors = []

    def write():
        try:
            om.write_textfile(textfile_dir, b"x\n")
        except BaseException as error:  # pragma: no cover
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(30)
    assert errors == [] and read(textfile_dir / "pymap.prom") == b"x\n"


def _failing(monkeypatch, name, error, after=0):
    """os.NAME raising ``error`` from its call number ``after`` on."""
    real = getattr(os, name)
    calls = [0]

    def fake(*args, **kwargs):
        calls[0] += 1
        if calls[0] > after:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fake)


@pytest.mark.parametrize("name, error, after, message", [
    ("write", OSError(errno.ENOSPC, "No space left on device"), 1,
     b"No space left on device (pymap.prom left as it was)"),
    ("write", OSError(errno.EIO, "Input/output error"), 0, b"Input/output error (pymap.prom left as it was)"),
    ("fsync", OSError(errno.EIO, "Input/output error"), 0, b"Input/output error (pymap.prom left as it was)"),
    ("fchmod", OSError(errno.EPERM, "Operation not permitted"), 0,
     b"Operation not permitted (pymap.prom left as it was)"),
    ("rename", OSError(errno.EXDEV, "Invalid cross-device link"), 0, b"pymap.prom: Invalid cross-device link"),
    ("open", OSError(errno.EMFILE, "Too many open files"), 0, b"Too many open files"),
])
def test_textfile_failure_leaves_nothing_behind(textfile_dir, monkeypatch, name, error, after, message):
    om.write_textfile(textfile_dir, b"old\n")
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:3]))  # several writes
    if name == "open":  # the folder opens; the temporary file does not
        real_open = os.open

        def open_(path, flags, *args, **kwargs):
            if "dir_fd" in kwargs:
                raise error
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", open_)
    else:
        _failing(monkeypatch, name, error, after)
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(textfile_dir, b"new contents\n")
    monkeypatch.undo()
    assert caught.value.message == b"--textfile %s: %s" % (os.fsencode(textfile_dir), message)
    assert str(caught.value)  # (an Exception as any other)
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(textfile_dir / "pymap.prom") == b"old\n"


def test_textfile_keyboard_interrupt_mid_write_leaves_nothing(textfile_dir, monkeypatch):
    _failing(monkeypatch, "write", KeyboardInterrupt(), 0)
    with pytest.raises(KeyboardInterrupt):
        om.write_textfile(textfile_dir, b"new\n")
    monkeypatch.undo()
    assert listing(textfile_dir) == []


def test_textfile_over_a_folder_named_pymap_prom(textfile_dir):
    (textfile_dir / "pymap.prom").mkdir()
    (textfile_dir / "pymap.prom" / "inside").write_bytes(b"")
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(textfile_dir, b"x\n")
    assert caught.value.message == b"--textfile %s: pymap.prom: Is a directory" % os.fsencode(textfile_dir)
    assert listing(textfile_dir) == ["pymap.prom"]


_SIGNAL_CHILD = r"""
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from pymap import openmetrics
directory, name, disposition = sys.argv[2:5]
number = getattr(signal, name)
if disposition == "SIG_DFL":
    signal.signal(number, signal.SIG_DFL)
real_write = os.write
def write(fd, data):  # the signal comes in the middle of the file
    os.kill(os.getpid(), number)
    return real_write(fd, data[:10])
os.write = write
try:
    openmetrics.write_textfile(directory, b"new contents\n" * 10)
except KeyboardInterrupt:
    print("KeyboardInterrupt", sorted(os.listdir(directory)))
    sys.exit(130)
print("not interrupted")
"""


@pytest.mark.parametrize("name, disposition", [
    ("SIGTERM", "SIG_DFL"), ("SIGHUP", "SIG_DFL"), ("SIGINT", "SIG_DFL"), ("SIGINT", "python"),
])
def test_textfile_signal_mid_write_is_acted_on_after_cleanup(textfile_dir, name, disposition):
    """The signal is noted, the write stops at the next checkpoint, the
    temporary file goes, then the process ends by the signal (or, under
    Python's SIGINT handler, KeyboardInterrupt is raised)."""
    om.write_textfile(textfile_dir, b"old\n")
    result = subprocess.run([sys.executable, "-c", _SIGNAL_CHILD, ROOT, str(textfile_dir), name, disposition],
                            capture_output=True, timeout=60)
    if disposition == "SIG_DFL":
        assert result.returncode == -getattr(signal, name), result
        assert result.stdout == b""
    else:
        assert (result.returncode, result.stdout) == (130, b"KeyboardInterrupt ['pymap.prom']\n"), result
    assert listing(textfile_dir) == ["pymap.prom"]
    assert read(textfile_dir / "pymap.prom") == b"old\n"


def test_textfile_signals_are_restored(textfile_dir):
    before = [signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)]
    om.write_textfile(textfile_dir, b"x\n")
    assert [signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)] == before


_FULL_CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from pymap import openmetrics
directory = sys.argv[2]
openmetrics.write_textfile(directory, b"small\n")
try:
    openmetrics.write_textfile(directory, b"x" * (4 << 20))
    message = None
except openmetrics.TextfileError as error:
    message = error.message.decode()
with open(os.path.join(directory, "pymap.prom"), "rb") as handle:
    kept = handle.read().decode()
print(json.dumps([message, sorted(os.listdir(directory)), kept]))
"""


@pytest.mark.skipif(not livetools.can_unshare(), reason="needs root and unshare -m (to mount a small tmpfs)")
def test_textfile_on_a_full_filesystem(tmp_path):
    """A 64 KiB tmpfs mounted in a private mount namespace: the big write
    fails with ENOSPC, the small file stays, nothing else is left."""
    mount = tmp_path / "full"
    mount.mkdir()
    result = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs -o size=64k,mode=0755 pymap-test "$1" && exec "$2" -c "$3" "$4" "$1"',
         "sh", str(mount), sys.executable, _FULL_CHILD, ROOT],
        capture_output=True, timeout=60)
    assert result.returncode == 0, result
    message, names, kept = json.loads(result.stdout)
    assert message == "--textfile %s: No space left on device (pymap.prom left as it was)" % mount
    assert names == ["pymap.prom"]
    assert kept == "small\n"


# the folder

def test_textfile_missing_folder(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(missing, b"x\n")
    assert caught.value.message == b"--textfile %s: No such file or directory" % os.fsencode(missing)
    assert not missing.exists()  # never made
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(missing, b"x\n", option=b"")
    assert caught.value.message == b"%s: No such file or directory" % os.fsencode(missing)
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(b"bad\0name", b"x\n")
    assert caught.value.message == b"--textfile bad\0name: invalid name"


def test_textfile_folder_that_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"")
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(path, b"x\n")
    assert caught.value.message == b"--textfile %s: Not a directory" % os.fsencode(path)


_NOBODY_CHILD = r"""
import sys
from pymap import openmetrics
try:
    openmetrics.write_textfile(sys.argv[1], b"x\n")
except openmetrics.TextfileError as error:
    sys.stdout.buffer.write(error.message)
"""


def test_textfile_folder_not_writable(tmp_path):
    if livetools.is_root():  # root writes anywhere: ask as nobody
        with livetools.public_folder("pymap-textfile-") as folder:
            code = livetools.public_copy_of_pymap(folder)
            directory = os.path.join(folder, "textfile")
            os.mkdir(directory, 0o755)
            result = subprocess.run([livetools.SYSTEM_PYTHON, "-c", _NOBODY_CHILD, directory], cwd=code,
                                    capture_output=True, timeout=60, user=livetools.NOBODY,
                                    group=livetools.NOBODY, extra_groups=[],
                                    env={"PATH": "/usr/bin:/bin", "LANG": "C", "PYTHONPATH": code,
                                         "PYTHONDONTWRITEBYTECODE": "1"})
            assert (result.stdout, result.stderr) == (b"--textfile %s: Permission denied" % directory.encode(), b"")
            assert os.listdir(directory) == []
    else:
        directory = tmp_path / "textfile"
        directory.mkdir(mode=0o555)
        with pytest.raises(TextfileError) as caught:
            om.write_textfile(directory, b"x\n")
        assert caught.value.message == b"--textfile %s: Permission denied" % os.fsencode(directory)


@pytest.mark.parametrize("mode, refused", [
    (0o777, True), (0o775, True), (0o757, True), (0o1777, False), (0o1775, False), (0o755, False), (0o700, False),
])
def test_textfile_folder_others_may_write(textfile_dir, mode, refused):
    textfile_dir.chmod(mode)
    if refused:
        with pytest.raises(TextfileError) as caught:
            om.write_textfile(textfile_dir, b"x\n")
        assert caught.value.message == (
            b"--textfile %s: writable by others (mode %04o, no sticky bit): they could replace pymap.prom; "
            b"pymap writes only into a folder no one else can change" % (os.fsencode(textfile_dir), mode))
        assert listing(textfile_dir) == []
    else:
        om.write_textfile(textfile_dir, b"x\n")
        assert listing(textfile_dir) == ["pymap.prom"]


def test_textfile_in_a_folder_others_may_write(tmp_path):
    parent = tmp_path / "open"
    parent.mkdir()
    directory = parent / "textfile"
    directory.mkdir(mode=0o755)
    parent.chmod(0o777)
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(directory, b"x\n")
    assert caught.value.message == (
        b"--textfile %s: in %s, which others may write (mode 0777, no sticky bit): they could replace it; pymap "
        b"writes only into a folder no one else can change" % (os.fsencode(directory), os.fsencode(parent)))
    parent.chmod(0o1777)  # as /tmp: others cannot rename what is not theirs
    om.write_textfile(directory, b"x\n")
    assert listing(directory) == ["pymap.prom"]


def test_textfile_through_a_link_of_ones_own(textfile_dir, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(textfile_dir)
    om.write_textfile(link, b"x\n")
    assert listing(textfile_dir) == ["pymap.prom"]
    assert os.path.islink(link)


@needs_root
def test_textfile_through_a_link_of_another_user(textfile_dir, tmp_path):
    link = tmp_path / "planted"
    link.symlink_to(textfile_dir)
    os.lchown(link, livetools.NOBODY, livetools.NOBODY)
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(link, b"x\n")
    assert caught.value.message == (
        b"--textfile %s: a symbolic link of another user's (uid %d): pymap writes only through a link of its "
        b"user's or root's" % (os.fsencode(link), livetools.NOBODY))
    assert listing(textfile_dir) == []


def test_textfile_through_a_link_into_a_folder_others_may_write(tmp_path):
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    open_folder.chmod(0o777)
    link = tmp_path / "link"
    link.symlink_to(open_folder)
    with pytest.raises(TextfileError) as caught:
        om.write_textfile(link, b"x\n")
    assert b"writable by others (mode 0777, no sticky bit)" in caught.value.message
    assert os.listdir(open_folder) == []


# a real node_exporter

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _scrape(port, timeout=2.0):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=timeout) as response:
        return response.read()


@contextlib.contextmanager
def node_exporter(directory, log):
    """A node_exporter with only the textfile collector, on a free port of
    127.0.0.1; yields the port once it answers, always killed at the end."""
    for _ in range(3):  # (another program may take the port between the probe and the start)
        port = _free_port()
        process = subprocess.Popen([NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                                    "--collector.textfile.directory=%s" % directory,
                                    "--web.listen-address=127.0.0.1:%d" % port],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 10
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    _scrape(port, timeout=1.0)
                except OSError:
                    time.sleep(0.05)
                    continue
                yield port
                return
        finally:
            process.kill()
            process.wait(10)
    pytest.fail("node_exporter did not start: see %s" % log.name)


def _families_of(scraped):
    return {metric.name: metric for metric in parse_prometheus(scraped.decode("utf-8"))}


@needs_node_exporter
def test_node_exporter_serves_the_textfile(textfile_dir, tmp_path):
    families = hostile_families()
    om.write_textfile(textfile_dir, families)
    with open(tmp_path / "node_exporter.log", "wb") as log, node_exporter(textfile_dir, log) as port:
        first = _families_of(_scrape(port))
        rss = MetricFamily("pymap_process_rss_bytes", GAUGE, "Resident memory.", unit="bytes")
        rss.add({"pid": 1, "comm": b"\\x9b\x9b"}, 1)
        om.write_textfile(textfile_dir, [rss])  # replaced under a running node_exporter
        second = _families_of(_scrape(port))
    assert [sample.value for sample in first["node_textfile_scrape_error"].samples] == [0]
    assert [sample.labels for sample in first["node_textfile_mtime_seconds"].samples] == \
        [{"file": os.path.join(str(textfile_dir), "pymap.prom")}]
    # node_exporter sorts the samples; each one comes through, labels and value
    for family in families:
        name = family.name if family.type != INFO else family.sample_name
        served = sorted((sorted(sample.labels.items()), repr(float(sample.value)))
                        for sample in first[name].samples)
        wanted = sorted((sorted(sample.labels), repr(float(sample.value))) for sample in family.samples)
        assert served == wanted, name
        assert first[name].documentation == family.help
    served_comms = {om.decode_label_value(sample.labels["comm"])
                    for sample in first["pymap_process_rss_bytes"].samples}
    assert served_comms == set(HOSTILE)
    assert [sample.value for sample in second["node_textfile_scrape_error"].samples] == [0]
    assert [(sample.labels, sample.value) for sample in second["pymap_process_rss_bytes"].samples] == \
        [({"pid": "1", "comm": "\\\\x9b\\x9b"}, 1)]
    assert "pymap_runs" not in second
