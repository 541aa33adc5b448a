"""Does this commit reproduce? The checks a CI job runs on a fresh clone.

The reference is the commit: the ``dvc.lock`` recorded in ``HEAD`` (never the working tree's
copy, which ``dvc repro`` rewrites and, with autostage, stages) and the outputs it names.

1. The commit is complete: tracked files as committed, the workspace's data as dvc.lock says,
   every output in the DVC cache or the remote.
2. ``dvc repro -f`` reruns everything; each output's new hash is compared with HEAD's.
3. A mismatch is one message per output: path, old and new hash and size, and what changed
   (rows, columns, values, metric deltas, how far the model's parameters moved).

The rule depends on the machine (docs/reproducibility.md): on the reference numerics every
byte must match; elsewhere (another architecture, an OpenBLAS kernel forced by the environment)
tables and models must match within a tolerance and metrics within ``metric_tolerance``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from stages.core.yaml_rules import load_yaml_1_2
from stages.reproducibility.output_diff import Rule, describe


@dataclass(frozen=True)
class Problem:
    path: str
    what: str

    def line(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass(frozen=True)
class Output:
    """One output as a dvc.lock records it."""

    path: str
    md5: str
    size: int | None

    def label(self) -> str:
        size = f", {self.size} bytes" if self.size is not None else ""
        return f"md5 {self.md5[:12]}{size}"


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from stages.core.errors import DataError

    try:
        return subprocess.run(
            list(args), cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise DataError(
            args[0], None, "not found: run `make check-repro`, or activate .venv first"
        ) from None


def dvc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(root, "dvc", *args)


def committed_bytes(root: Path, path: str) -> bytes | None:
    """A file as HEAD records it, or None when the commit has no such file."""
    shown = subprocess.run(
        ["git", "show", f"HEAD:{path}"], cwd=root, capture_output=True, stdin=subprocess.DEVNULL
    )
    return shown.stdout if shown.returncode == 0 else None


def lock_outputs(lock_text: str | None) -> dict[str, Output]:
    lock = load_yaml_1_2(lock_text or "") or {}  # DVC writes it by YAML 1.2
    return {
        out["path"]: Output(out["path"], str(out.get("md5", "")), out.get("size"))
        for stage in (lock.get("stages") or {}).values()
        for out in stage.get("outs", [])
    }


def working_outputs(root: Path) -> dict[str, Output]:
    lock = root / "dvc.lock"
    return lock_outputs(lock.read_text() if lock.is_file() else None)


def metric_paths(root: Path) -> set[str]:
    pipeline = load_yaml_1_2((root / "dvc.yaml").read_text()) or {}
    return {
        next(iter(entry)) if isinstance(entry, dict) else entry
        for stage in pipeline.get("stages", {}).values()
        for entry in stage.get("metrics", [])
    }


MISSING = "in neither the DVC cache nor the remote: run `dvc push` where it was made"
CHANGED_INPUT = "changed since the commit"
STALE_LOCK = "out of date in the commit"


def check_committed(root: Path, outputs: Collection[str] = ()) -> list[Problem]:
    """Step 1: code, params and data as committed, and every output stored somewhere.

    dvc.lock and the ``outputs`` it names are left to ``compare_outputs``: a lock and outputs
    that an earlier ``dvc repro`` rewrote are diagnosed output by output. Anything else that
    differs is an input changed since the commit (``CHANGED_INPUT``): then the commit is not
    what would be checked.
    """
    problems = []
    changed = run(root, "git", "status", "--porcelain", "--untracked-files=no")
    for line in changed.stdout.splitlines():
        path = line[3:].split(" -> ")[-1].strip('"')
        if path != "dvc.lock" and not inside(path, outputs):
            fix = f"commit it, or `git checkout HEAD -- {path}`"
            problems.append(Problem(path, f"{CHANGED_INPUT} (HEAD): {fix}"))
    status = dvc(root, "status", "--json")
    if status.returncode != 0:
        return [*problems, Problem("dvc.lock", f"dvc status failed: {last_line(status)}")]
    statuses = json.loads(status.stdout or "{}") or {}
    for name, changes in sorted(statuses.items()):
        if name.endswith(".dvc"):  # data added with `dvc add`: the pipeline's inputs
            for data, state in _changed_outs(changes):
                fix = f"`dvc checkout {name}` restores it, or `dvc add {data}` and commit {name}"
                problems.append(Problem(data, f"{CHANGED_INPUT} ({state}, per {name}): {fix}"))
    if not problems:
        from stages.reproducibility.stale import stale_stages

        problems += stale_stages(root, statuses, outputs)
    cloud = dvc(root, "status", "--cloud", "--json")
    if cloud.returncode == 0:
        for path, state in sorted((json.loads(cloud.stdout or "{}") or {}).items()):
            if state == "missing":
                problems.append(Problem(path, MISSING))
    else:
        problems.append(Problem("remote", f"cannot compare with the remote: {last_line(cloud)}"))
    return problems


def inside(path: str, outputs: Collection[str]) -> bool:
    return any(path == out or path.startswith(out.rstrip("/") + "/") for out in outputs)


def _changed_outs(changes: object) -> list[tuple[str, str]]:
    """(path, state) of each data folder or file `dvc status` finds changed for a .dvc file;
    data only missing from the cache is no change (the cloud status reports what is lost)."""
    found = []
    for change in changes if isinstance(changes, list) else []:
        outs = change.get("changed outs") if isinstance(change, dict) else None
        found += sorted((str(p), str(s)) for p, s in (outs or {}).items() if s != "not in cache")
    return found


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    return lines[-1][:300] if lines else f"exited {result.returncode}"


class Cache:
    """Read files by md5 from the DVC cache (and, for metrics kept in Git, from HEAD)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / ".dvc" / "cache" / "files" / "md5"

    def path(self, md5: str) -> Path:
        return self.folder / md5[:2] / md5[2:]

    def listing(self, md5: str) -> dict[str, str] | None:
        """A directory output's files and their md5s."""
        path = self.path(md5)
        if not path.is_file():
            return None
        return {entry["relpath"]: entry["md5"] for entry in json.loads(path.read_text())}

    def read(self, md5: str) -> bytes | None:
        path = self.path(md5)
        return path.read_bytes() if path.is_file() else None


def compare_outputs(
    root: Path,
    committed: dict[str, Output],
    rerun: dict[str, Output],
    metrics: set[str],
    rule: Rule,
) -> list[Problem]:
    """Each output's hash against the commit's; for those that differ, say how (or accept the
    difference under a tolerance rule)."""
    cache = Cache(root)
    problems = []
    for path in sorted(set(committed) | set(rerun)):
        old, new = committed.get(path), rerun.get(path)
        if new is None:
            problems.append(Problem(path, "no longer produced"))
        elif old is None:
            problems.append(Problem(path, "a new output, not in the commit's dvc.lock"))
        elif old.md5 != new.md5:
            details = _file_changes(cache, old, new, metrics, rule)
            if details:
                problems.append(
                    Problem(path, f"{old.label()} -> {new.label()}: " + "; ".join(details))
                )
    return problems


UNAVAILABLE = "the commit's copy is in neither the DVC cache nor Git (`dvc pull` shows more)"


def _file_changes(
    cache: Cache, old: Output, new: Output, metrics: set[str], rule: Rule
) -> list[str]:
    """What changed in each file of an output; empty when the rule accepts every change."""
    if not old.md5.endswith(".dir"):  # metrics live in Git (cache: false), the rest in the cache
        before = cache.read(old.md5) or committed_bytes(cache.root, old.path)
        current = cache.root / new.path
        after = current.read_bytes() if current.is_file() else None
        if before is None or after is None:
            return [UNAVAILABLE if after is not None else "no longer produced"]
        verdict = describe(old.path, before, after, old.path in metrics, rule)
        return [verdict] if verdict else []
    listed, listing = cache.listing(old.md5), cache.listing(new.md5)
    if listed is None or listing is None:
        in_git = _folder_in_git(cache.root, old.path, rule)
        return [UNAVAILABLE] if in_git is None else in_git
    changes = []
    for name in sorted(set(listed) | set(listing)):
        if listed.get(name) == listing.get(name):
            continue
        if name not in listing:
            verdict: str | None = "no longer produced"
        elif name not in listed:
            verdict = "a new file"
        else:
            before, after = cache.read(listed[name]), cache.read(listing[name])
            verdict = (
                describe(name, before, after, False, rule)
                if before is not None and after is not None
                else UNAVAILABLE
            )
        if verdict:
            changes.append(f"{name}: {verdict}")
    return changes


def _folder_in_git(root: Path, folder: str, rule: Rule) -> list[str] | None:
    """A folder output kept in Git (``cache: false``, such as the charts): what changed in
    its files, committed against the working tree's (None when Git has none of it)."""
    listed = run(root, "git", "ls-tree", "-r", "--name-only", "HEAD", "--", folder)
    committed = [name for name in listed.stdout.splitlines() if name]
    if not committed:
        return None
    base = root / folder
    current = {p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()}
    changes = []
    for name in sorted(set(committed) | current):
        before = committed_bytes(root, name) if name in committed else None
        file = root / name
        after = file.read_bytes() if name in current else None
        if before == after:
            continue
        verdict = (
            "no longer produced"
            if after is None
            else "a new file"
            if before is None
            else describe(name, before, after, False, rule)
        )
        if verdict:
            changes.append(f"{Path(name).relative_to(folder).as_posix()}: {verdict}")
    return changes
