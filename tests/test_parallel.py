"""train.parallel: the same model from this machine's processes or a Dask cluster.

The cluster is a `distributed` LocalCluster on loopback (threads in this process, TCP between
client, scheduler and workers, so every task is pickled as on a real cluster), started once for
the module and stopped at its end.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from stages.cli import main
from stages.core.errors import DataError
from stages.core.params import validated
from stages.training import parallel
from tests.conftest import LABELS
from tests.helpers import DEMO_PARAMS, DEMO_SUITE, error_message, labelling_config

FOREST = {
    "model": "random_forest",
    "random_forest": {"n_estimators": 8, "max_depth": None, "min_samples_leaf": 1},
    "grid": {"min_samples_leaf": [1, 3]},  # 2 candidates x 3 folds, then 3 out-of-fold fits
    "label_issues": {"enabled": True, "folds": 3, "max_tasks": 5},
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Validated items and merged labels for train: 90 items, 3 annotators, through the CLI."""
    root = tmp_path_factory.mktemp("delivery")
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 90)
    features = rng.normal(size=(90, 3)) + truth[:, None] * 1.5
    raw = root / "data/raw"
    (raw / "annotations").mkdir(parents=True)
    ids = [f"it-{i:03d}" for i in range(90)]
    pd.DataFrame({"item_id": ids, **{f"f{j}": features[:, j] for j in range(3)}}).to_csv(
        raw / "items.csv", index=False
    )
    rows = [
        (item, annotator, LABELS[label if rng.random() < skill else rng.integers(0, 3)])
        for item, label in zip(ids, truth, strict=True)
        for annotator, skill in (("a", 0.95), ("b", 0.85), ("c", 0.7))
    ]
    pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"]).to_csv(
        raw / "annotations/batch.csv", index=False
    )
    params = yaml.safe_load(DEMO_PARAMS.read_text())
    params["data"]["labels"] = LABELS
    params["validate"] = {"suite": str(DEMO_SUITE)}
    params["label_merge"]["relabel"]["config"] = labelling_config(root, LABELS)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    for args in (
        ["prepare", "--raw", raw, "--out", root / "data/prepared", "--report", root / "reports/prepare.json"],
        ["validate", "--prepared", root / "data/prepared", "--validated", root / "data/validated",
         "--quarantine", root / "data/quarantine", "--reports", root / "reports/validation",
         "--no-docs"],
        ["label-merge", "--validated", root / "data/validated", "--labels-file",
         root / "data/labels/labels.parquet", "--reports", root / "reports",
         "--relabel", root / "data/relabel/tasks.json"],
    ):  # fmt: skip
        metrics = ["--metrics", str(root / "metrics" / f"{args[0]}.json")]
        result = CliRunner().invoke(
            main, [*map(str, args), *metrics, "--params", str(root / "params.yaml")]
        )
        assert result.exit_code == 0, (args[0], result.output)
    return root


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A scheduler and two one-thread workers on 127.0.0.1, with a client that watches them."""
    from distributed import Client, LocalCluster

    # processes=False starts in well under a second (no worker processes to spawn); TCP keeps
    # the pickling between client and workers that a real cluster has.
    with (
        LocalCluster(
            host="127.0.0.1",
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            scheduler_port=0,
            dashboard_address="127.0.0.1:0",  # no fixed port to collide with
        ) as local,
        Client(local, set_as_default=False) as observer,
    ):
        yield local, observer


def _train(inputs: Path, out: Path, **overrides: Any) -> Any:
    params = yaml.safe_load((inputs / "params.yaml").read_text())
    params["train"].update(overrides)
    out.mkdir(parents=True, exist_ok=True)
    (out / "params.yaml").write_text(yaml.safe_dump(params))
    return CliRunner().invoke(
        main,
        ["train", "--validated", str(inputs / "data/validated"),
         "--labels-file", str(inputs / "data/labels/labels.parquet"), "--out", str(out / "models"),
         "--issues", str(out / "label_issues.csv"), "--issue-tasks", str(out / "label_issues.json"),
         "--metrics", str(out / "metrics.json"), "--params", str(out / "params.yaml"),
         "--relabel", str(inputs / "data/relabel/tasks.json")],
    )  # fmt: skip


def _outputs(out: Path) -> dict[str, bytes]:
    names = ("models/model.skops", "models/train.json", "label_issues.csv", "label_issues.json")
    return {name: (out / name).read_bytes() for name in names}


def _calls(tasks: list[dict[str, Any]]) -> Counter[str]:
    """Function calls per function name in a task stream (joblib names a task by its batch)."""
    calls: Counter[str] = Counter()
    for task in tasks:
        found = re.match(r"batch_of_(\w+?)_(\d+)_calls-", str(task["key"]))
        if found:
            calls[found.group(1)] += int(found.group(2))
    return calls


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


@pytest.fixture(scope="module")
def local_run(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The outputs of the forest with its grid, trained in this process (n_jobs 1)."""
    out = tmp_path_factory.mktemp("local")
    result = _train(inputs, out, **FOREST, parallel={"n_jobs": 1, "scheduler": None})
    assert result.exit_code == 0, result.output
    assert json.loads((out / "models/train.json").read_text())["best_params"]
    return _outputs(out)


def test_training_on_a_dask_cluster_gives_the_same_model(inputs, cluster, local_run, tmp_path):
    from distributed import get_task_stream

    local, observer = cluster
    with get_task_stream(client=observer) as stream:
        result = _train(
            inputs,
            tmp_path,
            **FOREST,
            parallel={"n_jobs": 1, "scheduler": local.scheduler_address, "timeout": 5},
        )
    assert result.exit_code == 0, result.output
    # Every fit of the grid (2 candidates x 3 folds) and of the out-of-fold predictions (3 folds)
    # ran on the cluster's workers; the kept model was fitted here.
    calls = _calls(stream.data)
    assert (calls["_fit_and_score"], calls["_fit_and_predict"]) == (6, 3), calls
    assert {task["worker"] for task in stream.data} <= set(local.scheduler.workers)
    assert _outputs(tmp_path) == local_run  # model bytes, scores, label issues: all the same


def test_the_environment_variable_overrides_params(
    inputs, cluster, local_run, tmp_path, monkeypatch
):
    from distributed import get_task_stream

    local, observer = cluster
    monkeypatch.setenv(parallel.SCHEDULER_ENV, local.scheduler_address)
    with get_task_stream(client=observer) as stream:
        result = _train(inputs, tmp_path, **FOREST, parallel={"scheduler": None, "timeout": 5})
    assert result.exit_code == 0, result.output
    assert _calls(stream.data)["_fit_and_score"] == 6
    assert _outputs(tmp_path) == local_run


def test_local_processes_give_the_same_model(inputs, local_run, tmp_path):
    result = _train(inputs, tmp_path, **FOREST, parallel={"n_jobs": 2, "scheduler": None})
    assert result.exit_code == 0, result.output
    assert _outputs(tmp_path) == local_run


def test_an_unreachable_scheduler_is_one_message_and_exit_2(inputs, tmp_path):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    params = yaml.safe_load((inputs / "params.yaml").read_text())
    params["train"]["parallel"] = {"n_jobs": 1, "scheduler": address, "timeout": 1}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    start = time.monotonic()
    # A real process: distributed's own logging must not reach the terminal either.
    done = subprocess.run(
        [sys.executable, "-m", "stages", "train", "--validated", str(inputs / "data/validated"),
         "--labels-file", str(inputs / "data/labels/labels.parquet"), "--out", str(tmp_path / "models"),
         "--params", str(tmp_path / "params.yaml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {tmp_path / 'params.yaml'}:"), done.stderr
    message = error_message(done.stderr)  # the only output
    assert message.startswith(f"error: {tmp_path / 'params.yaml'}: train.parallel.scheduler: ")
    assert f"cannot reach the Dask scheduler at {address}" in message
    assert "train.parallel.scheduler: null" in message  # what to do next
    assert not (tmp_path / "models").exists()
    assert elapsed < 45, (
        elapsed
    )  # 1 s of connecting; the rest is Python starting (slow when loaded)


def test_an_unreachable_scheduler_from_the_environment_names_the_variable(
    inputs, tmp_path, monkeypatch
):
    monkeypatch.setenv(parallel.SCHEDULER_ENV, f"tcp://127.0.0.1:{_closed_port()}")
    result = _train(inputs, tmp_path, parallel={"timeout": 0.5})
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    message = error_message(result.output)
    assert f"train.parallel.scheduler (from {parallel.SCHEDULER_ENV}): cannot reach" in message
    assert f"unset {parallel.SCHEDULER_ENV}" in message


def test_a_scheduler_without_workers_is_a_clear_error(inputs, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(
        host="127.0.0.1",
        n_workers=0,
        processes=False,
        protocol="tcp",
        scheduler_port=0,
        dashboard_address="127.0.0.1:0",  # no fixed port to collide with
    ) as empty:
        result = _train(
            inputs, tmp_path, parallel={"scheduler": empty.scheduler_address, "timeout": 0.5}
        )
    assert result.exit_code == 2
    assert f"the Dask scheduler at {empty.scheduler_address} has no workers" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("address", ["localhost", "nonsense://10.0.0.5:8786", "tcp://h:87x"])
def test_a_malformed_address_fails_at_once(inputs, tmp_path, address):
    start = time.monotonic()
    result = _train(inputs, tmp_path, parallel={"scheduler": address, "timeout": 30})
    assert result.exit_code == 2
    assert f"train.parallel.scheduler: {address!r} is not a Dask address" in result.output
    assert time.monotonic() - start < 15  # not the 30 s timeout: no connection was attempted


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"n_jobs": 0}, "train.parallel.n_jobs"),
        ({"n_jobs": -5}, "train.parallel.n_jobs"),  # train had its own, looser rule
        ({"n_jobs": "four"}, "train.parallel.n_jobs"),
        ({"timeout": -1}, "train.parallel.timeout"),
        ({"scheduler": 8786}, "train.parallel.scheduler"),
        ({"workers": 4}, "train.parallel.workers"),
    ],
)
def test_bad_settings_are_params_errors(options, key):
    """One rule for the settings, the params schema's, checked before train does anything."""
    with pytest.raises(DataError) as raised:
        validated({"train": {"parallel": options}}, "params.yaml")
    assert raised.value.path == "params.yaml" and raised.value.record == key


def test_a_blank_scheduler_is_named():
    with pytest.raises(DataError) as raised:
        parallel.settings({"scheduler": " "}, "params.yaml", environ={})
    assert raised.value.record == "train.parallel.scheduler"


def test_settings_defaults_and_the_override():
    assert parallel.settings(None, "params.yaml", environ={}) == parallel.Settings()
    chosen = parallel.settings(
        {"n_jobs": -1, "scheduler": "tcp://a:1"},
        "params.yaml",
        environ={parallel.SCHEDULER_ENV: " tcp://b:2 "},
    )
    assert (chosen.n_jobs, chosen.scheduler, chosen.from_env) == (-1, "tcp://b:2", True)
    blank = parallel.settings({"scheduler": "tcp://a:1"}, "p", {parallel.SCHEDULER_ENV: ""})
    assert (blank.scheduler, blank.from_env) == ("tcp://a:1", False)


def test_workers_with_other_library_versions_are_named():
    here = {"python": "3.11.7.final.0", "scikit-learn": "1.9.1", "numpy": "2.4.6"}
    versions = {
        "client": {"packages": here},
        "workers": {
            "tcp://w1:1": {"packages": {**here, "python": "3.11.9.final.0"}},
            "tcp://w2:1": {"packages": {**here, "scikit-learn": "1.8.0"}},
        },
    }
    assert parallel.version_mismatches(versions) == ["scikit-learn 1.8.0 on tcp://w2:1, 1.9.1 here"]
