"""The `auto` method: pick the truth-inference method that the team's own gold items favour.

Each candidate method is scored by K-fold cross-validation on the gold items: the items of one
fold are hidden, the method is fitted with the other gold items clamped, and its labels for the
hidden items are compared with the experts'. No method is ever scored on gold it was fitted
with. The default keeps its place unless another method beats it beyond one standard error of
the paired difference (the "one standard error" rule of cross-validation, Hastie, Tibshirani &
Friedman, ESL 7.10), tested exactly: only the items where the two disagree tell them apart, and
with a handful of those the normal approximation lets noise through (2 to 0 passed it). So the
lead must pass a one-sided exact sign test at the rule's own level, P(Z > 1) = 0.159.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from stages.core.markup import quantity
from stages.core.progress import counted
from stages.truth.aggregation import Judgments, Result

FOLDS = 5
MIN_GOLD = 20  # below this, one item moves a fold's accuracy by more than 5 points
LEVEL = 0.158655  # one standard error, one-sided: P(Z > 1) for a standard normal Z


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
    usable = judged_gold(judgments, gold)
    if len(usable) < MIN_GOLD:
        return Choice(
            default,
            f"{quantity(len(usable), 'judged gold item')}: auto needs at least {MIN_GOLD} to "
            "compare methods",
            {},
            len(usable),
        )
    right = cross_validated(gold, usable, fit_all, seed, "auto: comparing methods")
    accuracy = {method: float(hits.mean()) for method, hits in right.items()}
    best = max(sorted(accuracy), key=lambda method: (accuracy[method], method == default))
    if best == default:
        reason = f"no method was more accurate on the {len(usable)} gold items"
        return Choice(default, reason, accuracy, len(usable))
    wins = int((right[best] & ~right[default]).sum())
    losses = int((right[default] & ~right[best]).sum())
    chance = sign_test(wins, losses)
    record = (
        f"{best} was right on {wins} and {default} on {losses} of the gold items where they "
        f"disagree (sign test p = {chance:.3f}"
    )
    if chance < LEVEL:
        reason = f"it beat the default {default}: {record}, under {LEVEL:.3f})"
        return Choice(best, reason, accuracy, len(usable))
    reason = f"none beat it beyond the one-standard-error level: {record}, over {LEVEL:.3f})"
    return Choice(default, reason, accuracy, len(usable))


def judged_gold(judgments: Judgments, gold: np.ndarray) -> np.ndarray:
    """The gold items someone judged: those a method can be scored on."""
    judged = np.bincount(judgments.item, minlength=judgments.n_items) > 0
    return np.flatnonzero((gold >= 0) & judged)


def cross_validated(
    gold: np.ndarray,
    usable: np.ndarray,
    fit_all: Callable[[np.ndarray], dict[str, Result]],
    seed: int,
    doing: str,
) -> dict[str, np.ndarray]:
    """Per method, whether it got each of the ``usable`` gold items right when fitted with the
    gold of the other folds clamped (folds drawn from ``seed``)."""
    folds = np.random.default_rng(seed).permutation(len(usable)) % FOLDS
    right: dict[str, np.ndarray] = {}
    for fold in counted(range(FOLDS), f"{doing} on {FOLDS} folds of gold", FOLDS):
        hidden = usable[folds == fold]
        seen = gold.copy()
        seen[hidden] = -1
        for method, result in fit_all(seen).items():
            hits = right.setdefault(method, np.zeros(len(usable), dtype=bool))
            hits[folds == fold] = result.label[hidden] == gold[hidden]
    return right


def sign_test(wins: int, losses: int) -> float:
    """One-sided exact sign test (McNemar's, exact): the chance of ``wins`` or more among the
    items where two methods disagree if each were as likely to be right. Integer arithmetic:
    the same on every machine."""
    disagree = wins + losses
    term = math.comb(disagree, wins)  # then C(n, k + 1) = C(n, k) (n - k) / (k + 1), exactly
    tail = 0
    for k in range(wins, disagree + 1):
        tail += term
        term = term * (disagree - k) // (k + 1)
    return float(Fraction(tail, 2**disagree))
