"""Data Docs made safe, reproducible and readable after Great Expectations writes them.

Great Expectations prints values from the data into the pages unescaped, stamps each page with
the time it was rendered (a cache-buster on its logo, fetched from the web, like a background
logo), and shows the run time. The pages are a DVC output of validate, so the same data must
give the same bytes: values that could open markup are escaped, the logo comes from the site's
own copy (the background logo is dropped), random element ids are numbered, and the run (at a
fixed time, named by a digest of the tables) shows no time. The pages load jQuery, Bootstrap
and Font Awesome from CDNs: the site gets its own copies (from the locked xstatic packages) and
a small stand-in for bootstrap-table (``assets/tables.js``), so it opens offline; the scripts
nothing here uses (Vega, a date picker, a dark theme) are dropped.
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from stages.gate.suites import WARNING

# Text that can open a tag, a comment or a declaration: only such values are escaped, so that
# a value such as ">" or '"' never rewrites the page's own markup.
_OPENS_MARKUP = re.compile(r"<[A-Za-z!/?]")
_REMOTE_LOGO = re.compile(
    r"https://great-expectations-web-assets\.[^\"']*/(logo-long\.png)\?d=[^\"']*"
)
_REMOTE_BACKGROUND = re.compile(r"url\('https://great-expectations-web-assets\.[^']*'\)")
_FIXED_TIME = re.compile(r"1970-01-01(T00:00:00Z| 00:00:00 UTC)")
_LOAD_TIME = re.compile(r"(?<![/\w])(?!19700101)\d{8}T\d{6}\.\d{6}Z")  # ge_load_time
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOT_RECORDED = "not recorded (the pages depend on the data only)"
_REMOTE_TAG = re.compile(
    r'<script src="(https://[^"]+)"[^>]*>\s*</script>|<link\b[^>]*href="(https://[^"]+)"[^>]*>'
)
_FAVICON = re.compile(r'href="(?:\./|(?:\.\./)*)static/images/favicon\.ico"')
# A cross-table check runs on a helper column, "item_id (not in items.item_id)", that must be
# null: the pages say what it checks instead.
_REFERENCE = re.compile(r"([^\s<>()]+) \(not in ([^\s<>()]+)\)")
_SECTION = re.compile(r'(?=<div id="section-\d+" )')
_NEWSLETTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>", re.S)
# A compound check's unexpected row: one cell whose fields GX prints as bare adjacent spans.
_ROW_CELL = re.compile(r'(?<=<div class="show-scrollbars">)((?:<span>[^<]*</span>){2,})(?=</div>)')
VENDOR = "static/vendor"
# Each CDN file the pages load -> the site's own copy (under VENDOR); any other is dropped.
_LOCAL_COPY = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap.bundle.min.js"  # with Popper, which the pages load separately
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "tables.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
}


def finish_data_docs(docs_dir: Path, shown: list[str], checks: list[CheckRow]) -> None:
    """Escape every value in ``shown`` that could open markup; localise the logo; drop the time;
    open each validation page with its table's ``checks``.

    A delivery's text may hold HTML or script (``<script>...``); opening the report must not
    run it. Each such value is replaced by its HTML-escaped form, in one pass, longest first,
    so that no text is escaped twice.
    """
    warned = {table for table in {row.table for row in checks} if _warnings_only(checks, table)}
    # Each value as written and with its line breaks as a page may print them (never a line
    # alone: "</div>" on a line of its own would escape the page's own markup).
    pieces = {
        form
        for value in shown
        for form in (value, value.replace("\r\n", "\n"), value.replace("\r", "\n"))
    }
    risky = sorted({piece for piece in pieces if _OPENS_MARKUP.search(piece)}, key=len)
    pattern = re.compile("|".join(re.escape(value) for value in reversed(risky))) if risky else None
    for page in sorted(docs_dir.rglob("*.html")):
        with page.open(encoding="utf-8", newline="") as opened:  # "\r" kept, as written
            text = opened.read()
        cleaned = pattern.sub(lambda found: html.escape(found.group()), text) if pattern else text
        to_root = "../" * (len(page.relative_to(docs_dir).parts) - 1)
        local_logo = to_root + r"static/images/\1"
        cleaned = _REMOTE_BACKGROUND.sub("none", _REMOTE_LOGO.sub(local_logo, cleaned))
        cleaned = _LOAD_TIME.sub(NOT_RECORDED, _FIXED_TIME.sub(NOT_RECORDED, cleaned))
        cleaned = _numbered_uuids(cleaned)
        cleaned = phrase_reference_checks(_NEWSLETTER.sub("", cleaned))
        cleaned = _ROW_CELL.sub(
            lambda row: row.group().replace("</span><span>", "</span>, <span>"), cleaned
        )
        cleaned = _REMOTE_TAG.sub(partial(_local_tag, to_root=to_root), cleaned)
        # Great Expectations counts the icon's folder wrong on every page but the index.
        cleaned = _FAVICON.sub(f'href="{to_root}static/images/favicon.ico"', cleaned)
        parts = page.relative_to(docs_dir).parts
        cleaned = _readable(cleaned, parts)
        if parts[0] == "validations":  # validations/<table>/<run>/<time>/<page>.html
            cleaned = cleaned.replace("Data asset: None", f"Data asset: {parts[1]} (prepared)")
            cleaned = _with_checks(cleaned, [row for row in checks if row.table == parts[1]])
            if parts[1] in warned:
                cleaned = cleaned.replace(_FAILED_STATUS, _WARNING_STATUS)
        elif parts == ("index.html",):
            for table in sorted(warned):
                cleaned = _index_row_warning(cleaned, table)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8", newline="")
    copy_vendor_files(docs_dir / VENDOR)


# Bootstrap's link blue is 3.98:1 on white and its warning yellow 1.63:1 (WCAG asks 4.5 and 3).
_CONTRAST = "<style>a{color:#0056b3}.text-warning{color:#856404!important}</style>"


def _readable(page: str, parts: tuple[str, ...]) -> str:
    """A page a screen reader can name: its language, a title saying which page it is (Great
    Expectations gives every page the same), and colours with the contrast WCAG AA asks."""
    if parts[0] == "validations":  # validations/<table>/<run>/<time>/<page>.html
        title = f"{parts[1]}: validation results ({parts[2]})"
    elif parts[0] == "expectations":
        title = f"{Path(parts[-1]).stem}: the suite's checks"
    else:
        title = "Validation of the prepared tables"
    page = re.sub(r"<title>[^<]*</title>", f"<title>{html.escape(title)} - Data Docs</title>",
                  page.replace("<html>", '<html lang="en">', 1), count=1)  # fmt: skip
    # A screen reader's list of headings starts at the page's name (the pages begin at h4).
    heading = f'<body><h1 class="sr-only">{html.escape(title)}</h1>'
    return page.replace("</head>", _CONTRAST + "</head>", 1).replace("<body>", heading, 1)


@dataclass(frozen=True)
class CheckRow:
    """One line of a table's checks, as the suite names them (``result``: plain words)."""

    table: str
    name: str
    severity: str
    column: str
    expectation: str
    result: str
    failed: bool


_FAILED_STATUS = '<i class="fas fa-times text-danger" aria-hidden="true"></i> Failed'
_WARNING_STATUS = (
    '<i class="fas fa-exclamation-triangle text-warning" aria-hidden="true"></i> '
    "Passed, with warnings"
)
_FAILED_ICON = "fas fa-times text-danger ge-failed-icon"
_WARNING_ICON = "fas fa-exclamation-triangle text-warning ge-warning-icon"
_INDEX_ROW = "{'validation_success': "  # each row of the index's table data starts so


def _warnings_only(checks: list[CheckRow], table: str) -> bool:
    """Great Expectations knows no severity: a table whose only failures are warnings reads
    "Passed, with warnings", on its page and on the index, not "Failed"."""
    failed = [row for row in checks if row.table == table and row.failed]
    return bool(failed) and all(row.severity == WARNING for row in failed)


def _index_row_warning(index: str, table: str) -> str:
    """The index row of ``table``'s validation: a warning sign and "Warnings", not a cross."""
    rows = index.split(_INDEX_ROW)
    for n, row in enumerate(rows):
        if f"'asset_name': '{table}'}}" in row:
            rows[n] = row.replace(_FAILED_ICON, _WARNING_ICON).replace(
                "'_validation_success_text': 'Failed'", "'_validation_success_text': 'Warnings'"
            )
    return _INDEX_ROW.join(rows)


def _with_checks(page: str, rows: list[CheckRow]) -> str:
    """The page, opening with the suite's checks of its table: name, result, severity (a
    narrow window scrolls the table inside its card, the result in view, not past its edge)."""
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(value).replace(',', ',<wbr>')}</td>"
            for value in (row.name, row.result, row.severity, row.column, row.expectation)
        )
        + "</tr>"
        for row in rows
    )
    card = (
        '<div class="ge-section container-fluid mb-1 pb-1 pl-sm-3 px-0"><div class="card">'
        '<div class="card-header"><h5 class="m-0">'
        "Checks of the suite (validate.suite), as it names them</h5></div>"
        '<div class="table-responsive"><table class="table table-sm mb-0"><thead><tr>'
        "<th>check</th><th>result</th><th>severity</th><th>column</th><th>expectation</th>"
        f"</tr></thead><tbody>{cells}</tbody></table></div></div></div>\n"
    )
    return page.replace('<div id="section-1" ', card + '<div id="section-1" ', 1)


def phrase_reference_checks(page: str) -> str:
    """In each section about a cross-table helper column, the check's own words: "every
    item_id is a value of items.item_id" for "values must be null", "found" for "null"."""
    sections = _SECTION.split(page)
    for n, section in enumerate(sections):
        found = _REFERENCE.search(section)
        if found is None:
            continue
        column, target = found.groups()
        section = section.replace(
            "values must be null", f"every {column} must be a value of {target}"
        )
        section = re.sub(r"(\d+(?:\.\d+)?)% not null", r"\1% not found", section)
        sections[n] = re.sub(r"(\d+(?:\.\d+)?)% null", r"\1% found", section)
    return _REFERENCE.sub(r"\1 in \2", "".join(sections))


def _local_tag(tag: re.Match[str], *, to_root: str) -> str:
    """The site's own copy of a CDN script or stylesheet, or nothing where the pages need none."""
    script, stylesheet = tag.groups()
    local = _LOCAL_COPY.get(script or stylesheet)
    if local is None:
        return ""
    if script:
        return f'<script src="{to_root}{VENDOR}/{local}"></script>'
    return f'<link rel="stylesheet" href="{to_root}{VENDOR}/{local}">'


def copy_vendor_files(vendor: Path) -> None:
    """jQuery, Bootstrap (with Popper) and Font Awesome from their locked packages; tables.js."""
    from xstatic.pkg import bootstrap, font_awesome, jquery

    copies = {
        "jquery.min.js": Path(jquery.BASE_DIR, "jquery.min.js"),
        "bootstrap.bundle.min.js": Path(bootstrap.BASE_DIR, "js", "bootstrap.bundle.min.js"),
        "bootstrap.min.css": Path(bootstrap.BASE_DIR, "css", "bootstrap.min.css"),
        "tables.js": Path(__file__).with_name("assets") / "tables.js",
        "fontawesome/css/all.min.css": Path(font_awesome.BASE_DIR, "css", "all.min.css"),
    }
    for font in sorted(Path(font_awesome.BASE_DIR, "webfonts").glob("*.woff2")):
        copies[f"fontawesome/webfonts/{font.name}"] = font
    for name, source in copies.items():
        (vendor / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, vendor / name)


def _numbered_uuids(text: str) -> str:
    """Random element ids (uuid4) become their order of appearance in the page."""
    numbers: dict[str, str] = {}
    return _UUID.sub(lambda found: numbers.setdefault(found[0], f"n{len(numbers) + 1}"), text)
