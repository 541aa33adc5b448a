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
