"""Accuracy against gold on every real dataset in ../shared/data/crowd/, ours and crowd-kit's.

Three tables:
1. Without gold: every method of ours and crowd-kit 1.4.2's majority vote, Dawid-Skene, GLAD and
   MACE. Gold only scores.
2. Leave-one-dataset-out: which method to make the default, decided without the dataset it is
   scored on: for each dataset, the method with the best mean accuracy on the other datasets,
   scored on the held-out one.
3. With 10% gold: a random tenth of each dataset's gold items is given to the methods (clamped,
   as `use_gold` does; `auto` also chooses with it); the other nine tenths score. Three draws.

Run with `make bench` (crowd-kit comes from .venv-bench) or `python bench/accuracy.py`;
`--crowd-kit ds` skips crowd-kit's slow GLAD and MACE (about 15 minutes on 2 cores), `none`
skips crowd-kit. Datasets absent from ../shared/data/crowd/ are skipped.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

import numpy as np
import pandas as pd
from common import CROWD_DATA, markdown_table

from stages.truth.aggregation import Judgments
from stages.truth.merge import encode
from stages.truth.methods import CANDIDATES, DEFAULT_METHOD, FALLBACK, choose, run_method

GOLD_SHARE = 0.1
GOLD_DRAWS = 3
CROWD_KIT = {"MV": "MajorityVote", "DS": "DawidSkene", "GLAD": "GLAD", "MACE": "MACE"}


def load(name: str) -> tuple[pd.DataFrame, Judgments, np.ndarray, list[str]]:
    """The judgments (coded) and a gold class code per item (-1 without gold)."""
    folder = CROWD_DATA / name
    annotations = pd.read_csv(folder / "annotations.csv", dtype=str)
    gold = pd.read_csv(folder / "gold.csv", dtype=str).set_index("item_id")["label"]
    classes = sorted(annotations["label"].unique())
    judgments, items, _ = encode(annotations, classes)
    codes = pd.Index(classes).get_indexer(gold.reindex(items).fillna("\0"))
    return annotations, judgments, codes, classes


def crowd_kit(annotations: pd.DataFrame, gold: pd.Series, which: list[str]) -> dict[str, float]:
    try:
        from crowdkit import aggregation
    except ImportError:
        return {}
    frame = annotations.rename(columns={"item_id": "task", "annotator_id": "worker"})
    scores = {}
    for key in which:
        options = {"n_iter": 100} if key == "DS" else {"random_state": 0} if key == "MACE" else {}
        labels = getattr(aggregation, CROWD_KIT[key])(**options).fit_predict(frame)
        common = gold.index.intersection(labels.index)
        scores[key] = float((labels.loc[common].astype(str) == gold.loc[common]).mean())
    return scores


def without_gold(names: list[str], which: list[str]) -> pd.DataFrame:
    rows = {}
    for name in names:
        annotations, judgments, gold, _ = load(name)
        scored = gold >= 0
        row: dict[str, float] = {}
        for method in CANDIDATES:
            start = time.perf_counter()
            label = run_method(judgments, {"method": method}, seed=0).label
            row[method] = float((label[scored] == gold[scored]).mean())
            row[f"{method} s"] = time.perf_counter() - start
        truth = pd.read_csv(CROWD_DATA / name / "gold.csv", dtype=str).set_index("item_id")
        row.update(
            {f"crowd-kit {k}": v for k, v in crowd_kit(annotations, truth["label"], which).items()}
        )
        row["gold items"] = int(scored.sum())
        rows[name] = row
        print(f"measured {name} without gold", file=sys.stderr)
    return pd.DataFrame(rows).T


def committees(names: list[str]) -> pd.DataFrame:
    """Accuracy of every equal-weight mean of one to three of our four models' posteriors:
    the design space the ensemble was chosen from (datasets x committees)."""
    models = [m for m in CANDIDATES if m != "ensemble"]
    rows = {}
    for name in names:
        _, judgments, gold, _ = load(name)
        scored = gold >= 0
        posterior = {m: run_method(judgments, {"method": m}, seed=0).posterior for m in models}
        row = {}
        for size in (1, 2, 3):
            for members in itertools.combinations(models, size):
                mean = sum(posterior[m] for m in members) / size
                row[" + ".join(members)] = float(
                    (mean.argmax(axis=1)[scored] == gold[scored]).mean()
                )
        rows[name] = row
    return pd.DataFrame(rows).T


def leave_one_dataset_out(methods: pd.DataFrame) -> pd.DataFrame:
    """For each dataset, the candidate best on average over the others, scored on it."""
    rows = []
    for name in methods.index:
        others = methods.drop(index=name).mean()
        pick = others.idxmax()
        rows.append([name, pick, float(methods.loc[name, pick])])
    return pd.DataFrame(rows, columns=["held out", "picked on the others", "accuracy"])


def with_gold(names: list[str]) -> pd.DataFrame:
    rows = {}
    for name in names:
        _, judgments, gold, _ = load(name)
        known = np.flatnonzero(gold >= 0)
        scores: dict[str, list[float]] = {}
        picks = []
        for draw in range(GOLD_DRAWS):
            rng = np.random.default_rng(draw)
            given = rng.choice(known, size=max(1, round(GOLD_SHARE * len(known))), replace=False)
            seen = np.full_like(gold, -1)
            seen[given] = gold[given]
            scored = (gold >= 0) & (seen < 0)
            for method in (*CANDIDATES, "auto"):
                label = run_method(judgments, {"method": method}, 0, gold=seen).label
                scores.setdefault(method, []).append(float((label[scored] == gold[scored]).mean()))
            picks.append(choose(judgments, {"method": "auto"}, 0, seen).method)
        row: dict[str, object] = {method: float(np.mean(v)) for method, v in scores.items()}
        row["gold given"] = max(1, round(GOLD_SHARE * len(known)))
        row["auto chose"] = ", ".join(picks)
        rows[name] = row
        print(f"measured {name} with gold", file=sys.stderr)
    return pd.DataFrame(rows).T


def cell(accuracy: object, reference: object | None = None, n: object | None = None) -> str:
    text = f"{float(accuracy):.4f}"
    if reference is not None and n is not None:
        items = round((float(accuracy) - float(reference)) * float(n))
        text += f" ({items:+d})"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowd-kit", choices=["all", "ds", "none"], default="all")
    args = parser.parse_args()
    if not CROWD_DATA.is_dir():
        print(f"no datasets at {CROWD_DATA}; nothing to measure")
        return 0
    names = sorted(p.name for p in CROWD_DATA.iterdir() if (p / "gold.csv").exists())
    which = {"all": list(CROWD_KIT), "ds": ["MV", "DS"], "none": []}[args.crowd_kit]

    table = without_gold(names, which)
    ck = [c for c in table.columns if c.startswith("crowd-kit")]
    reference = "crowd-kit DS" if "crowd-kit DS" in table else None
    print(f"## Without gold (default: {DEFAULT_METHOD}, which is {FALLBACK} without gold)\n")
    print(
        "Cells: accuracy on the gold items; in brackets, items gained or lost against crowd-kit's"
    )
    print("Dawid-Skene.\n")
    header = ["dataset", "gold items", *CANDIDATES, *ck]
    rows = []
    for name, row in table.iterrows():
        ref = row[reference] if reference else None
        rows.append(
            [name, int(row["gold items"])]
            + [cell(row[m], ref, row["gold items"]) for m in CANDIDATES]
            + [cell(row[c]) for c in ck]
        )
    rows.append(["**mean**", ""] + [cell(table[c].mean()) for c in (*CANDIDATES, *ck)])
    print(markdown_table(header, rows))
    seconds = table[[f"{m} s" for m in CANDIDATES]].sum()
    print("\nSeconds, all datasets: " + ", ".join(f"{k[:-2]} {v:.1f}" for k, v in seconds.items()))

    if reference:
        gap = (table[FALLBACK] - table[reference]) * table["gold items"].astype(float)
        worst = gap.idxmin()
        print(f"\nTargets for the default ({FALLBACK}) against crowd-kit's Dawid-Skene:")
        print(
            f"- mean: {100 * (table[FALLBACK].mean() - table[reference].mean()):+.2f} points (target +1.00)"
        )
        print(
            f"- datasets more than one item behind: {int((gap < -1).sum())} (target 0); "
            f"worst {worst}, {gap[worst]:+.0f} items"
        )

    designs = committees(names)
    lodo = leave_one_dataset_out(designs)
    print("\n## Leave-one-dataset-out: which design to make the default\n")
    print("Candidates: each of our four models alone and every equal-weight mean of two or three")
    print(f"of them ({len(designs.columns)} in all). For each dataset, the candidate with the best")
    print("mean accuracy on the other datasets, scored on the held-out one.\n")
    print(markdown_table(list(lodo.columns), lodo.values.tolist()))
    line = f"\nmean held-out accuracy of the choice: {lodo['accuracy'].mean():.4f}"
    if reference:
        line += f" (crowd-kit DS {table[reference].mean():.4f})"
    print(line)

    gold_table = with_gold(names)
    methods = [*CANDIDATES, "auto"]
    print(f"\n## With {GOLD_SHARE:.0%} gold ({GOLD_DRAWS} draws; scored on the gold not given)\n")
    header = ["dataset", "gold given", *methods, "auto chose"]
    rows = [
        [name, row["gold given"], *(cell(row[m]) for m in methods), row["auto chose"]]
        for name, row in gold_table.iterrows()
    ]
    means = gold_table[methods].astype(float).mean()
    rows.append(["**mean**", "", *(cell(means[m]) for m in methods), ""])
    print(markdown_table(header, rows))
    best = means[list(CANDIDATES)].idxmax()
    print(f"\nauto {means['auto']:.4f} against the best single method, {best}, {means[best]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
