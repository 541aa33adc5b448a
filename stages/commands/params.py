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

    The check also makes train's checks of the model's hyperparameters and label-merge's of the
    labelling config (label_merge.relabel.config) against data.labels.

    \b
    python -m stages params --check            exit 0, or 2 with one line naming the key
    python -m stages params --schema > params.schema.json
    Editors that read `# yaml-language-server: $schema=...` then complete params.yaml.
    """
    import json

    from stages.core.params import json_schema
    from stages.core.reading import label_set, load_params

    if schema:
        click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))
    if check or not schema:
        from stages.training.model_params import check_model_params
        from stages.truth.labelling_config import task_shape

        checked = load_params(params_file)
        labels = label_set(checked, params_file)  # every stage of the pipeline needs it
        check_model_params(checked, params_file)  # as train checks it first
        task_shape(checked["label_merge"]["relabel"], labels)  # as label-merge reads it
        click.echo(f"{params_file}: valid", err=True)
