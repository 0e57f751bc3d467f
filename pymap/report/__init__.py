"""pymap's own reports (--json, --reconcile, --diff, --summary) and
snapshots (--capture): records of processes, handed to one sink (text, JSON
Lines, OpenMetrics) chosen once."""
