"""A commit whose dvc.lock does not record its own inputs: committed after `dvc add` or an
edit, without `dvc repro`. check-repro names it so, rather than as outputs that differ."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from stages.core.yaml_rules import load_yaml_1_2
from stages.reproducibility.check import STALE_LOCK, Problem, committed_bytes, inside


def stale_stages(root: Path, statuses: dict, outputs: Collection[str]) -> list[Problem]:
    """Stages whose inputs (data, code, params; not other stages' outputs) the commit's
    dvc.lock records otherwise than the commit holds them: committed after `dvc add` or an
    edit without `dvc repro`. Its outputs are then not what the commit's inputs make, whether
    or not the pipeline reproduces, so that is the finding. With the working tree's lock as
    committed, `dvc status` says so; once a `dvc repro` rewrote it, the two locks do."""
    committed = load_yaml_1_2((committed_bytes(root, "dvc.lock") or b"").decode()) or {}
    working = root / "dvc.lock"
    now = load_yaml_1_2(working.read_text()) if working.is_file() else {}
    stages, stages_now = committed.get("stages") or {}, (now or {}).get("stages") or {}
    changed: dict[str, list[str]] = {}
    if stages == stages_now:
        for name, changes in statuses.items():
            for change in changes if isinstance(changes, list) else []:
                deps = change.get("changed deps") if isinstance(change, dict) else None
                changed.setdefault(name, []).extend(_input_names(deps or {}, outputs))
    else:
        for name, stage in stages.items():
            if name not in statuses and name in stages_now:  # as the inputs are now
                before, after = _inputs(stage, outputs), _inputs(stages_now[name], outputs)
                changed[name] = sorted(k for k in before | after if before.get(k) != after.get(k))
    return [
        Problem("dvc.lock", f"{STALE_LOCK}: stage {name}: {', '.join(inputs)} changed after "
                "the lock recorded it")
        for name, inputs in sorted(changed.items()) if inputs
    ]  # fmt: skip


def _input_names(deps: dict, outputs: Collection[str]) -> list[str]:
    names = []
    for path, state in sorted(deps.items()):
        if isinstance(state, dict):  # a params file: the keys that changed
            names += [f"{path}:{key}" for key in sorted(state)]
        elif not inside(path, outputs):
            names.append(path)
    return names


def _inputs(stage: dict, outputs: Collection[str]) -> dict[str, object]:
    """A locked stage's inputs: each dependency's hash, each param's value."""
    found: dict[str, object] = {
        dep["path"]: dep.get("md5") or dep.get("hash")
        for dep in stage.get("deps") or []
        if not inside(dep["path"], outputs)
    }
    for path, values in (stage.get("params") or {}).items():
        found.update({f"{path}:{key}": value for key, value in (values or {}).items()})
    return found
