import json

import pandas as pd
import pytest

from stages.errors import DataError
from stages.formats import ANNOTATION_COLUMNS, detect_format, read_annotations


def _task(task_id, annotations, data=None):
    return {
        "id": task_id,
        "data": data or {"text": "t", "item_id": f"item-{task_id}"},
        "annotations": annotations,
        "predictions": [],
        "inner_id": task_id,
        "total_annotations": len(annotations),
    }


def _annotation(user, choice, cancelled=False, created="2026-01-02T03:04:05.000000Z"):
    result = (
        []
        if cancelled
        else [
            {
                "id": "x1",
                "type": "choices",
                "value": {"choices": [choice]},
                "from_name": "sentiment",
                "to_name": "text",
            }
        ]
    )
    return {
        "id": 1,
        "completed_by": user,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": created,
        "lead_time": 2.5,
    }


def test_label_studio_full_export(tmp_path):
    path = tmp_path / "export.json"
    tasks = [
        _task(
            1,
            [_annotation(7, " Positive "), _annotation({"id": 8, "email": "b@x.org"}, "Negative")],
        ),
        _task(2, [_annotation(7, "Negative", cancelled=True)]),
        _task(3, [_annotation(9, "Positive")], data={"text": "no id key"}),
    ]
    path.write_text(json.dumps(tasks))
    assert detect_format(path) == "labelstudio"
    table = read_annotations(path)
    assert list(table.columns) == ANNOTATION_COLUMNS
    assert table["item_id"].tolist() == ["item-1", "item-1", "3"]
    assert table["annotator_id"].tolist() == ["7", "b@x.org", "9"]
    assert table["label"].tolist() == ["Positive", "Negative", "Positive"]
    assert (table["source"] == "export.json").all()
    assert str(table["created_at"].dtype) == "datetime64[ms, UTC]"


def test_long_csv_with_bom_and_extra_columns(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(
        "\ufeffitem_id,annotator_id,label,lead_time\r\ni1,a,cat,1.0\r\ni2,b,dog,2.0\r\n".encode()
    )
    assert detect_format(path) == "long"
    table = read_annotations(path)
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["i1", "a", "cat"],
        ["i2", "b", "dog"],
    ]
    assert table["created_at"].isna().all()


def test_long_parquet(tmp_path):
    path = tmp_path / "batch.parquet"
    pd.DataFrame({"item_id": ["i1"], "annotator_id": [3], "label": ["cat"]}).to_parquet(path)
    assert read_annotations(path)["annotator_id"].tolist() == ["3"]


@pytest.mark.parametrize(
    ("content", "record", "reason"),
    [
        ("", None, "empty file"),
        ('[{"id": 1, ', "line 1", "invalid JSON"),
        ('[{"id": 1, "data": {}}]', "task 1", "no 'annotations' array"),
        ("a,b,c\n1,2,3\n", "line 1", "unrecognised annotation format"),
        ("item_id,annotator_id,label\ni1,a,cat\ni2,,dog\n", "line 3", "empty annotator_id"),
        (
            "item_id,annotator_id,label,created_at\ni1,a,cat,yesterday\n",
            "record 1",
            "unreadable created_at",
        ),
    ],
)
def test_bad_exports_name_file_record_and_reason(tmp_path, content, record, reason):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError) as caught:
        read_annotations(path)
    assert caught.value.path == str(path)
    assert caught.value.record == (record or "")
    assert reason in caught.value.reason


def test_label_studio_several_choice_controls_need_from_name(tmp_path):
    annotation = _annotation(1, "Positive")
    annotation["result"].append(
        {"type": "choices", "value": {"choices": ["x"]}, "from_name": "topic"}
    )
    path = tmp_path / "two.json"
    path.write_text(json.dumps([_task(1, [annotation])]))
    with pytest.raises(DataError, match="several choice controls"):
        read_annotations(path)
    assert read_annotations(path, options={"from_name": "topic"})["label"].tolist() == ["x"]


def test_label_studio_object_instead_of_array(tmp_path):
    path = tmp_path / "object.json"
    path.write_text(json.dumps({"id": 1}))
    with pytest.raises(DataError):
        read_annotations(path, "labelstudio")
