"""The validate stage at 1M items / 5M judgments, against the floor: the same checks in pandas.

Writes synthetic prepared tables (items with numeric features, 5 judgments per item from 500
annotators, 1% gold), then runs, each in its own process, `python -m stages validate` (Great
Expectations, Data Docs included) and a plain pandas pass that computes the same default checks.
`make bench` runs it; `--items` scales it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import ROOT, markdown_table

LABELS = [f"c{k}" for k in range(5)]


def write_tables(folder: Path, n_items: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    ids = np.char.add("item-", np.arange(n_items).astype(str))
    items = pd.DataFrame({"item_id": pd.array(ids, dtype="string")})
    for k in range(8):
        items[f"f{k}"] = rng.normal(size=n_items)
    items["split"] = pd.array(np.where(rng.random(n_items) < 0.2, "test", "train"), dtype="string")
    item = np.repeat(np.arange(n_items), 5)
    annotator = (rng.integers(0, 500, n_items)[:, None] + np.arange(5)[None, :] * 97).ravel() % 500
    annotations = pd.DataFrame(
        {
            "item_id": pd.array(ids[item], dtype="string"),
            "annotator_id": pd.array(np.char.add("w", annotator.astype(str)), dtype="string"),
            "label": pd.array(np.array(LABELS)[rng.integers(0, 5, len(item))], dtype="string"),
            "source": pd.array(np.char.add("batch-", (item % 4).astype(str)), dtype="string"),
            "created_at": pd.Series(pd.NaT, index=range(len(item)), dtype="datetime64[ms, UTC]"),
            "lead_time": rng.gamma(2.0, 2.5, len(item)),  # seconds, as Label Studio records
        }
    )
    gold_rows = rng.choice(n_items, size=n_items // 100, replace=False)
    gold = pd.DataFrame(
        {"item_id": ids[np.sort(gold_rows)], "label": np.array(LABELS)[gold_rows % 5]}
    ).astype("string")
    prepared = folder / "prepared"
    prepared.mkdir()
    for name, frame in (("items", items), ("annotations", annotations), ("gold", gold)):
        frame.to_parquet(prepared / f"{name}.parquet", index=False)
    params = {
        "data": {"labels": LABELS},
        "validate": {"suite": str(ROOT / "expectations" / "default.yaml")},
    }
    (folder / "params.yaml").write_text(yaml.safe_dump(params))


def pandas_floor(folder: Path) -> dict[str, int]:
    """The default suite's checks, computed directly with pandas: what validate cannot beat."""
    prepared = folder / "prepared"
    items = pd.read_parquet(prepared / "items.parquet")
    annotations = pd.read_parquet(prepared / "annotations.parquet")
    gold = pd.read_parquet(prepared / "gold.parquet")
    ids = items["item_id"]
    failures = {
        "items.row_count": int(len(items) < 10),
        "items.columns": int(not {"item_id", "split"} <= set(items.columns)),
        "items.item_id_is_string": int(str(ids.dtype) not in ("string", "str")),
        "items.item_id_not_null": int(ids.isna().sum()),
        "items.item_id_unique": int(ids.duplicated(keep=False).sum()),
        "items.split_in_set": int((~items["split"].isin(["test", "train"])).sum()),
        "annotations.row_count": int(len(annotations) < 10),
        "annotations.columns": int(
            not {"item_id", "annotator_id", "label"} <= set(annotations.columns)
        ),
        "annotations.label_is_string": int(
            str(annotations["label"].dtype) not in ("string", "str")
        ),
        "annotations.not_null": int(
            annotations[["item_id", "annotator_id", "label"]].isna().sum().sum()
        ),
        "annotations.label_in_label_set": int((~annotations["label"].isin(LABELS)).sum()),
        "annotations.item_id_in_items": int((~annotations["item_id"].isin(ids)).sum()),
        "annotations.one_judgment": int(
            annotations.duplicated(["item_id", "annotator_id", "source"], keep=False).sum()
        ),
        "gold.item_id_not_null": int(gold["item_id"].isna().sum()),
        "gold.item_id_unique": int(gold["item_id"].duplicated(keep=False).sum()),
        "gold.label_in_label_set": int((~gold["label"].isin(LABELS)).sum()),
        "gold.item_id_in_items": int((~gold["item_id"].isin(ids)).sum()),
    }
    per_item = annotations["item_id"].value_counts().reindex(ids).fillna(0)
    failures["item_judgments.at_least_3"] = int((per_item < 3).mean() > 0.1)
    failures["item_judgments.judged_at_all"] = int((per_item < 1).mean() > 0.05)
    failures["label_counts.every_label_seen"] = int(
        (annotations["label"].value_counts().reindex(LABELS).fillna(0) < 20).sum()
    )
    return failures


def worker(kind: str, folder: Path) -> dict[str, object]:
    start = time.perf_counter()
    if kind == "floor":
        failures = pandas_floor(folder)
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "seconds": elapsed,
            "peak_mb": peak,
            "failed": sum(1 for v in failures.values() if v),
        }
    out = folder / kind
    command = [sys.executable, "-m", "stages", "validate", "--prepared", str(folder / "prepared"),
               "--validated", str(out / "validated"), "--quarantine", str(out / "quarantine"),
               "--reports", str(out / "reports"),
               "--params", str(folder / "params.yaml")]  # fmt: skip
    if kind == "validate-no-docs":
        command.append("--no-docs")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    summary = json.loads((out / "reports" / "summary.json").read_text())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": elapsed,
        "peak_mb": peak,
        "failed": summary["failed_critical"] + summary["failed_warning"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--worker")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder)))
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_tables(folder, args.items)
        for kind in ("floor", "validate", "validate-no-docs"):
            command = [sys.executable, __file__, "--worker", kind, "--folder", str(folder)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{kind} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
                continue
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"measured {kind}: {results[kind]}", file=sys.stderr)
    floor = results.get("floor", {}).get("seconds")
    rows = []
    for kind, result in results.items():
        ratio = f"{result['seconds'] / floor:.1f}x" if floor else "-"
        rows.append(
            [kind, f"{result['seconds']:.1f}", ratio, f"{result['peak_mb']:.0f}", result["failed"]]
        )
    print(f"{args.items:,} items, {5 * args.items:,} judgments\n")
    print(
        markdown_table(["what", "seconds", "ratio to floor", "peak RSS MB", "failed checks"], rows)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
