"""The template's own files: every pipeline output is ignored by Git, DVC is set up to share."""

import configparser
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT


def _declared_outputs() -> list[str]:
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    paths = []
    for stage in stages.values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key, []):
                paths.append(next(iter(entry)) if isinstance(entry, dict) else entry)
    return paths


@pytest.mark.parametrize("path", _declared_outputs())
def test_every_pipeline_output_is_ignored_by_git(path):
    # A folder output may not exist yet: ask about a file inside it too.
    ignored = [
        subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", name], cwd=PROJECT_ROOT
        ).returncode
        == 0
        for name in (path, f"{path}/any-file")
    ]
    assert any(ignored), f"{path} is not covered by .gitignore"


def test_dvc_config_has_analytics_off_and_a_local_default_remote():
    config = configparser.ConfigParser()
    config.read(PROJECT_ROOT / ".dvc" / "config")
    assert config["core"]["analytics"] == "false"
    remote = config["core"]["remote"]
    url = config[f"'remote \"{remote}\"'"]["url"]
    assert "://" not in url  # a folder, so that `dvc push` works on any fresh clone
    assert (PROJECT_ROOT / ".dvc" / url).resolve().parent == PROJECT_ROOT.resolve()
    assert (
        subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", ".dvc-remote/x"], cwd=PROJECT_ROOT
        ).returncode
        == 0
    )
