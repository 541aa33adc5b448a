from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stages.commands import params_option

if TYPE_CHECKING:
    from stages.reproducibility.check import Problem


@click.command("check-repro")
@params_option
@click.option("--skip-rerun", is_flag=True, help="Only check that the commit is complete (step 1).")
def check_repro(params_file: Path, skip_rerun: bool) -> None:
    """Prove that this commit reproduces (CI runs it on a fresh clone after `dvc pull`).

    \b
    The reference is the commit (HEAD's dvc.lock), never the working tree's copy:
    1. tracked files as committed, data as dvc.lock says, every output in the cache or remote;
    2. `dvc repro -f` reruns everything from scratch and each output's hash is compared
       with the commit's;
    3. on a mismatch, exits 1 with one message per output: old and new hash and size, and what
       changed (rows, columns, values, metric deltas, how far the model's parameters moved).
    On the reference numerics (docs/reproducibility.md) every byte must match; elsewhere
    values must match within reproducibility.value_tolerance and metrics within
    reproducibility.metric_tolerance. The first line says which rule applies and why.
    """
    from stages.core import numerics
    from stages.core.markup import quantity
    from stages.core.reading import load_params
    from stages.core.terminal import wrapped
    from stages.reproducibility import check as repro

    root = Path.cwd()
    settings = load_params(params_file)["reproducibility"]
    # What the stages that `dvc repro` starts will run (each pins itself the same way).
    profile = numerics.pin(dict(os.environ))
    rule = repro.Rule(
        exact=profile.reference,
        metric_tolerance=settings["metric_tolerance"],
        value_tolerance=settings["value_tolerance"],
        why=profile.summary(),
    )
    must = "every byte must match" if rule.exact else "values must match within tolerances"
    click.echo(wrapped("check-repro: ", f"{must}: {rule.why}"), err=True)
    committed = repro.lock_outputs((repro.committed_bytes(root, "dvc.lock") or b"").decode())
    metrics = repro.metric_paths(root)
    problems = repro.check_committed(root, set(committed))
    changed = [problem for problem in problems if problem.what.startswith(repro.CHANGED_INPUT)]
    if changed:  # outputs of other inputs would differ anyway: nothing more to learn
        _stop("changed: ", changed, f"the working tree is not the commit "
              f"({quantity(len(changed), 'input')} changed), and a commit is what it checks: "
              "commit the changes, or return to the commit with `git checkout HEAD -- . && "
              "dvc checkout` (drops them)")  # fmt: skip
    stale = [problem for problem in problems if problem.what.startswith(repro.STALE_LOCK)]
    if stale:  # its outputs are not what its inputs make: comparing them says nothing more
        _stop("stale: ", stale, "the commit's dvc.lock does not record the commit's own inputs "
              "(changed after its last `dvc repro`): run `dvc repro`, then commit dvc.lock and "
              "the outputs")  # fmt: skip
    # An earlier `dvc repro` (CI's, `make check-repro`'s) may already have rewritten the lock.
    problems += repro.compare_outputs(root, committed, repro.working_outputs(root), metrics, rule)
    # Outputs missing from the cache and the remote do not stop the rerun: it shows whether
    # the committed hashes can be made at all (a hand-edited lock cannot).
    if all(problem.what == repro.MISSING for problem in problems) and not skip_rerun:
        click.echo(
            "check-repro: rerunning the whole pipeline from scratch (dvc repro -f)", err=True
        )
        rerun = repro.dvc(root, "repro", "-f")
        if rerun.returncode != 0:
            problems.append(repro.Problem("dvc repro -f", repro.last_line(rerun)))
        else:
            after = repro.working_outputs(root)
            problems += repro.compare_outputs(root, committed, after, metrics, rule)
    for problem in problems:
        click.echo(_message("mismatch: ", problem), err=True)
    if problems:
        click.echo(
            wrapped(
                "check-repro: ",
                f"{quantity(len(problems), 'problem')}; this commit does not reproduce. "
                "`git checkout HEAD -- . && dvc checkout` returns to the commit's outputs "
                "(with autostage on, `git checkout -- .` alone keeps the staged lock)",
            ),
            err=True,
        )
        raise SystemExit(1)
    click.echo(
        "check-repro: the commit is complete"
        + (
            ""
            if skip_rerun
            else " and reproduces byte for byte"
            if rule.exact
            else " and reproduces within tolerances"
        ),
        err=True,
    )


def _stop(prefix: str, problems: list[Problem], verdict: str) -> None:
    """Each problem under ``prefix``, then the verdict: the commit cannot be checked further."""
    from stages.core.terminal import wrapped

    for problem in problems:
        click.echo(_message(prefix, problem), err=True)
    click.echo(wrapped("check-repro: ", verdict), err=True)
    raise SystemExit(1)


def _message(prefix: str, problem: Problem) -> str:
    """One message per output, its path first, in lines under 100 columns (continuation
    lines indented), cut only past 10,000 characters: every difference it lists is part of
    the diagnosis (runs of spaces print as one, as in every message)."""
    from stages.core.terminal import wrapped

    return wrapped(prefix, problem.what, path=problem.path, limit=10_000)
