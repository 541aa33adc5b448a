"""The default suite (expectations/default.yaml): each expectation fails on data that breaks it.

Each case runs the validate command on prepared tables that violate one expectation and checks
the exit status, the one-line message, and that nothing was written for the later stages.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from stages.cli import main
from stages.gate.suites import load_suite
from tests.conftest import LABELS, annotations_frame
from tests.helpers import DEMO_SUITE

DEFAULT_SUITE = DEMO_SUITE  # the template's, whatever a team made of its own


def valid_tables() -> dict[str, pd.DataFrame]:
    """30 items, 3 judgments each from 3 annotators (90 rows), every label 30 times, 2 gold."""
    ids = [f"i{n:02d}" for n in range(30)]
    items = pd.DataFrame({"item_id": pd.array(ids, dtype="string"), "x": range(30)})
    items["split"] = pd.array(
        ["test" if n % 5 == 0 else "train" for n in range(30)], dtype="string"
    )
    rows = [
        (item, annotator, LABELS[n % 3])
        for n, item in enumerate(ids)
        for annotator in ("a", "b", "c")
    ]
    gold = pd.DataFrame({"item_id": ["i00", "i01"], "label": ["cat", "dog"]}).astype("string")
    return {"items": items, "annotations": annotations_frame(rows), "gold": gold}


def run_validate(
    tmp_path: Path, tables: dict[str, pd.DataFrame], suite: Path = DEFAULT_SUITE, docs: bool = False
) -> object:
    prepared = tmp_path / "prepared"
    prepared.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(prepared / f"{name}.parquet", index=False)
    params = {"data": {"labels": LABELS}, "validate": {"suite": str(suite)}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    args = ["validate", "--prepared", str(prepared), "--validated", str(tmp_path / "validated"),
            "--quarantine", str(tmp_path / "quarantine"), "--reports", str(tmp_path / "reports"),
            "--metrics", str(tmp_path / "metrics.json"), "--params", str(tmp_path / "params.yaml")]  # fmt: skip
    return CliRunner().invoke(main, args if docs else [*args, "--no-docs"])


def _set(table: str, column: str, row: int, value: object):
    def mutate(tables):
        frame = tables[table].copy()
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        frame[column] = frame[column].astype("string")
        tables[table] = frame
        return tables

    return mutate


def _drop_column(table: str, column: str):
    return lambda tables: {**tables, table: tables[table].drop(columns=column)}


def _head(table: str, rows: int):
    return lambda tables: {**tables, table: tables[table].iloc[:rows]}


def _replace_labels(old: str, new: str):
    def mutate(tables):
        frame = tables["annotations"].copy()
        frame["label"] = frame["label"].replace(old, new)
        return {**tables, "annotations": frame}

    return mutate


def _duplicate_judgment(tables):
    frame = tables["annotations"]
    return {**tables, "annotations": pd.concat([frame, frame.iloc[[0]]], ignore_index=True)}


def _few_judgments(tables):
    frame = tables["annotations"]
    keep = ~((frame["annotator_id"] == "c") & (frame.index < 60))  # 20 of 30 items get 2 judgments
    return {**tables, "annotations": frame[keep].reset_index(drop=True)}


def _numeric_ids(tables):
    return {**tables, "items": tables["items"].assign(item_id=range(30))}


def _with_text(length: int):
    return lambda tables: {
        **tables,
        "items": tables["items"].assign(
            text=pd.array(["ok"] * 29 + ["x" * length], dtype="string")
        ),
    }


# (case, mutation, table, expectation name, an example value expected in the message)
VIOLATIONS = [
    ("few items", _head("items", 5), "items", "row_count", None),
    ("no item_id", _drop_column("items", "item_id"), "items", "item_id_exists", None),
    ("no split", _drop_column("items", "split"), "items", "split_exists", None),
    ("numeric ids", _numeric_ids, "items", "item_id_is_string", None),
    ("null id", _set("items", "item_id", 3, None), "items", "item_id_not_null", None),
    ("repeated id", _set("items", "item_id", 3, "i01"), "items", "item_id_unique", "i01"),
    ("bad split", _set("items", "split", 3, "dev"), "items", "split_in_set", "dev"),
    ("huge text", _with_text(100_001), "items", "text_length", None),
    ("few judgments", _head("annotations", 5), "annotations", "row_count", None),
    (
        "no annotator column",
        _drop_column("annotations", "annotator_id"),
        "annotations",
        "annotator_id_exists",
        None,
    ),
    ("no label column", _drop_column("annotations", "label"), "annotations", "label_exists", None),
    (
        "null annotator",
        _set("annotations", "annotator_id", 4, None),
        "annotations",
        "annotator_id_not_null",
        None,
    ),
    ("null label", _set("annotations", "label", 4, None), "annotations", "label_not_null", None),
    (
        "unknown label",
        _set("annotations", "label", 4, "horse"),
        "annotations",
        "label_in_label_set",
        "horse",
    ),
    (
        "unknown item",
        _set("annotations", "item_id", 4, "i99"),
        "annotations",
        "item_id_in_items",
        "i99",
    ),
    ("repeated gold", _set("gold", "item_id", 1, "i00"), "gold", "item_id_unique", "i00"),
    ("null gold id", _set("gold", "item_id", 1, None), "gold", "item_id_not_null", None),
    (
        "bad gold label",
        _set("gold", "label", 1, "unicorn"),
        "gold",
        "label_in_label_set",
        "unicorn",
    ),
    ("gold for unknown item", _set("gold", "item_id", 1, "zz"), "gold", "item_id_in_items", "zz"),
    ("too few judgments per item", _few_judgments, "item_judgments", "at_least_3_judgments", None),
    (
        "a label nobody chose",
        _replace_labels("bird", "cat"),
        "label_counts",
        "every_label_seen",
        None,
    ),
]


def test_valid_tables_pass_and_go_on(tmp_path):
    result = run_validate(tmp_path, valid_tables())
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["success"] and summary["failed_critical"] == 0 and summary["skipped"] == 1
    assert summary["failed_warning"] == 0  # the warning checks ran, and passed
    ran = [check for table in summary["tables"].values() for check in table["checks"].values()]
    assert len(ran) == summary["checks"] and all(check["success"] for check in ran)
    kept = pd.read_parquet(tmp_path / "validated" / "annotations.parquet")
    assert len(kept) == 90
    assert len(pd.read_parquet(tmp_path / "quarantine" / "annotations.parquet")) == 0


def test_every_default_expectation_has_a_violation_case():
    names = {
        (c.table, c.name) for c in load_suite(DEFAULT_SUITE).checks if c.severity == "critical"
    }
    covered = {(table, name) for _, _, table, name, _ in VIOLATIONS}
    missing = names - covered - {("gold", "item_id_exists"), ("gold", "label_exists"), ("annotations", "item_id_exists"),
                                 ("annotations", "label_is_string"), ("annotations", "item_id_not_null")}  # fmt: skip
    assert not missing


def _indented_under(lines: list[str], head: int) -> list[str]:
    """The lines that continue the message starting at ``head``."""
    end = head + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    return lines[head + 1 : end]


@pytest.mark.parametrize(
    ("case", "mutate", "table", "name", "example"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS]
)
def test_violation_stops_with_exit_2_and_a_line(tmp_path, case, mutate, table, name, example):
    result = run_validate(tmp_path, mutate(valid_tables()))
    assert result.exit_code == 2, result.output
    output = result.output.splitlines()
    heads = [
        at
        for at, line in enumerate(output)
        if line.endswith(f": {name} failed") and re.match(f"critical: {table}[.:]", line)
    ]
    assert len(heads) == 1, result.output
    detail = _indented_under(output, heads[0])  # what failed, the records, their files
    assert re.match(
        r"  (observed \d+, expected|\d+ (unexpected )?rows?\b|the table has no column|values of type)",
        detail[0],
    ), detail
    assert all(len(line) < 100 for line in detail)
    if example:
        assert repr(example) in " ".join(detail)
    assert "critical check(s) failed" in result.output
    assert not (tmp_path / "validated").exists()  # nothing for label-merge, train or evaluate
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["success"] is False
    assert summary["tables"][table]["checks"][name]["success"] is False


def test_summary_is_byte_identical_across_runs(tmp_path):
    for run in ("one", "two"):
        (tmp_path / run).mkdir()
        assert run_validate(tmp_path / run, valid_tables()).exit_code == 0
    first = (tmp_path / "one" / "reports" / "summary.json").read_bytes()
    assert first == (tmp_path / "two" / "reports" / "summary.json").read_bytes()
    assert b"run_id" not in first and b"time" not in first


def _suite(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_warning_is_reported_and_the_pipeline_goes_on(tmp_path):
    suite = _suite(tmp_path, {"annotations": {"expectations": [
        {"name": "label_in_label_set", "expect": "expect_column_values_to_be_in_set", "column": "label",
         "value_set": ["cat", "dog"], "severity": "warning"}]}})  # fmt: skip
    result = run_validate(tmp_path, valid_tables(), suite)
    assert result.exit_code == 0, result.output
    assert "warning: annotations.label: label_in_label_set" in result.output
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["failed_warning"] == 1 and summary["success"] is True
    assert (tmp_path / "validated" / "annotations.parquet").exists()


def test_data_docs_name_each_check_and_a_warning_is_not_a_failure(tmp_path):
    suite = _suite(tmp_path, {"annotations": {"expectations": [
        {"name": "label_in_label_set", "expect": "expect_column_values_to_be_in_set", "column": "label",
         "value_set": ["cat", "dog"], "severity": "warning"},
        {"name": "review_time_positive", "expect": "expect_column_values_to_be_between",
         "column": "review_time", "min_value": 0, "when": "column_exists"}]}})  # fmt: skip
    result = run_validate(tmp_path, valid_tables(), suite, docs=True)
    assert result.exit_code == 0, result.output
    assert "validate: 0 of 1 checks passed, 1 failed (warning); 1 skipped" in result.output
    assert "skipped, their column is absent: annotations.review_time_positive" in result.output
    docs = tmp_path / "reports" / "docs"
    page = next((docs / "validations").rglob("*annotations.html")).read_text()
    assert re.search(
        r"<td>label_in_label_set</td><td>failed: \d+ unexpected rows?</td><td>warning</td>", page
    )
    assert "skipped: the table has no column review_time" in page
    assert "Passed, with warnings" in page and "</i> Failed" not in page
    index = (docs / "index.html").read_text()
    assert "'_validation_success_text': 'Warnings', 'asset_name': 'annotations'" in index
    assert "ge-failed-icon" not in index


def test_every_data_docs_page_says_its_language_and_which_page_it_is(tmp_path):
    """Great Expectations gives every page one title, no language and no first heading (they
    begin at h4), and Bootstrap's link blue and warning yellow are below WCAG AA's contrast on
    white."""
    result = run_validate(tmp_path, valid_tables(), DEFAULT_SUITE, docs=True)
    assert result.exit_code == 0, result.output
    pages = sorted((tmp_path / "reports" / "docs").rglob("*.html"))
    titles = []
    for page in pages:
        text = page.read_text()
        assert text.count('<html lang="en">') == 1, page
        titles += re.findall(r"<title>([^<]+)</title>", text)
        assert text.count("<h1") == 1 and '<body><h1 class="sr-only">' in text, page
        assert "a{color:#0056b3}.text-warning{color:#856404!important}</style></head>" in text
    assert len(titles) == len(set(titles)) == len(pages), titles
    assert "annotations: validation results (prepared-" in " ".join(titles)
    assert "Validation of the prepared tables - Data Docs" in titles


def test_mostly_tolerates_a_share_of_failures(tmp_path):
    def suite(mostly):
        return _suite(tmp_path, {"annotations": {"expectations": [
            {"name": "in_set", "expect": "expect_column_values_to_be_in_set", "column": "label",
             "value_set": ["cat", "dog"], "mostly": mostly}]}})  # fmt: skip

    assert run_validate(tmp_path, valid_tables(), suite(0.6)).exit_code == 0  # 2/3 are cat or dog
    assert run_validate(tmp_path, valid_tables(), suite(0.7)).exit_code == 2


def test_quarantine_sets_failing_rows_aside_with_the_reason(tmp_path):
    document = yaml.safe_load(DEFAULT_SUITE.read_text())
    document["annotations"]["quarantine"] = True
    tables = _set("annotations", "label", 4, "horse")(
        _set("annotations", "item_id", 7, "i99")(valid_tables())
    )
    result = run_validate(tmp_path, tables, _suite(tmp_path, document))
    assert result.exit_code == 0, result.output
    quarantined = pd.read_parquet(tmp_path / "quarantine" / "annotations.parquet")
    assert sorted(quarantined["reason"]) == ["item_id_in_items", "label_in_label_set"]
    assert len(pd.read_parquet(tmp_path / "validated" / "annotations.parquet")) == 88
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["rows_quarantined"] == 2
    assert summary["tables"]["annotations"]["rows_quarantined"] == 2
    assert (
        "validate: quarantined 2 annotations rows (item_id_in_items 1, label_in_label_set 1)"
        in result.output
    )


def test_a_failed_warning_check_moves_no_row_to_quarantine(tmp_path):
    """A repeated judgment is reported (warning) and goes on: label-merge keeps the latest.
    Quarantine sets aside rows of failed critical checks only."""
    document = yaml.safe_load(DEFAULT_SUITE.read_text())
    document["annotations"]["quarantine"] = True
    tables = valid_tables()
    repeat = tables["annotations"].iloc[[0]].assign(label="dog")
    tables["annotations"] = pd.concat([tables["annotations"], repeat], ignore_index=True)
    result = run_validate(tmp_path, tables, _suite(tmp_path, document))
    assert result.exit_code == 0, result.output
    assert "one_judgment_per_annotator_and_item failed" in result.output
    assert "quarantined" not in result.output.replace("0 rows quarantined", "")
    assert len(pd.read_parquet(tmp_path / "quarantine" / "annotations.parquet")) == 0
    assert len(pd.read_parquet(tmp_path / "validated" / "annotations.parquet")) == 91


def _entry(expect: str = "to_not_be_null", **arguments: object) -> dict[str, object]:
    """A suite whose one annotations check is ``expect_column_values_<expect>``."""
    entry = {"name": "x", "expect": f"expect_column_values_{expect}", **arguments}
    return {"annotations": {"expectations": [entry]}}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"itemz": {"expectations": []}}, "unknown table"),
        ({"items": {"expectations": [{"name": "x"}]}}, "needs at least 'name' and 'expect'"),
        (
            {"items": {"expectations": [{"name": "x", "expect": "expect_nothing"}]}},
            "unknown expectation",
        ),
        (
            {
                "items": {
                    "expectations": [
                        {
                            "name": "x",
                            "expect": "expect_column_to_exist",
                            "column": "a",
                            "severity": "fatal",
                        }
                    ]
                }
            },
            "severity must be",
        ),
        ({"label_counts": {"quarantine": True, "expectations": []}}, "quarantine applies"),
        ({"items": {"quarantine": "off", "expectations": []}}, "must be true or false, got 'off'"),
        # Arguments Great Expectations refuses (an internal error, exit 1, before), each named.
        (_entry(column="label", mostly=2), "x: argument mostly: ensure this value is less"),
        (_entry(colum="label"), "argument column: field required; argument colum: extra fields"),
        (_entry("to_be_in_set", column="label", value_set=5), "value_set: value is not a valid"),
        (_entry("to_be_in_set", column="label", value_set="$lbl"), "unknown value $lbl"),
        (_entry("to_be_in_table", column="item_id", table="nope"), "no table nope to refer to"),
        (  # as written, with the expectation meant (it was the class name, and no hint)
            _entry("to_be_betwen", column="label"),
            "unknown expectation 'expect_column_values_to_be_betwen'; did you mean "
            "'expect_column_values_to_be_between'?",
        ),
    ],
)
def test_mistakes_in_a_suite_are_reported(tmp_path, document, reason):
    result = run_validate(tmp_path, valid_tables(), _suite(tmp_path, document))
    assert result.exit_code == 2, result.output
    assert reason in " ".join(result.output.split()) and "Traceback" not in result.output
    assert str(tmp_path / "suite.yaml") in result.output  # the suite file, not the table


@pytest.mark.parametrize("line_break", ["", "\r", "\r\n", "\n"])
def test_markup_in_the_data_is_escaped_in_data_docs(tmp_path, line_break):
    """A line break before the markup too: a page read with universal newlines no longer holds
    the value as written, so the value's lines are escaped one by one as well."""
    tables = valid_tables()
    text = "ok" + line_break + "<script>alert(1)</script>" * 5000
    tables["items"] = tables["items"].assign(text=pd.array([text] + ["ok"] * 29, dtype="string"))
    label = "x" + line_break + "<img src=x onerror=alert(2)>"
    tables = _set("annotations", "label", 4, label)(tables)
    result = run_validate(tmp_path, tables, docs=True)
    assert result.exit_code == 2  # the long text and the odd label are critical failures
    pages = list((tmp_path / "reports" / "docs").rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_bytes()
        assert b"<script>alert(1)" not in text and b"<img src=x" not in text, page


def test_markup_in_a_row_valued_failure_is_escaped_in_data_docs(tmp_path):
    """One annotator judging one item twice fails a warning whose unexpected values are rows
    (dicts): Data Docs print them field by field, ids and file names included."""
    tables = valid_tables()
    tables = _set("annotations", "annotator_id", 0, "<svg onload=alert(1)>")(tables)
    tables = _set("annotations", "source", 0, "<b onmouseover=alert(3)>.csv")(tables)
    tables = _duplicate_judgment(tables)
    result = run_validate(tmp_path, tables, docs=True)
    assert result.exit_code == 0, result.output  # a repeat is reported; the latest counts
    lines = result.output.splitlines()
    at = lines.index(
        "warning: annotations.item_id,annotator_id: one_judgment_per_annotator_and_item failed"
    )
    detail = _indented_under(lines, at)
    assert detail[0].startswith("  2 unexpected rows (ExpectCompoundColumnsToBeUnique)")
    assert "e.g. (item_id " in " ".join(detail)
    assert all(len(line) < 100 for line in [lines[at], *detail])
    (docs_page,) = (tmp_path / "reports" / "docs" / "validations" / "annotations").rglob("*.html")
    assert "</span>, <span>" in docs_page.read_text()  # the row's fields apart, not glued
    pages = list((tmp_path / "reports" / "docs").rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert "<svg onload" not in text and "<b onmouseover" not in text, page


def test_data_docs_are_the_same_bytes_for_the_same_tables(tmp_path, monkeypatch):
    """They are a DVC output: no render time, no random element id, no remote logo, and the
    same in every time zone (Great Expectations shows the run time in the machine's)."""
    import time

    import tzlocal

    sites = []
    try:
        for run, zone in (("a", "UTC"), ("b", "Asia/Kolkata"), ("c", "America/New_York")):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            tzlocal.reload_localzone()
            assert run_validate(tmp_path / run, valid_tables(), docs=True).exit_code == 0
            assert os.environ["TZ"] == zone  # the machine's zone, restored after the pages
            docs = tmp_path / run / "reports" / "docs"
            files = (p for p in docs.rglob("*") if p.is_file())
            sites.append({p.relative_to(docs): p.read_bytes() for p in files})
    finally:  # the rest of this worker's tests in its own zone again
        monkeypatch.undo()
        time.tzset()
        tzlocal.reload_localzone()
    assert sites[0] == sites[1] == sites[2]
    pages = b"".join(page for name, page in sites[0].items() if name.suffix == ".html")
    assert b"great-expectations-web-assets" not in pages and b"__none__" not in pages
    assert b"check item_id_unique (critical)" in pages


def test_a_failed_cross_table_check_reads_as_what_it_checks_in_data_docs(tmp_path):
    tables = _set("annotations", "item_id", 4, "ghost-item")(valid_tables())
    result = run_validate(tmp_path, tables, docs=True)
    assert result.exit_code == 2  # an annotation of an unknown item is critical
    page = next((tmp_path / "reports" / "docs" / "validations").rglob("*annotations.html"))
    text = page.read_text()
    assert "every item_id must be a value of items.item_id" in text
    assert "98.889% found" in text and "ghost-item" in text  # the share and the culprit shown
    assert "(not in items" not in text and "values must be null" not in text


def test_unexpected_values_are_shown_in_ascii_so_look_alikes_differ():
    from stages.gate.expectations import _example

    assert _example("digit-000\u0430") == "'digit-000\\u0430'"  # Cyrillic a, not Latin
    assert (
        _example({"item_id": "i\n1", "annotator_id": "a"}) == "(item_id 'i\\n1', annotator_id 'a')"
    )


def test_a_failure_names_the_export_files_its_rows_came_from(tmp_path):
    """Validate checks the prepared tables; the person fixing it opens the raw export."""
    tables = _set("annotations", "label", 4, "horse")(valid_tables())
    tables = _set("annotations", "source", 4, "batch-07.csv")(tables)
    tables = _set("annotations", "label", 9, "zebra")(tables)
    tables = _set("annotations", "source", 9, "batch\n02.csv")(tables)  # a name from outside
    result = run_validate(tmp_path, tables)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("critical: annotations.label"))
    assert _indented_under(lines, at)[-1] == "  rows from 'batch\\n02.csv', 'batch-07.csv'"


def test_the_files_line_names_whole_files_and_counts_the_rest():
    from stages.gate.failures import describe_failure
    from stages.gate.outcomes import Outcome
    from stages.gate.suites import load_suite

    check = next(c for c in load_suite(DEFAULT_SUITE).checks
                 if c.table == "annotations" and c.name == "label_in_label_set")  # fmt: skip
    names = [f"batch-{n:02d}-labelstudio-export-from-the-vendor.json" for n in range(5)]
    table = pd.DataFrame({"label": ["x"] * 9, "source": [names[n % 5] for n in range(9)]})
    outcome = Outcome(check, False, 9, ["'x'"], values=("x",))
    line = describe_failure(outcome, table).splitlines()[2]
    assert line.startswith("  rows from 'batch-00-") and line.endswith(" and 4 more")
    assert len(line) < 100 and "…" not in line


def test_a_failure_says_what_failed_in_the_checks_own_words(tmp_path):
    """A failing record is named by its ids (a label outside the set by its item and
    annotator; '<NA>' or a count of 0 names nothing), a table too short by its row count, a
    set check by the set, and a cross-table check by what it checks (not its helper column)."""
    tables = _set("annotations", "annotator_id", 4, None)(valid_tables())
    row = tables["annotations"].iloc[4]
    tables["annotations"] = tables["annotations"][tables["annotations"]["label"] != LABELS[-1]]
    tables["items"] = tables["items"].head(5)
    tables = _set("annotations", "label", 1, "horse")(tables)
    horse = tables["annotations"].iloc[1]
    result = run_validate(tmp_path, tables)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()

    def detail(head: str) -> str:
        return " ".join(_indented_under(lines, lines.index(head)))

    assert detail("critical: annotations.annotator_id: annotator_id_not_null failed") == (
        f"  1 row without annotator_id, e.g. (item_id {row['item_id']!r})"
        f"   rows from {row['source']!r}"
    )
    assert detail("critical: label_counts.judgments: every_label_seen failed").endswith(
        f"e.g. (label {LABELS[-1]!r}, judgments 0)"
    )
    # The summary keeps every failing record the line had no room for.
    checks = json.loads((tmp_path / "reports" / "summary.json").read_text())["tables"]
    assert checks["label_counts"]["checks"]["every_label_seen"]["failing"] == [
        f"(label {LABELS[-1]!r}, judgments 0)"
    ]
    assert checks["annotations"]["checks"]["label_in_label_set"]["failing"] == [
        f"(item_id {horse['item_id']!r}, annotator_id {horse['annotator_id']!r}, label 'horse')"
    ]
    assert checks["label_counts"]["checks"]["every_label_seen"]["failing_not_listed"] == 0
    assert "failing" not in checks["items"]["checks"]["row_count"]  # no record to name
    assert detail("critical: items: row_count failed") == (
        "  observed 5, expected at least 10 (ExpectTableRowCountToBeBetween)"
    )
    outside = detail("critical: annotations.label: label_in_label_set failed")
    assert outside.startswith("  1 row whose label is not one of 'cat', 'dog', 'bird'")
    record = (
        f"(item_id {horse['item_id']!r}, annotator_id {horse['annotator_id']!r}, label 'horse')"
    )
    assert record in outside
    unknown = detail("critical: annotations.item_id: item_id_in_items failed")
    assert unknown.startswith("  ") and " whose item_id is not in items.item_id, e.g. " in unknown
    assert "(not in" not in result.output  # the helper column the check runs on


def test_a_missing_column_is_explained_once(tmp_path):
    """Every check on a column fails when the column is absent: one explanation, then a line
    per check."""
    result = run_validate(tmp_path, _drop_column("items", "split")(valid_tables()))
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    at = lines.index("critical: items.split: split_exists failed")
    assert lines[at + 1] == "  the table has no column 'split'; it has 'item_id', 'x'"
    assert "critical: items.split: split_in_set failed: no such column" in lines
    assert result.output.count("the table has no column") == 1


def test_a_misspelt_column_gets_the_likely_one_before_the_list_of_columns(tmp_path):
    """The list of columns is cut at the line's end, which hid the column meant."""
    tables = valid_tables()
    wide = {f"column_{n}": 0 for n in range(12)}
    tables["annotations"] = tables["annotations"].assign(**wide, lead_time=1.0)
    document = _entry("to_be_between", column="lead_tme", min_value=0, severity="warning")
    result = run_validate(tmp_path, tables, _suite(tmp_path, document))
    assert result.exit_code == 0, result.output
    assert "  the table has no column 'lead_tme' (did you mean 'lead_time'?); it has" in (
        result.output
    )


def _outcome(table, name, expectation, kwargs, **result):
    from stages.gate.outcomes import Outcome
    from stages.gate.suites import Check

    return Outcome(Check(table, name, expectation, kwargs), False, **result)


def test_a_check_on_a_whole_column_says_what_it_observed():
    from stages.gate.failures import describe_failure

    outcome = _outcome("items", "mean_x", "ExpectColumnMeanToBeBetween",
                       {"column": "x", "min_value": 0, "max_value": 0.4},
                       unexpected=1, examples=[], observed=0.93)  # fmt: skip
    detail = describe_failure(outcome, pd.DataFrame({"item_id": ["i1"], "x": [0.93]}))
    assert (
        detail.splitlines()[1] == "  observed 0.93, expected 0 to 0.4 (ExpectColumnMeanToBeBetween)"
    )


def test_hostile_names_and_odd_tables_do_not_break_the_lines():
    """Column names come from a delivery's header: a newline or an escape code in one is shown
    escaped. A compound check, an empty table and a long check name stay one message each,
    every line under 100 columns."""
    from stages.gate.failures import describe_failure

    hostile = "note\x1b[2J\nwarning: fake"
    gold = pd.DataFrame({"item_id": pd.array([None], dtype="string"), "label": ["dog"],
                         hostile: ["b"]})  # fmt: skip
    null_id = _outcome("gold", "item_id_not_null", "ExpectColumnValuesToNotBeNull",
                       {"column": "item_id"}, unexpected=1, examples=[])  # fmt: skip
    text = describe_failure(null_id, gold)
    assert "\x1b" not in text and "\nwarning" not in text
    assert text.splitlines()[1] == (
        "  1 row without item_id, e.g. (label 'dog', 'note\\x1b[2J\\nwarning: fake' 'b')"
    )
    pair = _outcome("items", "pair", "ExpectCompoundColumnsToBeUnique",
                    {"column_list": ["split", "text"]}, unexpected=2,
                    examples=["(split 'a', text 't')"])  # fmt: skip
    table = pd.DataFrame({"split": ["a", "a"], "text": ["t", "t"]})
    assert describe_failure(pair, table).splitlines()[1].endswith("e.g. (split 'a', text 't')")
    in_set = _outcome("items", "s" * 90, "ExpectColumnValuesToBeInSet",
                      {"column": "split", "value_set": []}, unexpected=1, examples=[])  # fmt: skip
    for again in (False, True):
        text = describe_failure(in_set, pd.DataFrame(), again=again)
        assert all(len(line) < 100 for line in text.splitlines()), text
    assert describe_failure(in_set, pd.DataFrame()).endswith("; it has no columns")
    assert "not one of no value" in describe_failure(in_set, pd.DataFrame({"split": ["x"]}))


def test_old_data_docs_that_cannot_be_replaced_stay_whole(tmp_path, monkeypatch):
    """A site that cannot be moved aside (read-only, in use) stops validate with the old
    pages intact: they were deleted first, and the new ones then failed to take their place."""
    assert run_validate(tmp_path, valid_tables(), docs=True).exit_code == 0
    docs = tmp_path / "reports" / "docs"
    before = sorted(p.relative_to(docs) for p in docs.rglob("*") if p.is_file())
    real = Path.replace

    def refuse(self, target):
        if self == docs:
            raise PermissionError(13, "Permission denied", str(self), str(target))
        return real(self, target)

    monkeypatch.setattr(Path, "replace", refuse)
    result = run_validate(tmp_path, valid_tables(), docs=True)
    assert result.exit_code == 2 and "permission denied" in result.output
    assert f"{docs}:" in " ".join(result.output.split())  # the site, not where it was moving
    assert sorted(p.relative_to(docs) for p in docs.rglob("*") if p.is_file()) == before
    assert not list((tmp_path / "reports").glob(".docs-replaced-*"))  # nothing left aside


def test_escaping_a_value_never_escapes_the_pages_own_markup(tmp_path):
    """A value with a line that is markup of the page itself ("</div>"): the value is escaped
    whole, never line by line, so the page's own closing tags stay (as many as it opens)."""
    tables = _set("annotations", "label", 4, "x\n</div>\ny")(valid_tables())
    run_validate(tmp_path, tables, docs=True)
    pages = list((tmp_path / "reports" / "docs").rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        assert text.count("<div") == text.count("</div>"), page


def test_a_failure_line_with_wide_characters_is_cut_at_99_columns():
    """Values in Japanese take two columns a character: the examples that fit the line, and
    a value cut short, are measured in columns, not characters (the lines had reached 150)."""
    from stages.core.terminal import columns
    from stages.gate.failures import describe_failure
    from stages.gate.outcomes import Outcome
    from stages.gate.suites import load_suite

    check = next(c for c in load_suite(DEFAULT_SUITE).checks
                 if c.table == "annotations" and c.name == "label_in_label_set")  # fmt: skip
    values = [f"ラベル{number}番目の長い名前" * 2 for number in range(8)]
    names = [f"バッチ{number}のエクスポートファイル.json" for number in range(6)]
    table = pd.DataFrame({"label": values, "source": [names[n % 6] for n in range(8)]})
    outcome = Outcome(check, False, 8, [repr(value) for value in values], values=tuple(values))
    lines = describe_failure(outcome, table).splitlines()
    assert all(columns(line) <= 99 for line in lines), lines
    assert any("ラベル0" in line for line in lines) and lines[-1].startswith("  rows from")


def test_a_failed_pattern_check_shows_its_pattern(tmp_path):
    """It read "7147 unexpected rows (ExpectColumnValuesToMatchRegex)": not which pattern."""
    document = _entry("to_match_regex", column="annotator_id", regex="@labelco\\.example$")
    result = run_validate(tmp_path, valid_tables(), _suite(tmp_path, document))
    assert result.exit_code == 2, result.output
    assert "whose annotator_id does not match the regex '@labelco" in result.output


def test_an_empty_pattern_is_shown_as_empty_not_as_none(tmp_path):
    document = _entry("to_not_match_regex", column="annotator_id", regex="")
    result = run_validate(tmp_path, valid_tables(), _suite(tmp_path, document))
    assert result.exit_code == 2, result.output
    assert "whose annotator_id matches the regex ''" in result.output
