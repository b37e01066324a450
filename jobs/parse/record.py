"""One raw file's bytes -> one ArticleRecord (the article's columns but the run-level ones). Pure.

Raises Rejected with a named reason when the file cannot become an article.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, fields
from typing import Any

from jobs.parse import urls
from jobs.parse.body import extract
from jobs.parse.dates import IMPLAUSIBLE_KEY, parse_published_at, settle_implausible
from jobs.parse.decode import decode, normalise_newlines
from jobs.errors import Rejected
from jobs.parse.front_matter import split_front_matter
from jobs.parse.lifted import LiftedFields
from schemas.article import RejectReason
from jobs.parse.structure import is_date_line
from jobs.parse.screen import screen
from schemas.hive import HIVE_NULL, MAX_SEGMENT_BYTES, encode_value

MODELLED_KEYS = {"title", "categories", "author", "date", "headimg", "thumbnail"}
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """One article as parsed: a field per column of schemas.article.ARTICLE_COLUMNS, in its order, except
    the columns a run sets (jobs.parse.frame.RunStamp). tests/test_record_contract.py holds them equal,
    so a misspelt name is an error, never a silently null column."""

    article_id: str
    source: str
    date: dt.date | None
    title: str | None
    published_at: dt.datetime | None
    author: str | None
    category: str | None
    channel: str | None
    categories: list[str]
    text: str
    paragraphs: list[str]
    char_count: int
    paragraph_count: int
    image_count: int
    image_urls: list[str]
    link_urls: list[str]
    headimg: str | None
    thumbnail: str | None
    original_title: str | None
    byline: str | None
    republished_from: str | None
    original_url: str | None
    editor: str | None
    keywords: list[str]
    contributors: list[str]
    raw_path: str
    raw_sha256: str
    encoding: str
    extra: str | None

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in column order (values shared, not copied)."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}


RECORD_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ArticleRecord))


def parse_article(data: bytes, raw_path: str, run_time: dt.datetime | None = None,
                  sha256: str | None = None) -> ArticleRecord:
    """The article of one raw file (every column but the run-level ones: ingested_at, run_id, parser_version).

    `run_time` (the run's start; default now) bounds a plausible date: see dates.settle_implausible.
    `sha256`: the hex SHA-256 of `data` when the caller has it already (a run hashes every file to
    skip unchanged ones); hashing again cost ~10 µs of a ~330 µs parse. Left out, it is computed here.
    """
    text, encoding = decode(data)
    metadata, body_html = split_front_matter(normalise_newlines(text))
    published_at = parse_published_at(metadata.get("date"))
    categories = _as_list(metadata.get("categories"))
    author = _reduce_markdown(_as_text(metadata.get("author")))
    source = derive_source(author, categories, raw_path)
    title = _as_text(metadata.get("title"))
    screen(body_html)  # before lexbor sees it: tables and nesting that would take minutes or gigabytes
    body = extract(body_html, source, title=title)
    published_at, date_note = settle_implausible(published_at, metadata.get("date"), run_time or dt.datetime.now(dt.timezone.utc),
                                                 lambda: _date_lines(body.paragraphs, body.fields), raw_path)
    text_joined = "\n".join(body.paragraphs)
    return ArticleRecord(
        article_id=article_id(source, published_at, title, text_joined),
        source=source,
        date=published_at.date() if published_at else None,
        title=title,
        published_at=published_at,
        author=author,
        category=categories[0] if categories else None,
        channel=categories[2] if len(categories) >= 3 else None,
        categories=categories,
        text=text_joined,
        paragraphs=body.paragraphs,
        char_count=len(text_joined),
        paragraph_count=len(body.paragraphs),
        image_count=len(body.image_urls),
        image_urls=body.image_urls,
        link_urls=body.link_urls,
        headimg=_header_image(metadata.get("headimg"), body.fields),
        thumbnail=_header_image(metadata.get("thumbnail"), body.fields),
        original_title=body.fields.original_title,
        byline=body.fields.byline,
        republished_from=body.fields.republished_from,
        original_url=urls.clean_single(body.fields.original_url),
        editor=body.fields.editor,
        keywords=body.fields.keywords,
        contributors=body.fields.contributors,
        raw_path=raw_path,
        raw_sha256=sha256 if sha256 is not None else hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        extra=_extra(metadata, date_note),
    )


def article_id(source: str, published_at: dt.datetime | None, title: str | None, text: str) -> str:
    """Same source, instant and title -> same id, on every run and machine.

    The id fixes the partition too (source and date), so duplicates always meet in one partition.
    A blank title is not distinctive, so the text stands in for it; an undated article has no
    instant, so its text counts too (two undated posts of a feed may share a title).
    """
    if published_at is None:
        key = "\x1f".join((source, "", title or "", "\x00" + text))
    else:
        key = "\x1f".join((source, published_at.isoformat(), title if title else "\x00" + text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def derive_source(author: str | None, categories: list[str], raw_path: str) -> str:
    """author, else the second category, else the raw path's source folder."""
    for candidate in (author, _reduce_markdown(categories[1]) if len(categories) > 1 else None, source_folder(raw_path)):
        if candidate:
            if candidate == HIVE_NULL:  # the folder name DuckDB and Polars read back as NULL
                raise Rejected(RejectReason.BAD_SOURCE, f"source name {HIVE_NULL!r} would read back as NULL")
            if len(encode_value(candidate).encode("utf-8")) > MAX_SEGMENT_BYTES:
                raise Rejected(RejectReason.BAD_SOURCE, f"source name too long for a partition folder: {candidate[:40]!r}...")
            return candidate
    raise Rejected(RejectReason.BAD_SOURCE, "no author, no second category and no source folder in the path")


def source_folder(raw_path: str) -> str | None:
    """The source folder of a raw path in the generator's layout (or the grandparent folder)."""
    parts = raw_path.split("/")
    if "_posts" in parts:  # source/_posts/<category>/<source>/<channel>/<title>.md
        index = parts.index("_posts") + 2
        return parts[index] if index < len(parts) - 1 else None
    # <source>/<channel>/<title>.md; the `post/<category>/<title>.md` layout names no source.
    return parts[-3] if len(parts) >= 3 and parts[-3] != "post" else None


def _header_image(value: Any, lifted: LiftedFields) -> str | None:
    """Unwrapped URL; null for placeholders and for images a source rule found to be promos."""
    url = urls.clean_single(_as_text(value))
    return None if url in lifted.promo_images else url


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = " ".join(v for v in (_as_text(v) for v in value) if v)
    elif not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    value = " ".join(value.split())
    return value or None


def _as_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [text for text in (_as_text(item) for item in items) if text]


def _reduce_markdown(value: str | None) -> str | None:
    """`Webtoons - [Naver](https://comic.naver.com)` -> `Webtoons - Naver`."""
    return _MARKDOWN_LINK.sub(r"\1", value) if value and "](" in value else value


def _date_lines(paragraphs: list[str], fields: LiftedFields) -> list[str]:
    """Lines of the body that are only a date: those the boilerplate layer dropped, then those at its edges."""
    edges = paragraphs[:3] + paragraphs[-3:]
    return [line for family, line in fields.boilerplate if family == "date_line"] + [p for p in edges if is_date_line(p)]


def _extra(metadata: dict[str, Any], date_note: dict | None = None) -> str | None:
    """Unmodelled keys as JSON (with `_front_matter_recovered` when YAML refused the block and it was read line by line,
    `_date_implausible` when the front-matter date could not be right)."""
    rest = {str(k): v for k, v in metadata.items() if k not in MODELLED_KEYS}
    if date_note is not None:
        rest[IMPLAUSIBLE_KEY] = date_note
    return json.dumps(rest, ensure_ascii=False, sort_keys=True) if rest else None
