"""The bundled demo delivery: scikit-learn's handwritten digits labelled by a simulated team.

Real 8x8 images (1,797 items) from the installed scikit-learn, and an annotation team that errs
the way real ones do: annotators of varied skill, systematic confusions between look-alike digits
(1/7, 3/8, 4/9, 5/6), one near-random spammer, 3-5 judgments per item, a few percent of items as
gold honeypots with expert labels, and four weekly batches exported from two tools (Label Studio
full JSON and a plain long CSV). Everything is drawn from one seeded generator and written with
fixed formatting, so the files are byte-identical on every run and machine.
"""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from stages.core.io import write_bytes, write_text

SEED = 20261124
CONFUSABLE = {1: 7, 7: 1, 3: 8, 8: 3, 4: 9, 9: 4, 5: 6, 6: 5}
GOLD_SHARE = 0.03
BATCH_FORMATS = ("labelstudio", "csv", "labelstudio", "csv")
BATCH_START = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"))


@dataclass(frozen=True)
class Annotator:
    user_id: int
    email: str
    accuracy: float  # probability of the true label; a spammer has about 1/10
    confusion_share: float  # of the errors, the share that picks the look-alike digit
    workload: float  # relative number of items this person labels


TEAM = (
    Annotator(1, "amira.haddad@labelco.example", 0.96, 0.80, 1.4),
    Annotator(2, "bo.chen@labelco.example", 0.93, 0.75, 1.2),
    Annotator(3, "carla.mendes@labelco.example", 0.90, 0.85, 1.0),
    Annotator(4, "dmitri.volkov@labelco.example", 0.88, 0.70, 1.0),
    Annotator(5, "emeka.obi@labelco.example", 0.85, 0.90, 1.1),
    Annotator(6, "fatima.zahra@labelco.example", 0.82, 0.80, 0.9),
    Annotator(7, "gustav.lind@labelco.example", 0.78, 0.85, 0.9),
    Annotator(8, "hana.sato@labelco.example", 0.74, 0.90, 0.8),
    Annotator(9, "ivan.petrov@labelco.example", 0.70, 0.75, 0.7),
    Annotator(10, "julia.rossi@labelco.example", 0.66, 0.80, 0.6),
    Annotator(11, "kofi.mensah@labelco.example", 0.91, 0.60, 0.5),
    Annotator(12, "spam.bot@labelco.example", 0.10, 0.00, 0.8),
)


@dataclass(frozen=True)
class Judgment:
    item: int  # row in the digits data
    annotator: Annotator
    label: int
    batch: int
    seconds: int  # offset from the batch start
    lead_time: float
    cancelled: bool


def item_id(row: int) -> str:
    return f"digit-{row + 1:04d}"


def simulate(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, list[Judgment], np.ndarray]:
    """Return pixels, true labels, the team's judgments and the gold item rows."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = digits.data.astype(np.int64)
    truth = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    n_items = len(truth)
    order = rng.permutation(n_items)
    batch_of = np.empty(n_items, dtype=np.int64)
    for batch, rows in enumerate(np.array_split(order, len(BATCH_FORMATS)), start=1):
        batch_of[rows] = batch
    workload = np.array([person.workload for person in TEAM])
    judgments: list[Judgment] = []
    clock = np.zeros(len(BATCH_FORMATS) + 1, dtype=np.int64)
    for row in order:
        n_judgments = int(rng.integers(3, 6))
        chosen = rng.choice(len(TEAM), size=n_judgments, replace=False, p=workload / workload.sum())
        for index in sorted(chosen):
            person = TEAM[index]
            batch = int(batch_of[row])
            clock[batch] += int(rng.integers(2, 40))
            judgments.append(
                Judgment(
                    item=int(row),
                    annotator=person,
                    label=_judge(rng, person, int(truth[row])),
                    batch=batch,
                    seconds=int(clock[batch]),
                    lead_time=round(float(rng.gamma(2.0, 2.5)), 1),
                    cancelled=bool(rng.random() < 0.01),
                )
            )
    gold = np.sort(rng.choice(n_items, size=round(GOLD_SHARE * n_items), replace=False))
    return pixels, truth, judgments, gold


def _judge(rng: np.random.Generator, person: Annotator, true_label: int) -> int:
    if rng.random() < person.accuracy:
        return true_label
    if true_label in CONFUSABLE and rng.random() < person.confusion_share:
        return CONFUSABLE[true_label]
    others = [label for label in range(10) if label != true_label]
    return int(rng.choice(others))


MEDIA = "media"  # data/raw/media/digits/<item>.png: Label Studio's local-files document root


def image_url(row: int) -> str:
    """Where Label Studio finds the item's picture: its local-files URL for
    ``<MEDIA>/digits/<item>.png`` (started with LOCAL_FILES_DOCUMENT_ROOT=data/raw/media)."""
    return f"/data/local-files/?d=digits/{item_id(row)}.png"


def png(pixels: np.ndarray, scale: int = 4) -> bytes:
    """An 8x8 digit (ink 0-16) as a grayscale PNG, dark on white, ``scale`` times larger. The
    image data is stored, not compressed, so that the bytes never depend on the zlib build."""
    ink = np.asarray(pixels, dtype=np.int64).reshape(8, 8)
    image = np.kron(255 - ink * 255 // 16, np.ones((scale, scale), dtype=np.int64)).astype(np.uint8)
    rows = b"".join(b"\x00" + row.tobytes() for row in image)  # filter 0 on every row
    block = b"\x01" + struct.pack("<HH", len(rows), 0xFFFF ^ len(rows)) + rows  # final, stored
    deflated = b"\x78\x01" + block + struct.pack(">I", zlib.adler32(rows))
    header = struct.pack(">IIBBBBB", image.shape[1], image.shape[0], 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in ((b"IHDR", header), (b"IDAT", deflated), (b"IEND", b""))
    )


def items_csv(pixels: np.ndarray) -> str:
    columns = [f"px_{row}_{col}" for row in range(8) for col in range(8)]
    lines = ["item_id,image," + ",".join(columns)]
    lines += [
        f"{item_id(row)},{image_url(row)}," + ",".join(map(str, values))
        for row, values in enumerate(pixels)
    ]
    return "\n".join(lines) + "\n"


def gold_csv(truth: np.ndarray, gold_rows: np.ndarray) -> str:
    lines = ["item_id,label"] + [f"{item_id(row)},{truth[row]}" for row in gold_rows]
    return "\n".join(lines) + "\n"


def annotator_aliases_csv() -> str:
    """Who is who: Label Studio names the team by user id, the CSV batches by e-mail."""
    lines = ["raw_id,annotator_id"] + [f"{person.user_id},{person.email}" for person in TEAM]
    return "\n".join(lines) + "\n"


def _timestamp(batch: int, seconds: int) -> str:
    moment = BATCH_START + timedelta(weeks=batch - 1, seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def long_csv(judgments: list[Judgment], batch: int) -> str:
    """A plain long table, as in-house tools export it (cancelled work is not exported)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["item_id", "annotator_id", "label", "created_at", "batch", "lead_time"])
    for j in judgments:
        if j.batch == batch and not j.cancelled:
            created = _timestamp(batch, j.seconds)
            row = [item_id(j.item), j.annotator.email, j.label, created, batch, j.lead_time]
            writer.writerow(row)
    return buffer.getvalue()


def label_studio_json(judgments: list[Judgment], batch: int, rng: np.random.Generator) -> str:
    """A Label Studio full JSON export of one project: one task per item, with bookkeeping keys."""
    by_item: dict[int, list[Judgment]] = {}
    for j in judgments:
        if j.batch == batch:
            by_item.setdefault(j.item, []).append(j)
    tasks = []
    annotation_id = batch * 100_000
    for row in sorted(by_item):
        annotations = []
        for j in by_item[row]:
            annotation_id += 1
            created = _timestamp(batch, j.seconds)
            result = [] if j.cancelled else [_choice(rng, str(j.label))]
            annotations.append(
                {
                    "id": annotation_id,
                    "completed_by": j.annotator.user_id,  # as Label Studio exports: the user id
                    "result": result,
                    "was_cancelled": j.cancelled,
                    "ground_truth": False,
                    "created_at": created,
                    "updated_at": created,
                    "lead_time": j.lead_time,
                    "prediction": {},
                    "result_count": len(result),
                    "task": row + 1,
                    "project": batch,
                    "parent_prediction": None,
                    "parent_annotation": None,
                }
            )
        first = _timestamp(batch, 0)
        tasks.append(
            {
                "id": row + 1,
                "annotations": annotations,
                "file_upload": None,
                "drafts": [],
                "predictions": [],
                "data": {
                    "image": image_url(row),
                    "item_id": item_id(row),
                },
                "meta": {},
                "created_at": first,
                "updated_at": annotations[-1]["updated_at"],
                "inner_id": len(tasks) + 1,
                "total_annotations": sum(not j.cancelled for j in by_item[row]),
                "cancelled_annotations": sum(j.cancelled for j in by_item[row]),
                "total_predictions": 0,
                "comment_count": 0,
                "unresolved_comment_count": 0,
                "last_comment_updated_at": None,
                "project": batch,
                "updated_by": by_item[row][-1].annotator.user_id,
                "comment_authors": [],
            }
        )
    return json.dumps(tasks, indent=2, ensure_ascii=False) + "\n"


def _choice(rng: np.random.Generator, label: str) -> dict[str, object]:
    return {
        "id": "".join(rng.choice(ALPHABET, size=10)),
        "type": "choices",
        "value": {"choices": [label]},
        "origin": "manual",
        "to_name": "image",
        "from_name": "digit",
    }


def render(seed: int = SEED) -> dict[str, str]:
    """Every demo file as relative path -> text."""
    pixels, truth, judgments, gold_rows = simulate(seed)
    files = {
        "items.csv": items_csv(pixels),
        "gold.csv": gold_csv(truth, gold_rows),
        "annotator_aliases.csv": annotator_aliases_csv(),
    }
    ids_rng = np.random.default_rng(seed + 1)
    for batch, kind in enumerate(BATCH_FORMATS, start=1):
        if kind == "labelstudio":
            text = label_studio_json(judgments, batch, ids_rng)
            files[f"annotations/batch-{batch:02d}-labelstudio.json"] = text
        else:
            files[f"annotations/batch-{batch:02d}.csv"] = long_csv(judgments, batch)
    return files


def pictures(seed: int = SEED) -> dict[str, bytes]:
    """Every item's picture, where its ``image`` URL points (relative path -> PNG)."""
    pixels = simulate(seed)[0]
    return {f"{MEDIA}/digits/{item_id(row)}.png": png(values) for row, values in enumerate(pixels)}


def write(out_dir: Path, seed: int = SEED) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {**render(seed), **pictures(seed)}
    for name, content in files.items():
        if isinstance(content, bytes):
            write_bytes(out_dir / name, content)
        else:
            write_text(out_dir / name, content)
    return files
