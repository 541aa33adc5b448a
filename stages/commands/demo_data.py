from __future__ import annotations

from pathlib import Path

import click


@click.command("demo-data")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/raw"),
    show_default=True,
    help="Folder for items.csv, gold.csv, annotator_aliases.csv, annotations/ and media/.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing folder's demo files.")
def demo_data(out_dir: Path, force: bool) -> None:
    """Write the demo delivery: scikit-learn's digits labelled by a simulated annotation team.

    The files are byte-identical on every run, so they match the committed data/raw.dvc.
    """
    from stages.demo import digits as demo

    if (out_dir / "items.csv").exists() and not force:
        raise click.UsageError(f"{out_dir} already holds data; pass --force to overwrite it")
    files = demo.write(out_dir)
    click.echo(f"wrote {len(files)} files to {out_dir}", err=True)
