"""Running a truth-inference method as the stage runs it: the candidates fitted on one shared
setup, `auto`'s choice among them, and ``keep_unanimous`` applied, so that `auto`'s folds, the
gold accuracy and the labels written all score the same labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stages.core.params import METHODS, complete, default
from stages.truth.aggregation import EMSetup, Judgments, Result, majority_vote, unanimous
from stages.truth.em import MEMBERS, DawidSkene, Mace, OneCoin, ensemble, fit, fit_members
from stages.truth.method_choice import Choice, choose_method

# auto: the method the team's gold favours by cross-validation, else the ensemble (FALLBACK).
CANDIDATES = METHODS[1:]
DEFAULT_METHOD = default("label_merge.method")
FALLBACK = "ensemble"


def fit_methods(
    judgments: Judgments,
    options: dict[str, Any],
    seed: int,
    gold: np.ndarray | None = None,
    methods: Sequence[str] = CANDIDATES,
) -> dict[str, Result]:
    """Fit each of ``methods`` (never ``auto``) on one shared setup; the ensemble reuses its
    members' fits when they are fitted too."""
    setup = EMSetup.build(judgments, gold)
    options = complete("label_merge", options)
    em = {"max_iter": options["max_iter"], "tol": options["tol"]}
    results: dict[str, Result] = {}
    if "ensemble" in methods:
        members = fit_members(setup, gold, **em)
        results["ensemble"] = ensemble(setup, gold, members=members, **em)
        # The ensemble's Dawid-Skene is the paper's; a prior (prior_strength) asks for another.
        strength = float(options["prior_strength"])
        shared = [name for name in MEMBERS if not (name == "dawid_skene" and strength > 0)]
        results.update({name: members[name] for name in shared if name in methods})
    for method in methods:
        if method in results:
            continue
        if method == "majority_vote":
            result = majority_vote(judgments, options["tie_rule"], seed)
            if gold is not None:  # majority vote learns nothing from gold: it only overrides
                known = gold >= 0
                result.label[known] = gold[known]
        elif method == "dawid_skene":
            strength = float(options["prior_strength"])
            result = fit(setup, DawidSkene(strength), gold, **em)
        elif method == "mace":
            result = fit(setup, Mace(), gold, **em)
        elif method == "one_coin":
            result = fit(setup, OneCoin(), gold, **em)
        else:
            raise ValueError(f"unknown method '{method}'; use one of {', '.join(METHODS)}")
        results[method] = result
    return results


def choose(
    judgments: Judgments, options: dict[str, Any], seed: int, gold: np.ndarray | None
) -> Choice:
    """The method that labels: ``label_merge.method``, or for ``auto`` the one gold favours."""
    method = complete("label_merge", options)["method"]
    if method != "auto":
        return Choice(method, "set by label_merge.method", {}, 0)
    if gold is None or not (gold >= 0).any():
        return Choice(FALLBACK, "no gold items to compare methods on", {}, 0)

    counts = (
        judgments.counts().toarray() if complete("label_merge", options)["keep_unanimous"] else None
    )

    def fit_all(seen: np.ndarray) -> dict[str, Result]:  # each as run_method would run it
        fitted = fit_methods(judgments, options, seed, seen)
        return {name: _with_unanimous_kept(result, judgments, options, seen, counts)
                for name, result in fitted.items()}  # fmt: skip

    return choose_method(judgments, gold, FALLBACK, fit_all, seed)


def run_method(
    judgments: Judgments,
    options: dict[str, Any],
    seed: int,
    gold: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> Result:
    """Run the method; with ``keep_unanimous``, an item whose judgments all agree keeps that label.

    Off by default: Dawid-Skene rightly overrides unanimous but biased annotators (on
    zheng_product, the ensemble overrides 29 unanimous items and 16 of those are right). When
    on, the confidence stays the method's posterior for the kept label, so such items come out
    unsure and go to the relabel tasks. Gold items keep their gold label either way.
    """
    method = choose(judgments, options, seed, gold).method
    result = fit_methods(judgments, options, seed, gold, [method])[method]
    return _with_unanimous_kept(result, judgments, options, gold, counts)


def _with_unanimous_kept(
    result: Result,
    judgments: Judgments,
    options: dict[str, Any],
    gold: np.ndarray | None,
    counts: np.ndarray | None = None,
) -> Result:
    """``result`` as ``run_method`` returns it: with ``keep_unanimous``, an item whose judgments
    all agree (and that is not gold) keeps that label. ``counts``: the judgments' label counts
    per item, where a caller has them (one dense copy for every fold)."""
    if not complete("label_merge", options)["keep_unanimous"]:
        return result
    counts = judgments.counts().toarray() if counts is None else counts
    agreed = unanimous(counts) & ((gold < 0) if gold is not None else True)
    label = result.label.copy()
    label[agreed] = counts[agreed].argmax(axis=1)
    return Result(result.posterior, label, result.confusion, result.iterations)
