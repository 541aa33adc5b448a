"""Test-split scores: metrics, per-class ranking scores, curves, calibration, confusion rows."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

CALIBRATION_BINS = 10


def top_class(probabilities: np.ndarray, tie_order: np.ndarray | None = None) -> np.ndarray:
    """Each row's most probable column; among equals, the one first in ``tie_order`` (a rank
    per column: the model's own class order, so that the prediction is ``model.predict``'s),
    else the first column."""
    if tie_order is None or not len(probabilities):
        return probabilities.argmax(axis=1)
    ranked = np.argsort(tie_order, kind="stable")
    return ranked[probabilities[:, ranked].argmax(axis=1)]


def score(
    actual: pd.Series,
    probabilities: np.ndarray,
    classes: list[str],
    top: np.ndarray | None = None,
) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro-F1, log-loss, Brier score, ECE and per-class scores.

    ``probabilities`` has one column per class in ``classes`` order; ``top``, the predicted
    column of each row (``top_class``'s; by default the most probable, first among equals).
    """
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        log_loss,
        precision_recall_fscore_support,
    )

    if len(actual) == 0:
        return {"items": 0}
    actual = actual.astype(str).reset_index(drop=True)
    top = probabilities.argmax(axis=1) if top is None else top
    predicted = pd.Series(np.asarray(classes)[top])
    present = [label for label in classes if label in set(actual) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(
        actual, predicted, labels=classes, zero_division=0
    )
    onehot = (actual.to_numpy()[:, None] == np.asarray(classes)[None, :]).astype(float)
    ranking = ranking_scores(onehot, probabilities)
    with warnings.catch_warnings():  # a small subset (gold) may miss a predicted class: expected
        warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", "A single label was found in 'y_true' and 'y_pred'")
        balanced = float(balanced_accuracy_score(actual, predicted))
    return {
        "items": len(actual),
        "accuracy": float(accuracy_score(actual, predicted)),
        "balanced_accuracy": balanced,
        # Macro over the classes that occur, so a small subset (gold) is not dragged to zero.
        "macro_f1": float(
            f1_score(actual, predicted, labels=present, average="macro", zero_division=0)
        ),
        # log_loss reads probability columns in sorted label order.
        "log_loss": float(
            log_loss(actual, probabilities[:, np.argsort(classes)], labels=sorted(classes))
        ),
        "brier": float(((probabilities - onehot) ** 2).sum(axis=1).mean()),
        "ece": expected_calibration_error(actual, probabilities, classes, top),
        # Undefined is None, not 0: recall and F1 of a class absent from the items, precision
        # of a class never predicted (scikit-learn's zero_division would print 0.0000).
        "per_class": {
            label: {
                "precision": float(precision[i]) if (predicted == label).any() else None,
                "recall": float(recall[i]) if support[i] else None,
                "f1": float(f1[i]) if support[i] else None,
                "support": int(support[i]),
                **ranking[i],
            }
            for i, label in enumerate(classes)
        },
    }


def never_predicted(per_class: dict[str, dict[str, Any]]) -> list[str]:
    """The classes with test items that the model never predicts, with their item counts."""
    from stages.core.markup import quantity
    from stages.core.terminal import quoted

    return [
        f"{quoted(label)} ({quantity(row['support'], 'item')})"
        for label, row in per_class.items()
        if row["support"] and row["precision"] is None
    ]


def unscored_classes(per_class: dict[str, dict[str, Any]], classes: list[str]) -> list[str]:
    """The classes of the label set with no test item: the test split is drawn by item."""
    return [label for label in classes if not (per_class.get(label) or {}).get("support")]


def ranking_scores(onehot: np.ndarray, probabilities: np.ndarray) -> list[dict[str, Any]]:
    """Per class, one vs rest: average precision (the area under the PR curve) and ROC AUC;
    None where the class is absent or is every item."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = []
    for k in range(onehot.shape[1]):
        positives = onehot[:, k].sum()
        if 0 < positives < len(onehot):
            scores.append(
                {
                    "average_precision": float(
                        average_precision_score(onehot[:, k], probabilities[:, k])
                    ),
                    "roc_auc": float(roc_auc_score(onehot[:, k], probabilities[:, k])),
                }
            )
        else:
            scores.append({"average_precision": None, "roc_auc": None})
    return scores


def calibration_table(
    actual: pd.Series, probabilities: np.ndarray, classes: list[str], top: np.ndarray | None = None
) -> pd.DataFrame:
    """The calibration bins, each accuracy with its 95% Wilson interval (``low``, ``high``): a
    bin of four items shows how little it says. ``top``: as in ``score``."""
    table = _calibration_bins(actual, probabilities, classes, top)
    pairs = zip(table["accuracy"], table["items"], strict=True)
    bounds = np.array([wilson_interval(a, n) for a, n in pairs]).reshape(-1, 2)
    table["low"], table["high"] = bounds[:, 0], bounds[:, 1]
    return table.round(6)


def _calibration_bins(
    actual: pd.Series, probabilities: np.ndarray, classes: list[str], top: np.ndarray | None
) -> pd.DataFrame:
    """Top-class confidence in equal-width bins against how often the top class was right."""
    confidence = probabilities.max(axis=1)
    top = probabilities.argmax(axis=1) if top is None else top
    right = np.asarray(classes)[top] == actual.astype(str).to_numpy()
    bins = np.minimum((confidence * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    table = pd.DataFrame({"bin": bins, "confidence": confidence, "accuracy": right.astype(float)})
    grouped = table.groupby("bin").agg(
        confidence=("confidence", "mean"), accuracy=("accuracy", "mean"), items=("bin", "size")
    )
    return grouped.reset_index(drop=True)


def expected_calibration_error(
    actual: pd.Series, probabilities: np.ndarray, classes: list[str], top: np.ndarray | None = None
) -> float:
    table = _calibration_bins(actual, probabilities, classes, top).round(6)
    weights = table["items"] / table["items"].sum()
    return float((weights * (table["confidence"] - table["accuracy"]).abs()).sum())


def curves(
    actual: pd.Series, probabilities: np.ndarray, classes: list[str], points: int = 101
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One-vs-rest precision-recall and ROC curves per class, each on a grid of ``points``
    (the ROC curve from (0, 0)). ``class_order`` is the class's place in the label set, the
    order the charts' panels follow."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    grid = np.linspace(0.0, 1.0, points)
    pr_rows, roc_rows = [], []
    for k, label in enumerate(classes):
        positive = (actual.astype(str).to_numpy() == label).astype(int)
        if positive.sum() == 0 or positive.sum() == len(positive):
            continue
        precision, recall, _ = precision_recall_curve(positive, probabilities[:, k])
        pr_rows.append(
            pd.DataFrame(
                {
                    "class": label,
                    "class_order": k,
                    "recall": grid,
                    "precision": best_precision(precision, recall, grid),
                }
            )
        )
        fpr, tpr, _ = roc_curve(positive, probabilities[:, k])
        # Every ROC curve starts at (0, 0); on the grid, fpr 0 holds the best tpr reached there.
        roc_rows.append(
            pd.DataFrame(
                {
                    "class": label,
                    "class_order": k,
                    "fpr": np.r_[0.0, grid],
                    "tpr": np.r_[0.0, np.interp(grid, fpr, tpr)],
                }
            )
        )
    empty_pr = pd.DataFrame(columns=["class", "class_order", "recall", "precision"])
    empty_roc = pd.DataFrame(columns=["class", "class_order", "fpr", "tpr"])
    pr = pd.concat(pr_rows, ignore_index=True) if pr_rows else empty_pr
    roc = pd.concat(roc_rows, ignore_index=True) if roc_rows else empty_roc
    return pr.round(6), roc.round(6)


def best_precision(precision: np.ndarray, recall: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The interpolated precision-recall curve at recalls ``at``: the best precision reachable
    with at least that recall. ``precision``, ``recall``: scikit-learn's precision_recall_curve
    output (recall decreasing)."""
    # In scikit-learn's order, a running maximum runs over the higher recalls; reversed, both
    # arrays go by increasing recall.
    best_from_here = np.maximum.accumulate(precision)[::-1]
    # A grid point is a float (np.linspace's 0.7000000000000001): a recall within rounding of
    # it counts as reaching it (recalls are k / positives, far coarser than 1e-9).
    first = np.searchsorted(recall[::-1], np.asarray(at) - 1e-9, side="left")
    return best_from_here[np.minimum(first, len(best_from_here) - 1)]


def confusion_rows(
    item_ids: pd.Series, actual: pd.Series, predicted: pd.Series, classes: list[str]
) -> pd.DataFrame:
    """One row per test item, the shape DVC's confusion template reads, with each label's place
    in the label set (the matrix's order: "low, medium, high", or 2 before 10). A class that no
    test item has, or that nothing was predicted as, gets one row with no item (counted as 0
    by the template), so that the matrix shows the whole label set: an empty column is what
    tells a reader the model never predicts that class."""
    seen = set(actual.astype(str)) & set(predicted.astype(str))
    unseen = [label for label in classes if label not in seen]
    place = pd.Index(classes)
    every_actual = pd.concat([actual.astype(str), pd.Series(unseen, dtype=str)])
    every_predicted = pd.concat([predicted.astype(str), pd.Series(unseen, dtype=str)])
    return pd.DataFrame(
        {
            "item_id": [*item_ids.astype(str), *[""] * len(unseen)],
            "actual": every_actual.to_numpy(),
            "predicted": every_predicted.to_numpy(),
            "actual_order": place.get_indexer(every_actual),
            "predicted_order": place.get_indexer(every_predicted),
        }
    )


def wilson_interval(accuracy: float, items: int) -> tuple[float, float]:
    """The 95% Wilson score interval of an accuracy on ``items`` items: unlike the normal
    approximation, it stays inside [0, 1] and is honest on a few dozen gold items (15 right
    of 15 gives 0.80 to 1.00, not 1.00 to 1.00)."""
    from scipy.stats import binomtest

    interval = binomtest(round(accuracy * items), items).proportion_ci(0.95, method="wilson")
    return float(interval.low), float(interval.high)
