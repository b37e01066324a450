"""The real reference corpus (../shared/corpus/real, 53 files) parses cleanly.

The corpus is read in place, never copied; the tests skip when it is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jobs.parse.record import ArticleRecord, parse_article

CORPUS_SIZE = 53
# A CSS rule: selector, `{`, `property: value;`.
CSS_RULE = re.compile(r"[\w.#>\-\s]+\{\s*[\w-]+\s*:\s*[^;{}]+;")
FORBIDDEN_IN_TEXT = ("<", "&#123;", "&#125;", "责任编辑", "原标题", "海量资讯", "appendQr", "news_keyword_pub",
                     "线索投递", "FTC: We use income", "给作者打赏", "\u2029", "\ue000", "\ue001")


@pytest.fixture(scope="module")
def records(real_corpus: Path) -> list[ArticleRecord]:
    paths = sorted(path for path in real_corpus.rglob("*.md") if path.is_file())
    return [parse_article(path.read_bytes(), path.relative_to(real_corpus).as_posix()) for path in paths]


def test_every_file_becomes_one_record_with_a_distinct_id(real_corpus, records):
    assert len(list(real_corpus.rglob("*.md"))) == CORPUS_SIZE
    assert len(records) == CORPUS_SIZE
    assert len({record.article_id for record in records}) == CORPUS_SIZE


def test_text_has_no_markup_entities_css_or_boilerplate(records):
    for record in records:
        for fragment in FORBIDDEN_IN_TEXT:
            assert fragment not in record.text, (record.raw_path, fragment)
        assert not CSS_RULE.search(record.text), record.raw_path
        for paragraph in record.paragraphs:
            if "\n" not in paragraph:  # only verbatim <pre> code keeps line breaks, and braces
                assert "{" not in paragraph and "}" not in paragraph, (record.raw_path, paragraph)


def test_paragraphs_are_non_empty_and_trimmed(records):
    for record in records:
        assert record.text == "\n".join(record.paragraphs)
        for paragraph in record.paragraphs:
            assert paragraph and paragraph == paragraph.strip(), (record.raw_path, paragraph)


def test_every_sina_row_has_an_editor(records):
    sina = [record for record in records if record.source == "新浪财经"]
    assert sina
    for record in sina:
        assert record.editor, record.raw_path
        assert not record.paragraphs[-1].startswith("（"), record.raw_path  # a trailing byline was lifted


def test_no_url_goes_through_the_proxy_and_no_placeholder_image(records):
    for record in records:
        for url in record.image_urls + record.link_urls + [record.headimg or "", record.thumbnail or ""]:
            assert "cors.zfour.workers.dev" not in url, (record.raw_path, url)
        for url in (record.headimg, record.thumbnail):
            assert url is None or "picsum.photos" not in url, record.raw_path


def test_sources_and_dates(records):
    by_source = {record.source for record in records}
    assert {"新浪财经", "IT 之家", "ZAKER", "开源中国", "36kr", "cnBeta", "3DMGame", "掘金", "Webtoons - Naver"} <= by_source
    for record in records:
        assert record.published_at.utcoffset().total_seconds() == 0
        assert record.date == record.published_at.date()
        assert record.encoding == "utf-8"


def test_images_only_bodies_keep_their_images(records):
    for record in records:
        if record.source in ("AcFun", "Webtoons - Naver"):
            assert record.text == "" and record.image_urls, record.raw_path


def test_ithome_contributors_are_lifted(records):
    contributors = [name for record in records if record.source == "IT 之家" for name in record.contributors]
    assert contributors


def test_wrapped_lines_join_with_a_space_only_between_words(real_corpus, records):
    """3DMGame and cnBeta wrap long lines: `word\nword` becomes `word word`, CJK lines join with no space."""
    wrapped = re.compile(r"([A-Za-z0-9]+)[ \t]*\n[ \t]*([A-Za-z0-9]+)")
    checked = 0
    for record in records:
        if record.source not in ("3DMGame", "cnBeta"):
            continue
        body = (real_corpus / record.raw_path).read_text(encoding="utf-8").split("\n---\n", 2)[2]
        for first, second in wrapped.findall(body):
            assert f"{first} {second}" in record.text, (record.raw_path, first, second)
            checked += 1
        assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", record.text), record.raw_path
    assert checked >= 3
