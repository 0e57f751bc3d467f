import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# the longest any test waits for a process or thread: a hang fails the test
# instead of blocking the run
TIMEOUT = 120
