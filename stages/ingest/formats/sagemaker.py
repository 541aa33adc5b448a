"""Amazon SageMaker Ground Truth per-worker answers.

``annotations/worker-response/iteration-N/<index>/<timestamp>.json`` holds
``{"answers": [{"workerId", "answerContent": {"<task>": {"label": ...}}, "submissionTime"}]}``.
The item id is the dataset object's ``<index>`` (the folder name): an index names an object
of its job's input manifest only, so items of two jobs are one item only where the jobs
labelled the same manifest (``jobs_sharing_indices`` warns). A job's batch is its
``worker-response/iteration-N`` folder, not each object's file. The job's own consolidation
outputs (``consolidated-annotation/``, ``intermediate/``) are not judgments: not read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.errors import DataError
from stages.ingest.formats.common import Export, Rows, load_json


def read_worker_response(path: Path, options: dict[str, Any]) -> Export:
    document = load_json(path)
    answers = document.get("answers") if isinstance(document, dict) else None
    if not isinstance(answers, list):
        raise DataError(
            path, None, "expected an object with an 'answers' array (SageMaker worker response)"
        )
    rows = Rows(path, options["source"])
    item = path.parent.name
    for position, answer in enumerate(answers):
        record = f"answer {position + 1}"
        if not isinstance(answer, dict):
            raise DataError(path, record, "an answer must be an object")
        content = answer.get("answerContent")
        labels = [
            value["label"]
            for value in (content.values() if isinstance(content, dict) else [])
            if isinstance(value, dict) and "label" in value
        ]
        if len(labels) != 1:
            raise DataError(
                path, record, f"expected one answerContent.<task>.label, got {content!r}"
            )
        rows.add(
            record, item, answer.get("workerId"), labels[0], answer.get("submissionTime"),
            answer.get("timeSpentInSeconds"),
        )  # fmt: skip
    return rows.export()


RESPONSES = "worker-response"
NOT_JUDGMENTS = ("consolidated-annotation", "intermediate")  # beside worker-response/
# A job's output folders beside annotations/ (Ground Truth's output layout): only these are
# its own; any other folder there is the team's, and read.
JOB_FOLDERS = ("activelearning", "annotation-tool", "inference", "manifests", "training")


def consolidation_output(file: Path, root: Path) -> bool:
    """A file a job wrote itself, not a judgment: its consolidation (beside worker-response/),
    or, in a whole job folder copied as it is (``<job>/annotations/worker-response/``), its
    other folders (``JOB_FOLDERS``: ``manifests/``, ``annotation-tool/``, ...); a team's own
    folder beside a job copied to the top is read, not taken for the job's."""
    parts = file.relative_to(root).parts
    for depth, part in enumerate(parts[:-1]):
        folder = root.joinpath(*parts[:depth])
        if part in NOT_JUDGMENTS and (folder / RESPONSES).is_dir():
            return True
        if part in JOB_FOLDERS and (folder / "annotations" / RESPONSES).is_dir():
            return True
    return False


def batch(source: str) -> str:
    """The batch of a worker response: its job's ``worker-response/iteration-N`` folder."""
    parts = source.split("/")
    if RESPONSES not in parts[:-1]:
        return source
    return "/".join(parts[: parts.index(RESPONSES) + 2])


def jobs_sharing_indices(annotations: pd.DataFrame, formats: dict[str, str]) -> list[str]:
    """A warning when two jobs' responses name the same object index: the same item only if
    both jobs labelled one input manifest (a relabel job does); otherwise different items that
    would merge, the later judgments of an annotator replacing the earlier."""
    batches = [source for source, fmt in formats.items() if fmt == "sagemaker"]
    jobs = {source: source.rsplit(f"/{RESPONSES}/", 1)[0] for source in batches}
    if len(set(jobs.values())) < 2:
        return []
    rows = annotations[annotations["source"].isin(batches)]
    per_item = rows.assign(job=rows["source"].map(jobs)).groupby("item_id")["job"].nunique()
    shared = per_item[per_item > 1]
    if shared.empty:
        return []
    names = ", ".join(ascii(job) for job in sorted(set(jobs.values()))[:3])
    return [
        f"{len(shared)} object index(es) (first: {shared.index[0]!a}) appear in several SageMaker "
        f"jobs ({names}): one item each only if the jobs labelled the same input manifest; "
        "otherwise give each job its own delivery, or rename the index folders"
    ]
