"""params.yaml is checked against one schema (stages/core/params.py) that holds every default."""

import shutil

import pytest
import yaml
from click.testing import CliRunner

from stages.cli import main
from stages.core.errors import DataError
from stages.core.params import SCHEMA, complete, typed, validated
from tests.conftest import PROJECT_ROOT
from tests.helpers import DEMO_CONFIG, DEMO_PARAMS, error_message


def test_the_template_params_are_valid_and_every_section_is_filled():
    raw = yaml.safe_load(DEMO_PARAMS.read_text())
    params = validated(raw, "params.yaml")
    assert (
        params["label_merge"]["relabel"]["from_name"] == raw["label_merge"]["relabel"]["from_name"]
    )
    assert set(params) == set(SCHEMA)
    assert validated({}, "p")["label_merge"]["method"] == "auto"  # defaults, once


@pytest.mark.parametrize(
    ("raw", "key", "reason"),
    [
        ({"train": {"modle": "x"}}, "train.modle", "did you mean 'model'? train takes: model, features"),
        ({"label_merge": {"max_iter": -5}}, "label_merge.max_iter", "an integer at least 1"),
        ({"prepare": {"test_size": "abc"}}, "prepare.test_size", "got 'abc'"),
        ({"seed": "abc"}, "seed", "must be an integer at least 0"),
        ({"data": {"aliases": ["x"]}}, "data.aliases", "must be a mapping"),
        # a section set to false or [] is not "every default": `-S train.label_issues=false`
        ({"train": {"label_issues": False}}, "train.label_issues", "must be a mapping, got False"),
        ({"label_merge": {"relabel": 0}}, "label_merge.relabel", "must be a mapping, got 0"),
        ({"train": {"scoring": "f1_macr"}}, "train.scoring", "one of f1_macro, f1_micro"),
        ({"train": {"features": {"numeric": ["a", "a"]}}}, "train.features.numeric",
         "distinct column names"),
        ({"train": {"label_issues": {"folds": 1}}}, "train.label_issues.folds", "at least 2"),
        ({"label_merge": {"relabel": {"max_tasks": -1}}}, "label_merge.relabel.max_tasks", "or null"),
        ({"label_merge": {"method": "best"}}, "label_merge.method", "one of auto, ensemble"),
        ({"train": {"model": "logistic_regresion"}}, "train.model",
         "got 'logistic_regresion' (did you mean 'logistic_regression'?)"),
        ({"seed": 10**30}, "seed", "at most 4294967295"),
        ({"train": {"grid": {"C": 5}}}, "train.grid", "to non-empty lists of values"),
        ({"train": {"grid": {"C": [[1, 2]]}}}, "train.grid", "to non-empty lists of values"),
        ({"data": {"labels": ["9", "8", 9]}}, "data.labels", "distinct, non-empty labels"),
        ({"data": {"labels": ["a", " "]}}, "data.labels", "distinct, non-empty labels"),
        ({"data": {"labels": ["positive"]}}, "data.labels", "two or more distinct"),
        # what prepare would refuse later, refused by `params --check` too
        ({"data": {"labels": ["pos", "Pos", "neg"]}}, "data.labels", "'pos' and 'Pos' are one label"),
        ({"data": {"labels": ["pos", "n\x1beg"]}}, "data.labels", "label 'n\\x1beg' holds '\\x1b', a control character"),
        ({"data": {"labels": ["pos", "neg"], "aliases": {"good": "nope"}}}, "data.aliases.good",
         "'nope' is not in data.labels"),
        ({"data": {"labels": ["pos", "neg"], "aliases": {"Pos": "neg"}}}, "data.aliases.Pos",
         "'Pos' is the label 'pos': an alias maps another spelling onto a label; remove it"),
        ({"data": {"labels": ["pos", "neg"], "aliases": {"good": "pos", "GOOD": "neg"}}},
         "data.aliases.GOOD", "'GOOD' and 'good' are one spelling mapped to two labels"),
        # beyond what compiled code takes (an overflow inside scikit-learn), or hours of work
        ({"train": {"linear_svm": {"max_iter": 10**20}}}, "train.linear_svm.max_iter", "at most 2147483647"),
        ({"train": {"linear_svm": {"calibration": "platt"}}}, "train.linear_svm.calibration",
         "one of temperature, sigmoid, isotonic"),
        ({"train": {"linear_svm": {"calibration_folds": 1}}}, "train.linear_svm.calibration_folds",
         "at least 2"),
        ({"train": {"random_forest": {"n_estimators": 10**6}}}, "train.random_forest.n_estimators",
         "must be an integer at least 1 and at most 10000, got 1000000"),
        ({"train": {"model": "random_forest", "grid": {"n_estimators": [100, 10**20]}}}, "train.grid.n_estimators",
         "each value must be an integer at least 1 and at most 10000, got 100000000000000000000"),
        # YAML's .inf and a number past a float's range (1e400 reads as inf) are no setting
        ({"label_merge": {"prior_strength": float("inf")}}, "label_merge.prior_strength",
         "must be a finite number at least 0.0, got inf"),
        ({"train": {"linear_svm": {"C": float("nan")}}}, "train.linear_svm.C", "finite number above 0.0"),
        ({"prepare": {"test_size": 10**400}}, "prepare.test_size", "finite number above 0.0"),
        ({"train": {"parallel": {"n_jobs": 5000}}}, "train.parallel.n_jobs",
         "an integer from 1 to 1024, or -1 for every core, got 5000"),
        ({"data": {"labels": ["pos", "neg"], "aliases": {None: "pos"}}}, "data.aliases",
         "an alias of 'pos' has no spelling (YAML reads ~, null or an empty key as none): quote it"),
    ],
)  # fmt: skip
def test_bad_params_name_the_file_the_key_and_what_is_expected(raw, key, reason):
    with pytest.raises(DataError) as caught:
        validated(raw, "params.yaml")
    assert caught.value.line().startswith(f"params.yaml: {key}: ")
    assert reason in caught.value.line()


def test_model_sections_pass_other_hyperparameters_through_to_scikit_learn():
    train = complete("train", {"random_forest": {"class_weight": "balanced"}})
    assert train["random_forest"] == {"class_weight": "balanced", "n_estimators": 200,
                                      "max_depth": None, "min_samples_leaf": 1}  # fmt: skip


def test_numbers_are_decimals_whichever_way_they_were_written():
    train = complete("train", {"logistic_regression": {"C": 1, "tol": 1}})
    assert type(train["logistic_regression"]["C"]) is float  # a number field: 1 -> 1.0
    assert type(train["logistic_regression"]["max_iter"]) is int  # an integer field stays
    assert type(train["logistic_regression"]["tol"]) is int  # scikit-learn's own key: as given
    assert type(typed("train.linear_svm.C", 2)) is float
    assert typed("train.linear_svm.tol", 2) == 2 and typed("train.linear_svm.C", "x") == "x"


def test_a_bad_param_stops_a_stage_with_exit_status_2_and_one_message(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("label_merge:\n  max_iter: -5\n")
    result = CliRunner().invoke(main, ["evaluate", "--params", str(params)])
    assert result.exit_code == 2
    assert error_message(result.output).endswith(
        "label_merge.max_iter: must be an integer at least 1 and at most 2147483647, got -5"
    )


def test_test_size_must_leave_both_splits_something():
    with pytest.raises(
        DataError, match=r"prepare\.test_size: must be a finite number above 0\.0 and below"
    ):
        validated({"prepare": {"test_size": 1.0}}, "params.yaml")


def test_the_committed_json_schema_is_the_one_the_code_exports():
    import json

    from stages.core.params import json_schema

    committed = json.loads((PROJECT_ROOT / "params.schema.json").read_text())
    assert committed == json_schema(), "run: python -m stages params --schema > params.schema.json"


def test_editors_and_the_stages_agree_on_what_is_valid():
    import jsonschema

    from stages.core.params import json_schema

    schema = json_schema()
    jsonschema.validate(yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text()), schema)
    for bad in ({"label_merge": {"max_iter": -5}}, {"train": {"modle": 1}},
                {"prepare": {"test_size": 1.0}}, {"train": {"parallel": {"n_jobs": 0}}},
                {"train": {"label_issues": False}}, {"train": {"features": []}}):  # fmt: skip
        with pytest.raises(DataError):
            validated(bad, "params.yaml")
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_params_check_suggests_the_key_that_was_meant(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  modle: random_forest\n")
    result = CliRunner().invoke(main, ["params", "--check", "--params", str(params)])
    assert result.exit_code == 2
    assert "train.modle: unknown key; did you mean 'model'?" in result.output
    good = CliRunner().invoke(
        main, ["params", "--check", "--params", str(PROJECT_ROOT / "params.yaml")]
    )
    assert good.exit_code == 0


def test_params_check_reads_the_labelling_config_as_label_merge_will(tmp_path, monkeypatch):
    """A label the config has no choice for stopped label-merge after prepare and validate had
    run; `params --check` had said valid."""
    monkeypatch.chdir(tmp_path)  # the config's path is the project's, relative to its root
    (tmp_path / "labelling").mkdir()
    shutil.copy(DEMO_CONFIG / "labelling" / "config.xml", tmp_path / "labelling")
    document = yaml.safe_load(DEMO_PARAMS.read_text())
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(document))
    assert CliRunner().invoke(main, ["params", "--check"]).exit_code == 0
    document["data"]["labels"].append("eleven")
    params.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["params", "--check"])
    assert result.exit_code == 2 and "labelling/config.xml" in result.output, result.output
    assert "no <Choice> for the label(s) 'eleven'" in result.output


@pytest.mark.parametrize(
    ("train", "message"),
    [({"random_forest": {"max_dept": 5}},  # a section of a model not chosen (yet)
      "train.random_forest.max_dept: not a hyperparameter of random_forest; did you mean "
      "'max_depth'? it takes bootstrap, "),
     ({"linear_svm": {"ensemble": False}},  # the calibrator's, not the SVM's, whose section it is
      "train.linear_svm.ensemble: not a hyperparameter of linear_svm; "),
     ({"grid": {"c": [1.0, 2.0]}},
      "train.grid.c: not a hyperparameter of logistic_regression; did you mean 'C'? it takes C, "),
     ({"grid": {"C": [1.0, 2.0]}, "scoring": "f1"},
      "train.scoring: f1 scores two classes and data.labels has 10: use one for many, such as "
      "f1_macro")],
)  # fmt: skip
def test_params_check_names_what_scikit_learn_would_refuse_mid_fit(tmp_path, train, message):
    params = tmp_path / "params.yaml"
    document = yaml.safe_load(DEMO_PARAMS.read_text())
    for key, value in train.items():
        section = document["train"].setdefault(key, {})
        document["train"][key] = {**section, **value} if isinstance(value, dict) else value
    params.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["params", "--check", "--params", str(params)])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()), result.output


def test_a_grid_may_name_a_calibrated_svms_hyperparameter_either_way(tmp_path):
    from stages.training.model_params import check_model_params

    document = yaml.safe_load(DEMO_PARAMS.read_text())
    document["train"]["model"] = "linear_svm"
    for key in ("C", "estimator__C"):  # ours, and scikit-learn's own name for it
        document["train"]["grid"] = {key: [0.1, 1.0]}
        check_model_params(validated(document, "params.yaml"))


def test_a_two_class_scorer_is_fine_without_a_grid_or_with_two_labels(tmp_path):
    from stages.training.model_params import check_model_params

    document = yaml.safe_load(DEMO_PARAMS.read_text())
    document["train"]["scoring"] = "f1"
    check_model_params(validated(document, "params.yaml"))  # no grid: nothing scores with it
    document["train"]["grid"] = {"C": [1.0, 2.0]}
    document["data"]["labels"] = ["neg", "pos"]
    check_model_params(validated(document, "params.yaml"))


def test_a_key_given_twice_is_refused_naming_its_line(tmp_path):
    """Plain YAML keeps the last silently: a `seed:` appended at the end would win unseen."""
    from stages.core.reading import load_params

    path = tmp_path / "params.yaml"
    path.write_text("seed: 1\ndata:\n  labels: [a, b]\nbase: &base {C: 1.0}\nseed: 7\n")
    with pytest.raises(DataError) as caught:
        load_params(path)
    assert caught.value.line() == (
        f"{path}: line 5, column 1: invalid YAML ('seed' is given twice (the last would win "
        "unseen): keep one)"
    )


@pytest.mark.parametrize(
    ("key", "given", "read"),
    [
        (("label_merge", "tol"), "1e-7", 1e-7),  # YAML 1.1 would read the text '1e-07'
        (("train", "logistic_regression", "C"), "1e5", 1e5),
        (("prepare", "split_salt"), "off", "off"),  # YAML 1.1: False
        (("prepare", "split_salt"), "1:20", "1:20"),  # YAML 1.1: 80 (base 60)
        (("prepare", "split_salt"), "yes", "yes"),
        (("seed", ), "010", 10),  # YAML 1.1: 8 (octal)
    ],
)  # fmt: skip
def test_a_value_set_by_dvc_exp_run_is_read_as_dvc_records_it(tmp_path, key, given, read):
    """`dvc exp run -S` parses the value and rewrites params.yaml by YAML 1.2's rules
    (ruamel.yaml); the stages read it by the same rules, so they see what DVC shows."""
    from dvc.utils.serialize import loads_yaml, modify_yaml

    from stages.core.reading import load_params

    path = tmp_path / "params.yaml"
    path.write_bytes(DEMO_PARAMS.read_bytes())
    with modify_yaml(path) as document:  # what `-S key=given` does
        *sections, last = key
        for section in sections:
            document = document[section]
        document[last] = loads_yaml(given)
    value = load_params(path)
    for part in key:
        value = value[part]
    assert value == read and type(value) is type(read)


def test_every_scoring_choice_is_a_scikit_learn_scorer():
    from sklearn.metrics import get_scorer_names

    from stages.core.params import SCORERS

    assert set(SCORERS) <= set(get_scorer_names())


def test_the_bounds_of_an_integer_param_are_inclusive():
    """seed reaches numpy's limit, 2**32 - 1, exactly; one more is refused."""
    assert validated({"seed": 4294967295}, "params.yaml")["seed"] == 4294967295
    with pytest.raises(DataError, match="at most 4294967295"):
        validated({"seed": 4294967296}, "params.yaml")


def test_an_alias_bomb_is_refused_before_anything_expands_it(tmp_path):
    """A 1 KB file of aliases of aliases stands for 9^10 values: `params --check` grew to 11 GB
    printing one key, and validate hung in Great Expectations. A plain alias still reads."""
    levels = ["x0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    params = tmp_path / "params.yaml"
    params.write_text("\n".join(levels) + "\n")
    result = CliRunner().invoke(main, ["params", "--check", "--params", str(params)])
    assert result.exit_code == 2 and "aliases (*name) are expanded" in result.output
    params.write_text("seed: &s 7\nlabel_merge: {seed_copy: *s}\n")
    result = CliRunner().invoke(main, ["params", "--check", "--params", str(params)])
    assert "expanded" not in result.output and "label_merge.seed_copy" in result.output


def test_params_check_refuses_an_empty_label_set_as_every_stage_does(tmp_path):
    """`data.labels:` left empty: each stage stopped on it (train only mid-fit, inside
    scikit-learn), while `params --check` had said valid."""
    document = yaml.safe_load(DEMO_PARAMS.read_text())
    document["data"]["labels"] = None
    document["train"].update({"scoring": "f1", "grid": {"C": [0.1, 1.0]}})
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["params", "--check", "--params", str(params)])
    assert result.exit_code == 2
    assert f"{params}: data.labels: missing; list your label set" in " ".join(result.output.split())
    train = CliRunner().invoke(main, ["train", "--params", str(params)])
    assert train.exit_code == 2
    assert "data.labels: missing" in " ".join(train.output.split())
    assert "scikit-learn" not in train.output
