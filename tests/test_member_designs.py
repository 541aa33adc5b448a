"""The benchmark's other ensemble members (bench/member_designs.py) are real models: on data
drawn from the kind of annotators each assumes, each alone gives proper posteriors and labels
clearly better than the vote shares it starts from."""

import sys
from pathlib import Path

import numpy as np
import pytest

from stages.truth.aggregation import EMSetup
from tests.test_truth_methods import _biased_confusions, _draw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
member_designs = pytest.importorskip("member_designs")


def _one_coin_confusions() -> np.ndarray:
    """Annotators right with their own probability, errors spread evenly (3 classes)."""
    skill = np.array([0.9, 0.7, 0.6, 0.55, 0.5])[:, None, None]
    return skill * np.eye(3) + (1 - skill) / 2 * (1 - np.eye(3))


@pytest.mark.parametrize("variant", sorted(member_designs.VARIANTS))
def test_each_variant_beats_the_vote_shares(variant):
    if variant.startswith("one_coin"):
        judgments, truth = _draw(_one_coin_confusions(), 1500, seed=3, prior=[0.7, 0.2, 0.1])
    else:
        judgments, truth = _draw(_biased_confusions(n_annotators=5), 1500, seed=3)
    setup = EMSetup.build(judgments)
    posterior = member_designs.VARIANTS[variant](judgments, setup)
    assert np.allclose(posterior.sum(axis=1), 1.0)
    votes = (setup.start.argmax(axis=1) == truth).mean()
    assert (posterior.argmax(axis=1) == truth).mean() > votes + 0.02
