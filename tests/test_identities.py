"""Who is who across batches, and which exports cannot carry gold: reported, and joinable."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from stages.core.errors import DataError
from stages.core.params import complete
from stages.ingest.delivery import read_delivery
from stages.ingest.identities import (
    apply_aliases,
    gold_mark_warnings,
    id_kind,
    identity_warnings,
    read_aliases,
)


def _delivery(tmp_path, aliases: str | None = None):
    """A Label Studio full export naming users by id, and a CSV batch naming them by e-mail."""
    folder = tmp_path / "annotations"
    folder.mkdir()
    tasks = [
        {
            "id": n,
            "data": {"item_id": f"i{n}"},
            "annotations": [
                {"completed_by": 7, "result": [{"type": "choices", "value": {"choices": ["cat"]}}]}
            ],
        }
        for n in (1, 2)
    ]
    (folder / "a-labelstudio.json").write_text(json.dumps(tasks))
    (folder / "b.csv").write_text(
        "item_id,annotator_id,label\ni1,ann@x.org,dog\ni3,ann@x.org,cat\n"
    )
    minimal = [{"id": 1, "item_id": "i4", "annotator": 7, "annotation_id": 9, "choice": "cat"}]
    (folder / "c-min.json").write_text(json.dumps(minimal))
    data = complete("data", {"labels": ["cat", "dog"]})
    alias_file = tmp_path / "annotator_aliases.csv"
    if aliases is not None:
        alias_file.write_text(aliases)
    return read_delivery(folder, None, data, ["cat", "dog"], aliases_file=alias_file)


def test_id_kinds():
    assert id_kind(pd.Series(["7", "12"])) == "integer user ids"
    assert id_kind(pd.Series(["a@x.org"])) == "e-mails"
    assert id_kind(pd.Series(["ann", "7"])) == "names"


def test_ids_of_different_kinds_and_formats_without_gold_marks_are_reported(tmp_path):
    delivery = _delivery(tmp_path)
    assert delivery.annotator_ids == {
        "a-labelstudio.json": "integer user ids",
        "b.csv": "e-mails",
        "c-min.json": "integer user ids",
    }
    warnings = delivery.export.warnings
    first = warnings.index(
        "annotator ids differ in kind between files: one person may count as two annotators"
    )
    assert warnings[first + 1 : first + 4] == [
        "  e-mails: b.csv",
        "  integer user ids: a-labelstudio.json, c-min.json",
        "  join them in data/raw/annotator_aliases.csv, or standalone with --annotator-aliases FILE",
    ]
    assert any(line.startswith("c-min.json: Label Studio JSON-MIN") for line in warnings)
    assert delivery.export.formats["c-min.json"] == "labelstudio-min"
    assert sorted(delivery.annotations["annotator_id"].unique()) == ["7", "ann@x.org"]


def test_aliases_join_one_person_across_batches(tmp_path):
    delivery = _delivery(tmp_path, aliases="raw_id,annotator_id\n 7 ,ann@x.org\nunused,bo@x.org\n")
    assert set(delivery.annotations["annotator_id"]) == {"ann@x.org"}
    assert not any("differ in kind" in line for line in delivery.export.warnings)
    assert len(delivery.annotations) == 5  # nothing dropped: a repeat on i1 is label-merge's


@pytest.mark.parametrize(
    ("text", "record", "reason"),
    [
        ("raw,annotator_id\n7,a@x.org\n", "header", r"missing required column\(s\): raw_id"),
        ("raw_id,annotator_id\n7,a@x.org\n8,\n", "line 3", "must both be given"),
        ("raw_id,annotator_id\n7,a@x.org\n7,b@x.org\n", "line 3", "stands for both"),
        ("raw_id,annotator_id\n7,a@x.org,extra\n", "", "field"),
        ("raw_id,annotator_id\n7,ann\nann,a@x.org\n", "line 2",
         r"'ann' -> 'a@x.org' \(line 3\): map '7' straight to 'a@x.org'"),
        ("raw_id,annotator_id\n7,a@x.org\na@x.org,7\n", "line 2",
         r"'a@x.org' -> '7' \(line 3\): keep one direction"),
        # the target becomes an annotator's id, drawn in every chart: vl-convert aborted on it
        ("raw_id,annotator_id\n7,a@x.org\n8,b\x07@x.org\n", "line 3",
         r"annotator id 'b\\x07@x.org' holds '\\x07', a control character"),
    ],
)  # fmt: skip
def test_a_bad_alias_table_stops_with_the_file_and_the_line(tmp_path, text, record, reason):
    path = tmp_path / "annotator_aliases.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=reason) as error:
        read_aliases(path)
    assert error.value.path == str(path) and record in error.value.record


def test_an_alias_table_in_another_unicode_form_names_the_same_people(tmp_path):
    import unicodedata

    path = tmp_path / "annotator_aliases.csv"
    decomposed = unicodedata.normalize("NFD", "jos\u00e9")
    path.write_text(f"raw_id,annotator_id\n{decomposed},jos\u00e9@x.org\n7,jos\u00e9@x.org\n")
    aliases = read_aliases(path)
    assert aliases == {"jos\u00e9": "jos\u00e9@x.org", "7": "jos\u00e9@x.org"}
    assert read_aliases(tmp_path / "absent.csv") == {}


def test_aliases_in_params_say_where_they_moved():
    with pytest.raises(DataError, match=r"moved to data/raw/annotator_aliases\.csv") as error:
        complete("data", {"annotations": {"annotator_aliases": {"7": "ann@x.org"}}})
    assert len(f"error: {error.value.line()}") < 100
    empty = complete("data", {"annotations": {"annotator_aliases": {}}})  # asked for nothing
    assert "annotator_aliases" not in empty["annotations"]


def test_one_kind_and_full_exports_say_nothing():
    assert identity_warnings({"a.csv": "e-mails", "b.json": "e-mails"}) == []
    assert gold_mark_warnings({"a.json": "labelstudio", "b.csv": "long"}) == []
    assert apply_aliases(pd.Series(["1"], dtype="string"), {}).tolist() == ["1"]


def test_ids_in_other_unicode_forms_name_one_item_and_the_collapse_is_reported(tmp_path):
    import unicodedata

    from stages.ingest.tables import label_normaliser, normalised_ids

    composed, decomposed = "caf\u00e9", unicodedata.normalize("NFD", "caf\u00e9")
    ids, warnings = normalised_ids(pd.Series([composed, decomposed, "x", None]), "annotations")
    assert ids.tolist()[:3] == [composed, composed, "x"] and ids.isna().tolist()[3]
    assert warnings == [
        "annotations: 'cafe\\u0301' and 'caf\\xe9' are one id, 'caf\\xe9', "
        "after Unicode normalisation (NFKC)"
    ]
    ascii_only = pd.Series(["a", "b"])
    assert normalised_ids(ascii_only, "items")[0] is ascii_only  # nothing to do, nothing copied
    # An id that prints like another but holds a zero-width space stays itself, and is named.
    ids, warnings = normalised_ids(pd.Series(["zero\u200bwidth", "zerowidth"]), "items: item_id")
    assert ids.tolist() == ["zero\u200bwidth", "zerowidth"]
    assert warnings == [
        "items: item_id: 1 id with invisible characters (first: 'zero\\u200bwidth'): a copy "
        "from a web page or a spreadsheet may have added them, and such an id differs from the "
        "one that looks the same"
    ]
    folder = tmp_path / "annotations"
    folder.mkdir()
    wide = "\uff23\uff41\uff54"  # "Cat" in full-width letters
    (folder / "a.csv").write_text(
        f"item_id,annotator_id,label\n{decomposed},ann,cat\n{composed},bo,{wide}\n{composed},cy,dog\n"
    )
    data = complete("data", {"labels": ["cat", "dog"]})
    delivery = read_delivery(folder, None, data, ["cat", "dog"])
    assert set(delivery.annotations["item_id"]) == {composed}
    assert delivery.label_spellings == {"cat": ["cat", wide]}
    assert any("are one id" in line for line in delivery.export.warnings)
    with pytest.raises(DataError, match="'Cat' and 'cat' are one label"):
        label_normaliser(["Cat", "cat"], {})
