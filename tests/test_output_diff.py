"""How check-repro describes a changed file, and what its tolerance rule accepts."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from stages.reproducibility.output_diff import Rule, describe
from stages.training import model_io
from stages.training.linear import ReproducibleLogisticRegression

EXACT = Rule(exact=True, metric_tolerance=1e-9, value_tolerance=1e-6, why="reference")
LOOSE = Rule(exact=False, metric_tolerance=1e-9, value_tolerance=1e-6, why="aarch64")


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


LABELS = pd.DataFrame({"item_id": ["a", "b"], "label": ["cat", "dog"], "confidence": [0.9, 0.7]})


def test_a_metric_delta_is_named_and_a_tiny_one_passes_only_the_loose_rule():
    before = json.dumps({"test": {"accuracy": 0.99, "items": 3}}).encode()
    after = json.dumps({"test": {"accuracy": 0.892442, "items": 3}}).encode()
    assert describe("m.json", before, after, True, EXACT) == (
        "test.accuracy: 0.99 -> 0.892442 (delta -0.097558)"
    )
    same = json.dumps({"test": {"items": 3, "accuracy": 0.99}}).encode()
    assert describe("m.json", before, same, True, EXACT) == "same values, different bytes"
    assert describe("m.json", before, same, True, LOOSE) is None


def test_floats_that_moved_in_their_last_bits():
    moved = LABELS.assign(confidence=LABELS["confidence"] + 2e-16)
    said = describe("labels.parquet", parquet(LABELS), parquet(moved), False, EXACT)
    assert said.startswith("values moved in their last bits (confidence by at most 2.22e-16)")
    assert describe("labels.parquet", parquet(LABELS), parquet(moved), False, LOOSE) is None


def test_changed_labels_rows_and_columns_fail_under_either_rule():
    relabelled = LABELS.assign(label=["cat", "cat"])
    for rule in (EXACT, LOOSE):
        said = describe("labels.parquet", parquet(LABELS), parquet(relabelled), False, rule)
        assert said.startswith("label differs in 1 row(s)")
    longer = pd.concat([LABELS, LABELS.head(1)])
    assert describe("l.parquet", parquet(LABELS), parquet(longer), False, LOOSE).startswith(
        "rows 2 -> 3"
    )
    wider = LABELS.assign(extra=1)
    assert "columns +['extra'] -[]" in describe(
        "l.parquet", parquet(LABELS), parquet(wider), False, LOOSE
    )


@pytest.fixture(scope="module")
def model() -> ReproducibleLogisticRegression:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 3))
    return ReproducibleLogisticRegression().fit(features, features[:, 0] > 0)


def test_model_parameters_that_moved_are_measured_without_loading_the_file(model):
    before = model_io.to_bytes(model)
    model.coef_ = model.coef_ + 3e-13
    after = model_io.to_bytes(model)
    said = describe("model.skops", before, after, False, EXACT)
    assert said.startswith("model parameters differ by at most 3e-13")
    assert describe("model.skops", before, after, False, LOOSE) is None
    model.C = 2.0  # a setting, not a parameter: never within tolerance
    assert describe("model.skops", before, model_io.to_bytes(model), False, LOOSE).startswith(
        "the model's structure or settings differ"
    )


def test_rows_in_another_order_are_compared_item_by_item():
    swapped = LABELS.iloc[::-1]
    said = describe("labels.parquet", parquet(LABELS), parquet(swapped), False, EXACT)
    assert said.startswith("rows in another order (")
    assert describe("labels.parquet", parquet(LABELS), parquet(swapped), False, LOOSE) is None
    relabelled = swapped.assign(label=["cat", "cat"])
    said = describe("labels.parquet", parquet(LABELS), parquet(relabelled), False, LOOSE)
    assert said.startswith("label differs in 1 row(s); rows in another order")


def test_other_files_are_compared_by_bytes():
    assert describe("report.md", b"a", b"ab", False, LOOSE) == "bytes differ (1 -> 2 bytes)"
