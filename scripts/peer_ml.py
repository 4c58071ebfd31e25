#!/usr/bin/env python3
"""Peer benchmark for Haechi's models: Haechi against scikit-learn on the same validation split.

Run it with the benchmark venv's Python (scripts/setup-bench-tools creates it):

    scripts/setup-bench-tools
    target/bench-venv/bin/python scripts/peer_ml.py                 # every task
    target/bench-venv/bin/python scripts/peer_ml.py --tasks domains,web --keep /tmp/splits

For every task the published data file is split 80/20 into a TRAIN and a VAL file *in the
file's original format* (same header or none, same quoting, same line endings, every column
kept), stratified by the task's label, with scikit-learn's `train_test_split(test_size=0.2,
stratify=label, random_state=SEED)`; SEED is 20240917 unless `--seed` says otherwise. The
files go to a temporary directory (or to `--keep DIR`, which is kept). Then every system is
trained on TRAIN only and scored on VAL only:

- Haechi: `haechi train MODEL --data TRAIN --out M --validation-percent 0 [flags] --json`, then
  `haechi eval M --data VAL --json`. If the binary refuses `--validation-percent 0` (older
  builds accept 1..50), training is retried with Haechi's default, which holds out 20% of
  TRAIN by a hash of the name, so Haechi then learns from 80% of TRAIN only; the output says so.
  Haechi's training seconds are the `seconds` of its JSON (in-process: reading the file,
  training, scoring its own hold-out if any, writing the model) when present, else the
  wall-clock of the subprocess; its prediction rate is VAL records / wall-clock of
  `haechi eval`, which includes process start, loading the model, parsing the CSV and
  computing the metrics, so it understates the model's own scoring speed.
- scikit-learn, in-process, each a Pipeline fitted on TRAIN (vectorizing/encoding included in
  the training seconds; the prediction rate is VAL records / time of `predict_proba` on the
  raw VAL records, vectorizing/encoding included):
  * every task: `RandomForestClassifier(n_estimators=100, random_state=SEED, n_jobs=-1)`.
    On the text tasks (domains, web) its input is hashed character n-gram counts:
    `HashingVectorizer(analyzer='char', ngram_range=(2,4) domains / (1,4) web,
    n_features=2**18, alternate_sign=False, norm=None, lowercase=True)`.
    On the flow tasks its input is the numeric columns as they are plus a one-hot encoding
    (`OneHotEncoder(handle_unknown='ignore')`) of the categorical ones.
  * domains and web also: `LogisticRegression(max_iter=1000)` (L2, C=1, lbfgs) over
    `TfidfVectorizer(analyzer='char', ngram_range=(2,4) domains / (1,4) web, lowercase=True)`.
  Text preparation mirrors Haechi's loaders: a domain is trimmed and cut at the first `/`
  (top-site entries like `youtube.com/user/x`); a web payload is percent-decoded once with
  `urllib.parse.unquote_plus` (Haechi decodes `%XX` and `+` once too).

Metrics: accuracy, macro-F1 and ROC AUC: of the positive-class probability on binary tasks;
on unsw-multiclass, as Haechi's eval reports it, attack vs Normal scored by 1 - P(Normal);
Haechi's come from its eval JSON (threshold 0.5), the peers' from scikit-learn (argmax, which
is threshold 0.5 for two classes). The script also counts VAL records whose model input
(normalized domain, decoded payload, feature row) also occurs in TRAIN: such duplicates
make every system look better than on unseen data.

Output: a Markdown table on stdout and the same data as JSON in target/peer_ml.json.
A failing step (for instance a Haechi model that is not built yet) is reported in the table
and the JSON; the script goes on with the next task and exits 1 at the end. No number is
ever made up: a failed step has no metrics.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote_plus

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
DEFAULT_SEED = 20240917
HASH_FEATURES = 2**18

try:
    import numpy as np
    import sklearn
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
    MISSING = None
except ImportError as e:  # depends on the environment; reported by main() after --help
    MISSING = str(e)


# ---------------------------------------------------------------- files in their own format


class Table:
    """A delimited file read so that it can be written back in the same format."""

    def __init__(self, path: Path, has_header: bool):
        raw = path.read_bytes().decode("utf-8")
        self.path = path
        self.newline = "\r\n" if "\r\n" in raw else "\n"
        # The published web file quotes every field; the others quote only where needed.
        self.quoting = csv.QUOTE_ALL if raw.startswith('"') else csv.QUOTE_MINIMAL
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        self.header = rows[0] if has_header else None
        self.rows = rows[1:] if has_header else rows
        width = {len(r) for r in self.rows}
        if len(width) != 1:
            raise ValueError(f"{path}: rows of different widths {sorted(width)}")

    def col(self, name_or_index) -> int:
        if isinstance(name_or_index, int):
            return name_or_index
        return self.header.index(name_or_index)

    def write(self, path: Path, rows: list[list[str]]) -> None:
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, quoting=self.quoting, lineterminator=self.newline)
            if self.header is not None:
                w.writerow(self.header)
            w.writerows(rows)


# ------------------------------------------------------------------------------- the tasks

NSL_COLUMNS = [
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land",
    "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised",
    "root_shell", "su_attempted", "num_root", "num_file_creations", "num_shells",
    "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login", "count",
    "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count",
    "dst_host_srv_count", "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
]  # then: label, difficulty
UNSW_CATEGORICAL = ["proto", "service", "state"]
LIVE_FEATURES = [
    "dur", "proto", "service", "state", "spkts", "dpkts", "sbytes", "dbytes", "rate",
    "sload", "dload", "smean", "dmean",
]


def domain_text(row, t: Table) -> str:
    d = row[t.col("domain")].strip()
    return d.split("/", 1)[0].lower()


def web_text(row, t: Table) -> str:
    return unquote_plus(row[t.col("payload")]).lower()


def text_peers(ngrams):
    return {
        "sklearn RandomForest (hashed char n-grams)": lambda seed: Pipeline([
            ("hash", HashingVectorizer(analyzer="char", ngram_range=ngrams,
                                       n_features=HASH_FEATURES, alternate_sign=False,
                                       norm=None, lowercase=True)),
            ("rf", RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=-1)),
        ]),
        "sklearn LogisticRegression (char TF-IDF)": lambda seed: Pipeline([
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=ngrams, lowercase=True)),
            ("lr", LogisticRegression(max_iter=1000)),
        ]),
    }


def as_float(x):
    return np.asarray(x, dtype=float)


def flow_peers(numeric_idx, categorical_idx):
    def make(seed):
        enc = ColumnTransformer([
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical_idx),
            ("num", FunctionTransformer(as_float), numeric_idx),
        ])
        return Pipeline([
            ("enc", enc),
            ("rf", RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=-1)),
        ])
    return {"sklearn RandomForest (one-hot + numeric)": make}


def flow_matrix(rows, t: Table, features: list[str], categorical: list[str]):
    """Object array of the chosen columns: categorical as str, the rest as float."""
    idx = [t.col(f) if t.header else NSL_COLUMNS.index(f) for f in features]
    out = np.empty((len(rows), len(features)), dtype=object)
    for j, (i, name) in enumerate(zip(idx, features)):
        if name in categorical:
            out[:, j] = [r[i] for r in rows]
        else:
            out[:, j] = [float(r[i]) for r in rows]
    return out


def make_tasks():
    unsw = DATA / "ids" / "unsw_nb15_part_a.csv"
    def unsw_all(t):
        return [c for c in t.header if c not in ("id", "attack_cat", "label")]

    tasks = {}
    tasks["domains"] = dict(
        file=DATA / "domains" / "dga_dev_balanced.csv", header=True, suffix=".csv",
        label=lambda r, t: int(r[t.col("label")]), classes=[0, 1],
        haechi=["domains"], kind="text", text=domain_text, peers=text_peers((2, 4)),
    )
    tasks["web"] = dict(
        file=DATA / "web_attacks" / "httpparams_payload_train.csv", header=True, suffix=".csv",
        label=lambda r, t: int(r[t.col("label")].strip().lower() == "anom"), classes=[0, 1],
        haechi=["web"], kind="text", text=web_text, peers=text_peers((1, 4)),
    )
    tasks["nslkdd"] = dict(
        file=DATA / "ids" / "nsl_kdd_KDDTrain+_20Percent.txt", header=False, suffix=".txt",
        label=lambda r, t: int(r[41] != "normal"), classes=[0, 1],
        haechi=["flows"], kind="flow",
        features=lambda t: NSL_COLUMNS, categorical=["protocol_type", "service", "flag"],
    )
    tasks["unsw"] = dict(
        file=unsw, header=True, suffix=".csv",
        label=lambda r, t: int(r[t.col("label")]), classes=[0, 1],
        haechi=["flows"], kind="flow", features=unsw_all, categorical=UNSW_CATEGORICAL,
    )
    tasks["unsw-multiclass"] = dict(
        file=unsw, header=True, suffix=".csv",
        label=lambda r, t: r[t.col("attack_cat")].strip(), classes=None,
        haechi=["flows", "--classes", "category"], kind="flow", features=unsw_all,
        categorical=UNSW_CATEGORICAL,
        normal_class="Normal",
    )
    tasks["flows-live"] = dict(
        file=unsw, header=True, suffix=".csv",
        label=lambda r, t: int(r[t.col("label")]), classes=[0, 1],
        haechi=["flows", "--features", "live"], kind="flow",
        features=lambda t: LIVE_FEATURES, categorical=UNSW_CATEGORICAL,
    )
    return tasks


# ----------------------------------------------------------------------------- the systems


def run(cmd, timeout=3600):
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.perf_counter() - started


def error_line(p) -> str:
    """The first `error:` line a failed haechi printed (clap's usage lines follow it)."""
    lines = (p.stderr + "\n" + p.stdout).strip().splitlines()
    for line in lines:
        if line.strip().lower().startswith("error"):
            return line.strip()
    return next((x.strip() for x in lines if x.strip()), f"exit {p.returncode}")


def last_json(stdout: str):
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON object in the output")


def haechi_system(haechi: str, task: dict, train: Path, val: Path, n_val: int, work: Path,
                  name: str):
    res = {"system": "haechi", "notes": []}
    model = work / f"{name}.haechi-model"
    base = [haechi, "train", *task["haechi"], "--data", str(train), "--out", str(model)]
    cmd = base[:3] + ["--validation-percent", "0"] + base[3:] + ["--json"]
    p, wall = run(cmd)
    if p.returncode != 0 and "validation-percent" in error_line(p):
        refused = error_line(p)
        cmd = base + ["--json"]
        p, wall = run(cmd)
        if p.returncode == 0:
            res["notes"].append(
                f"this haechi refuses --validation-percent 0 ({refused}); trained with its "
                "default, which holds out 20% of TRAIN by a hash of the name, so Haechi learned "
                "from about 80% of TRAIN only (the peers from all of it)")
            res["validation_percent_0_refused"] = True
    res["train_command"] = " ".join(cmd)
    if p.returncode != 0:
        res["error"] = f"haechi train exited {p.returncode}: {error_line(p)}"
        res["stderr"] = p.stderr[-2000:]
        return res
    try:
        tj = last_json(p.stdout)
    except ValueError as e:
        res["error"] = f"haechi train: {e}: {p.stdout[-300:]}"
        return res
    res["train_records"] = tj.get("train")
    res["train_wall_seconds"] = wall
    if isinstance(tj.get("seconds"), (int, float)):
        res["train_seconds"] = tj["seconds"]
        res["train_seconds_source"] = "haechi JSON `seconds` (in-process: read file, train, write model)"
    else:
        res["train_seconds"] = wall
        res["train_seconds_source"] = "wall-clock of `haechi train` (process start and file parsing included)"

    cmd = [haechi, "eval", str(model), "--data", str(val), "--json"]
    res["eval_command"] = " ".join(cmd)
    p, wall = run(cmd)
    if p.returncode != 0:
        res["error"] = f"haechi eval exited {p.returncode}: {error_line(p)}"
        res["stderr"] = p.stderr[-2000:]
        return res
    try:
        ej = last_json(p.stdout)
    except ValueError as e:
        res["error"] = f"haechi eval: {e}: {p.stdout[-300:]}"
        return res
    res["eval_wall_seconds"] = wall
    n = ej.get("n", n_val)
    if n != n_val:
        res["notes"].append(f"haechi eval scored {n} records, the VAL file has {n_val}")
    res["accuracy"] = ej.get("accuracy")
    res["macro_f1"] = ej.get("macro_f1")
    res["auc"] = ej.get("auc")
    res["per_class"] = ej.get("per_class")
    res["predict_records_per_second"] = n / wall if wall > 0 else None
    res["predict_rate_source"] = (
        "VAL records / wall-clock of `haechi eval` (process start, model load, CSV parsing "
        "and metrics included)")
    return res


def peer_system(label: str, make, seed: int, x_train, y_train, x_val, y_val, binary: bool,
                normal: str | None = None):
    res = {"system": label, "notes": []}
    try:
        model = make(seed)
        t0 = time.perf_counter()
        model.fit(x_train, y_train)
        res["train_seconds"] = time.perf_counter() - t0
        res["train_seconds_source"] = "in-process fit (vectorizing/encoding included)"
        t0 = time.perf_counter()
        proba = model.predict_proba(x_val)
        dt = time.perf_counter() - t0
        classes = list(model.classes_)
        pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        y_val_o = np.asarray(y_val, dtype=object)
        res["accuracy"] = float(accuracy_score(list(y_val_o), list(pred)))
        res["macro_f1"] = float(f1_score(list(y_val_o), list(pred), average="macro"))
        if binary:
            res["auc"] = float(roc_auc_score(np.asarray(y_val, dtype=int), proba[:, classes.index(1)]))
        elif normal in classes:
            # As Haechi reports it for a multi-class flow model: attack vs normal, scored by
            # 1 - P(normal class).
            res["auc"] = float(roc_auc_score([int(v != normal) for v in y_val],
                                             1.0 - proba[:, classes.index(normal)]))
            res["notes"].append(f"AUC: attack vs {normal}, scored by 1 - P({normal}), as Haechi's")
        else:
            res["auc"] = None
        res["predict_records_per_second"] = len(y_val) / dt if dt > 0 else None
        res["predict_rate_source"] = "VAL records / in-process predict_proba (vectorizing/encoding included)"
        res["train_records"] = len(y_train)
    except Exception as e:  # a failed peer is reported, never scored
        res["error"] = f"{type(e).__name__}: {e}"
    return res


# ------------------------------------------------------------------------------- one task


def run_task(name: str, task: dict, args, work: Path) -> dict:
    out = {"task": name, "file": os.path.relpath(task["file"], ROOT), "systems": [], "notes": []}
    t = Table(task["file"], task["header"])
    y = [task["label"](r, t) for r in t.rows]
    idx = np.arange(len(t.rows))
    tr_idx, va_idx = train_test_split(idx, test_size=0.2, stratify=y, random_state=args.seed)
    tr_idx, va_idx = sorted(tr_idx), sorted(va_idx)  # keep the file's own order
    train_rows = [t.rows[i] for i in tr_idx]
    val_rows = [t.rows[i] for i in va_idx]
    y_train = [y[i] for i in tr_idx]
    y_val = [y[i] for i in va_idx]
    train_path = work / f"{name}.train{task['suffix']}"
    val_path = work / f"{name}.val{task['suffix']}"
    t.write(train_path, train_rows)
    t.write(val_path, val_rows)
    out["train_records"], out["val_records"] = len(train_rows), len(val_rows)
    out["train_file"], out["val_file"] = str(train_path), str(val_path)
    binary = task["classes"] is not None
    out["binary"] = binary
    if not binary:
        out["classes"] = sorted(set(y))

    # Peer inputs, built from the very rows written to TRAIN and VAL.
    if task["kind"] == "text":
        x_train = [task["text"](r, t) for r in train_rows]
        x_val = [task["text"](r, t) for r in val_rows]
        keys_train, keys_val = x_train, x_val
        peers = task["peers"]
    else:
        features = task["features"](t)
        cat = [f for f in features if f in task["categorical"]]
        x_train = flow_matrix(train_rows, t, features, task["categorical"])
        x_val = flow_matrix(val_rows, t, features, task["categorical"])
        cat_idx = [features.index(f) for f in cat]
        num_idx = [i for i in range(len(features)) if i not in cat_idx]
        peers = flow_peers(num_idx, cat_idx)
        keys_train = [tuple(r) for r in x_train]
        keys_val = [tuple(r) for r in x_val]
        out["peer_features"] = features
    seen: dict = {}
    for k, lab in zip(keys_train, y_train):
        seen.setdefault(k, set()).add(lab)
    dup = sum(1 for k in keys_val if k in seen)
    clash = sum(1 for k, lab in zip(keys_val, y_val) if k in seen and seen[k] != {lab})
    out["val_inputs_also_in_train"] = dup
    out["val_inputs_in_train_with_other_label"] = clash
    if dup:
        out["notes"].append(
            f"{dup} of {len(keys_val)} VAL records ({100 * dup / len(keys_val):.1f}%) have a model "
            f"input identical to a TRAIN record's; {clash} of them carry a label in TRAIN that "
            "differs from theirs")

    print(f"== {name}: {len(train_rows)} train / {len(val_rows)} val records", file=sys.stderr)
    try:
        r = haechi_system(args.haechi, task, train_path, val_path, len(val_rows), work, name)
    except (OSError, subprocess.SubprocessError) as e:  # missing binary, timeout
        r = {"system": "haechi", "notes": [], "error": f"{type(e).__name__}: {e}"}
    print(f"   haechi: {r.get('error') or 'ok'}", file=sys.stderr)
    out["systems"].append(r)
    for label, make in peers.items():
        r = peer_system(label, make, args.seed, x_train, y_train, x_val, y_val, binary,
                        task.get("normal_class"))
        print(f"   {label}: {r.get('error') or 'ok'} "
              f"({r.get('train_seconds', 0):.1f}s train)", file=sys.stderr)
        out["systems"].append(r)
    return out


# --------------------------------------------------------------------------------- output


def fmt(v, digits=4):
    return "–" if v is None else f"{v:.{digits}f}"


def markdown(results: list[dict]) -> str:
    lines = [
        "| task | system | accuracy | macro-F1 | AUC | train s | predict rec/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for task in results:
        if task.get("error"):
            lines.append(f"| {task['task']} | (task) | error | | | | |")
            notes.append(f"- {task['task']}: {task['error']}")
            continue
        for s in task["systems"]:
            if s.get("error"):
                lines.append(f"| {task['task']} | {s['system']} | FAILED | | | | |")
                notes.append(f"- {task['task']} / {s['system']}: {s['error']}")
                continue
            tr = fmt(s.get("train_seconds"), 2)
            pr = s.get("predict_records_per_second")
            pr = "–" if pr is None else f"{pr:,.0f}"
            if s["system"] == "haechi":
                tr += "¹" if "JSON" in s.get("train_seconds_source", "") else "²"
                pr += "²"
            lines.append(
                f"| {task['task']} | {s['system']} | {fmt(s.get('accuracy'))} | "
                f"{fmt(s.get('macro_f1'))} | {fmt(s.get('auc'))} | {tr} | {pr} |")
        notes.append(f"- {task['task']}: {task['train_records']} train / {task['val_records']} "
                     f"val records" + ("" if task["binary"] else
                                       f", {len(task['classes'])} classes"))
        for n in task["notes"]:
            notes.append(f"  - {n}")
        for s in task["systems"]:
            if s["system"] == "haechi" and s.get("train_records") is not None:
                notes.append(f"  - haechi trained on {s['train_records']} records")
            for n in s.get("notes", []):
                notes.append(f"  - {s['system']}: {n}")
    lines.append("")
    lines.append("¹ Haechi's own `seconds` (in-process: reading the file, training, writing the "
                 "model). ² wall-clock of the `haechi` process: includes process start, model "
                 "load, CSV parsing (and, for eval, computing the metrics). scikit-learn times "
                 "are in-process, vectorizing/encoding included.")
    lines.append("")
    lines.extend(notes)
    return "\n".join(lines)


def main() -> int:
    tasks = make_tasks()
    ap = argparse.ArgumentParser(
        description="Compare Haechi's models with scikit-learn on the same stratified 80/20 split.")
    ap.add_argument("--tasks", default=",".join(tasks),
                    help=f"comma-separated tasks (default: all): {', '.join(tasks)}")
    ap.add_argument("--haechi", default="target/release/haechi",
                    help="the haechi binary (default: target/release/haechi, relative to the repo)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help=f"split and peer seed (default {DEFAULT_SEED})")
    ap.add_argument("--keep", metavar="DIR",
                    help="write the split files (and Haechi's model files) to DIR and keep them")
    ap.add_argument("--json-out", default=str(ROOT / "target" / "peer_ml.json"),
                    help="where to write the JSON results (default target/peer_ml.json)")
    args = ap.parse_args()
    if MISSING:
        sys.stderr.write(
            f"scikit-learn is missing ({MISSING}).\n"
            "Install the pinned peer tools once with  scripts/setup-bench-tools\n"
            "and run this script with  target/bench-venv/bin/python scripts/peer_ml.py\n")
        return 2

    chosen = [x.strip() for x in args.tasks.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in tasks]
    if unknown:
        ap.error(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(tasks)}")
    haechi = Path(args.haechi)
    if not haechi.is_absolute() and not haechi.exists():
        haechi = ROOT / haechi
    args.haechi = str(haechi.resolve())
    if not haechi.exists():
        print(f"warning: {haechi} does not exist (build it with `cargo build --release -p "
              "haechi`); every Haechi step will fail", file=sys.stderr)
        haechi_version = None
    else:
        haechi_version = subprocess.run([args.haechi, "--version"], capture_output=True,
                                        text=True).stdout.strip()

    if args.keep:
        work = Path(args.keep)
        work.mkdir(parents=True, exist_ok=True)
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory(prefix="peer_ml.")
        work = Path(tmp.name)

    results = []
    try:
        for name in chosen:
            try:
                results.append(run_task(name, tasks[name], args, work))
            except Exception as e:  # a task that cannot even be split is reported too
                results.append({"task": name, "error": f"{type(e).__name__}: {e}", "systems": []})
                print(f"== {name}: {type(e).__name__}: {e}", file=sys.stderr)
    finally:
        if tmp is not None:
            tmp.cleanup()

    failed = [f"{r['task']}" + (f"/{s['system']}" if s else "")
              for r in results
              for s in ([None] if r.get("error") else [s for s in r["systems"] if s.get("error")])]
    doc = {
        "seed": args.seed,
        "split": "sklearn train_test_split(test_size=0.2, stratify=label, random_state=seed); "
                 "files written in the original format",
        "haechi": os.path.relpath(args.haechi, ROOT) if args.haechi.startswith(str(ROOT)) else args.haechi,
        "haechi_version": haechi_version,
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "kept_splits": str(work) if args.keep else None,
        "tasks": results,
        "failed": failed,
    }
    out = Path(args.json_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(markdown(results))
    print(f"\n(JSON: {os.path.relpath(out, Path.cwd())}; seed {args.seed}; scikit-learn "
          f"{sklearn.__version__}; {haechi_version or 'no haechi binary'})")
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
