"""Messages for people at a terminal: lines under 100 columns, and never huge.

A message (an error, a warning) reads as one: its first line starts with a prefix such as
``error: `` and names the file, the lines after it are indented two spaces, so that
`grep error:` finds it and the eye sees where it ends.
"""

from __future__ import annotations

import re
import textwrap

import click

WIDTH = 99


def wrapped(prefix: str, message: str, path: str = "", limit: int = 400) -> str:
    """``message`` in lines under 100 columns. Words, paths among them, are never split, so
    that they can be copied: one longer than a line stands on a line alone, as does a long
    ``path`` on the first line."""
    message = capped(message, limit)
    if not path:
        return "\n".join(_fill(message, first=prefix))
    path = _escaped(path)  # a name's line break is part of the name
    head = capped(f"{prefix}{path}:", limit)
    if len(head) > 60:
        return "\n".join([head, *_fill(message, first="  ")])
    return "\n".join(_fill(message, first=f"{head} "))


def echo_warnings(lines: list[str]) -> None:
    """Print warnings to stderr, wrapped; a line that starts with two spaces continues the
    warning before it."""
    for line in lines:
        click.echo(wrapped("  " if line.startswith("  ") else "warning: ", line), err=True)


BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates (a class)
# Characters that drive a terminal instead of printing (escape sequences, bell, line breaks,
# bidi overrides): a file name or id holding them must not clear a line or retitle the window.
_CONTROLS = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def _as_escape(found: re.Match[str]) -> str:
    return ascii(found.group())[1:-1]  # as Python writes it: \x1b, \u202e


def _escaped(text: str) -> str:
    return _CONTROLS.sub(_as_escape, text)


def bidi_escaped(text: str) -> str:
    """A bidi override or isolate (which would draw the rest of a line backwards) shown as
    its escape, ``\\u202e``, in pages and charts; right-to-left text itself is left alone."""
    return _BIDI.sub(_as_escape, text)


_LATIN = re.compile(r"[A-Za-z]")
_OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z]")


def quoted(text: str) -> str:
    """Text quoted for a line: as written, so that a label in Japanese or Arabic reads as
    itself (control and format characters escaped, as Python's repr does), or all in ASCII
    escapes where a word mixes Latin letters with another script's: where a look-alike hides
    (a Cyrillic "\u0430" in "cat"). Linear in the text: a value may be megabytes."""
    mixed = any(_LATIN.search(word) and _OTHER_LETTER.search(word) for word in text.split())
    return ascii(text) if mixed else repr(text)


def capped(line: str, limit: int) -> str:
    """One line of at most ``limit`` characters: a 50 MB label must not make a 50 MB message.
    Control characters are shown escaped (``\\x1b``), as Python writes them."""
    line = _escaped(" ".join(line.split()))
    if len(line) <= limit:
        return line
    return f"{line[: limit - 40]}... ({len(line)} characters in all)"


def _fill(text: str, first: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=first,
        subsequent_indent="  ",
        break_long_words=False,  # a path stays whole: a word longer than a line stands alone
        break_on_hyphens=False,
    )
