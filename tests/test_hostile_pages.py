"""A hostile delivery through the whole pipeline: no markup from the data runs in any page.

Ids, annotator ids, labels, a batch file name and item text carry script tags, event
attributes, ``</script>``, ``<!--``, quotes and ``javascript:`` URLs. After `dvc repro` and
`dvc plots show`, every page a person opens (Data Docs, the DVC plots page, the Markdown
reports rendered as GitHub renders them, raw HTML allowed) is parsed, and no element, event
attribute or URL that the corpus tried to inject may exist.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import copy_template, sh, text_project_params

pytestmark = pytest.mark.e2e

# Each payload runs alert(N) with its own N if it escapes, so a finding names its source.
LABELS = ["neg</script><script>alert(11)</script>", 'pos"><img src=x onerror=alert(12)>']
ANNOTATORS = ["<svg onload=alert(21)>", "ann'><iframe src=javascript:alert(22)>", "<!--<script>"]
BATCH = "<b onmouseover=alert(31)>week.csv"
TEXT = "<script>alert(41)</script> <a href='javascript:alert(42)'>x</a>"
ITEM = "r{:03d}<img src=x onerror=alert(51)>"
INJECTED = re.compile(r"alert\(\d\d\)")


class ExecutableMarkup(HTMLParser):
    """Collects what a browser would run from the corpus: a script element whose own code is
    an injected call, an event attribute or a ``javascript:`` URL that runs one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            runs = name.startswith("on") or value.strip().lower().startswith("javascript:")
            if runs and INJECTED.search(value):
                self.found.append(f"<{tag} {name}={value!r}>")
            if tag == "script" and name == "src" and INJECTED.search(value):
                self.found.append(f"<script src={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        # Inline scripts of the pages hold the data as JSON strings; an injected script is
        # one whose code starts with the call.
        if self._in_script and INJECTED.match(data.strip()):
            self.found.append(f"<script>{data.strip()[:40]}")


def executable_markup(page: str) -> list[str]:
    parser = ExecutableMarkup()
    parser.feed(page)
    parser.close()
    return parser.found


def test_the_parser_finds_what_the_corpus_injects():
    """The check can fail: raw payloads are found, escaped ones are not."""
    raw = f"<p>{TEXT}</p><div>{ANNOTATORS[0]}</div>{LABELS[0]}"
    assert len(executable_markup(raw)) == 4
    assert executable_markup(f"<script>var d = {json.dumps(LABELS[0])};</script>") != []
    safe = LABELS[0].replace("<", "<\u2060")
    assert executable_markup(f"<script>var d = {json.dumps(safe)};</script>") == []
    assert executable_markup("<p>&lt;script&gt;alert(41)&lt;/script&gt;</p>") == []


def _hostile_delivery(root: Path) -> None:
    rng = np.random.default_rng(3)
    raw = root / "data" / "raw"
    (raw / "annotations").mkdir(parents=True)
    n_items = 120
    truth = rng.integers(0, 2, n_items)
    items = [ITEM.format(n) for n in range(n_items)]
    words = [["awful", "broken", "poor"], ["great", "lovely", "superb"]]
    texts = [
        f"It was {rng.choice(words[t])} {TEXT if n % 10 == 0 else ''}" for n, t in enumerate(truth)
    ]
    pd.DataFrame({"item_id": items, "text": texts}).to_csv(raw / "items.csv", index=False)
    rows = []
    for n, label in enumerate(truth):
        for annotator, accuracy in zip(ANNOTATORS, (0.95, 0.9, 0.6), strict=True):
            said = label if rng.random() < accuracy else 1 - label
            rows.append((items[n], annotator, LABELS[said]))
    pd.DataFrame(rows, columns=["item_id", "annotator_id", "label"]).to_csv(
        raw / "annotations" / BATCH, index=False
    )
    gold = pd.DataFrame({"item_id": items[:30], "label": [LABELS[t] for t in truth[:30]]})
    gold.to_csv(raw / "gold.csv", index=False)


def _pages(root: Path) -> dict[str, str]:
    """Every page a person opens, as the HTML a browser gets."""
    from markdown_it import MarkdownIt

    pages = {str(p.relative_to(root)): p.read_text() for p in root.glob("reports/**/*.html")}
    pages.update({str(p.relative_to(root)): p.read_text() for p in root.glob("reports/charts/*")})
    pages["dvc plots show"] = (root / "plots-page" / "index.html").read_text()
    render = MarkdownIt("commonmark", {"html": True}).enable("table")
    for name in ("reports/evaluation.md", "models/model_card.md"):
        pages[name] = render.render((root / name).read_text())
    return pages


def test_a_hostile_delivery_runs_and_no_page_runs_its_markup(tmp_path):
    root = copy_template(tmp_path / "hostile")
    _hostile_delivery(root)
    params = text_project_params(root, LABELS)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    suite = root / "expectations" / "text-example.yaml"
    suite.write_text(suite.read_text().replace("min_value: 300}", "min_value: 100}"))
    sh(root, "dvc", "add", "-q", "data/raw")
    repro = sh(root, "dvc", "repro", check=False)
    assert repro.returncode == 0, repro.stdout[-2000:] + repro.stderr[-2000:]
    sh(root, "dvc", "plots", "show", "-o", "plots-page")
    pages = _pages(root)
    assert len(pages) > 5 and any("validation/docs" in name for name in pages)
    # The corpus reached the pages (as text): the check is not vacuous.
    assert "alert(11)" in pages["reports/evaluation.md"]
    assert "alert(11)" in pages["reports/charts/confusion.svg"]  # a picture opened on its own
    assert "alert(21)" in pages["dvc plots show"] and "alert(51)" in pages["dvc plots show"]
    assert "cdn.jsdelivr" not in pages["dvc plots show"]  # the engine is inlined: offline
    assert any("alert(41)" in page for name, page in pages.items() if "docs" in name)
    found = {name: executable_markup(page) for name, page in pages.items()}
    assert not any(found.values()), {name: hits for name, hits in found.items() if hits}
    # The data itself is kept exactly: ids and labels in the tables are the raw strings.
    annotators = pd.read_csv(root / "reports" / "annotators.csv", dtype=str)
    assert set(annotators["annotator_id"]) == set(ANNOTATORS)
    labels = pd.read_parquet(root / "data" / "labels" / "labels.parquet")
    assert set(labels["label"].dropna()) <= set(LABELS)
    tasks = json.loads((root / "data" / "relabel" / "tasks.json").read_text())
    assert all(task["data"]["item_id"] in set(labels["item_id"]) for task in tasks)
