"""Shared fixtures: small in-memory tables for units, and paths for end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import PROJECT_ROOT

LABELS = ["cat", "dog", "bird"]

# pytest-xdist hands each worker whole files (`--dist loadfile`) in collection order (with
# `--no-loadscope-reorder`; by default it starts with the files that have the most tests, and
# the slowest files, a few long end-to-end tests each, came last and ran alone). The slowest
# go first, by their time in a `--durations=0` run (2026-11-27: 240, 210, 120 and 115 s), then
# the other end-to-end files, then the rest: the small files fill in around them. A stale list
# costs time, never a result.
SLOWEST_FIRST = ["test_pipeline_e2e.py", "test_check_repro.py", "test_clones_e2e.py",
                 "test_remotes.py"]  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slowest files first (see SLOWEST_FIRST); a file's own tests keep their order."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if name in SLOWEST_FIRST:
            return SLOWEST_FIRST.index(name)
        return len(SLOWEST_FIRST) + (0 if item.get_closest_marker("e2e") else 1)

    items.sort(key=rank)  # stable


def annotations_frame(rows: list[tuple[str, str, str]], source: str = "batch.csv") -> pd.DataFrame:
    """Canonical annotations from (item_id, annotator_id, label) tuples."""
    frame = pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"]).astype("string")
    frame["source"] = pd.Series([source] * len(frame), dtype="string")
    frame["created_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ms, UTC]")
    frame["lead_time"] = pd.Series(float("nan"), index=frame.index, dtype="float64")
    return frame


@pytest.fixture
def small_tables() -> dict[str, pd.DataFrame]:
    """A valid trio of prepared tables: 4 items, 3 annotators, 1 gold item."""
    items = pd.DataFrame(
        {
            "item_id": pd.array(["i1", "i2", "i3", "i4"], dtype="string"),
            "x": [0.1, 0.2, 0.3, 0.4],
            "split": pd.array(["train", "train", "test", "train"], dtype="string"),
        }
    )
    annotations = annotations_frame(
        [
            ("i1", "a", "cat"),
            ("i1", "b", "cat"),
            ("i1", "c", "dog"),
            ("i2", "a", "dog"),
            ("i2", "b", "dog"),
            ("i3", "a", "bird"),
            ("i3", "c", "bird"),
            ("i4", "b", "cat"),
        ]
    )
    gold = pd.DataFrame({"item_id": ["i2"], "label": ["dog"]}).astype("string")
    return {"items": items, "annotations": annotations, "gold": gold}


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The template with demo data, the pipeline run and everything committed and cached.

    Tests copy it (the `project` fixtures) rather than change it.
    """
    import sys

    from tests.helpers import copy_template, sh

    root = copy_template(tmp_path_factory.mktemp("reproduced") / "project")
    sh(root, sys.executable, "-m", "stages", "demo-data")
    sh(root, "dvc", "add", "-q", "data/raw")
    sh(root, "dvc", "repro", "-q")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "--allow-empty", "-m", "reproduced")
    yield root
    # Shared by every test of the session: one that ran a stage in it with a default path
    # would have changed what later copies start from.
    assert sh(root, "git", "status", "--porcelain").stdout == "", "a test changed `reproduced`"


@pytest.fixture
def project(reproduced: Path, tmp_path: Path) -> Path:
    """A copy of the reproduced repository (with its DVC cache) that a test may change."""
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(reproduced, copy, symlinks=True)
    return copy


def _tree_digest(root: Path) -> str | None:
    import hashlib

    if not root.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _tracked_changes() -> str:
    """Changes to the tracked files a stage writes (metrics, plots data, the lock)."""
    import subprocess

    return subprocess.run(["git", "diff", "--stat", "--", "metrics", "reports", "models", "dvc.lock"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True).stdout  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def raw_data_is_never_written():
    """No test (and so no stage it runs) may change the project's data/raw or a tracked file
    (metrics live in Git: a stage run with default paths from the project root would)."""
    raw = PROJECT_ROOT / "data" / "raw"
    before, tracked = _tree_digest(raw), _tracked_changes()
    yield
    assert _tree_digest(raw) == before, "data/raw changed during the test run"
    assert _tracked_changes() == tracked, "a test wrote the project's metrics or dvc.lock"
