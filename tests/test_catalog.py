"""dvc.yaml is the interface: each stage's command is `python -m stages <stage>`, which reads
and writes its default paths (stages/core/catalog.py); every one of those paths is a dep or an
output of the stage, and every path DVC tracks for the stage lies under one of them."""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path

import click
import pytest
import yaml

from stages.cli import COMMANDS
from stages.core import catalog
from tests.conftest import PROJECT_ROOT

PIPELINE = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]


def command(stage: str) -> click.Command:
    module, attribute, _ = COMMANDS[stage]
    return getattr(importlib.import_module(module), attribute)


def path_defaults(stage: str) -> dict[str, str]:
    """Each path option's flag and default (the params file aside: DVC reads it itself)."""
    return {
        option.opts[0]: str(option.default)
        for option in command(stage).params
        if isinstance(option, click.Option)
        and isinstance(option.type, click.Path)
        and isinstance(option.default, Path)  # standalone-only options have none
        and option.name != "params_file"
    }


def used_paths(stage: str) -> dict[str, Path]:
    """The paths the command uses, a .dvc file standing for the data it records (DVC takes no
    .dvc file as a dep: evaluate names the data version from data/raw.dvc, and depends on
    data/raw)."""
    return {
        flag: Path(path).with_suffix("") if path.endswith(".dvc") else Path(path)
        for flag, path in path_defaults(stage).items()
    }


def covers(path: Path, others: list[Path]) -> bool:
    return any(path == other or other in path.parents or path in other.parents for other in others)


def tracked(stage: str) -> list[str]:
    spec = PIPELINE[stage]
    paths = [p for p in spec.get("deps", []) if not p.startswith("stages")]
    for key in ("outs", "metrics", "plots"):
        paths += [next(iter(p)) if isinstance(p, dict) else p for p in spec.get(key, [])]
    return paths


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_each_command_runs_on_its_defaults_and_dvc_tracks_every_one(stage):
    """A path option given in dvc.yaml would be a second place to change a path; a default
    path DVC does not track would be an input it never checks, or an output it never keeps."""
    assert shlex.split(PIPELINE[stage]["cmd"]) == ["python", "-m", "stages", stage]
    tracked_paths = [Path(path) for path in tracked(stage)]
    for flag, path in used_paths(stage).items():
        assert covers(path, tracked_paths), (stage, flag, path)


def files_named_by_params(stage: str) -> list[Path]:
    """Files the params a stage reads name (validate.suite, label_merge.relabel.config)."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    values, todo = [], []
    for key in PIPELINE[stage].get("params", []):
        node = params
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        todo.append(node)
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            todo += list(node.values())
        else:
            values.append(node)
    return [Path(v) for v in values if isinstance(v, str) and (PROJECT_ROOT / v).is_file()]


def named_by_params(stage: str) -> list[Path]:
    """Folders of files a stage's params name (validate.suite: the expectations)."""
    return [path.parent for path in files_named_by_params(stage)]


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_every_file_a_stage_params_name_is_one_of_its_deps(stage):
    """Moving the suite or the labeling config means changing dvc.yaml's deps too."""
    deps = [Path(dep) for dep in PIPELINE[stage].get("deps", [])]
    for path in files_named_by_params(stage):
        assert any(path == dep or dep in path.parents for dep in deps), (stage, path)


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_every_path_dvc_tracks_is_under_a_path_the_command_uses(stage):
    used = list(used_paths(stage).values()) + named_by_params(stage)
    for path in map(Path, tracked(stage)):
        assert covers(path, used), path


def test_every_chart_template_evaluate_draws_is_a_dep_by_name():
    """DVC hashes a folder inside .dvc/ as empty, so the templates must be listed one by one."""
    from stages.evaluation.charts import CHARTS

    deps = PIPELINE["evaluate"]["deps"]
    templates = {f"{catalog.PLOT_TEMPLATES}/{chart['template']}" for chart in CHARTS.values()}
    assert templates <= set(deps)
    inside = [dep for dep in deps if dep.startswith(".dvc/")]
    assert all((PROJECT_ROOT / dep).is_file() for dep in inside), inside


def test_the_catalog_names_each_path_once():
    values = [value for name, value in vars(catalog).items() if name.isupper()]
    assert len(values) == len(set(values))
