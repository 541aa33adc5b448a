from pathlib import Path

import pandas as pd
import pytest

from stages.core.errors import DataError
from stages.core.params import validated
from stages.ingest.tables import (
    assign_split,
    canonical_annotations,
    label_normaliser,
    normalise_labels,
)
from tests.conftest import annotations_frame


def test_labels_normalise_case_spaces_and_aliases():
    mapping = label_normaliser(["Positive", "negative"], {"pos": "Positive"})
    values = pd.Series([" positive", "NEGATIVE ", "Pos", "neutral"], dtype="string")
    assert normalise_labels(values, mapping).tolist() == [
        "Positive",
        "negative",
        "Positive",
        "neutral",
    ]


def test_alias_to_unknown_label_is_a_params_error():
    with pytest.raises(DataError, match=r"not in data\.labels"):
        label_normaliser(["a"], {"x": "b"})


def test_split_is_stable_proportional_and_ignores_other_items():
    ids = pd.Series([f"item-{i}" for i in range(5000)], dtype="string")
    split = assign_split(ids, 0.2, "salt")
    assert 0.18 < (split == "test").mean() < 0.22
    more = pd.concat([ids, pd.Series(["new-1", "new-2"], dtype="string")], ignore_index=True)
    assert assign_split(more, 0.2, "salt").iloc[:5000].tolist() == split.tolist()
    assert assign_split(ids, 0.2, "other").tolist() != split.tolist()


@pytest.mark.parametrize("size", [0.0, 1.0, 1.5])
def test_split_size_must_be_a_fraction(size):
    with pytest.raises(ValueError, match="test_size must be in"):
        assign_split(pd.Series(["a"]), size, "s")
    with pytest.raises(DataError, match=r"prepare\.test_size"):  # params stop it first
        validated({"prepare": {"test_size": size}}, "params.yaml")


def test_annotations_are_sorted_with_fixed_columns():
    mapping = label_normaliser(["cat", "dog"], {})
    table = canonical_annotations(
        [
            annotations_frame([("b", "x", "Dog"), ("a", "y", "cat")]),
            annotations_frame([("a", "x", " CAT")]),
        ],
        mapping,
    )
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["a", "x", "cat"],
        ["a", "y", "cat"],
        ["b", "x", "dog"],
    ]


def test_labels_equal_up_to_unicode_form_are_one_class():
    """NFC and NFD accents, full-width letters: spellings that print alike map to one label."""
    mapping = label_normaliser(["négatif", "Positive"], {})
    values = pd.Series(
        [
            "ne\u0301gatif",
            "n\u00e9gatif",
            "\uff30\uff4f\uff53\uff49\uff54\uff49\uff56\uff45",
            " positive ",
        ],
        dtype="string",
    )
    assert normalise_labels(values, mapping).tolist() == [
        "négatif",
        "négatif",
        "Positive",
        "Positive",
    ]


def test_labels_read_from_the_data_fold_unicode_forms_too():
    from stages.ingest.delivery import labels_in

    found = pd.Series(
        ["ne\u0301gatif", "n\u00e9gatif", "n\u00e9gatif", "\uff30\uff4f\uff53", "Pos"]
    )
    assert len(labels_in(found, {})) == 2


def test_conflicting_gold_labels_say_where_each_came_from():
    from stages.core.errors import DataError
    from stages.ingest.tables import combine_gold

    def gold(rows):
        return pd.DataFrame(rows, columns=["item_id", "label"], dtype="string")

    mapping = {"cat": "cat", "dog": "dog"}
    files = (Path("gold.csv"), Path("annotations"))
    with pytest.raises(
        DataError, match=r"item i1: conflicting gold labels \['cat', 'dog'\] \(in the gold file\)"
    ):
        combine_gold(gold([("i1", "cat"), ("i1", "dog")]), gold([]), mapping, *files)
    with pytest.raises(DataError, match="in a ground-truth mark in an export and the gold file"):
        combine_gold(gold([("i1", "cat")]), gold([("i1", "dog")]), mapping, *files)
    # Two exports' marks disagree: the exports are named, not a gold file that may not exist.
    with pytest.raises(DataError) as caught:
        combine_gold(gold([]), gold([("i1", "cat"), ("i1", "dog")]), mapping, *files)
    assert caught.value.path == "annotations"
    same = combine_gold(gold([("i1", "cat")]), gold([("i1", "cat")]), mapping, *files)
    assert same.to_dict("records") == [{"item_id": "i1", "label": "cat"}]


def test_a_cell_longer_than_the_csv_scan_s_block_is_read(tmp_path):
    """The shape scan reads 16 MiB blocks; a longer text (one item's whole document) is valid
    data, and a quote left open in such a file is still named by its line."""
    from stages.ingest.formats.csv_text import check_csv_shape, read_csv_strings

    long_text = "word " * (4 << 20)  # 20 MiB
    path = tmp_path / "items.csv"
    path.write_text(f'item_id,text\ni1,"{long_text}"\ni2,short\n')
    check_csv_shape(path)
    assert read_csv_strings(path)["text"].str.len().tolist() == [len(long_text), 5]
    path.write_text(f'item_id,text\ni1,short\ni2,"{long_text}\n')
    with pytest.raises(DataError, match="line 3: a quoted field opens here and never closes"):
        read_csv_strings(path)
