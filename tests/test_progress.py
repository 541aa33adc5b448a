"""Progress shows on a terminal only, and never changes what the work yields."""

from __future__ import annotations

import pytest

from stages.core import progress


def test_silent_where_not_a_terminal_or_in_ci(capsys, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with progress.step("fitting"):
        done = list(progress.counted(iter("abc"), "folds", 3))
    assert done == ["a", "b", "c"]
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("nested", [False, True])
def test_a_terminal_sees_each_step_and_its_count(capsys, monkeypatch, nested):
    monkeypatch.setattr(progress, "is_interactive", lambda: True)
    with progress.step("fitting the model"):
        inner = progress.counted(range(4), "folds", 4) if nested else range(4)
        assert list(inner) == [0, 1, 2, 3]
    shown = capsys.readouterr().err
    assert "fitting the model" in shown and "100%" in shown
    assert ("folds" in shown) == nested
    assert progress._display is None  # closed: the next step opens its own


def test_a_process_started_with_stderr_closed_is_not_interactive(monkeypatch):
    """`python -m stages prepare 2>&-` leaves sys.stderr None: the stage runs, silently."""
    import sys

    from stages.core import progress

    monkeypatch.setattr(sys, "stderr", None)
    assert progress.is_interactive() is False
