"""The hooks a source rule may override; the generic extractor calls them in order."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from jobs.parse.lifted import LiftedFields


class SourceRule:
    """No-op rule: the generic extractor alone. Subclasses override what they need."""

    sources: tuple[str, ...] = ()
    # Image attributes in order of preference; empty means the generic order.
    image_attributes: tuple[str, ...] = ()

    def prepare_html(self, html: str, fields: LiftedFields) -> str:
        """Raw HTML before parsing (read comments here: they are not text)."""
        return html

    def clean_tree(self, tree: LexborHTMLParser, fields: LiftedFields) -> None:
        """Parsed DOM before text is taken: drop boilerplate nodes, lift metadata."""

    def clean_paragraphs(self, paragraphs: list[str], fields: LiftedFields) -> list[str]:
        """Final paragraphs: lift or drop lines that are metadata, not text."""
        return paragraphs
