"""Properties that hold for any input (hypothesis): parsers fail only with DataError, and
aggregation does not depend on row order, names or class order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stages.core.errors import DataError
from stages.ingest.formats import FORMATS, read_export
from stages.truth.merge import merge_labels

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Bytes that look like the formats (so the parsers get past detection) and bytes that do not.
PREFIXES = [b"", b"[", b'[{"id": 1, "data": {}, "annotations": [', b"{", b'{"answers": [', b"item_id,annotator_id,label\n",
            b"annotation_id,annotator,id,label\n", b"PAR1", b"\xef\xbb\xbf"]  # fmt: skip


@SETTINGS
@given(
    prefix=st.sampled_from(PREFIXES),
    body=st.binary(max_size=300),
    fmt=st.sampled_from(["auto", *FORMATS]),
)
def test_parsers_raise_nothing_but_data_error(tmp_path, prefix, body, fmt):
    path = tmp_path / "export.bin"
    path.write_bytes(prefix + body)
    try:
        export = read_export(path, fmt, {"labels": ["a", "b"]})
    except DataError as error:
        assert "\n" not in error.line()
    else:
        assert list(export.annotations.columns) == [
            "item_id",
            "annotator_id",
            "label",
            "source",
            "created_at",
            "lead_time",
        ]


LABELS = ["a", "b", "c"]
judgment_rows = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 4), st.sampled_from(LABELS)),
    min_size=1,
    max_size=40,
)


def _frame(rows) -> pd.DataFrame:
    unique = {(item, annotator): label for item, annotator, label in rows}  # one per pair
    frame = pd.DataFrame(
        [(f"i{item}", f"w{annotator}", label) for (item, annotator), label in unique.items()],
        columns=["item_id", "annotator_id", "label"],
    ).astype("string")
    frame["source"] = pd.Series(["s"] * len(frame), dtype="string")
    frame["created_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ms, UTC]")
    return frame


NO_GOLD = pd.DataFrame({"item_id": pd.Series(dtype="string"), "label": pd.Series(dtype="string")})


@pytest.mark.parametrize(
    "method", ["auto", "ensemble", "dawid_skene", "mace", "one_coin", "majority_vote"]
)
@SETTINGS
@given(rows=judgment_rows, seed=st.integers(0, 1000))
def test_aggregation_properties(method, rows, seed):
    frame = _frame(rows)
    options = {"method": method, "keep_unanimous": True}
    labels = merge_labels(frame, NO_GOLD, LABELS, options, 0).labels.set_index("item_id")
    # Confidence is a probability; every judged item gets a label (no abstaining here).
    assert labels["confidence"].between(0.0, 1.0).all()
    # Row order does not matter.
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = merge_labels(shuffled, NO_GOLD, LABELS, options, 0).labels.set_index("item_id")
    assert (again["label"] == labels["label"]).all()
    assert np.allclose(again["confidence"], labels["confidence"])
    # Renaming annotators and items does not matter.
    renamed = frame.assign(
        annotator_id=frame["annotator_id"].str.replace("w", "annotator-"),
        item_id=frame["item_id"].str.replace("i", "x"),
    )
    other = merge_labels(renamed, NO_GOLD, LABELS, options, 0).labels
    other.index = other["item_id"].str.replace("x", "i")
    assert (other.loc[labels.index, "label"] == labels["label"]).all()
    # An item everyone labelled the same way gets that label.
    for item, group in frame.groupby("item_id"):
        if group["label"].nunique() == 1:
            assert labels.loc[item, "label"] == group["label"].iloc[0]


@pytest.mark.parametrize("method", ["ensemble", "dawid_skene", "mace", "one_coin"])
@SETTINGS
@given(rows=judgment_rows)
def test_renaming_classes_renames_the_result(method, rows):
    frame = _frame(rows)
    rename = {"a": "z", "b": "x", "c": "y"}
    plain = merge_labels(frame, NO_GOLD, LABELS, {"method": method}, 0).labels
    renamed = merge_labels(
        frame.assign(label=frame["label"].map(rename).astype("string")),
        NO_GOLD,
        ["z", "x", "y"],
        {"method": method},
        0,
    ).labels
    assert (plain["label"].map(rename) == renamed["label"]).all()
    assert np.allclose(plain["confidence"], renamed["confidence"])


def test_posteriors_sum_to_one():
    from stages.truth.aggregation import Judgments
    from stages.truth.em import dawid_skene

    rng = np.random.default_rng(1)
    judgments = Judgments(
        rng.integers(0, 20, 80), rng.integers(0, 5, 80), rng.integers(0, 3, 80), 20, 5, 3
    )
    posterior = dawid_skene(judgments).posterior
    assert np.allclose(posterior[np.unique(judgments.item)].sum(axis=1), 1.0)


@pytest.mark.parametrize("method", ["ensemble", "dawid_skene", "mace", "one_coin"])
@SETTINGS
@given(rows=judgment_rows)
def test_by_default_an_overruled_unanimous_item_is_counted_and_sent_to_relabel(method, rows):
    """Without ``keep_unanimous`` a method may overrule annotators who all agree (it can be
    right: biased annotators agree too); such an item is then never silent."""
    from stages.truth.relabel import select

    frame = _frame(rows)
    merged = merge_labels(frame, NO_GOLD, LABELS, {"method": method}, 0)
    labels = merged.labels.set_index("item_id")
    relabel = set(select(merged.labels, {"min_confidence": 0.0, "min_annotations": 0})["item_id"])
    overruled = []
    for item, group in frame.groupby("item_id"):
        if group["label"].nunique() == 1 and labels.loc[item, "label"] != group["label"].iloc[0]:
            overruled.append(item)
            assert item in relabel
    assert merged.summary["unanimous_overridden"] == len(overruled)
    assert merged.summary["unanimous_items"] == int(
        (frame.groupby("item_id")["label"].nunique() == 1).sum()
    )
