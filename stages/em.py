"""Truth inference by EM: Dawid-Skene (the default), MACE and one-coin Dawid-Skene.

All three share one shape: start from majority-vote shares, alternate an M-step (annotator
parameters from the current posteriors, summed with one sparse product) and an E-step (item
posteriors from those parameters, one more sparse product), stop when the objective per
judgment rises by less than ``tol``. No Python loop runs over items or judgments.
``gold`` (a class code per item, -1 where unknown) clamps gold items to their expert label.
"""

from __future__ import annotations

import numpy as np

from stages.aggregation import EMSetup, Judgments, Result, clamp

_TINY = 1e-300


def dawid_skene(
    judgments: Judgments,
    max_iter: int = 100,
    tol: float = 1e-6,
    prior_strength: float = 0.3,
    smoothing: float = 0.01,
    gold: np.ndarray | None = None,
) -> Result:
    """Dawid & Skene (1979) by MAP-EM, with a prior centred on an uninformative annotator.

    Each annotator a has a confusion matrix pi_a[true, observed]. Its rows get a Dirichlet prior
    with pseudo-counts alpha_a[c, l] = s * K^2 * rho0_c * q_a(l): q_a is the annotator's own
    label habit (share of each label over all their judgments), rho0 the majority-vote class
    shares, s = ``prior_strength`` pseudo-judgments per cell on average. That prior is the
    confusion matrix of someone whose answer ignores the item but keeps their habits, so
    annotators with few judgments count for little, heavy annotators are barely touched, and,
    unlike uniform smoothing, a label an annotator rarely uses is not inflated (which matters
    on imbalanced data). The class prior gets ``smoothing`` pseudo-counts per class.
    Stops when the MAP objective (log-likelihood plus log-priors, per judgment) rises by less
    than ``tol``; EM never lowers it.
    """
    n_classes, n_annotators = judgments.n_classes, judgments.n_annotators
    setup = EMSetup.build(judgments, gold)
    posterior = setup.start
    own = setup.label_counts.sum(axis=1, keepdims=True)
    habits = np.divide(
        setup.label_counts,
        own,
        out=np.full_like(setup.label_counts, 1.0 / n_classes),
        where=own > 0,
    )
    shares = posterior[setup.judged].sum(axis=0) + smoothing
    shares /= shares.sum()
    alpha = prior_strength * n_classes**2 * shares[None, :, None] * habits[:, None, :]
    per_judgment = 1.0 / max(len(judgments.item), 1)

    confusion = np.zeros((n_annotators, n_classes, n_classes))
    previous, iterations = -np.inf, 0
    while iterations < max_iter:
        iterations += 1
        prior = posterior[setup.judged].sum(axis=0) + smoothing
        log_prior = np.log(prior / prior.sum())
        cells = setup.observed(posterior, n_annotators) + alpha
        rows = cells.sum(axis=2, keepdims=True)
        confusion = np.divide(cells, rows, out=np.full_like(cells, 1.0 / n_classes), where=rows > 0)
        log_confusion = np.log(np.maximum(confusion, _TINY))
        posterior, log_evidence = setup.e_step(log_confusion, log_prior)
        posterior = clamp(posterior, gold)
        objective = per_judgment * (
            log_evidence[setup.judged].sum()
            + (alpha * log_confusion).sum()
            + smoothing * log_prior.sum()
        )
        if objective - previous < tol:
            break
        previous = objective
    return setup.finish(posterior, gold, confusion, iterations)


def mace(
    judgments: Judgments,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 1.0,
    gold: np.ndarray | None = None,
) -> Result:
    """MACE (Hovy, Berg-Kirkpatrick, Vaswani & Hovy, NAACL 2013) by EM.

    Each judgment is the true label with probability theta_a (the annotator's competence);
    otherwise the annotator spams, drawing from their own label distribution xi_a, so
    P(l | c) = theta_a [l = c] + (1 - theta_a) xi_a(l). The class prior is learnt (MACE's
    uniform one fails on imbalanced data); ``smoothing`` pseudo-counts go to xi_a and the prior.
    """
    n_classes, n_annotators = judgments.n_classes, judgments.n_annotators
    setup = EMSetup.build(judgments, gold)
    posterior = setup.start
    own = setup.label_counts.sum(axis=1)
    theta = np.full(n_annotators, 0.5)
    spam = (setup.label_counts + smoothing) / (own[:, None] + n_classes * smoothing)
    identity = np.eye(n_classes)
    per_judgment = 1.0 / max(len(judgments.item), 1)
    confusion = np.zeros((n_annotators, n_classes, n_classes))
    previous, iterations = -np.inf, 0
    while iterations < max_iter:
        iterations += 1
        agree = np.einsum("akk->ak", setup.observed(posterior, n_annotators))
        honest = theta[:, None] / (theta[:, None] + (1.0 - theta[:, None]) * spam)
        not_spam = agree * honest
        spammed = np.maximum(setup.label_counts - not_spam, 0.0)
        theta = np.divide(not_spam.sum(axis=1), own, out=np.full(n_annotators, 0.5), where=own > 0)
        theta = np.clip(theta, 1e-6, 1 - 1e-6)
        spam = (spammed + smoothing) / (spammed.sum(axis=1, keepdims=True) + n_classes * smoothing)
        confusion = (
            theta[:, None, None] * identity + (1.0 - theta)[:, None, None] * spam[:, None, :]
        )
        prior = posterior[setup.judged].sum(axis=0) + smoothing
        posterior, log_evidence = setup.e_step(np.log(confusion), np.log(prior / prior.sum()))
        posterior = clamp(posterior, gold)
        objective = per_judgment * log_evidence[setup.judged].sum()
        if abs(objective - previous) < tol:
            break
        previous = objective
    return setup.finish(posterior, gold, confusion, iterations)


def one_coin(
    judgments: Judgments, max_iter: int = 100, tol: float = 1e-6, gold: np.ndarray | None = None
) -> Result:
    """One-coin Dawid-Skene: annotator a is right with probability p_a, else uniform on the rest.

    The class prior stays uniform (a learnt one collapses on small imbalanced data).
    """
    n_classes, n_annotators = judgments.n_classes, judgments.n_annotators
    setup = EMSetup.build(judgments, gold)
    posterior = setup.start
    own = setup.label_counts.sum(axis=1)
    identity = np.eye(n_classes)
    log_prior = np.full(n_classes, -np.log(n_classes))
    per_judgment = 1.0 / max(len(judgments.item), 1)
    confusion = np.zeros((n_annotators, n_classes, n_classes))
    previous, iterations = -np.inf, 0
    while iterations < max_iter:
        iterations += 1
        right = np.einsum("akk->a", setup.observed(posterior, n_annotators))
        skill = np.clip(
            np.divide(right, own, out=np.full(n_annotators, 0.5), where=own > 0), 1e-6, 1 - 1e-6
        )
        miss = (1.0 - skill) / max(n_classes - 1, 1)
        confusion = skill[:, None, None] * identity + miss[:, None, None] * (1.0 - identity)
        posterior, log_evidence = setup.e_step(np.log(confusion), log_prior)
        posterior = clamp(posterior, gold)
        objective = per_judgment * log_evidence[setup.judged].sum()
        if abs(objective - previous) < tol:
            break
        previous = objective
    return setup.finish(posterior, gold, confusion, iterations)
