"""Inter-annotator agreement computed from integer-coded judgments, vectorised."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse


def krippendorff_alpha_nominal(item: np.ndarray, label: np.ndarray, n_classes: int) -> float:
    """Krippendorff's alpha for nominal data; missing judgments allowed.

    Built from the coincidence matrix (Krippendorff 2011): only items with two or more
    judgments are pairable. Returns NaN when there is no pairable item or no variation.
    """
    if len(item) == 0:
        return float("nan")
    _, item_codes = np.unique(item, return_inverse=True)
    counts = sparse.csr_matrix(
        (np.ones(len(item)), (item_codes, label)), shape=(item_codes.max() + 1, n_classes)
    ).toarray()
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    counts, per_item = counts[pairable], per_item[pairable]
    if len(counts) == 0:
        return float("nan")
    weights = 1.0 / (per_item - 1)
    coincidence = (counts * weights[:, None]).T @ counts - np.diag(
        (counts * weights[:, None]).sum(axis=0)
    )
    marginals = coincidence.sum(axis=1)
    total = marginals.sum()
    expected = total**2 - (marginals**2).sum()
    if expected == 0:
        return float("nan")
    observed_disagreement = coincidence.sum() - np.trace(coincidence)
    return float(1.0 - (total - 1.0) * observed_disagreement / expected)


def fleiss_kappa(item: np.ndarray, label: np.ndarray, n_classes: int) -> tuple[float, str]:
    """Fleiss' kappa, defined only when every item has the same number of judgments.

    Returns the value and an empty note, or NaN and the reason it does not apply.
    """
    if len(item) == 0:
        return float("nan"), "no judgments"
    _, item_codes = np.unique(item, return_inverse=True)
    counts = sparse.csr_matrix(
        (np.ones(len(item)), (item_codes, label)), shape=(item_codes.max() + 1, n_classes)
    ).toarray()
    raters = counts.sum(axis=1)
    if raters.min() != raters.max():
        return float("nan"), (
            f"items have {int(raters.min())} to {int(raters.max())} judgments; "
            "Fleiss' kappa needs the same number for every item"
        )
    n = raters[0]
    if n < 2:
        return float("nan"), "every item has a single judgment"
    per_item = ((counts**2).sum(axis=1) - n) / (n * (n - 1))
    shares = counts.sum(axis=0) / counts.sum()
    expected = float((shares**2).sum())
    if expected == 1.0:
        return float("nan"), "all judgments are one class"
    return float((per_item.mean() - expected) / (1.0 - expected)), ""


def cohen_kappa(agree: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Cohen's kappa from a table's diagonal sum and its two marginals (..., K): all that it
    needs, so that no K x K table per annotator pair is ever built."""
    total = first.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = agree / total
        expected = (first * second).sum(axis=-1) / total**2
        return np.where(expected < 1.0, (observed - expected) / (1.0 - expected), np.nan)


@dataclass(frozen=True)
class PairCounts:
    """Every annotator pair sharing at least ``min_overlap`` items: on those items, how often
    they agree and how each one's labels are spread. P pairs x K classes, never P x K x K."""

    pairs: np.ndarray  # P x 2 annotator codes, first < second
    agree: np.ndarray  # P
    first: np.ndarray  # P x K: the first annotator's labels on the shared items
    second: np.ndarray  # P x K: the second's


def pair_counts(
    item: np.ndarray,
    annotator: np.ndarray,
    label: np.ndarray,
    n_annotators: int,
    n_classes: int,
    min_overlap: int = 1,
) -> PairCounts:
    """Built from one sparse product (items x annotator-labels), so cost grows with the
    judgment pairs, not with items, and memory with the pairs kept, not with K squared."""
    columns = annotator * n_classes + label
    _, item_codes = np.unique(item, return_inverse=True)
    indicator = sparse.csr_matrix(
        (np.ones(len(item)), (item_codes, columns)),
        shape=(item_codes.max() + 1 if len(item) else 0, n_annotators * n_classes),
    )
    joint = sparse.triu(indicator.T @ indicator, format="coo")
    first, second = joint.row // n_classes, joint.col // n_classes
    keys = first.astype(np.int64) * n_annotators + second
    pair_keys, pair_index = np.unique(keys, return_inverse=True)
    shared = np.bincount(pair_index, weights=joint.data)  # items both judged
    keep = (pair_keys // n_annotators < pair_keys % n_annotators) & (shared >= min_overlap)
    renumber = np.cumsum(keep) - 1
    rows = keep[pair_index]
    index, value = renumber[pair_index[rows]], joint.data[rows]
    first_label, second_label = joint.row[rows] % n_classes, joint.col[rows] % n_classes
    kept = int(keep.sum())
    return PairCounts(
        pairs=np.stack([pair_keys[keep] // n_annotators, pair_keys[keep] % n_annotators], axis=1),
        agree=np.bincount(index, weights=value * (first_label == second_label), minlength=kept),
        first=_spread(index * n_classes + first_label, value, kept, n_classes),
        second=_spread(index * n_classes + second_label, value, kept, n_classes),
    )


def _spread(cells: np.ndarray, weights: np.ndarray, rows: int, n_classes: int) -> np.ndarray:
    return np.bincount(cells, weights=weights, minlength=rows * n_classes).reshape(rows, n_classes)
