"""File helpers shared by the stages: atomic writes, canonical JSON, params and progress.

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

from stages.core import catalog
from stages.core.yaml_rules import yaml_1_2_loader

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


def read_yaml(path: str | os.PathLike[str], missing: str) -> Any:
    """A YAML file's document; anything wrong with the file is a DataError (``missing`` says
    what to do when it does not exist)."""
    import yaml

    from stages.core.errors import DataError

    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.load(handle, Loader=yaml_1_2_loader())  # as DVC reads params.yaml
    except FileNotFoundError:
        raise DataError(path, None, missing) from None
    except UnicodeDecodeError as error:
        locate_bad_utf8(path)
        raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
    except yaml.MarkedYAMLError as error:  # where, then what: the file is named once
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        what = ": ".join(part for part in (error.context, error.problem) if part)
        raise DataError(path, where, f"invalid YAML ({what})") from None
    except yaml.reader.ReaderError as error:
        code = error.character if isinstance(error.character, int) else ord(error.character)
        what = f"U+{code:04X}: {error.reason}"
        raise DataError(path, f"character {error.position + 1}", f"invalid YAML ({what})") from None
    except yaml.YAMLError as error:
        raise DataError(path, None, f"invalid YAML ({error})".replace("\n", " ")) from None
    except RecursionError:
        raise DataError(path, None, "YAML nested too deeply") from None
    if _expanded_size(document) > MAX_YAML_VALUES:
        reason = (
            f"more than {MAX_YAML_VALUES:,} values once its aliases (*name) are expanded: write "
            "the values out, without aliases that repeat aliases"
        )
        raise DataError(path, None, reason)
    return document


# A params file or suite holds hundreds of values; aliases of aliases can make a 1 KB file
# stand for 9^9 of them, which printing or checking one key would then expand.
MAX_YAML_VALUES = 1_000_000


def _expanded_size(document: Any) -> int:
    """How many values ``document`` holds with its aliases expanded, counted up to just past
    the limit (an alias bomb is counted no further)."""
    count, pending = 0, [document]
    while pending and count <= MAX_YAML_VALUES:
        value = pending.pop()
        count += 1
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return count


def locate_bad_utf8(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> None:
    """Stop on the first line that is not UTF-8, naming it and the byte (a decoder names an
    offset in its own buffer). Called once a reader has met bad bytes, so a good file is never
    decoded twice."""
    import codecs

    from stages.core.errors import DataError

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


def json_problem(error: json.JSONDecodeError) -> str:
    """What is wrong and where on the line; for a text cut short, what to do."""
    unterminated = error.msg.startswith("Unterminated string")  # only ever at the end
    what = (
        f"a string opens at column {error.colno} and never closes"
        if unterminated
        else f"{error.msg.removesuffix(' at')} at column {error.colno}"  # "...character at"
    )
    if unterminated or not error.doc[error.pos :].strip():
        return f"invalid JSON ({what}): the text ends early; copy or export it again"
    return f"invalid JSON ({what})"


def read_json(path: str | os.PathLike[str], too_deep: str = "JSON nested too deeply") -> Any:
    """A JSON file (a BOM is allowed); anything wrong with it is a DataError."""
    from stages.core.errors import DataError

    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise DataError(path, None, "not found") from None
    except UnicodeDecodeError as error:
        locate_bad_utf8(path)
        raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
    return parse_json(text, path, None, too_deep)


def parse_json(
    text: str, path: object, record: str | None, too_deep: str = "JSON nested too deeply"
) -> Any:
    """JSON text from a file (whole, or one ``record`` of it); anything wrong with it is a
    DataError naming the line, not an internal error."""
    from stages.core.errors import DataError

    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = record or f"line {error.lineno}"
        raise DataError(path, where, json_problem(error)) from None
    except RecursionError:
        raise DataError(path, record, too_deep) from None
    except ValueError as error:  # an integer of more than 4,300 digits, which Python refuses
        reason = f"unreadable JSON ({str(error).split(';')[0]})"
        raise DataError(path, record, reason) from None


def load_params(path: str | os.PathLike[str] = catalog.PARAMS) -> dict[str, Any]:
    from stages.core.errors import DataError

    params = read_yaml(path, "params file not found; run from the project root")
    if not isinstance(params, dict):
        raise DataError(path, None, "expected a mapping of sections at the top level")
    from stages.core.params import validated

    return validated(params, path)


def section(params: dict[str, Any], name: str) -> dict[str, Any]:
    """One section of params that ``load_params`` checked and completed."""
    return params[name]


def label_set(params: dict[str, Any], source: object) -> list[str]:
    """``data.labels`` as strings; the pipeline cannot run without it."""
    from stages.core.errors import DataError

    labels = params["data"]["labels"]
    if labels is None:
        raise DataError(source, "data.labels", "missing; list your label set, e.g. [cat, dog]")
    return [str(label) for label in labels]


def data_version(raw_dvc: Path) -> str:
    """The md5 that data/raw.dvc records for the delivery ("unknown" without one)."""
    document = read_yaml(raw_dvc, "") if raw_dvc.exists() else None
    outs = document.get("outs") if isinstance(document, dict) else None
    first = outs[0] if isinstance(outs, list) and outs and isinstance(outs[0], dict) else {}
    return str(first.get("md5", "unknown"))


def tables_digest(folder: Path) -> str:
    """A short SHA-256 of every file under ``folder`` (names and bytes, in name order): what
    names a validation run, so that the same tables give the same Data Docs."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]
