"""人人都是产品经理: the tip-the-author widget and the copyright/cover-image credit lines are not text."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from jobs.parse.lifted import LiftedFields
from jobs.parse.sources.base import SourceRule

# `本文由 @作者 原创发布于人人都是产品经理。未经许可，禁止转载。` and `题图来自 Unsplash，基于CC0协议。`
_CREDIT = re.compile(r"^(?:本文由\s*@.{1,40}?\s*(?:原创)?发布于人人都是产品经理|题图来自\s*\S).{0,60}$")


class WoshipmRule(SourceRule):
    sources = ("人人都是产品经理",)

    def clean_tree(self, tree: LexborHTMLParser, fields: LiftedFields) -> None:
        for node in tree.css(".support-author"):
            node.decompose()

    def clean_paragraphs(self, paragraphs: list[str], fields: LiftedFields) -> list[str]:
        return [p for p in paragraphs if not _CREDIT.match(p)]
