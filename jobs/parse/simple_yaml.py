"""A strict fast path for the flat YAML that Hexo generators write. Pure.

PyYAML's constructor runs in Python even with libyaml, and costs more than
parsing the HTML body. The generator writes one shape only: `key: scalar`
lines and `key:` followed by ` - scalar` items, scalars plain, '...' or
"..." (no escapes). This reads exactly that shape, giving what PyYAML's
BaseLoader gives, and returns None for anything else (comments, flow or
nested collections, anchors, tags, escapes, multi-line scalars, duplicate
keys) so the caller falls back to the real YAML loader.
tests/test_simple_yaml.py checks it against libyaml on generated documents.
"""

from __future__ import annotations

import re

# Spaces only as separators: YAML refuses tabs in some of these places, so tabs go to YAML.
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?: +(.*?))?[ \t]*")
_ITEM_LINE = re.compile(r" +- +(.*?)[ \t]*")
# A plain scalar may not start with an indicator, nor contain ': ' or ' #', nor end with ':'.
_PLAIN_START_FORBIDDEN = set("-?:,[]{}#&*!|>'\"%@`\t")
# Characters YAML treats specially (line breaks, BOM) or refuses (non-printable): leave those to YAML.
_NOT_PLAIN_TEXT = re.compile("[^\x09\x0a\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def load_simple(text: str) -> dict[str, str | list[str]] | None:
    if _NOT_PLAIN_TEXT.search(text):
        return None
    result: dict[str, str | list[str]] = {}
    items: list[str] | None = None  # the list of the `key:` line just read, if any
    for line in text.split("\n"):
        if not line.strip():
            continue
        item = _ITEM_LINE.fullmatch(line) if line[0] == " " else None
        if item is not None:
            if items is None:
                return None
            value = _scalar(item.group(1))
            if value is None:
                return None
            items.append(value)
            continue
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            return None
        key, raw = match.groups()
        if key in result:
            return None
        if not raw:
            items = result[key] = []  # `key:` then ` - item` lines; with no item, the value is ''
            continue
        value = _scalar(raw)
        if value is None:
            return None
        result[key] = value
        items = None
    return {k: ("" if v == [] else v) for k, v in result.items()}


def _scalar(raw: str) -> str | None:
    if not raw:
        return None
    first = raw[0]
    if first == "'":
        inner = raw[1:-1]
        if len(raw) < 2 or raw[-1] != "'" or "'" in inner.replace("''", ""):
            return None
        return inner.replace("''", "'")
    if first == '"':
        inner = raw[1:-1]
        if len(raw) < 2 or raw[-1] != '"' or '"' in inner or "\\" in inner:
            return None
        return inner
    if first in _PLAIN_START_FORBIDDEN or ": " in raw or " #" in raw or "\t#" in raw or raw.endswith(":"):
        return None
    return raw
