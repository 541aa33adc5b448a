"""The scikit-learn pipeline, built from params: features, model, hyperparameters, grid.

Features are declared in ``train.features``: text columns (TF-IDF), numeric columns (scaled)
and categorical columns (one-hot), so a team with text data switches from the demo by editing
params and data only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stages.core.param_fields import did_you_mean
from stages.core.params import complete, typed

NOT_FEATURES = ("item_id", "split")


class ParamsMismatch(ValueError):
    """Params that are well formed but do not fit the data or the model: names the key."""

    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


def feature_columns(
    items: pd.DataFrame, features: dict[str, Any] | None = None
) -> dict[str, list[str]]:
    """Columns per kind; ``numeric: auto`` takes every numeric column not used otherwise."""
    features = complete("train.features", features)
    text, categorical, numeric = features["text"], features["categorical"], features["numeric"]
    if numeric == "auto":
        taken = set(text) | set(categorical) | set(NOT_FEATURES)
        numeric = [
            c for c in items.columns if c not in taken and pd.api.types.is_numeric_dtype(items[c])
        ]
    known = [str(c) for c in items.columns if c not in NOT_FEATURES]
    shown = known if len(known) <= 8 else [*known[:6], "...", known[-1]]
    columns = f"it has {len(known)}: {', '.join(shown)}" if known else "it has none but item_id"
    for kind, names in (("text", text), ("categorical", categorical), ("numeric", numeric)):
        missing = [c for c in names if c not in items.columns]
        if missing:
            hint = f"{found} " if (found := did_you_mean(missing[0], known)) else ""
            reason = (
                f"not in the items table: {', '.join(missing)}; {hint}name a column of your "
                f"items ({columns})"
            )
            raise ParamsMismatch(f"train.features.{kind}", reason)
    numbers = [c for c in text if _holds_numbers(items[c])]
    if numbers:  # TF-IDF reads words: a column of numbers would fail mid-fit
        reason = (
            f"{', '.join(numbers)} holds numbers, not text: list it under numeric or categorical"
        )
        raise ParamsMismatch("train.features.text", reason)
    if not (text or categorical or numeric):
        reason = (
            "no feature columns: name text or categorical columns of your items, or give them "
            f"numeric ones ({columns})"
        )
        raise ParamsMismatch("train.features", reason)
    return {"text": text, "numeric": list(numeric), "categorical": categorical}


def _holds_numbers(column: pd.Series) -> bool:
    """A numeric or true/false column with a value (an empty text column reads as numbers)."""
    return pd.api.types.is_numeric_dtype(column) and bool(column.notna().any())


def build_preprocessor(columns: dict[str, list[str]], features: dict[str, Any], dense: bool) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from stages.training.text_features import MissingAsEmptyTfidf

    features = complete("train.features", features)
    tfidf = features["tfidf"]
    parts: list[tuple[str, Any, Any]] = []
    for column in columns["text"]:
        vectorizer = MissingAsEmptyTfidf(
            ngram_range=tuple(tfidf["ngram_range"]),
            max_features=tfidf["max_features"],
            min_df=tfidf["min_df"],
            sublinear_tf=tfidf["sublinear_tf"],
            lowercase=True,
            dtype=np.float64,
        )
        parts.append((f"text_{column}", vectorizer, column))
    if columns["numeric"]:
        # Mean by default: scikit-learn's median goes through numpy masked arrays, 30x slower
        # (9 s a fit at 800k rows x 64 columns, most of train's time at a million items).
        numeric = make_pipeline(SimpleImputer(strategy=features["impute"]), StandardScaler())
        parts.append(("numeric", numeric, columns["numeric"]))
    if columns["categorical"]:
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=not dense)
        parts.append(
            (
                "categorical",
                make_pipeline(SimpleImputer(strategy="most_frequent"), onehot),
                columns["categorical"],
            )
        )
    return ColumnTransformer(parts, sparse_threshold=0.0 if dense else 0.3)


def build_model(options: dict[str, Any], seed: int) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.svm import LinearSVC

    from stages.training.linear import ReproducibleLogisticRegression

    options = complete("train", options)
    name = options["model"]
    hyper = dict(options[name])
    if name == "linear_svm":  # calibrated, so that it gives probabilities
        folds = hyper.pop("calibration_folds")
        # Temperature scaling: one softmax over all classes. Sigmoid and isotonic calibrate
        # each class against the rest, then renormalise (scikit-learn's docs), which left the
        # demo's SVM under-confident everywhere (ECE 0.18).
        method = hyper.pop("calibration")
        return CalibratedClassifierCV(
            LinearSVC(**{"random_state": seed, **hyper}), method=method, cv=folds
        )
    classes = {
        # scikit-learn's objective, fitted without BLAS-kernel-dependent steps (training/linear.py)
        "logistic_regression": ReproducibleLogisticRegression,
        "random_forest": RandomForestClassifier,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
    }
    return classes[name](**{"random_state": seed, **hyper})  # params may override the seed


def hyperparameters(model: str) -> tuple[set[str], set[str]]:
    """(what a grid may name, what the model's section may add): scikit-learn's names for
    ``model``; a calibrated SVM's section goes to the SVM inside it, a grid to either (as
    ``C`` or as scikit-learn's own ``estimator__C``)."""
    known = build_model({"model": model}, 0).get_params()
    inner = {name.removeprefix("estimator__") for name in known if name.startswith("estimator__")}
    section = inner if model == "linear_svm" else set(known)
    return set(known) | inner, {name for name in section if "__" not in name}


def not_taken(model: str, key: str, takes: set[str]) -> str:
    shown = sorted(name for name in takes if "__" not in name)
    same = [name for name in shown if name.casefold() == key.casefold()]
    hint = f"did you mean '{same[0]}'?" if same else did_you_mean(key, shown)
    return f"not a hyperparameter of {model}; {hint + ' ' if hint else ''}it takes " + ", ".join(
        shown
    )


def build_estimator(items: pd.DataFrame, options: dict[str, Any], seed: int) -> Any:
    from sklearn.pipeline import Pipeline

    options = complete("train", options)
    features = options["features"]
    columns = feature_columns(items, features)
    dense = options["model"] == "hist_gradient_boosting"  # it takes no sparse input
    return Pipeline(
        [
            ("features", build_preprocessor(columns, features, dense)),
            ("model", build_model(options, seed)),
        ]
    )


def sample_weights(labels: pd.DataFrame, options: dict[str, Any]) -> tuple[pd.Series, pd.Series]:
    """Which merged labels to learn from, and how much each counts.

    ``label_confidence.mode``: ``none`` (all, weight 1), ``weight`` (weight = posterior
    confidence, so uncertain labels count less) or ``drop`` (leave out labels whose confidence
    is below ``min_confidence``). Gold labels always count fully.
    """
    policy = complete("train", options)["label_confidence"]
    mode = policy["mode"]
    confidence = labels["confidence"].fillna(0.0).where(~labels["is_gold"], 1.0)
    if mode == "none":
        return pd.Series(True, index=labels.index), pd.Series(1.0, index=labels.index)
    if mode == "weight":
        return pd.Series(True, index=labels.index), confidence.clip(lower=1e-3)
    if mode == "drop":
        keep = confidence >= policy["min_confidence"]
        return keep, pd.Series(1.0, index=labels.index)
    raise AssertionError(mode)  # the params schema admits only these three


def weight_params(weights: pd.Series) -> dict[str, Any]:
    """The pipeline's fit params for ``weights``: none where every weight is 1 (label_confidence
    `none`), so that each model fits as scikit-learn fits it unweighted (a random forest's
    trees differ slightly with weights of 1)."""
    if bool((weights == 1.0).all()):
        return {}
    return {"model__sample_weight": weights.to_numpy()}


def fit(
    features: pd.DataFrame,
    labels: pd.Series,
    weights: pd.Series,
    estimator: Any,
    options: dict[str, Any],
    seed: int,
    n_jobs: int = 1,
    threads: int = 1,
    positive: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fit the estimator; with a non-empty ``grid``, pick its best values by cross-validation
    (a two-class ``scoring`` scores the ``positive`` class: ``scorer``).

    ``n_jobs`` runs the grid's candidates and folds in parallel on joblib's active backend (this
    machine's processes or a Dask cluster, see stages/training/parallel.py): their models are thrown
    away. The model that is kept is fitted here, its trees and columns on ``threads`` threads:
    parts fitted elsewhere come back unpickled as new objects, which skops would write as other
    bytes (its ids record which objects are shared) although they predict the same.
    """
    from joblib import parallel_config
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    options = complete("train", options)
    # As an array: scikit-learn's temperature scaling reads y[0], a label, from a Series whose
    # index (a fold's rows) has no 0.
    labels = labels.to_numpy()
    grid = options["grid"]
    fit_params = weight_params(weights)
    search_results: dict[str, Any] = {}
    if grid:
        # A calibrated SVM holds the SVM as ``estimator``: its C is ``estimator__C``.
        known = estimator.named_steps["model"].get_params()
        names = {}
        for key in grid:
            if key in known:
                names[key] = f"model__{key}"
            elif f"estimator__{key}" in known:
                names[key] = f"model__estimator__{key}"
            else:
                takes = hyperparameters(options["model"])[0]
                reason = not_taken(options["model"], key, takes)
                raise ParamsMismatch(f"train.grid.{key}", reason)
        search = GridSearchCV(
            estimator,
            {
                names[key]: [typed(f"train.{options['model']}.{key}", v) for v in values]
                for key, values in grid.items()
            },
            scoring=scorer(options["scoring"], positive),
            cv=StratifiedKFold(options["cv_folds"], shuffle=True, random_state=seed),
            n_jobs=n_jobs,
            refit=False,  # refitted below, in this process, as GridSearchCV's refit would
            error_score="raise",  # a value the model refuses is an error, not a score of nan
        )
        search.fit(features, labels, **fit_params)
        best = {key: search.best_params_[names[key]] for key in grid}
        search_results = {"best_params": best, "cv_score": float(search.best_score_)}
        estimator = clone(estimator).set_params(**clone(search.best_params_, safe=False))
    # liblinear (the SVM) draws from one C-level random generator for the whole process:
    # calibration folds fitted on threads at once interleave its draws, and the model bytes
    # changed from run to run. Its folds are fitted one after another.
    if options["model"] == "linear_svm":
        threads = 1
    with parallel_config(backend="threading", n_jobs=threads):
        estimator.fit(features, labels, **fit_params)
    return estimator, search_results


# Two-class scorers that score one class: scikit-learn's function and what it reads of a model.
SCORERS_OF_ONE_CLASS = {
    "average_precision": ("average_precision_score", ("decision_function", "predict_proba")),
    "f1": ("f1_score", "predict"),
    "precision": ("precision_score", "predict"),
    "recall": ("recall_score", "predict"),
}


def scorer(name: str, positive: str | None) -> Any:
    """scikit-learn's scorer ``name``; one that scores one class scores ``positive`` (by name,
    scikit-learn's would look for a class ``1``, which text labels never are). ``roc_auc`` is
    the same whichever class is positive."""
    import sklearn.metrics

    if name not in SCORERS_OF_ONE_CLASS or positive is None:
        return name
    function, response = SCORERS_OF_ONE_CLASS[name]
    return sklearn.metrics.make_scorer(
        getattr(sklearn.metrics, function), response_method=response, pos_label=positive
    )


def split_with_labels(items: pd.DataFrame, labels: pd.DataFrame, split: str) -> pd.DataFrame:
    """Items of one split joined with their merged label (items without one are left out)."""
    chosen = items[items["split"] == split]
    merged = chosen.merge(labels, on="item_id", how="inner", validate="1:1")
    return merged[merged["label"].notna()].reset_index(drop=True)
