"""The kinds of param: what each accepts, how it is named in an error line, its JSON Schema
rule for editors, and the type its value takes (stages/core/params.py puts them together)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    default: Any
    accepts: Callable[[Any], bool]
    expected: str  # what a valid value is, for the error line
    json: dict[str, Any] = field(default_factory=dict)  # the same rule as JSON Schema, for editors
    # The value in the field's own type: `-S C=1` must build the model `C: 1.0` builds, bytes too.
    convert: Callable[[Any], Any] = lambda value: value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# The largest integer compiled numerical code (C's int) takes: beyond it scikit-learn and its
# solvers fail with an overflow deep inside, or try to allocate as much.
C_INT_MAX = 2**31 - 1


def integer(
    default: int | None, low: int | None = None, nullable: bool = False, high: int = C_INT_MAX
) -> Field:
    def accepts(value: Any) -> bool:
        if value is None:
            return nullable
        ok = isinstance(value, int) and not isinstance(value, bool)
        return ok and (low is None or value >= low) and value <= high

    bound = f" at least {low} and" if low is not None else ""
    bound += f" at most {high}"
    json: dict[str, Any] = {"type": ["integer", "null"] if nullable else "integer"}
    json.update({"minimum": low} if low is not None else {})
    json.update({"maximum": high})
    return Field(default, accepts, f"an integer{bound}" + (" or null" if nullable else ""), json)


def number(
    default: float, low: float, high: float | None = None, open_low: bool = False,
    open_high: bool = False,
) -> Field:  # fmt: skip
    def accepts(value: Any) -> bool:
        if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
            return False
        above = value > low if open_low else value >= low
        below = high is None or (value < high if open_high else value <= high)
        return above and below

    lower = f"{'above' if open_low else 'at least'} {low}"
    upper = f" and {'below' if open_high else 'at most'} {high}" if high is not None else ""
    json: dict[str, Any] = {"type": "number", ("exclusiveMinimum" if open_low else "minimum"): low}
    if high is not None:
        json["exclusiveMaximum" if open_high else "maximum"] = high
    return Field(default, accepts, f"a finite number {lower}{upper}", json, convert=float)


def choice(default: str, options: tuple[str, ...]) -> Field:
    expected = "one of " + ", ".join(options)
    return Field(default, lambda value: value in options, expected, {"enum": list(options)})


def text(default: str | None, nullable: bool = False) -> Field:
    def accepts(value: Any) -> bool:
        return (value is None and nullable) or (isinstance(value, str) and value != "")

    json = {"type": ["string", "null"] if nullable else "string", "minLength": 1}
    return Field(default, accepts, "a non-empty string" + (" or null" if nullable else ""), json)


def flag(default: bool) -> Field:
    return Field(
        default, lambda value: isinstance(value, bool), "true or false", {"type": "boolean"}
    )


def names(default: list[str]) -> Field:
    def accepts(value: Any) -> bool:
        strings = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        return strings and len(set(value)) == len(value)

    json = {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True}
    return Field(default, accepts, "a list of distinct column names", json)


def mapping(default: dict[str, Any]) -> Field:
    return Field(default, lambda value: isinstance(value, dict), "a mapping", {"type": "object"})


def did_you_mean(word: object, options: list[str]) -> str:
    """ "did you mean 'x'?" for the option closest to a misspelt ``word``, or ""."""
    import difflib

    close = difflib.get_close_matches(str(word), options, n=1)
    return f"did you mean '{close[0]}'?" if close else ""
