"""Other members for the ensemble, compared leave-one-dataset-out (docs/label-merge.md).

Each design swaps one member of the default ensemble (Dawid-Skene, MACE, one-coin) for a
textbook variant, or adds one, and is scored on every real dataset in ../shared/data/crowd/.
No variant has a constant fitted to these datasets: Dirichlet(1/2) is Jeffreys' prior,
Dirichlet(1) the uniform one, BIC and AIC their textbook penalties. The leave-one-dataset-out
table says which design the other twelve datasets would pick for each one.

Run with `.venv-bench/bin/python bench/member_designs.py` (crowd-kit's Dawid-Skene, the
reference, comes from .venv-bench; without it the "behind" column is left out). About a minute.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from accuracy import crowd_kit, leave_one_dataset_out, load
from common import CROWD_DATA, markdown_table
from scipy.special import digamma

from stages.truth import em
from stages.truth.aggregation import EMSetup, Judgments

Design = Callable[[Judgments, EMSetup, dict[str, np.ndarray]], np.ndarray]


def _safe_log(values: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(values, 1e-300))


@dataclass
class BayesDawidSkene:
    """Dawid-Skene by variational Bayes: Dirichlet(``concentration``) on every confusion row."""

    concentration: float

    def start(self, setup: EMSetup) -> None:
        return None

    def m_step(self, setup: EMSetup, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cells = setup.observed(posterior) + self.concentration
        prior = setup.judged_sum(posterior) + 1.0
        return (
            digamma(cells) - digamma(cells.sum(axis=2, keepdims=True)),
            digamma(prior) - digamma(prior.sum()),
        )


def _one_coin(observed: np.ndarray) -> np.ndarray:
    """Each annotator's maximum-likelihood one-coin confusion matrix from expected counts."""
    n_annotators, n_classes, _ = observed.shape
    judged = observed.sum(axis=(1, 2))
    right = np.einsum("akk->a", observed)
    skill = np.divide(right, judged, out=np.full(n_annotators, 0.5), where=judged > 0)
    skill = np.clip(skill, 1e-6, 1 - 1e-6)
    identity = np.eye(n_classes)
    miss = (1 - skill) / max(n_classes - 1, 1)
    return skill[:, None, None] * identity + miss[:, None, None] * (1 - identity)


@dataclass
class LearntPriorOneCoin:
    """One-coin with the class prior learnt by maximum likelihood (ours keeps it uniform)."""

    def start(self, setup: EMSetup) -> None:
        return None

    def m_step(self, setup: EMSetup, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shares = setup.judged_sum(posterior)
        return _safe_log(_one_coin(setup.observed(posterior))), _safe_log(shares / shares.sum())


@dataclass
class ChosenPerAnnotator:
    """Each annotator gets a full confusion matrix or one coin, whichever ``criterion`` prefers."""

    criterion: str  # "bic" or "aic"

    def start(self, setup: EMSetup) -> None:
        return None

    def m_step(self, setup: EMSetup, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        observed = setup.observed(posterior)
        n_classes = observed.shape[1]
        rows = observed.sum(axis=2, keepdims=True)
        full = np.divide(observed, rows, out=np.full_like(observed, 1 / n_classes), where=rows > 0)
        coin = _one_coin(observed)
        fit_full = (observed * _safe_log(full)).sum(axis=(1, 2))
        fit_coin = (observed * _safe_log(coin)).sum(axis=(1, 2))
        extra = n_classes * (n_classes - 1) - 1  # free parameters the full matrix adds
        per_parameter = np.log(np.maximum(observed.sum(axis=(1, 2)), 1.0)) / 2
        penalty = extra * (per_parameter if self.criterion == "bic" else 1.0)
        use_full = fit_full - penalty > fit_coin
        shares = setup.judged_sum(posterior)
        confusion = np.where(use_full[:, None, None], full, coin)
        return _safe_log(confusion), _safe_log(shares / shares.sum())


def leave_item_out(judgments: Judgments, setup: EMSetup, max_iter: int = 100) -> np.ndarray:
    """Dawid-Skene where each judgment is weighed with counts that leave its own item out."""
    posterior = setup.start.copy()
    for _ in range(max_iter):
        observed = setup.observed(posterior)
        own = posterior[judgments.item]
        cell = observed[judgments.annotator, :, judgments.label] - own
        row = observed[judgments.annotator].sum(axis=2) - own
        rate = np.divide(cell, row, out=np.full_like(cell, 1 / own.shape[1]), where=row > 1e-9)
        log_posterior = np.zeros_like(posterior)
        np.add.at(log_posterior, judgments.item, np.log(np.clip(rate, 1e-6, 1.0)))
        shares = setup.judged_sum(posterior)
        log_posterior += np.log(shares / shares.sum())
        log_posterior -= log_posterior.max(axis=1, keepdims=True)
        update = np.exp(log_posterior)
        update /= update.sum(axis=1, keepdims=True)
        moved = np.abs(update - posterior).max()
        posterior = update
        if moved < 1e-6:
            break
    return posterior


def easy_hard(judgments: Judgments, setup: EMSetup, max_iter: int = 100) -> np.ndarray:
    """Dawid-Skene with a latent easy/hard split: on easy items everyone shares one confusion
    matrix, on hard ones each annotator has their own."""
    n_classes = judgments.n_classes
    easy, hard = setup.start * 0.5, setup.start * 0.5
    previous = -np.inf
    for _ in range(max_iter):
        observed = setup.observed(hard)
        rows = observed.sum(axis=2, keepdims=True)
        own = np.divide(observed, rows, out=np.full_like(observed, 1 / n_classes), where=rows > 0)
        pooled = setup.observed(easy).sum(axis=0)
        shared = pooled / np.maximum(pooled.sum(axis=1, keepdims=True), 1e-300)
        classes = setup.judged_sum(easy + hard)
        easy_share = setup.judged_sum(easy).sum() / classes.sum()
        log_class = np.log(classes / classes.sum())
        per_pair = _safe_log(own).transpose(0, 2, 1).reshape(-1, n_classes)
        shared_pairs = np.tile(_safe_log(shared).T, (judgments.n_annotators, 1))
        log_hard = setup.by_item @ per_pair + log_class + np.log(1 - easy_share)
        log_easy = setup.by_item @ shared_pairs + log_class + np.log(easy_share)
        top = np.maximum(log_hard.max(axis=1), log_easy.max(axis=1))[:, None]
        hard, easy = np.exp(log_hard - top), np.exp(log_easy - top)
        norm = hard.sum(axis=1) + easy.sum(axis=1)
        hard, easy = hard / norm[:, None], easy / norm[:, None]
        objective = float((top[:, 0] + np.log(norm)).sum()) / setup.n_judgments
        if abs(objective - previous) < 1e-7:
            break
        previous = objective
    return hard + easy


def one_step(judgments: Judgments, setup: EMSetup) -> np.ndarray:
    """The two-stage estimator: each annotator's confusion matrix measured against the vote,
    then one Bayes vote with them (one EM step of Dawid-Skene). It weighs annotators' habits
    but cannot drift far from the vote, which is close to what crowd-kit's Dawid-Skene does on
    fact_eval and zc_us, where its stopping rule ends after two iterations."""
    return em.fit(setup, em.DawidSkene(), max_iter=1).posterior


def _swap(member: str, variant: Callable[[Judgments, EMSetup], np.ndarray]) -> Design:
    def design(judgments: Judgments, setup: EMSetup, members: dict[str, np.ndarray]) -> np.ndarray:
        chosen = {**members, member: variant(judgments, setup)}
        return sum(chosen.values()) / len(chosen)

    return design


def _model(model: em.Model) -> Callable[[Judgments, EMSetup], np.ndarray]:
    return lambda _, setup: em.fit(setup, model).posterior


VARIANTS: dict[str, Callable[[Judgments, EMSetup], np.ndarray]] = {
    "vb_dawid_skene_jeffreys": _model(BayesDawidSkene(0.5)),
    "vb_dawid_skene_uniform": _model(BayesDawidSkene(1.0)),
    "one_coin_learnt_prior": _model(LearntPriorOneCoin()),
    "bic_per_annotator": _model(ChosenPerAnnotator("bic")),
    "aic_per_annotator": _model(ChosenPerAnnotator("aic")),
    "leave_item_out": leave_item_out,
    "easy_hard": easy_hard,
    "one_step_dawid_skene": one_step,
}

DESIGNS: dict[str, Design] = {
    "the ensemble": lambda _, __, members: sum(members.values()) / len(members),
    "VB Dawid-Skene, Dirichlet(1/2), for Dawid-Skene": _swap(
        "dawid_skene", VARIANTS["vb_dawid_skene_jeffreys"]
    ),
    "VB Dawid-Skene, Dirichlet(1), added": _swap("vb", VARIANTS["vb_dawid_skene_uniform"]),
    "one-coin with a learnt class prior, for one-coin": _swap(
        "one_coin", VARIANTS["one_coin_learnt_prior"]
    ),
    "BIC: full matrix or one coin per annotator, for Dawid-Skene": _swap(
        "dawid_skene", VARIANTS["bic_per_annotator"]
    ),
    "AIC: full matrix or one coin per annotator, for Dawid-Skene": _swap(
        "dawid_skene", VARIANTS["aic_per_annotator"]
    ),
    "leave-item-out Dawid-Skene, for Dawid-Skene": _swap("dawid_skene", VARIANTS["leave_item_out"]),
    "easy/hard Dawid-Skene, for Dawid-Skene": _swap("dawid_skene", VARIANTS["easy_hard"]),
    "one-step Dawid-Skene from the vote, added": _swap(
        "one_step", VARIANTS["one_step_dawid_skene"]
    ),
}


def main() -> int:
    if not CROWD_DATA.is_dir():
        print(f"no datasets at {CROWD_DATA}; nothing to measure")
        return 0
    names = sorted(p.name for p in CROWD_DATA.iterdir() if (p / "gold.csv").exists())
    accuracy: dict[str, dict[str, float]] = {}
    behind: dict[str, dict[str, int]] = {}
    for name in names:
        annotations, judgments, gold, _ = load(name)
        setup = EMSetup.build(judgments)
        members = {k: r.posterior for k, r in em.fit_members(setup, None).items()}
        scored = gold >= 0
        truth = pd.read_csv(CROWD_DATA / name / "gold.csv", dtype=str).set_index("item_id")
        reference = crowd_kit(annotations, truth["label"], ["DS"]).get("DS")
        for design, combine in DESIGNS.items():
            label = combine(judgments, setup, members).argmax(axis=1)
            score = float((label[scored] == gold[scored]).mean())
            accuracy.setdefault(design, {})[name] = score
            if reference is not None:
                behind.setdefault(design, {})[name] = round((score - reference) * scored.sum())
        print(f"measured {name}", file=sys.stderr)
    table = pd.DataFrame(accuracy)
    rows = []
    for design in DESIGNS:
        gaps = behind.get(design, {})
        late = ", ".join(f"{n} {g:+d}" for n, g in gaps.items() if g < -1)
        rows.append([design, f"{table[design].mean():.4f}", late if behind else "n/a"])
    print("## Other ensemble members\n")
    header = ["design", "mean accuracy", "more than one item behind crowd-kit DS"]
    print(markdown_table(header, rows))
    picks = leave_one_dataset_out(table)
    print("\nLeave-one-dataset-out picks: " + ", ".join(picks["picked on the others"].unique()))
    print(f"mean held-out accuracy of the picks: {picks['accuracy'].mean():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
