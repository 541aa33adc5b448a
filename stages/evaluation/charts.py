"""Every plot as a picture that needs no network, and one page that holds them all.

`dvc plots show` draws the plot files with the Vega-Lite templates in .dvc/plots/ and loads
its scripts from CDNs, so offline it is a blank page. The same templates, filled here the way
DVC fills them and rendered to SVG by vl-convert (Vega in an embedded engine, no network, the
same bytes each time), make reports/report.html: the evaluation report and every plot, in one
self-contained file that opens anywhere.

``CHARTS`` is each plot's definition; dvc.yaml's `plots` entries say the same (a test checks).
``offline_plots_page`` makes the page template that .dvc/config gives `dvc plots show`, with
the same engine's scripts inlined, so that page works offline too.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from stages.core.errors import DataError
from stages.core.reading import read_json

REVISION = "workspace"  # the revision DVC names the working tree's data

CHARTS: dict[str, dict[str, str]] = {
    "annotators.csv": {
        "template": "annotators.json",
        "x": "estimated_accuracy",
        "y": "annotator_id",
        "title": "Annotators, estimated accuracy (bars) and accuracy on gold items (ticks)",
        "x_label": "estimated accuracy",
        "y_label": "annotator",
    },
    "confusion.csv": {
        "template": "confusion.json",
        "x": "predicted",
        "y": "actual",
        "title": "Confusion matrix (test split)",
        "x_label": "predicted label",
        "y_label": "merged label",
    },
    "precision_recall.csv": {
        "template": "by_class.json",
        "x": "recall",
        "y": "precision",
        "title": "Precision-recall per class (test split, one vs rest)",
        "x_label": "recall",
        "y_label": "precision",
    },
    "roc.csv": {
        "template": "by_class.json",
        "x": "fpr",
        "y": "tpr",
        "title": "ROC per class (test split, one vs rest)",
        "x_label": "false positive rate",
        "y_label": "true positive rate",
    },
    "calibration.csv": {
        "template": "calibration.json",
        "x": "confidence",
        "y": "accuracy",
        "title": "Calibration, top-class confidence vs accuracy (test split)",
        "x_label": "mean confidence in bin",
        "y_label": "accuracy in bin",
    },
}


def spec(name: str, rows: pd.DataFrame, templates: Path) -> dict[str, Any]:
    """The chart's Vega-Lite spec with ``rows`` in it, as `dvc plots show` would make it."""
    chart = CHARTS[name]
    template = read_json(templates / chart["template"])
    values = json.loads(rows.assign(rev=REVISION).to_json(orient="records"))
    fills = {
        "<DVC_METRIC_DATA>": values,
        "<DVC_METRIC_TITLE>": chart["title"],
        "<DVC_METRIC_X>": chart["x"],
        "<DVC_METRIC_Y>": chart["y"],
        "<DVC_METRIC_X_LABEL>": chart["x_label"],
        "<DVC_METRIC_Y_LABEL>": chart["y_label"],
    }
    drawn = _without_revision_legend(_filled(template, fills))
    if name == "confusion.csv":
        drawn = _cells_at_least(drawn, len(set(rows[chart["x"]]) | set(rows[chart["y"]])))
    return drawn


CELL = 28  # pixels: a three-digit count in 10-pixel type, with room


def _cells_at_least(chart: dict[str, Any], classes: int) -> dict[str, Any]:
    """A matrix whose fixed size (300 pixels, as `dvc plots show` draws it) would leave a
    class less than ``CELL`` pixels grows by class instead: at 60 classes each had 5."""
    inner = chart.get("spec", chart)
    if not isinstance(inner.get("width"), int | float) or inner["width"] >= CELL * classes:
        return chart
    sized = {**inner, "width": {"step": CELL}, "height": {"step": CELL}}
    return {**chart, "spec": sized} if "spec" in chart else sized


# Where the templates tell revisions apart for plots diff, and what hides it for one revision.
_BY_REVISION = {"color": "legend", "opacity": "legend", "column": "header"}


def _without_revision_legend(node: Any) -> Any:
    """One revision needs no "revision" legend or header (the templates split by it for plots
    diff)."""
    if isinstance(node, dict):
        out = {key: _without_revision_legend(value) for key, value in node.items()}
        for channel, guide in _BY_REVISION.items():
            encoding = out.get(channel)
            if isinstance(encoding, dict) and encoding.get("field") == "rev":
                out[channel] = {**encoding, guide: None}
        return out
    if isinstance(node, list):
        return [_without_revision_legend(value) for value in node]
    return node


def _filled(node: Any, fills: dict[str, Any], in_list: bool = False) -> Any:
    """The template with its anchors filled as DVC fills them: a whole value anywhere, and
    inside a longer text where a mapping holds it ("<DVC_METRIC_X>_order"), not in a list."""
    if isinstance(node, dict):
        return {key: _filled(value, fills) for key, value in node.items()}
    if isinstance(node, list):
        return [_filled(value, fills, in_list=True) for value in node]
    if not isinstance(node, str) or node in fills:
        return fills.get(node, node) if isinstance(node, str) else node
    if not in_list:
        for anchor, value in fills.items():
            if isinstance(value, str):
                node = node.replace(anchor, value)
    return node


def svg(chart: dict[str, Any], prefix: str = "") -> str:
    """The chart drawn as SVG, offline (vl-convert), the same bytes whatever was drawn before
    it: Vega numbers gradients and clip paths by a counter that runs across a process. Ids
    start with ``prefix``, so that several pictures in one page never share one."""
    import vl_convert

    try:
        drawn = vl_convert.vegalite_to_svg(_with_room_for_wider_fonts(chart))
    except ValueError as error:  # a template edited into something Vega-Lite cannot draw
        title = chart.get("title", {})
        name = title.get("text", "a chart") if isinstance(title, dict) else str(title)
        reason = str(error).strip().splitlines()[0]  # not the JavaScript stack under it
        raise DataError(".dvc/plots", name, f"cannot draw it ({reason})") from None
    numbers: dict[str, str] = {}
    drawn = _COUNTED_ID.sub(
        lambda m: numbers.setdefault(m[0], f"{prefix}{m[1]}{len(numbers)}"), drawn
    )
    return drawn.replace('font-family="sans-serif"', f'font-family="{METRIC_COMPATIBLE_FONTS}"')


_COUNTED_ID = re.compile(r"\b(gradient_|clip|pattern_)\d+\b")

# vl-convert lays text out with its own Liberation Sans whatever the machine has (so the SVG's
# bytes do not depend on its fonts), but a browser draws "sans-serif" with its own default:
# DejaVu Sans on most Linux desktops, about an eighth wider, which ran axis labels into the
# axis title and cut the legend's last letters. The SVG asks for Liberation Sans or a font with
# the same widths (Arimo, Arial, Helvetica) first, and the layout keeps room for a wider one.
METRIC_COMPATIBLE_FONTS = "Liberation Sans, Arimo, Arial, Helvetica, sans-serif"
_ROOM = {"padding": {"left": 5, "top": 5, "right": 32, "bottom": 5}}
_AXIS_ROOM = {"axisY": {"titlePadding": 36}}


def _with_room_for_wider_fonts(chart: dict[str, Any]) -> dict[str, Any]:
    """The chart with room around its text, unless its template sets its own."""
    config = dict(chart.get("config", {}))
    for part, settings in _AXIS_ROOM.items():
        config[part] = {**settings, **config.get(part, {})}
    return {**_ROOM, **chart, "config": config}


def report_page(title: str, body_html: str, pictures: list[tuple[str, str]]) -> str:
    """One self-contained HTML page: ``body_html`` (already safe), then each (title, SVG);
    each drawing shows its own title, so the figure names it for screen readers only."""
    figures = "\n".join(
        f'<figure{_wide(picture)} aria-label="{html.escape(caption)}">\n{picture}\n</figure>'
        for caption, picture in pictures
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{body_html}\n<h2>Plots</h2>\n{figures}\n</body>\n</html>\n"
    )


def _wide(picture: str) -> str:
    """A picture wider than the page (a matrix of many classes) scrolls in its figure; shrunk
    to fit, its counts would be too small to read."""
    found = re.search(r'width="([0-9.]+)"', picture)
    return ' class="wide"' if found and float(found.group(1)) > _PAGE_PIXELS else ""


_PAGE_PIXELS = 1088  # 70rem, less the padding
_STYLE = (
    "body{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
    "figure{margin:2rem 0}figure svg{max-width:100%;height:auto}"  # zoomed: no sideways scroll
    "figure.wide{overflow-x:auto}figure.wide svg{max-width:none}"
)


PLOTS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>Plots (dvc plots)</title>
    <script>
{bundle}
    </script>
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def offline_plots_page() -> str:
    """The `dvc plots show` page template with Vega, Vega-Lite and Vega-Embed inlined
    (vl-convert's bundle) in place of DVC's CDN scripts ({scripts} is left out)."""
    import vl_convert

    bundle = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    return PLOTS_PAGE.replace("{bundle}", bundle)


if __name__ == "__main__":  # python -m stages.evaluation.charts: rewrite the page template
    Path(".dvc/plots/offline.html").write_text(offline_plots_page(), encoding="utf-8")
