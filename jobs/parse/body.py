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

from jobs.parse import urls
from jobs.parse.sources import SourceRule, rule_for

PARAGRAPH_BREAK = "\u2029"
_PRE_TOKEN = "\ue000"  # private-use: stands in for a <pre> block until the end
_CELL_MARK = "\ue001"  # private-use: starts a table cell; becomes a space
_PRIVATE_MARKS = {ord(_PRE_TOKEN): None, ord(_CELL_MARK): None}
_PRE_PARAGRAPH = re.compile(rf"\A{_PRE_TOKEN}(\d+)\Z")
BLOCK_TAGS = (
    "address|article|aside|blockquote|br|center|dd|details|dialog|div|dl|dt|fieldset|figcaption|figure|"
    "footer|form|h[1-6]|header|hgroup|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|tfoot|thead|tr|ul|caption"
)
# Starts with a literal '<' (the engine skips ahead to it) and has a constant replacement.
_BLOCK = re.compile(rf"<(?=/?(?:{BLOCK_TAGS})[\s/>])", re.IGNORECASE)
_TABLE = re.compile(r"<table", re.IGNORECASE)
_HAS_IMG = re.compile(r"<img", re.IGNORECASE)
_HAS_LINK = re.compile(r"<a\s", re.IGNORECASE)
_HAS_PRE = re.compile(r"<pre", re.IGNORECASE)
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
    tree = LexborHTMLParser(_BLOCK.sub(PARAGRAPH_BREAK + "<", html))
    rule.clean_tree(tree, fields)
    present = {tag.lower() for tag in _DROPPED_TAG.findall(html)}
    if present:  # each strip is a walk of the tree: do only the ones that can match
        tree.strip_tags(sorted(present))
    if _TABLE.search(html):
        _mark_tables(tree)
    # Each css() is a walk of the tree: skip the ones that cannot match.
    image_urls = urls.clean_list(_image_url(n.attributes, rule) for n in tree.css("img")) if _HAS_IMG.search(html) else []
    link_urls = urls.clean_list(n.attributes.get("href") or "" for n in tree.css("a[href]")) if _HAS_LINK.search(html) else []
    verbatim = _lift_pre_blocks(tree) if _HAS_PRE.search(html) else []
    root = tree.body or tree.root
    text = root.text(deep=True) if root is not None else ""
    paragraphs = split_paragraphs(text)
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


def split_paragraphs(text: str) -> list[str]:
    """Text with paragraph separators -> trimmed, whitespace-collapsed paragraphs.

    A blank line splits a paragraph too (plain-text feeds), and a line break
    between two CJK characters is a hard wrap (3DMGame), not a space. Most
    newlines are source formatting next to a separator, so the regexes run
    only on chunks that still hold one after trimming.
    """
    invisible = bool(_HAS_INVISIBLE.search(text))
    paragraphs: list[str] = []
    for chunk in text.split(PARAGRAPH_BREAK):
        if "\n" in chunk and "\n" in (chunk := chunk.strip()):
            for piece in _BLANK_LINE.split(chunk):
                _append_paragraph(paragraphs, _CJK_LINE_BREAK.sub("", piece), invisible)
        else:
            _append_paragraph(paragraphs, chunk, invisible)
    return paragraphs


def _append_paragraph(paragraphs: list[str], text: str, invisible: bool) -> None:
    if _CELL_MARK in text:
        text = text.replace(_CELL_MARK, " ")
    if invisible:
        text = text.translate(_INVISIBLE)
    text = _collapse_whitespace(text)
    if text:
        paragraphs.append(text)


def _collapse_whitespace(text: str) -> str:
    text = " ".join(text.split())
    if "&" in text and _LEFTOVER_ENTITY.search(text):
        text = " ".join(html_lib.unescape(text).split())  # double-escaped feeds
    return text
