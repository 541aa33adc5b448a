"""Writing outputs: atomic writes, canonical JSON, formula-safe CSV (and reading it back).

Every output is written to a temporary file in the same folder and renamed into place, so a
failed or killed stage leaves the previous file or none, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


# The temporary file atomic_path writes an output to first: ".<name>.<8 of mkstemp's>.tmp".
_TEMPORARY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")


def output_of(path: Path) -> Path | None:
    """The output a temporary file of atomic_path's stands for (None for any other file)."""
    found = _TEMPORARY.fullmatch(path.name)
    return path.with_name(found.group(1)) if found else None


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A temporary file a killed run left for the same path (kill -9 between write and rename)
    is removed first: it would otherwise stay beside the outputs, where `git add -A` finds it.
    """

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    for left in target.parent.iterdir():
        if output_of(left) == target:
            left.unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, new_file_mode())  # mkstemp's 0o600 suits a temporary file, not an output
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def new_file_mode() -> int:
    """The mode a file created here gets: 0o666 less the umask, as for any other tool's file (a
    team that keeps its data private sets umask 077; one that shares a group, 002)."""
    try:  # Linux says it without changing it, so no other thread sees a passing umask of 0
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def canonical_json(data: Any) -> str:
    """JSON with sorted keys, fixed float precision and a final newline: byte-stable."""
    return json.dumps(_rounded(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, dict):
        return {str(key): _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    if hasattr(value, "item"):  # numpy scalars
        return _rounded(value.item())
    return value


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    write_text(path, canonical_json(data))


def write_json_records(path: str | os.PathLike[str], records: list[dict[str, Any]]) -> None:
    """A JSON array with one record per line: valid JSON, diff-friendly, fast for many records."""
    lines = [  # NaN is no JSON: Label Studio, jq and strict parsers refuse it
        json.dumps(record, sort_keys=True, ensure_ascii=False, allow_nan=False)
        for record in records
    ]
    write_text(path, "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n")


def write_parquet(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """Write a table without its index; pinned pyarrow keeps the bytes stable."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow", compression="zstd")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe.

    A label or an id like ``=HYPERLINK(...)`` or ``@SUM(...)`` must not execute when someone
    opens a report in Excel or LibreOffice (CSV injection). Plain numbers written as text
    (``-1``, ``+0.5``) are left alone: spreadsheets read them as numbers, not formulas.
    A cell that already starts with an apostrophe gets one more, so that the escape can be
    undone (strip one leading apostrophe) and ``=x`` and ``'=x`` stay two values.
    """
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_string_dtype(safe[column]) or safe[column].dtype == object):
            continue
        text = safe[column].astype("string")
        risky = text.str.startswith(FORMULA_START).fillna(False)
        numeric = pd.to_numeric(text.where(risky), errors="coerce").notna()
        flagged = (risky & ~numeric) | text.str.startswith("'").fillna(False)
        if flagged.any():
            safe[column] = text.where(~flagged, "'" + text)
    return safe


def write_csv(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """CSV for people and spreadsheets: no index, Unix newlines, formula-safe text."""
    with atomic_path(path) as tmp:
        spreadsheet_safe(frame).to_csv(tmp, index=False, lineterminator="\n")


def read_written_csv(path: str | os.PathLike[str], text: list[str]) -> pd.DataFrame:
    """A CSV that ``write_csv`` wrote, read back as it was: the ``text`` columns as text (an id
    ``NA`` or ``null`` is an id, not a gap), without the apostrophe that kept a formula inert."""
    import pandas as pd

    frame = pd.read_csv(
        path, dtype=dict.fromkeys(text, "string"), keep_default_na=False, na_values=[""]
    )
    for column in text:
        if column in frame:
            frame[column] = frame[column].str.removeprefix("'")
    return frame
