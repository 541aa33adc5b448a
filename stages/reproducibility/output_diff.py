"""How a rerun's file differs from the commit's, in terms a person can act on.

Each kind of file is compared by what it holds: JSON key by key (metric deltas), tables by
rows, columns and values (how far floats moved), skops models array by array (how far the
parameters moved; nothing is unpickled), anything else by bytes. Under the exact rule any
difference is reported; under the tolerance rule (docs/reproducibility.md) floats may move
by ``value_tolerance`` and metrics by ``metric_tolerance``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Rule:
    """How close a rerun must come: every byte, or values within tolerances."""

    exact: bool
    metric_tolerance: float
    value_tolerance: float
    why: str


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
    import pandas as pd

    read = pd.read_parquet if suffix == ".parquet" else pd.read_csv
    try:
        old, new = read(io.BytesIO(before)), read(io.BytesIO(after))
    except (OSError, ValueError):
        return f"bytes differ ({_sizes(before, after)})"
    sizes = f" ({_sizes(before, after)})"
    if len(old) != len(new):
        return f"rows {len(old)} -> {len(new)}" + sizes
    added = sorted(set(new.columns) - set(old.columns))
    removed = sorted(set(old.columns) - set(new.columns))
    if added or removed:
        return f"columns +{added} -{removed}" + sizes
    parts, moved = _column_changes(old, new, rule)
    reordered = ""
    if parts and _same_ids(old, new):  # compare item by item, then say the order moved
        old, new = (frame.sort_values("item_id", kind="stable") for frame in (old, new))
        aligned, moved = _column_changes(old, new, rule)
        if len(aligned) < len(parts):
            parts, reordered = aligned, "rows in another order"
    if parts:
        return "; ".join([*parts, *([reordered] if reordered else [])]) + sizes
    if not rule.exact:
        return None
    within = ", ".join(f"{column} by at most {gap:.3g}" for column, gap in moved.items())
    said = [reordered] if reordered else []
    if moved or not said:
        said.append(f"values moved in their last bits ({within})" if moved else "same values")
    return "; ".join(said) + sizes


def _same_ids(old: Any, new: Any) -> bool:
    if "item_id" not in old.columns:
        return False
    ids = old["item_id"]
    return bool(ids.is_unique and set(ids) == set(new["item_id"]))


def _column_changes(old: Any, new: Any, rule: Rule) -> tuple[list[str], dict[str, float]]:
    """Columns whose values differ, and float columns that moved within the tolerance."""
    import numpy as np
    import pandas as pd

    parts: list[str] = []
    moved: dict[str, float] = {}
    for column in old.columns:
        a, b = old[column].reset_index(drop=True), new[column].reset_index(drop=True)
        if a.equals(b):
            continue
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            gap = float(np.nanmax(np.abs(a.to_numpy() - b.to_numpy()), initial=0.0))
            # A little slack: a value rounded to the tolerance's digits may flip by one unit.
            within = gap <= rule.value_tolerance * (1 + 1e-6)
            if bool((a.isna() == b.isna()).all()) and within:
                moved[column] = gap
                continue
            parts.append(f"{column} differs by up to {gap:.3g}")
        else:
            changed = int((a.astype(str) != b.astype(str)).sum())
            parts.append(f"{column} differs in {changed} row(s)")
    return parts, moved


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
