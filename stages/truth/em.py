"""Truth inference by EM: Dawid-Skene, MACE, one-coin, and the ensemble of the three (default).

Every method is one ``Model`` plugged into one loop, ``fit``: start from majority-vote shares,
alternate the model's M-step (annotator parameters and class prior from the current
posteriors, summed with one sparse product) and the shared E-step (item posteriors, one more
sparse product), and stop when the mean log-likelihood per judgment moves by less than
``tol``. No Python loop runs over items or judgments. ``gold`` (a class code per item, -1
where unknown) clamps gold items to their expert label.

No parameter here was chosen by looking at accuracy on a benchmark: each model keeps its
authors' estimator (docs/label-merge.md says which, and how the ensemble was compared).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import digamma

from stages.truth.aggregation import EMSetup, Judgments, Result, clamp, class_prior

_TINY = 1e-300
MEMBERS = ("dawid_skene", "mace", "one_coin")


def _log(values: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(values, _TINY))


def _class_shares(setup: EMSetup, posterior: np.ndarray) -> np.ndarray:
    """The class prior's maximum-likelihood estimate: the posterior mass of each class."""
    return class_prior(posterior, setup.judged)


@dataclass
class DawidSkene:
    """Dawid & Skene (1979): a confusion matrix per annotator, by maximum likelihood.

    ``prior_strength`` > 0 adds a Dirichlet prior centred on an annotator who ignores the item
    but keeps their own label habits: alpha[c, l] = s * K^2 * share of class c * the
    annotator's share of label l (MAP instead of maximum likelihood). 0, the default, is the
    original estimator.
    """

    prior_strength: float = 0.0
    alpha: np.ndarray | float = 0.0

    def start(self, setup: EMSetup) -> None:
        if self.prior_strength <= 0:
            return
        counts = setup.label_counts
        n_classes = counts.shape[1]
        own = counts.sum(axis=1, keepdims=True)
        habits = np.divide(counts, own, out=np.full_like(counts, 1.0 / n_classes), where=own > 0)
        shares = _class_shares(setup, setup.start)
        self.alpha = self.prior_strength * n_classes**2 * shares[None, :, None] * habits[:, None, :]

    def m_step(self, setup: EMSetup, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cells = setup.observed(posterior) + self.alpha
        rows = cells.sum(axis=2, keepdims=True)
        n_classes = cells.shape[1]
        confusion = np.divide(cells, rows, out=np.full_like(cells, 1.0 / n_classes), where=rows > 0)
        return _log(confusion), _log(_class_shares(setup, posterior))


@dataclass
class Mace:
    """MACE (Hovy, Berg-Kirkpatrick, Vaswani & Hovy, NAACL 2013), by variational Bayes.

    Each judgment is the true label with probability theta_a (the annotator's competence);
    otherwise the annotator spams, drawing from their own label distribution xi_a:
    P(l | c) = theta_a [l = c] + (1 - theta_a) xi_a(l). The priors are the paper's variational
    ones, theta_a ~ Beta(1/2, 1/2) (Jeffreys) and xi_a ~ Dirichlet(1); the class prior gets a
    uniform Dirichlet(1) (MACE's fixed uniform prior fails on imbalanced data).
    """

    competence_prior: tuple[float, float] = (0.5, 0.5)
    spam_prior: float = 1.0
    class_prior: float = 1.0
    state: dict[str, np.ndarray] = field(default_factory=dict)

    def start(self, setup: EMSetup) -> None:
        counts = setup.label_counts
        n_classes = counts.shape[1]
        habits = (counts + self.spam_prior) / (counts.sum(axis=1, keepdims=True) + n_classes)
        half = np.full(len(counts), np.log(0.5))
        self.state = {"honest": half, "spamming": half.copy(), "spam": np.log(habits)}

    def m_step(self, setup: EMSetup, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = setup.label_counts
        agree = np.einsum("akk->ak", setup.observed(posterior))
        honest_weight = np.exp(self.state["honest"])[:, None]
        spam_weight = np.exp(self.state["spamming"])[:, None] * np.exp(self.state["spam"])
        honest = agree * honest_weight / (honest_weight + spam_weight)
        spammed = np.maximum(counts - honest, 0.0)
        a, b = self.competence_prior
        right, wrong = honest.sum(axis=1) + a, spammed.sum(axis=1) + b
        total = digamma(right + wrong)
        spam_cells = spammed + self.spam_prior
        self.state = {
            "honest": digamma(right) - total,
            "spamming": digamma(wrong) - total,
            "spam": digamma(spam_cells) - digamma(spam_cells.sum(axis=1, keepdims=True)),
        }
        n_classes = counts.shape[1]
        confusion = np.exp(self.state["spamming"])[:, None, None] * np.exp(self.state["spam"])[
            :, None, :
        ] + np.exp(self.state["honest"])[:, None, None] * np.eye(n_classes)
        prior = setup.judged_sum(posterior) + self.class_prior
        return _log(confusion), digamma(prior) - digamma(prior.sum())


@dataclass
class OneCoin:
    """One-coin Dawid-Skene: annotator a is right with probability p_a, else uniform on the rest.

    The class prior stays uniform (a learnt one collapses on small imbalanced data).
    """

    def start(self, setup: EMSetup) -> None:
        return None

    def m_step(self, setup: EMSetup, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        own = setup.label_counts.sum(axis=1)
        n_annotators, n_classes = setup.label_counts.shape
        right = np.einsum("akk->a", setup.observed(posterior))
        skill = np.clip(
            np.divide(right, own, out=np.full(n_annotators, 0.5), where=own > 0), 1e-6, 1 - 1e-6
        )
        miss = (1.0 - skill) / max(n_classes - 1, 1)
        identity = np.eye(n_classes)
        confusion = skill[:, None, None] * identity + miss[:, None, None] * (1.0 - identity)
        return np.log(confusion), np.full(n_classes, -np.log(n_classes))


Model = DawidSkene | Mace | OneCoin


def fit(
    setup: EMSetup,
    model: Model,
    gold: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> Result:
    """The one EM loop every method runs; see the module docstring."""
    model.start(setup)
    posterior = setup.start
    per_judgment = 1.0 / max(setup.n_judgments, 1)
    log_confusion = np.zeros(0)
    previous, iterations = -np.inf, 0
    while iterations < max_iter:
        iterations += 1
        log_confusion, log_prior = model.m_step(setup, posterior)
        posterior, log_evidence = setup.e_step(log_confusion, log_prior)
        posterior = clamp(posterior, gold)
        objective = per_judgment * setup.judged_sum(log_evidence)
        if abs(objective - previous) < tol:
            break
        previous = objective
    # Variational Bayes weighs with geometric means, whose rows sum to a little under one.
    confusion = np.exp(log_confusion)
    confusion /= confusion.sum(axis=2, keepdims=True)
    return setup.finish(posterior, gold, confusion, iterations)


def ensemble(
    setup: EMSetup,
    gold: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    members: dict[str, Result] | None = None,
) -> Result:
    """The mean posterior of Dawid-Skene, MACE and one-coin (``members``: already fitted).

    Three models of decreasing freedom (K^2, K+1 and 1 parameters per annotator) err on
    different datasets; their average is more accurate than any one of them in
    leave-one-dataset-out comparison (docs/label-merge.md). No weight is fitted: each counts
    once.
    """
    fitted = members or fit_members(setup, gold, max_iter, tol)
    posterior = sum(fitted[name].posterior for name in MEMBERS) / len(MEMBERS)
    iterations = max(result.iterations for result in fitted.values())
    return setup.finish(posterior, gold, None, iterations)


def fit_members(
    setup: EMSetup, gold: np.ndarray | None, max_iter: int = 100, tol: float = 1e-6
) -> dict[str, Result]:
    """The ensemble's three members, each with its own defaults."""
    models: dict[str, Model] = {"dawid_skene": DawidSkene(), "mace": Mace(), "one_coin": OneCoin()}
    return {name: fit(setup, model, gold, max_iter, tol) for name, model in models.items()}


def dawid_skene(
    judgments: Judgments,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 0.0,
    gold: np.ndarray | None = None,
) -> Result:
    return fit(EMSetup.build(judgments, gold), DawidSkene(prior_strength), gold, max_iter, tol)


def mace(
    judgments: Judgments, max_iter: int = 100, tol: float = 1e-6, gold: np.ndarray | None = None
) -> Result:
    return fit(EMSetup.build(judgments, gold), Mace(), gold, max_iter, tol)


def one_coin(
    judgments: Judgments, max_iter: int = 100, tol: float = 1e-6, gold: np.ndarray | None = None
) -> Result:
    return fit(EMSetup.build(judgments, gold), OneCoin(), gold, max_iter, tol)
