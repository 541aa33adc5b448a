"""Does this commit reproduce? The checks a CI job runs on a fresh clone.

The reference is the commit: the ``dvc.lock`` recorded in ``HEAD`` (never the working tree's
copy, which ``dvc repro`` rewrites and, with autostage, stages) and the outputs it names.

1. The commit is complete: tracked files as committed, the workspace's data as dvc.lock says,
   every output in the DVC cache or the remote.
2. ``dvc repro -f`` reruns everything; each output's new hash is compared with HEAD's.
3. A mismatch is one line per output: path, old and new hash and size, and what changed
   (rows, columns, values, metric deltas, how far the model's parameters moved).

The rule depends on the machine (docs/reproducibility.md): on the reference numerics every
byte must match; elsewhere (another architecture, an OpenBLAS kernel forced by the environment)
tables and models must match within a tolerance and metrics within ``metric_tolerance``.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
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


@dataclass(frozen=True)
class Output:
    """One output as a dvc.lock records it."""

    path: str
    md5: str
    size: int | None

    def label(self) -> str:
        size = f", {self.size} bytes" if self.size is not None else ""
        return f"md5 {self.md5[:12]}{size}"


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from stages.errors import DataError

    try:
        return subprocess.run(
            list(args), cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise DataError(
            args[0], None, "not found: run `make check-repro`, or activate .venv first"
        ) from None


def dvc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(root, "dvc", *args)


def committed_bytes(root: Path, path: str) -> bytes | None:
    """A file as HEAD records it, or None when the commit has no such file."""
    shown = subprocess.run(
        ["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True, stdin=subprocess.DEVNULL
    )
    return shown.stdout if shown.returncode == 0 else None


def lock_outputs(lock_text: str | None) -> dict[str, Output]:
    lock = yaml.safe_load(lock_text or "") or {}
    return {
        out["path"]: Output(out["path"], str(out.get("md5", "")), out.get("size"))
        for stage in (lock.get("stages") or {}).values()
        for out in stage.get("outs", [])
    }


def working_outputs(root: Path) -> dict[str, Output]:
    lock = root / "dvc.lock"
    return lock_outputs(lock.read_text() if lock.is_file() else None)


def metric_paths(root: Path) -> set[str]:
    pipeline = yaml.safe_load((root / "dvc.yaml").read_text()) or {}
    return {
        next(iter(entry)) if isinstance(entry, dict) else entry
        for stage in pipeline.get("stages", {}).values()
        for entry in stage.get("metrics", [])
    }


MISSING = "in neither the DVC cache nor the remote: run `dvc push` where it was made"


def check_committed(root: Path) -> list[Problem]:
    """Step 1: code, params and data as committed, and every output stored somewhere.

    dvc.lock itself is left to ``compare_outputs``: a lock that an earlier ``dvc repro``
    rewrote is diagnosed output by output, not just called modified.
    """
    problems = []
    changed = run(root, "git", "status", "--porcelain", "--untracked-files=no")
    for line in changed.stdout.splitlines():
        if line[3:] != "dvc.lock":
            problems.append(
                Problem(line[3:], "differs from the commit (HEAD): commit it or `git checkout` it")
            )
    status = dvc(root, "status", "--json")
    if status.returncode != 0:
        return [*problems, Problem("dvc.lock", f"dvc status failed: {last_line(status)}")]
    for name, changes in sorted((json.loads(status.stdout or "{}") or {}).items()):
        if name.endswith(".dvc"):  # data added with `dvc add`: the pipeline's inputs
            problems.append(
                Problem(name, f"differs from the data: {json.dumps(changes, sort_keys=True)[:300]}")
            )
    cloud = dvc(root, "status", "--cloud", "--json")
    if cloud.returncode == 0:
        for path, state in sorted((json.loads(cloud.stdout or "{}") or {}).items()):
            if state == "missing":
                problems.append(Problem(path, MISSING))
    else:
        problems.append(Problem("remote", f"cannot compare with the remote: {last_line(cloud)}"))
    return problems


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1][:300] if lines else f"exited {result.returncode}"


class Cache:
    """Read files by md5 from the DVC cache (and, for metrics kept in Git, from HEAD)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / ".dvc" / "cache" / "files" / "md5"

    def path(self, md5: str) -> Path:
        return self.folder / md5[:2] / md5[2:]

    def listing(self, md5: str) -> dict[str, str] | None:
        """A directory output's files and their md5s."""
        path = self.path(md5)
        if not path.is_file():
            return None
        return {entry["relpath"]: entry["md5"] for entry in json.loads(path.read_text())}

    def read(self, md5: str) -> bytes | None:
        path = self.path(md5)
        return path.read_bytes() if path.is_file() else None


@dataclass(frozen=True)
class Rule:
    """How close a rerun must come: every byte, or values within tolerances."""

    exact: bool
    metric_tolerance: float
    value_tolerance: float
    why: str


def compare_outputs(
    root: Path,
    committed: dict[str, Output],
    rerun: dict[str, Output],
    metrics: set[str],
    rule: Rule,
) -> list[Problem]:
    """Each output's hash against the commit's; for those that differ, say how (or accept the
    difference under a tolerance rule)."""
    cache = Cache(root)
    problems = []
    for path in sorted(set(committed) | set(rerun)):
        old, new = committed.get(path), rerun.get(path)
        if new is None:
            problems.append(Problem(path, "no longer produced"))
        elif old is None:
            problems.append(Problem(path, "a new output, not in the commit's dvc.lock"))
        elif old.md5 != new.md5:
            details = _file_changes(cache, old, new, metrics, rule)
            if details:
                problems.append(
                    Problem(path, f"{old.label()} -> {new.label()}: " + "; ".join(details))
                )
    return problems


UNAVAILABLE = "the commit's copy is in neither the DVC cache nor Git (`dvc pull` shows more)"


def _file_changes(
    cache: Cache, old: Output, new: Output, metrics: set[str], rule: Rule
) -> list[str]:
    """What changed in each file of an output; empty when the rule accepts every change."""
    if not old.md5.endswith(".dir"):  # metrics live in Git (cache: false), the rest in the cache
        before = cache.read(old.md5) or committed_bytes(cache.root, old.path)
        current = cache.root / new.path
        after = current.read_bytes() if current.is_file() else None
        if before is None or after is None:
            return [UNAVAILABLE if after is not None else "no longer produced"]
        verdict = describe(old.path, before, after, old.path in metrics, rule)
        return [verdict] if verdict else []
    listed, listing = cache.listing(old.md5), cache.listing(new.md5)
    if listed is None or listing is None:
        return [UNAVAILABLE]
    changes = []
    for name in sorted(set(listed) | set(listing)):
        if listed.get(name) == listing.get(name):
            continue
        if name not in listing:
            verdict: str | None = "no longer produced"
        elif name not in listed:
            verdict = "a new file"
        else:
            before, after = cache.read(listed[name]), cache.read(listing[name])
            verdict = (
                describe(name, before, after, False, rule)
                if before is not None and after is not None
                else UNAVAILABLE
            )
        if verdict:
            changes.append(f"{name}: {verdict}")
    return changes


def describe(name: str, before: bytes, after: bytes, is_metric: bool, rule: Rule) -> str | None:
    """What changed in one file, or None when the rule accepts the change."""
    suffix = Path(name).suffix
    if is_metric or suffix == ".json":
        try:
            return _json_change(json.loads(before), json.loads(after), rule)
        except ValueError:
            pass
    if suffix in (".parquet", ".csv"):
        return _table_change(before, after, suffix, rule)
    if suffix == ".skops":
        return _model_change(before, after, rule)
    return f"bytes differ ({_sizes(before, after)})"


def _sizes(before: bytes, after: bytes) -> str:
    return f"{len(before)} -> {len(after)} bytes"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}{index}."))
        return out
    return {prefix.rstrip("."): value}


def _json_change(before: Any, after: Any, rule: Rule) -> str | None:
    old, new = _flatten(before), _flatten(after)
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        if numbers and abs(float(a) - float(b)) <= rule.metric_tolerance:  # type: ignore[arg-type]
            continue
        if not numbers and a == b:
            continue
        delta = f" (delta {float(b) - float(a):+.6g})" if numbers else ""  # type: ignore[arg-type]
        changes.append(f"{key}: {a} -> {b}{delta}")
    if not changes:
        return None if not rule.exact else "same values, different bytes"
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    return "; ".join(changes[:5]) + more


def _table_change(before: bytes, after: bytes, suffix: str, rule: Rule) -> str | None:
    import numpy as np
    import pandas as pd

    read = pd.read_parquet if suffix == ".parquet" else pd.read_csv
    try:
        old, new = read(io.BytesIO(before)), read(io.BytesIO(after))
    except (OSError, ValueError):
        return f"bytes differ ({_sizes(before, after)})"
    parts = []
    if len(old) != len(new):
        parts.append(f"rows {len(old)} -> {len(new)}")
    added, removed = (
        sorted(set(new.columns) - set(old.columns)),
        sorted(set(old.columns) - set(new.columns)),
    )
    if added or removed:
        parts.append(f"columns +{added} -{removed}")
    if not parts:
        moved: dict[str, float] = {}
        for column in old.columns:
            a, b = old[column].reset_index(drop=True), new[column].reset_index(drop=True)
            if a.equals(b):
                continue
            if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
                gap = np.nanmax(np.abs(a.to_numpy() - b.to_numpy()), initial=0.0)
                same_gaps = bool((a.isna() == b.isna()).all())
                if same_gaps and gap <= rule.value_tolerance:
                    moved[column] = float(gap)
                    continue
                parts.append(f"{column} differs by up to {gap:.3g}")
            else:
                parts.append(f"values differ in column {column}")
        if not parts:
            if not rule.exact:
                return None
            within = ", ".join(f"{c} by at most {g:.3g}" for c, g in moved.items())
            parts.append(f"values moved in their last bits ({within})" if moved else "same values")
    return "; ".join(parts) + f" ({_sizes(before, after)})"


def _model_change(before: bytes, after: bytes, rule: Rule) -> str | None:
    """Compare two skops archives array by array (nothing is unpickled or loaded)."""
    import numpy as np

    try:
        old, new = zipfile.ZipFile(io.BytesIO(before)), zipfile.ZipFile(io.BytesIO(after))
        old_names, new_names = sorted(old.namelist()), sorted(new.namelist())
        if old_names != new_names or old.read("schema.json") != new.read("schema.json"):
            return f"the model's structure or settings differ ({_sizes(before, after)})"
        gap = 0.0
        for name in old_names:
            if not name.endswith(".npy") or old.read(name) == new.read(name):
                continue
            a = np.load(io.BytesIO(old.read(name)), allow_pickle=False)
            b = np.load(io.BytesIO(new.read(name)), allow_pickle=False)
            if a.shape != b.shape or a.dtype != b.dtype or a.dtype.kind not in "fc":
                return f"model array {name} differs in shape, type or exact values"
            gap = max(gap, float(np.nanmax(np.abs(a - b), initial=0.0)))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        return f"bytes differ ({_sizes(before, after)}; unreadable: {error})"
    if not rule.exact and gap <= rule.value_tolerance:
        return None
    return f"model parameters differ by at most {gap:.3g} ({_sizes(before, after)})"
