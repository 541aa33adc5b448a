"""Entry point: a Click group whose commands are imported only when they run.

Importing pandas, scikit-learn or Great Expectations costs seconds, so ``--help`` must not.
"""

from __future__ import annotations

import errno
import importlib
import os
import warnings
from pathlib import Path

import click

from stages.core.errors import EXIT_DATA_ERROR, DataError
from stages.core.terminal import wrapped

EXIT_INTERNAL_ERROR = 1

PATH_PROBLEMS: dict[type[OSError], str] = {
    IsADirectoryError: "a folder, where a file is expected: give the file's path",
    NotADirectoryError: "part of this path is a file, where a folder is expected",
    FileExistsError: "exists, and is not a folder: give a folder, or move the file away",
    PermissionError: "permission denied: let this user read it (and write, for an output)",
}

# What the machine refused (errno -> what to do): not bad input and not a bug, and the person
# at the terminal can fix it.
SYSTEM_PROBLEMS: dict[int, str] = {
    errno.ENOSPC: "no space left on the device: free some, then rerun",
    errno.EDQUOT: "disk quota exceeded: free some space, then rerun",
    errno.EFBIG: "file too large for this system's limit (ulimit -f): raise it, then rerun",
    errno.EROFS: "on a read-only file system: write the outputs somewhere writable",
    errno.EMFILE: "too many open files for this process's limit (ulimit -n): raise it",
    errno.ENOMEM: "out of memory: free some, or raise the process's limit (ulimit -v)",
}
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C

# command name -> (module, attribute, one-line help shown by `python -m stages --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo-data": ("stages.commands.demo_data", "demo_data", "Write the bundled demo raw data."),
    "prepare": ("stages.commands.prepare", "prepare", "Raw exports -> canonical Parquet tables."),
    "validate": ("stages.commands.validate", "validate", "Great Expectations gate on tables."),
    "label-merge": ("stages.commands.label_merge", "label_merge", "Merge judgments per item."),
    "train": ("stages.commands.train", "train", "Fit the scikit-learn model from params."),
    "evaluate": ("stages.commands.evaluate", "evaluate", "Score the model on the test split."),
    "params": ("stages.commands.params", "params", "Check params.yaml, or print its schema."),
    "check-repro": (
        "stages.commands.check_repro",
        "check_repro",
        "Prove that this commit reproduces.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_, _, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")  # each warning once per place it comes from
            try:
                return self._invoke(ctx)
            finally:
                _echo_warnings(caught)

    def _invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DataError as error:
            click.echo(wrapped("error: ", error.detail(), path=error.path), err=True)
            ctx.exit(EXIT_DATA_ERROR)
        except (click.ClickException, click.exceptions.Exit):
            raise
        except (KeyboardInterrupt, click.exceptions.Abort):
            line = "stopped; each output file is whole (old or new): `dvc repro` finishes it"
            click.echo(wrapped("interrupted: ", line), err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except tuple(PATH_PROBLEMS) as error:
            # A path given where its kind is wrong: bad input, not a bug.
            reason = PATH_PROBLEMS[type(error)]
            click.echo(wrapped("error: ", reason, path=_named(error)), err=True)
            ctx.exit(EXIT_DATA_ERROR)
        except OSError as error:
            if error.errno not in SYSTEM_PROBLEMS:
                raise
            reason = SYSTEM_PROBLEMS[error.errno]
            click.echo(wrapped("error: ", reason, path=_named(error)), err=True)
            ctx.exit(EXIT_DATA_ERROR)
        except MemoryError:
            click.echo(wrapped("error: ", SYSTEM_PROBLEMS[errno.ENOMEM]), err=True)
            ctx.exit(EXIT_DATA_ERROR)
        except Exception as error:  # a bug, not bad input: one line, the trace on request
            if os.environ.get("STAGES_DEBUG"):
                raise
            where = f"{type(error).__name__}: {error}".splitlines()[0] if str(error) else ""
            where = where or type(error).__name__
            line = f"{where} (STAGES_DEBUG=1 shows the trace; please report it)"
            click.echo(wrapped("internal error: ", line), err=True)
            ctx.exit(EXIT_INTERNAL_ERROR)


def _named(error: OSError) -> str:
    """The path a person knows: a rename's target rather than its source, an output rather
    than the hidden temporary file it is written to first."""
    name = error.filename if error.filename is not None else error.filename2
    if not isinstance(name, str | bytes | os.PathLike):
        return ""  # no path (a write to an open file), or a file descriptor's number
    from stages.core.io import output_of

    path = Path(os.fsdecode(name))
    output = output_of(path)
    if output and isinstance(error.filename2, str | bytes | os.PathLike):
        return os.fsdecode(error.filename2)  # writing a temporary file onto its output failed
    return str(output or path)


def _echo_warnings(caught: list[warnings.WarningMessage]) -> None:
    """Library warnings (pandas, scikit-learn) as one line each, once per message, instead of
    multi-line blocks with source lines in the middle of a stage's output."""
    seen: set[str] = set()
    for warning in caught:
        text = wrapped("warning: ", f"{warning.category.__name__}: {warning.message}", limit=300)
        if text not in seen:
            seen.add(text)
            click.echo(text, err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Reproducible training on labels from human annotation teams.

    prepare, validate, label-merge, train and evaluate are the five DVC stages; `dvc repro`
    runs them in order (see dvc.yaml). demo-data, params and check-repro are tools around them.
    """


def run() -> None:
    """The entry point (`python -m stages`, `stages`): numerics pinned before numpy loads."""
    from stages.core import numerics

    numerics.pin()
    main()
