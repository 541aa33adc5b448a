from __future__ import annotations

import tempfile
from pathlib import Path

import click

from stages.commands import params_option


@click.command("check-repro")
@params_option
@click.option("--skip-rerun", is_flag=True, help="Only check that the commit is complete (step 1).")
def check_repro(params_file: Path, skip_rerun: bool) -> None:
    """Prove that this commit reproduces (CI runs it on a fresh clone after `dvc pull`).

    \b
    1. the workspace matches dvc.lock and every output is in the DVC cache or remote;
    2. `dvc repro -f` reruns everything from scratch: every data output and the model must
       come out byte for byte, every metric within reproducibility.metric_tolerance;
    3. on a mismatch, exits 1 and prints per output what changed (rows, columns, deltas).
    """
    from stages import reproducibility as repro
    from stages.io import load_params

    root = Path.cwd()
    tolerance = float(
        (load_params(params_file).get("reproducibility") or {}).get("metric_tolerance", 1e-9)
    )
    problems = repro.check_committed(root)
    if not problems and not skip_rerun:
        outputs, metrics = repro.declared_outputs(root)
        with tempfile.TemporaryDirectory(dir=root / ".dvc" / "tmp") as keep:
            repro.snapshot(root, outputs, Path(keep))
            click.echo(
                "check-repro: rerunning the whole pipeline from scratch (dvc repro -f)", err=True
            )
            rerun = repro.dvc(root, "repro", "-f")
            if rerun.returncode != 0:
                problems.append(
                    repro.Problem(
                        "dvc repro -f",
                        rerun.stderr.strip().splitlines()[-1:][0]
                        if rerun.stderr.strip()
                        else "failed",
                    )
                )
            else:
                problems += repro.compare(root, Path(keep), outputs, metrics, tolerance)
    for problem in problems:
        click.echo(f"mismatch: {problem.line()}", err=True)
    if problems:
        click.echo(
            f"check-repro: {len(problems)} problem(s); this commit does not reproduce", err=True
        )
        raise SystemExit(1)
    click.echo(
        "check-repro: the commit is complete"
        + ("" if skip_rerun else " and reproduces byte for byte"),
        err=True,
    )
