"""9To5 (WordPress): the affiliate disclaimer and ad placeholders after the post are not text."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from jobs.parse.lifted import LiftedFields
from jobs.parse.sources.base import SourceRule


class NineToFiveRule(SourceRule):
    sources = ("9To5",)

    def clean_tree(self, tree: LexborHTMLParser, fields: LiftedFields) -> None:
        for node in tree.css(".ad-disclaimer-container, .disclaimer-affiliate, #after_disclaimer_placement"):
            node.decompose()
