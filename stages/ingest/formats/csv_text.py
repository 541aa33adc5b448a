"""CSV files read as text: their shape and encoding checked first, so that a bad file is named
by its line and reason instead of being padded, re-indexed or misread by pandas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.errors import DataError
from stages.core.reading import locate_bad_utf8


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
        locate_unclosed_quote(path)
        raise DataError(path, None, f"malformed CSV ({error})".replace("\n", " ")) from None
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def row_names(path: Path, rows: int) -> Callable[[int], str]:
    """How errors name the rows of a table read from ``path``: a CSV's by the line each row
    starts on (what a text editor shows), a Parquet file's by its number."""
    if path.suffix == ".parquet":
        return lambda row: f"row {row + 1}"
    line = row_lines(path, rows)
    return lambda row: f"line {line(row)}"


def row_lines(path: Path, rows: int) -> Callable[[int], int]:
    """The line where each of a CSV table's ``rows`` data rows starts, as pandas reads them.

    A row is line row + 2 unless the file has blank lines (pandas skips them) or a quoted cell
    spanning lines; only then is the file scanned, once, and only when a line is asked for."""

    @cache
    def starts() -> list[int] | None:
        data = path.read_bytes()
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        return None if lines == rows + 1 else [start for start, _, _ in _records(path)]

    def line(row: int) -> int:
        found = starts()
        return row + 2 if found is None or row + 1 >= len(found) else found[row + 1]

    return line


def _records(path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """Each record that pandas reads, the header first, with the lines it starts and ends on:
    blank lines (empty, or only spaces) are skipped, as pandas skips them."""
    import csv

    limit = csv.field_size_limit(2**31 - 1)  # a long cell is no error here
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            reader, start = csv.reader(handle), 1
            for fields in reader:
                if len(fields) > 1 or (fields and fields[0].strip()):
                    yield start, reader.line_num, fields
                start = reader.line_num + 1
    finally:
        csv.field_size_limit(limit)


def unreadable(path: Path, table: str, error: Exception) -> DataError:
    """The error for a table pandas could not read; bad bytes and a quote left open are named
    by their line instead (located only now that reading failed: a good file is read once)."""
    if path.suffix != ".parquet":  # lines mean nothing in a binary file
        if isinstance(error, UnicodeDecodeError):
            locate_bad_utf8(path)
        locate_unclosed_quote(path)
    return DataError(path, None, f"unreadable {table} ({error})".replace("\n", " "))


def missing_columns(path: Path, missing: list[str], header: list[str]) -> DataError:
    """The error for required columns a header lacks, with what the header does hold: a file
    separated by ';' or tabs (Excel in many locales) reads as one long column name."""
    found = [str(name) for name in header]
    reason = f"missing required column(s): {', '.join(missing)}"
    if len(found) == 1 and (";" in found[0] or "\t" in found[0]):
        separator = "';'" if ";" in found[0] else "tabs"
        return DataError(path, "header", f"{reason}; its fields are separated by {separator}: "
                         "save it as CSV with commas")  # fmt: skip
    shown = ", ".join(ascii(name) for name in found[:8]) + (", ..." if len(found) > 8 else "")
    return DataError(path, "header", f"{reason} (it has {shown or 'none'})")


def _no_column_twice(path: Path, header: list[str]) -> None:
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise DataError(path, "header", f"column named more than once: {', '.join(twice)}")


def refuse_utf16(path: Path) -> None:
    """A UTF-16 file (its byte order mark) named as such: the CSV scan would call it malformed."""
    with open(path, "rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            raise DataError(path, "line 1", "UTF-16 text: save the file as UTF-8")


def locate_unclosed_quote(path: Path) -> None:
    """Stop on the line where a quoted field opens and never closes, if one does: readers
    report it as a record with too few fields, or as an error at the end of the file.

    Called once a reader has failed, so a good file is never scanned twice."""
    import csv

    limit = csv.field_size_limit(2**31 - 1)  # a long cell is no error here
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            start = 1
            try:
                for _ in reader:
                    start = reader.line_num + 1
            except csv.Error as error:
                if "unexpected end of data" in str(error):
                    reason = "a quoted field opens here and never closes: close or remove the quote"
                    raise DataError(path, f"line {start}", reason) from None
    finally:
        csv.field_size_limit(limit)


def check_csv_shape(path: Path) -> None:
    """Every record of a CSV has as many fields as its header, and no column is named twice.

    For tables read with their types (items, gold): pandas would otherwise pad a short record
    with missing values, turn the first column into an index when records are one field too
    long, and rename a twin column ``name.1``, all silently. The scan parses the file once
    in C (pyarrow) and converts only the first column: about a third of the read's time.
    """
    import csv

    import pyarrow as pa

    refuse_utf16(path)
    try:
        with closing(_records(path)) as records:
            _, header_end, header = next(records, (1, 0, []))
            rows = next(records, None) is not None
    except csv.Error as error:
        raise DataError(path, "header", f"malformed CSV ({error})") from None
    header = [name.strip() for name in header]
    if not header:
        raise DataError(path, None, "empty file: expected a header line")
    _no_column_twice(path, header)
    if not rows:  # a header alone (a truncated file may lack its newline: Arrow cannot skip it)
        return
    names = [f"c{position}" for position in range(len(header))]  # ours: no decoding issue
    try:
        try:
            bad = _scan(path, names, block_size=1 << 24, skip=header_end)
        except pa.ArrowInvalid as error:
            if "straddl" not in str(error):
                raise
            # A cell longer than a block (a long text, or a quote that never closes): one
            # block for the whole file.
            whole = min(path.stat().st_size + 1, 2**31 - 1)
            bad = _scan(path, names, block_size=whole, skip=header_end)
    except (pa.ArrowException, StopIteration) as error:
        raise DataError(path, None, f"malformed CSV ({error})".replace("\n", " ")) from None
    if bad:
        locate_unclosed_quote(path)
        fields, expected = bad
        with closing(_records(path)) as records:
            line = next((f"line {start}" for start, _, row in records if len(row) != expected),
                        "a record")  # fmt: skip
        raise DataError(path, line, f"{fields} field(s) where the header has {expected}")


def _scan(path: Path, names: list[str], block_size: int, skip: int) -> tuple[int, int] | None:
    """Parse the file once in C (pyarrow) past its first ``skip`` lines (the header),
    converting only the first column: the first record whose field count differs from the
    header's (its fields, expected), if any. Lines of spaces only are blank, as for pandas."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    bad: list[tuple[int, int]] = []

    def note(row: Any) -> str:
        if row.text.strip():
            bad.append((row.actual_columns, row.expected_columns))
        return "skip"

    batches = arrow_csv.open_csv(
        path,
        # Read as Latin-1, byte for byte: UTF-8 never hides a delimiter, quote or newline in a
        # multi-byte character, and a bad record's text always decodes (the reader that meets
        # bad bytes names their line: locate_bad_utf8).
        read_options=arrow_csv.ReadOptions(
            use_threads=False,
            block_size=block_size,
            column_names=names,
            skip_rows=skip,
            encoding="latin-1",
        ),
        parse_options=arrow_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=note),
        convert_options=arrow_csv.ConvertOptions(
            include_columns=names[:1], column_types={names[0]: pa.string()}
        ),
    )
    with closing(batches):  # closed on an error too: a reader left open can hang the exit
        for _ in batches:
            if bad:
                break
    return bad[0] if bad else None
