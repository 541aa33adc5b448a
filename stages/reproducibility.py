"""Does this commit reproduce? The checks a CI job runs on a fresh clone.

1. The workspace matches the committed dvc.lock, and every output it names is in the DVC cache
   or the remote (the commit is complete).
2. Rerunning the whole pipeline from scratch gives every data output and the model byte for
   byte, and every metric within a tolerance.
3. A mismatch names the file and says how it changed (rows, columns, metric deltas).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    path: str
    what: str

    def line(self) -> str:
        return f"{self.path}: {self.what}"


def dvc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["dvc", *args], cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )


def declared_outputs(root: Path) -> tuple[list[str], set[str]]:
    """Every output path in dvc.lock, and which of them dvc.yaml declares as metrics."""
    lock = yaml.safe_load((root / "dvc.lock").read_text()) or {}
    outputs = [
        out["path"] for stage in lock.get("stages", {}).values() for out in stage.get("outs", [])
    ]
    pipeline = yaml.safe_load((root / "dvc.yaml").read_text()) or {}
    metrics = {
        next(iter(entry)) if isinstance(entry, dict) else entry
        for stage in pipeline.get("stages", {}).values()
        for entry in stage.get("metrics", [])
    }
    return outputs, metrics


def check_committed(root: Path) -> list[Problem]:
    """Step 1: workspace = dvc.lock, and every output stored somewhere."""
    problems = []
    status = dvc(root, "status", "--json")
    if status.returncode != 0:
        return [Problem("dvc.lock", f"dvc status failed: {status.stderr.strip()[:300]}")]
    for stage, changes in sorted((json.loads(status.stdout or "{}") or {}).items()):
        problems.append(
            Problem(stage, f"differs from dvc.lock: {json.dumps(changes, sort_keys=True)[:300]}")
        )
    cloud = dvc(root, "status", "--cloud", "--json")
    if cloud.returncode == 0:
        for path, state in sorted((json.loads(cloud.stdout or "{}") or {}).items()):
            if state == "missing":
                problems.append(
                    Problem(path, "in neither the DVC cache nor the remote: run `dvc push`")
                )
    else:
        problems.append(
            Problem("remote", f"cannot compare with the remote: {cloud.stderr.strip()[:300]}")
        )
    return problems


def snapshot(root: Path, outputs: list[str], into: Path) -> None:
    """Keep today's outputs (hard links where possible) to compare after the rerun."""
    for output in outputs:
        source = root / output
        files = (
            [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        )
        for file in files:
            target = into / file.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(file, target)
            except OSError:
                shutil.copy2(file, target)


def compare(
    root: Path, before: Path, outputs: list[str], metrics: set[str], tolerance: float
) -> list[Problem]:
    """Step 2 and 3: every file as it was, metrics within ``tolerance``; say how they differ."""
    problems = []
    for output in outputs:
        old_root, new_root = before / output, root / output
        old_files = _files(old_root, before)
        new_files = _files(new_root, root)
        for name in sorted(set(old_files) | set(new_files)):
            if name not in new_files:
                problems.append(Problem(name, "no longer produced"))
            elif name not in old_files:
                problems.append(Problem(name, "new file"))
            elif name in metrics:
                problems += _metric_deltas(name, before / name, root / name, tolerance)
            elif _digest(before / name) != _digest(root / name):
                problems.append(Problem(name, describe_change(before / name, root / name)))
    return problems


def _files(path: Path, base: Path) -> set[str]:
    if path.is_file():
        return {path.relative_to(base).as_posix()}
    if path.is_dir():
        return {p.relative_to(base).as_posix() for p in path.rglob("*") if p.is_file()}
    return set()


def _digest(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _metric_deltas(name: str, old: Path, new: Path, tolerance: float) -> list[Problem]:
    before, after = _flatten(json.loads(old.read_text())), _flatten(json.loads(new.read_text()))
    problems = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        if numbers and abs(float(a) - float(b)) <= tolerance:
            continue
        if not numbers and a == b:
            continue
        delta = f" (delta {float(b) - float(a):+.6g})" if numbers else ""
        problems.append(Problem(name, f"{key}: {a} -> {b}{delta}"))
    return problems


def describe_change(old: Path, new: Path) -> str:
    """How a file changed, in terms a person can act on."""
    import pandas as pd

    size = f"{old.stat().st_size} -> {new.stat().st_size} bytes"
    try:
        if old.suffix == ".parquet":
            before, after = pd.read_parquet(old), pd.read_parquet(new)
        elif old.suffix == ".csv":
            before, after = pd.read_csv(old), pd.read_csv(new)
        else:
            return f"bytes differ ({size})"
    except (OSError, ValueError):
        return f"bytes differ ({size})"
    parts = []
    if len(before) != len(after):
        parts.append(f"rows {len(before)} -> {len(after)}")
    added, removed = (
        set(after.columns) - set(before.columns),
        set(before.columns) - set(after.columns),
    )
    if added or removed:
        parts.append(f"columns +{sorted(added)} -{sorted(removed)}")
    if not parts and list(before.columns) == list(after.columns):
        changed = [
            c
            for c in before.columns
            if not before[c].reset_index(drop=True).equals(after[c].reset_index(drop=True))
        ]
        parts.append(
            f"values differ in columns {changed[:8]}" if changed else "same values, different bytes"
        )
    return "; ".join(parts) + f" ({size})"
