"""Messages for people at a terminal: lines under 100 columns, and never huge.

A message (an error, a warning) reads as one: its first line starts with a prefix such as
``error: `` and names the file, the lines after it are indented two spaces, so that
`grep error:` finds it and the eye sees where it ends.
"""

from __future__ import annotations

import re
import unicodedata

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


# Scripts whose letters pass for Latin ones (a Cyrillic "\u0441" in "cat", a Greek omicron).
_LOOK_ALIKE_SCRIPTS = ("CYRILLIC", "GREEK")


def quoted(text: str) -> str:
    """Text quoted for a line: as written, so that a label in Japanese, Arabic or French reads
    as itself (control and format characters escaped, as Python's repr does), or all in ASCII
    escapes where a look-alike could hide: a word with Cyrillic or Greek letters, or one that
    mixes Latin letters (accented ones too) with another script's."""
    for word in text.split():
        scripts = {_script(char) for char in word if char.isalpha()}
        if scripts & set(_LOOK_ALIKE_SCRIPTS) or ("LATIN" in scripts and len(scripts) > 1):
            return ascii(text)
    return repr(text)


def _script(letter: str) -> str:
    """The first word of a letter's Unicode name: LATIN, CYRILLIC, CJK, ARABIC, ..."""
    if letter.isascii():
        return "LATIN"
    return unicodedata.name(letter, "UNKNOWN").split()[0]


def capped(line: str, limit: int) -> str:
    """One line of at most ``limit`` characters: a 50 MB label must not make a 50 MB message.
    Control characters are shown escaped (``\\x1b``), as Python writes them."""
    line = _escaped(" ".join(line.split()))
    if len(line) <= limit:
        return line
    return f"{line[: limit - 40]}... ({len(line)} characters in all)"


def columns(text: str) -> int:
    """Columns ``text`` takes on a terminal: a Chinese, Japanese or Korean character (East
    Asian wide or full-width) takes two, a combining accent none; ``len`` counts one each."""
    if text.isascii():
        return len(text)
    return sum(_char_columns(char) for char in text)


def _char_columns(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def cut(line: str, width: int) -> str:
    """``line`` cut to ``width`` columns, an ellipsis marking the cut."""
    if columns(line) <= width:
        return line
    used = 0
    for at, char in enumerate(line):
        used += _char_columns(char)
        if used > width - 1:
            return line[:at] + "…"
    return line


# GitHub Actions reads a log line starting with "::" (after spaces) as a command ("::error",
# "::add-mask::", "::stop-commands::"), Azure Pipelines one with "##[" or "##vso[": a word of a
# message starting so (wrapping may put it at a line's start) shows its first character escaped.
_CI_COMMANDS = ("::", "##")


def _as_escape_text(char: str) -> str:
    return f"\\x{ord(char):02x}"


def _middle_cut(word: str, width: int) -> str:
    """``word`` in at most ``width`` columns: its start and end kept, an ellipsis between (a
    label or id is known by both; a path is never cut, so that it can be copied)."""
    if columns(word) <= width:
        return word
    head = cut(word, (width + 1) // 2)[:-1]
    tail, room = "", width - 1 - columns(head)
    for char in reversed(word):
        if columns(tail) + _char_columns(char) > room:
            break
        tail = char + tail
    return f"{head}…{tail}"


def _fill(text: str, first: str) -> list[str]:
    """Words in lines of at most ``WIDTH`` columns, the first line after ``first``, the others
    indented two spaces. A path is never split, so that it can be copied: one longer than a
    line stands on a line alone; any other word that long loses its middle."""
    lines: list[str] = []
    line, used, empty = first, columns(first), True
    for word in text.split():
        if "/" not in word and "\\" not in word:  # a value, not a path: its middle may go
            word = _middle_cut(word, WIDTH - 2)
        if word.startswith(_CI_COMMANDS):  # a CI runner would obey a line starting so
            word = _as_escape_text(word[0]) + word[1:]
        width = columns(word)
        if not empty and used + 1 + width > WIDTH:
            lines.append(line)
            line, used, empty = "  ", 2, True
        line, used = (line + word, used + width) if empty else (f"{line} {word}", used + 1 + width)
        empty = False
    if not empty:
        lines.append(line)
    return lines
