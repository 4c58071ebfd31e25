#!/usr/bin/env python3
"""Counts the records of EVTX files with python-evtx, an EVTX parser independent of Haechi's.

Usage: python3 scripts/evtx_count.py FILE...

Prints one line per file: `path<TAB>count`. The integration test
crates/ingest/tests/evtx_independent_count.rs compares these counts with Haechi's.
Needs the PyPI package `python-evtx` (module `Evtx`). Exits with status 2 and a message
on standard error when it is missing, and 1 when a file cannot be read.
"""

import sys

try:
    from Evtx.Evtx import Evtx
except ImportError as err:  # pragma: no cover - depends on the machine
    sys.stderr.write(
        "evtx_count.py: the Python module 'Evtx' is missing (%s); install it with: "
        "pip install python-evtx\n" % err
    )
    sys.exit(2)


def count_records(path):
    with Evtx(path) as log:
        return sum(1 for _ in log.records())


def main(paths):
    if not paths:
        sys.stderr.write("usage: evtx_count.py FILE...\n")
        return 2
    status = 0
    for path in paths:
        try:
            count = count_records(path)
        except Exception as err:  # report which file and go on with the others
            sys.stderr.write("evtx_count.py: %s: %s: %s\n" % (path, type(err).__name__, err))
            status = 1
            continue
        sys.stdout.write("%s\t%d\n" % (path, count))
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
