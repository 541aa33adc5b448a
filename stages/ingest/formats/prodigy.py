"""Prodigy ``db-out`` JSONL: one line per answered task per annotator session.

Binary tasks carry ``label``: ``accept`` is that label; ``reject`` is the other label when the
label set has exactly two, else ``data.annotations.reject_label`` when set (otherwise an error,
since "not X" is no class). Choice tasks carry ``options`` and ``accept`` (the chosen ids).
``ignore`` is no judgment, and so is a rejected choice task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stages.core.errors import DataError
from stages.core.reading import locate_bad_utf8, parse_json
from stages.ingest.formats.common import Export, Rows, text_field


def read_jsonl(path: Path, options: dict[str, Any]) -> Export:
    item_key = options.get("item_key") or "item_id"
    labels = [str(label) for label in options.get("labels") or []]
    rows = Rows(path, options["source"])
    try:  # JSON Lines ends a line at "\n" only: U+2028 or a form feed may sit inside a text
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except UnicodeDecodeError as error:
        locate_bad_utf8(path)
        raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = f"line {number}"
        task = parse_json(line, path, record, "JSON nested too deeply to be a task")
        if not isinstance(task, dict):
            raise DataError(path, record, "expected a JSON object per line")
        answer = task.get("answer")
        if answer not in ("accept", "reject", "ignore"):
            raise DataError(
                path, record, f"answer must be accept, reject or ignore, got {answer!r}"
            )
        if answer == "ignore":
            rows.skip("ignored task")
            continue
        if "options" in task and answer == "accept" and task.get("accept") == []:
            rows.skip("choice task accepted with no option")  # Prodigy allows it
            continue
        label = _judgment(task, answer, labels, options.get("reject_label"), path, record)
        if label is None:
            rows.skip("rejected choice task")
            continue
        meta = task.get("meta") if isinstance(task.get("meta"), dict) else {}
        found = task.get(item_key, meta.get(item_key))
        item = rows.item_id(record, found, task.get("_input_hash"), options)
        annotator = task.get("_annotator_id") or task.get("_session_id")
        rows.add(record, item, annotator, label, task.get("_timestamp"))
    return rows.export()


def _judgment(
    task: dict[str, Any], answer: str, labels: list[str], reject_label: Any, path: Path, record: str
) -> str | None:
    if "options" in task:
        if answer == "reject":
            return None
        accepted = task.get("accept")
        if not isinstance(accepted, list) or len(accepted) != 1:
            raise DataError(path, record, f"expected exactly one accepted option, got {accepted!r}")
        by_id = {str(o.get("id")): o for o in task["options"] if isinstance(o, dict)}
        if str(accepted[0]) not in by_id:
            raise DataError(path, record, f"accepted id {accepted[0]!r} is not among the options")
        return str(accepted[0])
    label = task.get("label")
    if label is None:
        raise DataError(
            path, record, "a binary task needs a 'label' (or 'options' for a choice task)"
        )
    label = text_field(label, "label", path, record)  # true, 1.5e999: no label
    if answer == "accept":
        return label
    if reject_label not in (None, ""):
        return str(reject_label)
    others = [other for other in labels if other.casefold() != str(label).strip().casefold()]
    if len(labels) == 2 and len(others) == 1:
        return others[0]
    raise DataError(
        path,
        record,
        f"a rejected {str(label)!a} has no class: give two labels (data.labels, or standalone "
        "--labels) or set data.annotations.reject_label",
    )
