"""pymap's metrics as Prometheus's own tools read them: promtool check
metrics, a real node_exporter serving the textfile, and a real Prometheus
scraping that node_exporter.  Each test skips, saying what to install,
where its tool is missing (.ci/run installs prometheus and
prometheus-node-exporter where it can)."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

from pymap.report.openmetrics import COUNTER, GAUGE, INFO, UNKNOWN, MetricFamily, decode_label_value, render, \
    render_prometheus
from pymap.report.textfile import write_textfile
from tests.support import ROOT, TIMEOUT
from tests.support import livetools
from tests.support.prometheus import (HELP_TEXTS, HOSTILE, PROMTOOL, families_of, hostile_families, metric_families,
                                      needs_node_exporter, needs_prometheus, needs_promtool, node_exporter,
                                      prometheus, promtool, read_text_format, scrape, wait_for)

pytestmark = pytest.mark.e2e


# promtool: it reads the Prometheus text format (its parser takes # UNIT and
# # EOF for comments, and refuses the types info and unknown and a \" in
# HELP), so render_prometheus() is what it checks

@needs_promtool
def test_promtool_accepts_the_text_format_with_hostile_values():
    assert promtool(render_prometheus(hostile_families())) == (0, b"")


@needs_promtool
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metric_families(help_text=HELP_TEXTS.filter(bool)))
def test_promtool_accepts_any_families_in_the_text_format(families):
    assert promtool(render_prometheus(families)) == (0, b"")


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
    assert promtool(render([gauge])) == (0, b"")
    quoted = MetricFamily("pymap_g", GAUGE, 'a "quoted" word')
    for family in hostile_families() + [quoted]:
        if family.type in (INFO, UNKNOWN, COUNTER) or '"' in family.help:
            status, _ = promtool(render([family]))
            assert status != 0, family
            assert promtool(render_prometheus([family])) == (0, b""), family


@pytest.fixture
def textfile_dir(tmp_path):
    directory = tmp_path / "textfile"
    directory.mkdir()
    directory.chmod(0o755)
    return directory


# a real node_exporter

@needs_node_exporter
def test_node_exporter_serves_the_textfile(textfile_dir, tmp_path):
    families = hostile_families()
    write_textfile(textfile_dir, families)
    with open(tmp_path / "node_exporter.log", "wb") as log, node_exporter(textfile_dir, log) as port:
        first = families_of(scrape(port))
        rss = MetricFamily("pymap_process_rss_bytes", GAUGE, "Resident memory.", unit="bytes")
        rss.add({"pid": 1, "comm": b"\\x9b\x9b"}, 1)
        write_textfile(textfile_dir, [rss])  # replaced under a running node_exporter
        second = families_of(scrape(port))
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
    served_comms = {decode_label_value(sample.labels["comm"])
                    for sample in first["pymap_process_rss_bytes"].samples}
    assert served_comms == set(HOSTILE)
    assert [sample.value for sample in second["node_textfile_scrape_error"].samples] == [0]
    assert [(sample.labels, sample.value) for sample in second["pymap_process_rss_bytes"].samples] == \
        [({"pid": "1", "comm": "\\\\x9b\\x9b"}, 1)]
    assert "pymap_runs" not in second


# the command: pymap --summary --textfile, served by node_exporter, scraped by Prometheus

# program names (argv[0], through exec -a) that break a careless exposition
NAMES = [b'ev"il\\x9b\n\xff\x9bx', b"\\x9b", b"\x9b", b"caf\xc3\xa9", b"\r\t}{#\nEOF", b'a="b"']


def run_pymap(*args):
    """The installed command (the launcher), as a user runs it."""
    environ = livetools.base_environ(locale="C.UTF-8")
    environ["PATH"] = livetools.launcher_dir() + ":" + environ["PATH"]
    return subprocess.run(["pymap"] + [str(arg) for arg in args],
                          executable=os.path.join(livetools.launcher_dir(), "pymap"), env=environ,
                          capture_output=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """A capture of stopped processes started under NAMES and two Python
    processes holding some memory: (folder, {program name: processes})."""
    children = []
    try:
        for name in NAMES:
            child = subprocess.Popen(["bash", "-c", 'exec -a "$0" sleep 3600', name], stdin=subprocess.DEVNULL,
                                     env=livetools.base_environ())
            children.append(child)
            livetools.wait_until_exec(child.pid, b"sleep")
            os.kill(child.pid, 19)  # SIGSTOP
            livetools.wait_stopped(child.pid)
        with livetools.stopped_process("data = bytearray(8 << 20)") as big, \
                livetools.stopped_process("data = bytearray(2 << 20)") as small:
            folder = tmp_path_factory.mktemp("capture") / "snapshot"
            result = run_pymap("--capture", folder, big, small, *[child.pid for child in children])
            assert result.returncode == 0, result.stderr
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=TIMEOUT)
    programs = dict.fromkeys(NAMES, 1)
    programs[os.path.basename(sys.executable).encode()] = 2
    return folder, programs


@needs_node_exporter
@needs_prometheus
def test_prometheus_answers_pymaps_total_pss(capture, textfile_dir, tmp_path):
    """node_exporter serves pymap's file without a textfile error, and a
    real Prometheus scraping it answers sum(pymap_program_memory_bytes{kind=
    "pss"}) with pymap's own total Pss (--summary --json, same capture); the
    program labels it holds are the processes' names, byte for byte."""
    folder, programs = capture
    result = run_pymap("--summary", "--textfile", textfile_dir, "--proc-root", folder)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    totals = json.loads(run_pymap("--summary", "--json", "--proc-root", folder).stdout.splitlines()[-1])
    total_pss = totals["totals"]["Pss"] * 1024
    assert totals["processes"] == sum(programs.values()) and total_pss > 8 << 20
    # every other grouping beside it, each in its own file (pymap-BY.prom), as a second timer would write them
    for by in ("user", "mapping", "role", "process", "cgroup"):
        result = run_pymap("--summary", "--by=" + by, "--textfile", textfile_dir, "--proc-root", folder)
        assert (result.returncode, result.stdout) == (0, b""), result.stderr
    groupings = ("cgroup", "mapping", "process", "role", "user")
    assert sorted(os.listdir(textfile_dir)) == ["pymap-%s.prom" % by for by in groupings] + ["pymap.prom"]
    with open(tmp_path / "node_exporter.log", "wb") as log, node_exporter(textfile_dir, log) as port:
        served = families_of(scrape(port))
        assert [sample.value for sample in served["node_textfile_scrape_error"].samples] == [0]
        for family in ("pymap_user_memory_bytes", "pymap_mapping_memory_bytes", "pymap_process_memory_bytes"):
            assert served[family].samples, family
        assert sorted(sample.labels["by"] for sample in served["pymap_unreadable_processes"].samples) == [
            "cgroup", "mapping", "process", "program", "role", "user"]
        log.flush()
        assert b"error" not in (tmp_path / "node_exporter.log").read_bytes()  # (it gathers, or it says why not)
        pss = [sample for sample in served["pymap_program_memory_bytes"].samples if sample.labels["kind"] == "pss"]
        assert sum(sample.value for sample in pss) == total_pss
        assert sorted(decode_label_value(sample.labels["program"]) for sample in pss) == sorted(programs)
        prometheus_folder = tmp_path / "prometheus"
        prometheus_folder.mkdir()
        with open(tmp_path / "prometheus.log", "wb") as prometheus_log, \
                prometheus(port, str(prometheus_folder), prometheus_log) as query:
            # the first scrapes come a second or so after the start: poll, with a deadline
            answer = wait_for("Prometheus's first scrape of pymap's series",
                              lambda: query('sum(pymap_program_memory_bytes{kind="pss"})') or None,
                              query.process, prometheus_log)
            assert float(answer[0]["value"][1]) == total_pss
            assert [float(item["value"][1]) for item in query("node_textfile_scrape_error")] == [0.0]
            held = query('pymap_processes{program!=""}')
            assert {decode_label_value(item["metric"]["program"]): int(item["value"][1]) for item in held} == programs


# the README's recipes: alerting rules, the systemd units, the cron line

def readme_blocks(language):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return re.findall(r"```%s\n(.*?)```" % language, handle.read(), re.S)


RULE_TESTS = """
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'pymap_program_memory_bytes{program="leaky",kind="pss",instance="h"}'
        values: '104857600+1048576x300'
      - series: 'pymap_program_memory_bytes{program="steady",kind="pss",instance="h"}'
        values: '104857600x300'
      - series: 'pymap_program_memory_bytes{program="slow",kind="pss",instance="h"}'
        values: '104857600+524288x300'
      - series: 'pymap_cgroup_memory_bytes{cgroup="/system.slice/db.service",kind="usage",instance="h"}'
        values: '950x30'
      - series: 'pymap_cgroup_memory_bytes{cgroup="/system.slice/db.service",kind="limit",instance="h"}'
        values: '1000x30'
      - series: 'pymap_cgroup_memory_bytes{cgroup="/system.slice/web.service",kind="usage",instance="h"}'
        values: '500x30'
      - series: 'pymap_cgroup_memory_bytes{cgroup="/system.slice/web.service",kind="limit",instance="h"}'
        values: '1000x30'
      - series: 'pymap_cgroup_memory_bytes{cgroup="/user.slice",kind="usage",instance="h"}'
        values: '5000x30'
    alert_rule_test:
      - eval_time: 2h
        alertname: ProgramPssGrowing
        exp_alerts: []
      - eval_time: 4h30m
        alertname: ProgramPssGrowing
        exp_alerts:
          - exp_labels: {severity: warning, program: leaky, kind: pss, instance: h}
            exp_annotations:
              summary: "leaky on h keeps growing: 60MiB of Pss an hour"
      - eval_time: 5m
        alertname: CgroupMemoryNearLimit
        exp_alerts: []
      - eval_time: 20m
        alertname: CgroupMemoryNearLimit
        exp_alerts:
          - exp_labels: {severity: warning, cgroup: /system.slice/db.service, instance: h}
            exp_annotations:
              summary: "cgroup /system.slice/db.service on h uses 95% of its memory limit"
"""


@needs_promtool
def test_readme_alerting_rules(tmp_path):
    """The README's rules pass promtool check rules, and promtool's rule
    tests: a program whose Pss grows 60 MiB an hour alerts after three
    hours, one that grows 30 MiB an hour or not at all never; a cgroup at
    95% of its limit alerts after ten minutes, one at 50% or without a
    limit never."""
    (rules,) = [block for block in readme_blocks("yaml") if "ProgramPssGrowing" in block]
    (tmp_path / "rules.yml").write_text(rules)
    (tmp_path / "tests.yml").write_text(RULE_TESTS)
    for command in (["check", "rules", "rules.yml"], ["test", "rules", "tests.yml"]):
        result = subprocess.run([PROMTOOL] + command, cwd=tmp_path, capture_output=True, timeout=TIMEOUT,
                                env=livetools.base_environ())
        assert result.returncode == 0, result.stdout + result.stderr
    assert b"SUCCESS: 2 rules found" in subprocess.run([PROMTOOL, "check", "rules", "rules.yml"], cwd=tmp_path,
                                                       capture_output=True, timeout=TIMEOUT).stdout


@pytest.mark.skipif(shutil.which("systemd-analyze", path="/usr/bin:/bin") is None,
                    reason="systemd-analyze is not installed")
def test_readme_systemd_units(tmp_path):
    """The README's service and timer pass systemd-analyze verify (with
    ExecStart pointing at this checkout's launcher: /opt/pymap is not
    here), and the service's command writes the textfile."""
    blocks = {block.split("\n", 1)[0].rsplit("/", 1)[-1]: block for block in readme_blocks("ini")}
    assert sorted(blocks) == ["pymap-textfile.service", "pymap-textfile.timer"]
    launcher = os.path.join(livetools.launcher_dir(), "pymap")
    for name, block in blocks.items():
        (tmp_path / name).write_text(block.replace("/opt/pymap/bin/pymap", launcher))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no"] + [str(tmp_path / name) for name in blocks],
                            capture_output=True, timeout=TIMEOUT, env=livetools.base_environ())
    assert (result.returncode, result.stderr) == (0, b""), result
    (command,) = re.findall(r"^ExecStart=/opt/pymap/bin/pymap (.*)$", blocks["pymap-textfile.service"], re.M)
    check_command(command.split(), tmp_path)


def check_command(arguments, tmp_path):
    """pymap ARGUMENTS, its --textfile folder replaced by a new one: status
    0, nothing printed, DIR/pymap.prom alone in the folder."""
    folder = tmp_path / "node-exporter"
    folder.mkdir(mode=0o755)
    index = arguments.index("--textfile")
    assert arguments[index + 1] == "/var/lib/prometheus/node-exporter"  # Debian's
    arguments[index + 1] = str(folder)
    result = run_pymap(*arguments)
    assert (result.returncode, result.stdout) == (0, b"")
    assert os.listdir(folder) == ["pymap.prom"]
    read_text_format((folder / "pymap.prom").read_bytes())


def test_readme_cron_line(tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        (line,) = re.findall(r"^    (\* \* \* \* \* root /opt/pymap/bin/pymap .*)$", handle.read(), re.M)
    words = line.split()
    assert words[5:7] == ["root", "/opt/pymap/bin/pymap"]
    assert words[-5:] == ["2>&1", "|", "logger", "-t", "pymap"]
    check_command(words[7:-5], tmp_path)
