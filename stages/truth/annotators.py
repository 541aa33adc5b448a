"""How much annotators agree, and how well each one labels.

Agreement (Krippendorff's alpha, Fleiss' kappa, pairwise Cohen's kappa) overall and per batch;
a per-annotator report with agreement with the consensus, accuracy on gold, accuracy estimated
from the annotator's confusion matrix, and a spammer score (Raykar & Yu 2012).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stages.core.markup import plot_rows
from stages.core.params import complete
from stages.truth.aggregation import Judgments, by_pair_matrix
from stages.truth.agreement import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    pair_counts,
)

ANNOTATOR_COLUMNS = [
    "annotator_id",
    "judgments",
    "median_seconds",
    "agreement_with_consensus",
    "gold_judgments",
    "gold_accuracy",
    "estimated_accuracy",
    "spammer_score",
    "cohen_kappa_mean",
    "likely_spammer",
]


@dataclass(frozen=True)
class PairKappas:
    """Cohen's kappa for every annotator pair that shares at least ``min_overlap`` items."""

    pairs: np.ndarray  # P x 2 annotator codes
    kappas: np.ndarray  # P

    @classmethod
    def of(cls, judgments: Judgments, min_overlap: int) -> PairKappas:
        counts = pair_counts(
            judgments.item,
            judgments.annotator,
            judgments.label,
            judgments.n_annotators,
            judgments.n_classes,
            min_overlap,
        )
        kappas = cohen_kappa(counts.agree, counts.first, counts.second)
        valid = ~np.isnan(kappas)
        return cls(counts.pairs[valid], kappas[valid])

    def per_annotator(self, n_annotators: int) -> np.ndarray:
        """Each annotator's mean kappa with the others (NaN without a qualifying pair)."""
        total = np.bincount(
            self.pairs.ravel(), weights=np.repeat(self.kappas, 2), minlength=n_annotators
        )
        count = np.bincount(self.pairs.ravel(), minlength=n_annotators)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, total / count, np.nan)


def agreement(judgments: Judgments, kappas: PairKappas) -> dict[str, Any]:
    """Agreement measures over one set of judgments."""
    fleiss, why_not = fleiss_kappa(judgments.item, judgments.label, judgments.n_classes)
    summary: dict[str, Any] = {
        "judgments": len(judgments.item),
        "items": len(np.unique(judgments.item)),
        "krippendorff_alpha": krippendorff_alpha_nominal(
            judgments.item, judgments.label, judgments.n_classes
        ),
        "fleiss_kappa": fleiss,
        "cohen_kappa_mean": float(kappas.kappas.mean()) if len(kappas.kappas) else float("nan"),
        "cohen_kappa_pairs": len(kappas.kappas),
    }
    if why_not:
        summary["fleiss_kappa_note"] = why_not
    return summary


def agreement_by_batch(
    judgments: Judgments, sources: np.ndarray, min_overlap: int, overall: PairKappas
) -> dict[str, Any]:
    """``overall`` and one entry per batch (source file); ``overall`` kappas are reused."""
    result: dict[str, Any] = {"overall": agreement(judgments, overall), "batches": {}}
    batch_codes, batches = pd.factorize(sources, sort=True)
    for code, source in enumerate(batches):
        if len(batches) == 1:
            result["batches"][str(source)] = result["overall"]
            continue
        subset = judgments.subset(batch_codes == code)
        result["batches"][str(source)] = agreement(subset, PairKappas.of(subset, min_overlap))
    return result


def spammer_score(confusion: np.ndarray, evidence: np.ndarray | None = None) -> np.ndarray:
    """Raykar & Yu (2012): how different an annotator's confusion rows are from each other.

    0 when the answer does not depend on the true class (a spammer, whatever the answer
    distribution), 1 for a perfect annotator. ``confusion``: annotators x true x observed.
    ``evidence`` (annotators x true classes: the judgments behind each row) weights each pair
    of rows by the judgments behind both, so that rows of classes an annotator never met (most
    of them with many classes, or a class nobody chose) do not pass for a spammer's identical
    rows; equal weights give the paper's score. NaN with a judgment's worth of evidence on
    fewer than two classes (an annotator who only met one class: nothing to compare).
    """
    n_annotators, n_classes, _ = confusion.shape
    if evidence is None:
        weight = np.ones((n_annotators, n_classes))
    else:  # a row behind less than one judgment is no row: a soft posterior's crumbs on other
        weight = np.where(evidence >= 1.0, evidence, 0.0)  # classes would copy the one answer
    total = weight.sum(axis=1)
    # sum over pairs of w_c w_c' |r_c - r_c'|^2, without the annotators x K x K x K array
    norms = (weight * (confusion**2).sum(axis=2)).sum(axis=1)
    mean_row = (weight[:, :, None] * confusion).sum(axis=1)
    gaps = 2.0 * total * norms - 2.0 * (mean_row**2).sum(axis=1)
    pairs = 2.0 * (total**2 - (weight**2).sum(axis=1))  # |e_c - e_c'|^2 = 2 for a perfect one
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(pairs > 1e-9 * np.maximum(total, 1.0) ** 2, gaps / pairs, np.nan)
    return np.clip(score, 0.0, 1.0)


def judgment_counts(judgments: Judgments, reference: np.ndarray) -> np.ndarray:
    """Annotators x true x observed: each annotator's judgments counted by the class of their
    items, by ``reference`` (items x classes, rows summing to 1)."""
    n_classes = judgments.n_classes
    observed = (by_pair_matrix(judgments) @ reference).reshape(
        judgments.n_annotators, n_classes, n_classes
    )
    return observed.transpose(0, 2, 1)


def empirical_confusion(counts: np.ndarray) -> np.ndarray:
    """Each annotator's confusion rows (true x observed) from ``judgment_counts``, unsmoothed;
    a row without evidence is uniform (and weighs nothing in the report)."""
    totals = counts.sum(axis=2, keepdims=True)
    uniform = np.full_like(counts, 1.0 / counts.shape[2])
    return np.divide(counts, totals, out=uniform, where=totals > 0)


def annotator_report(
    judgments: Judgments,
    annotator_ids: pd.Index,
    reference: np.ndarray,
    final_label: np.ndarray,
    gold_label: np.ndarray,
    options: dict[str, Any],
    kappas: PairKappas,
    fitted_confusion: np.ndarray | None = None,
    seconds: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per annotator; ``gold_label`` holds a class code per item, -1 without gold;
    ``seconds`` the time spent on each judgment, where the tool recorded it (NaN elsewhere):
    a rushing annotator shows as a low median beside a low spammer score.

    ``reference`` (items x classes) says which class each item is: the method's posterior, or
    for majority vote the merged label itself (vote shares count the annotator's own vote and
    blur every row of a split crowd). Estimated accuracy is the annotator's expected accuracy
    on the items they judged, from the method's fitted confusion matrices when it has them,
    else from matrices measured against ``reference``; so is the spammer score.
    """
    counts = judgment_counts(judgments, reference)
    evidence = counts.sum(axis=2)  # annotators x true classes: the judgments behind each row
    confusion = empirical_confusion(counts) if fitted_confusion is None else fitted_confusion
    per_annotator = np.bincount(judgments.annotator, minlength=judgments.n_annotators)
    agrees = final_label[judgments.item] == judgments.label
    agree_share = np.bincount(judgments.annotator, weights=agrees, minlength=judgments.n_annotators)
    on_gold = gold_label[judgments.item] >= 0
    gold_n = np.bincount(judgments.annotator[on_gold], minlength=judgments.n_annotators)
    gold_right = np.bincount(
        judgments.annotator[on_gold],
        weights=gold_label[judgments.item[on_gold]] == judgments.label[on_gold],
        minlength=judgments.n_annotators,
    )
    right = (confusion.diagonal(axis1=1, axis2=2) * evidence).sum(axis=1)
    score = spammer_score(confusion, evidence)
    options = complete("label_merge", options)
    flagged = (score < options["spammer_threshold"]) & (
        per_annotator >= options["spammer_min_judgments"]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        report = pd.DataFrame(
            {
                "annotator_id": pd.array(annotator_ids, dtype="string"),
                "judgments": per_annotator.astype(np.int64),
                "median_seconds": _median_per_annotator(seconds, judgments),
                "agreement_with_consensus": agree_share / np.maximum(per_annotator, 1),
                "gold_judgments": gold_n.astype(np.int64),
                "gold_accuracy": np.where(gold_n > 0, gold_right / gold_n, np.nan),
                "estimated_accuracy": right / np.maximum(evidence.sum(axis=1), 1e-300),
                "spammer_score": score,
                "cohen_kappa_mean": kappas.per_annotator(judgments.n_annotators),
                "likely_spammer": flagged,
            }
        )
    return report[ANNOTATOR_COLUMNS].round(6)


def _median_per_annotator(seconds: np.ndarray | None, judgments: Judgments) -> np.ndarray:
    if seconds is None:
        return np.full(judgments.n_annotators, np.nan)
    medians = pd.Series(seconds).groupby(judgments.annotator).median()
    return medians.reindex(range(judgments.n_annotators)).to_numpy(dtype=float)


def annotator_plot_rows(report: pd.DataFrame, min_judgments: int) -> pd.DataFrame:
    """What the annotators plot shows: estimated and gold accuracy, and the spammer flag, which
    is "not assessed" for an annotator with too few judgments (under ``min_judgments``) or no
    spammer score: drawn as "ok", three judgments all wrong on gold looked vetted.

    A display copy of ``report`` (reports/annotators.csv keeps the exact ids): ids are made
    safe for the page DVC embeds them in (stages.core.markup).
    """
    rows = report[["annotator_id", "estimated_accuracy", "gold_accuracy", "judgments"]].copy()
    rows["annotator_id"] = rows["annotator_id"].astype(object)
    assessed = (report["judgments"] >= min_judgments) & report["spammer_score"].notna()
    rows["flag"] = np.select(
        [report["likely_spammer"], assessed], ["likely spammer", "ok"], "not assessed"
    )
    return plot_rows(rows)
