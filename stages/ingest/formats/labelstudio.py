"""Label Studio exports: full JSON, JSON-MIN and CSV.

Full JSON holds tasks with their annotations; cancelled (skipped) annotations carry no label
and are left out; an annotation marked ``ground_truth`` is also the item's gold label.
JSON-MIN and CSV hold one flat record per non-cancelled annotation, with the task's data keys
at the top level and one key per labeling control (``from_name``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stages.core.errors import DataError
from stages.core.reading import parse_json
from stages.ingest.formats.common import Export, Rows, load_json, text_field
from stages.ingest.formats.csv_text import read_csv_strings, row_lines

# Keys of a JSON-MIN / CSV record that are bookkeeping, never a labeling control.
RECORD_KEYS = {
    "id",
    "annotator",
    "annotation_id",
    "created_at",
    "updated_at",
    "lead_time",
    "agreement",
}


def _not_one_choice(picked: object) -> str:
    return (
        f"expected exactly one choice, got {picked!r}; a judgment is one label: make the "
        'control single-choice (<Choices choice="single">), or remove the annotation'
    )


def _picked(result: dict[str, Any]) -> object:
    """What one choices (or taxonomy) result holds, as exported."""
    value = result.get("value") or {}
    return value.get("choices", value.get("taxonomy")) if isinstance(value, dict) else value


def read_full_json(path: Path, options: dict[str, Any]) -> Export:
    """The full export: ``[{id, data, annotations: [{completed_by, result, ...}], ...}]``.

    ``completed_by`` is an int user id or an object (its email is used when present). The item
    id is ``data[item_key]`` (the task id only with ``tool_id_fallback``).
    """
    item_key = options.get("item_key") or "item_id"
    from_name = options.get("from_name")
    tasks = load_json(path)
    if not isinstance(tasks, list):
        raise DataError(path, None, "expected a JSON array of tasks (Label Studio full export)")
    rows = Rows(path, options["source"])
    matched = False
    for position, task in enumerate(tasks):
        record = (
            f"task {task.get('id', f'#{position}')}"
            if isinstance(task, dict)
            else f"task #{position}"
        )
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise DataError(path, record, "a task must be an object with a 'data' object")
        annotations = task.get("annotations")
        if not isinstance(annotations, list):
            raise DataError(path, record, "task has no 'annotations' array")
        if not annotations:  # predictions or drafts only: no judgment, but never silent
            rows.skip("task without an annotation")
            continue
        item = rows.item_id(record, task["data"].get(item_key), task.get("id"), options)
        rows.check_data(record, task["data"])
        for annotation in annotations:
            if not isinstance(annotation, dict):
                raise DataError(path, record, "an annotation must be an object")
            if annotation.get("was_cancelled"):
                rows.skip("cancelled annotation")
                continue
            label = _result_choice(annotation.get("result"), from_name, path, record)
            if label is None:
                rows.skip("annotation without a choice")
                continue
            matched = True
            annotator = _completed_by(annotation.get("completed_by"))
            rows.add(
                record, item, annotator, label, annotation.get("created_at"),
                annotation.get("lead_time"),
            )  # fmt: skip
            if annotation.get("ground_truth") is True:
                rows.add_gold(record, item, label)
    if from_name and not matched:
        _check_control_named(path, tasks, from_name)
    return rows.export()


def _check_control_named(path: Path, tasks: list[Any], from_name: str) -> None:
    """No judgment came from the control ``from_name``: if the file's choices came from other
    controls, the name is a typo that would drop every judgment, not a file without any."""
    names = sorted(
        {
            str(item.get("from_name"))
            for task in tasks
            for annotation in task["annotations"]
            if isinstance(annotation, dict)
            and not annotation.get("was_cancelled")
            and isinstance(annotation.get("result"), list)
            for item in annotation["result"]
            if isinstance(item, dict) and item.get("type") in ("choices", "taxonomy")
        }
    )
    if names and from_name not in names:
        raise DataError(
            path, None, f"no choice control named '{from_name}' (data.annotations.from_name); "
            f"its choices come from {', '.join(ascii(name) for name in names[:5])}",
        )  # fmt: skip


def read_json_min(path: Path, options: dict[str, Any]) -> Export:
    """JSON-MIN: an array of flat records, one per non-cancelled annotation."""
    records = load_json(path)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError(path, None, "expected a JSON array of objects (Label Studio JSON-MIN)")
    return _flat_records(path, records, options, line=None)


def read_csv(path: Path, options: dict[str, Any]) -> Export:
    """CSV: JSON-MIN's records as rows; dict and list cells are JSON strings."""
    frame = read_csv_strings(path)
    return _flat_records(path, frame.to_dict("records"), options, line=row_lines(path, len(frame)))


def _flat_records(
    path: Path,
    records: list[dict[str, Any]],
    options: dict[str, Any],
    line: Callable[[int], int] | None,
) -> Export:
    item_key = options.get("item_key") or "item_id"
    if not records:  # a header alone, or []: as a long table's, "no judgments" (a warning)
        return Rows(path, options["source"]).export()
    control, others = _control_key(
        path, records, options.get("from_name"), item_key, options.get("labels")
    )
    rows = Rows(path, options["source"])
    for position, entry in enumerate(records):
        record = f"line {line(position)}" if line else f"task {entry.get('id', position)}"
        rows.check_data(record, {k: v for k, v in entry.items() if k not in RECORD_KEYS})
        label = _flat_choice(entry.get(control), path, record)
        if label is None:
            rows.skip("record without a choice")
            continue
        item = rows.item_id(record, entry.get(item_key), entry.get("id"), options)
        rows.add(
            record, item, entry.get("annotator"), label, entry.get("created_at") or None,
            entry.get("lead_time"),
        )  # fmt: skip
    export = rows.export()
    if not others:
        return export
    guess = (  # never silent: a column of item data taken for the label labels every item
        f"{path}: the label is read from {control!a}, guessed among "
        f"{', '.join(ascii(key) for key in others[:5])}; set data.annotations.from_name "
        "(standalone: --from-name) to the <Choices> name, or give the label set"
    )
    return dataclasses.replace(export, warnings=[*export.warnings, guess])


def _control_key(
    path: Path, records: list[dict[str, Any]], from_name: str | None, item_key: str, labels: Any
) -> tuple[str, list[str]]:
    """Which key holds the label, and the other keys it was guessed among (none when sure).

    ``from_name`` when set; with a known label set, the key whose values most often fall in
    it (a guess, said so, when another key's values fall in it too); otherwise a guess: the
    key with the fewest distinct values (labels repeat, item data rarely does) among those
    with more than one (a column the same on every record, such as a language or a project,
    is item data more often than a label everyone agreed on).
    """
    if from_name:
        if records and not any(from_name in entry for entry in records):
            raise DataError(path, None, f"no '{from_name}' key (data.annotations.from_name)")
        return from_name, []
    keys = sorted({key for entry in records for key in entry} - RECORD_KEYS - {item_key})
    if not keys:
        raise DataError(path, None, "no labeling control found in the records")
    if len(keys) == 1:
        return keys[0], []
    values = {key: [str(entry.get(key, "")).strip() for entry in records] for key in keys}
    if labels:
        wanted = {str(label).strip().casefold() for label in labels}
        hits = {key: sum(v.casefold() in wanted for v in values[key]) for key in keys}
        fitting = [key for key in keys if hits[key]]
        if fitting:  # sure only when one key alone holds labels: item data may hold them too
            control = max(fitting, key=lambda k: (hits[k], -keys.index(k)))
            return control, [key for key in fitting if key != control]
    distinct = {key: len(set(values[key])) for key in keys}
    varied = [key for key in keys if distinct[key] > 1] or keys
    control = min(varied, key=lambda k: (distinct[k], keys.index(k)))
    return control, [key for key in keys if key != control]


def _flat_choice(value: Any, path: Path, record: str) -> str | None:
    """A bare string, or ``{"choices": [...]}`` (possibly as a JSON string in CSV)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = parse_json(value, path, record, "choice cell nested too deeply")
        except DataError:
            raise DataError(path, record, f"unreadable choice cell {value[:40]!r}") from None
    if isinstance(value, dict):
        choices = value.get("choices")
        if not isinstance(choices, list) or len(choices) != 1:
            raise DataError(path, record, _not_one_choice(choices))
        return text_field(choices[0], "label", path, record)
    if isinstance(value, list):
        raise DataError(path, record, f"expected one label, got a list {value!r}")
    return text_field(value, "label", path, record)  # null, true: no label (not "None")


def _completed_by(completed_by: Any) -> Any:
    if isinstance(completed_by, dict):
        return completed_by.get("email") or completed_by.get("id")
    return completed_by


def _result_choice(result: Any, from_name: str | None, path: Path, record: str) -> str | None:
    """The single choice of a classification result, or None when nothing was chosen."""
    if type(result) is list and len(result) == 1:  # the common shape, checked without copies
        (item,) = result
        value = item.get("value") if type(item) is dict else None
        picked = value.get("choices") if type(value) is dict else None
        if (
            type(picked) is list
            and len(picked) == 1
            and type(picked[0]) is str
            and item.get("type") == "choices"
            and (from_name is None or item.get("from_name") == from_name)
        ):
            return picked[0]  # trimmed with the rest of the column
    if not isinstance(result, list):
        raise DataError(path, record, "annotation 'result' must be an array")
    choices = [
        item
        for item in result
        if isinstance(item, dict)
        and item.get("type") in ("choices", "taxonomy")
        and (from_name is None or item.get("from_name") == from_name)
    ]
    if not choices:
        return None
    names = sorted({str(item.get("from_name")) for item in choices})
    if len(names) > 1:
        raise DataError(
            path,
            record,
            f"several choice controls ({', '.join(names)}); set data.annotations.from_name",
        )
    picked_each = [_picked(item) for item in choices]
    if any(other != picked_each[0] for other in picked_each[1:]):  # which one is the judgment?
        raise DataError(
            path, record, f"{len(choices)} results from the choice control {names[0]}, "
            f"{picked_each!r}; a judgment is one label: keep one result, or remove the annotation",
        )  # fmt: skip
    picked = _picked(choices[0])
    if isinstance(picked, list) and len(picked) == 1 and isinstance(picked[0], list):
        picked = [picked[0][-1]] if picked[0] else picked  # taxonomy: a path, the leaf counts
    if not isinstance(picked, list) or len(picked) != 1:
        raise DataError(path, record, _not_one_choice(picked))
    return text_field(picked[0], "choice", path, record)
