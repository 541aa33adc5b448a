"""Accuracy against gold on real crowdsourcing datasets, ours and crowd-kit's, side by side.

Gold is never passed to the methods; it only scores them. Run with `make bench` (which installs
crowd-kit into .venv-bench) or `python bench/accuracy.py` (crowd-kit columns are skipped when it
is not installed). Datasets are read from ../shared/data/crowd/ beside the checkout.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from common import CROWD_DATA, markdown_table

from stages.merge import encode, run_method

OURS = {
    "majority_vote": {"method": "majority_vote"},
    "dawid_skene": {"method": "dawid_skene"},
    "mace": {"method": "mace"},
    "one_coin": {"method": "one_coin"},
}


def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = CROWD_DATA / name
    annotations = pd.read_csv(folder / "annotations.csv", dtype=str)
    gold = pd.read_csv(folder / "gold.csv", dtype=str).set_index("item_id")["label"]
    return annotations, gold


def score(predicted: pd.Series, gold: pd.Series) -> tuple[float, int, int]:
    common = gold.index.intersection(predicted.index)
    right = int((predicted.loc[common].astype(str) == gold.loc[common]).sum())
    return right / len(common), right, len(common)


def ours(annotations: pd.DataFrame, options: dict) -> tuple[pd.Series, float]:
    classes = sorted(annotations["label"].unique())
    start = time.perf_counter()
    judgments, items, _ = encode(annotations, classes)
    result = run_method(judgments, options, seed=0)
    elapsed = time.perf_counter() - start
    labels = np.array(classes, dtype=object)[np.maximum(result.label, 0)]
    return pd.Series(labels, index=items), elapsed


def crowd_kit(annotations: pd.DataFrame, method: str) -> tuple[pd.Series, float] | None:
    try:
        from crowdkit.aggregation import DawidSkene, MajorityVote
    except ImportError:
        return None
    frame = annotations.rename(columns={"item_id": "task", "annotator_id": "worker"})
    model = DawidSkene(n_iter=100) if method == "dawid_skene" else MajorityVote()
    start = time.perf_counter()
    labels = model.fit_predict(frame)
    return labels, time.perf_counter() - start


def main() -> int:
    if not CROWD_DATA.is_dir():
        print(f"no datasets at {CROWD_DATA}; nothing to measure")
        return 0
    names = sorted(p.name for p in CROWD_DATA.iterdir() if (p / "gold.csv").exists())
    header = ["dataset", "items", "judgments"]
    header += [f"ours {name}" for name in OURS] + [
        "crowd-kit MV",
        "crowd-kit DS",
        "ours DS - crowd-kit DS",
    ]
    rows, totals = [], {key: [] for key in ("ours", "ck")}
    for name in names:
        annotations, gold = load(name)
        row: list[object] = [name, annotations["item_id"].nunique(), len(annotations)]
        ours_ds = None
        for key, options in OURS.items():
            labels, _ = ours(annotations, options)
            accuracy, right, total = score(labels, gold)
            row.append(f"{accuracy:.4f} ({right}/{total})")
            ours_ds = accuracy if key == "dawid_skene" else ours_ds
        ck = {}
        for method in ("majority_vote", "dawid_skene"):
            fitted = crowd_kit(annotations, method)
            if fitted is None:
                row.append("not installed")
                continue
            accuracy, right, total = score(fitted[0], gold)
            ck[method] = accuracy
            row.append(f"{accuracy:.4f} ({right}/{total})")
        if "dawid_skene" in ck:
            row.append(f"{ours_ds - ck['dawid_skene']:+.4f}")
            totals["ck"].append(ck["dawid_skene"])
        else:
            row.append("-")
        totals["ours"].append(ours_ds)
        rows.append(row)
        print(f"measured {name}", file=sys.stderr)
    print(markdown_table(header, rows))
    if totals["ck"]:
        ours_mean, ck_mean = np.mean(totals["ours"]), np.mean(totals["ck"])
        print(f"\nmean accuracy, Dawid-Skene: ours {ours_mean:.4f}, crowd-kit {ck_mean:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
