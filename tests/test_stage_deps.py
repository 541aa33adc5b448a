"""Every stage depends on all the code it runs, so that DVC reruns it when any of it changes.

dvc.yaml may name a package's folder instead of its files (a folder covers every file in it);
every listed folder or file must hold code the stage imports.

A stage's code is the import closure of its command (`python -m stages <stage>`): the entry
point, the command's module and every project module they import, at the top or inside a
function, transitively, with the `__init__.py` of each package on the way; and the `assets/`
folder of each of those packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from stages.cli import COMMANDS
from tests.conftest import PROJECT_ROOT

ENTRY = "stages.__main__"


def module_file(name: str, root: Path = PROJECT_ROOT) -> Path | None:
    path = root.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path, package: str) -> set[str]:
    """Project modules a file imports anywhere in it (``stages.x``, ``from stages import x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "stages" or name.startswith("stages.")}


def import_closure(start: list[str], root: Path = PROJECT_ROOT) -> set[str]:
    """Files (relative, POSIX) of the project modules reachable from ``start``, with packages."""
    files: set[str] = set()
    todo, seen = list(start), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:n]) for n in range(1, len(parts))]  # parent packages
        path = module_file(name, root)
        if path is None:  # `from stages.x import function`: not a module
            continue
        files.add(path.relative_to(root).as_posix())
        package = name if path.name == "__init__.py" else ".".join(parts[:-1])
        todo += sorted(imported_modules(path, package))
    return files


def stage_code(stage: str) -> set[str]:
    """The stage's modules, and the ``assets/`` folder (files a module copies or reads) of
    each package they are in."""
    module, _, _ = COMMANDS[stage]
    code = import_closure([ENTRY, module])
    packages = {PROJECT_ROOT / Path(path).parent for path in code}
    assets = {folder / "assets" for folder in packages if (folder / "assets").is_dir()}
    return code | {folder.relative_to(PROJECT_ROOT).as_posix() for folder in assets}


def covered(path: str, deps: list[str]) -> bool:
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


PIPELINE = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_every_module_a_stage_runs_is_one_of_its_deps(stage):
    deps = PIPELINE[stage]["deps"]
    missing = sorted(path for path in stage_code(stage) if not covered(path, deps))
    assert not missing, f"dvc.yaml: stage {stage} runs {missing} but does not list them in deps"


@pytest.mark.parametrize("stage", sorted(PIPELINE))
def test_a_stage_lists_no_code_it_does_not_run(stage):
    code = stage_code(stage)
    listed = [dep for dep in PIPELINE[stage]["deps"] if dep.startswith("stages")]
    unused = [dep for dep in listed if not any(covered(path, [dep]) for path in code)]
    assert not unused, f"dvc.yaml: stage {stage} lists {unused}, which it never imports"


def test_the_closure_follows_imports_inside_functions_and_packages(tmp_path):
    (tmp_path / "stages" / "sub").mkdir(parents=True)
    (tmp_path / "stages" / "__init__.py").write_text("")
    (tmp_path / "stages" / "sub" / "__init__.py").write_text("from . import leaf\n")
    (tmp_path / "stages" / "sub" / "leaf.py").write_text("")
    (tmp_path / "stages" / "cmd.py").write_text(
        "def run():\n    from stages.sub import thing\n    import stages.other\n"
    )
    (tmp_path / "stages" / "other.py").write_text("")
    assert import_closure(["stages.cmd"], tmp_path) == {
        "stages/__init__.py",
        "stages/cmd.py",
        "stages/other.py",
        "stages/sub/__init__.py",
        "stages/sub/leaf.py",
    }


@pytest.mark.e2e
@pytest.mark.parametrize(
    "module",
    ["stages/truth/em.py", "stages/training/linear.py", "stages/commands/__init__.py"],
)  # fmt: skip
def test_a_comment_added_to_a_module_makes_dvc_rerun_every_stage_that_imports_it(project, module):
    import json

    from tests.helpers import sh

    with (project / module).open("a") as handle:
        handle.write("# a comment\n")
    status = json.loads(sh(project, "dvc", "status", "--json").stdout or "{}")
    runs = {stage for stage in PIPELINE if module in stage_code(stage)}
    declared = {stage for stage in PIPELINE if covered(module, PIPELINE[stage]["deps"])}
    assert runs and runs <= set(status) == declared, (module, sorted(status))
