"""Inter-annotator agreement computed from integer-coded judgments, vectorised."""

from __future__ import annotations

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


def cohen_kappa_table(table: np.ndarray) -> np.ndarray:
    """Cohen's kappa of one K x K contingency table, or of a stack of them (..., K, K)."""
    table = np.asarray(table, dtype=np.float64)
    total = table.sum(axis=(-2, -1))
    observed = np.trace(table, axis1=-2, axis2=-1) / total
    expected = (table.sum(axis=-1) * table.sum(axis=-2)).sum(axis=-1) / total**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected < 1.0, (observed - expected) / (1.0 - expected), np.nan)


def pairwise_tables(
    item: np.ndarray, annotator: np.ndarray, label: np.ndarray, n_annotators: int, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every annotator pair that shares an item, with its K x K table of joint judgments.

    Returns ``pairs`` (P x 2, first < second) and ``tables`` (P x K x K). Built from one sparse
    product (items x annotator-labels), so cost grows with the judgment pairs, not with items.
    """
    columns = annotator * n_classes + label
    _, item_codes = np.unique(item, return_inverse=True)
    indicator = sparse.csr_matrix(
        (np.ones(len(item)), (item_codes, columns)),
        shape=(item_codes.max() + 1 if len(item) else 0, n_annotators * n_classes),
    )
    joint = (indicator.T @ indicator).tocoo()
    first, second = joint.row // n_classes, joint.col // n_classes
    keep = first < second
    first, second = first[keep], second[keep]
    first_label, second_label = joint.row[keep] % n_classes, joint.col[keep] % n_classes
    pair_keys, pair_index = np.unique(
        first.astype(np.int64) * n_annotators + second, return_inverse=True
    )
    tables = np.zeros((len(pair_keys), n_classes, n_classes))
    np.add.at(tables, (pair_index, first_label, second_label), joint.data[keep])
    pairs = np.stack([pair_keys // n_annotators, pair_keys % n_annotators], axis=1)
    return pairs, tables
