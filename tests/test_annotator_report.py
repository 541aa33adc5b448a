"""The per-annotator report's spammer score and estimated accuracy on shapes of real data:
many classes, classes nobody chose, a split crowd under majority vote."""

import itertools

import numpy as np
import pandas as pd
import pytest

from stages.evaluation import charts
from stages.truth.annotators import annotator_plot_rows, spammer_score
from stages.truth.merge import merge_labels
from tests.conftest import PROJECT_ROOT, annotations_frame


def _paper_score(confusion: np.ndarray) -> np.ndarray:
    """Raykar & Yu's score as written: every pair of rows, one by one."""
    n_classes = confusion.shape[1]
    pairs = itertools.product(range(n_classes), repeat=2)
    total = sum(((confusion[:, c] - confusion[:, d]) ** 2).sum(axis=1) for c, d in pairs)
    return total / (2.0 * n_classes * (n_classes - 1))


def test_the_closed_form_is_the_papers_score_and_weights_generalise_it():
    rng = np.random.default_rng(4)
    confusion = rng.dirichlet(np.ones(6), size=(7, 6))
    assert np.allclose(spammer_score(confusion), _paper_score(confusion), atol=1e-12)
    assert np.allclose(spammer_score(confusion, np.full((7, 6), 3.0)), _paper_score(confusion))
    # Rows with no evidence weigh nothing: the score is the one of the classes met.
    evidence = np.zeros((7, 6))
    evidence[:, :3] = 5.0
    assert np.allclose(spammer_score(confusion, evidence), _paper_score(confusion[:, :3, :]))
    alone = np.zeros((7, 6))
    alone[:, 2] = 9.0
    assert np.isnan(spammer_score(confusion, alone)).all()  # one class met: nothing to compare


NO_GOLD = pd.DataFrame({"item_id": [], "label": []}).astype("string")


def _many_classes(n_classes=200, n_items=1500, n_annotators=60, accuracy=0.85, seed=0):
    """Each annotator meets a few dozen of 200 classes; all are right 85% of the time."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    rows = []
    for item, true in enumerate(truth):
        for annotator in rng.choice(n_annotators, 3, replace=False):
            right = rng.random() < accuracy
            label = true if right else rng.integers(0, n_classes)
            rows.append((f"i{item}", f"a{annotator}", f"c{label}"))
    return annotations_frame(rows), [f"c{k}" for k in range(n_classes)]


@pytest.mark.parametrize("method", ["majority_vote", "ensemble", "dawid_skene"])
def test_good_annotators_among_many_classes_are_not_flagged(method):
    annotations, labels = _many_classes()
    report = merge_labels(annotations, NO_GOLD, labels, {"method": method}, 0).annotators
    assert not report["likely_spammer"].any()
    # was 0.04 (rows of unmet classes, smoothed, counted); Dawid-Skene's own matrices, fitted
    # on about 75 judgments over 200 classes, say 0.55 of annotators right 85% of the time
    assert report["estimated_accuracy"].median() > (0.5 if method == "dawid_skene" else 0.75)


def test_classes_nobody_chose_leave_the_report_as_it_was():
    annotations, labels = _many_classes(n_classes=4, n_items=400, n_annotators=12, accuracy=0.7)
    for method in ("majority_vote", "dawid_skene"):
        options = {"method": method}
        before = merge_labels(annotations, NO_GOLD, labels, options, 0).annotators
        unused = labels + [f"unused-{k}" for k in range(20)]
        after = merge_labels(annotations, NO_GOLD, unused, options, 0).annotators
        columns = ["spammer_score", "estimated_accuracy", "likely_spammer"]
        pd.testing.assert_frame_equal(before[columns], after[columns])


def test_majority_vote_does_not_flag_the_good_annotators_of_a_split_crowd():
    """Two classes, 12 annotators: 4 careful (90%), 8 guessing. Vote shares near one half
    made every annotator's two rows look alike; the merged label does not."""
    rng = np.random.default_rng(1)
    rows = []
    for item in range(200):
        true = int(rng.integers(0, 2))
        for annotator in range(12):
            careful = annotator < 4
            right = rng.random() < (0.9 if careful else 0.5)
            rows.append(
                (f"i{item}", f"a{annotator:02d}", ["no", "yes"][true if right else 1 - true])
            )
    report = merge_labels(
        annotations_frame(rows), NO_GOLD, ["no", "yes"], {"method": "majority_vote"}, 0
    )
    flagged = report.annotators.set_index("annotator_id")["likely_spammer"]
    assert not flagged[[f"a{k:02d}" for k in range(4)]].any()
    assert flagged[[f"a{k:02d}" for k in range(4, 12)]].mean() > 0.5


@pytest.mark.parametrize("method", ["majority_vote", "ensemble", "dawid_skene"])
def test_an_annotator_who_only_met_one_class_has_no_score_and_no_flag(method):
    """Right every time, on 40 items that all happen to be c0: a soft posterior leaves crumbs
    on the other classes, whose rows (from no real evidence) copied the one answer: score 0."""
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 300)
    rows = [
        (f"i{item}", f"a{annotator}", f"c{true if rng.random() < 0.85 else (true + 1) % 3}")
        for item, true in enumerate(truth)
        for annotator in range(5)
    ]
    rows += [(f"i{item}", "x", "c0") for item in np.flatnonzero(truth == 0)[:40]]
    merged = merge_labels(
        annotations_frame(rows), NO_GOLD, ["c0", "c1", "c2"], {"method": method}, 0
    )
    report = merged.annotators.set_index("annotator_id")
    assert np.isnan(report.loc["x", "spammer_score"]) and not report.loc["x", "likely_spammer"]
    assert report.loc["x", "estimated_accuracy"] > 0.95


def test_the_plot_tells_an_unassessed_annotator_from_one_found_ok():
    """Too few judgments, or no score (every judgment on one class): not "ok", not flagged."""
    report = pd.DataFrame(
        {"annotator_id": ["many", "few", "one_class", "spam"], "estimated_accuracy": [0.9, 0.0, 1.0, 0.1],
         "gold_accuracy": [0.9, 0.0, None, None], "judgments": [40, 3, 40, 50],
         "spammer_score": [0.8, 0.1, None, 0.02], "likely_spammer": [False, False, False, True]}
    )  # fmt: skip
    rows = annotator_plot_rows(report, min_judgments=10)
    assert rows["flag"].tolist() == ["ok", "not assessed", "not assessed", "likely spammer"]
    picture = charts.svg(charts.spec("annotators.csv", rows, PROJECT_ROOT / ".dvc" / "plots"))
    assert ">not assessed<" in picture  # in the legend, in its own colour


def _careful_crowd_plus(extra: list[tuple[str, str, str]], seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, 200)
    rows = [
        (f"i{item}", f"a{annotator}", f"c{true if rng.random() < 0.85 else (true + 1) % 3}")
        for item, true in enumerate(truth)
        for annotator in range(4)
    ]
    return annotations_frame(rows + extra)


def test_a_constant_annotator_is_flagged_only_with_enough_judgments():
    """spammer_min_judgments (default 20): 5 judgments of 'c0' say too little to flag."""
    for judged, flagged in ((5, False), (60, True)):
        rows = [(f"i{item}", "constant", "c0") for item in range(judged)]
        merged = merge_labels(_careful_crowd_plus(rows), NO_GOLD, ["c0", "c1", "c2"], {}, 0)
        report = merged.annotators.set_index("annotator_id")
        assert bool(report.loc["constant", "likely_spammer"]) is flagged, judged


def test_pairs_without_a_kappa_leave_the_mean_kappa_defined():
    """Two annotators who both always say 'c0' have no kappa (chance agreement is 1): the
    pair is left out, not averaged in as NaN."""
    rows = [(f"i{item}", who, "c0") for item in range(40) for who in ("same-1", "same-2")]
    merged = merge_labels(_careful_crowd_plus(rows), NO_GOLD, ["c0", "c1", "c2"], {}, 0)
    kappa = merged.summary["agreement"]["overall"]["cohen_kappa_mean"]
    assert np.isfinite(kappa) and 0 < kappa < 1
