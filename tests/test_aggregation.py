import numpy as np
import pytest

from stages.truth.aggregation import Judgments, majority_vote
from stages.truth.em import dawid_skene, mace, one_coin


def _judgments(rows, n_classes=3):
    item, annotator, label = (np.array(column) for column in zip(*rows, strict=True))
    return Judgments(item, annotator, label, item.max() + 1, annotator.max() + 1, n_classes)


def test_majority_vote_shares_and_tie_rules():
    # item 0: 2x class 0, 1x class 1; item 1: tie between 1 and 2; class 2 is most frequent overall.
    rows = [(0, 0, 0), (0, 1, 0), (0, 2, 1), (1, 0, 1), (1, 1, 2), (2, 0, 2), (2, 1, 2)]
    judgments = _judgments(rows)
    result = majority_vote(judgments, "prior")
    assert result.label.tolist() == [0, 2, 2]
    assert np.allclose(result.posterior[0], [2 / 3, 1 / 3, 0])
    assert majority_vote(judgments, "abstain").label.tolist() == [0, -1, 2]
    random_labels = {int(majority_vote(judgments, "random", seed).label[1]) for seed in range(20)}
    assert random_labels == {1, 2}
    assert (
        majority_vote(judgments, "random", 3).label.tolist()
        == majority_vote(judgments, "random", 3).label.tolist()
    )


def test_unknown_tie_rule():
    with pytest.raises(ValueError, match="tie rule"):
        majority_vote(_judgments([(0, 0, 0)]), "coin")


def _simulated(seed=0, n_items=600, n_classes=4):
    """Three good annotators, two spammers that always answer class 0."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    rows = []
    for item in range(n_items):
        for annotator, accuracy in enumerate([0.85, 0.8, 0.75]):
            label = truth[item] if rng.random() < accuracy else rng.integers(0, n_classes)
            rows.append((item, annotator, int(label)))
        rows += [(item, 3, 0), (item, 4, 0)]
    return _judgments(rows, n_classes), truth


def test_dawid_skene_beats_majority_vote_against_biased_annotators():
    judgments, truth = _simulated()
    ds = dawid_skene(judgments)
    mv = majority_vote(judgments)
    ds_accuracy = (ds.label == truth).mean()
    assert ds_accuracy > (mv.label == truth).mean() + 0.1
    assert ds_accuracy > 0.9
    assert np.allclose(ds.posterior.sum(axis=1), 1.0)
    assert ds.confusion.shape == (5, 4, 4)
    # The spammers' estimated confusion rows all point at class 0.
    assert (ds.confusion[3][:, 0] > 0.9).all()


def test_dawid_skene_is_deterministic_and_unanimous_items_keep_their_label():
    judgments, _ = _simulated(seed=1, n_items=100)
    first, second = dawid_skene(judgments), dawid_skene(judgments)
    assert np.array_equal(first.posterior, second.posterior)
    unanimous = _judgments([(0, 0, 2), (0, 1, 2), (1, 0, 1), (1, 1, 0)])
    assert dawid_skene(unanimous).label[0] == 2


def test_dawid_skene_invariant_to_row_order():
    judgments, _ = _simulated(seed=2, n_items=200)
    order = np.random.default_rng(0).permutation(len(judgments.item))
    shuffled = Judgments(
        judgments.item[order],
        judgments.annotator[order],
        judgments.label[order],
        judgments.n_items,
        judgments.n_annotators,
        judgments.n_classes,
    )
    assert np.allclose(dawid_skene(judgments).posterior, dawid_skene(shuffled).posterior)


@pytest.mark.parametrize("method", [dawid_skene, mace, one_coin])
def test_em_methods_beat_majority_vote_and_give_proper_posteriors(method):
    judgments, truth = _simulated(seed=3)
    result = method(judgments)
    assert (result.label == truth).mean() > (majority_vote(judgments).label == truth).mean()
    assert np.allclose(result.posterior.sum(axis=1), 1.0)
    assert ((result.posterior >= 0) & (result.posterior <= 1)).all()
    assert result.confusion.shape == (5, 4, 4)
    assert np.allclose(result.confusion.sum(axis=2), 1.0)


@pytest.mark.parametrize("method", [dawid_skene, mace, one_coin])
def test_gold_items_are_clamped(method):
    judgments, truth = _simulated(seed=4, n_items=100)
    gold = np.full(100, -1)
    gold[:10] = (truth[:10] + 1) % 4  # deliberately not what the annotators say
    result = method(judgments, gold=gold)
    assert (result.label[:10] == gold[:10]).all()
    assert np.allclose(result.posterior[:10].max(axis=1), 1.0)


@pytest.mark.parametrize("method", [dawid_skene, mace, one_coin])
def test_permuting_class_codes_permutes_the_result(method):
    judgments, _ = _simulated(seed=5, n_items=150)
    permutation = np.array([2, 0, 3, 1])
    renamed = Judgments(
        judgments.item,
        judgments.annotator,
        permutation[judgments.label],
        judgments.n_items,
        judgments.n_annotators,
        judgments.n_classes,
    )
    original, permuted = method(judgments), method(renamed)
    assert np.array_equal(permutation[original.label], permuted.label)
    assert np.allclose(original.posterior, permuted.posterior[:, permutation])


def test_a_tie_between_classes_equally_frequent_overall_goes_to_the_first_listed():
    """tie_rule prior: the most frequent class overall, then the lowest class code."""
    rows = [(0, 0, 2), (0, 1, 1), (1, 0, 1), (1, 1, 2)]  # classes 1 and 2 tied everywhere
    assert majority_vote(_judgments(rows), "prior").label.tolist() == [1, 1]


def test_when_the_model_cannot_tell_classes_apart_the_votes_decide():
    # One judgment per item, each by its own annotator: Dawid-Skene's posterior ties at
    # 0.5 / 0.5 on both items, and the label is then the item's own vote, not class 0 for both.
    result = dawid_skene(_judgments([(0, 0, 1), (1, 1, 0)], n_classes=2))
    assert np.allclose(result.posterior, 0.5)
    assert result.label.tolist() == [1, 0]


@pytest.mark.parametrize("method", [dawid_skene, mace, one_coin])
def test_a_gold_items_posterior_is_its_expert_label_exactly(method):
    judgments, truth = _simulated(seed=4, n_items=60)
    gold = np.full(60, -1)
    gold[:5] = (truth[:5] + 1) % 4
    posterior = method(judgments, gold=gold).posterior
    assert np.array_equal(posterior[:5], np.eye(4)[gold[:5]])  # one-hot: the row sums to 1


def test_the_habit_centred_prior_adds_s_times_k_squared_pseudo_judgments_per_annotator():
    """alpha[c, l] = s K^2 share(c) habit(l): an annotator's prior mass is s K^2 in all."""
    from stages.truth.aggregation import EMSetup
    from stages.truth.em import DawidSkene

    judgments, _ = _simulated(seed=6, n_items=80)
    model = DawidSkene(prior_strength=0.3)
    model.start(EMSetup.build(judgments))
    assert model.alpha.shape == (5, 4, 4)
    assert np.allclose(model.alpha.sum(axis=(1, 2)), 0.3 * 4**2)
    # and it pulls a lone annotator's matrix away from their few judgments
    weak = dawid_skene(judgments, prior_strength=0.3).confusion
    assert not np.allclose(weak, dawid_skene(judgments).confusion)
