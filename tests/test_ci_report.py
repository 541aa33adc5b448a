"""The pull-request report: this branch's metrics and params beside main's, from Git alone."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import pytest

from tests.conftest import PROJECT_ROOT
from tests.helpers import sh

pytestmark = pytest.mark.e2e


def test_the_report_shows_main_beside_the_branch_with_no_dvc_cache(project):
    before = json.loads((project / "reports" / "metrics.json").read_text())["test"]["accuracy"]
    sh(project, "git", "checkout", "-q", "-b", "smaller-c")
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("    C: 1.0\n", "    C: 0.02\n"))
    sh(project, "dvc", "repro", "-q")
    sh(project, "git", "commit", "-qam", "a smaller C")
    after = json.loads((project / "reports" / "metrics.json").read_text())["test"]["accuracy"]
    assert after != before
    # A CI runner has the Git history and nothing else: no DVC cache, no remote.
    shutil.rmtree(project / ".dvc" / "cache")
    report = sh(project, sys.executable, str(PROJECT_ROOT / ".ci" / "report.py"), "main").stdout
    lines = report.splitlines()
    assert lines[0] == "<!-- dvc-reproduce-report -->"  # how the workflow finds its one comment
    again = sh(project, sys.executable, str(PROJECT_ROOT / ".ci" / "report.py"), "main").stdout
    assert again == report  # rows in one order (DVC's own is a new hash order each run)
    accuracy = next(line for line in lines if "| accuracy " in line)
    cells = [cell.strip() for cell in accuracy.strip("|").split("|")]
    assert cells[:2] == ["metrics/evaluate.json", "accuracy"]
    assert [float(cells[2]), float(cells[3])] == pytest.approx([before, after], abs=1e-5)
    # F1 per class drawn in the comment (Mermaid) and listed, main's beside the branch's.
    chart = report[report.index("```mermaid") : report.index("```", report.index("xychart"))]
    assert 'x-axis ["0", "1", "2"' in chart and "bar [" in chart and "line [" in chart
    per_class = json.loads((project / "reports" / "metrics.json").read_text())["test"]["per_class"]
    row = next(line for line in lines if line.startswith("| 0 |"))
    assert f"| {per_class['0']['f1']:.4f} |" in row
    c_row = next(line for line in lines if "train.logistic\\_regression.C" in line)
    assert "| 1.0 " in c_row and "| 0.02 " in c_row


def _report_module():
    spec = importlib.util.spec_from_file_location("ci_report", PROJECT_ROOT / ".ci" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_params_in_the_report_are_escaped_cell_by_cell(monkeypatch):
    """A label set or an alias is text a person wrote: it may hold markup, pipes, line breaks."""
    report = _report_module()
    changed = {
        "params.yaml": {
            "data.labels": {"old": ["a", "b"], "new": ["a", "new|label\n<img src=x onerror=1>"]},
            "data.aliases.<script>x</script>|y": {"old": None, "new": "a"},
        }
    }
    monkeypatch.setattr(report, "dvc_table", lambda *args, fmt=None: json.dumps(changed))
    table = report.params_table("main").splitlines()
    assert table[0] == "| Path | Param | `main` | this commit |"
    assert len(table) == 4 and all(line.count("|") - line.count("\\|") == 5 for line in table)
    text = "\n".join(table)
    assert "<img" not in text and "<script>" not in text and "&lt;img" in text
    assert "| - | a |" in table[2]  # a param that did not exist on main


def test_per_class_rows_follow_the_label_set_not_the_alphabet(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("data:\n  labels: [zebra, apple, '10', '9']\n")
    monkeypatch.chdir(tmp_path)
    order = _report_module().class_order(["9", "apple", "10", "zebra", "extra"])
    assert order == ["zebra", "apple", "10", "9", "extra"]


def test_a_failed_check_opens_the_report_and_a_passed_one_is_not_mentioned(monkeypatch):
    report = _report_module()
    monkeypatch.setattr(report, "dvc_table", lambda *args, fmt=None: "{}" if fmt is None else "")
    monkeypatch.setattr(report, "per_class_f1", lambda base: ["(chart)"])
    monkeypatch.setenv("CHECK_REPRO", "failure")
    lines = report.report("origin/main").splitlines()
    assert lines[0] == report.MARKER and lines[1].startswith("**check-repro: failure** on this")
    monkeypatch.setenv("CHECK_REPRO", "success")
    assert "check-repro" not in report.report("origin/main")


def test_the_f1_chart_and_table_agree_on_classes_without_an_f1():
    report = _report_module()
    classes, now, before = ["cat", "dog", "owl"], [0.9, None, 0.5], [0.8, 0.7, None]
    chart = "\n".join(report._f1_chart(classes, now, before))
    assert 'x-axis ["cat", "owl"]' in chart and "bar [0.9000, 0.5000]" in chart  # no 0 bar
    assert "line [" not in chart and 'title "F1 per class"' in chart  # the base lacks owl's
    assert "1 of 3 classes have no F1 (table below)." in chart
    rows = report._f1_table(classes, now, before, {"cat": {}, "dog": {}, "owl": {}}, "main")
    assert rows[4] == "| owl | n/a | 0.5000 |  |" and rows[3] == "| dog | 0.7000 | n/a |  |"
    new_class = report._f1_table(["cat"], [0.9], [None], {}, "main")[2]
    assert new_class == "| cat | - | 0.9000 |  |"  # "-": the base had no such class


def test_long_or_many_class_names_are_numbered_on_the_chart_and_named_in_the_table():
    report = _report_module()
    classes = [f"a long class name number {n}" for n in range(3)]
    chart = "\n".join(report._f1_chart(classes, [0.5, 0.6, 0.7], [0.5, 0.5, 0.5]))
    assert 'x-axis ["1", "2", "3"]' in chart and "line [" in chart
    rows = report._f1_table(classes, [0.5, 0.6, 0.7], [0.5, 0.5, 0.5], {}, "main")
    assert rows[0].startswith("| # | class |") and rows[3].startswith("| 2 | a long class")


def test_the_metrics_table_heads_this_commits_column_as_such(monkeypatch):
    report = _report_module()
    table = "| Path | Metric | main | workspace | Change |\n|---|---|---|---|---|"
    monkeypatch.setattr(report, "dvc_table", lambda *a, fmt="--md": table if fmt else "{}")
    monkeypatch.setattr(report, "per_class_f1", lambda base: [])
    assert "| Path | Metric | main | this commit | Change |" in report.report("main")
