"""dvc.yaml is the interface: each stage's command passes its paths explicitly, the same paths
the command takes by default (stages/core/catalog.py), and every path DVC tracks for the stage
lies under one the command is given."""

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


def passed(stage: str) -> dict[str, str]:
    words = shlex.split(PIPELINE[stage]["cmd"])
    assert words[:4] == ["python", "-m", "stages", stage]
    return dict(zip(words[4::2], words[5::2], strict=True))


def tracked(stage: str) -> list[str]:
    spec = PIPELINE[stage]
    paths = [p for p in spec.get("deps", []) if not p.startswith("stages")]
    for key in ("outs", "metrics", "plots"):
        paths += [next(iter(p)) if isinstance(p, dict) else p for p in spec.get(key, [])]
    return paths


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_dvc_yaml_passes_every_path_the_command_takes_with_its_default(stage):
    assert passed(stage) == path_defaults(stage)


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
def test_every_path_dvc_tracks_is_under_a_path_the_command_is_given(stage):
    given = [Path(path) for path in passed(stage).values()] + named_by_params(stage)
    for path in map(Path, tracked(stage)):
        assert any(path == g or g in path.parents or path in g.parents for g in given), path


def test_the_catalog_names_each_path_once():
    values = [value for name, value in vars(catalog).items() if name.isupper()]
    assert len(values) == len(set(values))
