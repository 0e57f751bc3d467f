#!/usr/bin/env python3
"""Regenerate man/pymap.1 with argparse-manpage (pip install -e '.[test]').

    python man/generate.py            rewrite the page
    python man/generate.py --check    exit 1 when the committed page is stale

What goes into the page is configured in setup.cfg's [build_manpages]
section, argparse-manpage's own format: the parser (pymap.command.options
build_parser), the title, and man/pymap.1.include with the sections
argparse cannot describe (ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES, ...).
The project name and version come from setup.cfg and pymap.__version__.

Two things would make the output differ from machine to machine, and are
pinned here: the width argparse wraps help text to (COLUMNS=80), and the
date in the footer, which stays what the committed page says as long as
nothing else in the page changes (then it becomes today, or
SOURCE_DATE_EPOCH).
"""

import configparser
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTH = "80"
_DATE = re.compile(r'^(\.TH \S+ "[^"]*" )"([^"]*)"', re.M)


def _configuration():
    config = configparser.ConfigParser(interpolation=None)
    config.read(os.path.join(ROOT, "setup.cfg"))
    return config


def same_but_date(fresh, committed):
    """Whether a freshly generated page equals the committed one once it
    carries the committed page's date."""
    match = _DATE.search(committed or "")
    if match is None:
        return False
    dated = _DATE.sub(lambda fresh_match: fresh_match.group(1) + '"%s"' % match.group(2), fresh, count=1)
    return dated == committed


def generate():
    """{path relative to ROOT: page text} for every page setup.cfg lists,
    dated as argparse-manpage does (SOURCE_DATE_EPOCH or today)."""
    from argparse_manpage.manpage import Manpage
    from build_manpages.build_manpages import parse_manpages_spec
    from argparse_manpage.tooling import get_parser

    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    import pymap

    config = _configuration()
    pages = {}
    saved_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        for page, data in parse_manpages_spec(config["build_manpages"]["manpages"]).items():
            data.setdefault("project_name", config["metadata"]["name"])
            data.setdefault("version", pymap.__version__)
            if data.get("include"):
                data["include"] = os.path.join(ROOT, data["include"])
            parser = get_parser(data["import_type"], data["import_from"], data["objname"], data["objtype"],
                                data.get("prog"))
            pages[page] = str(Manpage(parser, format=data.get("format", "pretty"), _data=data))
    finally:
        if saved_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved_columns
    return pages


def read_page(page):
    try:
        with open(os.path.join(ROOT, page), encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        sys.stderr.write("usage: %s [--check]\n" % argv[0])
        return 2
    stale = []
    for page, text in generate().items():
        if same_but_date(text, read_page(page)):
            continue
        stale.append(page)
        if not check:
            with open(os.path.join(ROOT, page), "w", encoding="utf-8") as handle:
                handle.write(text)
            print("generated " + page)
    if check and stale:
        print("stale: %s (run: python man/generate.py)" % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
