"""Each stage through its Click command on a small delivery in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from stages.cli import main
from tests.conftest import LABELS, PROJECT_ROOT
from tests.helpers import DEMO_PARAMS, DEMO_SUITE, error_message, labelling_config


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A tiny delivery: 60 items, 2 features, 3 annotators (one careless), Label Studio + CSV."""
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 60)
    raw = tmp_path / "data" / "raw"
    (raw / "annotations").mkdir(parents=True)
    features = rng.normal(size=(60, 2)) + truth[:, None] * 2.0
    items = pd.DataFrame(
        {"item_id": [f"it-{i:03d}" for i in range(60)], "f1": features[:, 0], "f2": features[:, 1]}
    )
    items.to_csv(raw / "items.csv", index=False)
    rows = []
    for i, label in enumerate(truth):
        for annotator, accuracy in (("ann-a", 0.95), ("ann-b", 0.9), ("ann-c", 0.5)):
            said = label if rng.random() < accuracy else rng.integers(0, 3)
            rows.append((f"it-{i:03d}", annotator, LABELS[said].upper()))
    pd.DataFrame(rows[:90], columns=["item_id", "annotator_id", "label"]).to_csv(
        raw / "annotations" / "a.csv", index=False
    )
    tasks = {}
    for item, annotator, label in rows[90:]:
        task = tasks.setdefault(
            item, {"id": len(tasks) + 1, "data": {"item_id": item}, "annotations": []}
        )
        task["annotations"].append(
            {
                "completed_by": {"id": 1, "email": annotator},
                "was_cancelled": False,
                "result": [{"type": "choices", "value": {"choices": [label]}, "from_name": "c"}],
            }
        )
    (raw / "annotations" / "b.json").write_text(json.dumps(list(tasks.values())))
    pd.DataFrame(
        {"item_id": ["it-000", "it-001"], "label": [LABELS[truth[0]], LABELS[truth[1]]]}
    ).to_csv(raw / "gold.csv", index=False)
    params = yaml.safe_load(DEMO_PARAMS.read_text())
    params["data"]["labels"] = LABELS
    params["validate"] = {"suite": str(DEMO_SUITE)}
    params["label_merge"]["relabel"]["config"] = labelling_config(tmp_path, LABELS)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


def _run(project: Path, *args: str) -> object:
    """A stage on the project's paths; its metrics file too, never the template's own."""
    metrics = ["--metrics", str(project / "metrics" / f"{args[0]}.json")]
    options = metrics if args[0] in PIPELINE_STAGES else []
    if args[0] == "train":  # label-merge's tasks, in this project
        options += ["--relabel", str(project / "data/relabel/tasks.json")]
    return CliRunner().invoke(main, [*args, *options, "--params", str(project / "params.yaml")])


PIPELINE_STAGES = ("prepare", "validate", "label-merge", "train", "evaluate")


def _paths(project: Path) -> dict[str, str]:
    return {
        "raw": str(project / "data/raw"),
        "prepared": str(project / "data/prepared"),
        "validated": str(project / "data/validated"),
        "quarantine": str(project / "data/quarantine"),
        "labels": str(project / "data/labels/labels.parquet"),
        "models": str(project / "models"),
        "reports": str(project / "reports"),
        "relabel": str(project / "data/relabel/tasks.json"),
        "relabel_issues": str(project / "data/relabel/label_issues.json"),
    }


def _prepare_args(p: dict[str, str]) -> list[str]:
    return [
        "prepare",
        "--raw",
        p["raw"],
        "--out",
        p["prepared"],
        "--report",
        p["reports"] + "/prepare.json",
    ]


def _validate_args(p: dict[str, str]) -> list[str]:
    return ["validate", "--prepared", p["prepared"], "--validated", p["validated"],
            "--quarantine", p["quarantine"], "--reports", p["reports"] + "/validation", "--no-docs"]  # fmt: skip


def _pipeline(project: Path) -> None:
    p = _paths(project)
    for args in (
        _prepare_args(p),
        _validate_args(p),
        ["label-merge", "--validated", p["validated"], "--labels-file", p["labels"],
         "--reports", p["reports"], "--relabel", p["relabel"]],
        ["train", "--validated", p["validated"], "--labels-file", p["labels"], "--out", p["models"],
         "--issues", p["reports"] + "/label_issues.csv", "--issue-tasks", p["relabel_issues"]],
        ["evaluate", "--validated", p["validated"], "--labels-file", p["labels"],
         "--model", p["models"], "--reports", p["reports"], "--data-version", p["raw"] + ".dvc"],
    ):  # fmt: skip
        result = _run(project, *args)
        assert result.exit_code == 0, (args[0], result.output)


def test_whole_pipeline_through_the_commands(project):
    _pipeline(project)
    items = pd.read_parquet(project / "data/prepared/items.parquet")
    assert list(items.columns) == ["item_id", "f1", "f2", "split"]
    annotations = pd.read_parquet(project / "data/prepared/annotations.parquet")
    assert len(annotations) == 180 and set(annotations["label"]) <= set(LABELS)
    labels = pd.read_parquet(project / "data/labels/labels.parquet")
    assert len(labels) == 60 and labels["is_gold"].sum() == 2
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.6
    assert set(metrics["test"]["per_class"]) == set(LABELS)
    confusion = pd.read_csv(project / "reports/plots/confusion.csv")
    assert list(confusion.columns) == [
        "item_id", "actual", "predicted", "actual_order", "predicted_order"
    ]  # fmt: skip
    report = (project / "reports/evaluation.md").read_text()
    assert report.startswith("# Evaluation\n\nModel `logistic_regression` (C ")  # what it is
    assert "labels merged by ensemble, data version `data/raw.dvc` md5 `" in report
    summary = json.loads((project / "reports/label_merge.json").read_text())
    assert summary["method"] == "ensemble" and summary["annotations"] == 180
    assert "auto needs at least 20" in summary["auto"]["reason"]  # two gold items decide nothing
    headline = json.loads((project / "metrics/evaluate.json").read_text())
    assert set(headline) == {"accuracy", "macro_f1", "log_loss", "ece"}
    assert headline["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    # The two relabel files share no item: both import into one Label Studio project.
    merge_tasks, issue_tasks = (
        {task["data"]["item_id"] for task in json.loads((project / path).read_text())}
        for path in ("data/relabel/tasks.json", "data/relabel/label_issues.json")
    )
    assert merge_tasks and not merge_tasks & issue_tasks
    assert "<svg" in (project / "reports/report.html").read_text()


def test_outputs_are_byte_identical_across_runs(project):
    _pipeline(project)
    outputs = [
        "data/prepared/items.parquet",
        "data/prepared/annotations.parquet",
        "data/labels/labels.parquet",
        "models/model.skops",
        "reports/metrics.json",
        "reports/validation/summary.json",
    ]
    first = {name: (project / name).read_bytes() for name in outputs}
    _pipeline(project)
    for name in outputs:
        assert (project / name).read_bytes() == first[name], name


def test_validate_stops_on_labels_outside_the_label_set(project):
    batch = project / "data/raw/annotations/a.csv"
    batch.write_text(batch.read_text() + "it-001,ann-z,horse\n")
    p = _paths(project)
    assert _run(project, *_prepare_args(p)).exit_code == 0
    summary_file = project / "reports/validation/summary.json"
    result = _run(project, *_validate_args(p))
    assert result.exit_code == 2
    assert "critical: annotations.label: label_in_label_set" in result.output
    assert "'horse'" in result.output
    summary = json.loads(summary_file.read_text())
    assert summary["success"] is False
    assert summary["tables"]["annotations"]["checks"]["label_in_label_set"]["unexpected"] == 1


def test_prepare_reports_a_broken_batch_with_exit_2(project):
    (project / "data/raw/annotations/c.json").write_text('[{"id": 5, "data": {}, "annotations": [')
    p = _paths(project)
    result = _run(project, *_prepare_args(p))
    assert result.exit_code == 2
    assert result.output.startswith("error: ")
    assert "c.json: line 1: invalid JSON" in error_message(result.output)
    assert not (project / "data/prepared").exists()


def test_unknown_model_is_a_params_error(project):
    _pipeline(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["model"] = "magic_forest"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    p = _paths(project)
    result = _run(
        project,
        "train",
        "--validated",
        p["validated"],
        "--labels-file",
        p["labels"],
        "--out",
        p["models"],
    )
    assert result.exit_code == 2
    assert "train.model: must be one of logistic_regression" in result.output
    assert "got 'magic_forest'" in result.output


@pytest.mark.parametrize(
    ("train", "message"),
    [({"features": {"numeric": "auto", "categorical": ["colour"]}},
      "train.features.categorical: not in the items table: colour; name a column of your "
      "items (it has 2: f1, f2)"),
     # A column of numbers as text: AttributeError 'int' object has no attribute 'lower' before
     ({"features": {"numeric": "auto", "text": ["f2"]}},
      "train.features.text: f2 holds numbers, not text: list it under numeric or categorical"),
     ({"grid": {"n_estimators": [10, 20]}},
      "train.grid.n_estimators: not a hyperparameter of logistic_regression; it takes C, "),
     ({"model": "linear_svm", "grid": {"C": [0.1, 1.0], "depth": [2]}},
      "train.grid.depth: not a hyperparameter of linear_svm; it takes "),
     # What only the data decides: scikit-learn's reason, blamed on no one key
     ({"grid": {"C": [0.1, 1.0]}, "cv_folds": 500},
      "train: scikit-learn refused the settings: Cannot have number of splits n_splits=500")],
)  # fmt: skip
def test_params_that_do_not_fit_the_data_or_model_name_their_key(project, train, message):
    _pipeline(project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"].update(train)
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    p = _paths(project)
    args = ["--validated", p["validated"], "--labels-file", p["labels"], "--out", p["models"]]
    result = _run(project, "train", *args)
    assert result.exit_code == 2, result.output
    assert message in error_message(result.output)


def test_a_fault_of_ours_in_train_is_not_blamed_on_the_settings(project, monkeypatch):
    """Only what scikit-learn refuses is the settings' fault (exit 2, above); a ValueError from
    the project's own code stays an internal error (exit 1) instead of a params message."""
    from stages.training import run

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("cannot reindex on an axis with duplicate labels")

    _pipeline(project)
    monkeypatch.setattr(run, "train_model", broken)
    p = _paths(project)
    args = ["--validated", p["validated"], "--labels-file", p["labels"], "--out", p["models"]]
    result = _run(project, "train", *args)
    assert result.exit_code == 1 and "internal error" in result.output, result.output
    assert "refused the settings" not in result.output


def test_grid_search_picks_from_the_grid(project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["grid"] = {"C": [0.01, 1.0]}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    _pipeline(project)
    fitted = json.loads((project / "models/train.json").read_text())
    assert fitted["best_params"]["C"] in (0.01, 1.0)
    assert 0 < fitted["cv_score"] <= 1
    # The pages name the values the grid chose, not the params' default C.
    chosen = f"C {fitted['best_params']['C']} chosen by the grid"
    assert chosen in (project / "reports/evaluation.md").read_text()
    assert chosen in (project / "models/model_card.md").read_text()


@pytest.mark.parametrize("model", ["random_forest", "hist_gradient_boosting"])
def test_other_models_train(project, model):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["model"] = model
    params["train"][model] = {
        "random_forest": {"n_estimators": 10},
        "hist_gradient_boosting": {"max_iter": 10},
    }[model]
    params["train"]["label_issues"]["enabled"] = False  # not checked: no count, not 0
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    _pipeline(project)
    assert json.loads((project / "models/train.json").read_text())["model"] == model
    assert json.loads((project / "metrics" / "train.json").read_text()) == {"issues": None}


def test_label_merge_standalone_on_a_delivery_from_any_folder(project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no params.yaml here
    out = elsewhere / "merged"
    result = CliRunner().invoke(
        main,
        [
            "label-merge",
            "--annotations",
            str(project / "data/raw/annotations"),
            "--gold",
            str(project / "data/raw/gold.csv"),
            "--method",
            "majority_vote",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    labels = pd.read_csv(out / "labels.csv", dtype={"label": "string"})
    assert list(labels.columns)[:3] == ["item_id", "label", "confidence"]
    assert set(labels["label"]) <= {"CAT", "DOG", "BIRD"}  # the data's own label set, as written
    assert (labels["method"] == "majority_vote").all()
    assert {"labels.csv", "label_merge.json", "annotators.csv", "tasks.json"} <= {
        p.name for p in out.iterdir()
    }
    summary = json.loads((out / "label_merge.json").read_text())
    assert set(summary["agreement"]["batches"]) == {"a.csv", "b.json"}


def test_label_merge_standalone_inside_a_project_whose_config_reads_item_fields(
    project, monkeypatch
):
    """Standalone has no items table: where the project's config shows $image, Label Studio
    would refuse tasks without it, so none are written, and the run says why."""
    config = project / "config.xml"
    config.write_text(config.read_text().replace('value="$item_id"', 'value="$image"'))
    monkeypatch.chdir(project)  # params.yaml here names the config
    out = project / "merged"
    args = ["label-merge", "--annotations", "data/raw/annotations", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not (out / "tasks.json").exists() and (out / "labels.csv").exists()
    assert "warning: no tasks.json: the labelling config shows $image" in result.output
    assert "gold accuracy n/a (no gold items)" in result.output
    assert "no relabel tasks written" in result.output and "0 items to relabel" not in result.output
    assert json.loads((out / "label_merge.json").read_text())["relabel_tasks"] is None


def test_label_merge_standalone_with_a_given_label_set(project, tmp_path):
    out = tmp_path / "merged"
    result = CliRunner().invoke(
        main,
        [
            "label-merge",
            "--annotations",
            str(project / "data/raw/annotations/a.csv"),
            "--labels",
            "cat,dog,bird",
            "--out",
            str(out),
            "--params",
            str(tmp_path / "none.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out / "labels.csv")["label"]) <= set(LABELS)


def test_label_merge_standalone_joins_annotators_named_in_an_alias_table(project, tmp_path):
    aliases = tmp_path / "who.csv"
    aliases.write_text("raw_id,annotator_id\nann-c,carla@x.org\n")
    out = tmp_path / "merged"
    args = ["--annotations", str(project / "data/raw/annotations"), "--out", str(out)]
    args += ["--params", str(tmp_path / "none.yaml")]  # no params file: every default
    result = CliRunner().invoke(main, ["label-merge", *args, "--annotator-aliases", str(aliases)])
    assert result.exit_code == 0, result.output
    people = set(pd.read_csv(out / "annotators.csv")["annotator_id"])
    assert "carla@x.org" in people and "ann-c" not in people
    missing = ["--annotator-aliases", str(tmp_path / "absent.csv")]
    result = CliRunner().invoke(main, ["label-merge", *args, *missing])
    assert result.exit_code == 2 and "absent.csv" in result.output


def test_label_merge_standalone_maps_aliases_as_prepare_does(tmp_path):
    """An alias matches any spelling of itself and may name its label as a YAML number, as in
    prepare; errors name the --params file. Standalone had refused both deliveries below, and
    had named ``params.yaml`` for a file called ``p.yaml``."""
    batch = tmp_path / "b.csv"
    rows = [("i1", "a", "7"), ("i1", "b", "seven"), ("i2", "a", "8"), ("i2", "b", "Kitty")]
    batch.write_text(
        "item_id,annotator_id,label\n" + "".join(f"{r},{a},{lab}\n" for r, a, lab in rows)
    )
    params = tmp_path / "p.yaml"
    params.write_text(
        yaml.safe_dump(
            {"data": {"labels": ["7", "8", "cat"], "aliases": {"seven": 7, "kitty": "cat"}}}
        )
    )
    base = ["label-merge", "--annotations", str(batch), "--params", str(params)]
    for given in ([], ["--labels", "7,8,cat"]):
        out = tmp_path / f"merged{len(given)}"
        result = CliRunner().invoke(main, [*base, *given, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert set(pd.read_csv(out / "labels.csv", dtype=str)["label"]) <= {"7", "8", "cat"}
    params.write_text(
        yaml.safe_dump({"data": {"labels": None, "aliases": {"kitty": "cat", "Kitty": "dog"}}})
    )
    batch.write_text(batch.read_text() + "i3,a,dog\n")
    result = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "bad")])
    assert result.exit_code == 2 and str(params) in result.output, result.output
    assert "data.aliases.kitty" in result.output and "params.yaml" not in result.output


def test_label_merge_standalone_asks_for_the_label_set_when_the_data_has_hundreds(tmp_path):
    """8,000 labels read from a free-text column had taken 5 GB within seconds."""
    batch = tmp_path / "free_text.csv"
    rows = [f"i{n},a{n % 3},comment {n}" for n in range(600)]
    batch.write_text("item_id,annotator_id,label\n" + "\n".join(rows) + "\n")
    args = ["label-merge", "--annotations", str(batch), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, [*args, "--params", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2, result.output
    assert "600 distinct labels in the judgments" in " ".join(result.output.split())
    assert "--labels" in result.output


def test_label_merge_standalone_refuses_a_gold_file_that_is_not_there(project, tmp_path):
    """A mistyped --gold had been taken as no gold at all, and the run reported no gold items."""
    args = ["label-merge", "--annotations", str(project / "data/raw/annotations")]
    args += ["--gold", str(tmp_path / "golds.csv"), "--out", str(tmp_path / "merged")]
    result = CliRunner().invoke(main, args)
    assert (
        result.exit_code == 2 and "golds.csv" in result.output and "does not exist" in result.output
    )


def test_label_merge_standalone_needs_out(project):
    result = CliRunner().invoke(main, ["label-merge", "--annotations", str(project / "data/raw")])
    assert result.exit_code == 2 and "--out" in result.output


def test_label_merge_standalone_on_a_whole_delivery_says_what_to_pass(project, tmp_path):
    raw = project / "data/raw"
    args = ["label-merge", "--annotations", str(raw), "--out", str(tmp_path / "merged")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    expected = f"pass --annotations {raw / 'annotations'} --gold {raw / 'gold.csv'}"
    assert expected in " ".join(result.output.split())
    assert not (tmp_path / "merged").exists()


def test_a_warning_level_failure_lets_the_whole_pipeline_finish(project):
    """A warning is reported by validate, and label-merge, train and evaluate still run."""
    suite = project / "suite.yaml"
    suite.write_text(
        yaml.safe_dump(
            {
                "annotations": {
                    "expectations": [
                        {
                            "name": "only_cats_and_dogs",
                            "expect": "expect_column_values_to_be_in_set",
                            "column": "label",
                            "value_set": ["cat", "dog"],
                            "severity": "warning",
                        }
                    ]
                }
            }
        )
    )
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["validate"] = {"suite": str(suite)}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    p = _paths(project)
    _pipeline(project)  # every stage, validate included, exits 0
    warned = _run(project, *_validate_args(p))
    assert warned.exit_code == 0
    assert "warning: annotations.label: only_cats_and_dogs" in warned.output
    summary = json.loads((project / "reports/validation/summary.json").read_text())
    assert summary["failed_warning"] == 1 and summary["success"] is True
    assert json.loads((project / "reports/metrics.json").read_text())["test"]["items"] > 0


def test_a_stage_that_fails_late_writes_none_of_its_outputs(project):
    """train checks the relabel tasks, and evaluate draws every chart, before writing anything:
    a failure leaves the last run's outputs together, not a new model beside old tasks."""
    _pipeline(project)
    p = _paths(project)
    kept = {
        name: (project / name).read_bytes()
        for name in ("models/model.skops", "reports/label_issues.csv", "reports/metrics.json")
    }
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["logistic_regression"]["C"] = 0.05  # another model, were it written
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    config = Path(params["label_merge"]["relabel"]["config"])
    config.write_text(config.read_text().replace(f'<Choice value="{LABELS[-1].title()}"/>', ""))
    result = _run(project, "train", "--validated", p["validated"], "--labels-file", p["labels"],
                  "--out", p["models"], "--issues", p["reports"] + "/label_issues.csv",
                  "--issue-tasks", p["relabel_issues"])  # fmt: skip
    assert result.exit_code == 2 and "no <Choice>" in result.output, result.output
    broken = project / "templates"
    shutil.copytree(PROJECT_ROOT / ".dvc" / "plots", broken)
    (broken / "confusion.json").write_text("{")
    result = _run(project, "evaluate", "--validated", p["validated"], "--labels-file",
                  p["labels"], "--model", p["models"], "--reports", p["reports"],
                  "--data-version", p["raw"] + ".dvc", "--templates", str(broken))  # fmt: skip
    assert result.exit_code == 2 and "confusion.json" in result.output, result.output
    assert {name: (project / name).read_bytes() for name in kept} == kept
