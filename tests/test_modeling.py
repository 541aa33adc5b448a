"""Features, models and model files: everything train builds from params."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stages.core.errors import DataError
from stages.core.params import MODELS, complete
from stages.training import model_io, modeling


@pytest.fixture
def items() -> pd.DataFrame:
    """Text, numeric and categorical columns; the label follows the words and the number."""
    rng = np.random.default_rng(0)
    labels = rng.choice(["pos", "neg"], 120)
    words = {"pos": ["great", "lovely", "good"], "neg": ["awful", "bad", "poor"]}
    text = [
        f"a {rng.choice(words[label])} thing, {rng.choice(['really', 'quite'])}" for label in labels
    ]
    return pd.DataFrame(
        {
            "item_id": [f"i{n}" for n in range(120)],
            "text": pd.array(text, dtype="string"),
            "score": np.where(labels == "pos", 1.0, -1.0) + rng.normal(0, 0.5, 120),
            "shop": rng.choice(["north", "south"], 120),
            "split": "train",
            "label": labels,
        }
    )


OPTIONS = {
    "features": {
        "text": ["text"],
        "categorical": ["shop"],
        "numeric": "auto",
        "tfidf": {"ngram_range": [1, 1]},
    }
}


def test_feature_columns_by_kind(items):
    columns = modeling.feature_columns(items.drop(columns="label"), OPTIONS["features"])
    assert columns == {"text": ["text"], "numeric": ["score"], "categorical": ["shop"]}
    with pytest.raises(ValueError, match="not in the items table"):
        modeling.feature_columns(items, {"text": ["body"]})
    pixels = pd.DataFrame({f"px_{i}": [0.0] for i in range(64)} | {"texts": ["a"]})
    with pytest.raises(ValueError) as caught:
        modeling.feature_columns(pixels, {"text": ["text"]})
    assert "did you mean 'texts'? name a column of your items (it has 65: px_0, " in str(
        caught.value
    )
    words = pd.DataFrame({"item_id": ["a"], "body": ["some text"]})  # text, named nowhere
    with pytest.raises(ValueError, match=r"no feature columns: .* \(it has 1: body\)"):
        modeling.feature_columns(words, {"numeric": "auto", "text": [], "categorical": []})
    assert "px_5, ..., texts)" in str(caught.value)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_learns_saves_safely_and_reloads(items, model, tmp_path):
    options = {
        **OPTIONS,
        "model": model,
        "random_forest": {"n_estimators": 20},
        "hist_gradient_boosting": {"max_iter": 20},
    }
    estimator = modeling.build_estimator(items, options, seed=3)
    fitted, _ = modeling.fit(
        items, items["label"], pd.Series(1.0, index=items.index), estimator, options, 3
    )
    assert (fitted.predict(items) == items["label"]).mean() > 0.9
    data = model_io.to_bytes(fitted)
    assert model_io.untrusted(data) == []
    again = modeling.build_estimator(items, options, seed=3)
    refit, _ = modeling.fit(
        items, items["label"], pd.Series(1.0, index=items.index), again, options, 3
    )
    assert model_io.to_bytes(refit) == data  # same params and data, same bytes
    (tmp_path / "model.skops").write_bytes(data)
    loaded = model_io.load(tmp_path / "model.skops")
    assert np.allclose(loaded.predict_proba(items), fitted.predict_proba(items))
    by_name = model_io.load(str(tmp_path / "model.skops"))  # as a notebook would call it
    assert np.array_equal(by_name.predict_proba(items), loaded.predict_proba(items))


def test_a_grid_tunes_the_calibrated_svm_by_its_own_param_names(items):
    options = {**OPTIONS, "model": "linear_svm", "grid": {"C": [0.01, 1.0]}, "cv_folds": 2}
    estimator = modeling.build_estimator(items, options, seed=3)
    fitted, search = modeling.fit(
        items, items["label"], pd.Series(1.0, index=items.index), estimator, options, 3
    )
    assert search["best_params"]["C"] in (0.01, 1.0)
    assert search["best_params"]["C"] == fitted.named_steps["model"].estimator.C
    assert np.isfinite(search["cv_score"])  # every fold fitted (a Series' labels broke some)
    assert fitted.named_steps["model"].method == "temperature"


def test_the_calibrated_svm_is_neither_over_nor_under_confident():
    """Out of fold on scikit-learn's wine data (3 classes), the mean top-class confidence is
    within 0.05 of the accuracy (0.008 under); per-class sigmoid calibration was 0.11 under."""
    from sklearn.datasets import load_wine
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = load_wine(return_X_y=True)
    svm = modeling.build_model({"model": "linear_svm"}, seed=0)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    proba = cross_val_predict(
        make_pipeline(StandardScaler(), svm), features, labels, cv=folds, method="predict_proba"
    )
    accuracy = (proba.argmax(axis=1) == labels).mean()
    assert abs(proba.max(axis=1).mean() - accuracy) < 0.05


def test_a_whole_number_gives_the_model_its_decimal_twin_gives(items):
    """`dvc exp run -S train.logistic_regression.C=1` must save the bytes `C: 1.0` saves."""
    weights = pd.Series(1.0, index=items.index)
    saved = []
    for c in (1, 1.0):
        options = {**OPTIONS, "logistic_regression": {"C": c}}
        estimator = modeling.build_estimator(items, options, seed=3)
        fitted, _ = modeling.fit(items, items["label"], weights, estimator, options, 3)
        saved.append(model_io.to_bytes(fitted))
    assert saved[0] == saved[1]
    grid = {**OPTIONS, "grid": {"C": [1, 2]}, "cv_folds": 2}
    _, search = modeling.fit(
        items, items["label"], weights, modeling.build_estimator(items, grid, 3), grid, 3
    )
    assert type(search["best_params"]["C"]) is float


def test_loading_refuses_untrusted_types(tmp_path):
    import skops.io as sio

    from stages.core.errors import DataError

    class Sneaky:  # a type no list trusts
        pass

    path = tmp_path / "model.skops"
    path.write_bytes(sio.dumps({"x": Sneaky()}))
    with pytest.raises(DataError, match="untrusted types"):
        model_io.load(path)


def test_label_confidence_modes():
    labels = pd.DataFrame(
        {"confidence": [0.9, 0.5, np.nan, 0.3], "is_gold": [False, False, False, True]}
    )
    keep, weights = modeling.sample_weights(labels, {"label_confidence": {"mode": "weight"}})
    assert keep.all() and np.allclose(weights, [0.9, 0.5, 0.001, 1.0])
    keep, weights = modeling.sample_weights(
        labels, {"label_confidence": {"mode": "drop", "min_confidence": 0.6}}
    )
    assert keep.tolist() == [True, False, False, True] and (weights == 1.0).all()
    keep, _ = modeling.sample_weights(  # at min_confidence exactly: kept ("below" drops)
        labels, {"label_confidence": {"mode": "drop", "min_confidence": 0.5}}
    )
    assert keep.tolist() == [True, True, False, True]
    with pytest.raises(DataError, match=r"train\.label_confidence\.mode: must be one of none"):
        modeling.sample_weights(labels, {"label_confidence": {"mode": "maybe"}})


def test_no_label_issues_make_no_relabel_tasks():
    from stages.training.label_issues import ISSUE_COLUMNS, relabel_candidates

    assert len(relabel_candidates(pd.DataFrame(columns=ISSUE_COLUMNS), 5)) == 0


def test_a_label_issue_task_is_scored_by_the_probability_of_its_suggestion():
    """Label Studio shows a prediction's score as its confidence: the suggestion's probability,
    not one minus the old label's (0.98 where the model gives the suggestion 0.96)."""
    from stages.training.label_issues import rank_issues, relabel_candidates

    labels = pd.Series(["a"] * 20 + ["b"] * 20 + ["a"])
    probabilities = np.vstack(
        [[[0.95, 0.05, 0.0]] * 20, [[0.05, 0.95, 0.0]] * 20, [[0.02, 0.96, 0.02]]]
    )
    ids = pd.Series([f"i{n:02d}" for n in range(41)])
    issues = rank_issues(ids, labels, probabilities, np.array(["a", "b", "c"]))
    (task,) = relabel_candidates(issues, 5).itertuples(index=False)
    assert (task.item_id, task.label, task.confidence) == ("i40", "b", 0.96)
    # A gold item's label is an expert's: scored, never sent back as a label error.
    expert = np.zeros(41, dtype=bool)
    expert[40] = True
    issues = rank_issues(ids, labels, probabilities, np.array(["a", "b", "c"]), expert=expert)
    assert not issues["is_issue"].any() and len(relabel_candidates(issues, 5)) == 0


def test_a_missing_text_is_an_empty_text_inside_the_saved_model(items, tmp_path):
    """TF-IDF takes no missing value; validate lets a missing text through (not every suite
    requires one). The model file itself reads it as an empty text, as its imputers fill
    numeric and categorical gaps: a user scoring an item without text gets a prediction, not
    scikit-learn's "np.nan is an invalid document"."""
    holes = items.assign(text=items["text"].mask(items.index < 3))
    estimator = modeling.build_estimator(holes, OPTIONS, seed=0)
    model, _ = modeling.fit(holes, holes["label"], pd.Series(1.0, index=holes.index),
                            estimator, {**OPTIONS, "grid": {}}, seed=0)  # fmt: skip
    path = tmp_path / "model.skops"
    path.write_bytes(model_io.to_bytes(model))
    loaded = model_io.load(path)
    rows = items.drop(columns="label").iloc[[0] * 4].copy().astype({"text": object})
    rows["text"] = [None, np.nan, pd.NA, ""]
    probabilities = loaded.predict_proba(rows)
    assert probabilities.shape == (4, 2)
    assert np.allclose(probabilities, probabilities[3])  # each is the empty text's


def test_a_grid_value_the_model_refuses_is_an_error_not_a_score_of_nan(items):
    options = {**OPTIONS, "grid": {"C": [-1.0, 1.0]}, "cv_folds": 2}
    estimator = modeling.build_estimator(items, options, seed=3)
    with pytest.raises(ValueError, match="C"):
        modeling.fit(
            items, items["label"], pd.Series(1.0, index=items.index), estimator, options, 3
        )


def test_a_class_of_one_train_item_leaves_only_its_item_unranked(items):
    """Confident learning needs each class in two folds: a class with one item is left out of
    the ranking, and every other item is still ranked (before, the whole ranking was off)."""
    from stages.core.params import complete
    from stages.training.run import train_model

    items = pd.concat([items, items.iloc[[0]].assign(item_id="odd", label="rare")])
    labels = items[["item_id", "label"]].assign(confidence=1.0, is_gold=False)
    options = complete("train", {**OPTIONS, "label_issues": {"enabled": True, "folds": 3}})
    trained = train_model(items.drop(columns="label"), labels, options, seed=0)
    assert trained.summary["label_issues"] is not None
    assert trained.summary["label_issues_unranked"] == 1
    assert len(trained.issues) == 120 and "odd" not in set(trained.issues["item_id"])


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_reproducible_logistic_regression_is_scikit_learns(n_classes, weighted):
    """The same objective as scikit-learn's LogisticRegression, binomial for two classes
    (two rows of coefficients with the multinomial penalty would regularise half as much)."""
    from sklearn.linear_model import LogisticRegression

    from stages.training.linear import ReproducibleLogisticRegression

    rng = np.random.default_rng(7)
    features = rng.normal(size=(400, 5))
    labels = features[:, 0] + features[:, 1] * (n_classes - 2) + rng.normal(size=400) > 0.3
    labels = labels.astype(int) + (features[:, 2] > 1.2) * (n_classes - 2)
    weights = rng.uniform(0.2, 1.0, size=400) if weighted else None
    ours = ReproducibleLogisticRegression(C=0.05, max_iter=5000, tol=1e-12)
    theirs = LogisticRegression(C=0.05, max_iter=5000, tol=1e-12)
    ours.fit(features, labels, sample_weight=weights)
    theirs.fit(features, labels, sample_weight=weights)
    assert np.abs(ours.predict_proba(features) - theirs.predict_proba(features)).max() < 1e-4
    # scikit-learn's layout, which its scorers read: one row of coefficients for two classes
    assert ours.coef_.shape == theirs.coef_.shape
    assert ours.intercept_.shape == theirs.intercept_.shape
    ours_scores, theirs_scores = (
        ours.decision_function(features),
        theirs.decision_function(features),
    )
    assert ours_scores.shape == theirs_scores.shape
    assert np.abs(ours_scores - theirs_scores).max() < 1e-3
    assert (
        ours.predict(features) == ours.classes_[np.argmax(ours.predict_proba(features), 1)]
    ).all()


@pytest.mark.parametrize("scoring", ["roc_auc", "average_precision", "f1", "precision", "recall"])
def test_each_two_class_scorer_tunes_a_grid_on_text_labels(items, scoring):
    """The two-class scorers params offer: scikit-learn's own look for a class 1 (text labels
    never are: "pos_label=1 is not a valid label"), and roc_auc read the logistic regression's
    decision_function as one column per class ("y should be a 1d array"). Each now scores the
    second label of data.labels, and agrees with scikit-learn's metric on the same folds."""
    import sklearn.metrics
    from sklearn.model_selection import StratifiedKFold

    options = complete("train", {**OPTIONS, "grid": {"C": [0.1, 1.0]}, "scoring": scoring})
    weights = pd.Series(1.0, index=items.index)
    estimator = modeling.build_estimator(items, options, seed=0)
    _, search = modeling.fit(items, items["label"], weights, estimator, options, 0, positive="pos")
    assert 0.5 < search["cv_score"] <= 1.0
    if scoring == "roc_auc":
        return
    folds = StratifiedKFold(options["cv_folds"], shuffle=True, random_state=0)
    scores = []
    for train, test in folds.split(items, items["label"]):
        model = modeling.build_estimator(items, options, seed=0).set_params(
            model__C=search["best_params"]["C"]
        )
        model.fit(items.iloc[train], items["label"].iloc[train])
        rows, truth = items.iloc[test], items["label"].iloc[test]
        function = getattr(sklearn.metrics, modeling.SCORERS_OF_ONE_CLASS[scoring][0])
        if scoring == "average_precision":
            shown = model.predict_proba(rows)[:, list(model.classes_).index("pos")]
        else:
            shown = model.predict(rows)
        scores.append(function(truth, shown, pos_label="pos"))
    assert search["cv_score"] == pytest.approx(np.mean(scores))


def test_the_positive_class_is_the_second_of_two_labels():
    from stages.training.model_params import positive_class

    assert positive_class(["ham", "spam"]) == "spam"
    assert positive_class([0, 1]) == "1"
    assert positive_class(["a", "b", "c"]) is None


def test_a_calibrated_svm_fitted_with_threads_gives_the_same_bytes_every_time(items):
    """liblinear's one process-wide random generator, drawn from by calibration folds on
    threads at once, made the bytes differ run to run (3 of 4 runs, on a text task)."""
    options = {**OPTIONS, "model": "linear_svm"}
    weights = pd.Series(1.0, index=items.index)
    made = set()
    for _ in range(4):
        estimator = modeling.build_estimator(items, options, seed=3)
        fitted, _ = modeling.fit(items, items["label"], weights, estimator, options, 3, threads=3)
        made.add(model_io.to_bytes(fitted))
    assert len(made) == 1


def test_an_item_without_a_merged_label_is_left_out_of_its_split():
    """An abstained tie has no label: it can be neither learnt from nor scored against."""
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "split": ["train", "train", "test"]})
    labels = pd.DataFrame(
        {"item_id": ["a", "b", "c"], "label": pd.array(["x", None, "y"], dtype="string")}
    )
    assert modeling.split_with_labels(items, labels, "train")["item_id"].tolist() == ["a"]
    assert modeling.split_with_labels(items, labels, "test")["item_id"].tolist() == ["c"]


def test_the_model_takes_the_items_columns_and_not_the_merged_labels(items, tmp_path):
    """The fit saw the items joined with label-merge's columns, so the target and its
    confidence were declared inputs (feature_names_in_): a user scoring new items had to pass
    a label. The model takes the items' own columns."""
    from stages.training.run import train_model

    labels = items[["item_id", "label"]].assign(confidence=0.9, is_gold=False, agreement=1.0)
    options = complete("train", {**OPTIONS, "label_issues": {"enabled": False}})
    trained = train_model(items.drop(columns="label"), labels, options, seed=0)
    path = tmp_path / "model.skops"
    path.write_bytes(trained.model)
    model = model_io.load(path)
    assert list(model.feature_names_in_) == list(items.drop(columns="label").columns)
    new_items = items.drop(columns=["label", "split", "item_id"]).iloc[:3]
    assert len(model.predict(new_items)) == 3


def test_label_confidence_none_fits_each_model_as_scikit_learn_fits_it_unweighted(items):
    """Weights of 1 were passed all the same: a random forest's trees then differ slightly from
    scikit-learn's unweighted ones (a grid's cv_score 0.8241 against 0.8239 in the probe)."""
    options = complete("train", {**OPTIONS, "model": "random_forest",
                                 "random_forest": {"n_estimators": 20}})  # fmt: skip
    ones = pd.Series(1.0, index=items.index)
    ours, _ = modeling.fit(items, items["label"], ones,
                           modeling.build_estimator(items, options, 0), options, 0)  # fmt: skip
    theirs = modeling.build_estimator(items, options, 0).fit(items, items["label"].to_numpy())
    assert np.array_equal(ours.predict_proba(items), theirs.predict_proba(items))
    assert modeling.weight_params(ones) == {}
    assert "model__sample_weight" in modeling.weight_params(ones.where(ones.index > 0, 0.5))
