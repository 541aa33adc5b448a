import hashlib
import json
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from stages.demo import digits as demo_data
from stages.ingest.formats import read_export
from tests.helpers import DEMO_RAW_MD5


def _dvc_dir_md5(root: Path) -> str:
    """The directory hash DVC 3 records in a .dvc file (md5 of the sorted file list)."""
    entries = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            entries.append(
                {
                    "md5": hashlib.md5(path.read_bytes()).hexdigest(),
                    "relpath": path.relative_to(root).as_posix(),
                }
            )
    entries.sort(key=lambda entry: entry["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode()).hexdigest() + ".dir"


def test_demo_files_are_byte_identical_across_runs(tmp_path):
    demo_data.write(tmp_path / "a")
    demo_data.write(tmp_path / "b")
    names = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    # items, gold, annotator aliases, four batches and a picture per item
    assert len(names) == 7 + 1797
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_each_picture_is_its_items_pixels_where_its_url_points(tmp_path):
    import struct
    import zlib

    import numpy as np
    import pandas as pd

    demo_data.write(tmp_path)
    items = pd.read_csv(tmp_path / "items.csv").set_index("item_id")
    for item in ("digit-0001", "digit-1797"):
        relative = items.loc[item, "image"].removeprefix("/data/local-files/?d=")
        png = (tmp_path / demo_data.MEDIA / relative).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        idat = png.index(b"IDAT")
        length = struct.unpack(">I", png[idat - 4 : idat])[0]
        rows = np.frombuffer(zlib.decompress(png[idat + 4 : idat + 4 + length]), np.uint8)
        image = rows.reshape(height, width + 1)[:, 1:]  # each row starts with its filter byte
        ink = items.loc[item, [f"px_{r}_{c}" for r in range(8) for c in range(8)]].to_numpy()
        expected = 255 - ink.astype(int).reshape(8, 8) * 255 // 16
        assert (width, height) == (32, 32) and (image[::4, ::4] == expected).all()


def test_demo_data_matches_committed_raw_dvc(tmp_path):
    demo_data.write(tmp_path / "raw")
    # The template's data/raw.dvc records it (tests/test_template_files.py checks the project
    # that is the template); tests.helpers.DEMO_RAW_MD5 tells the template from a team's project.
    assert _dvc_dir_md5(tmp_path / "raw") == DEMO_RAW_MD5, "update DEMO_RAW_MD5 and data/raw.dvc"


def test_simulated_team_behaves_like_a_real_one():
    pixels, truth, judgments, gold = demo_data.simulate()
    assert pixels.shape == (1797, 64) and len(truth) == 1797
    assert 8 <= len(demo_data.TEAM) <= 15
    per_item = Counter(j.item for j in judgments)
    assert set(per_item.values()) == {3, 4, 5}
    assert 0.02 <= len(gold) / len(truth) <= 0.05
    assert len({j.batch for j in judgments}) == 4
    accuracy = {}
    for person in demo_data.TEAM:
        own = [j for j in judgments if j.annotator is person and not j.cancelled]
        accuracy[person.email] = sum(j.label == truth[j.item] for j in own) / len(own)
    spammer = min(accuracy, key=accuracy.get)
    assert spammer.startswith("spam") and accuracy[spammer] < 0.2
    assert max(accuracy.values()) > 0.9
    # Errors concentrate on look-alike digits: 7 is read as 1 far more often than as 2.
    sevens = [
        j.label
        for j in judgments
        if truth[j.item] == 7 and not j.annotator.email.startswith("spam")
    ]
    assert sevens.count(1) > 5 * max(1, sevens.count(2))


def test_demo_batches_parse_in_both_formats(tmp_path):
    demo_data.write(tmp_path)
    files = sorted((tmp_path / "annotations").iterdir())
    kinds = {path.suffix for path in files}
    assert kinds == {".json", ".csv"}
    tables = [read_export(path).annotations for path in files]
    total = sum(len(table) for table in tables)
    _, _, judgments, _ = demo_data.simulate()
    assert total == sum(not j.cancelled for j in judgments)
    items = pd.read_csv(tmp_path / "items.csv", dtype={"item_id": "string"})
    assert set(pd.concat(tables)["item_id"]) <= set(items["item_id"])
