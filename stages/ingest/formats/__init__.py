"""Readers for annotation exports, each returning the canonical long annotations table.

Formats: Label Studio full JSON, JSON-MIN and CSV exports, Prodigy JSONL (``db-out``),
SageMaker Ground Truth worker responses, and the plain long table (CSV or Parquet). The format
is detected from the file's content, not its name; ``data.annotations.format`` can force one.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stages.core.errors import DataError
from stages.core.params import FORMATS
from stages.ingest.formats.common import ANNOTATION_COLUMNS, GOLD_COLUMNS, Export

__all__ = [
    "ANNOTATION_COLUMNS",
    "FORMATS",
    "GOLD_COLUMNS",
    "Export",
    "detect_format",
    "read_export",
]

LONG_REQUIRED = ("item_id", "annotator_id", "label")


def _readers() -> dict[str, Callable[[Path, dict[str, Any]], Export]]:
    from stages.ingest.formats import labelstudio, long_table, prodigy, sagemaker

    return {
        "labelstudio": labelstudio.read_full_json,
        "labelstudio-min": labelstudio.read_json_min,
        "labelstudio-csv": labelstudio.read_csv,
        "prodigy": prodigy.read_jsonl,
        "sagemaker": sagemaker.read_worker_response,
        "long": long_table.read_long_table,
    }


# Files a folder of exports often gains by mistake, by their first bytes.
PACKED = {
    b"PK\x03\x04": "zip file (an Excel workbook is one)",
    b"\x1f\x8b": "gzip file",
    b"\xd0\xcf\x11\xe0": "legacy Excel or Office file",
}


def detect_format(path: Path) -> str:
    """Name the export format from the first bytes of the file."""
    with open(path, "rb") as handle:
        head = handle.read(65536)
    if head.startswith(b"PAR1"):
        return "long"
    for magic, kind in PACKED.items():
        if head.startswith(magic):
            reason = f"a {kind}, not an export: export the batch as JSON or CSV, or unpack it"
            raise DataError(path, None, reason)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise DataError(path, None, "empty file; remove it or export the batch again")
    if text.startswith(b"["):
        # Full export: tasks holding an "annotations" array; JSON-MIN: flat records.
        if re.search(rb'"annotations"\s*:', head) or not re.search(rb'"annotator"\s*:', head):
            return "labelstudio"
        return "labelstudio-min"
    if text.startswith(b"{"):
        if re.search(rb'"answers"\s*:', head) and re.search(rb'"answerContent"\s*:', head):
            return "sagemaker"
        if re.search(rb'"answer"\s*:', head) or re.search(rb'"_input_hash"\s*:', head):
            return "prodigy"
        raise DataError(path, "line 1", _unrecognised())
    first_line = re.split(rb"\r\n|\r|\n", text, maxsplit=1)[0]  # CR alone: old Mac files
    first_line = first_line.decode("utf-8", errors="replace")
    try:
        header = {name.strip() for name in next(csv.reader([first_line]), [])}
    except csv.Error as error:  # e.g. a bare carriage return between NULs
        raise DataError(path, "line 1", f"malformed CSV header ({error})") from None
    # Label Studio's own columns first: its CSV of tasks whose data key is item_id, labelled by
    # a control named "label" (the relabel tasks without a config), has two long-table names.
    if {"annotator", "annotation_id"} <= header and "annotator_id" not in header:
        return "labelstudio-csv"
    if len(set(LONG_REQUIRED) & header) >= 2:  # a long table, maybe missing a column (said later)
        return "long"
    if {"annotator", "annotation_id"} <= header:
        return "labelstudio-csv"
    raise DataError(path, "line 1", _unrecognised())


def _unrecognised() -> str:
    return (
        "unrecognised annotation format: expected a Label Studio export (JSON, JSON-MIN, CSV), "
        "Prodigy JSONL, a SageMaker worker response, or a table with columns "
        f"{', '.join(LONG_REQUIRED)}; set data.annotations.format to force one"
    )


def read_export(
    path: Path, fmt: str = "auto", options: dict[str, Any] | None = None, source: str | None = None
) -> Export:
    """Read one export file into canonical annotations (and gold, where the format marks it).

    ``source`` names the file in the table (default: its name); it must not be an absolute path,
    so that outputs stay the same on every machine.
    """
    options = dict(options or {})
    options.setdefault("source", source or path.name)
    fmt = detect_format(path) if fmt in ("auto", None) else fmt
    readers = _readers()
    if fmt not in readers:
        raise DataError(
            path, None, f"unknown format '{fmt}'; use auto or one of {', '.join(FORMATS)}"
        )
    return dataclasses.replace(readers[fmt](path, options), formats={options["source"]: fmt})


def export_files(path: Path) -> list[Path]:
    """The export files under a folder (recursively, hidden ones skipped), or the file itself."""
    if not _utf8(str(path)):  # the path given, from the command line or params
        raise DataError(ascii(str(path)), None, _name_problem(str(path)))
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(path, None, "no such file or folder")
    shown = _listed(path)
    for broken in sorted(p for p in shown if p.is_symlink() and not p.exists()):
        reason = f"a link to {os.readlink(broken)}, which does not exist: restore it or remove it"
        raise DataError(broken, None, reason)
    from stages.ingest.formats.sagemaker import consolidation_output

    files = sorted(p for p in shown if p.is_file() and not consolidation_output(p, path))
    if not files:
        raise DataError(path, None, "no annotation files; add your labeling tool's exports here")
    return files


def _listed(path: Path) -> list[Path]:
    """Every file under a folder, hidden files and folders skipped. A folder that cannot be
    listed stops the stage: globbing would skip it in silence, and every judgment in it would
    be lost with the run reported a success. So does a link to a folder: DVC hashes nothing
    under it, so its judgments would be read here and missing from every clone."""

    def refuse(error: OSError) -> None:
        reason = f"cannot be read ({error.strerror}): give read access, or move it elsewhere"
        raise DataError(error.filename or path, None, reason)

    found = []
    for folder, folders, files in os.walk(path, onerror=refuse):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        files = [name for name in files if not name.startswith(".")]
        for name in folders + files:
            if not name.isprintable() and not _utf8(name):
                raise DataError(f"{folder}{os.sep}{name!a}", None, _name_problem(name))
        for name in folders:
            if os.path.islink(Path(folder, name)):
                reason = "a link to a folder, which DVC does not version: copy the folder in"
                raise DataError(Path(folder, name), None, reason)
        found += [Path(folder, name) for name in files]
    return sorted(found)


def _name_problem(name: str) -> str:
    """Why Python holds ``name`` as surrogates: bytes that are not UTF-8, or a locale that
    reads file names in another encoding (LC_ALL=C with PYTHONUTF8=0: ASCII)."""
    try:
        os.fsencode(name).decode("utf-8")
    except UnicodeDecodeError:
        return "a name that is not UTF-8 (from another system?): rename it"
    encoding = sys.getfilesystemencoding()
    return (f"a UTF-8 name that Python reads as {encoding} in this locale: run with "
            "LC_ALL=C.UTF-8 (or without PYTHONUTF8=0)")  # fmt: skip


def _utf8(name: str) -> bool:
    """Whether a name the file system gave is UTF-8 (Python keeps other bytes as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_exports(path: Path, fmt: str = "auto", options: dict[str, Any] | None = None) -> Export:
    """Every export under ``path`` merged into one table; ``source`` is the path inside it.

    ``skipped`` counts, per file and reason, the records that hold no judgment.
    """
    import pandas as pd

    from stages.ingest.formats.common import empty_gold
    from stages.ingest.formats.sagemaker import jobs_sharing_indices

    files = export_files(path)
    root = path if path.is_dir() else path.parent
    sources = [file.relative_to(root).as_posix() for file in files]
    exports = [
        _as_batch(read_export(file, fmt, options, source=source), source)
        for file, source in zip(files, sources, strict=True)
    ]
    annotations = pd.concat([export.annotations for export in exports], ignore_index=True)
    golds = [export.gold for export in exports if len(export.gold)]
    gold = pd.concat(golds, ignore_index=True) if golds else empty_gold()
    skipped = {
        f"{source}: {reason}": count
        for source, export in zip(sources, exports, strict=True)
        for reason, count in sorted(export.skipped.items())
    }
    warnings = [line for export in exports for line in export.warnings]
    warnings += [  # a file that holds nothing may be an export taken before anyone worked
        f"{source}: no judgments in this file"
        for source, export in zip(sources, exports, strict=True)
        if export.annotations.empty and export.gold.empty and not export.skipped
    ]
    formats = {source: fmt for export in exports for source, fmt in export.formats.items()}
    warnings += jobs_sharing_indices(annotations, formats)
    return Export(annotations, gold, skipped, warnings, formats)


def _as_batch(export: Export, source: str) -> Export:
    """SageMaker writes one file per object and worker round: its batch is the job's folder."""
    import pandas as pd

    from stages.ingest.formats.sagemaker import batch

    group = batch(source)
    if export.formats.get(source) != "sagemaker" or group == source:
        return export
    annotations = export.annotations.assign(
        source=pd.Series(group, index=export.annotations.index, dtype="string")
    )
    return dataclasses.replace(export, annotations=annotations, formats={group: "sagemaker"})
