"""Relabel tasks import into the team's own Label Studio project as they are: names, choice
spellings and data fields from its labeling config, checked by Label Studio's own validation."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from label_studio_sdk.label_interface import LabelInterface

from stages.core.errors import DataError
from stages.truth.relabel import label_studio_tasks
from tests.helpers import DEMO_CONFIG

REVIEWS = """<View>
  <Header value="$title"/>
  <Text name="review" value="$body"/>
  <Choices name="sentiment" toName="review" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative" alias="neg"/>
  </Choices>
</View>"""
CHOSEN = pd.DataFrame(
    {"item_id": ["r1", "r2", "r3"], "label": ["positive", "negative", None],
     "confidence": [0.61, 0.55, None]}
)  # fmt: skip
ITEMS = pd.DataFrame(
    {"item_id": ["r1", "r2", "r3"], "title": ["A", "B", "C"], "body": ["good", "bad", "meh"],
     "note": ["x", "y", "z"]}
)  # fmt: skip


def _tasks(tmp_path, config: str = REVIEWS, items=ITEMS, **options):
    path = tmp_path / "config.xml"
    path.write_text(config)
    options = {"config": str(path), "item_key": "item_id", **options}
    return label_studio_tasks(CHOSEN, items, options, ["negative", "positive"])


def test_tasks_take_names_spellings_and_fields_from_the_config(tmp_path):
    tasks = _tasks(tmp_path)
    assert [task["data"] for task in tasks] == [
        {"item_id": "r1", "title": "A", "body": "good"},  # what the config reads, not `note`
        {"item_id": "r2", "title": "B", "body": "bad"},
        {"item_id": "r3", "title": "C", "body": "meh"},
    ]
    results = [task["predictions"][0]["result"][0] for task in tasks[:2]]
    assert [(r["from_name"], r["to_name"]) for r in results] == [("sentiment", "review")] * 2
    assert [r["value"]["choices"] for r in results] == [["Positive"], ["neg"]]  # alias wins
    assert "predictions" not in tasks[2]  # no label yet: nothing to pre-fill
    config = LabelInterface(REVIEWS)
    for task in tasks:
        assert all(task["data"].get(obj.value_name) for obj in config.objects if obj.value_name)
        for prediction in task.get("predictions", []):
            assert config.validate_prediction(prediction, return_errors=True) == []


def test_an_empty_field_of_an_item_is_null_in_its_task_not_nan(tmp_path):
    """An empty cell of items.csv reads as NaN; written as is, tasks.json is not JSON."""
    from stages.core.io import write_json_records

    items = ITEMS.assign(title=[None, "B", float("nan")], body=["good", pd.NA, "meh"])
    tasks = _tasks(tmp_path, items=items)
    assert [task["data"]["title"] for task in tasks] == [None, "B", None]
    assert tasks[1]["data"]["body"] is None
    write_json_records(tmp_path / "tasks.json", tasks)
    assert json.loads((tmp_path / "tasks.json").read_text(), parse_constant=pytest.fail) == tasks


def test_without_a_config_params_name_the_controls(tmp_path):
    options = {"config": None, "from_name": "animal", "to_name": "text", "item_key": "item_id"}
    tasks = label_studio_tasks(CHOSEN, ITEMS, options, ["negative", "positive"])
    assert tasks[0]["predictions"][0]["result"][0]["from_name"] == "animal"
    assert tasks[0]["data"] == {"item_id": "r1", "title": "A", "body": "good", "note": "x"}


@pytest.mark.parametrize(
    ("config", "options", "items", "message"),
    [
        (REVIEWS.replace(' alias="neg"', "").replace("Negative", "Bad"), {}, ITEMS,
         "no <Choice> for the label(s) 'negative'"),
        (REVIEWS.replace(' alias="neg"', "").replace("Negative", "Bad"), {}, ITEMS,
         "without Label Studio, leave label_merge.relabel.config empty"),
        (REVIEWS.replace(' alias="neg"', "").replace("Negative", "Bad").replace(
            'value="Positive"', 'value="Good"'), {}, ITEMS,
         "no label of data.labels has a <Choice> (its choices: 'Good', 'Bad'): put your team's"),
        (REVIEWS.replace("</View>", '<Choices name="topic" toName="review"/></View>'), {}, ITEMS,
         "set label_merge.relabel.from_name"),
        (REVIEWS, {"from_name": "topic"}, ITEMS, 'no <Choices name="topic">'),
        (REVIEWS, {"to_name": "image"}, ITEMS, 'not "image"'),
        (REVIEWS.replace('toName="review"', 'toName="picture"'), {}, ITEMS, "names no object"),
        (REVIEWS, {}, ITEMS.drop(columns="body"), "reads $body, but the items table has no"),
        ("<View><Choices", {}, ITEMS, "not a Label Studio labeling config (XML)"),
        ('<?xml version="1.0" encoding="UFT-8"?>' + REVIEWS, {}, ITEMS,
         "not a Label Studio labeling config (XML): unknown encoding: UFT-8"),
    ],
)  # fmt: skip
def test_a_config_the_tasks_cannot_fit_is_one_clear_error(
    tmp_path, config, options, items, message
):
    with pytest.raises(DataError) as raised:
        _tasks(tmp_path, config, items, **options)
    assert message in str(raised.value) and "config.xml" in str(raised.value)


def test_a_missing_config_says_where_to_find_one(tmp_path):
    options = {"config": str(tmp_path / "absent.xml"), "item_key": "item_id"}
    with pytest.raises(DataError, match="Labeling Interface"):
        label_studio_tasks(CHOSEN, ITEMS, options, ["negative", "positive"])


def test_the_demo_tasks_fit_the_demo_config_and_their_pictures_exist(reproduced):
    config = LabelInterface((DEMO_CONFIG / "labelling" / "config.xml").read_text())
    for name in ("tasks.json", "label_issues.json"):
        tasks = json.loads((reproduced / "data" / "relabel" / name).read_text())
        assert tasks
        for task in tasks:
            picture = task["data"]["image"].removeprefix("/data/local-files/?d=")
            assert (reproduced / "data" / "raw" / "media" / picture).read_bytes()[:4] == b"\x89PNG"
            for prediction in task["predictions"]:
                assert config.validate_prediction(prediction, return_errors=True) == []


def test_task_fields_a_browser_would_run_or_read_locally_are_warned_about():
    from stages.truth.relabel import unsafe_fields

    tasks = [
        {"data": {"item_id": "a", "image": "javascript:alert(1)"}},
        {"data": {"item_id": "b", "image": "/data/local-files/?d=../../etc/passwd"}},
        {"data": {"item_id": "c", "image": " DATA:text/html,<script>x</script>"}},
        {"data": {"item_id": "d", "image": "https://cdn.example.com/a..b.png", "n": 3}},
        {"data": {"item_id": "e", "image": "data:image/png;base64,iVBOR", "text": "a..b ../"}},
        {"data": {"item_id": "f", "text": "Data: sales fell", "note": "File: see attached"}},
        {"data": {"item_id": "g", "image": "\x01java\tscript:alert(1)"}},  # as browsers read it
        {"data": {"item_id": "h", "image": "/data/local-files/?d=%2e%2e/%2e%2e/etc/passwd"}},
    ]
    (line,) = unsafe_fields(tasks, "data/relabel/tasks.json")
    assert line.startswith("data/relabel/tasks.json: 5 task field(s) that Label Studio would")
    assert "item 'f'" not in line  # text that starts with a word and a colon is text
    assert "item 'a': data.image is a javascript: URL" in line
    assert "item 'b': data.image is a path out of its folder (..)" in line
    assert "item 'c': data.image is a data: URL" in line and "item 'd'" not in line
    assert unsafe_fields(tasks[3:4], "tasks.json") == []
