"""The structural screen: edge lines that are boilerplate by their shape, in any language. Pure.

The pattern table (boilerplate.py) knows phrasings; this knows shapes. It is asked only about a
line at the very edge of an article (no kept line between it and the first or last paragraph),
never about a long one, and its verdicts are recorded and undone like the table's (boilerplate.py
owns the scan, the record of removed lines and the rule that an article is never emptied):

- `link_line`: a short line whose text is mostly link text (tags, navigation, buttons,
  previous/next post); at the start, only a row of two links or more (one linked line there is a
  heading). The share of link text comes from the HTML: body.py marks each <a href>.
- `title_echo`: the first line repeats the title, alone or with a date (punctuation, case and
  width ignored: the generator writes `_` for `:` and `/` in titles).
- `date_line`: a first line that is only a date or a time (at the end, a bare date is the
  date under a letter's or notice's signature: content).
- `empty_label`: a label with nothing after it (`标签：`, `Tags:`) as the last line.
- `media_fallback`: the fallback text of a <video> or <audio> element (body.py collects it).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

LINK_LINE_MAX = 80  # characters: a row of tags or a navigation line is short; a sentence with a link is not one
LINK_SHARE_MIN = 0.6  # of the line's non-space characters inside <a href>
ECHO_MIN_KEY = 4  # a title shorter than this (after normalising) is too common a string to echo
DATE_LINE_MAX = 48
ECHO_MAX_EXTRA = 40  # characters an echo may add to the title (a date, separators)

FAMILIES = {
    "link_line": "a short edge line made mostly of link text: tags, navigation, buttons, previous/next post",
    "title_echo": "a first line that repeats the title (alone or with a date)",
    "date_line": "a first line that is only a date or a time",
    "empty_label": "a label with no value as the last line (`标签：`, `Tags:`)",
    "media_fallback": "the fallback text of a <video> or <audio> element (`Your browser does not support…`)",
}


@dataclass(frozen=True)
class Page:
    """What the screen knows of a body besides its paragraphs."""

    title: str | None = None
    link_share: dict[str, tuple[float, int]] = field(default_factory=dict)  # paragraph -> (share of its text in links, links)
    media_fallback: frozenset[str] = frozenset()  # paragraphs that are a media element's fallback text

    @cached_property
    def title_key(self) -> str:  # only an article whose first line is about the title's length needs it
        return text_key(self.title) if self.title else ""


_NOT_ALNUM = re.compile(r"[\W_]+")


def text_key(text: str) -> str:
    """Letters and digits only, width-folded and case-folded: `AI 芯片：发布` and `AI芯片_发布` agree."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?|(?:星期|周|週)[一二三四五六日天]|[（(][一二三四五六日月火水木金土][）)])"
_DAY = (
    r"(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?"  # 2022-08-06, 2022年8月6日, 2022.8.6
    r"|\d{1,2}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{4}"  # 06/08/2022
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"  # 8月6日
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # August 6, 2022
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}})"  # 6 Aug 2022
)
_TIME = r"(?:\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?(?:\.\d+)?(?:\s*[ap]\.?m\.?)?|\d{1,2}\s*[时時点]\s*(?:\d{1,2}\s*分)?)"
_ZONE = r"(?:z|utc|gmt|cst|jst|[+-]\d{2}:?\d{2}|(?:utc|gmt)\s*[+-]\d{1,2}(?::?\d{2})?)"
# A whole line of: optional weekday, a day and/or a time, optional zone; brackets and separators around.
_DATE_ONLY = re.compile(
    rf"^[\s(（\[【]*(?:{_WEEKDAY}\s*)?(?:{_DAY}(?:\s*{_WEEKDAY})?(?:[\sT,，]*{_TIME})?|{_TIME})\s*{_ZONE}?\s*(?:{_WEEKDAY})?[\s)）\]】]*$",
    re.IGNORECASE)
# What may stand beside the title in an echo, after text_key: digits and the date words.
_DATE_KEY = re.compile(rf"^(?:\d+|[年月日号時时点分秒]|{_MONTH}|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|am|pm|utc|gmt|t|z)+$",
                       re.IGNORECASE)
# A label and nothing else: `标签：`, `Tags:`, `相关标签 :` (a sentence ending in a colon is longer).
_EMPTY_LABEL = re.compile(r"^(?:[^\s。！？!?.,，：:]{1,8}|[A-Za-z][A-Za-z ]{0,24})\s*[:：]$")


def is_date_line(paragraph: str) -> bool:
    return len(paragraph) <= DATE_LINE_MAX and _DATE_ONLY.match(paragraph) is not None  # every form holds a digit


def family(paragraph: str, head: bool, page: Page) -> str | None:
    """The structural family of an edge line, or None. `head`: the edge is the article's start."""
    weight = page.link_share.get(paragraph)
    # At the start one linked line is a heading that links somewhere (a name, an item); a row of links is navigation.
    if weight is not None and weight[0] >= LINK_SHARE_MIN and len(paragraph) <= LINK_LINE_MAX and (weight[1] >= 2 or not head):
        return "link_line"
    if head and _echoes_title(paragraph, page):
        return "title_echo"
    if head and is_date_line(paragraph):  # at the end, a date under a signature belongs to the letter
        return "date_line"
    if not head and paragraph[-1] in ":：" and _EMPTY_LABEL.match(paragraph):
        return "empty_label"
    return None


def _echoes_title(paragraph: str, page: Page) -> bool:
    title = page.title
    # An echo is the title, give or take punctuation and a date: about its length (most first lines are longer).
    if not title or not len(title) // 2 <= len(paragraph) <= len(title) + ECHO_MAX_EXTRA:
        return False
    title_key = page.title_key
    if len(title_key) < ECHO_MIN_KEY:
        return False
    key = text_key(paragraph)
    if key == title_key:
        return True
    if key.startswith(title_key):
        rest = key[len(title_key):]
    elif key.endswith(title_key):
        rest = key[: -len(title_key)]
    else:
        return False
    return _DATE_KEY.match(rest) is not None
