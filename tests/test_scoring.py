import numpy as np
import pandas as pd
import pytest

from stages.evaluation import pages, scoring

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
    # "mid" is never predicted, yet its one item has the highest "mid" probability: ranked first.
    # Never predicted: its precision is undefined (None), not 0; recall and F1 are 0.
    assert result["per_class"]["mid"] == {
        "precision": None,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "average_precision": 1.0,
        "roc_auc": 1.0,
    }
    assert 0.0 <= result["ece"] <= 1.0
    # A class absent from the items: no recall or F1 (n/a on the pages), not 0.
    absent = scoring.score(pd.Series(["pos", "neg"]), probabilities[:2], CLASSES)["per_class"]
    assert absent["mid"] == {"precision": None, "recall": None, "f1": None, "support": 0,
                             "average_precision": None, "roc_auc": None}  # fmt: skip


def test_calibration_and_ece_of_a_perfectly_calibrated_model():
    actual = pd.Series(["pos"] * 8 + ["neg"] * 2)
    probabilities = np.tile([0.8, 0.2, 0.0], (10, 1))
    table = scoring.calibration_table(actual, probabilities, CLASSES)
    (row,) = table.to_dict("records")
    assert (row["confidence"], row["accuracy"], row["items"]) == (0.8, 0.8, 10)
    assert (row["low"], row["high"]) == pytest.approx(scoring.wilson_interval(0.8, 10), abs=1e-6)
    assert 0.4 < row["low"] < 0.8 < row["high"] < 1.0  # ten items say little
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
    card = pages.model_card(
        metrics, params, "abc123.dir", pd.Series({"pos": 6, "neg": 4}), {"train_items": 10}
    )
    for text in (
        "abc123.dir",
        "linear_svm",
        "C: 0.5",
        "| pos | 6 |",
        "| accuracy (95% interval) | 0.9000 (0.596 to 0.982) | n/a |",
        "mace",
        "## Intended use",
        "## Limitations",
        "test split (10 items)",
        "was not given",  # no label-merge summary
    ):
        assert text in card
    merging = {"annotations": 70, "annotators": 7, "items": 20, "likely_spammers": 1,
               "krippendorff_alpha": 0.5, "gold_items": 4, "gold_accuracy": 0.75}  # fmt: skip
    card = pages.model_card(
        {**metrics, "gold": {"items": 4, "accuracy": 0.75}}, params, "v", pd.Series({"pos": 6}),
        {}, "mace", merging,
    )  # fmt: skip
    for text in ("70 judgments by 7 annotators on 20 items", "alpha 0.5000", "gold items in it (4)",
                 "moves it by 0.2500", "against the 4 gold items with judgments: accuracy 0.7500",
                 "0 uncertain items sent back"):  # fmt: skip
        assert text in card
    # A gold item nobody judged keeps its label and is not in the merging's accuracy.
    card = pages.model_card(
        {**metrics, "gold": {}}, params, "v", pd.Series({"pos": 6}), {}, "mace",
        {**merging, "gold_items": 6, "gold_items_judged": 5, "relabel_tasks": 1},
    )  # fmt: skip
    assert "against the 5 gold items with judgments" in card and "1 uncertain item sent" in card
    assert "no gold item is in the test split" in card and "n/a." not in card
    assert "(an expert label on each gold item), not ground truth" in card


def test_the_model_card_says_when_every_label_is_an_experts():
    """A team with gold on every item: under use_gold the labels are the experts', and the
    card must not call the test labels merged and noisy."""
    metrics = {"test": {"accuracy": 0.9, "items": 10}, "gold": {"items": 10, "accuracy": 0.9}}
    merging = {"items": 50, "gold_items": 50, "annotations": 200, "annotators": 5}
    card = pages.model_card(metrics, {"label_merge": {"use_gold": True}}, "v",
                            pd.Series({"pos": 6}), {}, "mace", merging)  # fmt: skip
    assert "every item's label is an expert's" in card and "not ground truth" not in card
    assert "Every test item is a gold item" in card and "include label noise" not in card
    card = pages.model_card(metrics, {"label_merge": {"use_gold": False}}, "v",
                            pd.Series({"pos": 6}), {}, "mace", merging)  # fmt: skip
    assert "merged by a statistical model, not ground truth" in card
    assert "Test labels are themselves merged from annotators" in card


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "a|b\nc",
    "`code` **bold**",
]


def test_labels_from_the_data_cannot_put_markup_in_the_markdown_pages():
    """Rendered as GitHub would (raw HTML allowed), no executable markup survives."""
    from markdown_it import MarkdownIt

    from stages.evaluation.run import evaluate_model

    classes = HOSTILE[:4]

    class Model:
        classes_ = np.array(classes)

        def predict_proba(self, test):
            return np.tile([0.1, 0.2, 0.3, 0.4], (len(test), 1))

    test = pd.DataFrame(
        {"item_id": ["i1", "i2", "i3"], "label": classes[:3], "is_gold": [False, True, False]}
    )
    result = evaluate_model(Model(), test, classes, top=5)
    counts = pd.Series([3, 2, 1, 0], index=classes)
    card = pages.model_card(result.metrics, {"train": {}}, "md5", counts, {}, HOSTILE[4])
    for page in (result.report, card):
        rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(page)
        tags = _tags(rendered)
        assert not {name for name, _ in tags} & {"script", "img", "iframe", "svg"}, rendered
        attributes = [(key, value or "") for _, attrs in tags for key, value in attrs]
        assert not [key for key, _ in attributes if key.startswith("on")], rendered
        assert not [v for _, v in attributes if v.strip().lower().startswith("javascript:")]
    table_rows = [line for line in result.report.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == line.replace("\\|", "").count(" | ") for line in table_rows)


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element a browser would build from ``page``: its name and attributes."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collector().feed(page)
    return found


def test_plot_rows_break_script_sequences_and_keep_numbers():
    from stages.core.markup import WORD_JOINER, plot_rows

    rows = pd.DataFrame({"class": ["</script>", "<!--x", "ok"], "recall": [0.5, 1.0, 0.0]})
    safe = plot_rows(rows)
    assert "</script" not in "".join(safe["class"]) and "<!--" not in "".join(safe["class"])
    assert [text.replace(WORD_JOINER, "") for text in safe["class"]] == list(rows["class"])
    assert safe["recall"].tolist() == rows["recall"].tolist()
    # A bidi override would draw a chart's label backwards: shown as its escape, as in Markdown.
    assert plot_rows(pd.DataFrame({"id": ["ann\u202emoc.liam"]}))["id"].tolist() == [
        "ann\\u202emoc.liam"
    ]


def test_curves_equal_scikit_learns():
    """The PR curve is scikit-learn's, interpolated (best precision at recall >= r), the ROC
    curve scikit-learn's points joined by lines; with overlapping scores neither is flat."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    rng = np.random.default_rng(0)
    actual = pd.Series(rng.choice(CLASSES, 300))
    truth = (actual.to_numpy()[:, None] == np.asarray(CLASSES)[None, :]).astype(float)
    probabilities = truth + rng.uniform(0, 1.5, truth.shape)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    pr, roc = scoring.curves(actual, probabilities, CLASSES, points=51)
    for k, label in enumerate(CLASSES):
        positive = (actual == label).astype(int)
        precision, recall, _ = precision_recall_curve(positive, probabilities[:, k])
        ours = pr[pr["class"] == label]
        for r, p in zip(ours["recall"], ours["precision"], strict=True):
            assert p == pytest.approx(precision[recall >= r].max(), abs=1e-6)
        assert ours["precision"].nunique() > 3  # not the all-1.0 curve of old
        fpr, tpr, _ = roc_curve(positive, probabilities[:, k])
        start, *grid = roc[roc["class"] == label].itertuples(index=False)
        assert (start.fpr, start.tpr) == (0.0, 0.0)  # every ROC curve starts there
        theirs = np.interp([row.fpr for row in grid], fpr, tpr)
        assert [row.tpr for row in grid] == pytest.approx(theirs, abs=1e-6)


def test_a_tie_goes_where_model_predict_sends_it_whatever_the_label_set_order():
    """Label set [pos, neg], the model's classes sorted [neg, pos]: at 0.5 each, predict says
    neg, and so do the confusion rows and every score."""
    from stages.evaluation.run import evaluate_model

    class Model:
        classes_ = np.array(["neg", "pos"])

        def predict_proba(self, test):
            return np.array([[0.5, 0.5], [0.2, 0.8], [0.5, 0.5]])

        def predict(self, test):
            return self.classes_[self.predict_proba(test).argmax(axis=1)]

    test = pd.DataFrame({"item_id": ["a", "b", "c"], "label": ["neg", "pos", "pos"],
                         "is_gold": [True, False, True]})  # fmt: skip
    result = evaluate_model(Model(), test, ["pos", "neg"], top=5)
    confusion = result.plots["confusion.csv"]
    assert (
        confusion["predicted"].tolist() == Model().predict(test).tolist() == ["neg", "pos", "neg"]
    )
    assert result.metrics["test"]["accuracy"] == pytest.approx(2 / 3)
    assert result.metrics["gold"]["accuracy"] == pytest.approx(1 / 2)


def test_the_gold_column_scores_against_the_experts_even_when_the_merge_ignored_them():
    """use_gold: false leaves no merged label marked gold: the gold table still says which
    test items experts labelled, and what they said."""
    from stages.evaluation.run import evaluate_model

    class Model:
        classes_ = np.array(["neg", "pos"])

        def predict_proba(self, test):
            return np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7]])

    test = pd.DataFrame({"item_id": ["a", "b", "c"], "label": ["neg", "pos", "pos"],
                         "is_gold": [False, False, False]})  # fmt: skip
    experts = pd.Series({"b": "pos", "c": "neg", "elsewhere": "neg"})
    result = evaluate_model(Model(), test, ["neg", "pos"], top=5, experts=experts)
    assert result.metrics["gold"]["items"] == 2
    assert result.metrics["gold"]["accuracy"] == pytest.approx(1 / 2)  # c: experts say neg
    assert result.metrics["test"]["accuracy"] == pytest.approx(1.0)  # against merged labels
    assert evaluate_model(Model(), test, ["neg", "pos"], top=5).metrics["gold"] == {"items": 0}


def test_a_grid_recall_within_rounding_of_a_reached_one_counts_as_reached():
    """np.linspace's 0.7000000000000001 is recall 0.7: 7 of 10 positives ranked first reach it
    with precision 1.0 (compared exactly, the point fell to the next recall, 0.5)."""
    from sklearn.metrics import precision_recall_curve

    positive = np.array([1] * 7 + [0] * 10 + [1] * 3)
    precision, recall, _ = precision_recall_curve(positive, -np.arange(20.0))
    at = np.linspace(0.0, 1.0, 11)
    best = scoring.best_precision(precision, recall, at)
    assert best[7] == 1.0 and at[7] > 0.7
    assert best.tolist() == [precision[recall >= r - 1e-9].max() for r in at]


def test_chart_labels_in_the_pull_request_report_carry_no_markup():
    from stages.core.markup import mermaid_text

    hostile = 'neg"]\n  bar [1]\n%%{init: {"theme": "x"}}%%<script>alert(1)</script>'
    safe = mermaid_text(hostile, limit=200)
    assert not set(safe) & set('"[]%{}<>;#\n`')
    assert mermaid_text("Ünïcode 7") == "Ünïcode 7" and len(mermaid_text("x" * 99)) == 24


def test_a_bidi_override_in_a_markdown_cell_shows_as_its_escape():
    """U+202E would draw the rest of a table row right to left, hiding what it says."""
    from stages.core.markup import markdown_text

    assert markdown_text("cat\u202e|dog\u2066") == "cat\\\\u202e\\|dog\\\\u2066"
    assert markdown_text("ÿes, نعم") == "ÿes, نعم"  # right-to-left text itself is untouched


def test_accuracy_comes_with_its_wilson_interval():
    from stages.evaluation.pages import _metric_rows
    from stages.evaluation.scoring import wilson_interval

    low, high = wilson_interval(1.0, 15)  # 15 gold items, all right: not a certainty
    assert (round(low, 4), high) == (0.7961, 1.0)
    metrics = {"test": {"accuracy": 0.9, "items": 100}, "gold": {"accuracy": 1.0, "items": 15}}
    assert _metric_rows(metrics)[0] == "| accuracy (95% interval) | 0.9000 (0.826 to 0.945) | " \
        "1.0000 (0.796 to 1.000) |"  # fmt: skip


def test_most_frequent_mistakes_keep_the_pairs_tied_with_the_last_one_shown():
    pairs = [("a", "b")] * 3 + [("b", "a")] * 2 + [("a", "c")] * 2 + [("c", "a")] + [("a", "a")]
    rows = pd.DataFrame(pairs, columns=["actual", "predicted"])
    metrics = {"test": {"items": len(rows)}, "gold": {}}

    def listed(top: int) -> list[str]:
        report = pages.markdown_report(metrics, rows, ["a", "b", "c"], top)
        table = report.split("Most frequent mistakes:")[1]
        return [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]

    assert len(listed(2)) == 1 + 3  # header, then 3, 2 and the 2 tied with it
    assert len(listed(1)) == 1 + 1 and len(listed(0)) == 1
    right = pages.markdown_report(metrics, rows[rows["actual"] == rows["predicted"]], ["a"], 5)
    assert right.endswith("Most frequent mistakes: none (every prediction is right).\n")
    assert "no gold item is in it" in right  # not "its 0 gold items"


def test_ties_too_many_to_list_are_counted_not_listed():
    """At 60 classes almost every mistake happens once: "and ties" listed all 38."""
    classes = [f"c{n:02d}" for n in range(40)]
    pairs = [(classes[n], classes[n + 1]) for n in range(38)] + [("c00", "c02")] * 2
    rows = pd.DataFrame(pairs, columns=["actual", "predicted"])
    report = pages.markdown_report({"test": {"items": len(rows)}, "gold": {}}, rows, classes, 5)
    table = report.split("Most frequent mistakes:")[1]
    assert len([line for line in table.splitlines() if line.startswith("| c")]) == 5
    assert table.rstrip().endswith("And 34 more pairs, at most 1 item each.")


def test_classes_without_a_test_item_are_named_and_macro_f1_says_what_it_averages():
    actual = pd.Series(["a", "a", "b"])
    probabilities = np.array([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]])
    metrics = {"test": scoring.score(actual, probabilities, ["a", "b", "c"]), "gold": {}}
    rows = scoring.confusion_rows(pd.Series(["i1", "i2", "i3"]), actual,
                                  pd.Series(["a", "c", "b"]), ["a", "b", "c"])  # fmt: skip
    page = pages.markdown_report(metrics, rows, ["a", "b", "c"], top=3)
    assert (
        "No test item, so not scored on the test split (it is drawn by item, not by class): c."
        in page
    )
    assert "a class predicted but with no test item counts 0" in page


def test_a_small_gold_subset_scores_without_library_warnings():
    """A few gold items may hold one class, or miss a predicted one: expected, not a warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = scoring.score(pd.Series(["a", "a"]), np.array([[0.9, 0.1], [0.8, 0.2]]), ["a", "b"])
        missed = scoring.score(
            pd.Series(["a", "a"]), np.array([[0.9, 0.1], [0.2, 0.8]]), ["a", "b"]
        )
    assert one["accuracy"] == 1.0 and missed["accuracy"] == 0.5


def test_a_class_never_predicted_is_named_with_its_item_count():
    actual = pd.Series(["a", "a", "b", "c"])
    probabilities = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.6, 0.1, 0.3], [0.1, 0.1, 0.8]])
    per_class = scoring.score(actual, probabilities, ["a", "b", "c"])["per_class"]
    assert scoring.never_predicted(per_class) == ["'b' (1 item)"]
    rows = scoring.confusion_rows(pd.Series(["i1", "i2", "i3", "i4"]), actual,
                                  pd.Series(["a", "a", "a", "c"]), ["a", "b", "c"])  # fmt: skip
    metrics = {"test": scoring.score(actual, probabilities, ["a", "b", "c"]), "gold": {}}
    page = pages.markdown_report(metrics, rows, ["a", "b", "c"], top=3)
    assert "Never predicted on the test split, though it holds items of them" in page
    assert page.split("Never predicted")[1].splitlines()[0].endswith(": b.")


def test_a_confidence_of_one_falls_in_the_last_calibration_bin():
    """Confidence 1.0 would make an eleventh bin of its own; it belongs with 0.9 to 1.0."""
    actual = pd.Series(["pos", "neg"])
    probabilities = np.array([[0.0, 1.0, 0.0], [0.95, 0.05, 0.0]])  # classes: neg, pos, mid
    table = scoring.calibration_table(actual, probabilities, ["neg", "pos", "mid"])
    assert table["items"].tolist() == [2] and table["accuracy"].tolist() == [1.0]


def test_the_wilson_interval_is_scipys_for_accuracies_that_are_not_exact_in_binary():
    from scipy.stats import binomtest

    for right, items in ((29, 100), (57, 100), (1, 3), (2, 7)):  # 0.29 * 100 = 28.999999999999996
        expected = binomtest(right, items).proportion_ci(0.95, method="wilson")
        low, high = scoring.wilson_interval(right / items, items)
        assert (low, high) == (pytest.approx(expected.low), pytest.approx(expected.high))


def test_a_label_cannot_mention_people_or_link_in_a_markdown_page():
    """In a pull-request comment or a page GitHub renders, "@org/team" notified a team, "#12"
    linked an issue and a bare address became a link (a tracking image's, say)."""
    from stages.core.markup import WORD_JOINER, markdown_text

    shown = markdown_text("@octo-org/security #12 !4 https://evil.example/t.png www.x.io")
    assert (
        shown.replace(WORD_JOINER, "")
        == "@octo-org/security #12 !4 https://evil.example/t.png www.x.io"
    )
    for live in ("@o", "#1", "!4", "://", "www."):
        assert live not in shown, live
    assert markdown_text("C# and F#, 3 @ 4") == "C# and F#, 3 @ 4"  # no name after them
