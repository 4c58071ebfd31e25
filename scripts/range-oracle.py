#!/usr/bin/env python3
"""Differential-test oracle for advisory range satisfaction, one ecosystem at a time.

Haechi converts advisories that are not OSV (RubySec / bundler-audit, npm / GitHub ranges,
FriendsOfPHP / Composer audit) into OSV ranges of its own; a wrong conversion is a missed
or a false vulnerability. scripts/version-oracle.py checks that Haechi ORDERS versions
like each ecosystem's tool; this script checks the other half: it asks the ecosystem's own
tool whether a version is AFFECTED by the advisory as its source wrote it, so that the
converted OSV ranges can be tested against the native answer:

    scripts/range-oracle.py --ecosystem RubyGems|npm|Packagist < cases.jsonl > answers.txt

stdin holds JSON lines, one case each (other keys are ignored); stdout gets one line per
case, in order: "1" = affected, "0" = not affected, "E<TAB>message" = the native tool
rejects the version or a requirement / range / constraint of the case.

  RubyGems   {"patched": ["~> 5.2.4, >= 5.2.4.3", ">= 6.0.3.1"], "unaffected": ["< 4.0.0"],
              "version": "5.2.4.2"}
             affected = the version satisfies none of the patched and none of the unaffected
             requirements; each string is one Gem::Requirement, its commas are ANDs
             (Gem::Requirement.new(*s.split(",").map(&:strip))). RubySec's rule.
  npm        {"range": ">=1.3.0 <1.3.2 || >=1.4.0 <1.4.11", "version": "1.4.10"}
             affected = semver.satisfies(version, range, {includePrerelease: true}).
  Packagist  {"branches": [[">=2.6.0", "<2.6.11"], [">=2.7.0", "<2.7.2"]], "version": "2.6.10"}
             affected = for some branch, Composer\\Semver\\Semver::satisfies(version, c) for
             every constraint c of it. FriendsOfPHP's / Composer audit's rule (an empty
             branch is satisfied by every version).

The tools (scripts/setup-test-tools installs them), each run once with every case on stdin:
  RubyGems   Debian ruby, Gem::Requirement: scripts/oracle/gem-requirement.rb
  npm        Debian node-semver with node: scripts/oracle/npm-satisfies.js
  Packagist  Debian php-cli + php-composer-semver: scripts/oracle/composer-satisfies.php
Exit codes: 0 = every case answered, 2 = a tool is missing (the message names the Debian
package), 1 = a malformed case (the message gives its line number) or a tool failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ORACLE_DIR = Path(__file__).resolve().parent / "oracle"
NODE_SEMVER = Path("/usr/share/nodejs/semver")
COMPOSER_SEMVER = Path("/usr/share/php/Composer/Semver/autoload.php")


class ToolMissing(Exception):
    """A native tool is not installed; the message says which Debian package to install."""


class Failure(Exception):
    """A malformed case or a failed tool: exit 1."""


def is_str_list(x) -> bool:
    return isinstance(x, list) and all(isinstance(s, str) for s in x)


def check_rubygems(c: dict) -> str | None:
    if not isinstance(c.get("version"), str):
        return '"version" must be a string'
    for key in ("patched", "unaffected"):
        if not is_str_list(c.get(key, None)):
            return f'"{key}" must be a list of strings'
    return None


def check_npm(c: dict) -> str | None:
    if not isinstance(c.get("version"), str):
        return '"version" must be a string'
    if not isinstance(c.get("range"), str):
        return '"range" must be a string'
    return None


def check_packagist(c: dict) -> str | None:
    if not isinstance(c.get("version"), str):
        return '"version" must be a string'
    b = c.get("branches")
    if not (isinstance(b, list) and all(is_str_list(x) for x in b)):
        return '"branches" must be a list of lists of strings'
    return None


def tool_ruby() -> list[str]:
    if not shutil.which("ruby"):
        raise ToolMissing("ruby is missing (Debian package ruby)")
    return ["ruby", str(ORACLE_DIR / "gem-requirement.rb")]


def tool_node() -> list[str]:
    if not shutil.which("node"):
        raise ToolMissing("node is missing (Debian package nodejs)")
    if not (NODE_SEMVER / "index.js").exists():
        raise ToolMissing(f"{NODE_SEMVER} is missing (Debian package node-semver)")
    return ["node", str(ORACLE_DIR / "npm-satisfies.js")]


def tool_php() -> list[str]:
    if not shutil.which("php"):
        raise ToolMissing("php is missing (Debian package php-cli)")
    if not COMPOSER_SEMVER.exists():
        raise ToolMissing(f"{COMPOSER_SEMVER} is missing (Debian package php-composer-semver)")
    return ["php", str(ORACLE_DIR / "composer-satisfies.php")]


# name -> (case checker, helper command, the keys passed on to the helper)
ECOSYSTEMS = {
    "RubyGems": (check_rubygems, tool_ruby, ("patched", "unaffected", "version")),
    "npm": (check_npm, tool_node, ("range", "version")),
    "Packagist": (check_packagist, tool_php, ("branches", "version")),
}


def read_cases(check, keys) -> list[str]:
    """stdin's cases, each re-encoded as one compact JSON line holding only `keys`."""
    out = []
    for n, line in enumerate(sys.stdin.read().splitlines(), 1):
        try:
            c = json.loads(line)
        except json.JSONDecodeError as e:
            raise Failure(f"stdin line {n}: not JSON: {e}")
        problem = "a case must be a JSON object" if not isinstance(c, dict) else check(c)
        if problem:
            raise Failure(f"stdin line {n}: {problem}: {line[:200]}")
        out.append(json.dumps({k: c[k] for k in keys}, ensure_ascii=True, separators=(",", ":")))
    return out


def run_helper(cmd: list[str], cases: list[str]) -> list[str]:
    env = dict(os.environ, LC_ALL="C.UTF-8", NODE_PATH=str(NODE_SEMVER.parent))
    what = " ".join([cmd[0], Path(cmd[1]).name])
    proc = subprocess.run(cmd, input="".join(c + "\n" for c in cases), capture_output=True,
                          text=True, encoding="utf-8", env=env)
    if proc.returncode != 0:
        raise Failure(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    lines = proc.stdout.splitlines()
    if len(lines) != len(cases):
        raise Failure(f"{what} answered {len(lines)} lines for {len(cases)} cases: "
                      f"{proc.stderr.strip()[-2000:]}")
    for case, line in zip(cases, lines):
        if not (line in ("0", "1") or (line.startswith("E\t") and "\t" not in line[2:])):
            raise Failure(f"{what} answered {line!r} for {case}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ecosystem", required=True, choices=list(ECOSYSTEMS))
    args = ap.parse_args()
    check, tool, keys = ECOSYSTEMS[args.ecosystem]
    prog = f"range-oracle: {args.ecosystem}"
    try:
        cmd = tool()
        cases = read_cases(check, keys)
        answers = run_helper(cmd, cases) if cases else []
    except ToolMissing as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write("".join(a + "\n" for a in answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
