#!/usr/bin/env python3
"""Differential-test oracle for package version ordering, one OSV ecosystem at a time.

Haechi orders package versions itself (crates/vuln/src/version/) to decide whether an
installed version falls in an advisory's affected range; a wrong order is a missed or a
false vulnerability. This script asks each ecosystem's own tool for the order instead, so
the Rust comparators can be tested against it:

    scripts/version-oracle.py --ecosystem ECO [--count N] [--seed S]

ECO is an OSV ecosystem name: PyPI, Debian, npm, RubyGems, Packagist, Maven, Go. Prints N
(default 2000) lines "a<TAB>b<TAB>c" on stdout, c being -1, 0 or 1 = the native tool's
order of version a against version b. The pairs are the same for the same seed (default
1): hand-written versions typical of the ecosystem and its corner cases, random versions
built from the same components, and pairs that are equal under the ecosystem's rules but
differ in spelling. Only pairs whose two versions the tool accepts are printed; how many
candidates it rejected is said on stderr.

The tools (scripts/setup-test-tools installs them):
  PyPI       packaging.version.Version (PyPI packaging==24.2), in this process
  Debian     dpkg --compare-versions, one process per comparison (dpkg has no batch mode)
  npm        Debian node-semver with node: scripts/oracle/npm-semver.js
  RubyGems   Debian ruby, Gem::Version: scripts/oracle/rubygems-version.rb
  Packagist  Debian php-cli + php-composer-semver: scripts/oracle/composer-semver.php
  Maven      Debian libmaven3-core-java, ComparableVersion: scripts/oracle/MavenCompare.java
  Go         Debian golang-go + golang-golang-x-mod-dev, x/mod/semver: scripts/oracle/gosemver.go
Each helper is run once, with all candidate pairs on stdin. Exit codes: 2 = a tool is
missing (the message names the package), 3 = the Go helper cannot be built, 1 = a tool
failed or fewer than N valid pairs could be made.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ORACLE_DIR = Path(__file__).resolve().parent / "oracle"
NODE_SEMVER = Path("/usr/share/nodejs/semver")
COMPOSER_SEMVER = Path("/usr/share/php/Composer/Semver/autoload.php")
MAVEN_ARTIFACT_JARS = [
    Path("/usr/share/java/maven-artifact-3.x.jar"),
    Path("/usr/share/maven/lib/maven-artifact-3.x.jar"),
]
GOPATH = Path("/usr/share/gocode")
X_MOD_SEMVER = GOPATH / "src/golang.org/x/mod/semver/semver.go"


class ToolMissing(Exception):
    """A native tool is not installed; the message says which package to install."""


class ToolBroken(Exception):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------------------
# Generation helpers


class Spell:
    """Random spelling choices; `w` scales how often unusual spellings are picked."""

    def __init__(self, rng: random.Random, w: float = 1.0):
        self.rng = rng
        self.w = w

    def ch(self, p: float) -> bool:
        return self.rng.random() < min(1.0, p * self.w)

    def num(self, n: int, lead: bool = True) -> str:
        return ("0" + str(n)) if lead and self.ch(0.06) else str(n)

    def pick(self, canonical: str, variants: list[str], p: float = 0.3) -> str:
        return self.rng.choice(variants) if self.ch(p) else canonical


NUMS = [0, 0, 0, 1, 1, 1, 2, 2, 3, 9, 10, 11, 20]


def small(rng: random.Random) -> int:
    return rng.choice(NUMS)


class Ecosystem:
    name = ""
    hand: list[str] = []  # adversarial hand-written versions
    pairs: list[tuple[str, str]] = []  # hand-written pairs, emitted first

    def random(self, rng: random.Random):  # a random structure
        raise NotImplementedError

    def mutate(self, rng: random.Random, s):  # a structure close to s
        raise NotImplementedError

    def render(self, sp: Spell, s) -> str:  # one of the spellings of s
        raise NotImplementedError

    def tool(self) -> str:
        raise NotImplementedError

    def compare(self, pairs: list[tuple[str, str]]) -> list[int | None]:
        """The native order of each pair, None when the tool rejects either version."""
        raise NotImplementedError


def run_helper(cmd: list[str], pairs: list[tuple[str, str]], env: dict | None = None,
               what: str = "") -> list[int | None]:
    data = "".join(f"{a}\t{b}\n" for a, b in pairs)
    full_env = dict(os.environ, LC_ALL="C.UTF-8")
    if env:
        full_env.update(env)
    proc = subprocess.run(cmd, input=data, capture_output=True, text=True, env=full_env)
    if proc.returncode != 0:
        raise ToolBroken(f"{what or cmd[0]} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    lines = proc.stdout.splitlines()
    if len(lines) != len(pairs):
        raise ToolBroken(f"{what or cmd[0]} answered {len(lines)} lines for {len(pairs)} pairs: "
                         f"{proc.stderr.strip()[-2000:]}")
    out: list[int | None] = []
    for (a, b), line in zip(pairs, lines):
        if line == "x":
            out.append(None)
        elif line in ("-1", "0", "1"):
            out.append(int(line))
        else:
            raise ToolBroken(f"{what or cmd[0]} answered {line!r} for {a!r} vs {b!r}")
    return out


def deb_version(package: str) -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------
# PyPI (PEP 440, packaging.version.Version)


class PyPI(Ecosystem):
    name = "PyPI"
    hand = [
        "1.0", "1.0.0", "1", "1.0.0.0.0", "0", "0.0", "01.02", "1.2", "1.0.1", "1.1", "1.9",
        "1.10", "2.0", "1.0a1", "1.0a2", "1.0a", "1.0a0", "1.0alpha", "1.0alpha1", "1.0b1",
        "1.0-beta.2", "1.0b2", "1.0rc1", "1.0c1", "1.0rc2", "1.0_rc_3", "1.0.0-preview1",
        "1.0pre1", "1.0RC1", "1.0.0rc1", "1.0.dev0", "1.0.dev", "1.0.dev1", "1.0a1.dev1",
        "1.0rc1.dev3", "1.0.post1", "1.0.post0", "1.0.post", "1.0-1", "1.0-r1", "1.0.rev1",
        "1.0post2", "1.0.post1.dev1", "1.0rc1.post1", "1.0rc1.post1.dev2", "1.0a1-1",
        "1.0+local", "1.0+1", "1.0+01", "1.0+abc.1", "1.0+abc.2", "1.0+1.abc", "1.0+ABC",
        "1.0+ubuntu-1", "1.0+ubuntu_1", "1.0+ubuntu.1", "1.0.post1+local", "1.0.dev0+local",
        "1.0a1+x", "1!0.1", "0!1.0", "2!0.0.1", "1!1.0rc1", "v1.0", "V1.0rc1", "2.0.0b1",
        "1.0.0.post2", "1.0.0a1.post1",
        # rejected by packaging (skipped):
        "1.0-", "1.0+", "1.0..0", "abc", "1.0+a..b", "1.0.post1.post2", "1.0a1b1",
        "1.0.0-SNAPSHOT", "1.0+a+b", "-1.0",
    ]
    pairs = [
        ("1.0.post1", "1.0"), ("1.0rc1", "1.0"), ("1.0", "1.0.0"), ("1.0.dev0", "1.0a1"),
        ("1.0a1.dev1", "1.0a1"), ("1.0+local", "1.0"), ("1!0.1", "2.0"), ("1.0c1", "1.0rc1"),
        ("1.0-1", "1.0.post1"), ("1.0.post1.dev1", "1.0.post1"), ("1.0.post1.dev1", "1.0"),
        ("1.0+abc.1", "1.0+1"), ("1.0+1.abc", "1.0+1"), ("1.0a", "1.0a0"), ("v1.0", "1.0"),
        ("1.0RC1", "1.0rc1"), ("01.02", "1.2"), ("1.0.dev0", "1.0.dev0+local"),
        ("1.0.dev1", "1.0a1.dev1"), ("0!1.0", "1.0"), ("1.0+01", "1.0+1"),
        ("1.0+ubuntu-1", "1.0+ubuntu.1"), ("1.0+ABC", "1.0+abc"), ("1.10", "1.9"),
        ("1.0alpha1", "1.0a1"), ("1.0.post", "1.0.post0"), ("1.0.dev", "1.0.dev0"),
    ]

    def random(self, rng):
        return {
            "epoch": rng.choice([0] * 12 + [1, 2]),
            "release": [small(rng) or (1 if i == 0 and rng.random() < 0.5 else 0)
                        for i in range(rng.choice([1, 2, 2, 3, 3, 3, 4]))],
            "pre": (rng.choice(["a", "b", "rc"]), rng.choice([0, 1, 1, 2, 10])) if rng.random() < 0.35 else None,
            "post": rng.choice([0, 1, 1, 2]) if rng.random() < 0.2 else None,
            "dev": rng.choice([0, 1, 2]) if rng.random() < 0.2 else None,
            "local": self._local(rng) if rng.random() < 0.15 else None,
        }

    def _local(self, rng):
        return [rng.choice([0, 1, 2, 10]) if rng.random() < 0.45 else rng.choice(["ubuntu", "abc", "deb", "a", "b", "1a", "z"])
                for _ in range(rng.choice([1, 1, 2, 3]))]

    def mutate(self, rng, s):
        s = copy.deepcopy(s)
        op = rng.randrange(8)
        if op == 0:
            i = rng.randrange(len(s["release"]))
            s["release"][i] = max(0, s["release"][i] + rng.choice([-1, 1]))
        elif op == 1:
            if len(s["release"]) > 1 and rng.random() < 0.5:
                s["release"].pop()
            else:
                s["release"].append(rng.choice([0, 0, 1]))
        elif op == 2:
            s["pre"] = None if s["pre"] and rng.random() < 0.5 else (rng.choice(["a", "b", "rc"]), rng.choice([0, 1, 2]))
        elif op == 3:
            s["post"] = None if s["post"] is not None and rng.random() < 0.5 else rng.choice([0, 1, 2])
        elif op == 4:
            s["dev"] = None if s["dev"] is not None and rng.random() < 0.5 else rng.choice([0, 1, 2])
        elif op == 5:
            s["local"] = None if s["local"] and rng.random() < 0.5 else self._local(rng)
        elif op == 6:
            s["epoch"] = rng.choice([0, 0, 1])
        else:
            s["pre"], s["post"], s["dev"] = None, None, None
        return s

    def render(self, sp, s):
        rng = sp.rng
        out = rng.choice(["v", "v", "V"]) if sp.ch(0.05) else ""
        if s["epoch"] or sp.ch(0.05):
            out += f"{s['epoch']}!"
        release = list(s["release"])
        while sp.ch(0.12) and len(release) < 6:
            release.append(0)
        out += ".".join(sp.num(n) for n in release)
        if s["pre"]:
            kind, n = s["pre"]
            word = sp.pick(kind, {"a": ["a", "alpha"], "b": ["b", "beta"], "rc": ["rc", "c", "pre", "preview"]}[kind])
            if sp.ch(0.08):
                word = word.upper()
            out += sp.pick("", [".", "-", "_"], 0.15) + word
            if not (n == 0 and sp.ch(0.2)):
                out += sp.pick("", [".", "-", "_"], 0.1) + sp.num(n)
        if s["post"] is not None:
            n = s["post"]
            if sp.ch(0.12):
                out += "-" + sp.num(n)  # implicit post release
            else:
                out += sp.pick(".", ["", "-", "_"], 0.15) + sp.pick("post", ["rev", "r", "POST"], 0.12)
                if not (n == 0 and sp.ch(0.2)):
                    out += sp.pick("", [".", "-", "_"], 0.1) + sp.num(n)
        if s["dev"] is not None:
            n = s["dev"]
            out += sp.pick(".", ["", "-", "_"], 0.15) + sp.pick("dev", ["DEV"], 0.05)
            if not (n == 0 and sp.ch(0.2)):
                out += sp.pick("", [".", "-", "_"], 0.1) + sp.num(n)
        if s["local"]:
            out += "+"
            for i, seg in enumerate(s["local"]):
                if i:
                    out += sp.pick(".", ["-", "_"], 0.2)
                out += sp.num(seg) if isinstance(seg, int) else (seg.upper() if sp.ch(0.08) else seg)
        return out

    def tool(self):
        try:
            import packaging
        except ImportError:
            raise ToolMissing("Python package 'packaging' is missing: python3 -m pip install packaging==24.2")
        return f"packaging {packaging.__version__}"

    def compare(self, pairs):
        from packaging.version import InvalidVersion, Version

        cache: dict[str, Version | None] = {}

        def parse(v):
            if v not in cache:
                try:
                    cache[v] = Version(v)
                except InvalidVersion:
                    cache[v] = None
            return cache[v]

        out = []
        for a, b in pairs:
            va, vb = parse(a), parse(b)
            out.append(None if va is None or vb is None else (va > vb) - (va < vb))
        return out


# --------------------------------------------------------------------------------------
# Debian (dpkg)


class Debian(Ecosystem):
    name = "Debian"
    hand = [
        "1.0", "1.0~rc1", "1.0~rc1-1", "1.0~rc2", "1.0~beta1", "1.0-1", "1.0-2", "1.0-10",
        "1.0-1~bpo1", "1.0-1+b1", "1.0-1ubuntu1", "1.0-0ubuntu0.1", "1.0-1.1", "1.0-1.1~deb12u1",
        "1:1.0", "1:0.9", "0:1.0", "2:0", "1:1.0-1", "1.0~", "1.0~~", "1.0~~a", "1.0+dfsg-1",
        "1.0+dfsg1-1", "1.0+dfsg-1~", "1.0.1", "1.0a", "1.0b", "1.0+", "1.0.", "1.00", "1.01",
        "1.1", "1.0-rc1-1", "10.0", "9.9", "1.0+really0.9-1", "1.0~beta2+dfsg-3", "20230101",
        "1.0-0", "1.0-00", "1.2.3-1~exp1", "0.0", "0", "1.0-A", "1.0-a", "1.0Z", "1.0z",
        "3.0-1+deb12u1", "3.0-1+deb11u3", "1.0-ubuntu1", "1.0.0", "1.0+git20200101.abc-1",
        "1.0~git20200101-1", "2.30-1", "2.3-1",
        # rejected by dpkg (skipped):
        "a1.0", "1.0_1", "1:", "1.0-", "1.0-1:2", ":1.0", "1.0 1",
    ]
    pairs = [
        ("1.0~rc1", "1.0"), ("1.0", "1.0-0"), ("0:1.0", "1.0"), ("1.00", "1.0"), ("1.01", "1.1"),
        ("1.0~~", "1.0~"), ("1.0~", "1.0"), ("1.0", "1.0a"), ("1.0a", "1.0+"), ("1.0+", "1.0."),
        ("1:0.9", "2.0"), ("1.0-1ubuntu1", "1.0-1"), ("1.0-1~bpo1", "1.0-1"), ("1.0-1+b1", "1.0-1"),
        ("1.0Z", "1.0a"), ("1.0-rc1-1", "1.0-1"), ("1.0.0", "1.0"), ("1.0-1.1~deb12u1", "1.0-1.1"),
    ]
    MID = [".", ".", ".", ".", ".", "~rc", "~beta", "~", "+dfsg", "+", "+git", ".git", "a", "b",
           "rc", "p", "~~", "+really", "-"]
    END = ["~", "a", "b", "+dfsg", "+ds", "~~", "z", "Z", ".", "+", "~rc"]
    REV_MID = [".", ".", ".", "ubuntu", "+b", "~bpo", "+deb", "u", "~exp", "build", "~"]

    def _tokens(self, rng, mid, end, parts):
        toks = [small(rng)]
        for _ in range(parts):
            toks += [rng.choice(mid), small(rng)]
        if rng.random() < 0.2:
            toks.append(rng.choice(end))
        return toks

    def random(self, rng):
        up = self._tokens(rng, self.MID, self.END, rng.choice([0, 1, 1, 2, 2, 3]))
        rev = self._tokens(rng, self.REV_MID, ["~", "+"], rng.choice([0, 0, 1, 2])) if rng.random() < 0.5 else None
        if "-" in up and rev is None:
            rev = [1]
        return {"epoch": rng.choice([0] * 10 + [1, 2]), "up": up, "rev": rev}

    def mutate(self, rng, s):
        s = copy.deepcopy(s)
        op = rng.randrange(6)
        ints = [i for i, t in enumerate(s["up"]) if isinstance(t, int)]
        if op == 0:
            i = rng.choice(ints)
            s["up"][i] = max(0, s["up"][i] + rng.choice([-1, 1]))
        elif op == 1:
            if isinstance(s["up"][-1], int):
                s["up"].append(rng.choice(self.END + self.MID[:-1]))
                if rng.random() < 0.5:
                    s["up"].append(small(rng))
            else:
                s["up"].pop()
        elif op == 2:
            if s["rev"] is None:
                s["rev"] = self._tokens(rng, self.REV_MID, ["~", "+"], rng.choice([0, 1]))
            elif "-" not in s["up"]:
                s["rev"] = None
            else:
                s["rev"][0] += 1
        elif op == 3 and s["rev"] is not None:
            s["rev"] = s["rev"] + [rng.choice(self.REV_MID), small(rng)] if isinstance(s["rev"][-1], int) else s["rev"][:-1]
        elif op == 4:
            s["epoch"] = rng.choice([0, 0, 1])
        else:
            i = rng.choice(ints)
            s["up"][i + 1:i + 1] = ["~", 1] if rng.random() < 0.5 else ["+", 1]
        return s

    def _join(self, sp, toks):
        return "".join(sp.num(t) if isinstance(t, int) else t for t in toks)

    def render(self, sp, s):
        out = f"{s['epoch']}:" if s["epoch"] or sp.ch(0.08) else ""
        out += self._join(sp, s["up"])
        if s["rev"] is not None:
            out += "-" + self._join(sp, s["rev"])
        elif sp.ch(0.08):
            out += sp.pick("-0", ["-00"], 0.3)  # an empty revision sorts as 0
        return out

    def tool(self):
        if not shutil.which("dpkg"):
            raise ToolMissing("dpkg is missing (Debian package dpkg)")
        return f"dpkg {deb_version('dpkg')}"

    def compare(self, pairs):
        env = dict(os.environ, LC_ALL="C")

        def dpkg(a, op, b):
            p = subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True, env=env)
            if p.returncode not in (0, 1) or p.stderr.strip():
                return None  # dpkg's error (exit 2) or warning ("has bad syntax")
            return p.returncode == 0

        def one(pair):
            a, b = pair
            if not a or not b or a.startswith("-") or b.startswith("-"):
                return None  # "" is dpkg's "no version"; a leading '-' would be an option
            lt = dpkg(a, "lt", b)
            if lt is None:
                return None
            if lt:
                return -1
            gt = dpkg(a, "gt", b)
            return None if gt is None else (1 if gt else 0)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            return list(pool.map(one, pairs, chunksize=16))


# --------------------------------------------------------------------------------------
# npm (node-semver, strict)


class Npm(Ecosystem):
    name = "npm"
    hand = [
        "1.0.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-alpha.0", "1.0.0-beta",
        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0-rc.10", "1.0.0-rc.9", "1.0.0-rc1",
        "1.0.0-rc10", "1.0.0-rc9", "1.0.0-0", "1.0.0-1", "1.0.0-a", "1.0.0-A", "1.0.0--",
        "1.0.0-a-b", "1.0.0-0a", "1.0.0-9", "1.0.0-10", "1.0.0+build", "1.0.0+build.1",
        "1.0.0+001", "1.0.0-alpha+001", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85",
        "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "2.0.0", "1.10.0", "1.9.0", "0.0.0", "0.0.0-0",
        "0.0.1", "0.1.0", "v1.0.0", "v1.0.0-rc.1", "4294967296.0.0", "1.0.0-4294967296",
        "9007199254740991.0.0", "1.0.0-9007199254740990", "1.2.3-beta.1+build.01",
        # rejected by semver.valid in strict mode (skipped):
        "1.0.0-alpha.00", "01.0.0", "1.0", "1", "1.0.0.0", "=1.0.0", "1.0.0-", "1.0.0+",
        "1.0.0-alpha..1", "1.0.0-alpha_1", "9007199254740992.0.0", "1.0.0+a+b",
    ]
    pairs = [
        ("1.0.0+build", "1.0.0"), ("1.0.0-alpha", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-rc10", "1.0.0-rc9"), ("1.0.0-1", "1.0.0-a"), ("1.0.0-A", "1.0.0-a"),
        ("1.0.0-alpha+001", "1.0.0-alpha+002"), ("v1.0.0", "1.0.0"), ("1.0.0-0", "0.9.9"),
        ("1.0.0--", "1.0.0-0"), ("1.10.0", "1.9.0"), ("1.0.0-rc.9", "1.0.0-rc.10"),
    ]
    IDS = ["alpha", "beta", "rc", "a", "b", "A", "Alpha", "x-y", "-", "0a", "a0", "rc1", "rc10",
           "rc9", "beta-2", "pre", "next", "z"]
    BUILD = ["build", "001", "exp", "sha", "5114f85", "20130313144700", "a-b", "0"]

    def _id(self, rng):
        return rng.choice([0, 1, 2, 10, 11]) if rng.random() < 0.4 else rng.choice(self.IDS)

    def random(self, rng):
        pre = [self._id(rng) for _ in range(rng.choice([1, 1, 2, 2, 3]))] if rng.random() < 0.5 else None
        return {"v": [small(rng), small(rng), small(rng)], "pre": pre}

    def mutate(self, rng, s):
        s = copy.deepcopy(s)
        op = rng.randrange(5)
        if op == 0:
            i = rng.randrange(3)
            s["v"][i] = max(0, s["v"][i] + rng.choice([-1, 1]))
        elif op == 1 or not s["pre"]:
            s["pre"] = None if s["pre"] and rng.random() < 0.3 else (s["pre"] or []) + [self._id(rng)]
        elif op == 2:
            s["pre"].pop()
            s["pre"] = s["pre"] or None
        elif op == 3:
            s["pre"][rng.randrange(len(s["pre"]))] = self._id(rng)
        else:
            i = rng.randrange(len(s["pre"]))
            if isinstance(s["pre"][i], int):
                s["pre"][i] += 1
            else:
                s["pre"][i] = str(s["pre"][i]) + rng.choice(["", "1", "a", "-"])
        return s

    def render(self, sp, s):
        out = ("v" if sp.ch(0.03) else "") + ".".join(map(str, s["v"]))
        if s["pre"]:
            out += "-" + ".".join(map(str, s["pre"]))
        if sp.ch(0.15):
            out += "+" + ".".join(sp.rng.choice(self.BUILD) for _ in range(sp.rng.choice([1, 1, 2, 3])))
        return out

    def tool(self):
        if not shutil.which("node"):
            raise ToolMissing("node is missing (Debian package nodejs)")
        if not (NODE_SEMVER / "index.js").exists():
            raise ToolMissing(f"{NODE_SEMVER} is missing (Debian package node-semver)")
        return f"node-semver {deb_version('node-semver')}"

    def compare(self, pairs):
        return run_helper(["node", str(ORACLE_DIR / "npm-semver.js")], pairs,
                          env={"NODE_PATH": str(NODE_SEMVER.parent)}, what="node npm-semver.js")


# --------------------------------------------------------------------------------------
# RubyGems (Gem::Version)


class RubyGems(Ecosystem):
    name = "RubyGems"
    hand = [
        "1.0", "1", "1.0.0", "1.0.0.0", "01.0", "1.0.a", "1.0.a1", "1.0a", "1.0a1", "1.0.a.1",
        "1.0.b", "1.0.b1", "1.0.pre", "1.0.pre1", "1.0.rc1", "1.0.rc.1", "1.0.rc2", "1.0.RC1",
        "1.0-rc1", "1.0-pre", "1.0-1", "1.0.pre.1", "1.0.pre.rc1", "1.0.0.1", "1.0.1", "1.1",
        "1.a", "1.0.0.a", "1.0.a.0", "0.0", "0", "2.0.0.rc1", "1.0.x", "1.0.A", "1.0.Z",
        "1.0.z", "10.0", "9.9", "1.0.1a", "1.0.1.a", "1.0.pre.pre", "1.0.beta.2", "1.0.beta.10",
        "1.0.beta10", "1.0.beta9", "1.0.0.beta", "1.0.alpha", "3.2.0.rc1.1", "1.0-rc.1-2",
        # rejected by Gem::Version.correct? (skipped):
        "junk", "1..0", "1.0.", ".1", "1.0-", "a.1", "1.0_1", "1.0+1",
    ]
    pairs = [
        ("1.0.a", "1.0"), ("1.0", "1.0.0"), ("1", "1.0.0.0"), ("1.0.a", "1.0.b"),
        ("1.0-rc1", "1.0.pre.rc1"), ("1.0.rc1", "1.0"), ("1.a", "1.0.a"), ("1.0.A", "1.0.a"),
        ("1.0.a.0", "1.0.a"), ("1.0.1.a", "1.0.1"), ("1.0a1", "1.0.a.1"), ("01.0", "1.0"),
        ("1.0.beta.10", "1.0.beta.2"), ("1.0.beta10", "1.0.beta9"), ("1.0-1", "1.0"),
    ]
    WORDS = ["a", "b", "pre", "rc", "beta", "alpha", "dev", "A", "RC", "z"]

    def _pre(self, rng):
        pre = [rng.choice(self.WORDS)]
        for _ in range(rng.choice([0, 1, 1, 2])):
            pre.append(small(rng) if rng.random() < 0.6 else rng.choice(self.WORDS))
        return pre

    def random(self, rng):
        rel = [small(rng) for _ in range(rng.choice([1, 2, 2, 3, 3, 4]))]
        return {"rel": rel, "pre": self._pre(rng) if rng.random() < 0.4 else None}

    def mutate(self, rng, s):
        s = copy.deepcopy(s)
        op = rng.randrange(5)
        if op == 0:
            i = rng.randrange(len(s["rel"]))
            s["rel"][i] = max(0, s["rel"][i] + rng.choice([-1, 1]))
        elif op == 1:
            if len(s["rel"]) > 1 and rng.random() < 0.5:
                s["rel"].pop()
            else:
                s["rel"].append(rng.choice([0, 1]))
        elif op == 2 or not s["pre"]:
            s["pre"] = None if s["pre"] else self._pre(rng)
        elif op == 3:
            s["pre"].append(small(rng) if rng.random() < 0.5 else rng.choice(self.WORDS))
        else:
            s["pre"][0] = rng.choice(self.WORDS)
        return s

    def _join(self, sp, segs):
        out = ""
        for i, seg in enumerate(segs):
            if i:
                # a letter run next to a digit run is its own segment with or without the dot
                attach = isinstance(seg, int) != isinstance(segs[i - 1], int) and sp.ch(0.3)
                out += "" if attach else "."
            out += sp.num(seg) if isinstance(seg, int) else seg
        return out

    def render(self, sp, s):
        rel = list(s["rel"])
        while sp.ch(0.12) and len(rel) < 6:
            rel.append(0)  # trailing zeros do not count
        out = ".".join(sp.num(n) for n in rel)
        if s["pre"]:
            pre = list(s["pre"])
            if isinstance(pre[-1], int) and pre[-1] != 0 and sp.ch(0.05):
                pre.append(0)
            if pre[0] == "pre" and len(pre) > 1 and sp.ch(0.3):
                out += "-" + self._join(sp, pre[1:])  # '-' reads as '.pre.'
            else:
                out += ("" if sp.ch(0.3) else ".") + self._join(sp, pre)
        return out

    def tool(self):
        if not shutil.which("ruby"):
            raise ToolMissing("ruby is missing (Debian package ruby)")
        gem = subprocess.run(["ruby", "-e", "print RUBY_VERSION, ' rubygems ', Gem::VERSION"],
                             capture_output=True, text=True).stdout.strip()
        return f"Gem::Version (ruby {gem})"

    def compare(self, pairs):
        return run_helper(["ruby", str(ORACLE_DIR / "rubygems-version.rb")], pairs, what="ruby rubygems-version.rb")


# --------------------------------------------------------------------------------------
# Packagist (composer/semver)


class Packagist(Ecosystem):
    name = "Packagist"
    hand = [
        "1.0.0", "1.0", "1", "v1.0.0", "V1.0", "1.0.0.0", "1.0.0-beta1", "1.0.0-beta.1",
        "1.0.0-b1", "1.0.0-beta", "1.0.0-beta2", "1.0.0-beta10", "1.0.0-RC1", "1.0.0-rc1",
        "1.0.0-RC", "1.0.0-RC2", "1.0.0-alpha", "1.0.0-alpha1", "1.0.0-a1", "1.0.0-p1",
        "1.0.0-pl1", "1.0.0-patch1", "1.0.0-patch", "1.0.0-p", "1.0.0-dev", "1.0.0-beta1-dev",
        "1.0.0-stable", "1.0.0+build", "1.0.0-beta1+build", "1.0.1", "1.1", "1.10.0", "1.9.0",
        "0.0.1", "0.1", "2010-01-02", "2010.01.02", "20100102", "2010-01-02-10-20-30",
        "1.0.0-beta.1.2", "1.0.0-beta-1", "1.0.0beta1", "1.0.0.beta1", "1.0.0_beta1",
        "1.0-RC2", "99999.0", "1.2.3.4", "1.2.3.4-beta1", "v2.0.0-alpha.3", "1.0.0.0-dev",
        "1.0.0.1",
        # rejected by VersionParser::normalize or a branch (skipped):
        "1.0.0.0.0", "dev-master", "dev-feature/x", "1.0.x-dev", "foo", "1.0.0-gamma",
        "1.0.0-", "v", "1.0.0-beta1-rc1",
    ]
    pairs = [
        ("1.0.0-beta1", "1.0.0"), ("1.0", "1.0.0"), ("v1.0.0", "1.0.0"), ("1.0.0-RC1", "1.0.0-beta2"),
        ("1.0.0-p1", "1.0.0"), ("1.0.0-dev", "1.0.0-alpha1"), ("1.0.0-rc1", "1.0.0-RC1"),
        ("1.0.0+build", "1.0.0"), ("1.0.0-stable", "1.0.0"), ("1.0.0-b1", "1.0.0-beta1"),
        ("1.0.0-beta10", "1.0.0-beta2"), ("1.0.0-pl1", "1.0.0-patch1"), ("1.0.0.0", "1"),
        ("1.0.0-beta", "1.0.0-beta1"), ("2010-01-02", "2010.01.02"),
    ]
    KINDS = ["alpha", "beta", "RC", "patch", "alpha", "beta", "RC", "stable"]
    SPELL = {"alpha": ["alpha", "a", "ALPHA", "Alpha"], "beta": ["beta", "b", "BETA", "Beta"],
             "RC": ["RC", "rc", "Rc"], "patch": ["patch", "pl", "p", "PATCH"], "stable": ["stable", "STABLE"]}

    def random(self, rng):
        rel = [small(rng) for _ in range(rng.choice([1, 2, 3, 3, 3, 4]))]
        mod = (rng.choice(self.KINDS), rng.choice([None, 1, 1, 2, 10])) if rng.random() < 0.4 else None
        return {"rel": rel, "mod": mod, "dev": rng.random() < 0.1}

    def mutate(self, rng, s):
        s = copy.deepcopy(s)
        op = rng.randrange(5)
        if op == 0:
            i = rng.randrange(len(s["rel"]))
            s["rel"][i] = max(0, s["rel"][i] + rng.choice([-1, 1]))
        elif op == 1:
            if len(s["rel"]) > 1 and rng.random() < 0.5:
                s["rel"].pop()
            elif len(s["rel"]) < 4:
                s["rel"].append(rng.choice([0, 1]))
        elif op == 2:
            s["mod"] = None if s["mod"] and rng.random() < 0.4 else (rng.choice(self.KINDS), rng.choice([None, 1, 2]))
        elif op == 3 and s["mod"]:
            s["mod"] = (s["mod"][0], (s["mod"][1] or 0) + 1)
        else:
            s["dev"] = not s["dev"]
        return s

    def render(self, sp, s):
        rel = list(s["rel"])
        while len(rel) < 4 and sp.ch(0.2):
            rel.append(0)  # normalize pads to four numbers
        out = ("v" if sp.ch(0.1) else "") + ".".join(sp.num(n) for n in rel)
        if s["mod"]:
            kind, n = s["mod"]
            out += sp.pick("-", ["", ".", "_"], 0.2) + sp.pick(kind, self.SPELL[kind], 0.3)
            if n is not None:
                out += sp.pick("", [".", "-"], 0.2) + str(n)
        if s["dev"]:
            out += sp.pick("-", [".", ""], 0.2) + "dev"
        if sp.ch(0.06) and not s["dev"]:
            out += "+" + sp.rng.choice(["build", "b1", "20200101", "sha.5114f85"])
        return out

    def tool(self):
        if not shutil.which("php"):
            raise ToolMissing("php is missing (Debian package php-cli)")
        if not COMPOSER_SEMVER.exists():
            raise ToolMissing(f"{COMPOSER_SEMVER} is missing (Debian package php-composer-semver)")
        return f"php-composer-semver {deb_version('php-composer-semver')}"

    def compare(self, pairs):
        try:
            return run_helper(["php", str(ORACLE_DIR / "composer-semver.php")], pairs, what="php composer-semver.php")
        except ToolBroken as e:
            raise ToolBroken(f"{e} (a '?' answer means Comparator said neither <, == nor >)")


# --------------------------------------------------------------------------------------
# Maven (ComparableVersion)


class Maven(Ecosystem):
    name = "Maven"
    hand = [
        "1", "1.0", "1.0.0", "1.0.0.0", "1-ga", "1.0-ga", "1.0-GA", "1.0-final", "1.0.Final",
        "1.0.RELEASE", "1.0-release", "1-alpha", "1.0-alpha", "1.0-alpha-1", "1.0-alpha1",
        "1.0a1", "1.0-a1", "1.0-a", "1.0-a-1", "1.0-beta", "1.0-beta-2", "1.0-b1", "1.0-milestone-1",
        "1.0-M1", "1.0-m1", "1.0-rc1", "1.0-RC1", "1.0-rc-1", "1.0-cr1", "1.0-CR1", "1.0-SNAPSHOT",
        "1.0-snapshot", "1.0-sp", "1.0-sp1", "1.0-SP1", "1.0-foo", "1.0-jre", "1.0-android",
        "1.0.1", "1.1", "1.0-1", "1.0.0-1", "1-1", "1.0.0.0.1", "1-0", "1.0-0", "1.0.0-0.1",
        "1.0-alpha-1-SNAPSHOT", "1.0-rc1-SNAPSHOT", "2.0", "1.10", "1.9", "1.0.x", "1.0.z",
        "1.0-xyz", "1.0-alpha.1", "1.0.alpha", "1.0.RC1", "1.0-20191109", "1.0-SP", "01.0",
        "2.0.0.Final", "3.0.0.CR1", "1-1.foo-bar1baz-.1", "1.0-", "1..0", "1.0.", "0.0", "0",
        "abc", "1.0-SNAPSHOT-1", "1.0-alpha-SNAPSHOT", "1.0-beta.1", "1.0.0-alpha.1", "1.0-ga-1",
        "1.0-final-1", "1.0-sp-1", "1.0-1-1", "1.0.0.RELEASE", "1.0.0.M1", "31.1-jre",
        "31.1-android", "2.0.0-M1", "1.0-dev", "1.0-preview", "1.0.0-RC.1",
    ]
    pairs = [
        ("1.0-alpha", "1.0"), ("1.0", "1.0.0"), ("1.0.0", "1-ga"), ("1-ga", "1.0-final"),
        ("1.0-cr1", "1.0-rc1"), ("1.0-SNAPSHOT", "1.0"), ("1.0-rc1", "1.0-SNAPSHOT"),
        ("1.0-sp1", "1.0"), ("1.0-foo", "1.0-sp"), ("1.0a1", "1.0-alpha-1"), ("1.0-1", "1.0"),
        ("1.0-milestone-1", "1.0-M1"), ("1.0.RELEASE", "1.0"), ("1.0-a", "1.0-alpha"),
        ("1.0-beta", "1.0-milestone"), ("1.0-foo", "1.0"), ("1.0-foo", "1.0-1"),
        ("1.0.1", "1.0-1"), ("1.10", "1.9"), ("1-0", "1"), ("1.0-alpha1", "1.0-alpha-1"),
    ]
    QUALS = ["alpha", "beta", "milestone", "rc", "snapshot", "ga", "sp", "foo", "jre", "alpha",
             "beta", "rc", "snapshot"]
    SPELL = {
        "alpha": ["alpha", "Alpha", "ALPHA"], "beta": ["beta", "Beta", "BETA"],
        "milestone": ["milestone", "MILESTONE"], "rc": ["rc", "RC", "cr", "CR"],
        "snapshot": ["SNAPSHOT", "snapshot"], "ga": ["ga", "GA", "final", "Final", "FINAL", "release", "RELEASE"],
        "sp": ["sp", "SP"], "foo": ["foo", "FOO"], "jre": ["jre", "JRE"],
    }
    SHORT = {"alpha": "a", "beta": "b", "milestone": "m"}

    def random(self, rng):
        items: list[tuple[str | None, int | str]] = [(None, small(rng) or rng.choice([0, 1]))]
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            items.append((".", small(rng)))
        if rng.random() < 0.55:
            items.append((rng.choice(["-"] * 4 + ["."]), rng.choice(self.QUALS)))
            if rng.random() < 0.55:
                items.append(("-", rng.choice([1, 1, 2, 10, 0])))
        if rng.random() < 0.12:
            items.append(("-", rng.choice(["snapshot", "foo", 1, 2])))
        return items

    def mutate(self, rng, s):
        s = list(s)
        op = rng.randrange(5)
        ints = [i for i, (_, v) in enumerate(s) if isinstance(v, int)]
        if op == 0 and ints:
            i = rng.choice(ints)
            s[i] = (s[i][0], max(0, s[i][1] + rng.choice([-1, 1])))
        elif op == 1:
            if len(s) > 1 and rng.random() < 0.5:
                s.pop()
            else:
                s.append((rng.choice([".", "-"]), rng.choice([0, 1]) if rng.random() < 0.6 else rng.choice(self.QUALS)))
        elif op == 2:
            quals = [i for i, (_, v) in enumerate(s) if isinstance(v, str)]
            if quals:
                i = rng.choice(quals)
                s[i] = (s[i][0], rng.choice(self.QUALS))
            else:
                s.append(("-", rng.choice(self.QUALS)))
        elif op == 3:
            i = rng.randrange(1, len(s) + 1)
            s.insert(i, (rng.choice([".", "-"]), rng.choice([0, 1, "alpha", "sp"])))
        else:
            i = rng.randrange(1, len(s)) if len(s) > 1 else None
            if i is not None:
                s[i] = ("." if s[i][0] == "-" else "-", s[i][1])
        return s

    def render(self, sp, s):
        out = ""
        attach = False  # the previous item was written in short form ('a1' is alpha-1)
        for i, (sep, val) in enumerate(s):
            nxt = s[i + 1] if i + 1 < len(s) else None
            prev = s[i - 1][1] if i else None
            if attach:
                attach = False
            elif sep is not None:
                # a switch between digits and letters splits like '-' does
                switch = isinstance(val, int) != isinstance(prev, int)
                out += "" if sep == "-" and switch and sp.ch(0.35) else sep
            if isinstance(val, int):
                out += sp.num(val)
                if (nxt is None or nxt[0] == "-") and sp.ch(0.08):
                    out += ".0"  # trailing zeros before '-' or the end do not count
            elif val in self.SHORT and nxt is not None and nxt[0] == "-" and isinstance(nxt[1], int) and sp.ch(0.1):
                # the short form only means alpha/beta/milestone right before a digit
                out += sp.pick(self.SHORT[val], [self.SHORT[val].upper()], 0.3)
                attach = True
            else:
                out += sp.pick(val, self.SPELL[val], 0.35)
        return out

    def tool(self):
        if not shutil.which("java"):
            raise ToolMissing("java is missing (Debian package default-jdk-headless)")
        if not self._jar():
            raise ToolMissing("maven-artifact-3.x.jar is missing (Debian package libmaven3-core-java)")
        return f"maven-artifact {deb_version('libmaven3-core-java')}"

    def _jar(self):
        return next((j for j in MAVEN_ARTIFACT_JARS if j.exists()), None)

    def compare(self, pairs):
        return run_helper(["java", "-cp", str(self._jar()), str(ORACLE_DIR / "MavenCompare.java")],
                          pairs, what="java MavenCompare.java")


# --------------------------------------------------------------------------------------
# Go (golang.org/x/mod/semver)


class Go(Ecosystem):
    name = "Go"
    hand = [
        "v1.0.0", "v1", "v1.0", "v1.2", "v1.2.0", "v1.2.3", "v1.2.4", "v1.10.0", "v1.9.0",
        "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4-0.20200101000000-000000000000",
        "v1.2.3-pre", "v1.2.3-pre.0.20191109021931-daa7c04131f5",
        "v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20191109021932-aaaaaaaaaaaa",
        "v0.0.0-20191109021931-aaaaaaaaaaaa", "v0.0.0", "v0.0.1", "v0.1.0",
        "v2.0.0+incompatible", "v2.0.0", "v2.0.1+incompatible", "v2.0.0-rc.1+incompatible",
        "v3.0.0-20191109021931-daa7c04131f5+incompatible", "v1.0.0-rc.1", "v1.0.0-rc.10",
        "v1.0.0-rc.2", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta.11",
        "v1.0.0-0", "v1.0.0-A", "v1.0.0-a", "v1.0.0+build", "v1.0.0+build.2",
        # rejected by semver.IsValid (skipped):
        "1.0.0", "v1.0.0-01", "v01.0.0", "v1.2-pre", "v1.0.0.0", "V1.0.0", "v1.0.0-",
        "v1.0.0+", "v1+build", "v", "v1.0.0-a..b",
    ]
    pairs = [
        ("v1.2", "v1.2.0"), ("v2.0.0+incompatible", "v2.0.0"), ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.0"),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3"), ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4"),
        ("v1.0.0-rc.2", "v1.0.0-rc.10"), ("v1", "v1.0.0"), ("v1.0.0+build", "v1.0.0"),
        ("v1.2.3-pre.0.20191109021931-daa7c04131f5", "v1.2.3-pre"),
        ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20191109021932-aaaaaaaaaaaa"),
        ("v1.0.0-A", "v1.0.0-a"), ("v1.10.0", "v1.9.0"),
    ]
    TIMES = ["20191109021931", "20191109021932", "20200101000000", "20180101120000"]
    HASHES = ["daa7c04131f5", "aaaaaaaaaaaa", "000000000000", "abcdef123456"]

    def _pseudo(self, rng):
        return f"{rng.choice(self.TIMES)}-{rng.choice(self.HASHES)}"

    def random(self, rng):
        v = [small(rng), small(rng), small(rng)]
        r = rng.random()
        if r < 0.08:  # vX.0.0-yyyymmddhhmmss-abcdefabcdef: no earlier tag
            return {"v": [v[0], 0, 0], "pre": [self._pseudo(rng)]}
        if r < 0.16:  # vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef: after release vX.Y.Z
            return {"v": v, "pre": [0, self._pseudo(rng)]}
        if r < 0.20:  # vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef: after pre-release vX.Y.Z-pre
            return {"v": v, "pre": [Npm()._id(rng), 0, self._pseudo(rng)]}
        pre = [Npm()._id(rng) for _ in range(rng.choice([1, 1, 2, 3]))] if rng.random() < 0.4 else None
        return {"v": v, "pre": pre}

    def mutate(self, rng, s):
        s = Npm().mutate(rng, s)
        if rng.random() < 0.15:
            s["pre"] = (s["pre"] or [0]) + [self._pseudo(rng)]
        return s

    def render(self, sp, s):
        major, minor, patch = s["v"]
        if not s["pre"] and patch == 0 and sp.ch(0.12):  # shorthand: only bare vX or vX.Y
            return f"v{major}" if minor == 0 and sp.ch(0.5) else f"v{major}.{minor}"
        out = f"v{major}.{minor}.{patch}"
        if s["pre"]:
            out += "-" + ".".join(map(str, s["pre"]))
        if sp.ch(0.15):
            out += "+" + sp.rng.choice(["incompatible", "incompatible", "build", "meta.1"])
        return out

    def tool(self):
        if not shutil.which("go"):
            raise ToolMissing("go is missing (Debian package golang-go)")
        if not X_MOD_SEMVER.exists():
            raise ToolMissing(f"{X_MOD_SEMVER} is missing (Debian package golang-golang-x-mod-dev)")
        return f"golang-golang-x-mod-dev {deb_version('golang-golang-x-mod-dev')}"

    def compare(self, pairs):
        # GOPATH mode against Debian's source tree: nothing is fetched.
        env = {"GO111MODULE": "off", "GOPATH": str(GOPATH), "GOPROXY": "off", "GOFLAGS": "",
               "GOTOOLCHAIN": "local"}
        with tempfile.TemporaryDirectory(prefix="version-oracle-go.") as tmp:
            binary = os.path.join(tmp, "gosemver")
            build = subprocess.run(["go", "build", "-o", binary, str(ORACLE_DIR / "gosemver.go")],
                                   capture_output=True, text=True, env=dict(os.environ, **env))
            if build.returncode != 0:
                raise ToolBroken("Debian's Go cannot build scripts/oracle/gosemver.go offline against "
                                 f"golang-golang-x-mod-dev: {build.stderr.strip()[-2000:]}", code=3)
            return run_helper([binary], pairs, what="gosemver (golang.org/x/mod/semver)")


ECOSYSTEMS: dict[str, Ecosystem] = {e.name: e for e in (PyPI(), Debian(), Npm(), RubyGems(), Packagist(), Maven(), Go())}


# --------------------------------------------------------------------------------------


def candidates(eco: Ecosystem, rng: random.Random, want: int) -> list[tuple[str, str]]:
    """`want` distinct candidate pairs: the hand-written pairs, then a seeded mix of
    (1) two hand-written versions, (2) random versions (often one a small change of the
    other, sometimes against a hand-written one), (3) two spellings of one version."""
    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(a: str, b: str) -> None:
        if (a, b) not in seen:
            seen.add((a, b))
            out.append((a, b))

    for a, b in eco.pairs:
        add(a, b)
    tries = 0
    while len(out) < want and tries < want * 20:
        tries += 1
        r = rng.random()
        if r < 0.3:
            add(rng.choice(eco.hand), rng.choice(eco.hand))
        elif r < 0.72:
            s = eco.random(rng)
            t = eco.mutate(rng, s) if rng.random() < 0.65 else eco.random(rng)
            a, b = eco.render(Spell(rng), s), eco.render(Spell(rng), t)
            if rng.random() < 0.12:
                b = rng.choice(eco.hand)
            add(*((a, b) if rng.random() < 0.5 else (b, a)))
        else:
            s = eco.random(rng)
            a = eco.render(Spell(rng), s)
            for _ in range(10):
                b = eco.render(Spell(rng, w=3.0), s)
                if b != a:
                    add(a, b)
                    break
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ecosystem", required=True, choices=list(ECOSYSTEMS))
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.count < 0:
        ap.error("--count must be >= 0")
    eco = ECOSYSTEMS[args.ecosystem]
    prog = f"version-oracle: {eco.name}"
    try:
        tool = eco.tool()
        rng = random.Random(f"{eco.name}/{args.seed}")
        if isinstance(eco, Debian):
            # one dpkg process per comparison: ask only for as many as are needed
            pool = candidates(eco, rng, 3 * args.count + 200)
            verdicts: list[int | None] = []
            while sum(v is not None for v in verdicts) < args.count and len(verdicts) < len(pool):
                need = args.count - sum(v is not None for v in verdicts)
                chunk = pool[len(verdicts):len(verdicts) + need + need // 5 + 20]
                verdicts += eco.compare(chunk)
        else:
            pool = candidates(eco, rng, 3 * args.count + 200)
            verdicts = eco.compare(pool)  # the tool runs once, on every candidate
    except ToolMissing as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    except ToolBroken as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return e.code
    lines, skipped = [], 0
    for (a, b), v in zip(pool, verdicts):
        if len(lines) == args.count:
            break
        if v is None:
            skipped += 1
        else:
            lines.append(f"{a}\t{b}\t{v}\n")
    sys.stdout.write("".join(lines))
    print(f"{prog}: {len(lines)} pairs ordered by {tool}; skipped {skipped} candidate pairs "
          f"with a version it rejects", file=sys.stderr)
    if len(lines) < args.count:
        print(f"{prog}: only {len(lines)} of {args.count} pairs could be made", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
