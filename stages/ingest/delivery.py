"""A team's delivery of judgments, read once for both users: `prepare` (the pipeline) and
standalone `label-merge` (any folder of exports, before anything else)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.label_set import label_key
from stages.ingest import identities, tables
from stages.ingest.formats import Export, read_exports


@dataclass(frozen=True)
class Delivery:
    annotations: pd.DataFrame  # canonical: ANNOTATION_COLUMNS, labels normalised
    gold: pd.DataFrame  # item_id, label: the gold file and ground truth marked in exports
    labels: list[str]  # the label set the labels were normalised against
    export: Export  # what the readers skipped and warned about, each file's format
    annotator_ids: dict[str, str]  # per file, how it names annotators (identities.id_kind)
    label_spellings: dict[str, list[str]]  # label -> its raw spellings, where there are several


def read_delivery(
    exports: Path,
    gold_file: Path | None,
    data: dict[str, Any],
    labels: list[str] | None = None,
    ordered: bool = True,
    strict_aliases: bool = True,
    params_file: object = "params.yaml",
    aliases_file: Path | None = None,
) -> Delivery:
    """Judgments and gold, normalised against ``labels``, or without a label set against the
    judgments' own labels (aliases applied, case variants folded into the commonest spelling).

    With ``strict_aliases`` (a label set from params) every alias must name one of its labels;
    otherwise (a set from the command line or the data) aliases to other labels are left out.
    ``aliases_file`` joins annotator ids (``identities.read_aliases``).
    """
    annotation_options = {**data["annotations"], "labels": labels}
    export = read_exports(exports, annotation_options["format"], annotation_options)
    file_gold = tables.read_gold(
        gold_file, {}
    )  # labels as written (trimmed) until the set is known
    aliases = data["aliases"]
    if labels is None:  # the judgments' labels: a typo in the gold would become a class
        labels = labels_in(export.annotations["label"], aliases)
    if labels is None or not strict_aliases:
        aliases = {alias: target for alias, target in aliases.items() if str(target) in labels}
    mapping = tables.label_normaliser(labels, aliases, params_file)
    raw, notes = export.annotations.copy(), []
    for column in ("item_id", "annotator_id"):
        raw[column], collapsed = tables.normalised_ids(raw[column], f"annotations: {column}")
        notes += collapsed
    raw["annotator_id"] = identities.apply_aliases(
        raw["annotator_id"], identities.read_aliases(aliases_file)
    )
    kinds = identities.file_id_kinds(raw)
    notes += identities.identity_warnings(kinds) + identities.gold_mark_warnings(export.formats)
    spellings = tables.label_spellings(raw["label"], mapping)
    annotations = tables.canonical_annotations([raw], mapping, ordered)
    golds = []
    for where, frame in (("gold file", file_gold), ("gold marks", export.gold)):
        ids, collapsed = tables.normalised_ids(frame["item_id"], f"{where}: item_id")
        golds.append(frame.assign(item_id=ids))
        notes += collapsed
    file_gold = golds[0].assign(label=tables.normalise_labels(golds[0]["label"], mapping))
    repeats = int(file_gold.duplicated(["item_id", "label"]).sum())
    if repeats:  # counted once: the same expert label twice is no conflict, but never silent
        notes.append(
            f"{gold_file}: {repeats} gold row(s) repeat an item and label given above "
            "(spellings and ids compared as prepare normalises them): counted once"
        )
    in_file = gold_file if gold_file is not None and gold_file.exists() else None
    gold = tables.combine_gold(file_gold, golds[1], mapping, in_file, exports)
    export = dataclasses.replace(export, warnings=export.warnings + notes)
    return Delivery(annotations, gold, labels, export, kinds, spellings)


def labels_in(values: pd.Series, aliases: dict[str, Any]) -> list[str]:
    """The distinct labels of ``values``: aliases applied (an alias matches any spelling of
    itself, as prepare matches it), case variants folded into the commonest spelling, sorted."""
    found = values.dropna().astype(str).str.strip()
    counts = found.value_counts().rename_axis("label").reset_index(name="n")
    targets = {label_key(str(alias)): str(target) for alias, target in aliases.items()}
    counts["label"] = [targets.get(label_key(label), label) for label in counts["label"]]
    counts = counts.groupby("label", as_index=False)["n"].sum()
    counts["key"] = [label_key(label) for label in counts["label"]]
    counts = counts.sort_values(["key", "n", "label"], ascending=[True, False, True], kind="stable")
    return sorted(counts.drop_duplicates("key")["label"])
