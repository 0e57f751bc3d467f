import os

import pytest

TIERS = ("unit", "golden", "live", "e2e")  # tests/__init__.py says what each is


def pytest_collection_modifyitems(config, items):
    """Every test belongs to exactly one tier: its module's pytestmark."""
    wrong = sorted({item.module.__name__ for item in items
                    if sum(1 for marker in item.iter_markers() if marker.name in TIERS) != 1})
    if wrong:
        raise pytest.UsageError("tests without exactly one tier marker (%s): %s" % (", ".join(TIERS), ", ".join(wrong)))


# The bind-mount oracle tests' target: a stopped process of the module's own
# and a /proc-like copy of its identity files (stat, status, cmdline, comm),
# to which each example adds the files it makes up; the real pmap reads that
# copy bind-mounted over /proc/PID, pymap through --proc-root.


@pytest.fixture(scope="module")
def target():
    from tests.support import livetools

    with livetools.stopped_process("pass") as pid:
        yield pid


@pytest.fixture(scope="module")
def folders(target, request):
    """(root, the PID's folder in it, the target's stat line)."""
    from tests.support import livetools

    prefix = "pymap-%s-" % request.module.__name__.replace("test_", "")
    with livetools.identity_copy(target, prefix) as (root, folder):
        with open(os.path.join(folder, "stat"), "rb") as handle:
            yield root, folder, handle.read()
