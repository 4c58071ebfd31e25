#!/usr/bin/env python3
"""Independent count of what each real feed in shared/data/threat_intel should give.

The expected numbers in tests/real_feeds.rs come from this script, which re-implements
the documented rules with Python's own parsers (ipaddress, csv, json) instead of
Haechi's code:

* plain lists: blank lines and lines starting with '#' or ';' are not entries; the value
  is the first whitespace-separated word; kinds in the order IP, CIDR, IP:port, hash,
  URL with scheme, e-mail, host/path URL (bare '/path' skipped), host:port (skipped),
  domain (needs two labels, a non-numeric last label, 1-63 chars per label);
* CSV with the mappings used in the tests;
* STIX: indicator objects, patterns read with a regex (the real bundles only use single
  comparisons joined by OR, one AND, and MATCHES);
* MISP: attribute types and to_ids.

Run: python3 crates/ioc/tests/expected/verify_feed_counts.py
"""
import collections
import csv
import ipaddress
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "../../../../../shared/data/threat_intel"))

HEX = re.compile(r"^[0-9a-fA-F]+$")
DOMAIN_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")


def domain_reason(name):
    """None if `name` is a domain Haechi takes, else the skip reason code."""
    name = name.strip()
    if name.startswith("*."):
        name = name[2:]
    elif name.startswith("."):
        name = name[1:]
    if name.endswith("."):
        name = name[:-1]
    if not name:
        return "empty"
    if not name.isascii():
        return "non-ascii-domain"
    if not DOMAIN_CHARS.match(name):
        return "unrecognised"
    labels = name.split(".")
    if len(name) > 253 or any(not l or len(l) > 63 for l in labels):
        return "invalid"
    if labels[-1].isdigit():
        return "invalid"
    if len(labels) < 2:
        return "single-label"
    return None


def is_ip(s):
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def classify(value):
    """(kind, None) or (None, skip reason code) for an untyped value."""
    v = value.strip().replace("[.]", ".")
    if v.lower().startswith("hxxp"):
        v = "http" + v[4:]
    if not v:
        return None, "empty"
    if is_ip(v):
        return "ip", None
    if "/" in v:
        net, _, length = v.partition("/")
        if is_ip(net) and length.isdigit():
            full = 32 if ipaddress.ip_address(net).version == 4 else 128
            n = int(length)
            if n > full:
                return None, "invalid"
            return ("ip" if n == full else "cidr"), None
    m = re.match(r"^\[?([0-9a-fA-F:.]+)\]?:(\d+)$", v)
    if m and is_ip(m.group(1)) and (":" not in m.group(1) or v.startswith("[")):
        return ("ip-port", None) if int(m.group(2)) <= 65535 else (None, "invalid")
    if HEX.match(v) and len(v) in (32, 40, 64):
        return {32: "md5", 40: "sha1", 64: "sha256"}[len(v)], None
    if "://" in v:
        return "url", None
    if "@" in v and "/" not in v:
        return "email", None
    if "/" in v:
        if v.startswith("/"):
            return None, "path-without-host"
        return "url", None
    hp = re.match(r"^([^:]+):(\d+)$", v)
    if hp:
        return None, "host-with-port"
    reason = domain_reason(v)
    return ("domain", None) if reason is None else (None, reason)


def plain(path):
    entries, kinds, skips = 0, collections.Counter(), collections.Counter()
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8").strip()
            if not line or line[0] in "#;":
                continue
            entries += 1
            kind, reason = classify(line.split()[0])
            if kind:
                kinds[kind] += 1
            else:
                skips[reason] += 1
    return entries, dict(kinds), dict(skips)


def csv_feed(path, value, header, kind=None, skip_comments=True):
    entries, kinds, skips = 0, collections.Counter(), collections.Counter()
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    rows = [r for r in rows if any(c.strip() for c in r)]
    if header:
        names = [c.strip() for c in rows[0]]
        value = names.index(value)
        rows = rows[1:]
    for r in rows:
        entries += 1
        text = r[value].strip()
        if kind == "url":
            k, reason = ("url", None) if not text.startswith("/") else (None, "path-without-host")
        else:
            k, reason = classify(text)
        if k:
            kinds[k] += 1
        else:
            skips[reason] += 1
    return entries, dict(kinds), dict(skips)


STIX_TERM = re.compile(r"([a-z0-9-]+):([A-Za-z0-9_.'\-\[\]*]+)\s+(=|MATCHES)\s+'((?:[^'\\]|\\.)*)'")
STIX_KINDS = {
    ("ipv4-addr", "value"): "ip",
    ("domain-name", "value"): "domain",
    ("url", "value"): "url",
    ("file", "hashes.'SHA-256'"): "sha256",
    ("file", "hashes.md5"): "md5",
}


def stix(path):
    doc = json.load(open(path))
    objects = doc.get("objects", [doc]) if doc.get("type") == "bundle" else [doc]
    entries, kinds, skips = 0, collections.Counter(), collections.Counter()
    for o in objects:
        if o.get("type") != "indicator":
            continue
        entries += 1
        pattern = o["pattern"]
        terms = STIX_TERM.findall(pattern)
        if " AND " in pattern:
            skips["and-of-properties"] += 1
            continue
        for obj, prop, op, value in terms:
            kind = STIX_KINDS.get((obj, prop))
            if kind is None:
                skips["unsupported-path"] += 1
            elif op != "=":
                skips["unsupported-operator"] += 1
            elif kind == "domain" and domain_reason(value):
                skips[classify(value)[1]] += 1
            else:
                if kind == "ip" and "/" in value and not value.endswith("/32"):
                    kind = "cidr"
                kinds[kind] += 1
    return entries, dict(kinds), dict(skips)


MISP_KINDS = {
    "ip-src": ["ip"], "ip-dst": ["ip"], "domain": ["domain"], "hostname": ["domain"],
    "domain|ip": ["domain", "ip"], "url": ["url"], "md5": ["md5"], "sha1": ["sha1"],
    "sha256": ["sha256"], "filename|md5": ["md5"], "malware-sample": ["md5"],
    "filename|sha1": ["sha1"], "filename|sha256": ["sha256"], "email-src": ["email"],
}


def misp(path):
    doc = json.load(open(path))
    event = doc.get("Event", doc)
    attrs = list(event.get("Attribute", []))
    for o in event.get("Object", []):
        attrs += o.get("Attribute", [])
    entries, kinds, skips = 0, collections.Counter(), collections.Counter()
    for a in attrs:
        entries += 1
        if a.get("deleted"):
            skips["deleted"] += 1
        elif a["type"] not in MISP_KINDS:
            skips["unsupported-type"] += 1
        elif a.get("to_ids") is False:
            skips["not-to-ids"] += 1
        else:
            for k in MISP_KINDS[a["type"]]:
                kinds[k] += 1
    return entries, dict(kinds), dict(skips)


def main():
    out = {}
    for sub in ["ipsum", "firehol", "maltrail"]:
        for name in sorted(os.listdir(os.path.join(DATA, sub))):
            out[f"{sub}/{name}"] = plain(os.path.join(DATA, sub, name))
    out["abuse_ch/malwarebazaar_recent_md5_2023-11-23.txt"] = plain(
        os.path.join(DATA, "abuse_ch/malwarebazaar_recent_md5_2023-11-23.txt"))
    a = os.path.join(DATA, "abuse_ch")
    out["feodo"] = csv_feed(os.path.join(a, "feodotracker_ipblocklist_2024-04-04.csv"), "dst_ip", True)
    out["urlhaus"] = csv_feed(os.path.join(a, "urlhaus_recent_2025-04-21.csv"), "url", True, kind="url")
    out["threatfox"] = csv_feed(os.path.join(a, "threatfox_hostnames_derived_2023-11-23.csv"), "Address", True)
    out["c2intel"] = csv_feed(os.path.join(DATA, "c2intelfeeds/IPC2s-30day_2023-11-23.csv"), 0, False)
    for name in sorted(os.listdir(os.path.join(DATA, "stix2"))):
        out[f"stix2/{name}"] = stix(os.path.join(DATA, "stix2", name))
    for name in sorted(os.listdir(os.path.join(DATA, "misp"))):
        out[f"misp/{name}"] = misp(os.path.join(DATA, "misp", name))
    for name, (entries, kinds, skips) in out.items():
        print(f"{name}: entries={entries} accepted={sum(kinds.values())} {dict(sorted(kinds.items()))} skipped={dict(sorted(skips.items()))}")


if __name__ == "__main__":
    sys.exit(main())
