import json

import numpy as np
import pandas as pd
import pytest

from stages.truth.annotators import ANNOTATOR_COLUMNS, spammer_score
from stages.truth.merge import LABEL_COLUMNS, encode, latest_judgments, merge_labels
from stages.truth.relabel import label_studio_tasks, select
from tests.conftest import LABELS, annotations_frame


def test_latest_judgment_of_an_annotator_counts():
    frame = annotations_frame([("i1", "a", "cat"), ("i1", "a", "dog"), ("i1", "b", "cat")])
    frame["created_at"] = pd.to_datetime(
        ["2026-01-02", "2026-01-01", "2026-01-01"], utc=True
    ).astype("datetime64[ms, UTC]")
    judgments, _, _ = encode(frame, LABELS)
    kept = frame[latest_judgments(judgments, frame)]
    assert kept[["annotator_id", "label"]].values.tolist() == [["a", "cat"], ["b", "cat"]]
    merged = merge_labels(frame, frame.iloc[:0][["item_id", "label"]], LABELS, {}, 0)
    assert merged.summary["replaced_duplicates"] == 1 and merged.labels[
        "n_annotations"
    ].tolist() == [2]
    assert merged.summary["annotations"] == 3 and merged.summary["annotations_used"] == 2


def test_the_timestamp_outranks_the_file_order():
    """A later file (by path) wins only between judgments of the same moment or none."""
    frame = pd.concat([annotations_frame([("i1", "a", "cat")], source="a.csv"),
                       annotations_frame([("i1", "a", "dog")], source="b.csv")])  # fmt: skip
    frame["created_at"] = pd.to_datetime(["2026-01-02", "2026-01-01"], utc=True).astype(
        "datetime64[ms, UTC]"
    )
    frame = frame.reset_index(drop=True)
    judgments, _, _ = encode(frame, LABELS)
    assert frame[latest_judgments(judgments, frame)]["label"].tolist() == ["cat"]
    untimed = frame.assign(created_at=frame["created_at"].iloc[:0].reindex(frame.index))
    assert frame[latest_judgments(judgments, untimed)]["label"].tolist() == ["dog"]


def test_gold_items_nobody_judged_join_the_labels_in_item_order():
    annotations = annotations_frame([("b1", "a", "cat"), ("c2", "a", "dog")])
    gold = pd.DataFrame({"item_id": ["a0", "d3"], "label": ["dog", "cat"]}, dtype="string")
    merged = merge_labels(annotations, gold, LABELS, {"method": "majority_vote"}, 0)
    assert merged.labels["item_id"].tolist() == ["a0", "b1", "c2", "d3"]
    assert merged.labels["is_gold"].tolist() == [True, False, False, True]


def test_merge_labels_table_and_summary(small_tables):
    merged = merge_labels(
        small_tables["annotations"], small_tables["gold"], LABELS, {"method": "majority_vote"}, 0
    )
    labels, summary = merged.labels, merged.summary
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
    assert set(summary["agreement"]["batches"]) == {"batch.csv"}
    assert list(merged.annotators.columns) == ANNOTATOR_COLUMNS
    assert merged.annotators["judgments"].tolist() == [3, 3, 2]


def test_gold_only_items_are_added_and_gold_can_be_ignored(small_tables):
    gold = pd.DataFrame({"item_id": ["i2", "i9"], "label": ["cat", "bird"]}).astype("string")
    labels = merge_labels(
        small_tables["annotations"], gold, LABELS, {"method": "dawid_skene"}, 0
    ).labels
    assert labels.set_index("item_id").loc["i9", "label"] == "bird"
    assert labels.set_index("item_id").loc["i2", "label"] == "cat"
    merged = merge_labels(
        small_tables["annotations"], gold, LABELS, {"method": "dawid_skene", "use_gold": False}, 0
    )
    assert not merged.labels["is_gold"].any() and "i9" not in set(merged.labels["item_id"])
    assert merged.summary["gold_accuracy"] == 0.0  # i2's annotators said dog; the expert said cat


def test_abstained_items_have_no_label(small_tables):
    annotations = annotations_frame([("i1", "a", "cat"), ("i1", "b", "dog"), ("i2", "a", "dog")])
    options = {"method": "majority_vote", "tie_rule": "abstain"}
    merged = merge_labels(annotations, small_tables["gold"].iloc[:0], LABELS, options, 0)
    assert merged.labels["label"].isna().tolist() == [True, False]
    assert merged.summary["abstained_items"] == 1


def _team(seed=0, n_items=300):
    """Two careful annotators, one that always says 'cat', one that answers at random."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_items)
    rows = []
    for i, t in enumerate(truth):
        rows.append(
            (f"i{i:03d}", "good-1", LABELS[t] if rng.random() < 0.9 else LABELS[(t + 1) % 3])
        )
        rows.append(
            (f"i{i:03d}", "good-2", LABELS[t] if rng.random() < 0.85 else LABELS[(t + 2) % 3])
        )
        rows.append((f"i{i:03d}", "always-cat", "cat"))
        rows.append((f"i{i:03d}", "random", LABELS[rng.integers(0, 3)]))
    gold = pd.DataFrame(
        {"item_id": [f"i{i:03d}" for i in range(30)], "label": [LABELS[t] for t in truth[:30]]}
    )
    return annotations_frame(rows), gold.astype("string"), truth


def test_gold_clamping_and_honest_gold_accuracy():
    annotations, gold, truth = _team()
    merged = merge_labels(annotations, gold, LABELS, {}, 0)
    by_item = merged.labels.set_index("item_id")
    assert (by_item.loc[gold["item_id"], "label"].to_numpy() == gold["label"].to_numpy()).all()
    assert merged.labels["is_gold"].sum() == 30
    assert 0.7 < merged.summary["gold_accuracy"] < 1.0  # each item scored by a fit blind to it
    assert merged.summary["gold_accuracy_basis"].startswith("5-fold cross-validation")
    assert (merged.labels["label"].to_numpy() == np.array(LABELS)[truth]).mean() > 0.9


@pytest.mark.parametrize("method", ["majority_vote", "one_coin", "dawid_skene", "auto"])
def test_gold_accuracy_scores_each_gold_item_by_a_fit_that_did_not_see_it(method):
    """Gold that contradicts every annotator: a fit clamped to it would score 1.0 there; gold
    accuracy must see the method get those items wrong (they are wrong for non-gold items)."""
    annotations, gold, _ = _team()
    flipped = gold.assign(label=gold["label"].map({"cat": "dog", "dog": "bird", "bird": "cat"}))
    merged = merge_labels(annotations, flipped, LABELS, {"method": method}, 0)
    assert merged.summary["gold_accuracy"] < 0.4, merged.summary  # a leak would give 1.0
    assert merged.summary["gold_items_judged"] == 30
    blind = merge_labels(annotations, flipped, LABELS, {"method": method, "use_gold": False}, 0)
    assert blind.summary["gold_accuracy_basis"] == "a fit that did not see gold"
    assert blind.summary["gold_accuracy"] < 0.4


def test_annotator_report_finds_both_kinds_of_spammer():
    annotations, gold, _ = _team()
    report = merge_labels(annotations, gold, LABELS, {}, 0).annotators.set_index("annotator_id")
    assert report.loc[["always-cat", "random"], "likely_spammer"].all()
    assert not report.loc[["good-1", "good-2"], "likely_spammer"].any()
    assert report.loc["good-1", "estimated_accuracy"] > 0.85
    assert abs(report.loc["good-1", "gold_accuracy"] - 0.9) < 0.15
    assert report.loc["random", "spammer_score"] < 0.1 < 0.6 < report.loc["good-2", "spammer_score"]


def test_spammer_score_bounds():
    perfect = np.eye(3)[None]
    constant = np.tile([[1.0, 0.0, 0.0]], (3, 1))[None]
    assert np.allclose(spammer_score(np.concatenate([perfect, constant])), [1.0, 0.0])


def test_relabel_selection_bounds_confidence_strictly_and_caps_the_count():
    labels = pd.DataFrame(
        {
            "item_id": [f"i{n}" for n in range(5)],
            "label": pd.array(["cat"] * 5, dtype="string"),
            "confidence": [0.8, 0.5, 0.6, 0.7, 0.79],  # i0 sits exactly at min_confidence
            "n_annotations": 3,
            "agreement": 0.6,
            "method": "dawid_skene",
            "is_gold": False,
        }
    )
    options = {"min_confidence": 0.8, "min_annotations": 2}
    assert select(labels, options)["item_id"].tolist() == ["i1", "i2", "i3", "i4"]
    assert select(labels, {**options, "max_tasks": 2})["item_id"].tolist() == ["i1", "i2"]


def test_relabel_tasks_in_label_studio_import_format():
    labels = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d"],
            "label": pd.array(["cat", "dog", None, "cat"], dtype="string"),
            "confidence": [0.95, 0.55, np.nan, 0.6],
            "n_annotations": [3, 3, 2, 1],
            "agreement": [1.0, 0.6, np.nan, 1.0],
            "method": "dawid_skene",
            "is_gold": [False, False, False, True],
        }
    )
    chosen = select(labels, {"min_confidence": 0.8, "min_annotations": 2})
    assert chosen["item_id"].tolist() == ["c", "b"]  # unlabelled first, then least confident
    items = pd.DataFrame({"item_id": ["b", "c"], "text": ["two", "three"]})
    tasks = label_studio_tasks(
        chosen,
        items,
        {"from_name": "animal", "to_name": "text"},
        ["cat", "dog"],
    )
    assert tasks[0] == {"data": {"item_id": "c", "text": "three"}}
    assert tasks[1]["data"] == {"item_id": "b", "text": "two"}
    prediction = tasks[1]["predictions"][0]
    assert prediction["score"] == 0.55 and prediction["model_version"] == "dvc-template"
    assert prediction["result"][0]["value"] == {"choices": ["dog"]}
    assert prediction["result"][0]["from_name"] == "animal"
    json.dumps(tasks)  # plain JSON types only


def test_dawid_skene_may_overrule_biased_unanimous_annotators_but_never_silently():
    """Two annotators who always shift the label by one class (a->b, b->c, c->a) agree with
    each other; three reliable annotators show the shift. On an item only the two judged,
    Dawid-Skene undoes the shift, counts the overrule and sends the item to relabel."""
    shift = {"cat": "dog", "dog": "bird", "bird": "cat"}
    rows = []
    for n in range(60):
        truth = LABELS[n % 3]
        rows += [(f"i{n:02d}", f"reliable-{k}", truth) for k in range(3)]
        rows += [(f"i{n:02d}", worker, shift[truth]) for worker in ("shifted-1", "shifted-2")]
    rows += [("z-only-the-two", worker, "dog") for worker in ("shifted-1", "shifted-2")]
    frame = annotations_frame(rows)
    no_gold = frame.iloc[:0][["item_id", "label"]]
    merged = merge_labels(frame, no_gold, LABELS, {"method": "dawid_skene"}, 0)
    row = merged.labels.set_index("item_id").loc["z-only-the-two"]
    assert row["label"] == "cat" and row["agreement"] == 0.0
    assert merged.summary["unanimous_items"] == 1
    assert merged.summary["unanimous_overridden"] == 1
    chosen = select(merged.labels, {"min_confidence": 0.0, "min_annotations": 0})
    assert chosen["item_id"].tolist() == ["z-only-the-two"]
    kept = merge_labels(frame, no_gold, LABELS, {"keep_unanimous": True}, 0).labels
    assert kept.set_index("item_id").loc["z-only-the-two", "label"] == "dog"


def test_the_annotator_report_gives_each_annotators_median_seconds():
    """Time spent per judgment, where the tool recorded it: the latest judgment of a repeat
    counts, an annotator without times gets none, and a table without the column gets none."""
    frame = annotations_frame(
        [("i1", "a", "cat"), ("i2", "a", "cat"), ("i3", "a", "dog"), ("i1", "a", "dog"),
         ("i1", "b", "cat"), ("i2", "b", "dog"), ("i1", "c", "cat")]
    )  # fmt: skip
    frame["lead_time"] = [2.0, 4.0, 9.0, 100.0, 0.5, float("nan"), float("nan")]
    frame["created_at"] = pd.to_datetime(["2026-01-02"] * 3 + ["2026-01-01"] + ["2026-01-01"] * 3,
                                         utc=True).astype("datetime64[ms, UTC]")  # fmt: skip
    no_gold = frame.iloc[:0][["item_id", "label"]]
    report = merge_labels(frame, no_gold, LABELS, {}, 0).annotators.set_index("annotator_id")
    assert report["median_seconds"].tolist()[:2] == [4.0, 0.5]  # a's repeat of i1 (100 s) lost
    assert np.isnan(report.loc["c", "median_seconds"])
    without = merge_labels(frame.drop(columns="lead_time"), no_gold, LABELS, {}, 0).annotators
    assert without["median_seconds"].isna().all()


def test_gold_accuracy_scores_the_labels_keep_unanimous_writes():
    """c swaps every label, and alone judged 40 gold items, saying what gold says: the
    labels written keep c's unanimous answer, so they are right there, and so says the score."""
    swap = {"cat": "dog", "dog": "bird", "bird": "cat"}
    rows = [(f"n{i:03d}", who, label) for i in range(300) for who, label in
            (("a", LABELS[i % 3]), ("b", LABELS[i % 3]), ("c", swap[LABELS[i % 3]]))]  # fmt: skip
    rows += [(f"g{i:02d}", "c", "dog") for i in range(40)]
    gold = pd.DataFrame({"item_id": [f"g{i:02d}" for i in range(40)], "label": "dog"})
    options = {"method": "dawid_skene", "keep_unanimous": True}
    merged = merge_labels(annotations_frame(rows), gold.astype("string"), LABELS, options, 0)
    assert merged.summary["gold_accuracy"] == 1.0, merged.summary


def test_auto_scores_dawid_skene_with_the_prior_that_was_asked_for():
    """The ensemble's Dawid-Skene is the paper's (no prior); auto had reused it as its
    dawid_skene candidate, so prior_strength changed nothing there."""
    annotations, gold, _ = _team()
    scores = {}
    for strength in (0.0, 50.0):
        options = {"method": "auto", "prior_strength": strength}
        auto = merge_labels(annotations, gold, LABELS, options, 0).summary["auto"]
        alone = merge_labels(annotations, gold, LABELS, {**options, "method": "dawid_skene"}, 0)
        assert auto["cv_accuracy"]["dawid_skene"] == alone.summary["gold_accuracy"]
        scores[strength] = auto["cv_accuracy"]
    assert scores[0.0]["dawid_skene"] != scores[50.0]["dawid_skene"]
    assert scores[0.0]["ensemble"] == scores[50.0]["ensemble"]


def test_auto_compares_the_methods_as_keep_unanimous_runs_them():
    """The swapping c alone judged the gold items: only the labels keep_unanimous writes are
    right there, whatever the method, and auto must score those."""
    swap = {"cat": "dog", "dog": "bird", "bird": "cat"}
    rows = [(f"n{i:03d}", who, label) for i in range(300) for who, label in
            (("a", LABELS[i % 3]), ("b", LABELS[i % 3]), ("c", swap[LABELS[i % 3]]))]  # fmt: skip
    rows += [(f"g{i:02d}", "c", "dog") for i in range(40)]
    gold = pd.DataFrame({"item_id": [f"g{i:02d}" for i in range(40)], "label": "dog"})
    scores = {
        keep: merge_labels(annotations_frame(rows), gold.astype("string"), LABELS,
                           {"method": "auto", "keep_unanimous": keep}, 0).summary["auto"]
        for keep in (False, True)
    }  # fmt: skip
    assert set(scores[True]["cv_accuracy"].values()) == {1.0}, scores
    assert min(scores[False]["cv_accuracy"].values()) < 1.0, scores


def test_majority_votes_abstentions_count_alike_with_gold_in_use_or_not():
    """Gold changes no other label of majority vote: the score must not depend on use_gold."""
    rows, gold = [], []
    for i in range(40):
        right, wrong = LABELS[i % 3], LABELS[(i + 1) % 3]
        rows += [(f"g{i:02d}", "a", right), (f"g{i:02d}", "b", right if i < 20 else wrong)]
        gold.append((f"g{i:02d}", right))
    gold = pd.DataFrame(gold, columns=["item_id", "label"]).astype("string")
    scores = [
        merge_labels(annotations_frame(rows), gold, LABELS,
                     {"method": "majority_vote", "tie_rule": "abstain", "use_gold": used}, 0).summary
        for used in (True, False)
    ]  # fmt: skip
    assert [(s["gold_accuracy"], s["gold_items_judged"]) for s in scores] == [(1.0, 20)] * 2


@pytest.mark.parametrize("keep_unanimous", [False, True])
def test_auto_reuses_the_folds_a_fresh_cross_validation_of_its_choice_would_draw(keep_unanimous):
    annotations, gold, _ = _team()
    options = {"method": "auto", "keep_unanimous": keep_unanimous}
    auto = merge_labels(annotations, gold, LABELS, options, 0).summary
    options["method"] = auto["method"]
    alone = merge_labels(annotations, gold, LABELS, options, 0).summary
    assert (
        auto["gold_accuracy"]
        == alone["gold_accuracy"]
        == auto["auto"]["cv_accuracy"][auto["method"]]
    )
