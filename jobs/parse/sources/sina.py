"""新浪财经: 原标题/byline/责任编辑 lifted into fields; app promo and keyword comment dropped."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from jobs.parse.lifted import LiftedFields
from jobs.parse.sources.base import SourceRule

_KEYWORD_COMMENT = re.compile(r"<!--\s*news_keyword_pub,([^>]*?)\s*-->")
_NOT_KEYWORDS = {"", "stock"}  # `stock` marks the feed type, not a keyword
_ORIGINAL_TITLE = re.compile(r"^原标题[：:]\s*(.+)$")
_EDITOR = re.compile(r"^责任编辑[：:]\s*(.+?)\s*$")
_PROMO = ("海量资讯、精准解读，尽在新浪财经APP",)
# A reporter line: names only (2-4 Han characters each), or a line that says 记者/作者/通讯员.
_NAMES_ONLY = re.compile(r"^[\u4e00-\u9fff·]{2,4}(?:[ 、，,][\u4e00-\u9fff·]{2,4}){0,3}$")
_REPORTER = re.compile(r"^[（(【]?[^。！？]{0,30}(?:记者|作者|通讯员|撰文|文/|文｜)[^。！？]{0,30}[）)】]?$")


class SinaFinanceRule(SourceRule):
    sources = ("新浪财经",)

    def prepare_html(self, html: str, fields: LiftedFields) -> str:
        match = _KEYWORD_COMMENT.search(html)
        if match:
            fields.keywords = [w.strip() for w in match.group(1).split(",") if w.strip() not in _NOT_KEYWORDS]
        return html

    def clean_tree(self, tree: LexborHTMLParser, fields: LiftedFields) -> None:
        for promo in tree.css(".appendQr_wrap"):
            # The feed also uses the app's QR code as headimg/thumbnail: remember it to drop it there too.
            images = [img.attributes.get("src") for img in promo.css("img")]
            fields.promo_images.extend(src for src in images if src)
            promo.decompose()
        for node in tree.css("p.article-editor"):
            match = _EDITOR.match(" ".join(node.text().split()))
            if match:
                fields.editor = match.group(1)
            node.decompose()

    def clean_paragraphs(self, paragraphs: list[str], fields: LiftedFields) -> list[str]:
        kept: list[str] = []
        for index, paragraph in enumerate(paragraphs):
            if paragraph in _PROMO:
                continue
            if match := _EDITOR.match(paragraph):
                fields.editor = match.group(1)
                continue
            if not kept and fields.original_title is None and (match := _ORIGINAL_TITLE.match(paragraph)):
                fields.original_title = match.group(1)
                continue
            if fields.original_title is not None and not kept and fields.byline is None and _is_byline(paragraph):
                fields.byline = paragraph
                continue
            kept.append(paragraph)
        if fields.byline is None and kept and _REPORTER.match(kept[-1]):
            fields.byline = kept.pop()
        return kept


def _is_byline(paragraph: str) -> bool:
    return bool(_NAMES_ONLY.match(paragraph) or _REPORTER.match(paragraph))
