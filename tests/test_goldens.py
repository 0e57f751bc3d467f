"""pymap on every golden snapshot prints what each procps-ng release printed."""

import pytest

from tests.support import goldens
from pymap.command.cli import run_captured

pytestmark = pytest.mark.golden

CASES = goldens.cases()


@pytest.mark.parametrize("case", CASES, ids=[repr(case) for case in CASES])
def test_golden_output(case):
    status, stdout, stderr = run_captured(case.argv(), case.environ())
    assert stdout == case.expected_stdout()
    assert status == case.exit_status, stderr


def test_goldens_cover_every_release():
    from pymap.compat import RELEASES

    assert {case.version for case in CASES} == set(RELEASES)
    assert {"3.3.15", "3.3.16", "3.3.17"} <= set(RELEASES)
