from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stages.commands import (
    PATH,
    existing_table,
    metrics_option,
    params_option,
    path_option,
    read_tables,
)
from stages.core import catalog, terminal
from stages.core.params import FORMATS, METHODS

if TYPE_CHECKING:
    import pandas as pd


@click.command("label-merge")
@click.option(
    "--annotations", "exports", type=PATH, help="Standalone: an export file or folder of exports."
)
@click.option(
    "--gold",
    "gold_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Standalone: expert labels, CSV or Parquet (item_id,label).",
)
@click.option(
    "--annotator-aliases",
    "aliases_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Standalone: who is who, CSV (raw_id,annotator_id): one person, one id.",
)
@click.option(
    "--labels",
    "label_list",
    help="Standalone: the label set, comma-separated (default: from the data; a label with a "
    "comma: leave this out, the data's own labels are kept as written).",
)
@click.option(
    "--out", "out_dir", type=PATH, help="Standalone: folder for labels.csv and the reports."
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    help="Override label_merge.method.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", *FORMATS)),
    help="Override data.annotations.format.",
)
@click.option(
    "--from-name",
    "from_name",
    help="Standalone: the <Choices> control holding the label (data.annotations.from_name).",
)
@path_option("--validated", "prepared_dir", catalog.VALIDATED)
@path_option("--labels-file", "labels_file", catalog.LABELS)
@path_option("--reports", "reports_dir", catalog.REPORTS)
@path_option("--relabel", "relabel_file", catalog.RELABEL_TASKS)
@metrics_option("label-merge")
@params_option
def label_merge(
    exports: Path | None,
    gold_file: Path | None,
    aliases_file: Path | None,
    label_list: str | None,
    out_dir: Path | None,
    method: str | None,
    fmt: str | None,
    from_name: str | None,
    prepared_dir: Path,
    labels_file: Path,
    reports_dir: Path,
    relabel_file: Path,
    metrics_file: Path,
    params_file: Path,
) -> None:
    """Merge every annotator's judgments into one label per item, with its confidence.

    \b
    In the pipeline: reads data/validated/, writes data/labels/labels.parquet,
    reports/label_merge.json (agreement metrics), reports/annotators.csv, its plot
    reports/plots/annotators.csv and the next round's Label Studio tasks in
    data/relabel/tasks.json.

    \b
    Standalone, on any delivery, from any folder:
      python -m stages label-merge --annotations exports/ --out merged/

    It writes merged/labels.csv, label_merge.json, annotators.csv (its chart's data in
    plots/annotators.csv) and tasks.json. The label
    set comes from --labels or from the data; params.yaml, when present, supplies the rest.

    auto (default) picks the method the gold items favour by cross-validation, else the
    ensemble of Dawid-Skene, MACE and one-coin (docs/label-merge.md); majority vote counts
    heads with the tie rule in label_merge.tie_rule.
    """
    from stages.core.errors import DataError
    from stages.core.headline import headline
    from stages.core.io import write_csv, write_json, write_json_records, write_parquet
    from stages.core.markup import quantity
    from stages.core.params import validated
    from stages.core.progress import step
    from stages.core.reading import label_set, load_params
    from stages.truth.annotators import annotator_plot_rows
    from stages.truth.merge import merge_labels
    from stages.truth.relabel import (
        fields_beyond_the_id,
        label_studio_tasks,
        select,
        unsafe_fields,
    )

    standalone = exports is not None
    if standalone and out_dir is None:
        raise click.UsageError("--annotations needs --out DIR for the results")
    if standalone and (exports / "annotations").is_dir():
        raise click.UsageError(_whole_delivery(exports))
    if not standalone and (out_dir or gold_file or aliases_file or label_list or from_name):
        raise click.UsageError(
            "--out, --gold, --annotator-aliases, --labels and --from-name go with --annotations"
        )
    # Standalone, a params file is optional: without one, every default applies.
    use_file = params_file.exists() or not standalone
    params = load_params(params_file) if use_file else validated({}, params_file)
    data = params["data"]
    options = {**params["label_merge"], **({"method": method} if method else {})}
    read_options = {**data["annotations"], **({"format": fmt} if fmt else {})}
    read_options |= {"from_name": from_name} if from_name else {}
    skipped: dict[str, int] = {}  # in the pipeline, prepare reports them
    if standalone:
        annotations, gold, classes, skipped = _standalone_inputs(
            exports,
            gold_file,
            aliases_file,
            label_list,
            {**data, "annotations": read_options},
            params_file,
        )
        items = None
    else:
        annotations, gold, items = _prepared_inputs(prepared_dir)
        classes = label_set(params, params_file)
    try:
        with step(f"merging {len(annotations)} judgments ({options['method']})"):
            merged = merge_labels(annotations, gold, classes, options, params["seed"])
    except ValueError as error:
        raise DataError(exports or prepared_dir / "annotations.parquet", None, str(error)) from None
    relabel_options = {"item_key": read_options["item_key"], **options["relabel"]}
    unfilled = fields_beyond_the_id(relabel_options, classes) if standalone else []
    tasks = [] if unfilled else label_studio_tasks(
        select(merged.labels, relabel_options), items, relabel_options, classes
    )  # fmt: skip
    if standalone:
        assert out_dir is not None
        write_csv(out_dir / "labels.csv", merged.labels)
        reports_dir, relabel_file = out_dir, out_dir / "tasks.json"
    else:
        write_parquet(labels_file, merged.labels)
    summary = {**merged.summary, "relabel_tasks": None if unfilled else len(tasks)}
    if standalone:  # records that held no judgment, by file and reason: never silently lost
        summary["skipped_records"] = skipped
    write_json(reports_dir / "label_merge.json", summary)
    if not standalone:
        write_json(metrics_file, headline("label-merge", summary))
    write_csv(reports_dir / "annotators.csv", merged.annotators)
    plotted = annotator_plot_rows(merged.annotators, options["spammer_min_judgments"])
    write_csv(reports_dir / catalog.ANNOTATORS_PLOT, plotted)
    if unfilled:
        click.echo(
            f"warning: no tasks.json: the labelling config shows ${unfilled[0]}, which a\n"
            "  standalone run cannot fill (it reads no items); the pipeline writes the tasks",
            err=True,
        )
    else:
        terminal.echo_warnings(unsafe_fields(tasks, relabel_file))
        write_json_records(relabel_file, tasks)
    click.echo(  # two short lines: a summary must not wrap at 120 columns
        f"label-merge: {quantity(summary['labelled_items'], 'item')} labelled by "
        f"{summary['method']}; alpha {_alpha(summary['krippendorff_alpha'])}, "
        f"gold accuracy {_gold_accuracy(summary)}\n"
        f"label-merge: {quantity(summary['likely_spammers'], 'likely spammer')}, "
        + (
            "no relabel tasks written" if unfilled else f"{quantity(len(tasks), 'item')} to relabel"
        ),
        err=True,
    )
    if skipped:
        held = quantity(sum(skipped.values()), "record")
        click.echo(
            f"label-merge: {held} held no judgment (skipped_records in the report)", err=True
        )
    if summary["replaced_duplicates"]:  # ids that differ only in spaces end up here too
        repeated = quantity(summary["replaced_duplicates"], "repeated judgment")
        click.echo(
            f"label-merge: {repeated} (one annotator, one item) replaced by the latest",
            err=True,
        )
    if "auto" in summary:  # the reason on its own line: lines stay under 100 columns
        click.echo(f"label-merge: auto chose {summary['method']}", err=True)
        click.echo(terminal.wrapped("label-merge: ", summary["auto"]["reason"]), err=True)


def _alpha(alpha: float | None) -> str:
    """Krippendorff's alpha is undefined where every judgment has one label (no variation)."""
    return "n/a (one label in all)" if alpha is None or alpha != alpha else f"{alpha:.3f}"


def _gold_accuracy(summary: dict[str, Any]) -> str:
    accuracy = summary["gold_accuracy"]
    return "n/a (no gold items)" if accuracy is None or accuracy != accuracy else f"{accuracy:.3f}"


def _prepared_inputs(prepared_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from stages.core.datasets import read_table, text_columns

    tables = read_tables(prepared_dir, ("annotations", "gold"), "validate")
    items = existing_table(prepared_dir, "items", "validate")
    # Only the ids and text: the relabel tasks show them; numeric features are never read.
    return tables["annotations"], tables["gold"], read_table(items, text_columns(items))


def _whole_delivery(folder: Path) -> str:
    """What to pass instead of a delivery folder (prepare's layout: exports in annotations/)."""
    from stages.ingest.identities import ALIAS_FILE

    given = [f"--annotations {folder / 'annotations'}"] + [
        f"{option} {folder / name}"
        for option, name in (("--gold", "gold.csv"), ("--annotator-aliases", ALIAS_FILE))
        if (folder / name).is_file()
    ]
    return f"{folder} is a whole delivery, not its exports; pass\n  " + "\n  ".join(given)


def _distinct(labels: list[str]) -> None:
    """--labels names each label once: two spellings of one label would merge silently."""
    from stages.core.label_set import label_key

    seen: dict[str, str] = {}
    for label in labels:
        twin = seen.get(label_key(label))
        seen[label_key(label)] = label
        if twin is not None:
            problem = (
                f"{label!a} is given twice"
                if twin == label
                else f"{twin!a} and {label!a} are one label\n"
                "  (case, surrounding space and Unicode form aside)"
            )
            raise click.BadParameter(f"{problem}: give each label once", param_hint="'--labels'")


def _standalone_inputs(
    exports: Path,
    gold_file: Path | None,
    aliases_file: Path | None,
    label_list: str | None,
    data: dict[str, Any],
    params_file: Path,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], dict[str, int]]:
    from stages.ingest.standalone import read_standalone

    given = [label.strip() for label in (label_list or "").split(",") if label.strip()] or None
    _distinct(given or [])
    delivery, warnings = read_standalone(exports, gold_file, aliases_file, given, data, params_file)
    terminal.echo_warnings(warnings)
    if given is None:  # two tools' spellings of one class would be two classes: show the set
        found = ", ".join(ascii(label) for label in delivery.labels)
        click.echo(
            terminal.wrapped(
                "label-merge: ", f"labels found in the judgments (no --labels): {found}"
            ),
            err=True,
        )
    return delivery.annotations, delivery.gold, delivery.labels, delivery.export.skipped
