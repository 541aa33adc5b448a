import numpy as np
import pandas as pd

from stages.merge import LABEL_COLUMNS, latest_judgments, merge_labels
from tests.conftest import LABELS, annotations_frame


def test_latest_judgment_of_an_annotator_counts():
    frame = annotations_frame([("i1", "a", "cat"), ("i1", "a", "dog"), ("i1", "b", "cat")])
    frame["created_at"] = pd.to_datetime(
        ["2026-01-02", "2026-01-01", "2026-01-01"], utc=True
    ).astype("datetime64[ms, UTC]")
    kept = latest_judgments(frame)
    assert kept[["annotator_id", "label"]].values.tolist() == [["a", "cat"], ["b", "cat"]]


def test_merge_labels_table_and_summary(small_tables):
    labels, summary = merge_labels(
        small_tables["annotations"],
        small_tables["gold"],
        LABELS,
        {"method": "majority_vote"},
        seed=0,
    )
    assert list(labels.columns) == LABEL_COLUMNS
    assert labels["item_id"].tolist() == ["i1", "i2", "i3", "i4"]
    assert labels["label"].tolist() == ["cat", "dog", "bird", "cat"]
    row = labels.iloc[0]
    assert row["n_annotations"] == 3 and np.isclose(row["agreement"], 2 / 3)
    assert labels["is_gold"].tolist() == [False, True, False, False]
    assert labels.loc[1, "confidence"] == 1.0
    assert summary["gold_accuracy"] == 1.0
    assert summary["annotations"] == 8 and summary["annotators"] == 3
    assert -1.0 <= summary["krippendorff_alpha"] <= 1.0


def test_gold_only_items_are_added_and_gold_can_be_ignored(small_tables):
    gold = pd.DataFrame({"item_id": ["i2", "i9"], "label": ["cat", "bird"]}).astype("string")
    labels, _ = merge_labels(
        small_tables["annotations"], gold, LABELS, {"method": "dawid_skene"}, 0
    )
    assert labels.set_index("item_id").loc["i9", "label"] == "bird"
    assert labels.set_index("item_id").loc["i2", "label"] == "cat"
    plain, summary = merge_labels(
        small_tables["annotations"], gold, LABELS, {"method": "dawid_skene", "use_gold": False}, 0
    )
    assert not plain["is_gold"].any() and "i9" not in set(plain["item_id"])
    assert summary["gold_accuracy"] == 0.0  # i2's annotators said dog; the expert said cat


def test_abstained_items_have_no_label(small_tables):
    annotations = annotations_frame([("i1", "a", "cat"), ("i1", "b", "dog"), ("i2", "a", "dog")])
    labels, summary = merge_labels(
        annotations,
        small_tables["gold"].iloc[:0],
        LABELS,
        {"method": "majority_vote", "tie_rule": "abstain"},
        0,
    )
    assert labels["label"].isna().tolist() == [True, False]
    assert summary["abstained_items"] == 1
