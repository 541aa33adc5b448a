"""The plots: one definition for `dvc plots show` (dvc.yaml) and for the offline report
(stages/evaluation/charts.py), and every template draws, offline, from the plot files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from stages.evaluation import charts, scoring
from tests.conftest import PROJECT_ROOT

PIPELINE = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
PLOTS = {
    next(iter(entry)): next(iter(entry.values()))
    for stage in PIPELINE.values()
    for entry in stage.get("plots", [])
}


def test_dvc_yaml_draws_every_chart_as_the_report_does():
    assert {path.rsplit("/", 1)[-1] for path in PLOTS} == set(charts.CHARTS)
    for path, options in PLOTS.items():
        chart = charts.CHARTS[path.rsplit("/", 1)[-1]]
        assert options["template"] == f".dvc/plots/{chart['template']}", path
        for key in ("x", "y", "title", "x_label", "y_label"):
            assert options[key] == chart[key], (path, key)


SAMPLES = {
    "annotators.csv": pd.DataFrame(
        {"annotator_id": ["ann", "bo"], "estimated_accuracy": [0.9, 0.2],
         "gold_accuracy": [1.0, None], "judgments": [10, 12], "flag": ["ok", "likely spammer"]}
    ),
    "confusion.csv": pd.DataFrame(
        {"item_id": ["i1", "i2", "i3"], "actual": ["a", "b", "b"], "predicted": ["a", "b", "a"],
         "actual_order": [0, 1, 1], "predicted_order": [0, 1, 0]}
    ),
    "precision_recall.csv": pd.DataFrame(
        {"class": ["a", "a", "b", "b"], "class_order": [0, 0, 1, 1], "recall": [0.0, 1.0, 0.0, 1.0],
         "precision": [1.0, 0.5, 1.0, 0.7]}
    ),
    "roc.csv": pd.DataFrame(
        {"class": ["a", "a", "b", "b"], "class_order": [0, 0, 1, 1], "fpr": [0.0, 1.0, 0.0, 1.0],
         "tpr": [0.0, 1.0, 0.5, 1.0]}
    ),
    "calibration.csv": pd.DataFrame(
        {"confidence": [0.45, 0.95], "accuracy": [0.5, 0.9], "items": [4, 40],
         "low": [0.15, 0.77], "high": [0.85, 0.96]}
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(charts.CHARTS))
def test_every_chart_draws_offline_the_same_each_time(name):
    spec = charts.spec(name, SAMPLES[name], PROJECT_ROOT / ".dvc" / "plots")
    picture = charts.svg(spec)
    assert picture.startswith("<svg") and picture == charts.svg(spec)
    assert charts.CHARTS[name]["title"].split(",")[0].split(" (")[0] in picture


def _text_order(picture: str, words: list[str]) -> list[str]:
    return sorted(words, key=lambda word: picture.index(f">{word}<"))


def test_an_annotator_without_gold_gets_no_gold_tick_on_the_dvc_page_either():
    """`dvc plots show` hands the template CSV cells as strings, an empty one as "" (which
    isValid lets through, drawn at 0%); the offline report hands it null."""
    as_dvc_gives_them = pd.DataFrame(
        {"annotator_id": ["ann", "bo", "cy"], "estimated_accuracy": ["0.9", "0.2", "0.5"],
         "gold_accuracy": ["1.0", "", "0.5"], "judgments": ["10", "12", "3"],
         "flag": ["ok", "likely spammer", "ok"]}
    )  # fmt: skip
    for rows in (as_dvc_gives_them, SAMPLES["annotators.csv"]):
        picture = charts.svg(charts.spec("annotators.csv", rows, PROJECT_ROOT / ".dvc" / "plots"))
        ticks = picture.split('class="mark-rect role-mark layer_1_marks"', 1)[1].split("</g>")[0]
        with_gold = rows["gold_accuracy"].replace("", None).notna().sum()
        assert ticks.count("<path") == with_gold


def test_charts_follow_the_label_set_order_and_cut_long_labels():
    """Ordinal labels read low, medium, high (not alphabetically); 2 comes before 10; a label
    of 200 characters loses its middle in its panel's title instead of widening the chart."""
    templates = PROJECT_ROOT / ".dvc" / "plots"
    classes = ["low", "medium", "high", *(str(n) for n in range(1, 12))]
    actual = pd.Series(classes * 4)
    predicted = pd.Series(classes[1:] + classes[:1] + classes * 3)
    rows = scoring.confusion_rows(pd.Series(range(len(actual))), actual, predicted, classes)
    probabilities = pd.get_dummies(predicted)[classes].to_numpy(dtype=float) * 0.8 + 0.01
    precision_recall, _ = scoring.curves(actual, probabilities, classes, points=11)
    for name, table in (("confusion.csv", rows), ("precision_recall.csv", precision_recall)):
        for values in (table, table.astype(str)):  # `dvc plots show` passes CSV cells as text
            picture = charts.svg(charts.spec(name, values, templates))
            assert _text_order(picture, classes) == classes, name
    long = "Supercalifragilistic" * 10
    named = ["short", long]
    precision_recall, _ = scoring.curves(
        pd.Series(["short", long] * 5), np.tile([[0.7, 0.3], [0.2, 0.8]], (5, 1)), named, points=11
    )
    picture = charts.svg(charts.spec("precision_recall.csv", precision_recall, templates))
    width = float(picture.split('width="', 1)[1].split('"', 1)[0])
    assert f">{long}<" not in picture and ">Supercalifr…fragilistic</text>" in picture
    assert width < 600


def test_annotators_are_listed_from_the_most_accurate_down():
    rows = pd.DataFrame(
        {"annotator_id": ["ann", "bo", "cy"], "estimated_accuracy": [0.9, 0.2, 0.95],
         "gold_accuracy": [1.0, 0.0, None], "judgments": [10, 12, 3], "flag": ["ok", "likely spammer", "ok"]}
    )  # fmt: skip
    templates = PROJECT_ROOT / ".dvc" / "plots"
    for values in (rows, rows.astype(str)):  # `dvc plots show` passes CSV cells as text
        picture = charts.svg(charts.spec("annotators.csv", values, templates))
        assert _text_order(picture, ["ann", "bo", "cy"]) == ["cy", "ann", "bo"]


def test_the_report_page_is_one_file_with_its_pictures():
    page = charts.report_page("Evaluation", "<p>body</p>", [("a <chart>", "<svg></svg>")])
    assert "<svg></svg>" in page and "a &lt;chart&gt;" in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]


def test_the_dvc_plots_page_template_inlines_the_engine_and_is_up_to_date():
    """.dvc/config gives `dvc plots show` this template: Vega, Vega-Lite and Vega-Embed inlined
    (the bundle vl-convert inlines in its own offline pages), no CDN. Regenerate it with
    `python -m stages.evaluation.charts` after upgrading vl-convert-python."""
    import configparser

    committed = (PROJECT_ROOT / ".dvc" / "plots" / "offline.html").read_text(encoding="utf-8")
    assert committed == charts.offline_plots_page()
    assert "{plot_divs}" in committed and "{scripts}" not in committed
    assert "<script src=" not in committed and "window.vegaEmbed=" in committed
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / ".dvc" / "config")
    assert config["plots"]["html_template"].strip() == "plots/offline.html"


def test_a_template_that_cannot_draw_is_a_data_error(tmp_path):
    from stages.core.errors import DataError

    (tmp_path / "by_class.json").write_text('{"mark": "no-such-mark", "data": {"values": []}}')
    with pytest.raises(DataError, match="cannot draw it"):
        charts.svg(charts.spec("roc.csv", SAMPLES["roc.csv"], tmp_path))
    (tmp_path / "by_class.json").write_text("{not json")
    with pytest.raises(DataError, match="invalid JSON"):
        charts.spec("roc.csv", SAMPLES["roc.csv"], tmp_path)


def test_the_confusion_matrix_shows_every_class_even_one_never_predicted_or_present():
    actual = pd.Series(["a", "a", "b", "b"])  # no "c" in the test split
    predicted = pd.Series(["a", "a", "a", "a"])  # nothing predicted as "b" or "c"
    rows = scoring.confusion_rows(pd.Series(["i1", "i2", "i3", "i4"]), actual, predicted,
                                  ["a", "b", "c"])  # fmt: skip
    assert rows["item_id"].tolist() == ["i1", "i2", "i3", "i4", "", ""]
    for values in (rows, rows.astype(str).replace("", None), rows.astype(str)):
        picture = charts.svg(charts.spec("confusion.csv", values, PROJECT_ROOT / ".dvc" / "plots"))
        cells = picture.split('role-mark child_layer_2_marks"', 1)[1].split("</g>")[0]
        assert sorted(re.findall(r">(\d+)<", cells)) == ["2", "2"]  # the padding counts nothing
        for label in ("a", "b", "c"):  # each class on both axes
            assert picture.count(f">{label}</text>") == 2, label


def test_one_revisions_annotator_bars_are_drawn_near_full_strength():
    """The revision sets the bars' opacity (for plots diff); alone, it took the scale's middle,
    0.55, and the bars looked paler than their legend."""
    picture = charts.svg(
        charts.spec("annotators.csv", SAMPLES["annotators.csv"], PROJECT_ROOT / ".dvc" / "plots")
    )
    bars = picture.split('role-mark layer_0_marks"', 1)[1].split("</g>")[0]
    assert set(re.findall(r'opacity="([0-9.]+)"', bars)) == {"0.85"}


def test_long_annotator_ids_keep_both_ends_so_that_two_stay_two():
    """Ids of 60 characters that differ only at the end were cut to the same 30 characters."""
    stem = "bo.chen.quality-review-team.contractor-2024-"
    rows = SAMPLES["annotators.csv"].assign(
        annotator_id=[stem + "north@x.org", stem + "south@x.org"]
    )
    picture = charts.svg(charts.spec("annotators.csv", rows, PROJECT_ROOT / ".dvc" / "plots"))
    shown = re.findall(r">(bo\.chen[^<]*)</text>", picture)
    assert len(set(shown)) == 2 and all("…" in label and len(label) == 43 for label in shown)


def test_a_flag_is_said_in_words_not_by_colour_alone():
    """Red and blue bars are 1.2:1 apart in luminance: each flagged annotator's bar is named
    at the chart's edge ("ok" only in the legend), and "not assessed" grey is 4.5:1 on white."""
    rows = SAMPLES["annotators.csv"]
    rows = pd.concat([rows, rows.iloc[:1].assign(annotator_id="cy", flag="not assessed")])
    picture = charts.svg(charts.spec("annotators.csv", rows, PROJECT_ROOT / ".dvc" / "plots"))
    assert picture.count(">likely spammer</text>") == picture.count(">not assessed</text>") == 2
    assert picture.count(">ok</text>") == 1
    assert 'fill="#767676"' in picture


def test_calibration_counts_are_read_out_as_counts():
    """The counts sit above the chart at a made-up height, which screen readers read out as an
    accuracy of 1.03."""
    rows = SAMPLES["calibration.csv"]
    picture = charts.svg(charts.spec("calibration.csv", rows, PROJECT_ROOT / ".dvc" / "plots"))
    labels = re.findall(r'aria-label="([^"]*)"', picture)
    assert "4 items in the bin" in labels and "40 items in the bin" in labels
    assert not [label for label in labels if "1.03" in label]


def test_the_report_page_scales_its_pictures_to_a_narrow_window_but_scrolls_a_wide_one():
    narrow, wide = '<svg width="600" height="9"></svg>', '<svg width="1900" height="9"></svg>'
    page = charts.report_page("t", "<p>x</p>", [("c", narrow), ("m", wide)])
    assert "figure svg{max-width:100%;height:auto}" in page
    assert '<figure aria-label="c">' in page and '<figure class="wide" aria-label="m">' in page


def test_labels_that_share_a_start_stay_apart_in_every_class_chart():
    """Long labels were cut at their end, so two with one start read the same; the middle
    goes instead, as in the annotators chart."""
    templates = PROJECT_ROOT / ".dvc" / "plots"
    stem = "Account access - password reset link "
    named = [stem + "expired before use", stem + "was never sent at all"]
    actual = pd.Series(named * 5)
    rows = scoring.confusion_rows(pd.Series(range(10)), actual, actual, named)
    precision_recall, _ = scoring.curves(
        actual, np.tile([[0.7, 0.3], [0.2, 0.8]], (5, 1)), named, points=11
    )
    for name, table in (("confusion.csv", rows), ("precision_recall.csv", precision_recall)):
        picture = charts.svg(charts.spec(name, table, templates))
        shown = set(re.findall(r">(Account[^<]*)</text>", picture))
        assert len(shown) == 2 and all("…" in label for label in shown), (name, shown)


def test_the_confusion_matrix_grows_with_the_label_set():
    """A fixed 300 pixels (kept for `dvc plots show`, and in the report up to 10 classes)
    left 5 per class at 60 classes, under 10-pixel counts."""
    templates = PROJECT_ROOT / ".dvc" / "plots"
    sizes = {}
    for n in (10, 60):
        classes = [f"c{k:02d}" for k in range(n)]
        actual = pd.Series(classes)
        rows = scoring.confusion_rows(pd.Series(range(n)), actual, actual, classes)
        picture = charts.svg(charts.spec("confusion.csv", rows, templates))
        sizes[n] = float(picture.split('height="', 1)[1].split('"', 1)[0])
    assert sizes[10] < 400 and sizes[60] > 60 * 28
