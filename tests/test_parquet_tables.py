"""Parquet tables a team delivers (annotations, items, gold): a cell that is not one plain
value is named by its column, bad bytes by their row, a broken file by its name; each is a
DataError (exit 2), never pandas' crash nor a label spelled ``{'v': 1}``."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stages.core.errors import DataError
from stages.ingest.formats import read_export
from stages.ingest.items import read_items
from stages.ingest.tables import read_gold

NESTED = {
    "struct": pa.array([{"v": 1}, {"v": 2}]),
    "list": pa.array([["1"], ["2"]]),
    "map": pa.array([[("k", "1")], [("k", "2")]], type=pa.map_(pa.string(), pa.string())),
}


def _annotations(path):
    return read_export(path, "long", {"labels": ["1", "2"]}).annotations


def _items(path):
    return read_items(path)


def _gold(path):
    return read_gold(path, {})


READERS = {"annotations": (_annotations, "label"), "items": (_items, "f"),
           "gold": (_gold, "label")}  # fmt: skip


def _write(path, column, values):
    ids = {"item_id": pa.array(["i1", "i2"])}
    if column == "label" and path.stem == "annotations":
        ids["annotator_id"] = pa.array(["a", "b"])
    pq.write_table(pa.table({**ids, column: values}), path)


@pytest.mark.parametrize("kind", sorted(NESTED))
@pytest.mark.parametrize("table", sorted(READERS))
def test_a_nested_column_is_named(tmp_path, table, kind):
    read, column = READERS[table]
    path = tmp_path / f"{table}.parquet"
    _write(path, column, NESTED[kind])
    with pytest.raises(DataError) as caught:
        read(path)
    assert caught.value.record == f"column {column!r}"
    assert caught.value.reason.startswith("holds nested values (")
    assert caught.value.reason.endswith("each cell must be one text or number")


@pytest.mark.parametrize("table", sorted(READERS))
def test_bytes_are_read_as_text_and_bad_bytes_name_their_row(tmp_path, table):
    read, column = READERS[table]
    path = tmp_path / f"{table}.parquet"
    _write(path, column, pa.array([b"1", b"2"]))
    assert read(path)[column].tolist() == ["1", "2"]

    _write(path, column, pa.array([b"1", b"\xff2"]))
    with pytest.raises(DataError) as caught:
        read(path)
    assert caught.value.record == "row 2"
    assert caught.value.reason == (
        f"column {column!r} is not UTF-8 text (byte 0xff): save it as UTF-8 strings"
    )


@pytest.mark.parametrize("table", sorted(READERS))
def test_a_broken_parquet_file_is_named(tmp_path, table):
    read, column = READERS[table]
    whole = tmp_path / "whole.parquet"
    _write(whole, column, pa.array(["1", "2"]))
    path = tmp_path / f"{table}.parquet"
    path.write_bytes(b"PAR1" + whole.read_bytes()[:60])
    with pytest.raises(DataError, match=r"unreadable .*(table|Parquet)") as caught:
        read(path)
    assert caught.value.path == str(path)
    assert "line" not in caught.value.record  # a binary file has no lines to name


def test_a_category_of_bytes_is_decoded_too(tmp_path):
    path = tmp_path / "items.parquet"
    _write(path, "f", pa.array([b"x", b"y"]).dictionary_encode())
    assert read_items(path)["f"].tolist() == ["x", "y"]
    _write(path, "f", pa.array([b"x", b"\xff"]).dictionary_encode())
    with pytest.raises(DataError, match="column 'f' is not UTF-8 text"):
        read_items(path)


@pytest.mark.parametrize("table", sorted(READERS))
def test_whole_float_ids_read_as_integers_as_in_json(tmp_path, table):
    """pandas stores an integer id column with a gap as floats: 1.0 read as "1.0" in a Parquet
    batch and as "1" in a JSON one, so one item became two and validate refused the batch."""
    read, column = READERS[table]
    path = tmp_path / f"{table}.parquet"
    columns = {"item_id": pa.array([1.0, 2.5, 1e20]), column: pa.array([1.0, 2.0, 3.5])}
    if table == "annotations":
        columns["annotator_id"] = pa.array([7.0, 8.0, None])
    pq.write_table(pa.table(columns), path)
    if table == "annotations":  # an id missing is named, as in a CSV
        with pytest.raises(DataError, match="empty annotator_id"):
            read(path)
        columns["annotator_id"] = pa.array([7.0, 8.0, 9.0])
        pq.write_table(pa.table(columns), path)
    found = read(path)
    assert sorted(found["item_id"]) == ["1", "100000000000000000000", "2.5"]
    expected = {
        "annotations": ["1", "2", "3.5"],
        "gold": ["1", "2", "3.5"],
        "items": [1.0, 2.0, 3.5],
    }
    assert sorted(found[column]) == expected[table]  # a feature stays a number
    if table == "annotations":
        assert found["annotator_id"].tolist() == ["7", "8", "9"]


@pytest.mark.parametrize("table", sorted(READERS))
def test_a_file_that_decodes_to_more_than_memory_allows_is_refused_before_decoding(
    tmp_path, table, monkeypatch
):
    """A few kilobytes of Parquet can hold millions of cells of one value; the stage says so
    (exit 2) instead of being killed by the kernel. Memory is patched down to 24 MiB, so that a
    file of 2 or 3 million cells stands for a bomb of billions on a real machine."""
    import numpy as np

    from stages.ingest.formats import parquet_table

    read, column = READERS[table]
    rows = 1_000_000
    same = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array(["1"]))
    names = ["item_id", "annotator_id", column] if table == "annotations" else ["item_id", column]
    path = tmp_path / f"{table}.parquet"
    pq.write_table(pa.table(dict.fromkeys(names, same)), path, compression="zstd")
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(parquet_table, "memory_size", lambda: 24 * 2**20)
    decoding = []
    monkeypatch.setattr(parquet_table.pd, "read_parquet", lambda *a, **k: decoding.append(a))
    with pytest.raises(DataError) as caught:
        read(path)
    assert decoding == []
    assert caught.value.path == str(path)
    cells = len(names) * rows  # each a 4-byte index into a dictionary of one value
    assert caught.value.reason.endswith(
        f"table of {rows:,} rows would take at least {cells * 4 / 2**20:.0f} MiB of "
        "memory once decoded, over a quarter of this machine's 24 MiB: check that it is the "
        "file meant, or run on a machine with more memory"
    )


def test_the_decoded_size_counts_each_cell_by_its_type_where_pages_repeat_one_value(tmp_path):
    """A lower bound, so that a legitimate file is not refused for a size it does not have: a
    uint8 cell is 1 byte (a table of 1M rows x 63 of them had been counted 8 bytes a cell,
    488 MiB for a frame of 73), a float 8, a text its 8-byte offset."""
    import numpy as np

    from stages.ingest.formats.parquet_table import decoded_size

    path = tmp_path / "t.parquet"
    rows = 10_000
    columns = {"text": ["x"] * rows, "number": [1.5] * rows, "pixel": np.zeros(rows, np.uint8)}
    pq.write_table(pa.table(columns), path)
    assert decoded_size(pq.read_metadata(path), pq.read_schema(path)) == rows * (8 + 8 + 1)
    wide = "w" * 10_000
    pq.write_table(pa.table({"a": [wide + str(i) for i in range(100)]}), path, compression="zstd")
    assert decoded_size(pq.read_metadata(path), pq.read_schema(path)) >= 100 * 10_000


def test_memory_is_unknown_and_unlimited_where_the_system_does_not_say(monkeypatch):
    import sys

    from stages.ingest.formats import parquet_table

    monkeypatch.delattr(parquet_table.os, "sysconf")  # as on Windows
    assert parquet_table.memory_size() == sys.maxsize


def test_memory_is_the_container_limit_where_one_is_set(tmp_path, monkeypatch):
    from stages.ingest.formats import parquet_table

    machine = parquet_table.memory_size()
    limit, unlimited, missing = tmp_path / "v2", tmp_path / "v1", tmp_path / "none"
    limit.write_text("1073741824\n")
    unlimited.write_text("max\n")
    monkeypatch.setattr(parquet_table, "CGROUP_LIMITS", (str(missing), str(unlimited)))
    assert parquet_table.memory_size() == machine
    monkeypatch.setattr(parquet_table, "CGROUP_LIMITS", (str(limit), str(unlimited)))
    assert parquet_table.memory_size() == min(machine, 2**30)
