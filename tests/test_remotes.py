"""Sharing data the way teams do: the local default remote, an S3 remote, dataset versions."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from tests.helpers import ran_stages, sh

pytestmark = pytest.mark.e2e


def _lock_outputs(root: Path) -> list[str]:
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return [out["path"] for stage in lock["stages"].values() for out in stage.get("outs", [])]


def _remove_outputs_and_cache(root: Path) -> None:
    shutil.rmtree(root / ".dvc" / "cache")
    for output in [*_lock_outputs(root), "data/raw"]:
        path = root / output
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    sh(root, "git", "checkout", "--", ".")  # metrics and plots live in Git: a clone has them


def test_local_default_remote_round_trip(project):
    sh(project, "dvc", "push", "-q")
    _remove_outputs_and_cache(project)
    assert sh(project, "dvc", "status", "-q", check=False).returncode != 0
    sh(project, "dvc", "pull", "-q")
    assert sh(project, "dvc", "status", "-q", check=False).returncode == 0
    assert ran_stages(sh(project, "dvc", "repro").stdout) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_registered_model_version_is_fetched_by_name_from_another_folder(project, tmp_path):
    """dvc.yaml's artifacts: a Git tag in GTO's form registers a version; another project
    gets the model and the merged labels by name, from the remote, as they were committed."""
    sh(project, "dvc", "push", "-q")
    sh(project, "git", "tag", "-a", "classifier@v1.0.0", "-m", "the first model")
    sh(project, "git", "tag", "-a", "merged-labels@v1.0.0", "-m", "the first labels")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sh(elsewhere, "dvc", "artifacts", "get", str(project), "classifier", "-o", "model.skops")
    assert (elsewhere / "model.skops").read_bytes() == (project / "models/model.skops").read_bytes()
    sh(elsewhere, "dvc", "artifacts", "get", str(project), "merged-labels", "--rev", "v1.0.0")

    def files(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in folder.rglob("*") if p.is_file()}  # fmt: skip

    assert files(elsewhere / "labels") == files(project / "data/labels") != {}


@pytest.fixture
def s3_endpoint():
    """A real S3-protocol server (moto) on loopback, with one bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="team-data")
    yield endpoint
    server.stop()


KEYS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_s3_remote_push_from_one_clone_pull_into_another(project, s3_endpoint, tmp_path):
    """The README's layout: where in the committed .dvc/config, who in the environment."""
    sh(project, "git", "tag", "before-the-remote")
    sh(project, "dvc", "remote", "add", "-d", "team", "s3://team-data/dvc-store")
    sh(project, "dvc", "remote", "modify", "team", "endpointurl", s3_endpoint)
    sh(project, "git", "add", ".dvc/config")
    sh(project, "git", "commit", "-qm", "DVC remote: team S3")
    sh(project, "dvc", "push", "-q", env=KEYS)
    assert sh(project, "git", "status", "--porcelain").stdout == ""  # nothing secret to commit
    assert "test" not in (project / ".dvc" / "config").read_text()
    other = tmp_path / "other"
    sh(tmp_path, "git", "clone", "-q", str(project), str(other))
    sh(other, "dvc", "pull", "-q", env=KEYS)
    assert sh(other, "dvc", "status", "-q", check=False).returncode == 0
    assert ran_stages(sh(other, "dvc", "repro").stdout) == []
    # A version from before the remote was added still checks out (a `team` section in
    # .dvc/config.local holding only keys would make its config invalid: "expected 'url'").
    sh(other, "git", "checkout", "-q", "before-the-remote")
    sh(other, "dvc", "checkout", "-q", env=KEYS)
    assert sh(other, "dvc", "status", "-q", check=False).returncode == 0


OLD_NOTES = "a version whose data is not the latest one\n"


def test_versions_from_before_the_team_remote_reach_it_and_come_back(
    project, s3_endpoint, tmp_path
):
    """The README's recipe: older commits name the template's per-clone `local` remote, so each
    clone points that name at the team's storage in its own config; then `dvc push
    --all-commits` sends every version there and a fresh clone pulls an old one."""
    notes = project / "data" / "raw" / "notes.txt"
    notes.write_text(OLD_NOTES)
    sh(project, "dvc", "add", "-q", "data/raw")
    sh(project, "git", "commit", "-qam", "data: notes")
    sh(project, "git", "tag", "data-old")
    notes.unlink()
    sh(project, "dvc", "add", "-q", "data/raw")
    sh(project, "dvc", "remote", "add", "-d", "team", "s3://team-data/dvc-store")
    sh(project, "dvc", "remote", "modify", "team", "endpointurl", s3_endpoint)
    sh(project, "git", "commit", "-qam", "data: no notes; DVC remote: team S3")
    recipe = [
        ("dvc", "remote", "modify", "--local", "local", "url", "s3://team-data/dvc-store"),
        ("dvc", "remote", "modify", "--local", "local", "endpointurl", s3_endpoint),
    ]
    for command in recipe:
        sh(project, *command)
    sh(project, "dvc", "push", "-q", "--all-commits", env=KEYS)
    other = tmp_path / "other"
    sh(tmp_path, "git", "clone", "-q", str(project), str(other))
    for command in recipe:
        sh(other, *command)
    sh(other, "git", "checkout", "-q", "data-old")
    sh(other, "dvc", "pull", "-q", "data/raw.dvc", env=KEYS)
    assert (other / "data" / "raw" / "notes.txt").read_text() == OLD_NOTES


def test_weekly_dataset_version_routine(project):
    sh(project, "git", "tag", "data-v1")
    recorded = {
        out["path"]: out["md5"]
        for stage in yaml.safe_load((project / "dvc.lock").read_text())["stages"].values()
        for out in stage.get("outs", [])
    }
    # A new batch arrives: a second opinion on 200 items from a new annotator.
    rows = ["item_id,annotator_id,label,created_at"]
    import pandas as pd

    merged = pd.read_parquet(project / "data" / "labels" / "labels.parquet").head(200)
    rows += [
        f"{r.item_id},new.hire@labelco.example,{r.label},2026-10-05T09:00:00Z"
        for r in merged.itertuples()
    ]
    (project / "data" / "raw" / "annotations" / "batch-05.csv").write_text("\n".join(rows) + "\n")
    sh(project, "dvc", "add", "-q", "data/raw")
    result = sh(project, "dvc", "repro")
    assert ran_stages(result.stdout)[:3] == ["prepare", "validate", "label-merge"]
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-q", "-m", "data: batch 5")
    sh(project, "git", "tag", "data-v2")
    diff = json.loads(sh(project, "dvc", "metrics", "diff", "data-v1", "--json").stdout)
    assert diff["metrics/prepare.json"]["judgments"]["diff"] == 200
    assert "metrics/evaluate.json" in diff or ran_stages(result.stdout)[-1] != "evaluate"
    # Back to the previous version: dataset, labels and model exactly as recorded then.
    sh(project, "git", "checkout", "-q", "data-v1")
    sh(project, "dvc", "checkout", "-q", "--force")
    assert sh(project, "dvc", "status", "-q", check=False).returncode == 0
    assert not (project / "data" / "raw" / "annotations" / "batch-05.csv").exists()
    import hashlib

    for path, md5 in recorded.items():  # the files themselves, not only the lock, are as then
        if not md5.endswith(".dir"):
            assert hashlib.md5((project / path).read_bytes()).hexdigest() == md5, path
