"""Data Docs made safe, reproducible and readable after Great Expectations writes them.

Great Expectations prints values from the data into the pages unescaped, stamps each page with
the time it was rendered (a cache-buster on its logo, fetched from the web, like a background
logo), and shows the run time. The pages are a DVC output of validate, so the same data must
give the same bytes: values that could open markup are escaped, the logo comes from the site's
own copy (the background logo is dropped), random element ids are numbered, and the run (at a
fixed time, named by a digest of the tables) shows no time. Scripts and styles still come from
CDNs.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

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


def finish_data_docs(docs_dir: Path, shown: list[str]) -> None:
    """Escape every value in ``shown`` that could open markup; localise the logo; drop the time.

    A delivery's text may hold HTML or script (``<script>...``); opening the report must not
    run it. Each such value is replaced by its HTML-escaped form, in one pass, longest first,
    so that no text is escaped twice.
    """
    risky = sorted({value for value in shown if _OPENS_MARKUP.search(value)}, key=len)
    pattern = re.compile("|".join(re.escape(value) for value in reversed(risky))) if risky else None
    for page in sorted(docs_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        cleaned = pattern.sub(lambda found: html.escape(found.group()), text) if pattern else text
        local_logo = "../" * (len(page.relative_to(docs_dir).parts) - 1) + r"static/images/\1"
        cleaned = _REMOTE_BACKGROUND.sub("none", _REMOTE_LOGO.sub(local_logo, cleaned))
        cleaned = _LOAD_TIME.sub(NOT_RECORDED, _FIXED_TIME.sub(NOT_RECORDED, cleaned))
        cleaned = _numbered_uuids(cleaned)
        parts = page.relative_to(docs_dir).parts
        if parts[0] == "validations":  # validations/<table>/<run>/<time>/<page>.html
            cleaned = cleaned.replace("Data asset: None", f"Data asset: {parts[1]} (prepared)")
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def _numbered_uuids(text: str) -> str:
    """Random element ids (uuid4) become their order of appearance in the page."""
    numbers: dict[str, str] = {}
    return _UUID.sub(lambda found: numbers.setdefault(found[0], f"n{len(numbers) + 1}"), text)
