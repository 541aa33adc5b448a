"""Messy deliveries through the prepare command: exit status 2, one message naming the file, the
record and the reason in lines under 100 columns, and never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from stages.cli import main
from tests.conftest import PROJECT_ROOT
from tests.helpers import DEMO_PARAMS, error_message

GOOD_ITEMS = "item_id,x\ni1,1\ni2,2\n"


def run_prepare(
    tmp_path: Path, files: dict[str, bytes], items: str = GOOD_ITEMS, exist_ok: bool = False
):
    raw = tmp_path / "raw"
    (raw / "annotations").mkdir(parents=True, exist_ok=exist_ok)
    (raw / "items.csv").write_text(items)
    for name, content in files.items():
        (raw / "annotations" / name).write_bytes(content)
    params = yaml.safe_load(DEMO_PARAMS.read_text())
    params["data"]["labels"] = ["cat", "dog"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    args = ["prepare", "--raw", str(raw), "--out", str(tmp_path / "prepared"),
            "--report", str(tmp_path / "prepare.json"), "--metrics", str(tmp_path / "metrics.json"),
            "--params", str(tmp_path / "params.yaml")]  # fmt: skip
    return CliRunner().invoke(main, args)


@pytest.mark.parametrize(
    ("gold", "message"),
    [
        (
            "item_id,label\ni1,cat\ni2,\n",
            "gold.csv: line 3: empty label: give one, or remove the row",
        ),
        (
            "item_id,label\n\n ,cat\n",
            "gold.csv: line 3: empty item_id: give one, or remove the row",
        ),
        (
            "item_id,label\ni1,c\x07at\n",
            "gold.csv: line 2: label 'c\\x07at' holds '\\x07', a control character or broken text "
            "that no page or task can show: remove it",
        ),
    ],
)
def test_an_empty_cell_in_the_gold_file_is_named_at_prepare(tmp_path, gold, message):
    """As an empty label in a judgment is: at prepare, by its line (not later, at validate)."""
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "gold.csv").write_text(gold)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(message)


def test_a_gold_row_given_twice_is_counted_once_and_said(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "gold.csv").write_text("item_id,label\ni1,cat\ni1,Cat\n i1,cat\ni2,dog\n")
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "prepare.json").read_text())
    assert report["gold"] == 2
    assert [w for w in report["warnings"] if "2 gold row(s) repeat an item and label" in w]


def test_a_split_no_item_fell_into_is_warned_about_at_prepare(tmp_path):
    one_item = "item_id,x\ni2,2\n"  # in the train split with the template's salt
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni2,a,cat\n"}, one_item)
    assert result.exit_code == 0, result.output
    message = " ".join(result.output.split())
    assert "warning: no item fell in the test split (1 item, prepare.test_size 0.2): " \
        "evaluate needs some; add items or change prepare.test_size" in message  # fmt: skip
    assert (
        "no item fell in the test split"
        in json.loads((tmp_path / "prepare.json").read_text())["warnings"][0]
    )


def _task(annotations, task_id=1):
    return {"id": task_id, "data": {"item_id": "i1"}, "annotations": annotations}


def _annotation(user=7, choice="cat"):
    return {
        "completed_by": user,
        "result": [{"type": "choices", "value": {"choices": [choice]}, "from_name": "c"}],
    }


CASES = [
    (
        "truncated JSON",
        {"b.json": b'[{"id": 1, "data": {"item_id": "i1"}, "annotations": [{"resu'},
        "b.json: line 1: invalid JSON (a string opens at column 56 and never closes): the text ends",
    ),
    (
        "an Excel workbook",
        {"b.xlsx": b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml"},
        "b.xlsx: a zip file (an Excel workbook is one), not an export: export the batch as JSON",
    ),
    (
        "a gzipped export",
        {"b.csv.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00"},
        "b.csv.gz: a gzip file, not an export",
    ),
    (
        "a spreadsheet's empty rows at the end",
        {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n,,\n,,\n"},
        "a.csv: line 3: an empty row (a spreadsheet's, at the end?): delete it",
    ),
    (
        "JSON missing a comma",
        {"b.json": b'[{"id": 1 "data": {}}]'},
        "b.json: line 1: invalid JSON (Expecting ',' delimiter at column 11)",
    ),
    (
        "object, not an array",
        {"b.json": json.dumps({"id": 1, "data": {}}).encode()},
        "b.json: line 1: unrecognised annotation format",
    ),
    (
        "task without annotations",
        {"b.json": json.dumps([{"id": 9, "data": {}}]).encode()},
        "b.json: task 9: task has no 'annotations' array",
    ),
    (
        "missing annotator",
        {"b.json": json.dumps([_task([_annotation(user=None)])]).encode()},
        "b.json: task 1: missing or invalid annotator id",
    ),
    (
        "two choices",
        {
            "b.json": json.dumps(
                [
                    _task(
                        [
                            {
                                "completed_by": 7,
                                "result": [
                                    {"type": "choices", "value": {"choices": ["cat", "dog"]}}
                                ],
                            }
                        ]
                    )
                ]
            ).encode()
        },
        "b.json: task 1: expected exactly one choice, got ['cat', 'dog']; a judgment is one label",
    ),
    (
        "missing column",
        {"a.csv": b"item_id,label\ni1,cat\n"},
        "a.csv: header: missing required column(s): annotator_id",
    ),
    (
        "non-UTF-8 bytes",
        {"a.csv": b"item_id,annotator_id,label\ni1,\xff\xfe,cat\n"},
        "a.csv: line 2: not UTF-8 text (byte 0xff): save it as UTF-8",
    ),
    (
        "empty label",
        {"a.csv": b"item_id,annotator_id,label\ni1,ann,\n"},
        "a.csv: line 2: empty label",
    ),
    (
        "NaN label",
        {"a.csv": b"item_id,annotator_id,label\ni1,ann,NaN\ni2,bo, \n"},
        "a.csv: line 3: empty label",
    ),
    ("empty file", {"a.csv": b""}, "a.csv: empty file"),
    (
        "broken timestamp",
        {"a.csv": b"item_id,annotator_id,label,created_at\ni1,a,cat,last tuesday\n"},
        "a.csv: line 2: unreadable created_at",
    ),
    (  # pandas would make item_id the index and shift every column left, silently
        "one extra field on every row",
        {"a.csv": b"item_id,annotator_id,label\ni1,ann,dog,looks fine\ni2,bo,cat,ok\n"},
        "a.csv: line 2: 4 field(s) where the header has 3",
    ),
    (
        "one extra field on a later row",
        {"a.csv": b"item_id,annotator_id,label\ni1,ann,dog\ni2,bo,cat,extra\n"},
        "a.csv: line 3: 4 field(s) where the header has 3",
    ),
    (  # found by tests/test_stage_entries.py: Python's csv module refused a bare CR
        "a NUL and a carriage return",
        {"a.csv": b"\x00\r\x00"},
        "a.csv: line 1: unrecognised annotation format",
    ),
    (  # passed every stage, then aborted evaluate inside vl-convert (exit 134)
        "a control character in an annotator id",
        {"a.csv": b"item_id,annotator_id,label\ni1,ann,cat\ni2,b\x01o,dog\n"},
        "a.csv: line 3: annotator id 'b\\x01o' holds '\\x01', a control character",
    ),
    (
        "a lone surrogate in a label",
        {
            "a.jsonl": b'{"item_id": "i1", "_annotator_id": "ann", "answer": "accept", '
            b'"accept": ["\\ud800"], "options": [{"id": "\\ud800"}]}\n'
        },
        "a.jsonl: line 1: label '\\ud800' holds '\\ud800', a control character",
    ),
    (  # Python keeps the byte as a surrogate, which the Parquet writer refused (exit 1)
        "a file name that is not UTF-8",
        {"b\udce9.csv": b"item_id,annotator_id,label\ni1,ann,cat\n"},
        "'b\\udce9.csv': a name that is not UTF-8 (from another system?): rename it",
    ),
    # JSON null and true had become the labels 'None' and 'True', and Infinity the id 'inf'
    (
        "a Label Studio choice that is null",
        {
            "b.json": json.dumps(
                [{"id": 1, "data": {"item_id": "i1"}, "annotations": [_annotation(7, None)]}]
            ).encode()
        },
        "b.json: task 1: missing or invalid choice: None; give one, or remove the record",
    ),
    (
        "a Prodigy label that is true",
        {
            "a.jsonl": b'{"item_id": "i1", "_annotator_id": "ann", "answer": "accept", "label": true}\n'
        },
        "a.jsonl: line 1: missing or invalid label: True",
    ),
    (
        "an item id that is Infinity",
        {
            "a.jsonl": b'{"item_id": Infinity, "_annotator_id": "ann", "answer": "accept", '
            b'"label": "cat"}\n'
        },
        "a.jsonl: line 1: missing or invalid item id: inf",
    ),
    (  # named no line, where a CSV's bad byte had its line
        "a Latin-1 byte in JSON Lines",
        {
            "a.jsonl": b'{"item_id": "i1", "_annotator_id": "a", "answer": "accept", "label": "cat"}\n'
            b'{"item_id": "i2", "_annotator_id": "a", "answer": "accept", "label": "d\xe9"}\n'
        },
        "a.jsonl: line 2: not UTF-8 text (byte 0xe9): save it as UTF-8",
    ),
    (  # "Invalid control character at at column 24"
        "a tab inside a JSON string",
        {"b.json": b'[{"id": 1,\n "data": {"item_id": "x\ty"}}]'},
        "b.json: line 2: invalid JSON (Invalid control character at column 24)",
    ),
    (  # pandas would keep one of the twins, silently
        "a column named twice",
        {"a.csv": b"item_id,annotator_id,label,label\ni1,ann,dog,cat\n"},
        "a.csv: header: column named more than once: label",
    ),
]


@pytest.mark.parametrize(("case", "files", "message"), CASES, ids=[case[0] for case in CASES])
def test_bad_delivery_exits_2_with_one_message(tmp_path, case, files, message):
    result = run_prepare(tmp_path, files)
    assert result.exit_code == 2, result.output
    first, *rest = result.output.splitlines()
    assert first.startswith("error: ") and all(line.startswith("  ") for line in rest)
    assert message in error_message(result.output)
    assert "Traceback" not in result.output
    assert not (tmp_path / "prepared").exists()


def test_a_linked_folder_of_exports_is_refused_not_skipped(tmp_path):
    """DVC hashes nothing under a link to a folder: its judgments would be read here and be
    missing from every clone (they used to be skipped, exit 0)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "redo.csv").write_text("item_id,annotator_id,label\ni1,bo,dog\n")
    files = {"a.csv": b"item_id,annotator_id,label\ni1,ann,cat\n"}
    (tmp_path / "raw" / "annotations").mkdir(parents=True)
    (tmp_path / "raw" / "annotations" / "round2").symlink_to(elsewhere)
    result = run_prepare(tmp_path, files, exist_ok=True)
    assert result.exit_code == 2, result.output
    assert "round2: a link to a folder, which DVC does not version" in error_message(result.output)


def test_a_folder_whose_name_is_not_utf8_is_named_and_a_hidden_file_is_skipped(tmp_path):
    files = {"a.csv": b"item_id,annotator_id,label\ni1,ann,cat\n", ".b\udce9.csv": b"junk"}
    (tmp_path / "raw" / "annotations" / "round\udcff").mkdir(parents=True)
    (tmp_path / "raw" / "annotations" / "round\udcff" / "c.csv").write_bytes(files["a.csv"])
    result = run_prepare(tmp_path, files, exist_ok=True)
    assert result.exit_code == 2, result.output
    assert "'round\\udcff': a name that is not UTF-8" in error_message(result.output)
    (tmp_path / "raw" / "annotations" / "round\udcff" / "c.csv").unlink()
    (tmp_path / "raw" / "annotations" / "round\udcff").rmdir()
    assert run_prepare(tmp_path, files, exist_ok=True).exit_code == 0  # the hidden file: skipped


@pytest.mark.skipif(
    not (str(PROJECT_ROOT) + sys.prefix).isascii(),
    reason="under LC_ALL=C, Python 3.11 cannot start from a non-ASCII checkout (see Makefile)",
)
def test_a_locale_that_reads_names_as_ascii_is_named_not_a_crash(tmp_path):
    """LC_ALL=C with PYTHONUTF8=0: Python holds the UTF-8 name "équipe" as surrogates, which
    Arrow refused (internal error, exit 1); prepare blamed the name as "not UTF-8"."""
    folder = tmp_path / "équipe"
    folder.mkdir()
    (folder / "a.csv").write_text("item_id,annotator_id,label\ni1,a,cat\n")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"}
    args = ["label-merge", "--annotations", str(folder), "--out", str(tmp_path / "o")]
    command = [sys.executable, "-m", "stages", *args, "--params", str(tmp_path / "none.yaml")]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "run with LC_ALL=C.UTF-8" in " ".join(result.stderr.split()), result.stderr


def test_an_empty_folder_says_what_to_do(tmp_path):
    result = run_prepare(tmp_path, {})
    assert result.exit_code == 2
    assert "no annotation files; add your labeling tool's exports here" in error_message(
        result.output
    )


def test_old_mac_line_endings_are_fine(tmp_path):
    content = b"item_id,annotator_id,label\ri1,ann,cat\ri2,bo,dog\r"
    result = run_prepare(tmp_path, {"a.csv": content})
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "prepare.json").read_text())
    assert report["annotations"] == 2, report


def test_windows_line_endings_bom_quoted_newlines_and_extra_columns_are_fine(tmp_path):
    content = '\ufeffitem_id,annotator_id,label,comment\r\ni1,ann,Cat,"two\r\nlines"\r\ni2,ann, DOG ,x\r\n'
    result = run_prepare(tmp_path, {"a.csv": content.encode()})
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "prepare.json").read_text())
    assert report["annotations"] == 2 and report["skipped_records"] == 0


def test_records_without_a_judgment_are_counted(tmp_path):
    tasks = [_task([_annotation(), {"completed_by": 8, "was_cancelled": True, "result": []}])]
    result = run_prepare(tmp_path, {"b.json": json.dumps(tasks).encode()})
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "prepare.json").read_text())
    assert report["skipped"] == {"b.json: cancelled annotation": 1}


def test_a_broken_items_table(tmp_path):
    result = run_prepare(
        tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"}, items="id,x\n1,2\n"
    )
    assert result.exit_code == 2
    assert "items.csv: header: missing required column(s): item_id (it has 'id', 'x')" in (
        error_message(result.output)
    )


@pytest.mark.parametrize(
    ("items", "message"),
    [  # pandas would pad the short record, index by item_id, or rename the twin "x.1"
        ("item_id,x,y\ni1,1,2\ni2,3\n", "line 3: 2 field(s) where"),
        ("item_id,x\ni1,1,2\ni2,3,4\n", "line 2: 3 field(s) where"),
        ("item_id,x,x\ni1,1,2\n", "header: column named more than once: x"),
        # named by a text editor's line: blank lines, a cell over two lines, blanks first
        ('item_id,x,y\ni1,1,"two\nlines"\n\n  \ni2,3\n', "line 6: 2 field(s) where"),
        ("\n\nitem_id,x,y\ni1,1,2\ni2,3\n", "line 5: 2 field(s) where"),
        ("item_id,x\ni1,1\ni\x1b2,2\n", "line 3: item id 'i\\x1b2' holds '\\x1b', a control"),
    ],
)
def test_a_misshapen_items_table_names_the_record(tmp_path, items, message):
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"}, items)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert f"items.csv: {message}" in error_message(result.output)


@pytest.mark.parametrize(("separator", "named"), [(";", "';'"), ("\t", "tabs")])
def test_a_table_separated_by_other_than_commas_says_so(tmp_path, separator, named):
    """Excel saves 'CSV' with ';' in many locales: the header reads as one long column."""
    items = GOOD_ITEMS.replace(",", separator)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"}, items)
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(
        f"its fields are separated by {named}: save it as CSV with commas"
    )


def test_a_misshapen_gold_table_names_the_record(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "gold.csv").write_text("item_id,label\ni1,cat,dog\n")
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    message = error_message(result.output)
    assert "gold.csv: line 2: 3 field(s) where the header has 2" in message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"item_id,label\ni1,cat\ni2,d\xe9g\n", "gold.csv: line 3: not UTF-8 text (byte 0xe9)"),
        ("item_id,label\ni1,cat\n".encode("utf-16"), "gold.csv: line 1: UTF-16 text"),
    ],
)
def test_a_gold_table_in_another_encoding_names_the_line(tmp_path, content, message):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "gold.csv").write_bytes(content)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    line = error_message(result.output)
    assert message in line and "save" in line


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [("annotations/a.csv", 'item_id,annotator_id,label\ni1,a,"cat\ni2,b,dog\n', 2),
     ("annotations/a.csv", 'item_id,annotator_id,label\ni1,a,cat\ni2,b,"dog\n', 3),
     ("items.csv", 'item_id,x\ni1,"1\ni2,2\n', 2),  # the swallowed rest has the right shape
     ("gold.csv", 'item_id,label\ni1,"cat\n', 2)],
)  # fmt: skip
def test_a_quote_that_never_closes_is_named_by_the_line_it_opens(tmp_path, name, content, line):
    """Readers see one field running to the end of the file: a record too short, or an error
    at its end, neither of which says where to look."""
    (tmp_path / "raw").mkdir()
    files = {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"}
    if name.startswith("annotations/"):
        files = {name.removeprefix("annotations/"): content.encode()}
    elif name == "gold.csv":
        (tmp_path / "raw" / "gold.csv").write_text(content)
    result = run_prepare(tmp_path, files, items=content if name == "items.csv" else GOOD_ITEMS)
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(
        f"{name}: line {line}: a quoted field opens here and never closes: close or remove the quote"
    )


def test_an_alias_table_giving_one_id_to_two_people_names_the_record(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "annotator_aliases.csv").write_text(
        "raw_id,annotator_id\n7,ann@x.org\n7,bo@x.org\n"
    )
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,7,cat\n"})
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert error_message(result.output).endswith(
        "annotator_aliases.csv: line 3: raw id '7' stands for both 'ann@x.org' and 'bo@x.org'"
    )
    assert not (tmp_path / "prepared").exists()


def test_task_data_naming_files_outside_the_project_is_a_warning(tmp_path, monkeypatch):
    """Labels need no media, so such paths are never opened; the delivery still gets a look."""
    monkeypatch.chdir(tmp_path)  # the project root, as for every stage
    images = ["../../etc/passwd", "images/ok.png", "/data/upload/3/x.png", "https://cdn/x.png",
              "file:///home/someone/secret.png", "/etc/shadow"]  # fmt: skip
    tasks = [
        {"id": 10 + n, "data": {"item_id": "i1", "image": image}, "annotations": [_annotation()]}
        for n, image in enumerate(images)
    ]
    result = run_prepare(tmp_path, {"b.json": json.dumps(tasks).encode()})
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.output
    warning = error_message(result.output, prefix="warning: ")
    assert "b.json: task 10: data.image names '../../etc/passwd', a file outside the project" in (
        warning
    )
    assert "(and 2 more records)" in warning
    report = json.loads((tmp_path / "prepare.json").read_text())
    assert report["annotations"] == 6 and len(report["warnings"]) == 1


def test_a_huge_value_in_a_warning_is_capped_in_the_report_too(tmp_path, monkeypatch):
    """prepare.json is kept in Git: a 1 MB task value named in a warning must not land in it."""
    monkeypatch.chdir(tmp_path)
    tasks = [{"id": 1, "data": {"item_id": "i1", "text": "/x" * 500_000},
              "annotations": [_annotation()]}]  # fmt: skip
    result = run_prepare(tmp_path, {"b.json": json.dumps(tasks).encode()})
    assert result.exit_code == 0, result.output
    (warning,) = json.loads((tmp_path / "prepare.json").read_text())["warnings"]
    assert len(warning) <= 2000 and "characters in all" in warning


@pytest.mark.parametrize(
    ("value", "outside"),
    [("images/a.png", False), ("./a/../b.png", False), ("a/../../b.png", True),
     ("/etc/passwd", True), ("~/x.png", True), ("file:///etc/x", True), ("C:\\data\\x.png", True),
     ("s3://bucket/x.png", False), ("/data/local-files/?d=x.png", False), ("red/blue", False)],
)  # fmt: skip
def test_outside_project(tmp_path, value, outside):
    from stages.ingest.formats.common import outside_project

    assert (outside_project(value, tmp_path) is not None) == outside


@pytest.mark.parametrize(
    ("stage", "missing", "run"),
    [("train", "validated/items.parquet", "validate"), ("evaluate", "validated/items.parquet", "validate"),
     ("label-merge", "validated/annotations.parquet", "validate")],
)  # fmt: skip
def test_a_missing_upstream_output_is_one_message_naming_the_stage_to_run(
    tmp_path, stage, missing, run
):
    params = tmp_path / "params.yaml"
    params.write_text('data:\n  labels: ["a", "b"]\n')
    result = CliRunner().invoke(
        main, [stage, "--params", str(params), "--validated", str(tmp_path / "validated")]
    )
    assert result.exit_code == 2, result.output
    line = error_message(result.output)
    assert line.endswith(f"missing; run `dvc repro {run}` first") and missing in line


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04 truncated", bytes(range(256)) * 4],
    ids=["empty", "truncated", "random"],
)
def test_a_broken_model_file_is_one_line(tmp_path, content):
    from stages.core.errors import DataError
    from stages.training import model_io

    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not a model file skops can read"):
        model_io.load(path)


def test_json_nested_too_deep_is_one_message(tmp_path):
    result = run_prepare(tmp_path, {"deep.json": b"[" * 200_000 + b"]" * 200_000})
    assert result.exit_code == 2, result.output
    assert "deep.json: JSON nested too deeply" in error_message(result.output)


def test_a_bug_is_one_line_with_the_trace_on_request(tmp_path, monkeypatch):
    from stages.ingest import items

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(items, "read_items", broken)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "internal error: RuntimeError: boom (STAGES_DEBUG=1 shows the trace; please report it)"
    ]
    monkeypatch.setenv("STAGES_DEBUG", "1")
    (tmp_path / "again").mkdir()
    result = run_prepare(tmp_path / "again", {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert isinstance(result.exception, RuntimeError)


def test_a_huge_value_makes_a_short_line(tmp_path):
    """An alias to a 1 MB label: the error names it, in at most 400 characters and lines under
    100 columns."""
    huge = "x" * 1_000_000
    raw = tmp_path / "raw"
    (raw / "annotations").mkdir(parents=True)
    (raw / "items.csv").write_text(GOOD_ITEMS)
    (raw / "annotations" / "a.csv").write_text("item_id,annotator_id,label\ni1,a,cat\n")
    params = tmp_path / "params.yaml"
    params.write_text(
        yaml.safe_dump({"data": {"labels": ["cat", "dog"], "aliases": {"kitty": huge}}})
    )
    args = ["prepare", "--raw", str(raw), "--out", str(tmp_path / "out"), "--report",
            str(tmp_path / "r.json"), "--metrics", str(tmp_path / "m.json"), "--params", str(params)]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    line = error_message(result.output)
    assert len(result.output) < 500 and "data.aliases.kitty" in line and "characters in all" in line


def test_standalone_gold_outside_the_label_set_is_an_error(tmp_path):
    annotations = tmp_path / "batch.csv"
    annotations.write_text("item_id,annotator_id,label\ni1,a,cat\ni1,b,dog\ni2,a,dog\n")
    gold = tmp_path / "gold.csv"
    gold.write_text("item_id,label\ni1,horse\n")
    args = ["label-merge", "--annotations", str(annotations), "--gold", str(gold), "--labels",
            "cat,dog", "--out", str(tmp_path / "out"), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(
        "gold.csv: item i1: gold label 'horse' is not in the label set (cat, dog)"
    )
    # Without --labels the set is the judgments' own: a typo in the gold is no new class.
    result = CliRunner().invoke(
        main, [arg for arg in args if arg != "cat,dog" and arg != "--labels"]
    )
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(
        "item i1: gold label 'horse' is not in the label set (cat, dog); "
        "a label no annotator chose needs --labels"
    )


def test_standalone_a_judgment_outside_the_given_labels_names_its_file_and_record(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "b.csv").write_text("item_id,annotator_id,label\ni1,a,cat\ni2,b,bird\n")
    args = ["label-merge", "--annotations", str(exports), "--labels", "cat,dog", "--out",
            str(tmp_path / "out"), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(
        "exports/b.csv: item i2, annotator b: label 'bird' is not in --labels (cat, dog); "
        "1 judgment(s) in all: add it there, or map it in data.aliases"
    )


def test_standalone_from_name_picks_the_label_column_of_a_flat_export(tmp_path):
    records = [{"id": i, "item_id": f"i{i}", "lang": "en", "topic": topic, "sentiment": mood,
                "annotator": 1, "annotation_id": i}
               for i, (topic, mood) in enumerate([("a", "pos"), ("b", "neg"), ("a", "neg")])]  # fmt: skip
    (tmp_path / "min.json").write_text(json.dumps(records))
    out = tmp_path / "out"
    args = ["label-merge", "--annotations", str(tmp_path / "min.json"), "--out", str(out),
            "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "read from 'sentiment', guessed among 'lang', 'topic'" in " ".join(result.output.split())
    result = CliRunner().invoke(main, [*args, "--from-name", "topic"])
    assert result.exit_code == 0 and "guessed" not in result.output, result.output
    assert pd.read_csv(out / "labels.csv")["label"].tolist() == ["a", "b", "a"]


def test_standalone_counts_the_records_that_held_no_judgment(tmp_path):
    lines = [{"meta": {"item_id": "i1"}, "label": "SPAM", "answer": answer, "_annotator_id": who}
             for who, answer in (("a", "accept"), ("b", "ignore"), ("c", "ignore"))]  # fmt: skip
    (tmp_path / "db.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = tmp_path / "out"
    args = ["label-merge", "--annotations", str(tmp_path / "db.jsonl"), "--labels", "SPAM,HAM",
            "--out", str(out), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "label-merge: 2 records held no judgment" in result.output
    report = json.loads((out / "label_merge.json").read_text())
    assert report["skipped_records"] == {"db.jsonl: ignored task": 2}


def test_standalone_says_how_many_repeated_judgments_it_replaced(tmp_path):
    """Ids are read without surrounding spaces, so '  i1 ' is i1: the same annotator's two
    judgments of it become one, and the terminal says so (not only label_merge.json)."""
    (tmp_path / "a.csv").write_text(
        "item_id,annotator_id,label\ni1,a,cat\n  i1 ,a,dog\ni1,b,cat\ni2,a,dog\ni2,b,dog\n"
    )
    args = ["label-merge", "--annotations", str(tmp_path / "a.csv"), "--out",
            str(tmp_path / "out"), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "label-merge: 1 repeated judgment (one annotator, one item) replaced by the latest" in (
        result.output
    )
    # No --labels: the set is the judgments' own, and the run shows it (two tools' spellings
    # of one class would otherwise pass unseen as two classes).
    assert "label-merge: labels found in the judgments (no --labels): 'cat', 'dog'" in (
        result.output
    )
    report = json.loads((tmp_path / "out" / "label_merge.json").read_text())
    assert report["replaced_duplicates"] == 1


@pytest.mark.parametrize("labels", [[], ["--labels", "SPAM,HAM"]])
def test_standalone_an_export_without_judgments_is_one_error_not_a_crash(tmp_path, labels):
    lines = [{"meta": {"item_id": f"i{k}"}, "label": "SPAM", "answer": "ignore",
              "_annotator_id": "a"} for k in range(3)]  # fmt: skip
    (tmp_path / "db.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    (tmp_path / "header.csv").write_text("item_id,annotator_id,label\n")
    for export, why in (("db.jsonl", " (3 records skipped, e.g. db.jsonl: ignored task)"),
                        ("header.csv", "")):  # fmt: skip
        args = ["label-merge", "--annotations", str(tmp_path / export), *labels,
                "--out", str(tmp_path / "out"), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert error_message(result.output).endswith(
            f"{export}: no judgments to merge{why}; export again once annotators have "
            "labelled items"
        )
        assert not (tmp_path / "out").exists()


def test_standalone_gold_for_an_item_nobody_judged_is_kept_and_warned_about(tmp_path):
    annotations = tmp_path / "batch.csv"
    annotations.write_text("item_id,annotator_id,label\ni1,a,cat\ni1,b,dog\ni2,a,dog\n")
    gold = tmp_path / "gold.csv"
    gold.write_text("item_id,label\nghost,cat\n")
    out = tmp_path / "out"
    args = ["label-merge", "--annotations", str(annotations), "--gold", str(gold), "--out",
            str(out), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert (
        "1 gold item without judgments (first: 'ghost'), labelled from the gold alone"
        in " ".join(result.output.split())
    )
    labels = pd.read_csv(out / "labels.csv")
    assert labels.set_index("item_id").loc["ghost", "label"] == "cat"


def test_a_folder_where_a_file_goes_and_a_file_where_a_folder_goes_are_bad_input(tmp_path):
    """Paths of the wrong kind are the user's to fix: exit 2 naming the path, not a bug."""
    (tmp_path / "raw" / "gold.csv").mkdir(parents=True)  # a folder named like the gold file
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith("gold.csv: a folder, where a file is expected: "
                                                 "give the file's path")  # fmt: skip
    batch = tmp_path / "batch.csv"
    batch.write_text("item_id,annotator_id,label\ni1,a,cat\n")
    (tmp_path / "taken").write_text("")
    args = ["label-merge", "--annotations", str(batch), "--labels", "cat,dog", "--out",
            str(tmp_path / "taken"), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "taken: exists, and is not a folder: give a folder" in error_message(result.output)
    result = CliRunner().invoke(main, ["params", "--check", "--params", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "a folder, where a file is expected" in error_message(result.output)


@pytest.mark.parametrize(
    ("labels", "problem"),
    [("cat,Cat,dog", "'cat' and 'Cat' are one label"), ("cat,dog, cat", "'cat' is given twice")],
)
def test_standalone_labels_given_twice_name_the_option(tmp_path, labels, problem):
    """A label set from the command line is the command line's fault, not params.yaml's."""
    batch = tmp_path / "batch.csv"
    batch.write_text("item_id,annotator_id,label\ni1,a,cat\ni1,b,dog\n")
    args = ["label-merge", "--annotations", str(batch), "--labels", labels, "--out",
            str(tmp_path / "out"), "--params", str(tmp_path / "none.yaml")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--labels': " + problem in result.output
    assert "give each label once" in result.output and "params.yaml" not in result.output
    assert max(len(line) for line in result.output.splitlines()) < 100
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("stem", ["items", "gold"])
def test_a_table_given_as_both_csv_and_parquet_is_refused(tmp_path, stem):
    """Reading one of two would leave the other out without a word (a newer CSV, say)."""
    (tmp_path / "raw").mkdir()  # run_prepare writes items.csv; gold.csv is written here
    pd.DataFrame({"item_id": ["i1"], "label": ["cat"]}).to_parquet(
        tmp_path / "raw" / f"{stem}.parquet"
    )
    if stem == "gold":
        (tmp_path / "raw" / "gold.csv").write_text("item_id,label\ni1,cat\n")
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    assert error_message(result.output).endswith(
        f"raw: both {stem}.csv and {stem}.parquet: keep one, delete the other"
    )
    assert not (tmp_path / "prepared").exists()


def test_a_file_name_that_drives_the_terminal_is_printed_escaped(tmp_path):
    """A delivered file's name may hold an escape sequence or a bidi override: the message
    shows it as Python writes it, and the terminal never receives it."""
    name = "late\x1b[2K\rFAKE\x1b]0;pwned\x07\u202e.csv"
    result = run_prepare(tmp_path, {name: b"item_id,label\ni1,cat\n"})
    assert result.exit_code == 2, result.output
    shown = "late\\x1b[2K\\rFAKE\\x1b]0;pwned\\x07\\u202e.csv: header: missing"
    assert shown in error_message(result.output)
    assert not any(char in result.output for char in "\x1b\x07\u202e")


def test_a_full_disk_names_the_output_and_says_what_to_do(tmp_path, monkeypatch):
    """Not a bug to report: the machine refused. The message names the output, not the hidden
    temporary file it was being written to."""
    import errno
    import os

    real = os.replace

    def full(source, target):
        if str(target).endswith("items.parquet"):
            raise OSError(errno.ENOSPC, "No space left on device", os.fspath(source))
        return real(source, target)

    monkeypatch.setattr(os, "replace", full)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    message = error_message(result.output)
    assert message.endswith("items.parquet: no space left on the device: free some, then rerun")
    assert ".tmp" not in message and "internal error" not in result.output


def test_ctrl_c_exits_130_with_one_line(tmp_path, monkeypatch):
    import stages.ingest.items as items

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(items, "read_items", interrupted)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 130
    assert result.output.startswith("interrupted: stopped; each output file is whole")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OSError(28, "No space left on device"), "error: no space left on the device"),
        (OSError(27, "File too large", 5), "error: file too large for this system's limit"),
        (MemoryError(), "error: out of memory: free some, or raise the process's limit"),
    ],
)
def test_a_refusal_without_a_path_is_one_line_without_one(tmp_path, monkeypatch, error, message):
    """A write to an open file fails with no file name (or a descriptor's number)."""
    import stages.ingest.items as items

    def refused(*args, **kwargs):
        raise error

    monkeypatch.setattr(items, "read_items", refused)
    result = run_prepare(tmp_path, {"a.csv": b"item_id,annotator_id,label\ni1,a,cat\n"})
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message)
