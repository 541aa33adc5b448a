"""From the prepared annotations (and gold) to the labels table and its agreement summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from stages.aggregation import Judgments, Result, dawid_skene, majority_vote
from stages.agreement import krippendorff_alpha_nominal

METHODS = ("dawid_skene", "majority_vote")
LABEL_COLUMNS = [
    "item_id",
    "label",
    "confidence",
    "n_annotations",
    "agreement",
    "method",
    "is_gold",
]


def latest_judgments(annotations: pd.DataFrame) -> pd.DataFrame:
    """Keep one judgment per (item, annotator): the latest one counts.

    Later ``created_at`` wins; without timestamps, the row from the later file (by name) wins.
    """
    ordered = annotations.sort_values(
        ["item_id", "annotator_id", "created_at", "source"], kind="stable", na_position="first"
    )
    return ordered.drop_duplicates(["item_id", "annotator_id"], keep="last").reset_index(drop=True)


def encode(annotations: pd.DataFrame, classes: Sequence[str]) -> tuple[Judgments, pd.Index]:
    """Integer codes for items (sorted ids), annotators and labels (in label-set order)."""
    item_ids = pd.Index(np.sort(annotations["item_id"].unique().astype(str)))
    annotator_ids = pd.Index(np.sort(annotations["annotator_id"].unique().astype(str)))
    class_codes = pd.Index([str(label) for label in classes])
    codes = class_codes.get_indexer(annotations["label"].astype(str))
    if (codes < 0).any():
        unknown = sorted(set(annotations["label"].astype(str)) - set(class_codes))[:5]
        raise ValueError(f"labels outside the label set: {unknown}")
    judgments = Judgments(
        item=item_ids.get_indexer(annotations["item_id"].astype(str)),
        annotator=annotator_ids.get_indexer(annotations["annotator_id"].astype(str)),
        label=codes,
        n_items=len(item_ids),
        n_annotators=len(annotator_ids),
        n_classes=len(class_codes),
    )
    return judgments, item_ids


def run_method(judgments: Judgments, options: dict[str, Any], seed: int) -> Result:
    method = options.get("method", "dawid_skene")
    if method == "majority_vote":
        return majority_vote(judgments, options.get("tie_rule", "prior"), seed)
    if method == "dawid_skene":
        return dawid_skene(
            judgments,
            max_iter=int(options.get("max_iter", 100)),
            tol=float(options.get("tol", 1e-6)),
            smoothing=float(options.get("smoothing", 0.01)),
        )
    raise ValueError(f"unknown method '{method}'; use one of {', '.join(METHODS)}")


def merge_labels(
    annotations: pd.DataFrame,
    gold: pd.DataFrame,
    classes: Sequence[str],
    options: dict[str, Any],
    seed: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The labels table (one row per judged or gold item) and its summary metrics."""
    judgments_table = latest_judgments(annotations)
    judgments, item_ids = encode(judgments_table, classes)
    result = run_method(judgments, options, seed)
    method = options.get("method", "dawid_skene")
    class_names = np.array([str(label) for label in classes], dtype=object)

    counts = judgments.counts().toarray()
    n_judgments = counts.sum(axis=1)
    has_label = result.label >= 0
    safe = np.where(has_label, result.label, 0)
    rows = np.arange(len(item_ids))
    labels = pd.DataFrame(
        {
            "item_id": pd.array(item_ids, dtype="string"),
            "label": pd.array(np.where(has_label, class_names[safe], None), dtype="string"),
            "confidence": np.where(has_label, result.posterior[rows, safe], np.nan),
            "n_annotations": n_judgments.astype(np.int64),
            "agreement": np.where(
                has_label, counts[rows, safe] / np.maximum(n_judgments, 1), np.nan
            ),
            "method": pd.array([method] * len(item_ids), dtype="string"),
            "is_gold": np.zeros(len(item_ids), dtype=bool),
        }
    )
    gold_by_item = gold.set_index("item_id")["label"].astype("string")
    judged_gold = labels["item_id"].isin(gold_by_item.index)
    predicted_on_gold = labels.loc[judged_gold, ["item_id", "label"]]
    gold_accuracy = (
        float(
            (
                predicted_on_gold["label"]
                == gold_by_item.loc[predicted_on_gold["item_id"]].to_numpy()
            ).mean()
        )
        if len(predicted_on_gold)
        else float("nan")
    )
    if options.get("use_gold", True) and len(gold_by_item):
        labels = _apply_gold(labels, gold_by_item, method)

    summary = {
        "method": method,
        "items": len(labels),
        "labelled_items": int(labels["label"].notna().sum()),
        "abstained_items": int(labels["label"].isna().sum()),
        "annotations": len(annotations),
        "annotations_used": len(judgments_table),
        "replaced_duplicates": int(len(annotations) - len(judgments_table)),
        "annotators": int(judgments.n_annotators),
        "krippendorff_alpha": krippendorff_alpha_nominal(
            judgments.item, judgments.label, len(classes)
        ),
        "mean_confidence": float(labels["confidence"].mean()),
        "mean_agreement": float(labels["agreement"].mean()),
        "gold_items": len(gold_by_item),
        "gold_accuracy": gold_accuracy,
        "iterations": int(result.iterations),
    }
    return labels[LABEL_COLUMNS], summary


def _apply_gold(labels: pd.DataFrame, gold: pd.Series, method: str) -> pd.DataFrame:
    """Gold items take the expert label with confidence 1; gold-only items are added."""
    missing = gold.index.difference(pd.Index(labels["item_id"]))
    extra = pd.DataFrame(
        {
            "item_id": pd.array(missing, dtype="string"),
            "label": pd.array([None] * len(missing), dtype="string"),
            "confidence": np.nan,
            "n_annotations": np.zeros(len(missing), dtype=np.int64),
            "agreement": np.nan,
            "method": pd.array([method] * len(missing), dtype="string"),
            "is_gold": False,
        }
    )
    labels = pd.concat([labels, extra], ignore_index=True)
    is_gold = labels["item_id"].isin(gold.index).to_numpy()
    expert = gold.reindex(labels["item_id"]).to_numpy()
    labels["label"] = pd.array(
        np.where(is_gold, expert, labels["label"].to_numpy()), dtype="string"
    )
    labels["confidence"] = np.where(is_gold, 1.0, labels["confidence"])
    labels["is_gold"] = is_gold
    return labels.sort_values("item_id", kind="stable").reset_index(drop=True)
