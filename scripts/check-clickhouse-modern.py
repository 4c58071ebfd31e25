#!/usr/bin/env python3
"""Runs SQL statements on ClickHouse 26.9, embedded in the PyPI package chdb-core.

Haechi's ClickHouse backend is tested end to end on Debian's ClickHouse 18.16, the only
server the package registries offer; its statements must also be valid on a modern engine.
The store's test `clickhouse_modern.rs` writes the exact statements the store sends into a
JSON file; this script runs them in order in one chdb session (in a directory of its own)
and prints one JSON document: for each statement, the rows it returned (JSONEachRow
objects) or, for EXPLAIN, its text lines. The test compares them with the reference.

Usage: check-clickhouse-modern.py STATEMENTS.json WORKDIR
  STATEMENTS.json: {"engine": "26.9", "statements": ["SQL", ...]}
Exit status: 0 with the results on stdout; 1 with the failing statement and the engine's
error on stderr; 2 when chdb-core (or the wanted engine version) is missing.
"""

import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    try:
        from chdb import session
    except ImportError as e:
        print(
            f"chdb-core is not installed ({e}); scripts/setup-test-tools installs it",
            file=sys.stderr,
        )
        return 2
    s = session.Session(sys.argv[2])
    version = str(s.query("SELECT version()", "TSVRaw")).strip()
    wanted = spec.get("engine", "")
    if not version.startswith(wanted + "."):
        print(
            f"chdb runs ClickHouse {version}, the check wants {wanted}; "
            "scripts/setup-test-tools installs the pinned chdb-core",
            file=sys.stderr,
        )
        return 2
    # 64-bit integers as JSON numbers, as the Rust side reads them.
    s.query("SET output_format_json_quote_64bit_integers = 0")
    results = []
    for n, sql in enumerate(spec["statements"]):
        try:
            if sql.lstrip().upper().startswith("EXPLAIN"):
                text = str(s.query(sql, "TSVRaw"))
                results.append({"lines": text.splitlines()})
            else:
                text = str(s.query(sql, "JSONEachRow"))
                rows = [json.loads(line) for line in text.splitlines() if line.strip()]
                results.append({"rows": rows})
        except Exception as e:  # chdb raises RuntimeError with the server's message
            print(f"statement {n} failed on ClickHouse {version}: {e}\n{sql}", file=sys.stderr)
            return 1
    json.dump({"version": version, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
