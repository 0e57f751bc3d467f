"""pymap's tests, in four tiers, each a pytest marker (every test module
sets ``pytestmark`` to one; conftest.py refuses a test without one):

* ``unit``: pure functions on made-up input; no process started;
* ``golden``: recorded /proc snapshots against what each procps release
  printed for them (tests/goldens);
* ``live``: processes the test starts and stops, read from the real /proc,
  compared with /usr/bin/pmap (or a release build) byte for byte;
* ``e2e``: the installed command as a user meets it: the launcher, pip,
  the man page, upstream's DejaGnu suite, node_exporter and Prometheus.

``pytest -m unit`` runs a tier.  The helpers the tests share are the
package tests.support.
"""
