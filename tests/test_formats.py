"""Every export format in docs of the labeling tools, read into the canonical table."""

import json

import pandas as pd
import pytest

from stages.core.errors import DataError
from stages.ingest.formats import ANNOTATION_COLUMNS, detect_format, read_export, read_exports


def _task(task_id, annotations, data=None):
    return {
        "id": task_id,
        "data": data or {"text": "t", "item_id": f"item-{task_id}"},
        "annotations": annotations,
        "predictions": [],
        "inner_id": task_id,
        "total_annotations": len(annotations),
        "project": 3,
    }


def _annotation(
    user, choice, cancelled=False, ground_truth=False, created="2026-01-02T03:04:05.000000Z"
):
    result = (
        []
        if cancelled
        else [
            {
                "id": "x1",
                "type": "choices",
                "value": {"choices": [choice]},
                "origin": "manual",
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
        "ground_truth": ground_truth,
        "created_at": created,
        "updated_at": created,
        "lead_time": 2.5,
    }


def _read(path, fmt="auto", **options):
    return read_export(path, fmt, options)


def test_label_studio_full_export(tmp_path):
    path = tmp_path / "export.json"
    tasks = [
        _task(
            1,
            [_annotation(7, " Positive "), _annotation({"id": 8, "email": "b@x.org"}, "Negative")],
        ),
        _task(2, [_annotation(7, "Negative", cancelled=True)]),
        _task(3, [_annotation(9, "Positive", ground_truth=True)], data={"text": "no id key"}),
    ]
    path.write_text(json.dumps(tasks))
    assert detect_format(path) == "labelstudio"
    export = _read(path, tool_id_fallback=True)
    table = export.annotations
    assert list(table.columns) == ANNOTATION_COLUMNS
    assert table["item_id"].tolist() == ["item-1", "item-1", "3"]
    assert table["annotator_id"].tolist() == ["7", "b@x.org", "9"]
    assert table["label"].tolist() == ["Positive", "Negative", "Positive"]
    assert (table["source"] == "export.json").all()
    assert str(table["created_at"].dtype) == "datetime64[ms, UTC]"
    assert table["lead_time"].tolist() == [2.5, 2.5, 2.5]  # seconds, as Label Studio records
    assert export.gold.values.tolist() == [["3", "Positive"]]


def test_label_studio_json_min(tmp_path):
    records = [
        {
            "text": "good",
            "item_id": "a",
            "id": 11,
            "sentiment": "Positive",
            "annotator": 3,
            "annotation_id": 101,
            "created_at": "2026-01-02T03:04:05.000000Z",
            "updated_at": "x",
            "lead_time": 3.1,
        },
        {
            "text": "bad",
            "item_id": "b",
            "id": 12,
            "sentiment": {"choices": ["Negative"]},
            "annotator": 4,
            "annotation_id": 102,
            "created_at": "2026-01-02T03:04:06.000000Z",
            "updated_at": "x",
            "lead_time": 1.0,
        },
    ]
    path = tmp_path / "min.json"
    path.write_text(json.dumps(records))
    assert detect_format(path) == "labelstudio-min"
    table = _read(path).annotations
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["a", "3", "Positive"],
        ["b", "4", "Negative"],
    ]
    assert table["lead_time"].tolist() == [3.1, 1.0]


def test_label_studio_csv_quoted_with_json_cells(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        '"annotation_id","annotator","created_at","id","lead_time","sentiment","text","updated_at"\n'
        '101,"ann@x.org","2026-01-02T03:04:05.000000Z",11,3.1,"Positive","good, really","2026-01-02"\n'
        '102,"7","2026-01-02T03:04:06.000000Z",12,1.0,"{""choices"": [""Negative""]}","bad","2026-01-02"\n'
    )
    assert detect_format(path) == "labelstudio-csv"
    table = _read(path, tool_id_fallback=True, labels=["Positive", "Negative"]).annotations
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["11", "ann@x.org", "Positive"],
        ["12", "7", "Negative"],
    ]
    assert table["lead_time"].tolist() == [3.1, 1.0]


def test_label_studio_flat_records_pick_the_control_by_label_set(tmp_path):
    records = [
        {"id": i, "lang": "en", "sentiment": label, "annotator": 1, "annotation_id": i}
        for i, label in enumerate(["pos", "neg", "pos"])
    ]
    path = tmp_path / "min.json"
    path.write_text(json.dumps(records))
    assert _read(path, tool_id_fallback=True, labels=["pos", "neg"]).annotations[
        "label"
    ].tolist() == ["pos", "neg", "pos"]
    assert _read(path, tool_id_fallback=True, from_name="lang").annotations["label"].tolist() == [
        "en",
        "en",
        "en",
    ]
    # Without a label set or from_name: a guess, said so; a column the same on every record
    # (item data such as a language) is not the label.
    guessed = _read(path, tool_id_fallback=True)
    assert guessed.annotations["label"].tolist() == ["pos", "neg", "pos"]
    assert any("the label is read from 'sentiment', guessed among 'lang'" in w
               for w in guessed.warnings)  # fmt: skip
    sure = _read(path, tool_id_fallback=True, labels=["pos", "neg"]).warnings
    assert not [warning for warning in sure if "guessed" in warning]
    # Item data that holds labels too (a model's hint): the likelier key, never in silence.
    hinted = [{**record, "hint": "neg"} for record in records]
    path.write_text(json.dumps(hinted))
    both = _read(path, tool_id_fallback=True, labels=["pos", "neg"])
    assert both.annotations["label"].tolist() == ["neg", "neg", "neg"]  # hint: 3 of 3 fit
    assert any("the label is read from 'hint', guessed among 'sentiment'" in w
               for w in both.warnings)  # fmt: skip


def test_prodigy_binary_and_choice_tasks(tmp_path):
    lines = [
        {
            "text": "a",
            "meta": {"item_id": "i1"},
            "_input_hash": 1,
            "_task_hash": 2,
            "label": "SPAM",
            "answer": "accept",
            "_timestamp": 1767225600,
            "_annotator_id": "news-alice",
            "_session_id": "news-alice",
        },
        {
            "text": "b",
            "meta": {"item_id": "i2"},
            "_input_hash": 3,
            "label": "SPAM",
            "answer": "reject",
            "_timestamp": 1767225601,
            "_annotator_id": "news-bob",
        },
        {
            "text": "c",
            "_input_hash": 5,
            "label": "SPAM",
            "answer": "ignore",
            "_annotator_id": "news-bob",
        },
        {
            "text": "d",
            "_input_hash": 7,
            "options": [{"id": "SPAM", "text": "Spam"}, {"id": "HAM", "text": "Ham"}],
            "accept": ["HAM"],
            "answer": "accept",
            "_timestamp": 1767225602,
            "_annotator_id": "news-carol",
        },
    ]
    path = tmp_path / "db-out.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert detect_format(path) == "prodigy"
    table = _read(path, tool_id_fallback=True, labels=["SPAM", "HAM"]).annotations
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["i1", "news-alice", "SPAM"],
        ["i2", "news-bob", "HAM"],
        ["7", "news-carol", "HAM"],
    ]
    assert table["created_at"].iloc[0] == pd.Timestamp("2026-01-01T00:00:00Z")
    empty = tmp_path / "empty-accept.jsonl"  # Prodigy lets an annotator accept no option
    empty.write_text(json.dumps({**lines[3], "accept": []}) + "\n" + json.dumps(lines[0]) + "\n")
    export = _read(empty, labels=["SPAM", "HAM"])
    assert len(export.annotations) == 1
    assert export.skipped == {"choice task accepted with no option": 1}
    with pytest.raises(DataError, match="reject_label"):
        _read(path, tool_id_fallback=True, labels=["SPAM", "HAM", "OTHER"])
    assert (
        _read(path, tool_id_fallback=True, labels=["SPAM", "HAM", "OTHER"], reject_label="HAM")
        .annotations["label"]
        .tolist()[1]
        == "HAM"
    )


def _worker_responses(root, objects):
    for index, answers in objects:
        folder = root / "worker-response" / "iteration-1" / index
        folder.mkdir(parents=True)
        document = {
            "answers": [
                {
                    "workerId": worker,
                    "answerContent": {"crowd-image-classifier": {"label": label}},
                    "submissionTime": "2026-03-01T10:00:00.000Z",
                    "timeSpentInSeconds": 4.2,
                }
                for worker, label in answers
            ]
        }
        (folder / "2026-03-01_10:00:00.json").write_text(json.dumps(document))


def test_sagemaker_worker_responses_in_a_folder(tmp_path):
    root = tmp_path / "annotations"
    _worker_responses(root, [("0", [("w1", "dog"), ("w2", "cat")]), ("1", [("w1", "cat")])])
    # The job's own consolidation outputs, beside worker-response/: not judgments, not read.
    consolidated = root / "consolidated-annotation" / "consolidation-request" / "iteration-1"
    consolidated.mkdir(parents=True)
    (consolidated / "2026-03-01_10:06:00.json").write_text('[{"datasetObjectId": "0"}]')
    (root / "intermediate" / "1").mkdir(parents=True)
    (root / "intermediate" / "1" / "annotations.manifest").write_text('{"source-ref": "x"}\n')
    assert detect_format(next(root.rglob("2026-03-01_10:00:00.json"))) == "sagemaker"
    export = read_exports(root)
    table = export.annotations
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["0", "w1", "dog"],
        ["0", "w2", "cat"],
        ["1", "w1", "cat"],
    ]
    assert table["lead_time"].tolist() == [4.2, 4.2, 4.2]  # timeSpentInSeconds
    # One batch per job and iteration, not one per object's file.
    assert set(table["source"]) == {"worker-response/iteration-1"}
    assert export.formats == {"worker-response/iteration-1": "sagemaker"} and not export.warnings


def test_a_whole_sagemaker_job_folder_is_read_for_its_worker_responses_only(tmp_path):
    """`aws s3 sync` of a job's output folder brings its manifests and the rest along."""
    job = tmp_path / "annotations" / "digits-job"
    _worker_responses(job / "annotations", [("0", [("w1", "dog")])])
    manifests = job / "manifests" / "output"
    manifests.mkdir(parents=True)
    (manifests / "output.manifest").write_text('{"source-ref": "s3://b/0.png", "label": 1}\n')
    (job / "annotation-tool").mkdir()
    (job / "annotation-tool" / "data.json").write_text('{"document-version": "2018-11-28"}')
    export = read_exports(tmp_path / "annotations")
    assert export.annotations[["item_id", "label"]].values.tolist() == [["0", "dog"]]
    assert set(export.formats) == {"digits-job/annotations/worker-response/iteration-1"}


def test_a_sagemaker_job_copied_to_the_top_hides_no_other_export(tmp_path):
    """The job's annotations/ folder straight under the exports: the team's other folders
    beside it were taken for the job's own (manifests and the like) and skipped in silence."""
    root = tmp_path / "annotations"
    _worker_responses(root / "annotations", [("0", [("w1", "dog")])])
    (root / "manifests").mkdir()
    (root / "manifests" / "output.manifest").write_text('{"source-ref": "x", "label": 1}\n')
    (root / "inhouse" / "2024-10").mkdir(parents=True)
    (root / "inhouse" / "2024-10" / "week-41.csv").write_text(
        "item_id,annotator_id,label\n1,a,cat\n"
    )
    export = read_exports(root)
    assert sorted(export.annotations["source"]) == [
        "annotations/worker-response/iteration-1",
        "inhouse/2024-10/week-41.csv",
    ]


def test_two_sagemaker_jobs_naming_the_same_object_index_are_warned_about(tmp_path):
    """An index names an object of its job's manifest only: two weekly jobs both have an
    object 0, which may be two different items."""
    root = tmp_path / "annotations"
    _worker_responses(root / "job-week1", [("0", [("w1", "dog")]), ("1", [("w1", "cat")])])
    _worker_responses(root / "job-week2", [("0", [("w1", "cat")])])
    export = read_exports(root)
    assert sorted(set(export.annotations["source"])) == [
        "job-week1/worker-response/iteration-1",
        "job-week2/worker-response/iteration-1",
    ]
    (warning,) = export.warnings
    assert warning.startswith("1 object index(es) (first: '0') appear in several SageMaker jobs")


def test_a_label_studio_csv_with_item_id_and_a_control_named_label_is_label_studio(tmp_path):
    """The relabel tasks made without a config (data key item_id, control "label"), exported
    back as CSV, were read as a long table missing annotator_id."""
    path = tmp_path / "export.csv"
    path.write_text("annotation_id,annotator,created_at,id,item_id,label,lead_time,updated_at\n"
                    "7,3,2026-01-02T03:04:05Z,1,digit-0001,Cat,2.5,2026-01-02T03:04:05Z\n")  # fmt: skip
    assert detect_format(path) == "labelstudio-csv"
    table = _read(path).annotations
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["digit-0001", "3", "Cat"]
    ]


def test_long_csv_with_bom_and_extra_columns(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_bytes(
        "\ufeffitem_id,annotator_id,label,lead_time\r\ni1,a,cat,1.0\r\ni2,b,dog,2.0\r\n".encode()
    )
    assert detect_format(path) == "long"
    table = _read(path).annotations
    assert table[["item_id", "annotator_id", "label"]].values.tolist() == [
        ["i1", "a", "cat"],
        ["i2", "b", "dog"],
    ]
    assert table["created_at"].isna().all()
    assert table["lead_time"].tolist() == [1.0, 2.0]


def test_long_parquet(tmp_path):
    path = tmp_path / "batch.parquet"
    pd.DataFrame({"item_id": ["i1"], "annotator_id": [3], "label": ["cat"]}).to_parquet(path)
    assert _read(path).annotations["annotator_id"].tolist() == ["3"]
    assert _read(path).annotations["lead_time"].isna().all()  # not recorded: missing


def test_many_files_merge_and_format_can_be_forced(tmp_path):
    (tmp_path / "a.csv").write_text("item_id,annotator_id,label\ni1,a,cat\n")
    (tmp_path / "b.txt").write_text("item_id,annotator_id,label\ni2,b,dog\n")
    (tmp_path / ".hidden").write_text("junk")
    export = read_exports(tmp_path, "long")
    assert export.annotations["source"].tolist() == ["a.csv", "b.txt"]


@pytest.mark.parametrize(
    ("content", "record", "reason"),
    [
        ("", None, "empty file"),
        ('[{"id": 1, ', "line 1", "invalid JSON"),
        ('[{"id": 1, "data": {}}]', "task 1", "no 'annotations' array"),
        ('{"id": 1}', "line 1", "unrecognised annotation format"),
        ("a,b,c\n1,2,3\n", "line 1", "unrecognised annotation format"),
        ("item_id,annotator_id,label\ni1,a,cat\ni2,,dog\n", "line 3", "empty annotator_id"),
        (
            "item_id,annotator_id,label,created_at\ni1,a,cat,yesterday\n",
            "line 2",
            "unreadable created_at",
        ),
        ('{"answer": "maybe", "label": "x"}\n', "line 1", "accept, reject or ignore"),
        (  # unix seconds beyond what a timestamp holds (year 2262)
            '{"answer": "accept", "label": "x", "_timestamp": 1e20, "_annotator_id": "a", '
            '"item_id": "i1"}\n',
            "line 1",
            "unreadable created_at 1e+20",  # not np.float64(...)
        ),
    ],
)
def test_bad_exports_name_file_record_and_reason(tmp_path, content, record, reason):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError) as caught:
        _read(path)
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
        _read(path)
    assert _read(path, from_name="topic").annotations["label"].tolist() == ["x"]


def test_a_from_name_no_control_has_is_an_error_not_every_judgment_skipped(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([_task(1, [_annotation(1, "Positive")]),
                                _task(2, [_annotation(2, "Negative", cancelled=True)])]))  # fmt: skip
    with pytest.raises(DataError) as caught:
        _read(path, from_name="sentimnet")
    assert caught.value.reason == (
        "no choice control named 'sentimnet' (data.annotations.from_name); its choices come "
        "from 'sentiment'"
    )
    assert _read(path, from_name="sentiment").annotations["label"].tolist() == ["Positive"]
    nothing = tmp_path / "cancelled.json"  # no choices at all: nothing to blame the name for
    nothing.write_text(json.dumps([_task(2, [_annotation(2, "Negative", cancelled=True)])]))
    assert _read(nothing, from_name="sentimnet").annotations.empty
    cancelled = _annotation(2, "Negative")  # the control's only results were cancelled
    cancelled["was_cancelled"] = True
    nothing.write_text(json.dumps([_task(2, [cancelled])]))
    assert _read(nothing, from_name="sentiment").annotations.empty


def test_a_task_without_an_annotation_is_counted_and_a_bare_csv_header_holds_no_judgment(tmp_path):
    """Predictions or drafts only: no judgment, counted as every skipped record is. A Label
    Studio CSV with a header alone is no error, as a long table's is not."""
    path = tmp_path / "export.json"
    predicted = {**_task(2, []), "predictions": [{"result": []}], "drafts": [{"result": []}]}
    path.write_text(json.dumps([_task(1, [_annotation(1, "Positive")]), predicted]))
    export = _read(path)
    assert export.annotations["label"].tolist() == ["Positive"]
    assert export.skipped == {"task without an annotation": 1}
    header = tmp_path / "empty.csv"
    header.write_text("annotation_id,annotator,created_at,id,sentiment,text\n")
    assert _read(header, "labelstudio-csv").annotations.empty


def test_label_studio_object_instead_of_array(tmp_path):
    path = tmp_path / "object.json"
    path.write_text(json.dumps({"id": 1}))
    with pytest.raises(DataError):
        _read(path, "labelstudio")


def test_a_parquet_long_table_counts_rows_from_one(tmp_path):
    import pandas as pd

    from stages.core.errors import DataError
    from stages.ingest.formats import read_export

    path = tmp_path / "batch.parquet"
    pd.DataFrame(
        {"item_id": ["i1", ""], "annotator_id": ["a", "b"], "label": ["x", "y"]}
    ).to_parquet(path)
    with pytest.raises(DataError, match="row 2: empty item_id"):
        read_export(path, "long", {"labels": ["x", "y"]})


def test_a_record_without_the_item_key_is_an_error_unless_the_tool_id_is_asked_for(tmp_path):
    """Label Studio task ids (and Prodigy input hashes) may be other items' ids: falling back to
    them silently attached judgments to the wrong items."""
    path = tmp_path / "export.json"
    task = {"id": 2, "data": {"text": "no id key"}, "annotations": [_annotation(7, "Positive")]}
    path.write_text(json.dumps([task]))
    with pytest.raises(DataError, match=r"task 2: no 'item_id' \(data\.annotations\.item_key\)"):
        _read(path)
    export = _read(path, tool_id_fallback=True)
    assert export.annotations["item_id"].tolist() == ["2"]
    assert "1 record(s) without an item id (first: task 2)" in export.warnings[0]


def test_an_export_with_no_judgments_is_warned_about(tmp_path):
    from stages.ingest.formats import read_exports

    (tmp_path / "empty.json").write_text("[]")
    (tmp_path / "header.csv").write_text("item_id,annotator_id,label\n")
    # Truncated before its newline: Arrow could not skip the header ("malformed CSV"), and the
    # process sometimes hung at exit on Arrow's threads after printing the error.
    (tmp_path / "header_cut.csv").write_text("item_id,annotator_id,label")
    (tmp_path / "one.csv").write_text("item_id,annotator_id,label\ni1,a,cat\n")
    export = read_exports(tmp_path)
    assert len(export.annotations) == 1
    assert [w for w in export.warnings if "no judgments" in w] == [
        "empty.json: no judgments in this file",
        "header.csv: no judgments in this file",
        "header_cut.csv: no judgments in this file",
    ]


def test_a_link_to_a_missing_file_is_named_not_skipped(tmp_path):
    (tmp_path / "one.csv").write_text("item_id,annotator_id,label\ni1,a,cat\n")
    (tmp_path / "gone.csv").symlink_to(tmp_path / "moved-away.csv")
    with pytest.raises(
        DataError, match=r"gone.csv: a link to .*moved-away.csv, which does not exist"
    ):
        read_exports(tmp_path)


@pytest.mark.parametrize(
    ("cell", "record"),
    [("-3", "line 3"), ("fast", "line 3"), ("inf", "line 3"), ("nan", "line 3")],
)
def test_a_lead_time_that_is_not_seconds_is_an_error(tmp_path, cell, record):
    """Seconds spent: a number, 0 or more; an empty cell is a judgment without a time."""
    path = tmp_path / "batch.csv"
    path.write_text(f"item_id,annotator_id,label,lead_time\ni1,a,cat,\ni2,b,dog,{cell}\n")
    with pytest.raises(DataError) as caught:
        _read(path)
    assert caught.value.detail() == (
        f"{record}: lead_time {cell!r}: give the seconds spent (0 or more), or leave it out"
    )


LONG_HEADER = "item_id,annotator_id,label\n"
LS_HEADER = '"annotation_id","annotator","id","sentiment","text"\n'


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (LONG_HEADER + "i1,a,cat\n\n   \ni2,,dog\n", 5),  # blank lines: pandas skips them
        (LONG_HEADER + 'i1,a,"cat\nstill cat"\ni2,,dog\n', 4),  # a cell spans two lines
        ("\n" + LONG_HEADER + "i1,a,cat\r\n\r\ni2,,dog\r\n", 5),
        (LS_HEADER + '1,a,1,Positive,"two\nlines"\n\n2,,2,Negative,x\n', 5),
    ],
)
def test_a_bad_row_is_named_by_the_line_it_starts_on(tmp_path, content, line):
    """A text editor's line number, whatever blank lines or multi-line cells come before."""
    path = tmp_path / "batch.csv"
    path.write_bytes(content.encode())
    with pytest.raises(DataError) as caught:
        _read(path, tool_id_fallback=True)
    assert caught.value.record == f"line {line}"
    assert "empty annotator" in caught.value.reason


def test_a_lead_time_of_the_wrong_type_in_json_names_its_task(tmp_path):
    path = tmp_path / "export.json"
    annotation = {**_annotation(7, "Positive"), "lead_time": True}
    path.write_text(json.dumps([_task(1, [annotation])]))
    with pytest.raises(DataError) as caught:
        _read(path)
    assert caught.value.detail().endswith(": lead_time True: give the seconds spent (0 or more), "
                                          "or leave it out")  # fmt: skip


def test_lead_time_from_parquet_and_json_of_every_kind(tmp_path):
    """Seconds as a table or a tool gives them: numbers of any width, decimals, a duration
    column; a value that is no number of seconds is refused by its record, never coerced."""
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    base = {"item_id": ["i1", "i2"], "annotator_id": ["a", "b"], "label": ["cat", "dog"]}
    good = {
        "ints": pa.array([3, None], pa.int64()),
        "decimals": pa.array([decimal.Decimal("1.50"), decimal.Decimal("2")], pa.decimal128(5, 2)),
        "durations": pa.array([1500, 2000], pa.duration("ms")),
    }
    expected = {"ints": [3.0, None], "decimals": [1.5, 2.0], "durations": [1.5, 2.0]}
    for name, column in good.items():
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({**base, "lead_time": column}), path)
        seconds = _read(path).annotations["lead_time"]
        assert [None if v != v else v for v in seconds.tolist()] == expected[name], name
    stamps = tmp_path / "stamps.parquet"
    pq.write_table(pa.table({**base, "lead_time": pa.array([0, 1], pa.timestamp("s"))}), stamps)
    with pytest.raises(DataError, match="row 1: lead_time 1970-01-01"):
        _read(stamps)
    huge = tmp_path / "min.json"
    record = {"id": 1, "item_id": "i", "text": "x", "sentiment": "Positive", "annotator": 3}
    huge.write_text(
        json.dumps([{**record, "lead_time": 2}, {**record, "id": 2, "lead_time": 10**400}])
    )
    with pytest.raises(DataError) as caught:
        _read(huge)
    assert caught.value.detail().startswith("task 2: lead_time 1000000")  # not an OverflowError
    assert "…: give the seconds spent" in caught.value.detail()  # 401 digits cut short


def test_label_studio_two_results_of_one_control_are_an_error_not_a_pick(tmp_path):
    annotation = _annotation(1, "Positive")
    annotation["result"].append(dict(annotation["result"][0], value={"choices": ["Negative"]}))
    path = tmp_path / "two.json"
    path.write_text(json.dumps([_task(1, [annotation])]))
    with pytest.raises(DataError, match="2 results from the choice control") as caught:
        _read(path)
    assert "Positive" in caught.value.reason and "Negative" in caught.value.reason
    same = _annotation(1, "Positive")
    same["result"].append(dict(same["result"][0]))  # the same choice twice: one judgment
    path.write_text(json.dumps([_task(1, [same])]))
    assert _read(path).annotations["label"].tolist() == ["Positive"]


def test_a_folder_that_cannot_be_listed_stops_the_stage_instead_of_losing_its_files(
    tmp_path, monkeypatch
):
    """Globbing skips a folder it may not read, and its judgments were gone with exit 0 (a
    probe without root's override lost one batch of four). Root reads anything, so the
    refusal is played by os.scandir."""
    import os

    (tmp_path / "a.csv").write_text("item_id,annotator_id,label\ni1,a,cat\n")
    late = tmp_path / "late"
    late.mkdir()
    (late / "b.csv").write_text("item_id,annotator_id,label\ni2,b,dog\n")
    real = os.scandir

    def scandir(folder="."):
        if os.fspath(folder) == str(late):
            raise PermissionError(13, "Permission denied", os.fspath(folder))
        return real(folder)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DataError) as caught:
        read_exports(tmp_path, "long")
    assert caught.value.path == str(late)
    assert "cannot be read (Permission denied): give read access" in caught.value.reason


def test_prodigy_text_may_hold_unicode_line_separators(tmp_path):
    """JSON Lines ends a line at "\\n" only: U+2028, U+2029 and NEL are text inside a string."""
    task = {"text": "a\u2028b\x85c\u2029", "meta": {"item_id": "i1"}, "label": "SPAM",
            "answer": "accept", "_annotator_id": "alice"}  # fmt: skip
    path = tmp_path / "db-out.jsonl"
    path.write_text(json.dumps(task, ensure_ascii=False) + "\r\n", encoding="utf-8")
    table = _read(path, labels=["SPAM", "HAM"]).annotations
    assert table["item_id"].tolist() == ["i1"] and table["label"].tolist() == ["SPAM"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("db.jsonl", '{"answer": "accept", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
         "line 1: JSON nested too deeply to be a task"),
        ("db.jsonl", '{"answer": "accept", "x": 1' + "0" * 5000 + "}\n",
         "line 1: unreadable JSON (Exceeds the limit (4300 digits)"),
        ("export.csv", '"annotation_id","annotator","id","sentiment"\n101,"7",11,"{""choices"": '
         + "[" * 100_000 + "]" * 100_000 + '}"\n', "line 2: unreadable choice cell"),
    ],
)  # fmt: skip
def test_hostile_json_lines_are_bad_input_naming_the_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError) as raised:
        _read(path, labels=["SPAM", "HAM"], from_name="sentiment", tool_id_fallback=True)
    assert message in str(raised.value)


def test_an_id_a_tool_wrote_as_a_whole_float_keeps_its_integer_spelling(tmp_path):
    """JSON has one number type: a task whose item id is 3.0 names item "3", as 3 does."""
    path = tmp_path / "export.json"
    tasks = [_task(1, [_annotation(7, "Positive")], data={"text": "t", "item_id": 3.0}),
             _task(2, [_annotation(7, "Negative")], data={"text": "t", "item_id": 3.5})]  # fmt: skip
    path.write_text(json.dumps(tasks))
    table = _read(path, labels=["Positive", "Negative"]).annotations
    assert table["item_id"].tolist() == ["3", "3.5"]


# A few bytes of each format, as its files begin: a new format must add one (the test says so).
FIRST_BYTES = {
    "labelstudio": b'[{"id": 1, "annotations": [], "data": {"item_id": "a"}}]',
    "labelstudio-min": b'[{"id": 1, "item_id": "a", "annotator": 3, "sentiment": "x"}]',
    "labelstudio-csv": b"item_id,sentiment,annotator,annotation_id\n",
    "prodigy": b'{"text": "x", "_input_hash": 1, "answer": "accept"}\n',
    "sagemaker": b'{"answers": [{"answerContent": {}, "workerId": "w"}]}',
    "long": b"item_id,annotator_id,label\n",
}


def test_every_format_is_detected(tmp_path):
    """`format: auto` is how a delivery mixing tools is read: a reader that detect_format does
    not recognise is refused in every such delivery."""
    from stages.ingest.formats import FORMATS

    assert set(FIRST_BYTES) == set(FORMATS), "add a sample of the new format to FIRST_BYTES"
    for fmt, head in FIRST_BYTES.items():
        path = tmp_path / f"{fmt}.export"
        path.write_bytes(head)
        assert detect_format(path) == fmt
