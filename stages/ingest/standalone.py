"""A delivery read outside the pipeline (standalone label-merge), with the checks that
prepare and validate would otherwise make: every judgment and gold label in the label set,
and gold items without judgments said, not silently labelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.datasets import is_in
from stages.core.errors import DataError
from stages.core.markup import quantity
from stages.ingest.delivery import Delivery, read_delivery

# Labels a standalone run takes from the data without being told: 8,000 random labels had
# needed 5 GB within seconds (confusion matrices are labels x labels per annotator).
MAX_FOUND_LABELS = 500


def read_standalone(
    exports: Path,
    gold_file: Path | None,
    aliases_file: Path | None,
    given: list[str] | None,
    data: dict[str, Any],
    params_file: object = "params.yaml",
) -> tuple[Delivery, list[str]]:
    """The delivery, against the ``given`` label set or the judgments' own, and warnings."""
    # No need to sort: merging codes items and annotators by sorted id.
    delivery = read_delivery(
        exports,
        gold_file,
        data,
        given,
        ordered=False,
        strict_aliases=False,
        params_file=params_file,
        aliases_file=aliases_file,
    )
    if delivery.annotations.empty:  # nothing to merge: say so, not a division by zero later
        skipped = delivery.export.skipped
        why = (
            f" ({quantity(sum(skipped.values()), 'record')} skipped, e.g. {next(iter(skipped))})"
            if skipped
            else ""
        )
        reason = f"no judgments to merge{why}; export again once annotators have labelled items"
        raise DataError(exports, None, reason)
    found = len(delivery.labels)
    if given is None and found > MAX_FOUND_LABELS:  # each method holds K x K per annotator
        first = ", ".join(map(ascii, delivery.labels[:3]))
        reason = (
            f"{found} distinct labels in the judgments (first: {first}): is the label column "
            "free text? Give the label set with --labels to merge them anyway"
        )
        raise DataError(exports, None, reason)
    _judged_in_set(delivery, exports)
    gold, labels = delivery.gold, delivery.labels
    outside = ~gold["label"].isin(labels)
    if outside.any():
        item, label = gold.loc[outside, ["item_id", "label"]].iloc[0]
        reason = f"gold label {label!a} is not in the label set ({', '.join(labels)})"
        fix = "; a label no annotator chose needs --labels" if given is None else ""
        raise DataError(gold_file or exports, f"item {item}", reason + fix)
    warnings = list(delivery.export.warnings)
    judged = is_in(gold["item_id"], delivery.annotations["item_id"])
    if not judged.all():  # kept: an expert's label stands alone, but a mistyped id would too
        unjudged = gold.loc[~judged, "item_id"]
        warnings.append(
            f"{gold_file or exports}: {quantity(len(unjudged), 'gold item')} without "
            f"judgments (first: {unjudged.iloc[0]!a}), labelled from the gold alone; "
            "check the ids if they should have judgments"
        )
    return delivery, warnings


def _judged_in_set(delivery: Delivery, exports: Path) -> None:
    """Every judgment's label is in the set: the first that is not, named by its file, item
    and annotator (in the pipeline, validate does this)."""
    annotations, labels = delivery.annotations, delivery.labels
    outside = ~annotations["label"].isin(labels)
    if outside.any():
        first = annotations[outside].iloc[0]
        where = exports / str(first["source"]) if exports.is_dir() else exports
        record = f"item {first['item_id']}, annotator {first['annotator_id']}"
        reason = (
            f"label {first['label']!a} is not in --labels ({', '.join(labels)}); "
            f"{int(outside.sum())} judgment(s) in all: add it there, or map it in data.aliases"
        )
        raise DataError(where, record, reason)
