import numpy as np
import pandas as pd
import pytest

from stages.evaluation import scoring

CLASSES = ["pos", "neg", "mid"]  # deliberately not in sorted order


def test_scores_against_hand_computed_values():
    actual = pd.Series(["pos", "neg", "mid", "pos"])
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4], [0.6, 0.3, 0.1]])
    result = scoring.score(actual, probabilities, CLASSES)
    assert result["accuracy"] == 0.75
    assert result["balanced_accuracy"] == pytest.approx((1 + 1 + 0) / 3)
    expected_log_loss = -np.mean(np.log([0.8, 0.7, 0.4, 0.6]))
    assert result["log_loss"] == pytest.approx(expected_log_loss)
    brier = np.mean(
        [
            0.2**2 + 0.1**2 + 0.1**2,
            0.2**2 + 0.3**2 + 0.1**2,
            0.5**2 + 0.1**2 + 0.6**2,
            0.4**2 + 0.3**2 + 0.1**2,
        ]
    )
    assert result["brier"] == pytest.approx(brier)
    assert result["per_class"]["mid"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert 0.0 <= result["ece"] <= 1.0


def test_calibration_and_ece_of_a_perfectly_calibrated_model():
    actual = pd.Series(["pos"] * 8 + ["neg"] * 2)
    probabilities = np.tile([0.8, 0.2, 0.0], (10, 1))
    table = scoring.calibration_table(actual, probabilities, CLASSES)
    assert table.to_dict("records") == [{"confidence": 0.8, "accuracy": 0.8, "items": 10}]
    assert scoring.expected_calibration_error(actual, probabilities, CLASSES) == pytest.approx(0.0)


def test_curves_per_class_on_a_fixed_grid():
    actual = pd.Series(["pos", "neg", "mid", "pos", "neg", "mid"])
    probabilities = np.eye(3)[[0, 1, 2, 0, 1, 2]] * 0.9 + 0.1 / 3
    pr, roc = scoring.curves(actual, probabilities, CLASSES, points=11)
    assert set(pr["class"]) == set(CLASSES) and len(pr) == 33
    assert (pr["precision"] == 1.0).all()  # perfect separation
    assert roc.groupby("class")["tpr"].max().eq(1.0).all()


def test_model_card_names_data_version_params_labels_and_metrics():
    metrics = {"test": {"accuracy": 0.9, "macro_f1": 0.8, "items": 10}, "gold": {"items": 0}}
    params = {
        "seed": 1,
        "train": {"model": "linear_svm", "linear_svm": {"C": 0.5}},
        "label_merge": {"method": "mace"},
    }
    card = scoring.model_card(
        metrics, params, "abc123.dir", pd.Series({"pos": 6, "neg": 4}), {"train_items": 10}
    )
    for text in (
        "abc123.dir",
        "linear_svm",
        "C: 0.5",
        "| pos | 6 |",
        "| accuracy | 0.9000 | n/a |",
        "mace",
    ):
        assert text in card
