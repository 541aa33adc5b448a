import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from stages.cli import COMMANDS, main
from stages.core.errors import DataError


def test_group_help_lists_every_stage():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("prepare", "validate", "label-merge", "train", "evaluate", "demo-data"):
        assert name in result.output


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_explains_itself(name):
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "--params" in result.output or name == "demo-data"


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from click.testing import CliRunner; from stages.cli import main; "
        "r = CliRunner().invoke(main, ['--help']); "
        "heavy = [m for m in ('pandas', 'sklearn', 'great_expectations', 'numpy') "
        "if m in sys.modules]; "
        "print(r.exit_code, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0 []"


def test_data_error_exits_2_with_one_line(monkeypatch):
    @click.command()
    def broken() -> None:
        raise DataError("data/raw/batch.csv", "line 7", "empty label")

    monkeypatch.setitem(COMMANDS, "broken", ("tests.test_cli", "_unused", "x"))
    monkeypatch.setattr(type(main), "get_command", lambda self, ctx, name: broken)
    result = CliRunner().invoke(main, ["broken"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: data/raw/batch.csv: line 7: empty label"
    assert "Traceback" not in result.output


def test_library_warnings_are_one_line_each_and_once(monkeypatch):
    import warnings

    @click.command()
    def noisy() -> None:
        for _ in range(3):
            warnings.warn("pandas says\nsomething on two lines", FutureWarning, stacklevel=1)
        click.echo("noisy: done")

    monkeypatch.setitem(COMMANDS, "noisy", ("tests.test_cli", "_unused", "x"))
    monkeypatch.setattr(type(main), "get_command", lambda self, ctx, name: noisy)
    result = CliRunner().invoke(main, ["noisy"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "noisy: done",
        "warning: FutureWarning: pandas says something on two lines",
    ]


def test_a_value_in_a_message_reads_as_written_unless_a_look_alike_could_hide():
    """Labels in Japanese or Arabic were all \\u escapes; a word mixing Latin letters with
    another script's (a Cyrillic "\\u0441" in "cat") still shows in escapes, as do control and
    bidi characters; a megabyte value costs no time (no backtracking pattern)."""
    from stages.core.terminal import quoted

    assert quoted("アカウントのログイン") == "'アカウントのログイン'"
    assert quoted("استرداد المبلغ VIP") == "'استرداد المبلغ VIP'"  # two words, two scripts
    assert quoted("\u0441at") == "'\\u0441at'"
    assert quoted("\u0441\u0430\u0442") == "'\\u0441\\u0430\\u0442'"  # all Cyrillic: reads "cat"
    assert quoted("café crème") == "'café crème'"  # accented Latin is Latin
    assert quoted("a\u202eb") == "'a\\u202eb'" and quoted("x\x1by") == "'x\\x1by'"
    assert quoted("x" * 10**6 + "é").startswith("'xxx")


def test_lines_are_under_100_columns_counting_a_wide_character_as_two():
    """A Chinese, Japanese or Korean character takes two columns on a terminal: a message of
    Japanese labels had lines of 150 columns that counted as 99 characters."""
    from stages.core.terminal import columns, wrapped

    assert columns("ログイン") == 8 and columns("e\u0301") == 1 and columns("abc") == 3
    labels = " ".join(f"'アカウントのログイン{number}'," for number in range(15))
    lines = wrapped("evaluate: ", f"never predicted: {labels}").splitlines()
    assert len(lines) > 1 and all(columns(line) <= 99 for line in lines)
    assert " ".join(" ".join(lines).split()) == f"evaluate: never predicted: {labels}"
    assert len(wrapped("error: ", "xy " * 200).splitlines()[0]) == 99  # ASCII fills as before


def test_a_value_longer_than_a_line_loses_its_middle_and_a_path_stays_whole():
    """A 120-character label stood alone on a 130-column line; a path is still never cut, so
    that it can be copied."""
    from stages.core.terminal import columns, wrapped

    label = "start-" + "x" * 120 + "-end"
    lines = wrapped("error: ", f"b.csv: line 3: label '{label}' is not in --labels").splitlines()
    assert all(columns(line) <= 99 for line in lines), lines
    assert any("'start-x" in line and "x-end'" in line and "…" in line for line in lines)
    path = "/data/" + "p" * 120 + "/batch.json"
    assert path in wrapped("error: ", f"see {path} for the records").split()


def test_no_line_of_a_message_starts_a_ci_runner_command():
    """A value wrapped onto a line of its own ("  ::error title=...::...") was a command to
    GitHub Actions, which trims the spaces: data could raise alerts or mask the log."""
    from stages.core.terminal import wrapped

    value = "/" + "A" * 90 + " ::error title=Security alert::Build tampered ##vso[task.complete]"
    lines = wrapped(
        "warning: ", f"batch.json: task 2: data.image '{value}' is outside"
    ).splitlines()
    assert not any(line.lstrip().startswith(("::", "##")) for line in lines), lines
    assert "\\x3a:error" in " ".join(lines) and "\\x23#vso" in " ".join(lines)
