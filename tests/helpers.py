"""Helpers the tests and benchmarks share: running a command in a project, and copying the
template into a new Git repository. Nothing imports from a test module."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The template's demo configuration (tests/demo_config/README.md): what the tests run, whatever
# a team has made of the project's own params.yaml, suite and labeling config.
DEMO_CONFIG = PROJECT_ROOT / "tests" / "demo_config"
# Each file of the project's configuration, and its copy in DEMO_CONFIG (DVC's config under
# another name: a folder holding `.dvc/` would be a DVC repository of its own).
DEMO_FILES = {
    "params.yaml": "params.yaml",
    "expectations/default.yaml": "expectations/default.yaml",
    "expectations/text-example.yaml": "expectations/text-example.yaml",
    "labelling/config.xml": "labelling/config.xml",
    ".dvc/config": "dvc-config",  # the template's local default remote, not a team's storage
}
DEMO_PARAMS = DEMO_CONFIG / "params.yaml"
DEMO_SUITE = DEMO_CONFIG / "expectations" / "default.yaml"
# The md5 `dvc add` records for the demo delivery (`python -m stages demo-data`); a test checks
# it against a fresh clone's.
DEMO_RAW_MD5 = "fa939fa2f2e42b163b8aafcbb3cfe43c.dir"


def is_demo_project() -> bool:
    """Whether this project is the template itself: its data/raw.dvc records the demo."""
    import yaml

    raw = PROJECT_ROOT / "data" / "raw.dvc"
    if not raw.exists():
        return False
    outs = (yaml.safe_load(raw.read_text()) or {}).get("outs") or [{}]
    return outs[0].get("md5") == DEMO_RAW_MD5


def project_env(**changes: str | None) -> dict[str, str]:
    """This environment for a project's commands; ``changes`` set variables (None: unset)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "MAKEFLAGS", "MAKELEVEL")
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CI"] = "true"
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def sh(
    cwd: Path, *args: str, check: bool = True, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in ``cwd``; ``env`` changes variables as ``project_env`` does."""
    result = subprocess.run(
        args, cwd=cwd, env=project_env(**(env or {})), capture_output=True, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def ran_stages(output: str) -> list[str]:
    return [
        line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")
    ]


def copy_template(root: Path) -> Path:
    """The template's tracked and new files, committed in a new Git repository, with the
    demo's configuration (DEMO_FILES) in place of the project's own."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = PROJECT_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    for name, copy in DEMO_FILES.items():  # the demo's configuration, for the demo's data
        (root / name).parent.mkdir(parents=True, exist_ok=True)  # a team may have removed it
        shutil.copy2(DEMO_CONFIG / copy, root / name)
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "config", "user.email", "ci@example.org")
    sh(root, "git", "config", "user.name", "CI")
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-q", "-m", "template")
    return root


def labelling_config(root: Path, labels: list[str]) -> str:
    """A Label Studio config for ``labels`` (spelled with a capital) showing the item id; its
    path, for ``label_merge.relabel.config``."""
    choices = "".join(f'<Choice value="{label.title()}"/>' for label in labels)
    (root / "config.xml").write_text(
        f'<View><Text name="id" value="$item_id"/><Choices name="label" toName="id">{choices}'
        "</Choices></View>"
    )
    return str(root / "config.xml")


def text_project_params(root: Path, labels: list[str]) -> dict:
    """The template's params for a text dataset: its labels, the suite for text, TF-IDF on the
    ``text`` column, 3 folds for label issues (small data). The caller writes them. Also writes
    the team's Label Studio config, whose choices spell the labels with a capital."""
    from xml.sax.saxutils import quoteattr

    import yaml

    choices = "".join(f"<Choice value={quoteattr(label.capitalize())}/>" for label in labels)
    (root / "labelling" / "config.xml").write_text(
        '<View><Text name="review" value="$text"/>'
        f'<Choices name="sentiment" toName="review">{choices}</Choices></View>'
    )

    params = yaml.safe_load((root / "params.yaml").read_text())
    params["data"]["labels"] = labels
    params["validate"]["suite"] = "expectations/text-example.yaml"
    params["train"]["features"] = {
        "numeric": [],
        "text": ["text"],
        "tfidf": {"ngram_range": [1, 1], "min_df": 1},
    }
    params["train"]["label_issues"]["folds"] = 3
    return params


def error_message(output: str, prefix: str = "error: ") -> str:
    """The last message in ``output`` that starts with ``prefix``, its lines joined into one.

    Checks its shape: its lines after the first are indented, and every line is under 100
    columns, except one that holds a single word (a path, a huge value) after its prefix.
    """
    lines = output.rstrip().splitlines()
    starts = [at for at, line in enumerate(lines) if line.startswith(prefix)]
    assert starts, output
    message = lines[starts[-1] : starts[-1] + 1]
    message += itertools.takewhile(lambda line: line.startswith("  "), lines[starts[-1] + 1 :])
    wide = [line for line in message if len(line) >= 100]
    assert all(len(line.removeprefix(prefix).split()) == 1 for line in wide), output
    return " ".join(" ".join(message).split())
