"""What every reader returns, and the helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.errors import DataError
from stages.core.io import read_json

ANNOTATION_COLUMNS = ["item_id", "annotator_id", "label", "source", "created_at"]
GOLD_COLUMNS = ["item_id", "label"]


@dataclass(frozen=True)
class Export:
    """One export file's judgments, and the gold labels it marks (Label Studio ground truth)."""

    annotations: pd.DataFrame
    gold: pd.DataFrame
    skipped: dict[str, int] = field(default_factory=dict)  # records left out, by reason
    warnings: list[str] = field(default_factory=list)  # one line each: file, record, reason
    formats: dict[str, str] = field(default_factory=dict)  # source file -> format read


def empty_gold() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="string") for name in GOLD_COLUMNS})


class Rows:
    """Collects judgments record by record, then builds the canonical table in one go."""

    def __init__(self, path: Path, source: str) -> None:
        self.path, self.source = path, source
        self.items: list[str] = []
        self.annotators: list[str] = []
        self.labels: list[str] = []
        self.created: list[Any] = []
        self.records: list[str] = []
        self.gold: dict[str, str] = {}
        self.skipped: dict[str, int] = {}
        self.outside: list[str] = []  # records whose data names a file outside the project
        self.tool_ids: list[str] = []  # records whose item id is the tool's own id
        self.root = Path.cwd().resolve()

    def item_id(self, record: str, found: Any, tool_id: Any, options: dict[str, Any]) -> Any:
        """The item id under ``item_key``; the tool's own id (Label Studio task id, Prodigy
        input hash) only with ``tool_id_fallback``, and then counted and warned about: never
        silently, since those ids may name other items of the delivery."""
        if found not in (None, ""):
            return found
        key = options.get("item_key") or "item_id"
        if not options.get("tool_id_fallback"):
            raise DataError(
                self.path,
                record,
                f"no '{key}' (data.annotations.item_key) in the record; set item_key to the key "
                "that holds your item id, or tool_id_fallback: true to use the tool's own id",
            )
        self.tool_ids.append(record)
        return tool_id

    def skip(self, reason: str) -> None:
        """A record that holds no judgment (cancelled, ignored, ...): counted, never silent."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def check_data(self, record: str, data: dict[str, Any]) -> None:
        """Note task data that names a local file outside the project: it is never opened
        (labels need no media), but a delivery that points there deserves a look."""
        for key, value in data.items():
            if isinstance(value, str) and ("/" in value or "\\" in value or value[:1] == "~"):
                target = outside_project(value, self.root)
                if target is not None:
                    self.outside.append(f"{record}: data.{key} names {target!r}")

    def add(self, record: str, item: Any, annotator: Any, label: Any, created: Any = None) -> None:
        """Kept as given; :meth:`export` checks whole columns at once (millions of rows)."""
        self.items.append(item)
        self.annotators.append(annotator)
        self.labels.append(label)
        self.created.append(created)
        self.records.append(record)

    def add_gold(self, record: str, item: Any, label: Any) -> None:
        item_id = text_field(item, "item id", self.path, record)
        value = text_field(label, "label", self.path, record)
        if self.gold.get(item_id, value) != value:
            raise DataError(
                self.path, record, f"two different ground-truth labels for item {item_id}"
            )
        self.gold[item_id] = value

    def export(self) -> Export:
        annotations = canonical(
            self._text_column(self.items, "item id"),
            self._text_column(self.annotators, "annotator id"),
            self._text_column(self.labels, "label"),
            pd.Series(self.created, dtype="object"),
            self.path,
            self.source,
            self.records,
        )
        gold = pd.DataFrame(
            {"item_id": list(self.gold), "label": list(self.gold.values())}, dtype="string"
        )
        warnings = []
        if self.outside:
            more = f" (and {len(self.outside) - 1} more records)" if len(self.outside) > 1 else ""
            warnings.append(
                f"{self.path}: {self.outside[0]}, a file outside the project{more}; "
                "it is not read (labels need no media), check where the export came from"
            )
        if self.tool_ids:
            warnings.append(
                f"{self.path}: {len(self.tool_ids)} record(s) without an item id (first: "
                f"{self.tool_ids[0]}) use the tool's own id (data.annotations.tool_id_fallback)"
            )
        return Export(
            annotations, gold if len(gold) else empty_gold(), dict(self.skipped), warnings
        )

    def _text_column(self, values: list[Any], what: str) -> pd.Series:
        """``text_field`` over a column: strings are trimmed in bulk, anything else one by one."""
        values = [
            value if type(value) is str else text_field(value, what, self.path, self.records[row])
            for row, value in enumerate(values)
        ]
        column = pd.Series(values, dtype="string").str.strip()
        empty = (column == "").to_numpy(dtype=bool, na_value=False)
        if empty.any():
            raise DataError(self.path, self.records[int(empty.argmax())], f"empty {what}")
        return column


def outside_project(value: str, root: Path | None = None) -> str | None:
    """The local path ``value`` names when it lies outside ``root`` (default: the working
    folder, the project root for every stage), else None.

    URLs (``http:``, ``s3:``...) and Label Studio's own ``/data/upload/`` and
    ``/data/local-files/`` links are paths on the labeling server, not on this machine.
    """
    import os

    text = value.strip()
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif "://" in text or text.startswith(("/data/upload/", "/data/local-files/")):
        return None
    windows = len(text) > 2 and text[1] == ":" and text[2] in "\\/"
    looks_local = text.startswith(("/", "~", "\\")) or windows or ".." in text.replace("\\", "/")
    if not looks_local or "\n" in text:
        return None
    root = root or Path.cwd().resolve()
    if windows:
        return text
    target = Path(os.path.normpath(root / os.path.expanduser(text.replace("\\", "/"))))
    return None if target.is_relative_to(root) else text


def text_field(value: Any, what: str, path: Path, record: str) -> str:
    """A non-empty string id or label; numbers are written as integers where they are ones."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if (
        value is None
        or isinstance(value, bool | dict | list)
        or (isinstance(value, float) and value != value)
    ):
        raise DataError(path, record, f"missing or invalid {what}: {value!r}")
    text = str(value).strip()
    if not text:
        raise DataError(path, record, f"empty {what}")
    return text


def canonical(
    items: pd.Series,
    annotators: pd.Series,
    labels: pd.Series,
    created: pd.Series,
    path: Path,
    source: str,
    records: list[str] | None = None,
) -> pd.DataFrame:
    """The canonical annotations table; ``created`` may hold ISO strings, unix seconds or None."""
    created = created.reset_index(drop=True).infer_objects()
    if created.isna().all():
        created_at = pd.Series(pd.NaT, index=created.index, dtype="datetime64[ms, UTC]")
        unparsed = pd.Series(False, index=created.index)
    elif pd.api.types.is_numeric_dtype(created):  # unix seconds (Prodigy)
        created_at = pd.to_datetime(created, unit="s", utc=True)
        unparsed = pd.Series(False, index=created.index)
    else:
        strings = created.astype("string").str.strip()
        created_at = pd.to_datetime(strings, utc=True, errors="coerce", format="ISO8601")
        unparsed = strings.notna() & (strings != "") & created_at.isna()
    if unparsed.any():
        row = int(unparsed.to_numpy().nonzero()[0][0])
        record = records[row] if records else f"record {row + 1}"
        raise DataError(path, record, f"unreadable created_at {created[row]!r}")
    frame = pd.DataFrame(
        {
            "item_id": items.astype("string").reset_index(drop=True),
            "annotator_id": annotators.astype("string").reset_index(drop=True),
            "label": labels.astype("string").reset_index(drop=True),
            "source": pd.Series([source] * len(items), dtype="string"),
            "created_at": created_at.astype("datetime64[ms, UTC]"),
        }
    )
    return frame[ANNOTATION_COLUMNS]


def load_json(path: Path) -> Any:
    """An export file's JSON (core.io.read_json, saying what the file was meant to be)."""
    return read_json(path, too_deep="JSON nested too deeply to be an export")


def read_csv_strings(path: Path) -> pd.DataFrame:
    """Every cell as a string ("" for empty), header names trimmed, the shape checked first
    (``check_csv_shape``)."""
    check_csv_shape(path)
    try:
        frame = pd.read_csv(path, dtype="string", encoding="utf-8-sig", keep_default_na=False)
    except UnicodeDecodeError as error:
        locate_bad_utf8(path)
        raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
    except pd.errors.ParserError as error:
        raise DataError(path, None, f"malformed CSV ({error})".replace("\n", " ")) from None
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def _no_column_twice(path: Path, header: list[str]) -> None:
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise DataError(path, "header", f"column named more than once: {', '.join(twice)}")


def refuse_utf16(path: Path) -> None:
    """A UTF-16 file (its byte order mark) named as such: the CSV scan would call it malformed."""
    with open(path, "rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            raise DataError(path, "line 1", "UTF-16 text: save the file as UTF-8")


def locate_bad_utf8(path: Path, chunk_size: int = 1 << 20) -> None:
    """Stop on the first line that is not UTF-8, naming it (pandas names a byte offset).

    Called once a reader has met bad bytes, so a good file is never decoded twice."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()  # a BOM is valid UTF-8
    line, pending = 1, b""
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            data = pending + chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:  # its offsets count the bytes held over too
                line += data[: error.start].count(b"\n")
                reason = f"not UTF-8 text (byte 0x{data[error.start]:02x}): save it as UTF-8"
                raise DataError(path, f"line {line}", reason) from None
            kept = len(decoder.getstate()[0])
            line += data[: len(data) - kept].count(b"\n")
            pending = data[len(data) - kept :]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        reason = "not UTF-8 text (ends mid-character): save it as UTF-8"
        raise DataError(path, f"line {line}", reason) from None


def check_csv_shape(path: Path) -> None:
    """Every record of a CSV has as many fields as its header, and no column is named twice.

    For tables read with their types (items, gold): pandas would otherwise pad a short record
    with missing values, turn the first column into an index when records are one field too
    long, and rename a twin column ``name.1``, all silently. The scan parses the file once
    in C (pyarrow) and converts only the first column: about a third of the read's time.
    """
    import csv

    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    refuse_utf16(path)
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            header = [name.strip() for name in next(csv.reader(handle), [])]
    except csv.Error as error:
        raise DataError(path, "header", f"malformed CSV ({error})") from None
    if not header:
        raise DataError(path, None, "empty file: expected a header line")
    _no_column_twice(path, header)
    bad: list[tuple[int | None, int, int]] = []

    def note(row: Any) -> str:
        bad.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    names = [f"c{position}" for position in range(len(header))]  # ours: no decoding issue
    try:
        batches = arrow_csv.open_csv(
            path,
            # Read as Latin-1, byte for byte: UTF-8 never hides a delimiter, quote or newline in
            # a multi-byte character, and a bad record's text always decodes (the reader that
            # meets bad bytes names their line: locate_bad_utf8).
            read_options=arrow_csv.ReadOptions(
                use_threads=False,
                block_size=1 << 24,
                column_names=names,
                skip_rows=1,
                encoding="latin-1",
            ),
            parse_options=arrow_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=note),
            convert_options=arrow_csv.ConvertOptions(
                include_columns=names[:1],
                column_types={names[0]: pa.string()},
            ),
        )
        for _ in batches:
            if bad:
                break
    except (pa.ArrowException, StopIteration) as error:
        raise DataError(path, None, f"malformed CSV ({error})".replace("\n", " ")) from None
    if bad:
        number, fields, expected = bad[0]  # counts records, the header first
        record = f"record {number - 1} after the header" if number is not None else "a record"
        raise DataError(path, record, f"{fields} field(s) where the header has {expected}")
