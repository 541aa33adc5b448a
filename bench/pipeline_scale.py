"""Each stage's cost as the data grows: wall time, peak memory, rows per second, and the floor.

Writes a synthetic delivery at each size in the real export formats (a Label Studio full JSON
batch, a long CSV batch and a long Parquet batch; items with 64 numeric features and a text
column; 5 judgments per item from 500 annotators; 1% gold), then runs the five stages in order,
each in its own process. The floor is the time to read that stage's input files once with
pyarrow. Then, in the same folder made a DVC project (the template copied into a new Git
repository, `dvc add data/raw`): the whole `dvc repro` from nothing, a second, no-op
`dvc repro`, and `python -m stages <stage> --help`, the slowest of the five.
`python bench/pipeline_scale.py --sizes 10000 100000` (the default); add 1000000 for the full
run (about 10 minutes at that size).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from common import ROOT, markdown_table

from tests.helpers import copy_template, sh

LABELS = [f"c{k}" for k in range(5)]
STAGES = ("prepare", "validate", "label-merge", "train", "evaluate")


def write_delivery(project: Path, n_items: int, seed: int = 0) -> int:
    """The raw delivery; returns the number of judgments."""
    rng = np.random.default_rng(seed)
    raw = project / "data" / "raw"
    (raw / "annotations").mkdir(parents=True)
    truth = rng.integers(0, 5, n_items)
    ids = np.char.add("item-", np.arange(n_items).astype(str))
    features = rng.normal(size=(n_items, 64)) + truth[:, None] * 0.15
    items = pd.DataFrame(features.round(4), columns=[f"f{k:02d}" for k in range(64)])
    items.insert(0, "item_id", ids)
    words = np.array(["red", "blue", "small", "large", "old", "new", "fast", "slow"])
    items.insert(1, "text", [" ".join(row) for row in words[rng.integers(0, 8, (n_items, 4))]])
    items.to_csv(raw / "items.csv", index=False)
    item = np.repeat(np.arange(n_items), 5)
    annotator = (rng.integers(0, 500, n_items)[:, None] + np.arange(5)[None, :] * 97).ravel() % 500
    skill = rng.uniform(0.5, 0.95, 500)
    right = rng.random(len(item)) < skill[annotator]
    label = np.where(right, truth[item], rng.integers(0, 5, len(item)))
    table = pd.DataFrame({"item_id": ids[item], "annotator_id": np.char.add("w", annotator.astype(str)),
                          "label": np.array(LABELS)[label]})  # fmt: skip
    tenth = len(table) // 10
    json_part, csv_part, parquet_part = (
        table.iloc[:tenth],
        table.iloc[tenth : 3 * tenth],
        table.iloc[3 * tenth :],
    )
    tasks = [
        {"id": n, "data": {"item_id": item_id, "text": "..."},
         "annotations": [{"completed_by": {"email": f"{w}@example.org"}, "was_cancelled": False,
                          "result": [{"type": "choices", "value": {"choices": [lab]}, "from_name": "label"}]}
                         for w, lab in zip(group["annotator_id"], group["label"], strict=True)]}
        for n, (item_id, group) in enumerate(json_part.groupby("item_id", sort=False))
    ]  # fmt: skip
    (raw / "annotations" / "batch-1.json").write_text(json.dumps(tasks))
    csv_part.to_csv(raw / "annotations" / "batch-2.csv", index=False)
    parquet_part.to_parquet(raw / "annotations" / "batch-3.parquet", index=False)
    gold_rows = rng.choice(n_items, size=max(n_items // 100, 1), replace=False)
    pd.DataFrame({"item_id": ids[gold_rows], "label": np.array(LABELS)[truth[gold_rows]]}).to_csv(
        raw / "gold.csv", index=False
    )
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["labels"] = LABELS
    params["validate"]["suite"] = str(ROOT / "expectations" / "default.yaml")
    params["label_merge"]["relabel"].update({"from_name": "label", "to_name": "text"})
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    return len(table)


def inputs(stage: str, project: Path) -> list[Path]:
    if stage == "prepare":
        return sorted((project / "data" / "raw").rglob("*.*"))
    folder = "prepared" if stage == "validate" else "validated"
    files = sorted((project / "data" / folder).rglob("*.parquet"))
    return files + (
        [project / "data" / "labels" / "labels.parquet"] if stage in ("train", "evaluate") else []
    )


def floor_seconds(files: list[Path]) -> float:
    """Read every input once with pyarrow: what no stage can beat."""
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    start = time.perf_counter()
    for file in files:
        if file.suffix == ".parquet":
            pq.read_table(file)
        elif file.suffix == ".csv":
            pacsv.read_csv(file)
        elif file.suffix == ".json":
            try:
                pajson.read_json(file)
            except Exception:  # a JSON array, not JSON lines: the stdlib reader is the floor
                json.loads(file.read_text())
    return time.perf_counter() - start


def run_stage(stage: str, project: Path) -> dict[str, float]:
    """Run one stage in its own process; report wall time and that process's peak memory."""
    code = (
        "import resource, subprocess, sys, time, json\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run([sys.executable, '-m', 'stages', sys.argv[1]], capture_output=True, text=True)\n"
        "elapsed = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': elapsed, 'peak_mb': peak, 'rc': done.returncode, 'err': done.stderr[-400:]}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, stage], cwd=project, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def seconds(project: Path, *command: str) -> float:
    start = time.perf_counter()
    sh(project, *command)
    return time.perf_counter() - start


def under_dvc(project: Path) -> dict[str, float]:
    """The delivery as the template's DVC project: whole repro, no-op repro, --help."""
    delivery = project / "delivery"
    (project / "data").rename(delivery)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["validate"]["suite"] = "expectations/default.yaml"  # the copied template's
    for output in ("reports", "models"):
        shutil.rmtree(project / output, ignore_errors=True)
    copy_template(project)  # commits the template's files; data/ is not among them
    shutil.rmtree(project / "data" / "raw", ignore_errors=True)
    (delivery / "raw").rename(project / "data" / "raw")
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    sh(project, "dvc", "add", "-q", "data/raw")
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-q", "-m", "delivery")
    repro = seconds(project, "dvc", "repro", "-q")
    noop = min(seconds(project, "dvc", "repro", "-q") for _ in range(3))
    helps = [
        min(seconds(project, sys.executable, "-m", "stages", stage, "--help") for _ in range(3))
        for stage in STAGES
    ]
    return {"repro": repro, "noop": noop, "help": max(helps)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    rows = []
    totals: dict[int, float] = {}
    dvc_runs: dict[int, dict[str, float]] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as name:
            project = Path(name)
            judgments = write_delivery(project, size)
            total = 0.0
            for stage in STAGES:
                floor = floor_seconds(inputs(stage, project))
                result = run_stage(stage, project)
                if result["rc"] != 0:
                    print(f"{stage} failed at {size}: {result['err']}", file=sys.stderr)
                    break
                total += result["seconds"]
                rate = judgments / result["seconds"]
                rows.append([f"{size:,}", stage, f"{result['seconds']:.1f}", f"{result['peak_mb']:.0f}",
                             f"{rate:,.0f}", f"{floor:.2f}", f"{result['seconds'] / floor:.1f}x"])  # fmt: skip
                print(f"{size:,} {stage}: {result['seconds']:.1f} s", file=sys.stderr)
            totals[size] = total
            dvc_runs[size] = under_dvc(project)
            print(f"{size:,} under dvc: {dvc_runs[size]}", file=sys.stderr)
    header = [
        "items",
        "stage",
        "seconds",
        "peak RSS MB",
        "judgments/s",
        "floor s",
        "ratio to floor",
    ]
    print(markdown_table(header, rows))
    print(
        "\nwhole pipeline: "
        + ", ".join(f"{size:,} items {total:.0f} s" for size, total in totals.items())
    )
    print()
    print(
        markdown_table(
            ["items", "dvc repro s", "no-op dvc repro s", "slowest `<stage> --help` s"],
            [[f"{size:,}", f"{run['repro']:.1f}", f"{run['noop']:.2f}", f"{run['help']:.2f}"]
             for size, run in dvc_runs.items()],
        )
    )  # fmt: skip
    sizes = sorted(totals)
    for small, large in itertools.pairwise(sizes):
        print(
            f"growth {small:,} -> {large:,} items ({large / small:.0f}x data): {totals[large] / totals[small]:.1f}x time"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
