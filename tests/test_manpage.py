"""man/pymap.1: generated from pymap.options by argparse-manpage, current,
well-formed groff, and in agreement with the option tables the CLI parses."""

import argparse
import importlib.util
import os
import re
import shutil
import subprocess

import pytest

from tests.support import ROOT, TIMEOUT
from pymap.compat import RELEASES, Compat
from pymap.command.options import OPTIONS, build_parser, long_options, short_options

pytestmark = pytest.mark.e2e

PAGE = os.path.join(ROOT, "man", "pymap.1")


def _generator():
    spec = importlib.util.spec_from_file_location("pymap_man_generate", os.path.join(ROOT, "man", "generate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page():
    with open(PAGE, encoding="utf-8") as handle:
        return handle.read()


def _section(text, heading):
    """The lines of one .SH section."""
    match = re.search(r"^\.SH %s\n(.*?)(?=^\.SH |\Z)" % re.escape(heading), text, re.M | re.S)
    assert match, "no .SH %s in man/pymap.1" % heading
    return match.group(1)


def test_committed_page_is_freshly_generated():
    pytest.importorskip("argparse_manpage", reason="argparse-manpage is in the test extra: pip install -e '.[test]'")
    generator = _generator()
    pages = generator.generate()
    assert list(pages) == ["man/pymap.1"]
    committed = _page()
    fresh = pages["man/pymap.1"]
    assert generator.same_but_date(fresh, committed), (
        "man/pymap.1 is stale: run python man/generate.py and commit it")


def test_same_but_date_sees_any_other_change():
    generator = _generator()
    committed = _page()
    assert generator.same_but_date(committed, committed)
    redated = re.sub(r'^(\.TH \S+ "1" )"[^"]*"', r'\1"1999\\-01\\-01"', committed, count=1)
    assert redated != committed
    assert generator.same_but_date(redated, committed)
    assert not generator.same_but_date(committed.replace("Show the extended format.", "Show details."), committed)
    assert not generator.same_but_date(committed + ".SH MORE\n", committed)


def test_page_has_the_sections_of_a_manual_page():
    text = _page()
    headings = re.findall(r"^\.SH (.*)$", text, re.M)
    assert headings == ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "THE OOM KILLER", "PROMETHEUS", "ENVIRONMENT",
                        "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
    assert "that collector does not read OpenMetrics." in _section(text, "PROMETHEUS")
    assert re.match(r'\.TH PYMAP "1" "\d{4}\\-\d\d\\-\d\d" "pymap [^"]+" "User Commands"\n', text)
    environment = _section(text, "ENVIRONMENT")
    for variable in ("PYMAP_COMPAT", "LIBPROC_HIDE_KERNEL", "POSIXLY_CORRECT"):
        assert ".B %s\n" % variable in environment
    assert "~/.pymaprc" in _section(text, "FILES") and "~/.NAMErc" in _section(text, "FILES")
    assert re.findall(r"^\.B (\d+)$", _section(text, "EXIT STATUS"), re.M) == ["0", "1", "42"]
    examples = _section(text, "EXAMPLES")
    assert r"pymap \-x PID | grep anon | awk \(aq{s+=$3} END {print s}\(aq" in examples
    assert r"\-\-proc\-root snap PID" in examples
    assert ".BR pmap (1)," in _section(text, "SEE ALSO") and ".BR proc (5)" in _section(text, "SEE ALSO")


def _roff(option):
    return r"\fB%s\fR" % option.replace("-", r"\-")


def test_every_option_is_in_the_options_section():
    options = _section(_page(), "OPTIONS")
    for spec in OPTIONS:
        for flag in (["-" + spec.short] if spec.short else []) + (["--" + spec.long] if spec.long else []):
            assert _roff(flag) in options, flag
        # each option's own words, as wrapped in the page
        assert " ".join(spec.help.replace("-", r"\-").split()) in " ".join(options.split()), spec.help


def test_page_renders_without_warnings():
    groff = shutil.which("groff")
    if groff is None:
        pytest.skip("groff is not installed (apt-get install groff-base)")
    result = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", PAGE], capture_output=True,
                            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, timeout=TIMEOUT)
    assert result.returncode == 0
    assert result.stderr == b""


def _parser_options():
    """{option string: takes an argument} from the argparse parser."""
    found = {}
    for action in build_parser()._actions:
        for flag in action.option_strings:
            found[flag] = action.nargs != 0
    return found


def _getopt_options(compat):
    """{option string: takes an argument} from the tables getopt parses with."""
    found = {}
    letters = short_options(compat)
    for index, letter in enumerate(letters):
        if letter != ":":
            found["-" + letter] = letters[index + 1:index + 2] == ":"
    for option in long_options(compat):
        found["--" + option.name.decode()] = bool(option.has_arg)
    return found


def test_parser_and_getopt_tables_describe_the_same_options():
    # the newest release has every option; the parser documents them all
    assert _parser_options() == _getopt_options(Compat(RELEASES[-1]))


@pytest.mark.parametrize("release", RELEASES)
def test_getopt_tables_of_older_releases_only_lack_newer_options(release):
    parser = _parser_options()
    tables = _getopt_options(Compat(release))
    assert set(tables) <= set(parser)
    for flag, takes_argument in tables.items():
        assert parser[flag] == takes_argument, flag
    newer = {spec.short for spec in OPTIONS if spec.since and spec.since not in RELEASES[:RELEASES.index(release) + 1]}
    missing = set(parser) - set(tables)
    assert missing == {"-" + letter for letter in newer} | {
        "--" + spec.long for spec in OPTIONS if spec.short in newer and spec.long}


def test_long_options_map_to_their_short_letter():
    by_long = {spec.long: spec for spec in OPTIONS if spec.long}
    for option in long_options(Compat()):
        spec = by_long[option.name.decode()]
        if spec.pymap_only:
            assert option.exact_only and option.key == "--" + spec.long
        else:
            assert option.key == spec.short and not option.exact_only
    assert isinstance(build_parser(), argparse.ArgumentParser)
