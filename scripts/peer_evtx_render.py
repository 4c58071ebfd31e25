#!/usr/bin/env python3
"""A peer measurement for `haechi bench`: python-evtx renders every record of the given
EVTX files to XML (the work comparable to Haechi parsing them into events).

Usage: python3 scripts/peer_evtx_render.py FILE...
Prints one JSON object: {"records": N, "errors": E, "seconds": S}; records python-evtx
cannot render are counted as errors (it fails on a few real records). Needs
`pip install python-evtx`.
"""

import json
import sys
import time

from Evtx.Evtx import Evtx


def main(paths):
    started = time.perf_counter()
    records = 0
    errors = 0
    for path in paths:
        with Evtx(path) as log:
            for record in log.records():
                try:
                    record.xml()
                    records += 1
                except Exception:  # a record python-evtx cannot render
                    errors += 1
    print(json.dumps({"records": records, "errors": errors, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1:])
