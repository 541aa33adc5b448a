"""Training labels that are likely wrong, by confident learning (cleanlab).

Out-of-fold predicted probabilities (each item scored by a model that did not see it) are
compared with the merged labels; cleanlab ranks the items whose label the model disagrees with
most confidently. The top ones go back to annotators in the next round.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ISSUE_COLUMNS = [
    "item_id", "label", "suggested_label", "suggested_probability", "label_quality", "is_issue",
    "rank",
]  # fmt: skip


def out_of_fold_probabilities(
    estimator: Any,
    features: pd.DataFrame,
    labels: pd.Series,
    weights: pd.Series,
    folds: int,
    seed: int,
    n_jobs: int = 1,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Predicted probabilities from k-fold models, and the class order; None if too few items.

    ``n_jobs`` fits the folds in parallel on joblib's active backend; the result does not depend
    on it.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from stages.training.modeling import weight_params

    smallest = int(labels.value_counts().min()) if len(labels) else 0
    folds = min(folds, smallest)
    if folds < 2 or labels.nunique() < 2:
        return None
    probabilities = cross_val_predict(
        clone(estimator),
        features,
        labels.to_numpy(),  # an array, as modeling.fit passes it
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method="predict_proba",
        params=weight_params(weights),
        n_jobs=n_jobs,
    )
    return probabilities, np.sort(labels.unique())


def rank_issues(
    item_ids: pd.Series,
    labels: pd.Series,
    probabilities: np.ndarray,
    classes: np.ndarray,
    expert: np.ndarray | None = None,
) -> pd.DataFrame:
    """Every item with its label quality; likely issues first, in cleanlab's order. Items
    whose label is an ``expert``'s (gold) are scored but never an issue to send back."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    codes = pd.Index(classes).get_indexer(labels.astype(str))
    quality = get_label_quality_scores(codes, probabilities)
    ranked = find_label_issues(codes, probabilities, return_indices_ranked_by="self_confidence")
    if expert is not None:
        ranked = ranked[~expert[ranked]]
    rank = np.full(len(codes), -1)
    rank[ranked] = np.arange(1, len(ranked) + 1)
    table = pd.DataFrame(
        {
            "item_id": item_ids.astype(str).to_numpy(),
            "label": labels.astype(str).to_numpy(),
            "suggested_label": classes[probabilities.argmax(axis=1)],
            "suggested_probability": probabilities.max(axis=1).round(6),
            "label_quality": quality.round(6),
            "is_issue": rank > 0,
            "rank": rank,
        }
    )
    table["_order"] = np.where(table["is_issue"], table["rank"], len(table) + 1)
    table = table.sort_values(["_order", "label_quality", "item_id"], kind="stable").drop(
        columns="_order"
    )
    return table[ISSUE_COLUMNS].reset_index(drop=True)


def relabel_candidates(
    issues: pd.DataFrame, max_tasks: int, already_sent: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """The top issues in the shape of the labels table, with the model's suggestion as label;
    items ``already_sent`` (label-merge's relabel tasks) are left to those tasks, so that both
    files import into one Label Studio project without duplicate tasks."""
    fresh = issues["is_issue"].astype(bool) & ~issues["item_id"].astype(str).isin(already_sent)
    top = issues[fresh].head(max_tasks)
    return pd.DataFrame(
        {
            "item_id": top["item_id"],
            "label": pd.array(top["suggested_label"], dtype="string"),
            "confidence": top["suggested_probability"],  # the prediction's score
            "n_annotations": 0,
            "agreement": np.nan,
            "method": "confident_learning",
            "is_gold": False,
        }
    ).reset_index(drop=True)
