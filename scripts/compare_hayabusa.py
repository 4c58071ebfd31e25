#!/usr/bin/env python3
"""Compares Haechi's Sigma hunting results with Hayabusa's, rule by rule and event by event.

Usage (from the repository root):

    haechi hunt --rules ../shared/data/sigma --json ../shared/data/evtx > haechi.jsonl
    python3 scripts/compare_hayabusa.py haechi.jsonl [options] > report.md

Inputs:
  HAECHI_JSONL       output of `haechi hunt --json` (one detection per line; uses `rule_id`,
                     `rule_title`, `file`, `event_record_id`)
  --hayabusa TSV     the peer's detections (default ../shared/data/peers/hayabusa_evtx_detections.tsv):
                     sigma_rule_id, file (relative to the EVTX folder), event_record_id, level, rule_title
  --sigma DIR        the SigmaHQ rules both sides used (default ../shared/data/sigma); used for the
                     rule paths and to repair the TSV's rule ids (see below)
  --evtx-dir DIR     the folder Haechi was run on (default ../shared/data/evtx); Haechi's `file`
                     values are made relative to it so they compare with the TSV's
  --events N         print at most N rows per one-sided event table (default: all)
  --no-id-repair     compare the TSV's sigma_rule_id as it is
  --json FILE        also write the comparison as JSON (per-rule counts, one-sided events, totals)

Relative default paths are resolved against the repository root (the parent of this
script's folder), so the script works from any working directory.

Rule id repair. The TSV was made by mapping each Hayabusa rule back to a SigmaHQ id; for
rules that carry a `related: ... type: derived` entry the TSV holds that related id instead
of the rule's own id (e.g. "Potentially Suspicious CMD Shell Output Redirect", which is
8e0bb260-..., appears under aa2efee7-..., the id of "Recon Information for Export with
Command Prompt"). When the TSV's title differs from the title of the rule with the TSV's id,
and exactly one SigmaHQ rule has the TSV's title, the row is moved to that rule. Rows whose
title matches no SigmaHQ rule (titles from an older rule version in hayabusa-rules) keep
their id. The repairs are listed in the report.

Categories. `CATEGORIES` below records, per rule id (optionally per file), why the two sides
differ, as established in docs/detection/hayabusa-comparison.md; the report counts the
one-sided detections per category so the document's figures can be regenerated. One-sided
detections not covered by it are reported as "unexplained".

Python 3.11, standard library only.
"""

import argparse
import collections
import json
import os
import re
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Why a rule's detections differ (see docs/detection/hayabusa-comparison.md).
# (a) labels are Haechi bugs found by the first comparison (Haechi at d5683d1) and fixed
# since; they are kept so that an older Haechi output is still sorted, and match nothing
# in a run of the fixed Haechi.
A_WILDCARD = "(a, fixed) Haechi: `*`/`?` inside a |startswith or |endswith value taken literally"
A_LOGSOURCE = "(a, fixed) Haechi: logsource not mapped (service dns-server, capi2; category antivirus)"
A_PLACEHOLDER = "(a, fixed) Haechi: |expand placeholder rule evaluated instead of rejected"
A_LOGONID = "(a, fixed) Haechi: Security 4688 `LogonId` not renamed to `SubjectLogonId`"
B_ESCAPE = "(b) Hayabusa: backslash escapes mis-read in values with inner wildcards"
B_GUID = "(b) Hayabusa: GUID-typed values rendered without braces (evtx crate)"
C_TRIM = "(c) Hayabusa trims leading/trailing whitespace of field values"
D_EXCLUDED = "(d) Hayabusa exclude_rules.txt: replaced by Hayabusa's own rules"
D_CHANNEL = "(d) Hayabusa channel filter: rule without Channel needs -A"
D_VERSION = "(d) rule version: hayabusa-rules older than the SigmaHQ copy"
D_FIELDS = "(d) Hayabusa field lookup: Defender names with spaces, UserData fields"
D_FIELDREF = "(d) Hayabusa 4688 conversion: |fieldref target not renamed"
D_AV_1117 = "(d) logsource mapping: Hayabusa's category antivirus leaves out Defender 1117"
U_NOTHING = "(?) Hayabusa reports no detection of the rule at all: cause not established"

# key: rule id; value: list of (side, category, file substring or None[, record ids]).
# side: "haechi" (only Haechi reports) or "hayabusa" (only Hayabusa reports). The optional
# fourth element limits an entry to those event record ids.
CATEGORIES = {
    # (a) bugs or gaps of Haechi, fixed since the first comparison
    "ab6bffca-beff-4baa-af11-6733f296d57a": [("hayabusa", A_WILDCARD, None)],
    "f6de9536-0441-4b3f-a646-f4e00f300ffd": [("hayabusa", A_WILDCARD, None)],
    "cbe51394-cd93-4473-b555-edf0144952d9": [("hayabusa", A_LOGSOURCE, None)],
    "6d444368-6da1-43fe-b2fc-44202430480e": [("hayabusa", A_LOGSOURCE, None)],
    "e2b5163d-7deb-4566-9af3-40afea6858c3": [("hayabusa", A_LOGSOURCE, None)],
    "fa0c05b6-8ad3-468d-8231-c1cbccb64fba": [("hayabusa", A_LOGSOURCE, None),
                                             ("haechi", D_AV_1117, "ID1116-1117-Defender", (176,))],
    "78cc2dd2-7d20-4d32-93ff-057084c38b93": [("hayabusa", A_LOGSOURCE, None),
                                             ("haechi", D_AV_1117, "ID1116-1117-Defender", (176,))],
    "94309181-d345-4cbf-b5fe-061769bdf9cb": [("haechi", A_PLACEHOLDER, None)],
    "d21374ff-f574-44a7-9998-4a8c8bf33d7d": [("hayabusa", A_LOGONID, None)],
    # (b) bugs or limitations of Hayabusa
    "252902e3-5830-4cf6-bf21-c22083dfd5cf": [("haechi", B_ESCAPE, None)],
    "8fe1c584-ee61-444b-be21-e9054b229694": [("haechi", B_ESCAPE, None)],
    "214e8f95-100a-4e04-bb31-ef6cba8ce07e": [("haechi", B_ESCAPE, None)],
    "52d8b0c6-53d6-439a-9e41-52ad442ad9ad": [("haechi", B_ESCAPE, None)],
    "058f4380-962d-40a5-afce-50207d36d7e2": [("haechi", B_ESCAPE, None)],
    "3abd6094-7027-475f-9630-8ab9be7b9725": [("haechi", B_ESCAPE, None)],
    "204b17ae-4007-471b-917b-b917b315c5db": [("hayabusa", B_ESCAPE, None)],
    "69aeb277-f15f-4d2d-b32a-55e883609563": [("hayabusa", B_GUID, None)],
    "ab4561b1-6c7e-48a7-ad08-087cfb9ce8f1": [("haechi", B_GUID, None)],
    # (c) different readings of the specification
    "8eef149c-bd26-49f2-9e5a-9b00e3af499b": [("hayabusa", C_TRIM, None)],
    "94771a71-ba41-4b6e-a757-b531372eaab6": [("hayabusa", C_TRIM, None)],
    # (d) configuration differences
    "100ef69e-3327-481c-8e5c-6d80d9507556": [("haechi", D_EXCLUDED, None)],
    "d99b79d2-0a6f-4f46-ad8b-260b6e17f982": [("haechi", D_EXCLUDED, None)],
    "0badd08f-c6a3-4630-90d3-6875cca440be": [("haechi", D_EXCLUDED, None)],
    "66b6be3d-55d0-4f47-9855-d69df21740ea": [("haechi", D_EXCLUDED, None)],
    "57b649ef-ff42-4fb0-8bf6-62da243a1708": [("haechi", D_EXCLUDED, None)],
    "23b71bc5-953e-4971-be4c-c896cda73fc2": [("haechi", D_EXCLUDED, None)],
    "c265cf08-3f99-46c1-8d59-328247057d57": [("haechi", D_EXCLUDED, None)],
    "7b449a5e-1db5-4dd0-a2dc-4e3a67282538": [("haechi", D_EXCLUDED, None)],
    "8ac03a65-6c84-4116-acad-dc1558ff7a77": [("haechi", D_EXCLUDED, None)],
    "06d71506-7beb-4f22-8888-e2e5e2ca7fd8": [("haechi", D_CHANNEL, None)],
    "611eab06-a145-4dfa-a295-3ccc5c20f59a": [("haechi", D_VERSION, None), ("hayabusa", D_VERSION, None)],
    "17d619c1-e020-4347-957e-1d1207455c93": [("haechi", D_VERSION, None)],
    "1321dc4e-a1fe-481d-a016-52c45f0c8b4f": [("haechi", D_FIELDS, None)],
    "4e64668a-4da1-49f5-a8df-9e2d5b866718": [("haechi", D_FIELDS, None)],
    "bafd07c6-3ea5-454a-b4be-058fbb073de7": [("haechi", D_FIELDREF, None)],
    # converted id cb7a40d5-f1de-9dd4-465d-eada7e316d8f is listed in exclude_rules.txt
    "42c575ea-e41e-41f1-b248-8093c3e82a28": [("haechi", D_EXCLUDED, None)],
    # not established
    "0f06a3a5-6a09-413f-8743-e6cf35561297": [("haechi", U_NOTHING, None)],
}


def category_for(side, rule_id, file, record=None):
    for entry_side, label, file_part, *records in CATEGORIES.get(rule_id, ()):
        if (entry_side == side and (file_part is None or file_part in file)
                and (not records or record in records[0])):
            return label
    return "unexplained"


def resolve(path):
    return path if os.path.isabs(path) else os.path.join(REPO_ROOT, path)


def index_sigma(root):
    """id -> {title, path}; lower-cased title -> [ids]. A small line parser (no YAML module)."""
    rules = {}
    by_title = collections.defaultdict(list)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith((".yml", ".yaml")):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            rule_id = re.search(r"^id:\s*['\"]?([0-9A-Za-z-]+)", text, re.M)
            title = re.search(r"^title:\s*(.+?)\s*$", text, re.M)
            if not rule_id or not title:
                continue
            title = title.group(1).strip("'\"")
            rules[rule_id.group(1)] = {"title": title, "path": os.path.relpath(path, root)}
            by_title[title.lower()].append(rule_id.group(1))
    return rules, by_title


def squeeze(path):
    return re.sub(r"\s+", "", path)


def read_hayabusa(path, rules, by_title, repair, real_files):
    """real_files: file names (relative to the EVTX folder) that exist; a TSV name that is not
    one of them but equals one once white space is removed is replaced by it (the TSV lost a
    double space in one file name)."""
    rows = []
    repairs = collections.Counter()
    by_squeezed = {}
    for name in real_files:
        by_squeezed.setdefault(squeeze(name), []).append(name)
    renamed = collections.Counter()
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in handle:
            if not line.strip():
                continue
            f = line.rstrip("\n").split("\t")
            rule_id, title = f[col["sigma_rule_id"]], f[col["rule_title"]]
            if repair and rule_id in rules and rules[rule_id]["title"] != title:
                candidates = by_title.get(title.lower(), [])
                if len(candidates) == 1 and candidates[0] != rule_id:
                    repairs[(rule_id, candidates[0], title)] += 1
                    rule_id = candidates[0]
            file = f[col["file"]]
            if real_files and file not in real_files:
                candidates = by_squeezed.get(squeeze(file), [])
                if len(candidates) == 1:
                    renamed[(file, candidates[0])] += 1
                    file = candidates[0]
            rows.append((rule_id, file, int(f[col["event_record_id"]]), title))
    return rows, repairs, renamed


def list_files(evtx_dir):
    found = set()
    if os.path.isdir(evtx_dir):
        for dirpath, _, filenames in os.walk(evtx_dir):
            for name in filenames:
                found.add(os.path.relpath(os.path.join(dirpath, name), evtx_dir).replace(os.sep, "/"))
    return found


def relative_file(path, evtx_dir, known_files):
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(evtx_dir)) if os.path.isabs(path) else path
    rel = rel.replace(os.sep, "/")
    if rel in known_files or not rel.startswith(".."):
        return rel
    for known in known_files:  # Haechi was run from elsewhere: match by suffix
        if path.replace(os.sep, "/").endswith("/" + known):
            return known
    return rel


def read_haechi(path, evtx_dir, known_files):
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line.startswith("{"):
                continue
            d = json.loads(line)
            rows.append((d["rule_id"], relative_file(d["file"], evtx_dir, known_files),
                         int(d["event_record_id"]), d.get("rule_title", "")))
    return rows


def md_escape(text):
    return str(text).replace("|", "\\|")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("haechi_jsonl")
    ap.add_argument("--hayabusa", default="../shared/data/peers/hayabusa_evtx_detections.tsv")
    ap.add_argument("--sigma", default="../shared/data/sigma")
    ap.add_argument("--evtx-dir", default="../shared/data/evtx")
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--no-id-repair", action="store_true")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)

    rules, by_title = index_sigma(resolve(args.sigma))
    real_files = list_files(resolve(args.evtx_dir))
    hay_rows, repairs, renamed = read_hayabusa(resolve(args.hayabusa), rules, by_title,
                                               not args.no_id_repair, real_files)
    hay_files = {r[1] for r in hay_rows} | real_files
    hae_rows = read_haechi(args.haechi_jsonl, resolve(args.evtx_dir), hay_files)

    titles = {rid: r["title"] for rid, r in rules.items()}
    for rid, _, _, title in hae_rows + hay_rows:
        titles.setdefault(rid, title)

    hay = collections.Counter((r[0], r[1], r[2]) for r in hay_rows)
    hae = collections.Counter((r[0], r[1], r[2]) for r in hae_rows)
    both = set(hay) & set(hae)
    only_hae = sorted(set(hae) - set(hay))
    only_hay = sorted(set(hay) - set(hae))

    per_rule = collections.defaultdict(lambda: collections.Counter())
    for key in hae:
        per_rule[key[0]]["haechi"] += 1
    for key in hay:
        per_rule[key[0]]["hayabusa"] += 1
    for key in both:
        per_rule[key[0]]["agreed"] += 1

    out = []
    w = out.append
    w("# Haechi vs Hayabusa: comparison tables\n")
    w("Generated by `scripts/compare_hayabusa.py`. A detection is a (rule id, file, event record id)"
      " triple; duplicates of a triple are counted once.\n")
    w("## Totals\n")
    w("| | Haechi | Hayabusa |")
    w("|---|---:|---:|")
    w("| detection rows in the input | %d | %d |" % (len(hae_rows), len(hay_rows)))
    w("| distinct detections (rule, file, record) | %d | %d |" % (len(hae), len(hay)))
    w("| rules that fired | %d | %d |" % (len({k[0] for k in hae}), len({k[0] for k in hay})))
    w("| files with a detection | %d | %d |" % (len({k[1] for k in hae}), len({k[1] for k in hay})))
    w("| events with a detection (file, record) | %d | %d |"
      % (len({k[1:] for k in hae}), len({k[1:] for k in hay})))
    w("")
    hae_rules, hay_rules = {k[0] for k in hae}, {k[0] for k in hay}
    w("| comparison | detections | rules |")
    w("|---|---:|---:|")
    w("| agreed (both report it) | %d | %d fired on both sides |" % (len(both), len(hae_rules & hay_rules)))
    w("| only Haechi | %d | %d rules with such detections, %d fired only by Haechi |"
      % (len(only_hae), len({k[0] for k in only_hae}), len(hae_rules - hay_rules)))
    w("| only Hayabusa | %d | %d rules with such detections, %d fired only by Hayabusa |"
      % (len(only_hay), len({k[0] for k in only_hay}), len(hay_rules - hae_rules)))
    w("| rules with identical detections | | %d |"
      % sum(1 for rid, c in per_rule.items() if c["haechi"] == c["hayabusa"] == c["agreed"]))
    w("")

    if repairs:
        w("## Rule ids repaired in the Hayabusa TSV\n")
        w("| TSV id | TSV title | moved to | rows |")
        w("|---|---|---|---:|")
        for (old, new, title), n in sorted(repairs.items(), key=lambda kv: (-kv[1], kv[0])):
            w("| `%s` | %s | `%s` %s | %d |" % (old, md_escape(title), new, rules[new]["path"], n))
        w("")
        w("Rows moved: %d." % sum(repairs.values()))
        w("")
        unmatched = collections.Counter((r[0], r[3]) for r in hay_rows
                                        if r[0] in rules and rules[r[0]]["title"] != r[3])
        if unmatched:
            w("TSV titles that match no SigmaHQ title (ids kept): "
              + "; ".join("`%s` \"%s\" (%d rows, SigmaHQ title \"%s\")"
                          % (rid, md_escape(t), n, md_escape(rules[rid]["title"]))
                          for (rid, t), n in sorted(unmatched.items())) + ".")
            w("")

    if renamed:
        w("## File names repaired in the Hayabusa TSV\n")
        for (old, new), n in sorted(renamed.items()):
            w("- `%s` -> `%s` (%d rows)" % (old, new, n))
        w("")

    # Categories of one-sided detections.
    cats = collections.Counter()
    cat_rules = collections.defaultdict(set)
    for side, keys in (("haechi", only_hae), ("hayabusa", only_hay)):
        for rid, file, rec in keys:
            label = category_for(side, rid, file, rec)
            cats[(side, label)] += 1
            cat_rules[(side, label)].add(rid)
    w("## One-sided detections by category\n")
    w("| only on | category | detections | rules |")
    w("|---|---|---:|---:|")
    for (side, label), n in sorted(cats.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        w("| %s | %s | %d | %d |" % (side, md_escape(label), n, len(cat_rules[(side, label)])))
    w("")

    w("## Per-rule counts (rules where the two sides differ)\n")
    w("| rule id | title | path | Haechi | Hayabusa | agreed | only Haechi | only Hayabusa |")
    w("|---|---|---|---:|---:|---:|---:|---:|")
    differing = [(rid, c) for rid, c in per_rule.items()
                 if not (c["haechi"] == c["hayabusa"] == c["agreed"])]
    for rid, c in sorted(differing, key=lambda kv: (-(kv[1]["haechi"] + kv[1]["hayabusa"] - 2 * kv[1]["agreed"]), kv[0])):
        w("| `%s` | %s | %s | %d | %d | %d | %d | %d |" % (
            rid, md_escape(titles.get(rid, "")), rules.get(rid, {}).get("path", "?"), c["haechi"],
            c["hayabusa"], c["agreed"], c["haechi"] - c["agreed"], c["hayabusa"] - c["agreed"]))
    w("")
    w("## Per-rule counts (rules where both sides agree exactly)\n")
    w("| rule id | title | detections |")
    w("|---|---|---:|")
    same = [(rid, c) for rid, c in per_rule.items() if c["haechi"] == c["hayabusa"] == c["agreed"]]
    for rid, c in sorted(same, key=lambda kv: (-kv[1]["agreed"], kv[0])):
        w("| `%s` | %s | %d |" % (rid, md_escape(titles.get(rid, "")), c["agreed"]))
    w("")

    for heading, side, keys in (("Rules only Haechi fires", "haechi", hae_rules - hay_rules),
                                ("Rules only Hayabusa fires", "hayabusa", hay_rules - hae_rules)):
        w("## %s\n" % heading)
        w("| rule id | title | path | detections |")
        w("|---|---|---|---:|")
        for rid in sorted(keys, key=lambda r: (-per_rule[r][side], r)):
            w("| `%s` | %s | %s | %d |" % (rid, md_escape(titles.get(rid, "")),
                                         rules.get(rid, {}).get("path", "?"), per_rule[rid][side]))
        w("")

    for heading, side, keys in (("Detections only Haechi reports", "haechi", only_hae),
                                ("Detections only Hayabusa reports", "hayabusa", only_hay)):
        w("## %s\n" % heading)
        w("| file | record | rule id | title | category |")
        w("|---|---:|---|---|---|")
        shown = keys if args.events is None else keys[:args.events]
        for rid, file, rec in sorted(shown, key=lambda k: (k[1], k[2], k[0])):
            w("| %s | %d | `%s` | %s | %s |" % (md_escape(file), rec, rid, md_escape(titles.get(rid, "")),
                                               md_escape(category_for(side, rid, file, rec))))
        if len(shown) < len(keys):
            w("\n(%d more not shown)" % (len(keys) - len(shown)))
        w("")

    sys.stdout.write("\n".join(out) + "\n")

    if args.json_out:
        data = {
            "totals": {"haechi": len(hae), "hayabusa": len(hay), "agreed": len(both),
                       "only_haechi": len(only_hae), "only_hayabusa": len(only_hay)},
            "per_rule": {rid: dict(c, title=titles.get(rid, "")) for rid, c in per_rule.items()},
            "only_haechi": [dict(rule_id=k[0], file=k[1], event_record_id=k[2],
                                 category=category_for("haechi", *k)) for k in only_hae],
            "only_hayabusa": [dict(rule_id=k[0], file=k[1], event_record_id=k[2],
                                   category=category_for("hayabusa", *k)) for k in only_hay],
            "repairs": [dict(tsv_id=o, rule_id=n, title=t, rows=c) for (o, n, t), c in repairs.items()],
        }
        with open(args.json_out, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
