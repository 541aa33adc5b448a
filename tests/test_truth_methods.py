"""The truth-inference methods on simulated data whose truth is known: each recovers the model
it assumes, the ensemble is the mean of its members, and `auto` never scores a method on gold
it was fitted with."""

import numpy as np
import pytest

from stages.truth.aggregation import EMSetup, Judgments, Result, majority_vote
from stages.truth.em import dawid_skene, ensemble, fit_members, mace, one_coin
from stages.truth.method_choice import MIN_GOLD, choose_method, sign_test
from stages.truth.methods import fit_methods, run_method


def _draw(confusions: np.ndarray, n_items: int, seed: int, prior=None):
    """Every annotator judges every item, drawing from their confusion row for the truth."""
    rng = np.random.default_rng(seed)
    n_annotators, n_classes, _ = confusions.shape
    truth = rng.choice(n_classes, size=n_items, p=prior)
    item = np.repeat(np.arange(n_items), n_annotators)
    annotator = np.tile(np.arange(n_annotators), n_items)
    cumulative = confusions[annotator, truth[item]].cumsum(axis=1)
    label = (rng.random(len(item))[:, None] > cumulative).sum(axis=1)
    judgments = Judgments(item, annotator, label, n_items, n_annotators, n_classes)
    return judgments, truth


def _biased_confusions(n_annotators=6, n_classes=3, seed=0) -> np.ndarray:
    """Annotators with their own, asymmetric confusions (diagonal 0.55 to 0.9)."""
    rng = np.random.default_rng(seed)
    confusions = rng.dirichlet(np.ones(n_classes), size=(n_annotators, n_classes))
    diagonal = rng.uniform(0.55, 0.9, size=(n_annotators, n_classes))
    eye = np.eye(n_classes, dtype=bool)
    off = confusions * ~eye
    off /= off.sum(axis=2, keepdims=True)
    return np.where(eye, diagonal[:, :, None], off * (1 - diagonal)[:, :, None])


def test_dawid_skene_recovers_known_confusion_matrices():
    confusions = _biased_confusions()
    judgments, truth = _draw(confusions, 4000, seed=1)
    result = dawid_skene(judgments)
    assert np.abs(result.confusion - confusions).max() < 0.05
    assert (result.label == truth).mean() > 0.95


def test_mace_recovers_competence_and_spam_habits():
    competence = np.array([0.9, 0.8, 0.6, 0.3, 0.1])
    habits = np.array(
        [[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [1 / 3] * 3, [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]
    )
    confusions = (
        competence[:, None, None] * np.eye(3) + (1 - competence)[:, None, None] * habits[:, None, :]
    )
    judgments, truth = _draw(confusions, 4000, seed=2)
    result = mace(judgments)
    assert np.abs(result.confusion - confusions).max() < 0.05
    assert (result.label == truth).mean() > (majority_vote(judgments).label == truth).mean()


def test_one_coin_recovers_each_annotators_accuracy():
    skill = np.array([0.9, 0.75, 0.6, 0.45])
    confusions = skill[:, None, None] * np.eye(4) + ((1 - skill) / 3)[:, None, None] * (
        1 - np.eye(4)
    )
    judgments, _ = _draw(confusions, 3000, seed=3)
    result = one_coin(judgments)
    assert np.abs(result.confusion.diagonal(axis1=1, axis2=2).mean(axis=1) - skill).max() < 0.03


def test_the_ensemble_is_the_mean_of_its_members():
    judgments, truth = _draw(_biased_confusions(seed=4), 500, seed=4)
    setup = EMSetup.build(judgments)
    members = fit_members(setup, None)
    mean = sum(result.posterior for result in members.values()) / 3
    result = ensemble(setup)
    assert np.array_equal(result.posterior, mean)
    assert np.array_equal(result.label, mean.argmax(axis=1))
    assert (result.label == truth).mean() > 0.85


@pytest.mark.parametrize("method", ["ensemble", "dawid_skene", "mace", "one_coin"])
def test_methods_are_invariant_to_row_order_and_to_renaming(method):
    judgments, _ = _draw(_biased_confusions(seed=5), 300, seed=5)
    plain = run_method(judgments, {"method": method}, 0)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(judgments.item))
    items = rng.permutation(judgments.n_items)  # new codes for items, annotators, classes
    annotators = rng.permutation(judgments.n_annotators)
    classes = np.array([2, 0, 1])
    renamed = Judgments(
        items[judgments.item[order]],
        annotators[judgments.annotator[order]],
        classes[judgments.label[order]],
        judgments.n_items,
        judgments.n_annotators,
        judgments.n_classes,
    )
    other = run_method(renamed, {"method": method}, 0)
    assert np.array_equal(classes[plain.label], other.label[items])
    assert np.allclose(plain.posterior, other.posterior[items][:, classes], atol=1e-9)


def _shifted_annotators(n_items=400, seed=6, accuracy=0.8):
    """Five annotators, each right 80% of the time up to their own relabelling of the classes:
    Dawid-Skene untangles them, the symmetric models cannot."""
    shifts = [0, 0, 1, 1, 2]
    confusions = np.stack([accuracy * np.roll(np.eye(3), shift, axis=1) for shift in shifts])
    confusions += (1 - accuracy) / 3
    return _draw(confusions, n_items, seed)


def test_auto_picks_the_method_that_gold_favours_and_says_why():
    judgments, truth = _shifted_annotators(accuracy=0.6)
    gold = np.full(judgments.n_items, -1)
    gold[:60] = truth[:60]
    options = {"method": "auto"}
    choice = choose_method(
        judgments, gold, "ensemble", lambda g: fit_methods(judgments, options, 0, g), 0
    )
    assert choice.method == "dawid_skene" and choice.gold_items == 60
    assert choice.reason == (
        "it beat the default ensemble: dawid_skene was right on 4 and ensemble on 0 of the gold "
        "items where they disagree (sign test p = 0.062, under 0.159)"
    )
    assert set(choice.cv_accuracy) == {
        "ensemble",
        "dawid_skene",
        "mace",
        "one_coin",
        "majority_vote",
    }


def test_auto_keeps_the_default_when_the_lead_is_two_items():
    """2 to 0 on the items where they disagree happens one time in four by chance (and passed
    the normal approximation of one standard error): not enough to switch."""
    judgments, truth = _shifted_annotators()
    gold = np.full(judgments.n_items, -1)
    gold[:60] = truth[:60]
    options = {"method": "auto"}
    choice = choose_method(
        judgments, gold, "ensemble", lambda g: fit_methods(judgments, options, 0, g), 0
    )
    assert choice.method == "ensemble"
    assert choice.cv_accuracy["dawid_skene"] > choice.cv_accuracy["ensemble"]
    assert (
        "right on 2 and ensemble on 0" in choice.reason and "p = 0.250, over 0.159" in choice.reason
    )


def test_the_sign_test_is_exact():
    assert sign_test(2, 0) == 0.25 and sign_test(3, 0) == 0.125 and sign_test(0, 0) == 1.0
    assert sign_test(12, 3) == pytest.approx(0.017578125)  # 576/32768
    assert sign_test(600, 400) < 1e-9 and sign_test(400, 600) > 0.999
    from scipy.stats import binomtest

    for wins, losses in ((7, 2), (30, 20), (10_200, 9_800)):  # the last: 20,000 disagreements
        expected = binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue
        assert sign_test(wins, losses) == pytest.approx(expected, rel=1e-9)


def test_auto_keeps_the_default_with_too_little_gold():
    judgments, truth = _shifted_annotators()
    gold = np.full(judgments.n_items, -1)
    gold[: MIN_GOLD - 1] = truth[: MIN_GOLD - 1]
    choice = choose_method(judgments, gold, "ensemble", lambda g: {}, 0)
    assert choice.method == "ensemble" and choice.cv_accuracy == {}
    assert f"{MIN_GOLD - 1} judged gold items" in choice.reason


def test_auto_never_scores_a_method_on_gold_it_was_fitted_with():
    """A method that copies whatever gold it sees would score 100% if it saw the held-out fold."""
    judgments, truth = _shifted_annotators(n_items=100)
    gold = truth.copy()

    def fit_all(seen: np.ndarray) -> dict[str, Result]:
        copied = np.where(seen >= 0, seen, 0)
        return {
            "ensemble": Result(np.zeros((100, 3)), np.zeros(100, dtype=int), None, 0),
            "copies_gold": Result(np.zeros((100, 3)), copied, None, 0),
        }

    choice = choose_method(judgments, gold, "ensemble", fit_all, 0)
    assert choice.cv_accuracy["copies_gold"] == pytest.approx((truth == 0).mean())


def test_auto_says_plainly_when_the_default_was_the_most_accurate():
    judgments, truth = _shifted_annotators(n_items=100)

    def fit_all(seen: np.ndarray) -> dict[str, Result]:
        right = Result(np.zeros((100, 3)), truth, None, 0)
        return {"ensemble": right, "mace": Result(np.zeros((100, 3)), (truth + 1) % 3, None, 0)}

    choice = choose_method(judgments, truth.copy(), "ensemble", fit_all, 0)
    assert choice.method == "ensemble"
    assert choice.reason == "no method was more accurate on the 100 gold items"


def test_a_tie_with_the_default_keeps_the_default_without_a_test():
    """Another method exactly as accurate (its name first in order) is no reason to switch."""
    judgments, truth = _shifted_annotators(n_items=100)

    def fit_all(seen: np.ndarray) -> dict[str, Result]:
        right = Result(np.zeros((100, 3)), truth, None, 0)
        return {"ensemble": right, "dawid_skene": right}

    choice = choose_method(judgments, truth.copy(), "ensemble", fit_all, 0)
    assert choice.method == "ensemble"
    assert choice.reason == "no method was more accurate on the 100 gold items"
