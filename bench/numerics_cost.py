"""What reproducible numerics cost: the whole `dvc repro` at a million items, before and after.

One synthetic delivery (bench/pipeline_scale.py's: items with 64 numeric features and a text
column, 5 judgments per item in the real export formats) is run as the DVC project of each
revision given: by default the last one before the stages pinned their kernels and threads and
fitted logistic regression with exact products (`091c10c`), and this working tree. The runs
alternate (before, after, before, after...) so that both meet the same machine; the table
gives each run and the ratio of the medians.

    python bench/numerics_cost.py --items 1000000 --rounds 2
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import ROOT, markdown_table
from pipeline_scale import write_delivery

from tests.helpers import copy_template, sh

BEFORE = "091c10c"


def project_of(revision: str, into: Path, delivery: Path) -> Path:
    """The revision's template (or the working tree's, for "worktree") with the delivery."""
    into.mkdir(parents=True)
    if revision == "worktree":
        copy_template(into)
    else:
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True,
                                 check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
        for command in (["git", "init", "-q", "-b", "main"],
                        ["git", "config", "user.email", "bench@example.org"],
                        ["git", "config", "user.name", "bench"]):  # fmt: skip
            sh(into, *command)
    shutil.rmtree(into / "data" / "raw", ignore_errors=True)
    shutil.copytree(delivery / "data" / "raw", into / "data" / "raw")
    params = yaml.safe_load((into / "params.yaml").read_text())
    made = yaml.safe_load((delivery / "params.yaml").read_text())
    params["data"]["labels"] = made["data"]["labels"]
    params["label_merge"]["relabel"].update(made["label_merge"]["relabel"])
    (into / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(into, "dvc", "add", "-q", "data/raw")
    sh(into, "git", "add", "-A")
    sh(into, "git", "commit", "-q", "-m", "delivery")
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    revisions = {"before": args.before, "after": "worktree"}
    times: dict[str, list[float]] = {name: [] for name in revisions}
    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        write_delivery(work / "delivery", args.items)
        projects = {
            label: project_of(revision, work / label, work / "delivery")
            for label, revision in revisions.items()
        }
        for round_number in range(args.rounds):
            for label, project in projects.items():
                start = time.perf_counter()
                sh(project, "dvc", "repro", "-q", *(["-f"] if round_number else []))
                times[label].append(time.perf_counter() - start)
                print(f"{label}: {times[label][-1]:.1f} s", file=sys.stderr)
    rows = [
        [label, revisions[label], ", ".join(f"{t:.1f}" for t in runs),
         f"{statistics.median(runs):.1f}"]
        for label, runs in times.items()
    ]  # fmt: skip
    print(markdown_table(["code", "revision", "whole `dvc repro`, s", "median s"], rows))
    ratio = statistics.median(times["after"]) / statistics.median(times["before"])
    print(f"\nafter / before: {ratio:.3f}x at {args.items:,} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
