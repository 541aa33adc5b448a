"""The canonical tables (items, annotations, gold): label normalisation, split, fixed order.

Column order is fixed and rows are sorted by key so that the Parquet files are byte-stable.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from stages.core.errors import DataError
from stages.core.label_set import check_label_set, check_writable, label_key
from stages.core.markup import quantity
from stages.ingest.formats.common import ANNOTATION_COLUMNS
from stages.ingest.formats.csv_text import (
    check_csv_shape,
    missing_columns,
    row_names,
    unreadable,
)
from stages.ingest.formats.parquet_table import as_text, read_parquet_table

SPLITS = ("train", "test")


def label_normaliser(
    labels: Iterable[str], aliases: Mapping[str, str] | None, source: object = "params.yaml"
) -> dict[str, str]:
    """Map spellings that differ in case, surrounding space or Unicode form (NFKC: composed or
    decomposed accents, full-width letters) and aliases onto the label set.

    A value that maps nowhere is kept as written (trimmed) so that validate can report it.
    """
    canonical = [str(label) for label in labels]
    check_label_set(canonical, aliases, source)
    mapping = {label_key(label): label for label in canonical}
    for alias, target in (aliases or {}).items():
        mapping[label_key(str(alias))] = str(target)
    return mapping


def normalised_ids(values: pd.Series, where: str) -> tuple[pd.Series, list[str]]:
    """Ids in Unicode NFKC form, so that composed and decomposed accents or full-width digits
    name one item (or annotator), and one warning per id that several raw spellings became.

    Work is per distinct value, and ASCII ids (NFKC leaves them as they are) cost nothing.
    """
    codes, uniques = pd.factorize(values)
    raw = [str(value) for value in uniques]
    normal = [value if value.isascii() else unicodedata.normalize("NFKC", value) for value in raw]
    hidden = [value for value in normal if not value.isascii() and _invisible(value)]
    notes = (
        [
            f"{where}: {quantity(len(hidden), 'id')} with invisible characters (first: "
            f"{hidden[0]!a}): a copy from a web page or a spreadsheet may have added them, and "
            "such an id differs from the one that looks the same"
        ]
        if hidden
        else []
    )
    if normal == raw:
        return values, notes
    result = pd.array(np.asarray(normal, dtype=object).take(np.maximum(codes, 0)), dtype="string")
    result[codes < 0] = pd.NA
    spellings: dict[str, list[str]] = {}
    for before, after in zip(raw, normal, strict=True):
        spellings.setdefault(after, []).append(before)
    warnings = [
        f"{where}: {' and '.join(ascii(v) for v in sorted(found))} are one id, {after!a}, "
        "after Unicode normalisation (NFKC)"
        for after, found in sorted(spellings.items())
        if len(found) > 1
    ]
    return pd.Series(result, index=values.index, dtype="string"), warnings + notes


def _invisible(text: str) -> bool:
    """A zero-width space or joiner, a byte-order mark, a direction mark: Unicode's format
    characters, which print as nothing."""
    return any(unicodedata.category(char) == "Cf" for char in text)


def normalise_labels(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """Each distinct spelling is looked up once, so millions of rows cost little."""
    codes, uniques = pd.factorize(values.astype("string"))
    stripped = pd.Series(uniques, dtype="string").str.strip()
    lookup = pd.Series(dict(mapping), dtype="string")
    keys = [label_key(value) for value in stripped.fillna("")]  # once per distinct spelling
    mapped = pd.Series(lookup.reindex(keys).to_numpy(), dtype="string")
    normalised = mapped.fillna(stripped).to_numpy()
    result = pd.array(normalised.take(np.maximum(codes, 0)), dtype="string")
    result[codes < 0] = pd.NA
    return pd.Series(result, index=values.index, dtype="string")


def label_spellings(values: pd.Series, mapping: Mapping[str, str]) -> dict[str, list[str]]:
    """Each label that more than one raw spelling became (case, space, Unicode form, alias),
    with those spellings: reported, since two spellings that print alike can hide here."""
    raw = pd.Series(values.dropna().unique(), dtype="string")
    labels = normalise_labels(raw, mapping)
    found: dict[str, list[str]] = {}
    for spelling, label in zip(raw, labels, strict=True):
        found.setdefault(str(label), []).append(str(spelling))
    return {label: sorted(seen) for label, seen in sorted(found.items()) if len(seen) > 1}


def assign_split(item_ids: pd.Series, test_size: float, salt: str) -> pd.Series:
    """``test`` when a salted SHA-256 of the id falls below ``test_size``.

    Depends on nothing but the id, so adding items never moves an old item across.
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")  # params checks it
    threshold = int(test_size * 2**64)
    prefix = f"{salt}:".encode()
    is_test = [
        int.from_bytes(hashlib.sha256(prefix + item.encode()).digest()[:8], "big") < threshold
        for item in item_ids.astype(str)
    ]
    return pd.Series(np.where(is_test, "test", "train"), index=item_ids.index, dtype="string")


def canonical_items(items: pd.DataFrame, test_size: float, salt: str) -> pd.DataFrame:
    """Sorted by id, ``split`` last; one take of the raw table (no copies: at a million items
    with 64 features each copy costs a second)."""
    split = assign_split(items["item_id"].fillna(""), test_size, salt).to_numpy()
    order = _sort_order(items, ["item_id"])
    features = [name for name in items.columns if name not in ("item_id", "split")]
    result = items.take(order)[["item_id", *features]].reset_index(drop=True)
    result["split"] = pd.array(split[order], dtype="string")
    return result


def canonical_annotations(
    frames: list[pd.DataFrame], mapping: Mapping[str, str], ordered: bool = True
) -> pd.DataFrame:
    """All judgments in one table, labels normalised; sorted by key unless ``ordered`` is False."""
    if frames:
        table = pd.concat(frames, ignore_index=True)
    else:
        table = pd.DataFrame({name: pd.Series(dtype="string") for name in ANNOTATION_COLUMNS})
        table["created_at"] = table["created_at"].astype("datetime64[ms, UTC]")
        table["lead_time"] = table["lead_time"].astype("float64")
    table["label"] = normalise_labels(table["label"], mapping)
    table = table[ANNOTATION_COLUMNS]
    return _sorted(table, ["item_id", "annotator_id", "created_at", "source"]) if ordered else table


def read_gold(path: Path | None, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Expert labels: ``item_id, label`` (no file, or an absent one, means no gold)."""
    if path is None or not path.exists():
        return pd.DataFrame(
            {"item_id": pd.Series(dtype="string"), "label": pd.Series(dtype="string")}
        )
    try:
        if path.suffix == ".parquet":
            gold = read_parquet_table(path, "gold table")
            gold = gold.assign(**{name: as_text(gold[name]) for name in ("item_id", "label")
                                  if name in gold})  # fmt: skip
        else:
            check_csv_shape(path)
            gold = pd.read_csv(path, dtype="string", encoding="utf-8-sig", keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, OSError, ValueError) as error:
        raise unreadable(path, "gold table", error) from None
    missing = [name for name in ("item_id", "label") if name not in gold.columns]
    if missing:
        raise missing_columns(path, missing, list(gold.columns))
    gold = gold[["item_id", "label"]].copy()
    for column in ("item_id", "label"):  # as for a judgment: an empty cell is the file's to fix
        empty = (gold[column].fillna("").str.strip() == "").to_numpy()
        if empty.any():
            record = row_names(path, len(gold))(int(empty.argmax()))
            raise DataError(path, record, f"empty {column}: give one, or remove the row")
        check_writable(gold[column], column.replace("_", " "), path,
                       lambda row: row_names(path, len(gold))(row))  # fmt: skip
    gold["item_id"] = gold["item_id"].str.strip()
    gold["label"] = normalise_labels(gold["label"], mapping)
    return _sorted(gold, ["item_id"])


def combine_gold(
    gold_file: pd.DataFrame,
    marked: pd.DataFrame,
    mapping: Mapping[str, str],
    gold_path: Path | None,
    exports: Path,
) -> pd.DataFrame:
    """Gold from the gold file plus ground truth marked in exports; a conflict is an error,
    named by the gold file where it is one side of it, else by the exports."""
    marked = marked.assign(label=normalise_labels(marked["label"], mapping))
    origin = ["the gold file"] * len(gold_file) + ["a ground-truth mark in an export"] * len(marked)
    both = pd.concat([gold_file, marked], ignore_index=True).assign(_origin=origin)
    both = both.drop_duplicates(["item_id", "label"])
    conflicts = both["item_id"].duplicated(keep=False)
    if conflicts.any():
        item = both.loc[conflicts, "item_id"].iloc[0]
        given = both[both["item_id"] == item]
        labels = sorted(given["label"].astype(str))
        places = " and ".join(sorted(set(given["_origin"])))
        reason = f"conflicting gold labels {labels} (in {places}): keep the right one"
        path = gold_path if gold_path is not None and "the gold file" in places else exports
        raise DataError(path, f"item {item}", reason)
    return _sorted(both.drop(columns="_origin").astype("string"), ["item_id"])


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Stable sort by ``keys``, missing values last; Arrow sorts strings several times faster
    than pandas (UTF-8 byte order is code point order, so the result is the same)."""
    return frame.take(_sort_order(frame, keys)).reset_index(drop=True)


def _sort_order(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.table({key: pa.array(frame[key], from_pandas=True) for key in keys})
    order = pc.sort_indices(table, sort_keys=[(key, "ascending", "at_end") for key in keys])
    return order.to_numpy()
