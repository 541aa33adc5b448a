"""Truth inference at scale: our default and our Dawid-Skene vs crowd-kit 1.4.2's, one run.

Synthetic: N items x 5 judgments, 5 classes, 500 annotators of varied skill (one-coin noise
with class-dependent confusions). Each contender runs in its own process so that its peak
memory is its own. Also times the whole label-merge stage (standalone, from a Parquet long
table) on the same input. `make bench` runs it; `--items` scales it down for a quick look.
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
from common import ROOT, RssSampler, markdown_table

CLASSES = 5
ANNOTATORS = 500
PER_ITEM = 5


def synthetic(n_items: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Judgments as a long table (item, annotator, label) and the true class per item."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, CLASSES, n_items)
    skill = rng.uniform(0.35, 0.95, ANNOTATORS)
    bias = rng.integers(0, CLASSES, ANNOTATORS)  # where each annotator's errors tend to go
    item = np.repeat(np.arange(n_items), PER_ITEM)
    # Five distinct annotators per item: a random start and four distinct offsets.
    offsets = np.stack(
        [rng.permutation(ANNOTATORS - 1)[: PER_ITEM - 1] + 1 for _ in range(1)], axis=0
    )[0]
    start = rng.integers(0, ANNOTATORS, n_items)
    annotator = ((start[:, None] + np.concatenate([[0], offsets])[None, :]) % ANNOTATORS).ravel()
    right = rng.random(len(item)) < skill[annotator]
    to_bias = rng.random(len(item)) < 0.6
    wrong = np.where(to_bias, bias[annotator], rng.integers(0, CLASSES, len(item)))
    wrong = np.where(wrong == truth[item], (wrong + 1) % CLASSES, wrong)
    label = np.where(right, truth[item], wrong)
    table = pd.DataFrame(
        {
            "item_id": pd.array(np.char.add("item-", item.astype(str)), dtype="string"),
            "annotator_id": pd.array(np.char.add("w", annotator.astype(str)), dtype="string"),
            "label": pd.array(np.char.add("c", label.astype(str)), dtype="string"),
        }
    )
    return table, truth


def accuracy(predicted: pd.Series, truth: np.ndarray) -> float:
    index = predicted.index.str.removeprefix("item-").astype(int)
    return float((predicted.to_numpy() == np.char.add("c", truth[index].astype(str))).mean())


def worker(kind: str, folder: Path) -> dict[str, object]:
    """Fit one contender on the judgments the parent wrote; report time, accuracy, memory."""
    truth = np.load(folder / "truth.npy")
    path = folder / "judgments.parquet"
    if kind == "stage":  # the whole standalone stage, from a Parquet export to labels.csv
        labels = ",".join(f"c{k}" for k in range(CLASSES))
        command = [sys.executable, "-m", "stages", "label-merge", "--annotations", str(path),
                   "--labels", labels, "--out", str(folder / "out"),
                   "--params", str(folder / "absent.yaml")]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
        elapsed = time.perf_counter() - start
        merged = pd.read_csv(folder / "out" / "labels.csv", usecols=["item_id", "label"])
        predicted = merged.set_index("item_id")["label"]
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the stage's own peak
        return {
            "seconds": elapsed,
            "accuracy": accuracy(predicted, truth),
            "added_mb": None,
            "peak_mb": peak,
        }
    table = pd.read_parquet(path)
    if kind == "crowd-kit":
        from crowdkit.aggregation import DawidSkene

        table = table.astype(str).rename(columns={"item_id": "task", "annotator_id": "worker"})
    with RssSampler() as memory:
        start = time.perf_counter()
        if kind in ("default", "dawid_skene"):
            from stages.truth.merge import encode
            from stages.truth.methods import DEFAULT_METHOD, run_method

            classes = [f"c{k}" for k in range(CLASSES)]
            judgments, items, _ = encode(table, classes)
            method = DEFAULT_METHOD if kind == "default" else kind
            result = run_method(judgments, {"method": method}, seed=0)
            predicted = pd.Series(np.array(classes)[result.label], index=items)
        else:
            predicted = DawidSkene(n_iter=100).fit_predict(table)
        elapsed = time.perf_counter() - start
    predicted.index = predicted.index.astype(str)
    return {"seconds": elapsed, "accuracy": accuracy(predicted, truth), "added_mb": memory.added_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--worker", choices=["default", "dawid_skene", "crowd-kit", "stage"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder)))
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        table, truth = synthetic(args.items)
        table.to_parquet(Path(folder) / "judgments.parquet", index=False)
        np.save(Path(folder) / "truth.npy", truth)
        del table
        for kind in ("default", "dawid_skene", "crowd-kit", "stage"):
            command = [sys.executable, __file__, "--worker", kind, "--folder", folder]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{kind} failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                continue
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"measured {kind}: {results[kind]}", file=sys.stderr)
    rows = []
    for kind, result in results.items():
        name = {"default": "ours: default fit (auto without gold: the ensemble)",
                "dawid_skene": "ours: Dawid-Skene fit",
                "crowd-kit": "crowd-kit 1.4.2: DawidSkene fit",
                "stage": "ours: whole label-merge stage"}[kind]  # fmt: skip
        peak = f"{result['added_mb']:.0f}" if result["added_mb"] is not None else "-"
        if result.get("peak_mb"):
            peak = f"{result['peak_mb']:.0f} (whole process)"
        rows.append([name, f"{result['seconds']:.1f}", f"{result['accuracy']:.4f}", peak])
    print(
        f"{args.items:,} items x {PER_ITEM} judgments, {CLASSES} classes, {ANNOTATORS} annotators\n"
    )
    print(
        markdown_table(["what", "seconds", "accuracy vs truth", "memory added at peak, MB"], rows)
    )
    for kind in ("default", "dawid_skene"):
        if kind in results and "crowd-kit" in results:
            ours, ck = results[kind], results["crowd-kit"]
            print(
                f"\n{kind}: speed-up {ck['seconds'] / ours['seconds']:.1f}x over crowd-kit DS "
                f"(target for the default: 5x), accuracy difference "
                f"{100 * (ours['accuracy'] - ck['accuracy']):+.2f} points, peak memory "
                f"{ours['added_mb']:.0f} MB vs {ck['added_mb']:.0f} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
