"""ZAKER: lazy-loaded images carry the real URL in `data-original`; the src is a proxy."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from jobs.parse.lifted import LiftedFields
from jobs.parse.sources.base import SourceRule


class ZakerRule(SourceRule):
    sources = ("ZAKER",)
    image_attributes = ("data-original", "src")

    def clean_tree(self, tree: LexborHTMLParser, fields: LiftedFields) -> None:
        # The feed writes the bottom widgets with ids (`<div id="recommend_bottom">`); classes kept for older pages.
        for widget in tree.css(".edi_oper, #recommend_bottom, #article_bottom, .recommend_bottom, .article_bottom"):
            widget.decompose()
