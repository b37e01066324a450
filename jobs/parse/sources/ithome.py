"""IT 之家: the `tougao-user` contributor credit becomes `contributors`, not text."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from jobs.parse.lifted import LiftedFields
from jobs.parse.sources.base import SourceRule

_CREDIT = re.compile(r"^感谢\s*IT之家网友\s*(.+?)\s*的线索投递[！!]?$")


class IthomeRule(SourceRule):
    sources = ("IT 之家", "IT之家")

    def clean_tree(self, tree: LexborHTMLParser, fields: LiftedFields) -> None:
        for credit in tree.css(".tougao-user"):
            names = [a.text(strip=True) for a in credit.css("a")]
            fields.contributors.extend(n for n in names if n)
            credit.decompose()

    def clean_paragraphs(self, paragraphs: list[str], fields: LiftedFields) -> list[str]:
        kept = []
        for paragraph in paragraphs:
            if match := _CREDIT.match(paragraph):
                names = [n.strip() for n in re.split(r"[、,，]", match.group(1)) if n.strip()]
                fields.contributors.extend(names)
                continue
            kept.append(paragraph)
        return kept
