"""pymap.report.openmetrics: the OpenMetrics and Prometheus text
expositions and the label value mapping of arbitrary bytes.

Every exposition rendered here is read back with prometheus_client's parsers
(the OpenMetrics one for render(), the text one for render_prometheus());
those tests skip, saying why, where prometheus_client is missing (pip
install prometheus-client, which the test extra names).  promtool, a real
node_exporter and Prometheus read them in tests/test_prometheus.py, files
are written in tests/test_textfile.py.
"""

import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pymap.report import openmetrics as om
from pymap.report.openmetrics import COUNTER, GAUGE, INFO, UNKNOWN, MetricFamily
from tests.support.prometheus import (HOSTILE, hostile_families, metric_families, needs_client, parse_openmetrics,
                                      parse_prometheus)

pytestmark = pytest.mark.unit


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
    # a sample is a 64-bit float: an int is taken while a float holds it, whichever way it is added
    gauge = MetricFamily("pymap_g", GAUGE)
    for too_big in ((1 << 1024) - 1, -(1 << 1024) + 1, 1 << 1024):
        with pytest.raises(ValueError):
            gauge.add({"v": "x"}, too_big)
        with pytest.raises(ValueError):
            gauge.add_each({"v": "y"}, "kind", [("a", too_big)])
    gauge.add({"v": "top"}, (1 << 1024) - (1 << 971))  # the largest float, as an int
    gauge.add_each({"v": "each"}, "kind", [("a", -(1 << 1023))])
    assert [float(sample.value) for sample in gauge.samples] == [float((1 << 1024) - (1 << 971)), -2.0 ** 1023]


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


@needs_client
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metric_families())
def test_any_families_read_back(families):
    check_openmetrics(families)
    check_prometheus(families)


# add_each: add() for each value of one label, the others encoded once

@given(st.lists(st.tuples(st.sampled_from(HOSTILE[250:] + [b"a", "a", 1, b"1", "1"]),
                          st.lists(st.tuples(st.sampled_from([b"rss", "pss", b"\\x9b", b"\x9b", "caf\u00e9", 7]),
                                             st.one_of(st.integers(-2 ** 70, 2 ** 70), st.floats())),
                                   max_size=4)),
                max_size=6),
       st.sampled_from(om.TYPES))
def test_add_each_is_add_for_each(groups, kind):
    """The same samples, the same text and the same refusals (a label set
    given twice, in either call, a value the type does not take) as add()
    one sample at a time."""
    one, each = MetricFamily("pymap_a", kind), MetricFamily("pymap_a", kind)
    for group, values in groups:
        refused = None
        for label, value in values:  # add() one at a time, up to the first refusal
            try:
                one.add((("group", group), ("kind", label)), value)
            except ValueError as error:
                refused = type(error)
                break
        if refused is None:
            each.add_each((("group", group),), "kind", values)
        else:
            with pytest.raises(refused):
                each.add_each((("group", group),), "kind", values)
    assert [(sample.labels, sample.value, sample.text) for sample in each.samples] == \
        [(sample.labels, sample.value, sample.text) for sample in one.samples]
    assert om.render([each]) == om.render([one])


def test_add_each_refusals():
    family = MetricFamily("pymap_a_bytes", GAUGE, unit="bytes")
    family.add_each({"pid": b"1"}, "kind", [("rss", 1), ("pss", 2)])
    with pytest.raises(ValueError):  # the label set of an earlier sample, in another order
        family.add([("kind", "pss"), ("pid", "1")], 3)
    with pytest.raises(ValueError):
        family.add_each({"kind": "x"}, "kind", [("rss", 1)])
    with pytest.raises(ValueError):
        family.add_each({"pid": "2"}, "bad-name", [("rss", 1)])
    with pytest.raises(TypeError):
        family.add_each({"pid": "3"}, "kind", [(1.5, 1)])
    with pytest.raises(TypeError):
        family.add_each({"pid": "4"}, "kind", [("rss", "1")])
    counter = MetricFamily("pymap_c", COUNTER)
    with pytest.raises(ValueError):
        counter.add_each({"pid": "1"}, "kind", [("rss", -1)])
    assert [sample.text for sample in family.samples] == ['{pid="1",kind="rss"}', '{pid="1",kind="pss"}']


def test_duplicates_are_found_whichever_way_samples_came():
    """add_each() keeps a cheaper index while every sample has its label
    names; a sample of other names, or from add(), still finds a duplicate
    among all of them."""
    family = MetricFamily("pymap_a", GAUGE)
    family.add_each({"a": "1"}, "b", [("2", 1), ("3", 1)])
    family.add_each({"a": "2"}, "b", [("2", 1)])
    with pytest.raises(ValueError):
        family.add_each({"a": "1"}, "b", [("4", 1), ("3", 1)])
    assert len(family.samples) == 4  # ("4" was added before the duplicate, as add() would have)
    with pytest.raises(ValueError):  # the same label set, the labels the other way round
        family.add_each({"b": "2"}, "a", [("1", 5)])
    family.add_each({"b": "9"}, "a", [("1", 5)])
    with pytest.raises(ValueError):
        family.add({"b": "3", "a": "1"}, 1)
    with pytest.raises(ValueError):
        family.add_each({"a": "2"}, "b", [("2", 1)])
    other = MetricFamily("pymap_b", GAUGE)
    other.add({"a": "1", "b": "2"}, 1)
    with pytest.raises(ValueError):
        other.add_each({"a": "1"}, "b", [("2", 1)])


def test_label_sets():
    """A LabelSet is checked and encoded once, and gives what its labels
    give in add() and add_each() of any family."""
    labels = om.LabelSet({"pid": 12, "program": b'a"\\\n\xff'})
    assert labels.pairs == (("pid", "12"), ("program", 'a"\\\\\n\\xff'))
    first, second = MetricFamily("pymap_a", GAUGE), MetricFamily("pymap_a", GAUGE)
    first.add(labels, 1)
    first.add_each(om.LabelSet([("pid", 13)]), "program", [(b"x", 2)])
    second.add({"pid": 12, "program": b'a"\\\n\xff'}, 1)
    second.add_each([("pid", 13)], "program", [(b"x", 2)])
    assert om.render([first]) == om.render([second])
    assert first.samples == second.samples
    for bad in ({"pid": 1.5}, {"bad-name": 1}, [("a", "1"), ("a", "2")]):
        with pytest.raises((TypeError, ValueError)):
            om.LabelSet(bad)
    with pytest.raises(ValueError):
        first.add_each(labels, "pid", [("1", 1)])
