"""Progress for people at a terminal (rich): a pulsing bar with the elapsed time for one long
step, a filling bar for counted work. Where stderr is not a terminal, or CI is set, nothing is
shown, so logs and captured output stay the stage's own lines. Work nested inside a step gets
its own line under it, in the same display.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

Item = TypeVar("Item")
_display: Any = None  # the rich Progress on screen, while one is


def is_interactive() -> bool:
    stderr = sys.stderr  # None when the process was started with stderr closed (2>&-)
    return stderr is not None and stderr.isatty() and not os.environ.get("CI")


@contextmanager
def _opened() -> Iterator[Any]:
    """The one display (rich Progress) on stderr, at most 99 columns wide, while open."""
    global _display
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True, width=min(Console(stderr=True).width, 99))
    columns = (SpinnerColumn(finished_text=" "), TextColumn("{task.description}"),
               BarColumn(bar_width=20), TaskProgressColumn(), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as display:
        _display = display
        try:
            yield display
        finally:
            _display = None


@contextmanager
def _task(description: str, total: int | None) -> Iterator[Any]:
    """A line in the display (opened here if none is), and a function that advances it."""
    with ExitStack() as stack:
        display = _display if _display is not None else stack.enter_context(_opened())
        task = display.add_task(f"  {description}", total=total)
        yield lambda: display.advance(task)
        display.update(task, total=total or 1, completed=total or 1)


@contextmanager
def step(description: str) -> Iterator[None]:
    """A pulsing bar while the block runs; full, with the time it took, when it is done."""
    if not is_interactive():
        yield
        return
    with _task(description, None):
        yield


def counted(items: Iterable[Item], description: str, total: int) -> Iterator[Item]:
    """``items`` as they come, with a bar of how many of ``total`` are done."""
    if not is_interactive():
        yield from items
        return
    with _task(description, total) as advance:
        for item in items:
            yield item
            advance()
