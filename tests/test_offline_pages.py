"""Every page a person opens works offline: Data Docs, the offline report and the DVC plots
page render in a real browser (headless Chromium) with the network cut, and ask it for nothing.

Skipped where Chromium is absent (`.ci/run` installs it when it can: `apt-get install chromium`).
"""

from __future__ import annotations

import re

import pytest

from tests.browser import CHROMIUM, open_offline
from tests.helpers import sh

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)")


def test_the_check_sees_a_page_that_needs_the_network_or_breaks(tmp_path):
    page = tmp_path / "cdn.html"
    page.write_text(
        '<script src="https://cdn.example.org/lib.js"></script><script src="gone.js"></script>'
        "<script>notDefined()</script><p>hello</p>"
    )
    opened = open_offline(page, tmp_path / "browser")
    assert opened.remote_requests == ["https://cdn.example.org/lib.js"]
    assert "hello" in opened.dom
    assert len(opened.problems) == 2 and "missing: " in opened.problems[-1]
    assert "notDefined is not defined" in opened.problems[0]


def test_data_docs_render_offline(reproduced, tmp_path):
    docs = reproduced / "reports" / "validation" / "docs"
    validations = sorted((docs / "validations").rglob("*.html"))
    suites = sorted((docs / "expectations").rglob("*.html"))
    index = open_offline(docs / "index.html", tmp_path / "index")
    assert index.remote_requests == [] and index.problems == []
    # The index's tables are drawn by script from data in the page: rows mean the scripts ran.
    links = re.findall(r'<tr class="clickable-row" data-href="([^"]+)"', index.dom)
    assert sorted(links) == sorted(
        page.relative_to(docs).as_posix() for page in validations + suites
    )
    # Each row opens its page from a link too (a click on a row needs a mouse), and a result's
    # status says itself in words, not by its icon's colour alone.
    cells = re.findall(r'<tr class="clickable-row" data-href="([^"]+)"[^>]*><td><a href="([^"]+)">'
                       r'(.*?)</a></td>', index.dom, re.S)  # fmt: skip
    assert sorted(href for href, _, _ in cells) == sorted(links)
    assert [linked for _, linked, _ in cells] == [href for href, _, _ in cells]
    statuses = [re.sub(r"<[^>]+>", "", cell).split() for href, _, cell in cells
                if href.startswith("validations/")]  # fmt: skip
    assert statuses == [["Success"]] * len(validations), statuses
    for page in (validations[0], suites[0]):
        opened = open_offline(page, tmp_path / page.stem)
        assert opened.remote_requests == [] and opened.problems == [], page
        assert "Expectation" in opened.dom


def test_the_report_and_the_plots_page_render_offline(reproduced, tmp_path):
    report = open_offline(reproduced / "reports" / "report.html", tmp_path / "report")
    assert report.remote_requests == [] and report.problems == []
    assert report.dom.count("<svg") >= 5  # every chart, drawn
    sh(reproduced, "dvc", "plots", "show", "-o", str(tmp_path / "plots"))
    plots = open_offline(tmp_path / "plots" / "index.html", tmp_path / "plots-browser")
    assert plots.remote_requests == [] and plots.problems == []
    # Vega-Embed drew each plot (an SVG or a canvas in every plot's div).
    drawn = re.findall(r'<div id="[^"]+"[^>]*class="vega-embed[^"]*"', plots.dom)
    assert len(drawn) >= 5, plots.dom[:2000]


# Runs in the page: every text of every picture, as the browser drew it, must lie inside its
# picture and clear of every other text (an axis title run into its labels, a legend cut off).
_MEASURE_TEXTS = """<script>
const found = [];
for (const svg of document.querySelectorAll("svg")) {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim())
    .map((t) => [t.textContent, t.getBoundingClientRect()]);
  for (const [word, r] of texts) {
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
        || r.bottom > box.bottom + 1) found.push(`${svg.id}: "${word}" outside the picture`);
  }
  texts.forEach(([a, p], i) => texts.slice(i + 1).forEach(([b, q]) => {
    const across = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const down = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (across > 2 && down > 2) found.push(`${svg.id}: "${a}" runs into "${b}"`);
  }));
}
document.body.insertAdjacentHTML("beforeend", `<pre id="found">${JSON.stringify(found)}</pre>`);
</script>"""


def test_every_chart_text_fits_as_this_machines_browser_draws_it(tmp_path):
    """vl-convert lays text out in Liberation Sans; the browser draws in the fonts it has
    (here, usually DejaVu Sans, about an eighth wider), so the layout must leave room."""
    import html
    import json

    from stages.evaluation import charts
    from tests.conftest import PROJECT_ROOT
    from tests.test_charts import SAMPLES

    long_ids = SAMPLES["annotators.csv"].assign(
        annotator_id=[
            "fatima.zahra@labelco.example",
            "bo.chen.quality-review-team.contractor-2024-north@x.org",
        ]
    )
    samples = {**SAMPLES, "annotators.csv": long_ids}
    pictures = [
        charts.svg(charts.spec(name, rows, PROJECT_ROOT / ".dvc" / "plots"), f"c{n}-").replace(
            "<svg ", f'<svg id="{name}" ', 1
        )
        for n, (name, rows) in enumerate(sorted(samples.items()))
    ]
    page = tmp_path / "charts.html"
    page.write_text(f"<!DOCTYPE html><html><body>{''.join(pictures)}{_MEASURE_TEXTS}</body></html>")
    opened = open_offline(page, tmp_path / "browser")
    assert opened.problems == []
    found = re.findall(r'<pre id="found">(.*?)</pre>', opened.dom)  # the script's own text first
    assert len(found) == 2, opened.dom[-2000:]
    assert json.loads(html.unescape(found[-1])) == []
