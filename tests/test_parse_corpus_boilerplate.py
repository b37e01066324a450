"""The generic boilerplate layer on the reference corpora (../shared/corpus/real and more/).

- Hand-checked goldens for 46 files of more/ (two per source, all 23 sources): paragraph count, hashes of
  the first and last real paragraphs (they must survive), which families were removed (hashes of the
  removed lines), hashes of lifted fields. No sentence of the corpus is stored here.
- No paragraph of either corpus is dropped by the layer unless it matches a documented pattern.
- No credit, repost, promo, view-more or footer line remains at the edges of any article's text.
Skips when the corpus is absent.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from jobs.errors import Rejected
from jobs.parse import boilerplate, structure
from jobs.parse.body import extract
from jobs.parse.decode import decode, normalise_newlines
from jobs.parse.front_matter import split_front_matter
from jobs.parse.record import ArticleRecord, parse_article
from paths import FIXTURES, MORE_CORPUS, REAL_CORPUS

GOLDENS = json.loads((FIXTURES / "corpus" / "more_goldens.json").read_text(encoding="utf-8"))
needs_corpus = pytest.mark.skipif(not (REAL_CORPUS.is_dir() and MORE_CORPUS.is_dir()), reason="reference corpus absent")


def _sha(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] if text else None


def _corpus_files() -> list[tuple[Path, str]]:
    files = []
    for root in (REAL_CORPUS, MORE_CORPUS):
        if root.is_dir():
            files += [(p, p.relative_to(root).as_posix()) for p in sorted(root.rglob("*.md")) if p.parent != root]
    return files


def _body(path: Path, raw_path: str) -> tuple[ArticleRecord, str] | None:
    try:
        record = parse_article(path.read_bytes(), raw_path)
    except Rejected:
        return None
    _, html = split_front_matter(normalise_newlines(decode(path.read_bytes())[0]))
    return record, html


def test_goldens_cover_at_least_40_files_and_every_source_of_more():
    assert len(GOLDENS) >= 40
    sources = {g["raw_path"].split("/")[3] for g in GOLDENS}  # source/_posts/<category>/<source>/...
    assert len(sources) == 23


@needs_corpus
@pytest.mark.parametrize("golden", GOLDENS, ids=[g["raw_path"].rsplit("/", 1)[-1][:30] for g in GOLDENS])
def test_more_corpus_golden(golden):
    path = MORE_CORPUS / golden["raw_path"]
    record, html = _body(path, golden["raw_path"])
    paragraphs = record.paragraphs
    removed = extract(html, record.source, title=record.title).fields.boilerplate
    assert _sha(record.source) == golden["source_sha"]
    assert [family for family, _ in removed] == golden["removed"]  # boilerplate out
    assert [_sha(line) for _, line in removed] == golden["removed_sha"]
    assert len(paragraphs) == golden["paragraph_count"]
    assert _sha(paragraphs[0] if paragraphs else None) == golden["first_sha"]  # real content in
    assert _sha(paragraphs[-1] if paragraphs else None) == golden["last_sha"]
    assert record.image_count == golden["image_count"]
    assert (record.date is None) == golden["undated"] == (record.published_at is None)
    for column in ("byline", "republished_from", "original_url"):
        assert _sha(getattr(record, column)) == golden[f"{column}_sha"], column


def _documented(family: str, line: str) -> bool:
    """A pattern of the family matches the line; a structural family (a shape, not words) is documented by structure.py."""
    if family in structure.FAMILIES:
        return True
    patterns = [p.regex for p in boilerplate.PATTERNS if p.family == family] + [re.compile(r"^https?://\S+$")]
    return any(regex.match(line) for regex in patterns)


@needs_corpus
def test_no_paragraph_is_dropped_unless_it_matches_a_documented_pattern():
    checked = dropped = 0
    for path, raw_path in _corpus_files():
        parsed = _body(path, raw_path)
        if parsed is None:
            continue
        record, html = parsed
        before = extract(html, record.source, generic=False).paragraphs
        after = extract(html, record.source, title=record.title)
        removed = after.fields.boilerplate
        # What went is exactly what the layer reports, in order; everything else is untouched.
        remaining = list(before)
        for _, line in removed:
            remaining.remove(line)
        assert remaining == after.paragraphs, raw_path
        for family, line in removed:
            assert family in boilerplate.FAMILIES and _documented(family, line), (raw_path, family, line)
            assert len(line) <= boilerplate.MAX_LINE
        checked += 1
        dropped += len(removed)
    assert checked > 100 and dropped > 0


# Independent of the layer's own table: the opening words of the families, followed by a separator.
LEFTOVER = re.compile(
    r"^(?:(?:作者|编辑|责任编辑|责编|监制|来源|图片来源|题图|头图|原文链接)\s*[|｜丨:：]|本文来自|阅读原文|查看原文|查看知乎原文|"
    r"扫码关注|扫描二维码|长按识别|关注.{0,20}公众号|版权所有|版權所有|Copyright\b|©|.*All Rights Reserved|Read more\b|"
    r"Originally published|繼續閱讀|继续阅读|\d+ (?:likes|saves)$)", re.IGNORECASE)
EDGE = 3


@needs_corpus
def test_no_family_line_remains_at_the_edges_of_any_text():
    leftovers = []
    for path, raw_path in _corpus_files():
        parsed = _body(path, raw_path)
        if parsed is None:
            continue
        paragraphs = parsed[0].paragraphs
        edges = paragraphs[:EDGE] + paragraphs[-EDGE:]
        leftovers += [(raw_path, p[:40]) for p in edges if len(p) <= boilerplate.MAX_LINE and LEFTOVER.match(p)]
    assert leftovers == []
