"""The items table: read with its types, checked for what would break or vanish later."""

import re

import pandas as pd
import pytest

from stages.core.errors import DataError
from stages.ingest.items import _MISSING, RESERVED, partly_numeric, read_items
from stages.truth.merge import LABEL_COLUMNS


def _items(tmp_path, text: str):
    path = tmp_path / "items.csv"
    path.write_text(text)
    return path


def test_the_reserved_names_are_every_column_the_pipeline_adds_to_items():
    assert set(RESERVED) == {"split", *LABEL_COLUMNS} - {"item_id"}


def test_feature_columns_read_missing_values_as_pandas_does_by_default():
    from pandas._libs.parsers import STR_NA_VALUES

    assert sorted(_MISSING) == sorted(STR_NA_VALUES)  # a pandas upgrade that changes them fails


@pytest.mark.parametrize("name", ["label", "split", " is_gold"])
def test_a_column_the_pipeline_adds_itself_is_refused_by_name(tmp_path, name):
    path = _items(tmp_path, f"item_id,x,{name}\ni1,1,a\n")
    with pytest.raises(DataError, match=f"header: column '{name}' is a name the pipeline"):
        read_items(path)


def test_ids_are_text_as_written_and_features_keep_their_missing_values(tmp_path):
    path = _items(tmp_path, "item_id,x\nnan,1.5\nNone,NA\nNULL,\n,2\n")
    items = read_items(path)
    assert items["item_id"].tolist()[:3] == ["nan", "None", "NULL"]
    assert items["item_id"].isna().tolist() == [False, False, False, True]  # empty: missing
    assert items["x"].isna().tolist() == [False, True, True, False]


@pytest.mark.parametrize("value", ["inf", "-inf", "1e308", "-2.5e200"])
def test_an_infinite_or_overflowing_feature_value_names_its_record(tmp_path, value):
    path = _items(tmp_path, f"item_id,x\ni1,1.5\ni2,{value}\ni3,1e149\n")
    reason = f"line 3: column 'x' is {float(value)}: give a finite number"
    with pytest.raises(DataError, match=re.escape(reason)):
        read_items(path)
    assert read_items(_items(tmp_path, "item_id,x\ni1,1.5\ni3,-1e149\n"))["x"].iloc[1] == -1e149


def test_a_numeric_column_read_as_text_because_of_a_stray_cell_is_warned_about(tmp_path):
    path = _items(tmp_path, "item_id,x,note\ni1,1.5,good\ni2,?,bad\ni3,2,ok\ni4,3,7\n")
    (warning,) = partly_numeric(read_items(path), path)
    assert "column 'x' is numbers but for 1 cell(s) (line 3: '?')" in warning
    assert partly_numeric(pd.DataFrame({"item_id": ["a"], "x": [1.0]}), path) == []
    # Every cell a number in a column typed text (Parquet): an IndexError (exit 1) before
    typed = pd.DataFrame({"item_id": ["a", "b"], "x": pd.array(["1", "2.5"], dtype="string")})
    (warning,) = partly_numeric(typed, path)
    assert "column 'x' holds only numbers, stored as text" in warning
