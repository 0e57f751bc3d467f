import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# the longest any test waits for a process or thread: a hang fails the test
# instead of blocking the run
TIMEOUT = 120


# The bind-mount oracle tests' target: a stopped process of the module's own
# and a /proc-like copy of its identity files (stat, status, cmdline, comm),
# to which each example adds the files it makes up; the real pmap reads that
# copy bind-mounted over /proc/PID, pymap through --proc-root.
import pytest  # noqa: E402


@pytest.fixture(scope="module")
def target():
    import livetools

    with livetools.stopped_process("pass") as pid:
        yield pid


@pytest.fixture(scope="module")
def folders(target, request):
    """(root, the PID's folder in it, the target's stat line)."""
    import livetools

    prefix = "pymap-%s-" % request.module.__name__.replace("test_", "")
    with livetools.identity_copy(target, prefix) as (root, folder):
        with open(os.path.join(folder, "stat"), "rb") as handle:
            yield root, folder, handle.read()
