"""The scikit-learn pipeline, built from params: model choice, hyperparameters, optional grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MODELS = ("logistic_regression", "random_forest", "hist_gradient_boosting")


def feature_columns(items: pd.DataFrame) -> list[str]:
    """Every numeric column of the items table, in table order."""
    return [
        name
        for name in items.columns
        if name not in ("item_id", "split") and pd.api.types.is_numeric_dtype(items[name])
    ]


def build_estimator(options: dict[str, Any], seed: int) -> Any:
    """A scaler + classifier pipeline for ``options['model']`` with its params section."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    name = options.get("model", "logistic_regression")
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; use one of {', '.join(MODELS)}")
    hyper = dict(options.get(name) or {})
    classes = {
        "logistic_regression": LogisticRegression,
        "random_forest": RandomForestClassifier,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
    }
    model = classes[name](random_state=seed, **hyper)
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def fit(
    features: pd.DataFrame, labels: pd.Series, options: dict[str, Any], seed: int
) -> tuple[Any, dict[str, Any]]:
    """Fit the estimator; with a non-empty ``grid``, pick its best values by cross-validation."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    estimator = build_estimator(options, seed)
    grid = options.get("grid") or {}
    if not grid:
        estimator.fit(features, labels)
        return estimator, {}
    search = GridSearchCV(
        estimator,
        {f"model__{key}": list(values) for key, values in grid.items()},
        scoring=options.get("scoring", "f1_macro"),
        cv=StratifiedKFold(int(options.get("cv_folds", 3)), shuffle=True, random_state=seed),
        n_jobs=1,
    )
    search.fit(features, labels)
    best = {key.removeprefix("model__"): value for key, value in search.best_params_.items()}
    return search.best_estimator_, {"best_params": best, "cv_score": float(search.best_score_)}


def training_set(items: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, int]:
    """Train-split items that have a merged label; also how many train items had none."""
    train = items[items["split"] == "train"]
    merged = train.merge(labels[["item_id", "label"]], on="item_id", how="left", validate="1:1")
    has_label = merged["label"].notna().to_numpy()
    columns = feature_columns(items)
    return (
        merged.loc[has_label, columns].reset_index(drop=True),
        merged.loc[has_label, "label"].astype(str).reset_index(drop=True),
        int((~has_label).sum()),
    )


def class_order(labels: pd.Series) -> np.ndarray:
    return np.sort(labels.astype(str).unique())
