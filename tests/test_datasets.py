"""Partitioned Parquet tables: written by split, read by column and partition."""

from __future__ import annotations

import pandas as pd
import pytest

from stages.core.datasets import read_table, table_path, text_columns, write_partitioned
from stages.core.errors import DataError


def _items() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.array(["a", "b", "c", "d"], dtype="string"),
            "x": [1.0, 2.0, 3.0, 4.0],
            "text": pd.array(["p", "q", "r", "s"], dtype="string"),
            "split": pd.array(["train", "test", "train", "test"], dtype="string"),
        }
    )


def test_a_partitioned_table_reads_back_by_partition_and_column(tmp_path):
    folder = tmp_path / "items"
    write_partitioned(folder, _items(), "split")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")) == [
        "split=test/part-0.parquet",
        "split=train/part-0.parquet",
    ]
    assert table_path(tmp_path, "items") == folder
    assert text_columns(folder) == ["item_id", "text"]
    everything = read_table(folder)
    assert list(everything.columns) == ["item_id", "x", "text", "split"]
    assert everything["item_id"].tolist() == ["b", "d", "a", "c"]  # test, then train
    assert everything.dtypes["split"] == "string"
    test = read_table(folder, ["item_id", "text"], where={"split": ["test"]})
    assert test.to_dict("list") == {"item_id": ["b", "d"], "text": ["q", "s"]}
    write_partitioned(folder, _items().iloc[[0, 2]], "split")  # no item in the test split
    with pytest.raises(DataError, match=r"no rows with split=test \(no such partition; too few "
                                        r"items for prepare\.test_size, or validate"):  # fmt: skip
        read_table(folder, where={"split": ["test"]})


def test_rewriting_removes_partitions_that_are_gone_and_bytes_are_stable(tmp_path):
    folder = tmp_path / "items"
    write_partitioned(folder, _items().assign(split="train"), "split")
    first = (folder / "split=train" / "part-0.parquet").read_bytes()
    write_partitioned(folder, _items(), "split")
    write_partitioned(folder, _items().assign(split="train"), "split")
    assert [p.name for p in folder.iterdir()] == ["split=train"]
    assert (folder / "split=train" / "part-0.parquet").read_bytes() == first


def test_a_row_without_a_partition_value_is_an_error_not_a_loss(tmp_path):
    items = _items()
    items.loc[2, "split"] = pd.NA
    with pytest.raises(DataError, match="row 3: no value in partition column 'split'"):
        write_partitioned(tmp_path / "items", items, "split")


def test_a_single_file_table_still_reads(tmp_path):
    _items().to_parquet(tmp_path / "items.parquet", index=False)
    path = table_path(tmp_path, "items")
    assert path.name == "items.parquet"
    assert text_columns(path) == ["item_id", "text"]
    assert read_table(path, ["x"])["x"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert read_table(path, ["x"], where={"split": ["test"]})["x"].tolist() == [2.0, 4.0]


def test_a_text_column_stored_as_a_category_is_text(tmp_path):
    """pandas writes a category of strings as a Parquet dictionary: still a text column."""
    items = _items()
    items.assign(text=items["text"].astype("category")).to_parquet(tmp_path / "items.parquet")
    assert text_columns(table_path(tmp_path, "items")) == ["item_id", "text"]


def test_is_in_is_pandas_isin_without_its_cost():
    import numpy as np
    import pandas as pd

    from stages.core.datasets import is_in

    values = pd.Series(["a", "b", None, "007", "7", "a"], dtype="string")
    reference = pd.Series(["7", "a", None], dtype="str")
    expected = values.isin(reference.dropna()).to_numpy(dtype=bool)
    assert np.array_equal(is_in(values, reference), expected)  # "007" is not "7"
    assert is_in(values, reference).tolist() == [True, False, False, False, True, True]
    assert is_in(values, pd.Series([], dtype="string")).tolist() == [False] * 6
    assert is_in(pd.Series([], dtype="string"), reference).tolist() == []


def test_is_in_compares_numbers_as_numbers():
    import pandas as pd

    from stages.core.datasets import is_in

    with_gap = pd.Series([1.0, 2.0, None])  # an integer column with a missing value
    assert is_in(with_gap, pd.Series([1, 2])).tolist() == [True, True, False]
    assert is_in(pd.Series([1, 2]), pd.Series([1.0, 2.0])).tolist() == [True, True]
    assert is_in(pd.Series(["1"], dtype="string"), pd.Series([1])).tolist() == [False]
