"""The template's own files: every pipeline output is ignored by Git, DVC is set up to share."""

import configparser
import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.helpers import DEMO_CONFIG, DEMO_FILES, DEMO_PARAMS, is_demo_project


def _declared_outputs() -> list[tuple[str, bool]]:
    """Every output in dvc.yaml, and whether DVC caches it (else it lives in Git)."""
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    paths = []
    for stage in stages.values():
        for key in ("outs", "metrics", "plots"):
            for entry in stage.get(key, []):
                path = next(iter(entry)) if isinstance(entry, dict) else entry
                options = entry[path] if isinstance(entry, dict) else None
                paths.append((path, (options or {}).get("cache", True)))
    return paths


def _ignored(path: str) -> bool:
    return (
        subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", path], cwd=PROJECT_ROOT
        ).returncode
        == 0
    )


@pytest.mark.parametrize(("path", "cached"), _declared_outputs())
def test_cached_outputs_are_ignored_by_git_and_metrics_are_not(path, cached):
    # A folder output may not exist yet: ask about a file inside it too.
    ignored = _ignored(path) or _ignored(f"{path}/any-file")
    if cached:
        assert ignored, f"{path} is cached by DVC but not covered by .gitignore"
    else:
        assert not ignored, f"{path} has cache: false (it lives in Git) but .gitignore hides it"


def test_metrics_and_plots_live_in_git():
    """`dvc metrics diff main` on a runner with no remote needs main's metrics in its commit."""
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    for stage in stages.values():
        for entry in stage.get("metrics", []) + stage.get("plots", []):
            assert isinstance(entry, dict), f"{entry}: declare it with cache: false"
            path = next(iter(entry))
            assert entry[path].get("cache") is False, f"{path}: declare it with cache: false"


def test_dvc_config_has_analytics_off_and_a_local_default_remote():
    """The template's (a team then adds its own storage as the default)."""
    config = configparser.ConfigParser()
    config.read(DEMO_CONFIG / DEMO_FILES[".dvc/config"])
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


def test_the_workflow_schema_check_catches_a_typo(tmp_path):
    import shutil

    checker = shutil.which("check-jsonschema") or str(
        PROJECT_ROOT / ".venv" / "bin" / "check-jsonschema"
    )
    workflow = (PROJECT_ROOT / ".github" / "workflows" / "reproduce.yml").read_text()
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(workflow)
    bad.write_text(workflow.replace("runs-on:", "runs_on:", 1))
    command = [checker, "--builtin-schema", "vendor.github-workflows"]
    assert subprocess.run([*command, str(good)], capture_output=True).returncode == 0
    assert subprocess.run([*command, str(bad)], capture_output=True).returncode != 0


def test_every_action_is_pinned_to_a_release_commit_that_dependabot_updates():
    """A tag such as @v4 can be moved to other code; a commit cannot. The comment names the
    release, so a person (and Dependabot) sees what the pin is."""
    import re

    lines = (PROJECT_ROOT / ".github" / "workflows" / "reproduce.yml").read_text().splitlines()
    uses = [line.split("uses:", 1)[1].strip() for line in lines if "uses:" in line]
    assert uses
    pinned = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+")
    assert [use for use in uses if not pinned.fullmatch(use)] == []
    dependabot = yaml.safe_load((PROJECT_ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = [update["package-ecosystem"] for update in dependabot["updates"]]
    assert "github-actions" in ecosystems


def test_committed_dvc_config_holds_no_credentials():
    text = (PROJECT_ROOT / ".dvc" / "config").read_text().lower()
    for secret in ("access_key", "secret", "password", "token", "credential", "session"):
        assert secret not in text, f".dvc/config mentions {secret}: keep it in .dvc/config.local"
    assert (
        ".dvc/config.local"
        not in subprocess.run(
            ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout
    )


def test_pre_commit_config_is_valid_and_uses_the_project_environment():
    import shutil

    config = PROJECT_ROOT / ".pre-commit-config.yaml"
    tool = shutil.which("pre-commit") or str(PROJECT_ROOT / ".venv" / "bin" / "pre-commit")
    assert (
        subprocess.run([tool, "validate-config", str(config)], capture_output=True).returncode == 0
    )
    hooks = {
        hook["id"]: hook
        for repo in yaml.safe_load(config.read_text())["repos"]
        for hook in repo["hooks"]
    }
    assert {
        "ruff-check",
        "ruff-format",
        "dvc-pre-commit",
        "dvc-pre-push",
        "dvc-post-checkout",
    } <= set(hooks)
    assert all(hook["entry"].startswith(".venv/bin/") for hook in hooks.values())
    # Every hook names its one moment: without `stages`, the ruff hooks also ran (as
    # "Skipped") on every checkout and push.
    assert all(len(hook["stages"]) == 1 for hook in hooks.values())


def _dvc_md5(path):
    import hashlib
    import json

    if path.is_file():
        return hashlib.md5(path.read_bytes()).hexdigest()
    entries = sorted(
        ({"md5": hashlib.md5(p.read_bytes()).hexdigest(), "relpath": p.relative_to(path).as_posix()}
         for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts),
        key=lambda entry: entry["relpath"],
    )  # fmt: skip
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir"


@pytest.mark.parametrize("name", DEMO_FILES)
def test_the_demo_configuration_the_tests_run_is_the_templates_own(name):
    """The tests run the demo with tests/demo_config/ (its README says why): while this
    project is the template itself, those files must be the project's own, or the tests
    would check a configuration the template does not ship."""
    if not is_demo_project():
        pytest.skip("this project has its own data: the tests run the demo's configuration")
    copy = DEMO_FILES[name]
    assert (PROJECT_ROOT / name).read_bytes() == (DEMO_CONFIG / copy).read_bytes(), (
        f"{name} differs from tests/demo_config/{copy}: copy the one you changed over the other"
    )


def test_committed_dvc_lock_matches_the_code_and_suites():
    """Fails fast (before the end-to-end tests) when code changed without `dvc repro`."""
    lock = yaml.safe_load((PROJECT_ROOT / "dvc.lock").read_text())
    stale = []
    for name, stage in lock["stages"].items():
        for dep in stage.get("deps", []):
            is_code = dep["path"].split("/")[0] in ("stages", "expectations")
            if is_code and _dvc_md5(PROJECT_ROOT / dep["path"]) != dep["md5"]:
                stale.append(f"{name}: {dep['path']}")
    assert not stale, f"dvc.lock is stale for {stale}: run `dvc repro` and commit dvc.lock"


@pytest.mark.parametrize(
    ("override", "changed"),
    [
        ("seed=42", 0),
        ("train.logistic_regression.C=0.5", 1),
        ("train.features.tfidf.min_df=2", 1),
        ("label_merge.relabel.max_tasks=10", 1),
        ("train.model=linear_svm", 1),
    ],
)
def test_dvc_exp_run_set_param_changes_one_line_of_params_yaml(tmp_path, override, changed):
    """`dvc exp run -S` rewrites params.yaml through DVC's own YAML round trip (the function
    below is what it calls): written in the form that round trip keeps (block lists, empty
    nulls, no comment after a list), the file changes by the overridden line only, so a team
    that applies an experiment commits a one-line diff."""
    from dvc.utils.hydra import apply_overrides

    before = DEMO_PARAMS.read_text()
    copy = tmp_path / "params.yaml"
    copy.write_text(before)
    apply_overrides(copy, [override])
    after = copy.read_text()
    differing = [
        (old, new)
        for old, new in zip(before.splitlines(), after.splitlines(), strict=False)
        if old != new
    ]
    assert len(before.splitlines()) == len(after.splitlines())
    assert len(differing) == changed, differing


def test_make_help_lists_every_target():
    phony = next(
        line
        for line in (PROJECT_ROOT / "Makefile").read_text().splitlines()
        if line.startswith(".PHONY:")
    ).split()[1:]
    shown = subprocess.run(
        ["make", "-s", "help"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    listed = {line.split()[1] for line in shown.splitlines() if line.startswith("make ")}
    assert listed == set(phony)  # each target says what it does on its own line (## ...)


def test_make_says_why_python_cannot_start_under_lc_all_c_in_a_non_ascii_path(tmp_path):
    """Python 3.11 reads the editable install's .pth (the project's path) as ASCII under
    LC_ALL=C: every command died with "Fatal Python error: init_import_site"."""
    project = tmp_path / "étiquettes"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "Makefile", project)
    env = {**os.environ, "LC_ALL": "C"}
    result = subprocess.run(
        ["make", "-s", "help"], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2 and "Run with LC_ALL=C.UTF-8" in result.stderr, result.stderr
    env["LC_ALL"] = "C.UTF-8"
    assert (
        subprocess.run(["make", "-s", "help"], cwd=project, env=env, capture_output=True).returncode
        == 0
    )


def test_the_readme_counts_the_params_dvc_shows():
    """DVC shows every leaf of params.yaml (an empty mapping has none): the README says how
    many, and the count must follow the file."""
    import re

    def leaves(section: dict) -> int:
        return sum(leaves(v) if isinstance(v, dict) else 1 for v in section.values())

    count = leaves(yaml.safe_load(DEMO_PARAMS.read_text()))
    said = re.search(
        r"a column for every param \((\d+)\)", (PROJECT_ROOT / "README.md").read_text()
    )
    assert said and int(said.group(1)) == count, (
        f"params.yaml has {count} params (leaves); README.md says "
        f"{said.group(1) if said else 'nothing'} in 'a column for every param (N)': update it"
    )


def test_the_ci_artifacts_carry_every_picture_the_pages_in_them_show():
    """The model card links ../reports/charts/*.svg: an artifact without them showed five
    broken images."""
    import posixpath
    import re

    workflow = yaml.safe_load(
        (PROJECT_ROOT / ".github" / "workflows" / "reproduce.yml").read_text()
    )
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    (upload,) = [step for step in steps if "upload-artifact" in step.get("uses", "")]
    gitlab = yaml.safe_load((PROJECT_ROOT / ".gitlab-ci.yml").read_text())
    for paths in (upload["with"]["path"].split(), gitlab["reproduce"]["artifacts"]["paths"]):

        def carried(path: str, paths: list[str] = paths) -> bool:
            return any(path == p or (p.endswith("/") and path.startswith(p)) for p in paths)

        for page in ("models/model_card.md", "reports/evaluation.md"):
            if not carried(page):
                continue
            links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (PROJECT_ROOT / page).read_text())
            assert links or page != "models/model_card.md"
            for link in links:
                assert carried(posixpath.normpath(posixpath.join(posixpath.dirname(page), link)))


def test_a_teams_own_configuration_does_not_reach_the_tests_copies(tmp_path, monkeypatch):
    """After "Bring your own data" (a label set of its own, its storage as the default remote,
    no Label Studio config), a copy of the project runs the demo's configuration: 44 tests had
    failed on such a project, and one pushed the demo into the team's remote."""
    from tests import helpers

    team = tmp_path / "team"
    subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(team)], check=True)
    params = yaml.safe_load((team / "params.yaml").read_text())
    params["data"]["labels"] = ["neg", "pos"]
    (team / "params.yaml").write_text(yaml.safe_dump(params))
    (team / "labelling" / "config.xml").unlink()
    (team / "labelling").rmdir()
    (team / ".dvc" / "config").write_text(
        "[core]\n    remote = team\n['remote \"team\"']\n    url = s3://team-bucket/store\n"
    )
    monkeypatch.setattr(helpers, "PROJECT_ROOT", team)
    copy = helpers.copy_template(tmp_path / "copy")
    for name, demo in DEMO_FILES.items():
        assert (copy / name).read_bytes() == (DEMO_CONFIG / demo).read_bytes(), name
