"""End to end: clones of a project whose pipeline ran and was committed (the session's
`reproduced` template): a fresh clone set up by `make repro` reproduces the commit, and a
teammate's clone gets the team's data, not the demo. Apart from test_pipeline_e2e.py, whose
tests share one repository in order, so that the two files run side by side."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import DEMO_RAW_MD5, ran_stages, sh

pytestmark = pytest.mark.e2e
STAGES = ["prepare", "validate", "label-merge", "train", "evaluate"]


def test_fresh_clone_make_repro_reproduces_the_commit(reproduced, tmp_path):
    clone = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(reproduced), str(clone))
    assert not (clone / "data" / "raw").exists()
    result = sh(clone, "make", "repro")
    assert ran_stages(result.stdout) == STAGES
    assert "metrics/evaluate.json" in result.stdout  # `dvc metrics diff` printed them
    assert sh(clone, "dvc", "status", "-q", check=False).returncode == 0
    assert sh(clone, "git", "status", "--porcelain").stdout == ""
    raw_hash = yaml.safe_load((clone / "data/raw.dvc").read_text())["outs"][0]["md5"]
    assert raw_hash == DEMO_RAW_MD5  # the demo delivery is the same on every machine
    # The local default remote accepts a push on a fresh clone.
    sh(clone, ".venv/bin/dvc", "push", "-q")
    assert any((clone / ".dvc-remote").rglob("*"))


def test_a_teammates_clone_gets_the_teams_data_not_the_demo(reproduced, tmp_path):
    """`make repro` on a clone of a team's project: data/raw.dvc records the team's data, and
    making the demo there would replace it (autostage would even stage the demo's record)."""
    team = tmp_path / "team"
    sh(tmp_path, "git", "clone", "-q", str(reproduced), str(team))
    shutil.copytree(reproduced / "data" / "raw", team / "data" / "raw")
    batch = team / "data" / "raw" / "annotations" / "batch-02.csv"
    batch.write_bytes(batch.read_bytes() + b"digit-0001,new.hire@labelco.example,7,,2,1.0\n")
    sh(team, "dvc", "add", "-q", "data/raw")
    sh(team, "git", "commit", "-qam", "data: the team's own")
    store = tmp_path / "store"
    sh(team, "dvc", "push", "-q", "-r", "local", "data/raw.dvc")  # into its .dvc-remote
    shutil.move(team / ".dvc-remote", store)
    make = ["make", "-o", ".venv/.synced", "data/raw"]  # this environment, not a new one

    def clone(name: str) -> Path:
        path = tmp_path / name
        sh(tmp_path, "git", "clone", "-q", str(team), str(path))
        return path

    # Without the data in reach: an error that says what to do, and nothing changed.
    alone = clone("alone")
    result = sh(alone, *make, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "data/raw.dvc records your team's data and dvc pull could not get it" in result.stderr
    assert "'Sharing data: remotes'" in result.stderr and "never pushed" in result.stderr
    assert not (alone / "data" / "raw").exists()
    assert sh(alone, "git", "status", "--porcelain").stdout == ""
    # With the remote in reach (its credentials set up): the team's data, pulled.
    pulled = clone("pulled")
    sh(pulled, "dvc", "remote", "modify", "--local", "local", "url", str(store))
    sh(pulled, *make)
    assert (pulled / "data" / "raw" / "annotations" / "batch-02.csv").read_bytes() == (
        batch.read_bytes()
    )
    assert sh(pulled, "git", "status", "--porcelain").stdout == ""
