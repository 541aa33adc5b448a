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
