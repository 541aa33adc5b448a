"""Truth inference: one label per item from many annotators' judgments.

Both methods take integer-coded judgments (item, annotator, label) and return a posterior
matrix (items x classes). Everything is vectorised with sparse matrices: no Python loop runs
over items or judgments, so millions of rows cost seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from stages.core.params import TIE_RULES


@dataclass(frozen=True)
class Judgments:
    """Integer-coded judgments: parallel arrays of item, annotator and label codes."""

    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    n_items: int
    n_annotators: int
    n_classes: int

    def subset(self, keep: np.ndarray) -> Judgments:
        """The same coding, fewer judgments."""
        return Judgments(
            self.item[keep],
            self.annotator[keep],
            self.label[keep],
            self.n_items,
            self.n_annotators,
            self.n_classes,
        )

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


def class_prior(posterior: np.ndarray, judged: np.ndarray, pseudo_count: float = 0.0) -> np.ndarray:
    """Each class's share of the judged items' posterior mass, ``pseudo_count`` added per class:
    the one estimate of the class prior (maximum likelihood at 0)."""
    mass = judged_sum(posterior, judged) + pseudo_count
    return mass / mass.sum()


def judged_sum(values: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Sum over judged items (axis 0); a plain sum when every item is judged, as usual."""
    return values.sum(axis=0) if judged.all() else values[judged].sum(axis=0)


def unanimous(counts: np.ndarray) -> np.ndarray:
    """Items whose judgments all chose one label (``counts``: items x classes, dense)."""
    totals = counts.sum(axis=1)
    return (totals > 0) & (counts.max(axis=1) == totals)


def by_pair_matrix(judgments: Judgments) -> sparse.csr_matrix:
    """(annotator, observed label) pairs x items: ``M @ posterior`` sums posteriors per pair."""
    rows = judgments.annotator * judgments.n_classes + judgments.label
    ones = np.ones(len(rows), dtype=np.float64)
    shape = (judgments.n_annotators * judgments.n_classes, judgments.n_items)
    return sparse.csr_matrix((ones, (rows, judgments.item)), shape=shape)


@dataclass(frozen=True)
class EMSetup:
    """What every EM method needs once: sparse design matrices and a majority-vote start.

    Methods share one setup (the ensemble fits three models on it, ``auto`` many more).
    """

    by_pair: sparse.csr_matrix  # (annotator, observed) x items: M-step sums
    by_item: sparse.csr_matrix  # items x (annotator, observed): E-step sums
    start: np.ndarray  # items x classes, vote shares (gold clamped); never written to
    judged: np.ndarray  # items with at least one judgment
    label_counts: np.ndarray  # annotators x observed labels
    n_judgments: int

    @classmethod
    def build(cls, judgments: Judgments, gold: np.ndarray | None = None) -> EMSetup:
        by_pair = by_pair_matrix(judgments)
        counts = judgments.counts().toarray()
        totals = counts.sum(axis=1, keepdims=True)
        uniform = np.full_like(counts, 1.0 / judgments.n_classes)
        start = clamp(np.divide(counts, totals, out=uniform, where=totals > 0), gold)
        start.flags.writeable = False
        label_counts = np.asarray(by_pair.sum(axis=1)).reshape(
            judgments.n_annotators, judgments.n_classes
        )
        judged = totals[:, 0] > 0
        return cls(by_pair, by_pair.T.tocsr(), start, judged, label_counts, len(judgments.item))

    def judged_sum(self, values: np.ndarray) -> np.ndarray:
        return judged_sum(values, self.judged)

    def observed(self, posterior: np.ndarray) -> np.ndarray:
        """Expected judgments per annotator, true class and observed label (a x true x observed)."""
        n_annotators, n_classes = self.label_counts.shape
        return (
            (self.by_pair @ posterior)
            .reshape(n_annotators, n_classes, n_classes)
            .transpose(0, 2, 1)
        )

    def e_step(
        self, log_confusion: np.ndarray, log_prior: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior over true classes, and each item's log marginal likelihood."""
        n_classes = log_prior.shape[0]
        per_pair = log_confusion.transpose(0, 2, 1).reshape(-1, n_classes)
        posterior = self.by_item @ per_pair
        posterior += log_prior
        top = row_reduce(np.maximum, posterior)
        posterior -= top[:, None]
        np.exp(posterior, out=posterior)
        norm = row_reduce(np.add, posterior)
        posterior /= norm[:, None]
        return posterior, top + np.log(norm)

    def finish(
        self,
        posterior: np.ndarray,
        gold: np.ndarray | None,
        confusion: np.ndarray | None,
        iterations: int,
    ) -> Result:
        labelled = self.judged | ((gold >= 0) if gold is not None else False)
        # When the model cannot tell classes apart (equal posteriors), the votes decide.
        label = np.where(labelled, (posterior + 1e-9 * self.start).argmax(axis=1), -1)
        return Result(posterior=posterior, label=label, confusion=confusion, iterations=iterations)


def row_reduce(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
    """``ufunc`` across each row, one column at a time, left to right.

    With a handful of classes this is about three times faster than numpy's reduction along
    axis 1, and the order of the additions is fixed on every machine.
    """
    out = values[:, 0].copy()
    for column in range(1, values.shape[1]):
        ufunc(out, values[:, column], out=out)
    return out


def clamp(posterior: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    """Gold items' posterior is their expert label, with certainty (gold: -1 where unknown)."""
    if gold is None:
        return posterior
    known = gold >= 0
    posterior[known] = 0.0
    posterior[known, gold[known]] = 1.0
    return posterior
