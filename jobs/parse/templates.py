"""A source's template: short paragraphs that open or close many of its articles. Pure.

The parse (record.py) knows one article; a template is only visible across a source's articles, so it is
learned by the run (the manifest counts, per source, the articles having each short edge paragraph:
jobs/lake/manifest.py) and applied by the reduce tasks to every row they write. This module holds what
both sides share: the key of a paragraph, the edges an article contributes, the threshold, and the
removal and its exact inverse (a row keeps what was removed, so it can be cleaned again without its raw file).

Thresholds (bench/boilerplate_eval.py against bench/labels, README "Templates"):
  EDGE_PARAGRAPHS  only the first and last 5 paragraphs are edges, and only a run of template paragraphs
                   touching the start or the end is removed: a repeat in the middle of an article stays;
  MAX_CHARS        a paragraph longer than 200 characters is never a template;
  MIN_ARTICLES, MIN_SHARE  a key is a template of a source when at least max(3, ceil(share x articles)) of
                   its articles have it at an edge: 3 of a source's 4-6 articles, a share of a big one.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from typing import NamedTuple

EDGE_PARAGRAPHS = 5
MAX_CHARS = 200
MIN_ARTICLES = 3
MIN_SHARE = 0.5

_SPACE = re.compile(r"\s+")
# `label: value` with a short label and a value: a field of a record-like feed (a product's type, a film's
# cast), content even when every article repeats it (measured: bench/labels, Hpoi). Never a template.
_FIELD = re.compile(r"^[^:：]{1,12}[:：]\s*\S")


class Edge(NamedTuple):
    """One short paragraph at an edge of one article (an article counts once per key)."""

    key: str
    text: str
    at_start: bool
    at_end: bool


def normalise(paragraph: str) -> str:
    """As `articles report` compares paragraphs: NFKC, whitespace collapsed, case folded."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", paragraph)).strip().casefold()


def paragraph_key(paragraph: str) -> str:
    return _key(normalise(paragraph))


def _key(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]


def text_hash(paragraph: str) -> str:
    """The hash of a paragraph as written: what the manifest lists per article (one spelling of a key)."""
    return hashlib.sha256(paragraph.encode("utf-8")).hexdigest()[:16]


def edges(paragraphs: list[str]) -> list[Edge]:
    """The short paragraphs among the first and last EDGE_PARAGRAPHS, one Edge per distinct key."""
    count = len(paragraphs)
    found: dict[str, Edge] = {}
    for index, text in enumerate(paragraphs):
        at_start, at_end = index < EDGE_PARAGRAPHS, index >= count - EDGE_PARAGRAPHS
        if not (at_start or at_end) or len(text) > MAX_CHARS or _FIELD.match(text):
            continue
        normalised = normalise(text)  # once: can_be_template then paragraph_key would do it twice
        if not normalised:
            continue
        key = _key(normalised)
        seen = found.get(key)
        if seen is not None:
            at_start, at_end = at_start or seen.at_start, at_end or seen.at_end
            text = seen.text
        found[key] = Edge(key, text, at_start, at_end)
    return list(found.values())


def can_be_template(text: str) -> bool:
    """Short, not blank, not a `label: value` field."""
    return len(text) <= MAX_CHARS and not _FIELD.match(text) and bool(normalise(text))


def min_articles(source_articles: int, share: float = MIN_SHARE) -> int:
    """How many of a source's articles must have a paragraph at an edge for it to be a template."""
    return max(MIN_ARTICLES, math.ceil(share * source_articles))


def strip_template(paragraphs: list[str], keys: frozenset[str] | set[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """(paragraphs kept, [(position, text)] removed): the runs of template paragraphs at the start and the end.

    Positions are in `paragraphs`. Only within the first and last EDGE_PARAGRAPHS, only short paragraphs
    (a long one is never a template, whatever its key), and only a run touching an edge: the first
    paragraph that is not a template ends the run. An article would be emptied: nothing is removed.
    """
    if not keys or not paragraphs:
        return paragraphs, []
    count = len(paragraphs)

    def is_template(index: int) -> bool:
        text = paragraphs[index]
        return can_be_template(text) and paragraph_key(text) in keys

    start = 0
    while start < min(EDGE_PARAGRAPHS, count) and is_template(start):
        start += 1
    stop = count
    while stop > max(start, count - EDGE_PARAGRAPHS) and is_template(stop - 1):
        stop -= 1
    if start == 0 and stop == count:
        return paragraphs, []
    if start >= stop:  # never empty an article: one that is all template lines keeps them (and stays findable)
        return paragraphs, []
    removed = [(i, paragraphs[i]) for i in (*range(start), *range(stop, count))]
    return paragraphs[start:stop], removed


def reinsert(paragraphs: list[str], removed: list[tuple[int, str]] | None) -> list[str]:
    """The paragraphs as parsed, before strip_template: its exact inverse."""
    if not removed:
        return paragraphs
    out = list(paragraphs)
    for position, text in sorted(removed):
        out.insert(position, text)
    return out


class Learned(NamedTuple):
    """One template paragraph of a source, with the counts that made it one."""

    key: str
    text: str
    articles: int         # the source's articles having it at an edge
    source_articles: int  # the source's articles
    at_start: bool        # among the first EDGE_PARAGRAPHS of at least one of them
    at_end: bool          # among the last EDGE_PARAGRAPHS of at least one of them


def learn_counted(paragraphs_by_source: dict[str, list[list[str]]], share: float = MIN_SHARE) -> dict[str, dict[str, Learned]]:
    """Each source's template paragraphs with their counts, from all its articles' paragraphs.

    The in-memory twin of the manifest's count (jobs/lake/manifest.py `templates_after`), for a raw dir
    read at once (`articles report`, `articles review`, bench/boilerplate_eval.py): the same counts, the same threshold.
    """
    learned: dict[str, dict[str, Learned]] = {}
    for source, articles in paragraphs_by_source.items():
        found: dict[str, Learned] = {}
        for paragraphs in articles:
            for edge in edges(paragraphs):
                seen = found.get(edge.key)
                if seen is None:
                    found[edge.key] = Learned(edge.key, edge.text, 1, len(articles), edge.at_start, edge.at_end)
                else:
                    found[edge.key] = Learned(edge.key, min(seen.text, edge.text), seen.articles + 1, len(articles),
                                              seen.at_start or edge.at_start, seen.at_end or edge.at_end)
        need = min_articles(len(articles), share)
        learned[source] = {key: row for key, row in found.items() if row.articles >= need}
    return learned


def learn(paragraphs_by_source: dict[str, list[list[str]]], share: float = MIN_SHARE) -> dict[str, dict[str, Edge]]:
    """Each source's template keys (with an Edge naming its text), from all its articles' paragraphs."""
    return {source: {key: Edge(key, row.text, True, True) for key, row in rows.items()}
            for source, rows in learn_counted(paragraphs_by_source, share).items()}
