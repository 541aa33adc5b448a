"""check-repro on real repositories: passes on a clean one, catches each kind of tampering."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_pipeline_e2e import sh

pytestmark = pytest.mark.e2e


def check(root: Path):
    return sh(root, sys.executable, "-m", "stages", "check-repro", check=False)


def test_a_clean_commit_reproduces(project):
    result = check(project)
    assert result.returncode == 0, result.stderr
    assert "reproduces byte for byte" in result.stderr


def test_a_changed_raw_file_is_caught(project):
    items = project / "data" / "raw" / "items.csv"
    items.write_text(items.read_text().replace("digit-0001,", "digit-0001-edited,", 1))
    result = check(project)
    assert result.returncode == 1
    assert "mismatch: data/raw.dvc: differs from dvc.lock" in result.stderr


def test_an_unseeded_model_is_caught(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["model"] = "random_forest"
    params["train"]["random_forest"] = {"n_estimators": 5, "random_state": None}  # nobody seeded it
    params["train"]["label_issues"]["enabled"] = False
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(project, "dvc", "repro", "-q")
    sh(project, "git", "commit", "-qam", "unseeded forest")
    result = check(project)
    assert result.returncode == 1
    assert "mismatch: models/model.skops: bytes differ" in result.stderr


def test_a_hand_edited_metric_is_caught_with_its_delta(project):
    metrics_file = project / "reports" / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    real = metrics["test"]["accuracy"]
    metrics["test"]["accuracy"] = 0.99
    metrics_file.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    sh(project, "dvc", "commit", "-f", "-q", "evaluate")
    sh(project, "git", "commit", "-qam", "better numbers")
    result = check(project)
    assert result.returncode == 1
    assert f"mismatch: reports/metrics.json: test.accuracy: 0.99 -> {real}" in result.stderr
    assert "delta" in result.stderr


def test_an_output_missing_from_cache_and_remote_is_caught(project):
    shutil.rmtree(project / ".dvc" / "cache")
    result = sh(project, sys.executable, "-m", "stages", "check-repro", "--skip-rerun", check=False)
    assert result.returncode == 1
    assert "in neither the DVC cache nor the remote" in result.stderr


def test_a_pipeline_killed_mid_run_recovers_on_the_next_repro(project):
    import signal
    import subprocess
    import time

    from tests.test_pipeline_e2e import _env

    process = subprocess.Popen(["dvc", "repro", "-f"], cwd=project, env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    time.sleep(6)  # somewhere in prepare, validate or label-merge
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    sh(project, "dvc", "repro", "-q")
    assert sh(project, "dvc", "status", "-q", check=False).returncode == 0
    assert sh(project, "git", "status", "--porcelain").stdout == ""  # same outputs as committed
