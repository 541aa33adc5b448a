"""File helpers shared by the stages: atomic writes, canonical JSON, params and progress.

Every output is written to a temporary file in the same folder and renamed into place, so a
failed or killed stage leaves the previous file or none, never half of one.
"""

from __future__ import annotations

import functools
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

if TYPE_CHECKING:
    import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A temporary file a killed run left for the same path (kill -9 between write and rename)
    is removed first: it would otherwise stay beside the outputs, where `git add -A` finds it.
    """
    import re

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    stale = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")  # mkstemp's names
    for left in target.parent.iterdir():
        if stale.fullmatch(left.name):
            left.unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


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


def read_yaml(path: str | os.PathLike[str], missing: str) -> Any:
    """A YAML file's document; anything wrong with the file is a DataError (``missing`` says
    what to do when it does not exist)."""
    import yaml

    from stages.core.errors import DataError

    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_unique_keys_loader())  # YAML 1.2, as DVC reads
    except FileNotFoundError:
        raise DataError(path, None, missing) from None
    except UnicodeDecodeError as error:
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


# YAML 1.2's core schema, the rules by which DVC reads params.yaml and writes `dvc exp run -S`
# values (ruamel.yaml): `1e-7` is a number, `off` and `yes` are text, `010` is ten, `1:20` is
# text. PyYAML's own safe loader follows YAML 1.1, where each of these reads otherwise, so a
# stage would see another value than the one DVC records and shows.
_YAML_1_2 = {
    "tag:yaml.org,2002:bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    "tag:yaml.org,2002:int": (
        r"^[-+]?(?:0b[0-1_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$",
        "-+0123456789",
    ),
    "tag:yaml.org,2002:float": (
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
}


def load_yaml_1_2(text: str) -> Any:
    """A YAML document read by YAML 1.2's rules, as DVC reads it (for files DVC writes)."""
    import yaml

    return yaml.load(text, Loader=_unique_keys_loader())


@functools.cache
def _yaml_1_2_loader() -> Any:
    import yaml

    class Yaml12(yaml.SafeLoader):
        def construct_yaml_int(self, node: Any) -> int:
            text = str(self.construct_scalar(node)).replace("_", "")
            sign = -1 if text[0] == "-" else 1
            digits = text.lstrip("+-")
            base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
            return sign * int(digits[2:] if base != 10 else digits, base)

    Yaml12.yaml_implicit_resolvers = {
        first: [(tag, rule) for tag, rule in rules if tag not in _YAML_1_2]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for tag, (rule, first) in _YAML_1_2.items():
        Yaml12.add_implicit_resolver(tag, re.compile(rule), list(first))
    Yaml12.add_constructor("tag:yaml.org,2002:int", Yaml12.construct_yaml_int)
    return Yaml12


@functools.cache
def _unique_keys_loader() -> Any:
    """YAML 1.2's safe loader, refusing a key given twice in one mapping: plain YAML keeps the
    last silently, so a second `seed:` at the end of params.yaml would win unseen. (A merge
    key's overrides, `<<: *base` then `b: 2`, are no repeat.)"""
    import yaml

    class UniqueKeys(_yaml_1_2_loader()):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str | int | float | bool):
                    continue  # an unhashable key is refused by the safe loader itself
                if key in seen:
                    problem = f"{key!r} is given twice (the last would win unseen): keep one"
                    mark = key_node.start_mark
                    raise yaml.constructor.ConstructorError(None, None, problem, mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return UniqueKeys


def json_problem(error: json.JSONDecodeError) -> str:
    """What is wrong and where on the line; for a text cut short, what to do."""
    unterminated = error.msg.startswith("Unterminated string")  # only ever at the end
    what = (
        f"a string opens at column {error.colno} and never closes"
        if unterminated
        else f"{error.msg} at column {error.colno}"
    )
    if unterminated or not error.doc[error.pos :].strip():
        return f"invalid JSON ({what}): the text ends early; copy or export it again"
    return f"invalid JSON ({what})"


def read_json(path: str | os.PathLike[str], too_deep: str = "JSON nested too deeply") -> Any:
    """A JSON file (a BOM is allowed); anything wrong with it is a DataError."""
    from stages.core.errors import DataError

    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError(path, None, "not found") from None
    except UnicodeDecodeError as error:
        raise DataError(path, None, f"not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError as error:
        raise DataError(path, f"line {error.lineno}", json_problem(error)) from None
    except RecursionError:
        raise DataError(path, None, too_deep) from None
    except ValueError as error:  # an integer of more than 4,300 digits, which Python refuses
        reason = f"unreadable JSON ({str(error).split(';')[0]})"
        raise DataError(path, None, reason) from None


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
