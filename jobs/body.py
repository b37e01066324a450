"""HTML body -> clean paragraphs, image URLs, link URLs. Pure.

Speed matters (it runs on every file), so block structure is marked in the
HTML string before parsing: a paragraph separator (U+2029) goes before every
block tag and <br>, then one lexbor parse and one text() call give all the
text, which splits on that separator. Inline tags get no marker, so they
never split a sentence. <pre> is lifted out first and kept verbatim.

Tables are marked in the parsed tree instead: the HTML parser moves any text
written between table tags out in front of the table ("foster parenting"), so
a marker in the string cannot land between rows. Each row becomes one
paragraph, its cells joined by a space.

A blank line inside text splits it too: feeds that write plain text into the
body (36kr, Hexo blogs) separate their paragraphs that way.
"""

from __future__ import annotations

import html as html_lib
import re
import textwrap
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

from jobs import urls
from jobs.sources import SourceRule, rule_for

PARAGRAPH_BREAK = "\u2029"
_PRE_TOKEN = "\ue000"  # private-use: stands in for a <pre> block until the end
_CELL_MARK = "\ue001"  # private-use: starts a table cell; becomes a space
_PRIVATE_MARKS = {ord(_PRE_TOKEN): None, ord(_CELL_MARK): None}
_PRE_PARAGRAPH = re.compile(rf"\A{_PRE_TOKEN}(\d+)\Z")
BLOCK_TAGS = (
    "address|article|aside|blockquote|br|center|dd|details|dialog|div|dl|dt|fieldset|figcaption|figure|"
    "footer|form|h[1-6]|header|hgroup|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|tfoot|thead|tr|ul|caption"
)
# Lookaheads with constant replacements: no per-match template expansion.
_BLOCK = re.compile(rf"(?=</?(?:{BLOCK_TAGS})[\s/>])", re.IGNORECASE)
_TABLE = re.compile(r"<table", re.IGNORECASE)
# A blank line, unless what follows is a table cell (whitespace between cells is not a paragraph break).
_BLANK_LINE = re.compile(rf"\n[^\S\n]*\n\s*+(?!{_CELL_MARK})")
_MARKS_IN_PRE = re.compile(rf"\n?{PARAGRAPH_BREAK}+\n?")
DROPPED_TAGS = [
    "script", "style", "svg", "noscript", "template", "iframe", "object", "embed", "canvas", "math",
    "button", "select", "textarea", "title", "noembed", "noframes",
]
_DROPPED_TAG = re.compile(rf"<({'|'.join(DROPPED_TAGS)})(?=[\s/>])", re.IGNORECASE)
IMAGE_ATTRIBUTES = ("data-original", "data-src", "data-actualsrc", "src")

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break between two CJK characters is a hard-wrapped sentence (3DMGame), not a space.
_CJK_LINE_BREAK = re.compile(rf"(?<=[{_CJK}])[^\S\n\u2029]*\n[^\S\u2029]*(?=[{_CJK}])")
_LEFTOVER_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = str.maketrans("", "", _INVISIBLE_CHARS)
_HAS_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")


@dataclass
class Body:
    paragraphs: list[str]
    image_urls: list[str]
    link_urls: list[str]
    fields: dict[str, object] = field(default_factory=dict)


def extract(html: str, source: str = "") -> Body:
    rule = rule_for(source)
    fields: dict[str, object] = {}
    html = rule.prepare_html(html, fields)
    if _PRE_TOKEN in html or _CELL_MARK in html:  # the input must not forge our markers
        html = html.translate(_PRIVATE_MARKS)
    tree = LexborHTMLParser(_BLOCK.sub(PARAGRAPH_BREAK, html))
    rule.clean_tree(tree, fields)
    present = {tag.lower() for tag in _DROPPED_TAG.findall(html)}
    if present:  # each strip is a walk of the tree: do only the ones that can match
        tree.strip_tags(sorted(present))
    if _TABLE.search(html):
        _mark_tables(tree)
    image_urls = urls.clean_list(_image_url(node.attributes, rule) for node in tree.css("img"))
    link_urls = urls.clean_list(node.attributes.get("href") or "" for node in tree.css("a[href]"))
    verbatim = _lift_pre_blocks(tree)
    root = tree.body or tree.root
    text = root.text(deep=True) if root is not None else ""
    paragraphs = [p for p in map(_collapse_whitespace, _prepare_text(text).split(PARAGRAPH_BREAK)) if p]
    if verbatim:
        paragraphs = [_restore_pre(p, verbatim) for p in paragraphs]
        paragraphs = [p for p in paragraphs if p]
    paragraphs = rule.clean_paragraphs(paragraphs, fields)
    return Body(paragraphs, image_urls, link_urls, fields)


def _image_url(attributes: dict[str, str | None], rule: SourceRule) -> str:
    for name in rule.image_attributes or IMAGE_ATTRIBUTES:
        value = attributes.get(name)
        if value and value.strip() and not value.startswith("data:"):
            return value
    return ""


def _mark_tables(tree: LexborHTMLParser) -> None:
    """One paragraph per table row, cells marked; the table is a block of its own."""
    for table in tree.css("table"):
        table.insert_before(PARAGRAPH_BREAK)
        table.insert_after(PARAGRAPH_BREAK)
    for row in tree.css("tr"):
        row.insert_before(PARAGRAPH_BREAK)
    for cell in tree.css("td, th"):
        cell.insert_before(_CELL_MARK)


def _lift_pre_blocks(tree: LexborHTMLParser) -> list[str]:
    """Replace each <pre> with a token; return their texts, kept verbatim (code)."""
    blocks: list[str] = []
    for node in tree.css("pre"):
        if node.parent is not None and node.parent.tag == "pre":
            continue
        text = node.text(deep=True)
        if PARAGRAPH_BREAK in text or _CELL_MARK in text:  # <br> or block tags inside the <pre>
            text = _MARKS_IN_PRE.sub("\n", text).replace(_CELL_MARK, " ")
        blocks.append(textwrap.dedent(text.strip("\n")).strip())  # paragraphs are trimmed; relative indents stay
        node.replace_with(f"{PARAGRAPH_BREAK}{_PRE_TOKEN}{len(blocks) - 1}{PARAGRAPH_BREAK}")
    return blocks


def _restore_pre(paragraph: str, verbatim: list[str]) -> str:
    match = _PRE_PARAGRAPH.match(paragraph) if paragraph.startswith(_PRE_TOKEN) else None
    return verbatim[int(match.group(1))] if match else paragraph


def normalise_paragraph(text: str) -> str:
    """Trim, collapse whitespace (full-width and non-breaking included), join hard-wrapped CJK lines."""
    return _collapse_whitespace(_prepare_text(text))


def _prepare_text(text: str) -> str:
    """Whole-text passes, done once per document rather than once per paragraph."""
    if "\n" in text:
        text = _BLANK_LINE.sub(PARAGRAPH_BREAK, text)  # before the CJK join, which would eat it
        text = _CJK_LINE_BREAK.sub("", text)
    if _CELL_MARK in text:
        text = text.replace(_CELL_MARK, " ")
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_INVISIBLE)
    return text


def _collapse_whitespace(text: str) -> str:
    text = " ".join(text.split())
    if "&" in text and _LEFTOVER_ENTITY.search(text):
        text = " ".join(html_lib.unescape(text).split())  # double-escaped feeds
    return text
