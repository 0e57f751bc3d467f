"""What the metrics tests share: prometheus_client's parsers (a test extra;
None where it is not installed), promtool, a real node_exporter and a real
Prometheus on free ports of 127.0.0.1, and names that break a careless
exposition writer.  Tests that need a tool skip, saying how to get it.

node_exporter and Prometheus run as context managers that yield once the
program answers (polled, with a deadline) and kill it on leaving, also
when the test fails.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from hypothesis import strategies as st

from . import TIMEOUT
from pymap.report.openmetrics import COUNTER, GAUGE, INFO, TYPES, UNKNOWN, MetricFamily

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
except ImportError:  # pragma: no cover
    parse_openmetrics = parse_prometheus = None

PROMTOOL = shutil.which("promtool", path="/usr/bin:/bin:/usr/local/bin")
NODE_EXPORTER = (shutil.which("prometheus-node-exporter", path="/usr/bin:/bin:/usr/local/bin")
                 or shutil.which("node_exporter", path="/usr/bin:/bin:/usr/local/bin"))
PROMETHEUS = shutil.which("prometheus", path="/usr/bin:/bin:/usr/local/bin")

needs_client = pytest.mark.skipif(parse_openmetrics is None,
                                  reason="prometheus_client is not installed (pip install prometheus-client, "
                                         "or the test extra)")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
needs_node_exporter = pytest.mark.skipif(NODE_EXPORTER is None or parse_prometheus is None,
                                         reason="prometheus-node-exporter or prometheus_client is not installed "
                                                "(apt-get install prometheus-node-exporter; pip install "
                                                "prometheus-client)")
needs_prometheus = pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed (apt-get install "
                                                                 "prometheus)")

# values a process or command name can take that a careless writer breaks on
HOSTILE = [bytes([byte]) for byte in range(256)] + [
    b"", b"\\", b"\\\\", b"\\x9b", b"\x9b", b"\\\x9b", b'"', b'\\"', b"\n", b"\\n", b"\r\n", b"\t", b"\0",
    b"# EOF", b"\n# EOF\n", b"}", b"{a=\"b\"} 1", b"a,b=c", b"=", b" ", b"  lead and trail  ",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xe2\x82",
    b"\xe2\x82\xe2\x82\xac", b"\xf0\x9f\x98", b"\xf0\x9f\x98\x80", b"\xef\xbb\xbf", b"\xe2\x80\xa8",
    b"\xc2\x9b[31mred", b"\x1b[31mred", b"\xef\xbf\xbe", b"\xf4\x8f\xbf\xbf", b"caf\xc3\xa9", b"caf\xe9",
    b"\xff\xfe", b"kworker/0:1H-kblockd", b"(sd-pam)", b"a\x00b\x00", bytes(range(256)),
]


def hostile_families():
    """Families like pymap's summary's, with every HOSTILE name, and one of
    each type."""
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


# families of hypothesis's making

LABEL_NAMES = ["pid", "comm", "user", "a", "Z_9"]
HELP_TEXTS = st.text(max_size=40).filter(lambda text: not text or not (text[0].isspace() or text[-1].isspace()))
LABEL_VALUES = st.one_of(st.binary(max_size=24), st.text(max_size=12), st.integers(), st.sampled_from(HOSTILE))


@st.composite
def metric_families(draw, help_text=HELP_TEXTS):
    """Lists of MetricFamily of every type, hypothesis's making."""
    families = []
    for index, kind in enumerate(draw(st.lists(st.sampled_from(TYPES), max_size=4))):
        unit = draw(st.sampled_from([None, "bytes"])) if kind != INFO else None
        name = "pymap_f%d" % index + ("_" + unit if unit else "")
        family = MetricFamily(name, kind, draw(help_text), unit=unit)
        names = draw(st.lists(st.sampled_from(LABEL_NAMES), unique=True, max_size=3))
        for _ in range(draw(st.integers(0, 4))):
            labels = [(label, draw(LABEL_VALUES)) for label in names]
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


def promtool(data):
    """(status, stdout + stderr) of ``promtool check metrics`` on ``data``."""
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=data, capture_output=True, timeout=TIMEOUT)
    return result.returncode, result.stdout + result.stderr


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def scrape(port, timeout=2.0):
    """node_exporter's /metrics."""
    return http_get("http://127.0.0.1:%d/metrics" % port, timeout)


def families_of(scraped):
    """{name: family} of a scrape in the Prometheus text format."""
    return {metric.name: metric for metric in parse_prometheus(scraped.decode("utf-8"))}


def wait_for(what, probe, process, log, timeout=60.0):
    """Call ``probe`` until it returns something other than None (an
    OSError counts as not yet) while ``process`` runs; its result.  Fails
    the test, pointing at ``log``, after ``timeout`` seconds or when the
    process ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            result = probe()
        except OSError:
            result = None
        if result is not None:
            return result
        time.sleep(0.05)
    pytest.fail("%s: not within %d s (status %s); see %s" % (what, timeout, process.poll(), log.name))


@contextlib.contextmanager
def _running(argv, log):
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               env={"PATH": "/usr/bin:/bin", "LANG": "C"})
    try:
        yield process
    finally:
        process.kill()
        process.wait(TIMEOUT)


@contextlib.contextmanager
def node_exporter(directory, log):
    """A node_exporter with only the textfile collector, reading
    ``directory``, on a free port of 127.0.0.1; yields the port once it
    answers."""
    for _ in range(3):  # (another program may take the port between the probe and the start)
        port = free_port()
        with _running([NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                       "--collector.textfile.directory=%s" % directory,
                       "--web.listen-address=127.0.0.1:%d" % port], log) as process:
            deadline = time.monotonic() + 20
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    scrape(port, timeout=1.0)
                except OSError:
                    time.sleep(0.05)
                    continue
                yield port
                return
    pytest.fail("node_exporter did not start: see %s" % log.name)


@contextlib.contextmanager
def prometheus(target_port, folder, log):
    """A Prometheus scraping 127.0.0.1:``target_port`` every second, its
    configuration and storage under ``folder`` (a fresh folder), on a free
    port of 127.0.0.1; yields a function that runs an instant query
    (PromQL) and returns its result vector, once the server is ready."""
    config = os.path.join(folder, "prometheus.yml")
    with open(config, "w") as handle:
        handle.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "scrape_configs:\n  - job_name: node\n    static_configs:\n"
                     "      - targets: ['127.0.0.1:%d']\n" % target_port)
    for _ in range(3):
        port = free_port()
        with _running([PROMETHEUS, "--config.file=%s" % config, "--storage.tsdb.path=%s" % os.path.join(folder, "data"),
                       "--web.listen-address=127.0.0.1:%d" % port, "--web.enable-lifecycle"], log) as process:
            base = "http://127.0.0.1:%d" % port

            def ready():
                return http_get(base + "/-/ready", timeout=1.0) or None

            deadline = time.monotonic() + 60
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    ready()
                except OSError:
                    time.sleep(0.1)
                    continue

                def query(expression):
                    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expression})
                    answer = json.loads(http_get(url, timeout=10.0))
                    assert answer["status"] == "success", answer
                    return answer["data"]["result"]

                query.process = process
                yield query
                return
    pytest.fail("prometheus did not start: see %s" % log.name)


def read_openmetrics(data):
    """{name: family} of an OpenMetrics exposition (bytes), as
    prometheus_client's OpenMetrics parser reads it (strict: UTF-8, one
    "# EOF" at the end); where promtool is installed, ``promtool check
    metrics`` passes it too, but for counters: promtool reads the text
    format, where a counter's family is named with its _total (the
    textfile's counters are checked by read_text_format)."""
    text = data.decode("utf-8")
    lines = text.split("\n")
    assert lines[-2:] == ["# EOF", ""] and "# EOF" not in lines[:-2], text[-200:]
    families = {family.name: family for family in parse_openmetrics(text)}
    if PROMTOOL is not None and all(family.type != "counter" for family in families.values()):
        assert promtool(data) == (0, b"")
    return families


def read_text_format(data):
    """{name: family} of the Prometheus text format (bytes), as
    prometheus_client's text parser reads it; promtool passes it too where
    installed."""
    text = data.decode("utf-8")
    assert "# EOF" not in text.split("\n") and not text.startswith("# UNIT") and "\n# UNIT" not in text
    families = {family.name: family for family in parse_prometheus(text)}
    if PROMTOOL is not None:
        assert promtool(data) == (0, b"")
    return families
