"""The `auto` method: pick the truth-inference method that the team's own gold items favour.

Each candidate method is scored by K-fold cross-validation on the gold items: the items of one
fold are hidden, the method is fitted with the other gold items clamped, and its labels for the
hidden items are compared with the experts'. No method is ever scored on gold it was fitted
with. The default keeps its place unless another method beats it by more than one standard
error of the paired difference (the "one standard error" rule of cross-validation, Hastie,
Tibshirani & Friedman, ESL 7.10): with a few dozen gold items, a two-item lead is noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stages.core.markup import quantity
from stages.core.progress import counted
from stages.truth.aggregation import Judgments, Result

FOLDS = 5
MIN_GOLD = 20  # below this, one item moves a fold's accuracy by more than 5 points


@dataclass(frozen=True)
class Choice:
    method: str
    reason: str
    cv_accuracy: dict[str, float]  # per candidate, over every judged gold item (empty: fallback)
    gold_items: int  # judged gold items the comparison used


def choose_method(
    judgments: Judgments,
    gold: np.ndarray,
    default: str,
    fit_all: Callable[[np.ndarray], dict[str, Result]],
    seed: int,
) -> Choice:
    """Cross-validate every candidate on the judged gold items; see the module docstring.

    ``fit_all(gold)`` fits every candidate with ``gold`` clamped (-1 where hidden or unknown)
    and returns their results by name (one call per fold, so candidates can share work).
    """
    judged = np.bincount(judgments.item, minlength=judgments.n_items) > 0
    usable = np.flatnonzero((gold >= 0) & judged)
    if len(usable) < MIN_GOLD:
        return Choice(
            default,
            f"{quantity(len(usable), 'judged gold item')}: auto needs at least {MIN_GOLD} to "
            "compare methods",
            {},
            len(usable),
        )
    folds = np.random.default_rng(seed).permutation(len(usable)) % FOLDS
    right: dict[str, np.ndarray] = {}
    for fold in counted(range(FOLDS), f"auto: comparing methods on {FOLDS} folds of gold", FOLDS):
        hidden = usable[folds == fold]
        seen = gold.copy()
        seen[hidden] = -1
        for method, result in fit_all(seen).items():
            hits = right.setdefault(method, np.zeros(len(usable), dtype=bool))
            hits[folds == fold] = result.label[hidden] == gold[hidden]
    accuracy = {method: float(hits.mean()) for method, hits in right.items()}
    best = max(sorted(accuracy), key=lambda method: (accuracy[method], method == default))
    difference = right[best].astype(float) - right[default]
    margin = difference.mean()
    error = difference.std(ddof=1) / np.sqrt(len(difference)) if len(difference) > 1 else 0.0
    if best != default and margin > error:
        reason = (
            f"it beat the default {default} by {margin:.3f} on {len(usable)} gold items "
            f"(one standard error: {error:.3f})"
        )
        return Choice(best, reason, accuracy, len(usable))
    if best == default:
        reason = f"no method was more accurate on the {len(usable)} gold items"
    else:
        reason = (
            f"none beat it by over one standard error ({error:.3f}) on {len(usable)} gold items"
        )
    return Choice(default, reason, accuracy, len(usable))
