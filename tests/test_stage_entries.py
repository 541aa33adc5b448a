"""Every stage's entry, fed anything (hypothesis): arbitrary params values, arbitrary bytes as
the params file, an export, an items table or a model, and arbitrary nesting. Each ends with
exit status 2 and one short line naming the file, never a traceback or an internal error.

The stages run in an empty folder, so a valid input meets a missing upstream output, which is
exit 2 as well: the property is the same for every example.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stages.cli import main
from tests.helpers import DEMO_PARAMS, error_message

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
STAGES = ["prepare", "validate", "label-merge", "train", "evaluate"]
DEFAULTS = yaml.safe_load(DEMO_PARAMS.read_text())


def _keys(section: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in section.items():
        dotted = f"{prefix}{key}"
        keys.append(dotted)
        if isinstance(value, dict):
            keys += _keys(value, f"{dotted}.")
    return keys


KEYS = _keys(DEFAULTS)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _assert_one_message(result, stage: str) -> None:
    output = result.output.strip()
    assert result.exit_code == 2, f"{stage}: exit {result.exit_code}: {output[:500]}"
    starts = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(starts) == 1, f"{stage}: {output[:500]}"  # warnings may precede
    error_message(output)  # the last message, in lines under 100 columns
    assert "Traceback" not in output


def _run(folder: Path, *args: str):
    """One command, in process, from ``folder`` (the test's working directory)."""
    assert Path.cwd() == folder
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def empty_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@SETTINGS
@given(key=st.sampled_from(KEYS), value=VALUES)
def test_any_params_value_at_any_key_gives_one_message(empty_project, key, value):
    params = yaml.safe_load(yaml.safe_dump(DEFAULTS))
    *parents, last = key.split(".")
    section = params
    for name in parents:
        section = section[name]
    section[last] = value
    path = empty_project / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    for stage in STAGES:
        _assert_one_message(_run(empty_project, stage, "--params", str(path)), stage)
    checked = _run(empty_project, "params", "--check", "--params", str(path))
    if checked.exit_code != 0:
        _assert_one_message(checked, "params")


@SETTINGS
@given(content=st.binary(max_size=300))
def test_any_bytes_as_the_params_file_give_one_message(empty_project, content):
    path = empty_project / "params.yaml"
    path.write_bytes(content)
    for stage in STAGES:
        _assert_one_message(_run(empty_project, stage, "--params", str(path)), stage)


@SETTINGS
@given(
    content=st.binary(max_size=300),
    name=st.sampled_from(["items.csv", "gold.csv", "annotations/a.csv", "annotations/a.json"]),
)
def test_any_bytes_in_a_delivery_give_one_message(empty_project, content, name):
    raw = empty_project / "data" / "raw"
    (raw / "annotations").mkdir(parents=True, exist_ok=True)
    (raw / "items.csv").write_text("item_id,x\ni1,1\ni2,2\n")
    (raw / "annotations" / "a.csv").write_text("item_id,annotator_id,label\ni1,ann,cat\n")
    (raw / "gold.csv").unlink(missing_ok=True)
    (raw / "annotations" / "a.json").unlink(missing_ok=True)
    (raw / name).write_bytes(content)
    params = empty_project / "params.yaml"
    params.write_text(
        yaml.safe_dump({**DEFAULTS, "data": {**DEFAULTS["data"], "labels": ["cat", "dog"]}})
    )
    result = _run(empty_project, "prepare", "--params", str(params))
    if result.exit_code == 0:  # the bytes happened to be a valid table
        return
    _assert_one_message(result, "prepare")
    alone = _run(empty_project, "label-merge", "--annotations", str(raw / "annotations"),
                 "--gold", str(raw / name), "--out", "merged", "--params", str(params))  # fmt: skip
    if alone.exit_code != 0:
        _assert_one_message(alone, "label-merge")


@SETTINGS
@given(content=st.binary(max_size=300))
def test_any_bytes_as_the_model_give_one_message(empty_project, content):
    (empty_project / "models").mkdir(exist_ok=True)
    (empty_project / "models" / "model.skops").write_bytes(content)
    (empty_project / "params.yaml").write_text(yaml.safe_dump(DEFAULTS))
    _assert_one_message(_run(empty_project, "evaluate"), "evaluate")


@pytest.mark.parametrize(
    "document",
    [
        "seed: " + "[" * 50_000 + "]" * 50_000,
        "seed: " + "{a: " * 5_000 + "1" + "}" * 5_000,
        "[" * 200_000,
    ],
    ids=["deep list", "deep mapping", "unclosed"],
)
def test_deep_nesting_in_params_gives_one_message(empty_project, document):
    (empty_project / "params.yaml").write_text(document)
    for stage in STAGES:
        _assert_one_message(_run(empty_project, stage), stage)
    _assert_one_message(_run(empty_project, "params", "--check"), "params")


def test_deep_nesting_in_an_export_gives_one_message(empty_project):
    exports = empty_project / "exports"
    exports.mkdir()
    (exports / "a.json").write_text("[" * 200_000 + "]" * 200_000)
    _assert_one_message(_run(empty_project, "label-merge", "--annotations", "exports", "--out", "m"),
                        "label-merge")  # fmt: skip
