"""What a delivery's files can and cannot say: whose judgment it is, and which items are gold.

Label Studio names annotators by integer user id in its own exports, while a team's other
batches (or an older export holding user objects) may use e-mails: one person would count as
two annotators. The delivery's ``annotator_aliases.csv`` (``raw_id,annotator_id``) joins them;
ids of different kinds across files are reported until it does. It is a table beside the
judgments, not a param: who is who is data (it grows with the team and names people), and
params would turn each raw id into a column of ``dvc exp show``. JSON-MIN and CSV exports
carry no ground-truth mark, so a team's gold vanishes with the export format they picked unless
it comes from the gold file: that is reported too.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from stages.core.errors import DataError

# Export formats whose records cannot mark an annotation as ground truth.
NO_GOLD_MARKS = {"labelstudio-min": "Label Studio JSON-MIN", "labelstudio-csv": "Label Studio CSV"}


ALIAS_FILE = "annotator_aliases.csv"
ALIAS_COLUMNS = ("raw_id", "annotator_id")


def read_aliases(path: Path | None) -> dict[str, str]:
    """Raw annotator id -> the id it stands for, from ``raw_id,annotator_id`` (no file: none).

    Ids are compared in NFKC form, like the judgments' own. An empty cell, a raw id given two
    different targets, or a target that the table renames again stops the stage naming the
    record: each would silently leave one person as two, or make two people one.
    """
    if path is None or not path.exists():
        return {}
    from stages.core.label_set import check_writable
    from stages.ingest.formats.csv_text import missing_columns, read_csv_strings, row_names

    table = read_csv_strings(path)
    missing = [name for name in ALIAS_COLUMNS if name not in table.columns]
    if missing:
        raise missing_columns(path, missing, list(table.columns))
    aliases: dict[str, str] = {}
    records: dict[str, str] = {}
    pairs = table[list(ALIAS_COLUMNS)].itertuples(index=False)
    name = row_names(path, len(table))
    for column in ALIAS_COLUMNS:  # an id becomes the annotators' own: the same rule holds
        check_writable(table[column].fillna(""), column.replace("_", " "), path, name)
    for row, (raw, target) in enumerate(pairs):
        record = name(row)
        raw, target = (unicodedata.normalize("NFKC", value.strip()) for value in (raw, target))
        if not raw or not target:
            raise DataError(path, record, "raw_id and annotator_id must both be given")
        if aliases.get(raw, target) != target:
            reason = f"raw id {raw!a} stands for both {aliases[raw]!a} and {target!a}"
            raise DataError(path, record, reason)
        aliases[raw] = target
        records.setdefault(raw, record)
    for raw, target in aliases.items():
        onward = aliases.get(target, target)
        if onward != target:  # renaming is one pass: a chain would leave two ids, a cycle swap
            later = f"{target!a} -> {onward!a} ({records[target]})"
            fix = "keep one direction" if onward == raw else f"map {raw!a} straight to {onward!a}"
            reason = f"{raw!a} -> {target!a}, but {later}: {fix}"
            raise DataError(path, records[raw], reason)
    return aliases


def apply_aliases(annotator_ids: pd.Series, aliases: Mapping[object, str]) -> pd.Series:
    """Each id replaced by the id it stands for (keys compared as text, in NFKC form like the
    ids themselves)."""
    if not aliases:
        return annotator_ids
    table = {
        unicodedata.normalize("NFKC", str(raw)): str(target) for raw, target in aliases.items()
    }
    return annotator_ids.map(lambda value: table.get(value, value)).astype("string")


def id_kind(ids: pd.Series) -> str:
    """How a file names its annotators: integer user ids, e-mails, or names."""
    text = ids.dropna().astype(str)
    if len(text) and text.str.fullmatch(r"\d+").all():
        return "integer user ids"
    if len(text) and text.str.contains("@", regex=False).all():
        return "e-mails"
    return "names"


def file_id_kinds(annotations: pd.DataFrame) -> dict[str, str]:
    """Per source file, the kind of its annotator ids (after aliases)."""
    pairs = annotations[["source", "annotator_id"]].drop_duplicates()
    return {
        str(source): id_kind(group["annotator_id"])
        for source, group in pairs.groupby("source", sort=True)
    }


def _files(names: list[str]) -> str:
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def identity_warnings(kinds: Mapping[str, str]) -> list[str]:
    """Short lines when files name annotators in different ways: what, where, and the fix."""
    by_kind: dict[str, list[str]] = {}
    for source, kind in sorted(kinds.items()):
        by_kind.setdefault(kind, []).append(source)
    if len(by_kind) < 2:
        return []
    return [
        "annotator ids differ in kind between files: one person may count as two annotators",
        *(f"  {kind}: {_files(files)}" for kind, files in sorted(by_kind.items())),
        f"  join them in data/raw/{ALIAS_FILE}, or standalone with --annotator-aliases FILE",
    ]


def gold_mark_warnings(formats: Mapping[str, str]) -> list[str]:
    """One line per export format that cannot carry ground-truth marks."""
    lines = []
    for fmt, name in NO_GOLD_MARKS.items():
        files = sorted(source for source, used in formats.items() if used == fmt)
        if files:
            lines.append(
                f"{_files(files)}: {name} exports carry no ground-truth marks; gold for these "
                "items comes only from the gold file (export as full JSON to keep the marks)"
            )
    return lines
