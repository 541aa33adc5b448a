"""End to end: a team with text items runs the template by editing params and data only."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
import yaml

from tests.helpers import copy_template, ran_stages, sh, text_project_params

pytestmark = pytest.mark.e2e
STAGES = ["prepare", "validate", "label-merge", "train", "evaluate"]


def test_a_text_dataset_runs_through_the_pipeline_by_params_alone(tmp_path):
    """A team with text data edits params and data only: no code changes."""
    import numpy as np

    root = copy_template(tmp_path / "text-project")
    rng = np.random.default_rng(7)
    words = {
        "pos": ["great", "lovely", "excellent", "superb"],
        "neg": ["awful", "broken", "poor", "dreadful"],
    }
    truth = rng.choice(["pos", "neg"], 150)
    raw = root / "data" / "raw"
    (raw / "annotations").mkdir(parents=True)
    texts = [
        f"The product was {rng.choice(words[t])}, {rng.choice(['honestly', 'overall', 'really'])}."
        for t in truth
    ]
    pd.DataFrame({"item_id": [f"r{n:03d}" for n in range(150)], "text": texts}).to_csv(
        raw / "items.csv", index=False
    )
    rows = []
    for n, label in enumerate(truth):
        for annotator, accuracy in (("ann", 0.95), ("bo", 0.9), ("cy", 0.8)):
            said = label if rng.random() < accuracy else ("neg" if label == "pos" else "pos")
            rows.append((f"r{n:03d}", annotator, said.upper()))
    pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"]).to_csv(
        raw / "annotations" / "week-1.csv", index=False
    )
    params = text_project_params(root, ["neg", "pos"])
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(root, "dvc", "add", "-q", "data/raw")
    result = sh(root, "dvc", "repro")
    assert ran_stages(result.stdout) == STAGES
    metrics = json.loads((root / "reports" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.8
    assert set(metrics["test"]["per_class"]) == {"neg", "pos"}
    tasks = json.loads((root / "data" / "relabel" / "tasks.json").read_text())
    assert tasks and all("text" in task["data"] for task in tasks)
    from label_studio_sdk.label_interface import LabelInterface

    config = LabelInterface((root / "labelling" / "config.xml").read_text())
    for task in tasks:  # Label Studio's own check: the pre-annotations will show
        for prediction in task.get("predictions", []):
            assert config.validate_prediction(prediction, return_errors=True) == []
            assert prediction["result"][0]["value"]["choices"][0] in ("Neg", "Pos")
    # Text models used to carry a memory address (TfidfVectorizer._stop_words_id), so their
    # bytes changed on every run: the commit must reproduce, byte for byte, by check-repro.
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-qm", "a text project")
    check = sh(root, sys.executable, "-m", "stages", "check-repro", check=False)
    assert check.returncode == 0, check.stderr
    assert "reproduces" in check.stderr
