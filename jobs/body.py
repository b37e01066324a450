"""HTML body -> clean paragraphs, image URLs, link URLs. Pure.

Speed matters (it runs on every file), so block structure is marked in the
HTML string before parsing: a paragraph separator (U+2029) goes before every
block tag and <br>, then one lexbor parse and one text() call give all the
text, which splits on that separator. Inline tags get no marker, so they
never split a sentence. <pre> is lifted out first and kept verbatim.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

from jobs import urls
from jobs.sources import SourceRule, rule_for

PARAGRAPH_BREAK = "\u2029"
_PRE_TOKEN = "\ue000"  # private-use: stands in for a <pre> block until the end
BLOCK_TAGS = (
    "address|article|aside|blockquote|br|center|dd|details|dialog|div|dl|dt|fieldset|figcaption|figure|"
    "footer|form|h[1-6]|header|hgroup|hr|li|main|nav|ol|p|pre|section|summary|table|tbody|tfoot|thead|tr|ul|caption"
)
_BLOCK = re.compile(rf"</?(?:{BLOCK_TAGS})(?=[\s/>])", re.IGNORECASE)
_CELL = re.compile(r"<t[dh](?=[\s/>])", re.IGNORECASE)
DROPPED_TAGS = ["script", "style", "svg", "noscript", "template", "iframe", "object", "embed", "canvas", "math", "button", "select", "textarea"]
IMAGE_ATTRIBUTES = ("data-original", "data-src", "data-actualsrc", "src")

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break between two CJK characters is a hard-wrapped sentence (3DMGame), not a space.
_CJK_LINE_BREAK = re.compile(rf"(?<=[{_CJK}])[^\S\n]*\n\s*(?=[{_CJK}])")
_LEFTOVER_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff\u00ad")


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
    marked = _CELL.sub("\t\\g<0>", _BLOCK.sub(PARAGRAPH_BREAK + "\\g<0>", html))
    tree = LexborHTMLParser(marked)
    rule.clean_tree(tree, fields)
    tree.strip_tags(DROPPED_TAGS)
    image_urls = urls.clean_list(_image_url(node.attributes, rule) for node in tree.css("img"))
    link_urls = urls.clean_list(node.attributes.get("href") or "" for node in tree.css("a[href]"))
    verbatim = _lift_pre_blocks(tree)
    root = tree.body or tree.root
    text = root.text(deep=True) if root is not None else ""
    paragraphs = [p for p in map(normalise_paragraph, text.split(PARAGRAPH_BREAK)) if p]
    if verbatim:
        paragraphs = [verbatim[int(p[1:])] if p.startswith(_PRE_TOKEN) else p for p in paragraphs]
        paragraphs = [p for p in paragraphs if p]
    paragraphs = rule.clean_paragraphs(paragraphs, fields)
    return Body(paragraphs, image_urls, link_urls, fields)


def _image_url(attributes: dict[str, str | None], rule: SourceRule) -> str:
    for name in rule.image_attributes or IMAGE_ATTRIBUTES:
        value = attributes.get(name)
        if value and value.strip() and not value.startswith("data:"):
            return value
    return ""


def _lift_pre_blocks(tree: LexborHTMLParser) -> list[str]:
    """Replace each <pre> with a token; return their texts, kept verbatim (code)."""
    blocks: list[str] = []
    for node in tree.css("pre"):
        if node.parent is not None and node.parent.tag == "pre":
            continue
        blocks.append(node.text(deep=True).strip("\n").rstrip())
        node.replace_with(f"{PARAGRAPH_BREAK}{_PRE_TOKEN}{len(blocks) - 1}{PARAGRAPH_BREAK}")
    return blocks


def normalise_paragraph(text: str) -> str:
    """Trim, collapse whitespace (full-width and non-breaking included), join hard-wrapped CJK lines."""
    if "\n" in text:
        text = _CJK_LINE_BREAK.sub("", text)
    text = " ".join(text.translate(_INVISIBLE).split())
    if "&" in text and _LEFTOVER_ENTITY.search(text):
        text = " ".join(html_lib.unescape(text).split())  # double-escaped feeds
    return text
