"""The label set and its aliases: what makes two spellings one label, and the rules that
`params --check`, prepare and standalone label-merge apply alike."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from stages.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

# What XML 1.0 cannot hold: C0 controls but tab and line breaks, lone surrogates, U+FFFE and
# U+FFFF. An id or label with one reaches no page, chart or Label Studio task (vl-convert
# aborted the whole evaluate stage on one), so it stops prepare, named, instead.
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_writable(
    values: pd.Series | list[str], what: str, path: object, record: Callable[[int], str]
) -> None:
    """Stop at the first value holding a character no page can show (``UNWRITABLE``), naming
    its record; each distinct value is searched once."""
    import numpy as np
    import pandas as pd

    values = pd.Series(values, dtype=object) if isinstance(values, list) else values
    codes, uniques = pd.factorize(values)
    texts = [str(value) for value in uniques]
    if not UNWRITABLE.search("\n".join(texts)):  # one search over all, the usual case
        return
    bad = [n for n, text in enumerate(texts) if UNWRITABLE.search(text)]
    if bad:
        row = int(np.isin(codes, bad).argmax())
        value = str(values.iloc[row])
        char = UNWRITABLE.search(value)[0]  # type: ignore[index]
        reason = "a control character or broken text that no page or task can show: remove it"
        raise DataError(path, record(row), f"{what} {value!a} holds {char!a}, {reason}")


def label_key(text: str) -> str:
    """What two spellings of one label share: NFKC form, no surrounding space, case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def check_label_set(
    labels: Iterable[str], aliases: Mapping[str, str] | None, source: object = "params.yaml"
) -> None:
    """Each label once in any spelling; each alias another spelling of exactly one label.

    An alias that is itself a label (``positive: negative``) would silently relabel every
    judgment of it; two spellings of one alias with different targets would depend on which
    spelling a file used."""
    canonical = [str(label) for label in labels]
    keys: dict[str, str] = {}
    for label in canonical:
        check_writable([label], "label", source, lambda row: "data.labels")
        twin = keys.setdefault(label_key(label), label)
        if twin != label:
            raise DataError(
                source,
                "data.labels",
                f"{twin!a} and {label!a} are one label (compared ignoring case, "
                "surrounding space and Unicode form): keep one, map the other in data.aliases",
            )
    targets: dict[str, tuple[str, str]] = {}
    for alias, target in (aliases or {}).items():
        if alias is None or not str(alias).strip():  # would map the text "None", or nothing
            reason = f"an alias of {str(target)!a} has no spelling (YAML reads ~, null or an "
            raise DataError(source, "data.aliases", reason + "empty key as none): quote it")
        where = f"data.aliases.{alias}"
        if str(target) not in canonical:
            raise DataError(source, where, f"'{target}' is not in data.labels")
        named = keys.get(label_key(str(alias)))
        if named is not None and named != str(target):
            reason = f"{str(alias)!a} is the label {named!a}: an alias maps another spelling"
            raise DataError(source, where, reason + " onto a label; remove it")
        other, before = targets.setdefault(label_key(str(alias)), (str(alias), str(target)))
        if before != str(target):
            reason = f"{str(alias)!a} and {other!a} are one spelling mapped to two labels"
            raise DataError(source, where, reason + f" ({before!a}, {str(target)!a}): keep one")
