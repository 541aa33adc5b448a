"""From the prepared annotations (and gold) to the labels table, its summary and reports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stages.core.params import complete
from stages.truth.aggregation import Judgments, Result, unanimous
from stages.truth.annotators import PairKappas, agreement_by_batch, annotator_report
from stages.truth.method_choice import FOLDS, MIN_GOLD, Choice, cross_validated, judged_gold
from stages.truth.methods import choose, run_method

LABEL_COLUMNS = [
    "item_id",
    "label",
    "confidence",
    "n_annotations",
    "agreement",
    "method",
    "is_gold",
]


@dataclass(frozen=True)
class Merged:
    labels: pd.DataFrame  # one row per judged or gold item, LABEL_COLUMNS
    summary: dict[str, Any]  # reports/label_merge.json (headline: core.headline)
    annotators: pd.DataFrame  # one row per annotator


def latest_judgments(judgments: Judgments, annotations: pd.DataFrame) -> np.ndarray:
    """Which rows to keep so that one judgment per (item, annotator) remains: the latest.

    Later ``created_at`` wins; without timestamps, the row from the later file (by path) wins,
    then the later row. Works on integer codes, and sorts only when duplicates exist.
    """
    key = judgments.item * max(judgments.n_annotators, 1) + judgments.annotator
    order = np.argsort(key, kind="stable")
    repeated = key[order][1:] == key[order][:-1]
    if not repeated.any():
        return np.ones(len(key), dtype=bool)
    moment = pd.DatetimeIndex(annotations["created_at"]).asi8  # no timestamp sorts first
    source = pd.factorize(annotations["source"], sort=True)[0]
    order = np.lexsort((np.arange(len(key)), source, moment, key))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key[order][1:] != key[order][:-1]
    keep = np.zeros(len(key), dtype=bool)
    keep[order[last]] = True
    return keep


def encode(
    annotations: pd.DataFrame, classes: Sequence[str]
) -> tuple[Judgments, pd.Index, pd.Index]:
    """Integer codes: items and annotators by sorted id, labels in label-set order."""
    item_codes, item_ids = pd.factorize(annotations["item_id"].astype("string"), sort=True)
    annotator_codes, annotator_ids = pd.factorize(
        annotations["annotator_id"].astype("string"), sort=True
    )
    class_codes = pd.Index([str(label) for label in classes])
    label_codes, label_values = pd.factorize(annotations["label"].astype("string"))
    mapped = class_codes.get_indexer(label_values.astype(str))
    if (mapped < 0).any():
        unknown = sorted(str(value) for value in label_values[mapped < 0])[:5]
        raise ValueError(f"labels outside the label set: {unknown}")
    judgments = Judgments(
        item=item_codes.astype(np.int64),
        annotator=annotator_codes.astype(np.int64),
        label=mapped[label_codes].astype(np.int64),
        n_items=len(item_ids),
        n_annotators=len(annotator_ids),
        n_classes=len(class_codes),
    )
    return judgments, pd.Index(item_ids.astype(str)), pd.Index(annotator_ids.astype(str))


def report_reference(result: Result, method: str) -> np.ndarray:
    """Which class each item is, for the annotator report: a model's posterior, but majority
    vote's merged label itself (its vote shares are no posterior: they hold the annotator's
    own vote, and a split crowd would make every annotator's rows look alike)."""
    if method != "majority_vote":
        return result.posterior
    reference = result.posterior.copy()
    labelled = result.label >= 0  # an abstained tie keeps its shares
    reference[labelled] = np.eye(reference.shape[1])[result.label[labelled]]
    return reference


def merge_labels(
    annotations: pd.DataFrame,
    gold: pd.DataFrame,
    classes: Sequence[str],
    options: dict[str, Any],
    seed: int,
) -> Merged:
    """Merge judgments per item; gold, when used, is clamped inside the fit and in the output.

    ``gold_accuracy`` in the summary never scores a label on gold its fit saw: with gold in
    use, it is the method's accuracy on each gold item when fitted with only the other folds'
    gold clamped (as its labels for non-gold items are made, with gold's help); without, the
    accuracy on gold of the fit itself. ``gold_accuracy_basis`` says which.
    """
    everything, item_ids, annotator_ids = encode(annotations, classes)
    keep = latest_judgments(everything, annotations)
    judgments = everything.subset(keep)
    class_index = pd.Index([str(label) for label in classes])
    gold_by_item = gold.drop_duplicates("item_id").set_index("item_id")["label"].astype(str)
    gold_codes = class_index.get_indexer(gold_by_item.reindex(item_ids).fillna("\0"))

    options = complete("label_merge", options)
    use_gold = options["use_gold"] and (gold_codes >= 0).any()
    choice = choose(judgments, options, seed, gold_codes if use_gold else None)
    method = choice.method
    chosen = {**options, "method": method}
    counts = judgments.counts().toarray()  # labels per item: every use below shares it
    result = run_method(judgments, chosen, seed, gold_codes if use_gold else None, counts)
    gold_accuracy, gold_scored, basis = _gold_accuracy(
        judgments, chosen, seed, gold_codes, result, choice if use_gold else None, counts
    )

    n_judgments = counts.sum(axis=1)
    has_label = result.label >= 0
    safe = np.where(has_label, result.label, 0)
    rows = np.arange(len(item_ids))
    class_names = np.array(list(class_index), dtype=object)
    confidence = result.posterior[rows, safe]
    if use_gold:
        confidence = np.where(gold_codes >= 0, 1.0, confidence)
    labels = pd.DataFrame(
        {
            "item_id": pd.array(item_ids, dtype="string"),
            "label": pd.array(np.where(has_label, class_names[safe], None), dtype="string"),
            "confidence": np.where(has_label, confidence, np.nan),
            "n_annotations": n_judgments.astype(np.int64),
            "agreement": np.where(
                has_label, counts[rows, safe] / np.maximum(n_judgments, 1), np.nan
            ),
            "method": pd.array([method] * len(item_ids), dtype="string"),
            "is_gold": use_gold & (gold_codes >= 0),
        }
    )
    if options["use_gold"]:  # whether or not any gold item was judged too
        labels = _add_gold_only_items(labels, gold_by_item, method)

    agreed = unanimous(counts) & (gold_codes < 0)
    overridden = agreed & has_label & (result.label != counts.argmax(axis=1))
    kappas = PairKappas.of(judgments, options["min_overlap"])
    sources = pd.factorize(annotations["source"], sort=True)
    sources = np.asarray(sources[1].astype(str))[sources[0][keep]]
    agreement = agreement_by_batch(judgments, sources, options["min_overlap"], kappas)
    annotators = annotator_report(
        judgments,
        annotator_ids,
        report_reference(result, method),
        result.label,
        gold_codes,
        options,
        kappas,
        result.confusion,
        annotations["lead_time"].to_numpy(dtype=float, na_value=np.nan)[keep]
        if "lead_time" in annotations
        else None,
    )
    summary = {
        "method": method,
        "items": len(labels),
        "labelled_items": int(labels["label"].notna().sum()),
        "abstained_items": int(labels["label"].isna().sum()),
        "annotations": len(annotations),
        "annotations_used": int(keep.sum()),
        "replaced_duplicates": int((~keep).sum()),
        "annotators": int(judgments.n_annotators),
        "likely_spammers": int(annotators["likely_spammer"].sum()),
        "krippendorff_alpha": agreement["overall"]["krippendorff_alpha"],
        "mean_confidence": float(labels["confidence"].mean()),
        "mean_agreement": float(labels["agreement"].mean()),
        # Items whose judgments all agree, and those the method labelled otherwise (they go to
        # the relabel tasks: a human settles a model that overrules every annotator).
        "unanimous_items": int(agreed.sum()),
        "unanimous_overridden": int(overridden.sum()),
        "gold_items": len(gold_by_item),
        "gold_items_judged": gold_scored,
        "gold_accuracy": gold_accuracy,
        "gold_accuracy_basis": basis,
        "iterations": int(result.iterations),
        "agreement": agreement,
    }
    if options["method"] == "auto":
        summary["auto"] = {
            "chosen": method,
            "reason": choice.reason,
            "gold_items_compared": choice.gold_items,
            "cv_accuracy": choice.cv_accuracy,
        }
    return Merged(labels[LABEL_COLUMNS], summary, annotators)


def _gold_accuracy(
    judgments: Judgments,
    options: dict[str, Any],
    seed: int,
    gold: np.ndarray,
    result: Result,
    choice: Choice | None,
    counts: np.ndarray,
) -> tuple[float, int, str]:
    """(accuracy, gold items scored, how): see ``merge_labels``. Each fold runs the method as
    the stage does (``run_method``: ``keep_unanimous`` too); `auto`'s own folds, which run
    every candidate so, are reused. A fit without gold scores the rest: gold in use but too
    little for folds, or majority vote, whose other labels gold does not change (nor do its
    abstentions count, on either path). ``choice`` is None when gold is not in use."""
    usable = judged_gold(judgments, gold)
    method = options["method"]
    if choice is not None and method != "majority_vote" and len(usable) >= MIN_GOLD:
        basis = f"{FOLDS}-fold cross-validation, the other folds' gold clamped"
        if method in choice.cv_accuracy:
            return choice.cv_accuracy[method], len(usable), basis

        def fit(seen: np.ndarray) -> dict[str, Result]:
            return {method: run_method(judgments, options, seed, seen, counts)}

        hits = cross_validated(gold, usable, fit, seed, "scoring on gold")[method]
        return float(hits.mean()), len(usable), basis
    blind = run_method(judgments, options, seed, counts=counts) if choice is not None else result
    scored = usable[blind.label[usable] >= 0]
    accuracy = float((blind.label[scored] == gold[scored]).mean()) if len(scored) else math.nan
    return accuracy, len(scored), "a fit that did not see gold"


def _add_gold_only_items(labels: pd.DataFrame, gold: pd.Series, method: str) -> pd.DataFrame:
    """Gold items nobody judged still get their expert label."""
    missing = gold.index.difference(pd.Index(labels["item_id"].astype(str)))
    if not len(missing):
        return labels
    extra = pd.DataFrame(
        {
            "item_id": pd.array(missing, dtype="string"),
            "label": pd.array(gold.loc[missing].to_numpy(), dtype="string"),
            "confidence": 1.0,
            "n_annotations": np.zeros(len(missing), dtype=np.int64),
            "agreement": np.nan,
            "method": pd.array([method] * len(missing), dtype="string"),
            "is_gold": True,
        }
    )
    merged = pd.concat([labels, extra], ignore_index=True)
    return merged.sort_values("item_id", kind="stable").reset_index(drop=True)
