"""Truth inference: one label per item from many annotators' judgments.

Both methods take integer-coded judgments (item, annotator, label) and return a posterior
matrix (items x classes). Everything is vectorised with sparse matrices: no Python loop runs
over items or judgments, so millions of rows cost seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

TIE_RULES = ("prior", "random", "abstain")


@dataclass(frozen=True)
class Judgments:
    """Integer-coded judgments: parallel arrays of item, annotator and label codes."""

    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_items: int
    n_annotators: int
    n_classes: int

    def counts(self) -> sparse.csr_matrix:
        """Items x classes: how many judgments chose each class."""
        ones = np.ones(len(self.item), dtype=np.float64)
        shape = (self.n_items, self.n_classes)
        return sparse.csr_matrix((ones, (self.item, self.label)), shape=shape)


@dataclass(frozen=True)
class Result:
    posterior: np.ndarray  # items x classes, rows sum to 1 (all zero for an abstained item)
    label: np.ndarray  # class code per item, -1 where the method abstained
    confusion: np.ndarray | None  # annotators x true x observed (Dawid-Skene only)
    iterations: int


def majority_vote(judgments: Judgments, tie_rule: str = "prior", seed: int = 0) -> Result:
    """Most frequent label per item; the posterior is the vote share.

    Ties are broken by ``tie_rule``: ``prior`` picks the tied class that is most frequent over
    all judgments (then the lowest class code); ``random`` picks uniformly among the tied classes
    with a generator seeded from params; ``abstain`` gives no label (-1).
    """
    if tie_rule not in TIE_RULES:
        raise ValueError(f"unknown tie rule '{tie_rule}'; use one of {', '.join(TIE_RULES)}")
    counts = judgments.counts().toarray()
    totals = counts.sum(axis=1, keepdims=True)
    posterior = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    is_top = (counts == counts.max(axis=1, keepdims=True)) & (totals > 0)
    if tie_rule == "random":
        keys = np.random.default_rng(seed).random(counts.shape)
    else:
        prior = counts.sum(axis=0)
        keys = np.broadcast_to(prior - np.arange(judgments.n_classes) * 1e-9, counts.shape)
    label = np.where(is_top, keys, -np.inf).argmax(axis=1)
    tied = is_top.sum(axis=1) > 1
    no_vote = totals[:, 0] == 0
    label = np.where(no_vote | (tied & (tie_rule == "abstain")), -1, label)
    return Result(posterior=posterior, label=label, confusion=None, iterations=0)


def by_pair_matrix(judgments: Judgments) -> sparse.csr_matrix:
    """(annotator, observed label) pairs x items: ``M @ posterior`` sums posteriors per pair."""
    rows = judgments.annotator * judgments.n_classes + judgments.label
    ones = np.ones(len(rows), dtype=np.float64)
    shape = (judgments.n_annotators * judgments.n_classes, judgments.n_items)
    return sparse.csr_matrix((ones, (rows, judgments.item)), shape=shape)


def annotator_confusion(
    judgments: Judgments,
    posterior: np.ndarray,
    smoothing: float,
    by_pair: sparse.csr_matrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """M-step: class prior and each annotator's confusion matrix (true x observed), smoothed."""
    n_classes = judgments.n_classes
    by_pair = by_pair_matrix(judgments) if by_pair is None else by_pair
    judged = np.bincount(judgments.item, minlength=judgments.n_items) > 0
    prior = posterior[judged].sum(axis=0) + smoothing
    prior /= prior.sum()
    observed = (by_pair @ posterior).reshape(judgments.n_annotators, n_classes, n_classes)
    confusion = observed.transpose(0, 2, 1) + smoothing
    confusion /= confusion.sum(axis=2, keepdims=True)
    return confusion, prior


def _clamp(posterior: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    """Gold items' posterior is their expert label, with certainty."""
    if gold is None:
        return posterior
    known = gold >= 0
    posterior[known] = 0.0
    posterior[known, gold[known]] = 1.0
    return posterior


def dawid_skene(
    judgments: Judgments,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
    gold: np.ndarray | None = None,
) -> Result:
    """Dawid & Skene (1979): each annotator has a confusion matrix, fitted by EM.

    Starts from majority-vote shares. ``smoothing`` is a pseudo-count added to every cell of
    every confusion matrix (and to the class prior) so that annotators with few judgments do
    not get zero probabilities. ``gold`` (a class code per item, -1 where unknown) clamps
    gold items to their expert label throughout, which sharpens every annotator's estimate.
    Stops when no posterior moves more than ``tol``.
    """
    n_classes = judgments.n_classes
    by_pair = by_pair_matrix(judgments)
    by_item = by_pair.T.tocsr()
    counts = judgments.counts().toarray()
    totals = counts.sum(axis=1, keepdims=True)
    has_votes = totals[:, 0] > 0
    posterior = np.divide(
        counts, totals, out=np.full_like(counts, 1.0 / n_classes), where=totals > 0
    )
    posterior = _clamp(posterior, gold)
    confusion = np.zeros((judgments.n_annotators, n_classes, n_classes))
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        confusion, prior = annotator_confusion(judgments, posterior, smoothing, by_pair)
        # E-step: log posterior = log prior + sum of log P(observed | true) over judgments.
        log_confusion = np.log(confusion).transpose(0, 2, 1).reshape(-1, n_classes)
        log_post = by_item @ log_confusion + np.log(prior)
        log_post -= log_post.max(axis=1, keepdims=True)
        updated = np.exp(log_post)
        updated /= updated.sum(axis=1, keepdims=True)
        updated = _clamp(updated, gold)
        shift = float(np.abs(updated - posterior).max()) if len(updated) else 0.0
        posterior = updated
        if shift < tol:
            break
    label = np.where(
        has_votes | ((gold >= 0) if gold is not None else False), posterior.argmax(axis=1), -1
    )
    return Result(posterior=posterior, label=label, confusion=confusion, iterations=iterations)
