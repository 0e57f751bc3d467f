"""What the tests share: livetools (processes to test on, the oracles),
goldens (the recorded snapshots), zoo (a process with every kind of
mapping)."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the longest any test waits for a process or thread: a hang fails the test
# instead of blocking the run
TIMEOUT = 120
