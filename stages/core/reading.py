"""Reading what comes from outside: YAML and JSON files, params, the data version.

Anything wrong with a file is a DataError naming the file, the line and the reason (exit 2),
never a traceback: a bad byte, a syntax error, nesting too deep, an alias bomb.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from stages.core import catalog
from stages.core.yaml_rules import yaml_1_2_loader


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


def label_set(params: dict[str, Any], source: object) -> list[str]:
    """``data.labels`` as strings; the pipeline cannot run without it."""
    from stages.core.errors import DataError

    labels = params["data"]["labels"]
    if labels is None:
        raise DataError(
            source, "data.labels", "missing; list your label set under it, a `- label` a line"
        )
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
