"""One evaluation: the model against the test split's merged labels (and its gold items), as
the metrics, plots, report and model card the evaluate command writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stages.evaluation import pages, scoring


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, Any]  # reports/metrics.json
    plots: dict[str, pd.DataFrame]  # file name in reports/plots/ -> rows
    report: str  # reports/evaluation.md


def evaluate_model(
    model: Any,
    test: pd.DataFrame,
    classes: list[str],
    top: int,
    subject: str = "",
    experts: pd.Series | None = None,
) -> Evaluation:
    """Probabilities for every class of the label set (0 for a class the model never saw);
    ``subject``, the line saying what was evaluated, heads the report. ``experts``: the gold
    table's label by item id; the gold column scores the test items it holds against them
    (without it, the items the merged labels mark gold, against those labels)."""
    probabilities = np.zeros((len(test), len(classes)))
    learnt = [str(label) for label in model.classes_]
    if len(test):
        predicted = model.predict_proba(test)
        for column, label in enumerate(learnt):
            if label in classes:
                probabilities[:, classes.index(label)] = predicted[:, column]
    # Equal probabilities go to the class first in the model's own order, as model.predict does.
    tie_order = np.array([learnt.index(c) if c in learnt else len(learnt) for c in classes])
    chosen = scoring.top_class(probabilities, tie_order)
    actual = test["label"].astype(str)
    # With use_gold: false the merged labels mark no item gold, yet the experts' labels are
    # there to score against: the gold column follows the gold table, not the merge.
    expert = test["item_id"].map(experts) if experts is not None else test["label"].where(
        test["is_gold"].astype(bool)
    )  # fmt: skip
    gold = expert.notna().to_numpy()
    metrics = {
        "test": scoring.score(actual, probabilities, classes, chosen),
        "gold": scoring.score(expert[gold].astype(str), probabilities[gold], classes, chosen[gold]),
    }
    predicted_labels = pd.Series(np.asarray(classes)[chosen] if len(test) else [], dtype=object)
    rows = scoring.confusion_rows(test["item_id"], actual, predicted_labels, classes)
    precision_recall, roc = scoring.curves(actual, probabilities, classes)
    plots = {
        "confusion.csv": rows,
        "precision_recall.csv": precision_recall,
        "roc.csv": roc,
        "calibration.csv": scoring.calibration_table(actual, probabilities, classes, chosen),
    }
    return Evaluation(metrics, plots, pages.markdown_report(metrics, rows, classes, top, subject))


def merged_by(labels: pd.DataFrame) -> str:
    """The method(s) named in the labels table (one, unless the table was edited by hand)."""
    return ", ".join(sorted(labels["method"].dropna().astype(str).unique()))


def drawn_charts(
    evaluation: Evaluation, annotators: pd.DataFrame | None, templates: Path
) -> dict[str, tuple[str, str]]:
    """Every plot as SVG, by its file's stem: (title, svg); the annotators chart where
    label-merge's plot file is given."""
    from stages.core.markup import plot_rows
    from stages.evaluation import charts

    tables = dict(evaluation.plots)
    if annotators is not None:
        tables = {"annotators.csv": annotators, **tables}
    return {
        Path(name).stem: (
            charts.CHARTS[name]["title"],
            charts.svg(charts.spec(name, plot_rows(rows), templates), f"c{n}-"),
        )
        for n, (name, rows) in enumerate(tables.items())
    }


def run_report(evaluation: Evaluation, pictures: dict[str, tuple[str, str]]) -> str:
    """reports/report.html: the evaluation report and every chart, in one offline page."""
    from markdown_it import MarkdownIt

    from stages.evaluation import charts

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(evaluation.report)
    return charts.report_page("Evaluation", body, list(pictures.values()))
