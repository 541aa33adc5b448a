"""The few numbers per stage that a person compares across runs: DVC's metrics.

Every stage writes a detailed report (counts per file, per check, per batch, per class, notes);
those stay outputs that people open. What DVC tracks as metrics, and so what `dvc metrics
diff` and `dvc exp show` print, is this handful: flat, numbers only, short names, one small
file per stage in ``metrics/``. Each entry names where the number comes from in the stage's
detailed report. A name means one thing across stages: ``gold_acc`` is the merged labels'
accuracy on gold (label-merge); the model's, on the few gold items of the test split, stays in
reports/metrics.json.
"""

from __future__ import annotations

import math
from typing import Any

# stage -> (metric name, dotted key in the stage's report)
HEADLINE: dict[str, list[tuple[str, str]]] = {
    "prepare": [("items", "items"), ("judgments", "annotations"), ("gold", "gold")],
    "validate": [("warnings", "failed_warning"), ("quarantined", "rows_quarantined")],
    "label-merge": [
        ("alpha", "krippendorff_alpha"),
        ("gold_acc", "gold_accuracy"),
        ("spammers", "likely_spammers"),
        ("relabel", "relabel_tasks"),
    ],
    "train": [("issues", "label_issues")],
    "evaluate": [
        ("accuracy", "test.accuracy"),
        ("macro_f1", "test.macro_f1"),
        ("log_loss", "test.log_loss"),
        ("ece", "test.ece"),
    ],
}


def headline(stage: str, report: dict[str, Any]) -> dict[str, float | int | None]:
    """The stage's metrics from its report: numbers, None where there is none (no gold)."""
    metrics: dict[str, float | int | None] = {}
    for name, dotted in HEADLINE[stage]:
        value: Any = report
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        metrics[name] = value if is_number and not math.isnan(value) else None
    return metrics
