"""The pull-request report: this commit's metrics and params beside the base branch's.

Metrics files live in Git (``cache: false`` in dvc.yaml), so ``dvc metrics diff`` reads the
base branch's values from its commit, on a runner with no DVC remote credentials.
Usage: python .ci/report.py BASE > report.md (BASE: origin/main, a branch or a commit; with
CHECK_REPRO set to other than "success", the report opens by saying that the check failed).
The first line is a marker that the workflow uses to update its one comment per pull request.
The per-class chart is Mermaid, which GitHub draws in the comment itself (no image hosting);
with RUN_URL set, the report links the run whose `report` artifact holds every chart as a
picture (reports/report.html, which opens offline).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stages.core.markup import markdown_text, mermaid_text
from stages.core.yaml_rules import load_yaml_1_2

MARKER = "<!-- dvc-reproduce-report -->"


def dvc_table(*args: str, fmt: str | None = "--md") -> str:
    # DVC lists the metrics files in Python's hash order, new each run; a fixed seed fixes it.
    result = subprocess.run(
        ["dvc", *args, *([fmt] if fmt else [])],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if result.returncode != 0:
        raise SystemExit(f"error: dvc {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def params_table(base: str) -> str:
    """The params changed since BASE, every name and value escaped: a param is data a person
    wrote (a label set, aliases), and DVC's own --md table pastes it in raw."""
    changed = json.loads(dvc_table("params", "diff", base, "--json", fmt=None) or "{}")
    rows = [
        f"| {markdown_text(path)} | {markdown_text(name)} | {_value(values.get('old'))} "
        f"| {_value(values.get('new'))} |"
        for path, params in sorted(changed.items())
        for name, values in sorted(params.items())
    ]
    header = [f"| Path | Param | `{base}` | this commit |", "|---|---|---|---|"]
    return "\n".join([*header, *rows]) if rows else ""


def _value(value: object) -> str:
    if value is None:
        return "-"
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return markdown_text(shown)


def class_order(classes: list[str]) -> list[str]:
    """``classes`` in the label set's order (params.yaml), as every chart; others after."""
    params = load_yaml_1_2(Path("params.yaml").read_text(encoding="utf-8")) or {}
    labels = (params.get("data") or {}).get("labels") or []
    order = [str(label) for label in labels if str(label) in classes]
    return order + sorted(set(classes) - set(order))


def per_class_f1(base: str) -> list[str]:
    """F1 per class on the test split, BASE's beside this commit's: a chart and a table."""
    now = json.loads(Path("reports/metrics.json").read_text())["test"]["per_class"]
    shown = subprocess.run(["git", "show", f"{base}:reports/metrics.json"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
    before = json.loads(shown.stdout)["test"]["per_class"] if shown.returncode == 0 else {}
    classes = class_order(list(now))  # the metrics file's keys are sorted
    f1_now = [now[c]["f1"] for c in classes]
    f1_before = [before.get(c, {}).get("f1") for c in classes]
    return [*_f1_chart(classes, f1_now, f1_before), "", *_f1_table(classes, f1_now, f1_before,
                                                                   before, base)]  # fmt: skip


# Class names on the chart's axis while they fit side by side; else numbers, named in the table.
AXIS_NAMES = {"classes": 12, "characters": 10}


def _numbered(classes: list[str]) -> bool:
    return len(classes) > AXIS_NAMES["classes"] or any(
        len(c) > AXIS_NAMES["characters"] for c in classes
    )


def _f1_chart(classes: list[str], now: list, before: list) -> list[str]:
    """Mermaid bars for the classes that have an F1 (a class with none is in the table only:
    a bar at 0 would read as total failure), the base's as a line where it has them all."""
    drawn = [n for n, value in enumerate(now) if value is not None]
    if not drawn:
        return ["No class has an F1 on the test split."]
    names = [str(n + 1) if _numbered(classes) else mermaid_text(classes[n]) for n in drawn]
    line = all(before[n] is not None for n in drawn)
    title = "F1 per class: bars this commit, line the base" if line else "F1 per class"
    chart = ["```mermaid", "xychart-beta", f'    title "{title}"',
             "    x-axis [" + ", ".join(f'"{name}"' for name in names) + "]",
             '    y-axis "F1" 0 --> 1',
             f"    bar [{', '.join(f'{now[n]:.4f}' for n in drawn)}]"]  # fmt: skip
    if line:
        chart.append(f"    line [{', '.join(f'{before[n]:.4f}' for n in drawn)}]")
    left_out = len(classes) - len(drawn)
    note = [f"{left_out} of {len(classes)} classes have no F1 (table below)."] if left_out else []
    return [*chart, "```", *note]


def _f1_table(classes: list[str], now: list, before: list, base_rows: dict, base: str) -> list:
    """n/a: the class has no F1 in that revision (no items, nothing predicted); -: the base
    had no such class."""
    numbered = _numbered(classes)
    head = f"| {'# | ' if numbered else ''}class | `{base}` | this commit | change |"
    table = [head, "|---" * (5 if numbered else 4) + "|"]
    for n, (name, new, old) in enumerate(zip(classes, now, before, strict=True)):
        change = "" if old is None or new is None else f"{new - old:+.4f}"
        old_text = "-" if name not in base_rows else "n/a" if old is None else f"{old:.4f}"
        new_text = "n/a" if new is None else f"{new:.4f}"
        number = f"{n + 1} | " if numbered else ""
        table.append(f"| {number}{markdown_text(name)} | {old_text} | {new_text} | {change} |")
    return table


def report(base: str) -> str:
    # DVC heads the current values "workspace": in CI that is this commit.
    metrics = dvc_table("metrics", "diff", base, "--all").replace(" workspace ", " this commit ", 1)
    params = params_table(base)
    run_url = os.environ.get("RUN_URL")
    pictures = (
        [f"Every chart as a picture: the `report` artifact of [this run]({run_url}) "
         "(reports/report.html opens offline).", ""]
        if run_url else []
    )  # fmt: skip
    outcome = os.environ.get("CHECK_REPRO", "success")  # the workflow's check-repro step
    verdict = (
        []
        if outcome == "success"
        else [f"**check-repro: {outcome}** on this commit (the run's log says why); the "
              "numbers below are what this run computed.", ""]
    )  # fmt: skip
    return "\n".join(
        [
            MARKER,
            *verdict,
            f"## Metrics: this commit (HEAD) vs `{base}`",
            "",
            metrics or "No metrics.",
            "",
            f"## F1 per class (test split) vs `{base}`",
            "",
            *per_class_f1(base),
            "",
            *pictures,
            f"## Params changed since `{base}`",
            "",
            params or "No params changed.",
            "",
        ]
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python .ci/report.py BASE")
    sys.stdout.write(report(sys.argv[1]))
