"""Text from the data (ids, labels, file names) made inert for the pages it reaches.

Every page a person opens renders text that came from outside. Each target has its own rule,
kept here so that every writer uses the same one:

- Markdown (evaluation.md, the model card): HTML characters become entities, Markdown
  punctuation is backslash-escaped, and bidi controls are shown as their escapes.
- Mermaid charts (the pull-request report): only letters, digits and plain punctuation stay
  inside a chart's quoted labels; anything else becomes ``_``.
- DVC plots: `dvc plots show` embeds each plot's rows as JSON inside a ``<script>`` block,
  where ``</script>`` or ``<!--`` in a value would end or derail the script. A word joiner
  (U+2060, invisible) after every ``<`` breaks both sequences without changing what a person
  reads.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from stages.core.terminal import bidi_escaped

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")  # inline markup, links, table cells
_MERMAID_UNSAFE = re.compile(r"[^\w .,:+/@()-]")
WORD_JOINER = "\u2060"
_AUTOLINKED = re.compile(r"[@#!](?=\w)|:(?=//)|\bwww(?=\.)", re.IGNORECASE)


def quantity(number: int, noun: str, plural: str = "") -> str:
    """ "1 item", "15 items": the count and its noun agree in every line a person reads."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def markdown_text(value: object) -> str:
    """Text as inert Markdown: no markup, no broken table; line breaks become spaces; a bidi
    override (which would reverse the rest of the row) is shown as its escape, ``\\u202e``."""
    text = bidi_escaped(html.escape(" ".join(str(value).split()), quote=True))
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)  # the escape's backslash shown, not read
    # GitHub and GitLab turn @name into a mention (a notification), #12 into a link to an
    # issue, and a bare address into a link: an invisible word joiner breaks each.
    return _AUTOLINKED.sub(lambda found: found.group() + WORD_JOINER, text)


def mermaid_text(value: object, limit: int = 24) -> str:
    """Text for a quoted Mermaid label: plain characters only, at most ``limit`` of them."""
    return _MERMAID_UNSAFE.sub("_", " ".join(str(value).split()))[:limit]


def plot_text(value: str) -> str:
    """Text that cannot end or derail the ``<script>`` block DVC embeds plot rows in, nor
    reverse a chart's labels (a bidi override is shown as its escape, as in Markdown)."""
    return bidi_escaped(value.replace("<", "<" + WORD_JOINER))


def plot_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with every text cell made safe for `dvc plots show` (numbers untouched)."""
    safe = rows.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(lambda v: plot_text(v) if isinstance(v, str) else v)
    return safe
