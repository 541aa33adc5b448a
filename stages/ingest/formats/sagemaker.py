"""Amazon SageMaker Ground Truth per-worker answers.

``annotations/worker-response/iteration-N/<index>/<timestamp>.json`` holds
``{"answers": [{"workerId", "answerContent": {"<task>": {"label": ...}}, "submissionTime"}]}``.
The item id is the dataset object's ``<index>`` (the folder name), or ``item_key`` in the
answer content when present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
