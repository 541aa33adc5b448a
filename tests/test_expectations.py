import pandas as pd
import pytest

from stages.expectations import default_checks, describe_failure, run_checks, summarise
from tests.conftest import LABELS


def _run(tables):
    outcomes = run_checks(
        tables, default_checks(tables, LABELS, {"min_items": 2, "min_annotations": 2})
    )
    return outcomes, summarise(tables, outcomes)


def test_valid_tables_pass_every_check(small_tables):
    outcomes, summary = _run(small_tables)
    assert summary["success"] and summary["failed_critical"] == 0
    assert summary["checks"] == len(outcomes) >= 20
    assert summary["tables"]["annotations"]["rows"] == 8


def _break(tables, table, column, index, value):
    frame = tables[table].copy()
    frame[column] = frame[column].astype(object)
    frame.loc[index, column] = value
    frame[column] = frame[column].astype("string")
    tables[table] = frame
    return tables


@pytest.mark.parametrize(
    ("mutate", "table", "check", "example"),
    [
        (lambda t: _break(t, "items", "item_id", 1, None), "items", "item_id_not_null", None),
        (lambda t: _break(t, "items", "item_id", 1, "i1"), "items", "item_id_unique", "i1"),
        (
            lambda t: _break(t, "annotations", "label", 2, "cow"),
            "annotations",
            "label_in_label_set",
            "cow",
        ),
        (
            lambda t: _break(t, "annotations", "item_id", 0, "i99"),
            "annotations",
            "item_id_in_items",
            "i99",
        ),
        (
            lambda t: _break(t, "annotations", "annotator_id", 3, None),
            "annotations",
            "annotator_id_not_null",
            None,
        ),
        (lambda t: {**t, "items": t["items"].drop(columns="split")}, "items", "split_exists", None),
        (
            lambda t: {**t, "annotations": t["annotations"].iloc[:1]},
            "annotations",
            "row_count",
            None,
        ),
        (
            lambda t: _break(t, "gold", "label", 0, "unicorn"),
            "gold",
            "label_in_label_set",
            "unicorn",
        ),
    ],
)
def test_each_violation_fails_its_check(small_tables, mutate, table, check, example):
    outcomes, summary = _run(mutate(dict(small_tables)))
    failed = {(o.check.table, o.check.name): o for o in outcomes if not o.success}
    assert (table, check) in failed
    assert not summary["success"]
    assert summary["tables"][table]["checks"][check]["success"] is False
    line = describe_failure(failed[(table, check)])
    assert line.startswith(f"critical: {table}.")
    if example:
        assert repr(example) in line


def test_summary_is_deterministic(small_tables):
    from stages.io import canonical_json

    assert canonical_json(_run(small_tables)[1]) == canonical_json(_run(small_tables)[1])
    assert isinstance(pd.Series, type)
