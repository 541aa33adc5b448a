from __future__ import annotations

from pathlib import Path

import click

from stages.commands import params_option


@click.command("params")
@click.option("--check", is_flag=True, help="Check the params file; run nothing.")
@click.option("--schema", is_flag=True, help="Print the JSON Schema of params.yaml.")
@params_option
def params(check: bool, schema: bool, params_file: Path) -> None:
    """Check params.yaml against the one schema (stages/core/params.py), or print that schema.

    \b
    python -m stages params --check            exit 0, or 2 with one line naming the key
    python -m stages params --schema > params.schema.json
    Editors that read `# yaml-language-server: $schema=...` then complete params.yaml.
    """
    import json

    from stages.core.io import load_params
    from stages.core.params import json_schema

    if schema:
        click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))
    if check or not schema:
        from stages.training.model_params import check_model_params

        check_model_params(load_params(params_file), params_file)  # as train checks it first
        click.echo(f"{params_file}: valid", err=True)
