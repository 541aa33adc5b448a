"""The Markdown pages people read about an evaluation: the report and the model card.

Text from the data (labels) goes through ``markdown_text``, so it can add no markup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stages.core.markup import markdown_text, quantity
from stages.evaluation.scoring import CALIBRATION_BINS, unscored_classes, wilson_interval


def evaluated(
    params: dict[str, Any], data_version: str, merged_by: str, fitted: dict[str, Any] | None = None
) -> str:
    """One line saying what was evaluated: an experiment's report must say which model it is,
    with the values a grid chose (``fitted``: models/train.json), not the params' defaults."""
    train = params.get("train") or {}
    model = str(train.get("model"))
    chosen = (fitted or {}).get("best_params") or {}
    values = {**(train.get(model) or {}), **chosen}
    settings = ", ".join(f"{key} {value}" for key, value in values.items())
    tuned = f"; {_tuned(fitted or {})}" if chosen else ""
    return (
        f"Model `{model}`"
        + (f" ({markdown_text(settings + tuned)})" if settings else "")
        + f", labels merged by {markdown_text(merged_by)}"
        + f", data version `data/raw.dvc` md5 `{markdown_text(data_version)}`"
        + f", seed {markdown_text(params.get('seed'))}."
    )


def markdown_report(
    metrics: dict[str, Any], rows: pd.DataFrame, classes: list[str], top: int, subject: str = ""
) -> str:
    """What was evaluated, headline scores, per-class table, most frequent mistakes."""
    lines = [
        "# Evaluation",
        "",
        *([subject, ""] if subject else []),
        f"Test split: {quantity(metrics['test']['items'], 'item')}, scored against the merged "
        f"labels; {_gold_in_test(metrics['gold'].get('items', 0))}",
        "",
        "| metric | test | gold items in test |",
        "|---|---|---|",
        *_metric_rows(metrics),
        "",
        "balanced_accuracy: the mean of the per-class recalls. log_loss and brier: how far the "
        "predicted probabilities are from the labels (lower is better; brier sums the squared "
        "gaps over every class, 0 to 2, which for two classes is twice scikit-learn's "
        "brier_score_loss). ece: expected "
        "calibration error, the gap between confidence and accuracy averaged over "
        f"{CALIBRATION_BINS} confidence bins, weighted by items (0 is perfectly calibrated). "
        "macro_f1: the mean F1 over every class in the test labels or the predictions "
        "(scikit-learn's rule): a class predicted but with no test item counts 0.",
    ]
    lines += [
        "",
        "| class | precision | recall | f1 | average precision | ROC AUC | support |",
        "|---|---|---|---|---|---|---|",
    ]
    for label in classes:
        row = metrics["test"].get("per_class", {}).get(label)
        if row:
            keys = ("precision", "recall", "f1", "average_precision", "roc_auc")
            scores = " | ".join(_fmt(row.get(key)) for key in keys)
            lines.append(f"| {markdown_text(label)} | {scores} | {row['support']} |")
    missed = [
        label
        for label in classes
        if (row := metrics["test"].get("per_class", {}).get(label))
        and row["support"]
        and row["precision"] is None
    ]
    if missed:  # a class the model never predicts hides behind a fair accuracy
        lines += ["", "Never predicted on the test split, though it holds items of them (their "
                  "precision is n/a, their recall 0): "
                  + ", ".join(markdown_text(label) for label in missed) + "."]  # fmt: skip
    unscored = unscored_classes(metrics["test"].get("per_class", {}), classes)
    if unscored:  # the split is by item, not by class: a rare class may miss it
        names = ", ".join(markdown_text(label) for label in unscored)
        lines += ["", "No test item, so not scored on the test split (it is drawn by item, not "
                  f"by class): {names}."]  # fmt: skip
    mistakes = rows[rows["actual"] != rows["predicted"]]
    counts = (
        mistakes.groupby(["actual", "predicted"]).size().sort_values(ascending=False, kind="stable")
    )
    shown = counts.head(top)
    tied = counts[counts >= shown.iloc[-1]] if len(shown) else shown
    if len(tied) <= 2 * top:  # a pair as frequent as the last one shown is shown too
        shown = tied
    if mistakes.empty:
        return (
            "\n".join([*lines, "", "Most frequent mistakes: none (every prediction is right)."])
            + "\n"
        )
    lines += ["", "Most frequent mistakes:", ""]
    lines += ["| merged label | predicted | items |", "|---|---|---|"]
    lines += [f"| {markdown_text(a)} | {markdown_text(p)} | {n} |" for (a, p), n in shown.items()]
    if len(counts) > len(shown):
        most = int(counts.iloc[len(shown)])
        lines += ["", f"And {quantity(len(counts) - len(shown), 'more pair')}, "
                  f"at most {quantity(most, 'item')} each."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _gold_in_test(gold_items: int) -> str:
    if not gold_items:
        return "no gold item is in it (the gold column stays empty)."
    return f"gold: its {quantity(gold_items, 'gold item')}, scored against expert labels."


def model_card(
    metrics: dict[str, Any],
    params: dict[str, Any],
    data_version: str,
    label_counts: pd.Series,
    fitted: dict[str, Any],
    merged_by: str = "",
    merging: dict[str, Any] | None = None,
    charts: dict[str, str] | None = None,
) -> str:
    """What the model is for, what data, labels and params made it, how well it does, and
    where it should not be trusted.

    ``merged_by``: the method that labelled the items (the labels table's ``method``), which
    ``auto`` decides at run time; ``merging``: label-merge's summary (reports/label_merge.json),
    for the annotators and their agreement; ``charts``: the title of each chart drawn in
    reports/charts/, by file stem.
    """
    import yaml

    train = params.get("train") or {}
    model = train.get("model")
    method = (params.get("label_merge") or {}).get("method")
    experts = _expert_labelled(params, merging or {})
    keys = (model, "model", "features", "grid", "label_confidence")
    shown = {key: value for key, value in train.items() if key in keys}
    lines = [
        "# Model card",
        "",
        f"- Model: `{model}` in a scikit-learn pipeline (features, then the classifier), saved "
        "with skops as `models/model.skops`; load it with `stages.training.model_io.load`, which "
        "refuses untrusted types.",
        f"- Data version: `data/raw.dvc` md5 `{data_version}`.",
        f"- Labels: merged by {markdown_text(merged_by or method)} "
        f"(`label_merge.method: {method}`) from the "
        "annotators' judgments; "
        f"{fitted.get('train_items', 0)} training items.",
        f"- Seed: {params.get('seed')}.",
        "- Charts: below, and with the evaluation report in `reports/report.html` (offline).",
        "",
        "## Intended use",
        "",
        "Classifying new items of the same kind as the training items into the label set below, "
        "as a first pass that people review: "
        + (
            "every item's label is an expert's (gold, `use_gold`), though the items are only "
            "those the team had labelled."
            if experts == "all"
            else "the labels it learnt from are annotators' judgments merged by a statistical "
            f"model{' (an expert label on each gold item)' if experts else ''}, not ground truth."
        ),
        "",
        "## Labels: where they come from",
        "",
        *_merging_lines(merging or {}),
        "",
        "## Parameters",
        "",
        "```yaml",
        yaml.safe_dump({"train": shown}, sort_keys=True).rstrip(),
        "```",
        *(
            ["", f"The fitted model's values: {markdown_text(_tuned(fitted))}."]
            if fitted.get("best_params")
            else []
        ),
        "",
        "## Label distribution (training items)",
        "",
        "| label | items |",
        "|---|---|",
    ]
    lines += [f"| {markdown_text(label)} | {count} |" for label, count in label_counts.items()]
    test_items, gold_items = metrics["test"].get("items", 0), metrics["gold"].get("items", 0)
    lines += [
        "",
        "## Test metrics",
        "",
        f"| metric | test split ({test_items} items) | gold items in it ({gold_items}) |",
        "|---|---|---|",
        *_metric_rows(metrics),
        "",
        "## Limitations",
        "",
        (
            f"- Every test item is a gold item, labelled by the experts (`use_gold`): the scores "
            f"are against experts, on {quantity(gold_items, 'item')}: one item more or less "
            f"right moves accuracy by {_fmt(1 / gold_items)}."
            if experts and gold_items and gold_items == test_items
            else "- Test labels are themselves merged from annotators, so scores on them include "
            + (
                "label noise; the gold column is scored against experts, but on "
                f"{quantity(gold_items, 'item')}: one item more or less right moves it by "
                f"{_fmt(1 / gold_items)}."
                if gold_items
                else "label noise, and no gold item is in the test split to score against experts."
            )
        ),
        "- The scores hold for items like the training items (same source, same label set, same "
        "annotation guidelines); they say nothing about other kinds of item.",
        "- Where annotators disagree, the merged labels, and so the model, are least reliable: "
        "see the confusion matrix, and the items sent back for relabelling in `data/relabel/`.",
    ]
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{title}](../reports/charts/{stem}.svg)\n" for stem, title in charts.items()]
    return "\n".join(lines).rstrip("\n") + "\n"


def _expert_labelled(params: dict[str, Any], merging: dict[str, Any]) -> str:
    """ "all" where every item's label is an expert's (gold items keep their expert label under
    `use_gold`), "some" where gold items are, "" where none is."""
    if not (params.get("label_merge") or {}).get("use_gold", True):
        return ""
    gold, items = merging.get("gold_items", 0), merging.get("items", 0)
    return "all" if gold and gold >= items else "some" if gold else ""


def _merging_lines(merging: dict[str, Any]) -> list[str]:
    """The annotators and their agreement, from label-merge's summary (empty when absent)."""
    if not merging:
        return ["label-merge's summary (`reports/label_merge.json`) was not given."]
    return [
        f"- {merging.get('annotations', 0)} judgments by {merging.get('annotators', 0)} "
        f"annotators on {merging.get('items', 0)} items; "
        + _flagged(merging.get("likely_spammers", 0)),
        f"- Agreement between annotators: Krippendorff's alpha "
        f"{_fmt(merging.get('krippendorff_alpha'))}.",
        _gold_line(merging),
        f"- Mean confidence of a merged label: {_fmt(merging.get('mean_confidence'))}; "
        f"{quantity(merging.get('relabel_tasks', 0), 'uncertain item')} sent back for another "
        "round.",
    ]


def _tuned(fitted: dict[str, Any]) -> str:
    chosen = ", ".join(f"{key} {value}" for key, value in fitted["best_params"].items())
    return f"{chosen} chosen by the grid, cross-validated score {_fmt(fitted.get('cv_score'))}"


def _gold_line(merging: dict[str, Any]) -> str:
    """Accuracy on the gold items that have judgments: a gold item nobody judged keeps its
    expert label and says nothing about the merging."""
    judged = merging.get("gold_items_judged", merging.get("gold_items", 0))
    if not judged:
        return "- No gold item has judgments: the merged labels' accuracy is not measured."
    return (
        f"- Merged labels against the {quantity(judged, 'gold item')} with judgments: accuracy "
        f"{_fmt(merging.get('gold_accuracy'))} (from a fit that did not see them)."
    )


def _flagged(spammers: int) -> str:
    kind = "a likely spammer" if spammers == 1 else "likely spammers"
    return f"{quantity(spammers, 'annotator')} flagged as {kind}."


def _metric_rows(metrics: dict[str, Any]) -> list[str]:
    """One table row per score: the test split, then its gold items; accuracy with its 95%
    Wilson interval (on a few dozen gold items, the interval is the honest number)."""
    test, gold = metrics["test"], metrics["gold"]
    rows = [f"| accuracy (95% interval) | {_accuracy(test)} | {_accuracy(gold)} |"]
    return rows + [
        f"| {key} | {_fmt(test.get(key))} | {_fmt(gold.get(key))} |"
        for key in ("balanced_accuracy", "macro_f1", "log_loss", "brier", "ece")
    ]


def _accuracy(scores: dict[str, Any]) -> str:
    accuracy, items = scores.get("accuracy"), scores.get("items", 0)
    if accuracy is None or not items:
        return _fmt(accuracy)
    low, high = wilson_interval(accuracy, items)
    return f"{_fmt(accuracy)} ({low:.3f} to {high:.3f})"


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.4f}"
