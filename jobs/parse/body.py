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
body (36kr, Hexo blogs) separate their paragraphs that way. In plain text
between blocks (not inside <p>, <li>, <h1>..., marked with _PROSE_OPEN/CLOSE),
a line break after sentence-ending punctuation or before a list marker ends a
paragraph as well, unless the text is hard-wrapped Latin prose.

Then: a bare label paragraph (`评分：`) joins the value after it; the source's
own rule runs; the generic boilerplate layer (boilerplate.py) runs last.
"""

from __future__ import annotations

import html as html_lib
import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from jobs.parse import boilerplate, structure, urls
from jobs.parse.lifted import LiftedFields
from jobs.parse.sources import SourceRule, rule_for

PARAGRAPH_BREAK = "\u2029"
_PRE_TOKEN = "\ue000"  # private-use: stands in for a <pre> block until the end
_CELL_MARK = "\ue001"  # private-use: starts a table cell; becomes a space
_PROSE_OPEN = "\ue002"  # private-use: a prose block (<p>, <li>, <h1>...) opens; its newlines are spaces
_PROSE_CLOSE = "\ue003"  # private-use: a prose block closes
_LINK_OPEN = "\ue004"  # private-use: an <a href> starts (the structural screen weighs link text)
_LINK_CLOSE = "\ue005"  # private-use: it ends
_LINK_MARKS = {ord(_LINK_OPEN): None, ord(_LINK_CLOSE): None}
_PRIVATE_MARKS = {ord(_PRE_TOKEN): None, ord(_CELL_MARK): None, ord(_PROSE_OPEN): None, ord(_PROSE_CLOSE): None, **_LINK_MARKS}
_PRE_PARAGRAPH = re.compile(rf"\A{_PRE_TOKEN}(\d+)\Z")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "br", "center", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", *_HEADINGS, "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul", "caption",
)
PROSE_TAGS = ("p", "li", *_HEADINGS, "dt", "dd", "figcaption")


def _alternation(words: Iterable[str]) -> str:
    """A regex for exactly these words, as a trie (`d(?:d|iv|l|t)`): the engine tries a few first letters, not every word."""
    unique = sorted(set(words))
    if unique == [""]:
        return ""
    tails: dict[str, list[str]] = {}
    for word in unique:
        if word:
            tails.setdefault(word[0], []).append(word[1:])
    branches = [re.escape(first) + _alternation(rest) for first, rest in tails.items()]
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if "" in unique else body


def _names(words: Iterable[str]) -> str:
    """`_alternation`, after a look-ahead for the possible first letters: most tags fail that one test."""
    return f"(?=[{''.join(sorted({re.escape(word[0]) for word in words}))}]){_alternation(words)}"


# Starts with a literal '<' (the engine skips ahead to it) and has a constant replacement.
_BLOCK = re.compile(rf"<(?=/?{_alternation(BLOCK_TAGS)}[\s/>])", re.IGNORECASE)
_PROSE_START = re.compile(rf"<(?={_names(PROSE_TAGS)}[\s/>])", re.IGNORECASE)
# The close mark goes after `</p>` so element texts stay clean. One pass that finds each `>` and looks
# behind it, with a constant replacement (a template or a str.replace per tag costs more). Exact lower-case
# spellings only: after a rarer one (`</P >`) the text is read as prose, as before.
# The look-behind on one character turns most `>` away before the six tests.
_PROSE_END = re.compile(r">(?<=[pitdn1-6]>)(?:(?<=</p>)|(?<=</li>)|(?<=</h[1-6]>)|(?<=</dt>)|(?<=</dd>)|(?<=</figcaption>))")
# Every element name HTML, SVG and MathML know: `<DistroName>` in `wsl --install -d <DistroName>` is text.
KNOWN_TAGS = (
    "a|abbr|acronym|address|applet|area|article|aside|audio|b|base|basefont|bdi|bdo|bgsound|big|blink|blockquote|body|br|"
    "button|canvas|caption|center|cite|code|col|colgroup|data|datalist|dd|del|details|dfn|dialog|dir|div|dl|dt|em|embed|"
    "fieldset|figcaption|figure|font|footer|form|frame|frameset|h[1-6]|head|header|hgroup|hr|html|i|iframe|image|img|input|"
    "ins|isindex|kbd|keygen|label|legend|li|link|listing|main|map|mark|marquee|math|menu|menuitem|meta|meter|multicol|nav|"
    "nextid|nobr|noembed|noframes|noscript|object|ol|optgroup|option|output|p|param|picture|plaintext|portal|pre|progress|q|"
    "rb|rp|rt|rtc|ruby|s|samp|script|search|section|select|slot|small|source|spacer|span|strike|strong|style|sub|summary|"
    "sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr|xmp|"
    "g|path|rect|circle|ellipse|line|polyline|polygon|defs|use|symbol|text|tspan|mi|mn|mo|ms|mtext|mrow|msup|msub|mfrac"
)
# A lone `<Name>` / `</Name>` (no attributes, a capital letter in it: feeds write their HTML in lower case)
# that no HTML knows; custom elements (with '-') and `o:p` stay tags.
_LITERAL_TAG = re.compile(r"<(/?+)([a-z0-9_.]*+[A-Z][A-Za-z0-9_.]*+)>")  # possessive: the classes are disjoint
_KNOWN = re.compile(rf"(?:{KNOWN_TAGS})", re.IGNORECASE)
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
_DROPPED_TAG = re.compile(rf"<({_names(DROPPED_TAGS)})(?=[\s/>])", re.IGNORECASE)
# One scan of the raw HTML for both: dropped elements (their names), and literal `<Word>` candidates (an
# empty name). A dropped element's name is a known tag, so the literal test it shadows could not matter.
_TAG_SCAN = re.compile(rf"<(?:(?i:({_names(DROPPED_TAGS)}))(?=[\s/>])|/?+[a-z0-9_.]*+[A-Z][A-Za-z0-9_.]*+>)")
IMAGE_ATTRIBUTES = ("data-original", "data-src", "data-actualsrc", "src")

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A line break between two CJK characters is a hard-wrapped sentence (3DMGame), not a space.
_CJK_LINE_BREAK = re.compile(rf"(?<=[{_CJK}])[^\S\n\u2029]*\n[^\S\u2029]*(?=[{_CJK}])")
_LEFTOVER_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = str.maketrans("", "", _INVISIBLE_CHARS)


@dataclass
class Body:
    paragraphs: list[str]
    image_urls: list[str]
    link_urls: list[str]
    fields: LiftedFields = field(default_factory=LiftedFields)


def extract(html: str, source: str = "", generic: bool = True, title: str | None = None) -> Body:
    """Clean paragraphs, images and links of one body; `generic=False` skips the boilerplate layer (tests compare).

    `title` lets the structural screen drop a first line that repeats it.
    """
    rule = rule_for(source)
    fields = LiftedFields()
    html = rule.prepare_html(html, fields)
    if (_PRE_TOKEN in html or _CELL_MARK in html or _PROSE_OPEN in html or _PROSE_CLOSE in html
            or _LINK_OPEN in html or _LINK_CLOSE in html):  # no forged markers
        html = html.translate(_PRIVATE_MARKS)
    dropped = _TAG_SCAN.findall(html)  # names of dropped elements; "" for each literal-tag candidate
    if "" in dropped:
        html = _LITERAL_TAG.sub(_escape_unknown_tag, html)
        dropped = _DROPPED_TAG.findall(html)
    marked = _PROSE_END.sub(">" + PARAGRAPH_BREAK + _PROSE_CLOSE, _PROSE_START.sub(PARAGRAPH_BREAK + _PROSE_OPEN + "<", html))
    tree = LexborHTMLParser(_BLOCK.sub(PARAGRAPH_BREAK + "<", marked))
    rule.clean_tree(tree, fields)
    present = {tag.lower() for tag in dropped}
    if present:  # each strip is a walk of the tree: do only the ones that can match
        tree.strip_tags(sorted(present))
    if _TABLE.search(html):
        _mark_tables(tree)
    # Each css() is a walk of the tree: skip the ones that cannot match; images and links share one.
    image_nodes, link_nodes = _images_and_links(tree, _HAS_IMG.search(html) is not None, _HAS_LINK.search(html) is not None)
    image_urls = _image_urls(image_nodes, rule) if image_nodes else []
    # attrs.get reads one attribute; .attributes would build a dict of all of them.
    link_urls = urls.clean_list(n.attrs.get("href") or "" for n in link_nodes) if link_nodes else []
    media_fallback = _media_fallback(tree) if generic and ("<video" in html or "<audio" in html) else frozenset()
    link_share: dict[str, tuple[float, int]] | None = None
    if generic and link_nodes:
        for node in link_nodes:
            node.insert_before(_LINK_OPEN)
            node.insert_after(_LINK_CLOSE)
        link_share = {}
    verbatim = _lift_pre_blocks(tree) if _HAS_PRE.search(html) else []
    root = tree.body or tree.root
    text = root.text(deep=True) if root is not None else ""
    paragraphs = split_paragraphs(text, link_share)
    if verbatim:
        paragraphs = [_restore_pre(p, verbatim) for p in paragraphs]
        paragraphs = [p for p in paragraphs if p]
    paragraphs = join_bare_labels(paragraphs)
    paragraphs = rule.clean_paragraphs(paragraphs, fields)
    if generic:
        page = structure.Page(title, link_share or {}, media_fallback)
        paragraphs = boilerplate.clean(paragraphs, fields, page)
    return Body(paragraphs, image_urls, link_urls, fields)


def _media_fallback(tree: LexborHTMLParser) -> frozenset[str]:
    """The paragraphs of what <video> and <audio> hold besides their sources: text only a browser without them shows."""
    found: set[str] = set()
    for node in tree.css("video, audio"):
        found.update(split_paragraphs(node.text(deep=True)))
    return frozenset(found)


def _escape_unknown_tag(found: re.Match[str]) -> str:
    return found.group(0) if _KNOWN.fullmatch(found.group(2)) else f"&lt;{found.group(1)}{found.group(2)}&gt;"


def _images_and_links(tree: LexborHTMLParser, images: bool, links: bool) -> tuple[list[LexborNode], list[LexborNode]]:
    """The <img> and <a href> elements asked for, each in document order."""
    if images and links:
        both = tree.css("img, a[href]")
        return [node for node in both if node.tag == "img"], [node for node in both if node.tag != "img"]
    return (tree.css("img") if images else []), (tree.css("a[href]") if links else [])


def _image_urls(nodes: list[LexborNode], rule: SourceRule) -> list[str]:
    """Body images, minus placeholders, tracking pixels and the QR codes / avatars of promo and credit blocks."""
    found = []
    for node in nodes:
        attributes = node.attributes
        if urls.is_tracking_pixel(attributes) or _is_promo_or_avatar(node, attributes):
            continue
        found.append(_image_url(attributes, rule))
    return urls.clean_list(found)


_PROMO_IMAGE_NAMES = r"qr[-_]?code|qrcode|erweima|二维码|wechat[-_]?qr|avatar|touxiang|头像|gravatar"  # lower case
_PROMO_IMAGE = re.compile(_PROMO_IMAGE_NAMES, re.IGNORECASE)
_PROMO_IMAGE_LOWER = re.compile(_PROMO_IMAGE_NAMES)
_NEAR_TEXT_LIMIT = 120  # the text of a credit or promo block is short; a longer parent is article text


_NAMING_ATTRIBUTES = ("src", "alt", "class", "data-src", "title", "id")


def _is_promo_or_avatar(node: LexborNode, attributes: dict[str, str | None]) -> bool:
    """A QR code or avatar by its name, or an image whose small enclosing block is a promo or credit line."""
    for value in map(attributes.get, _NAMING_ATTRIBUTES):
        # A case-insensitive search cannot skip ahead; on ASCII, lower() and a plain search say the same, faster.
        if value and (_PROMO_IMAGE_LOWER.search(value.lower()) if value.isascii() else _PROMO_IMAGE.search(value)):
            return True
    parent = node.parent
    if parent is None:
        return False
    tag = parent.tag
    if tag in ("body", "html") or (tag == "div" and (grandparent := parent.parent) is not None and grandparent.tag == "body"):
        return False  # straight in the body or its wrapper <div>: its text is the whole article
    text = _collapsed_within(parent.text(deep=True), _NEAR_TEXT_LIMIT)
    if text == "":
        previous = parent.prev
        while previous is not None and previous.tag == "-text" and not previous.text(deep=False).translate(_PRIVATE_MARKS).strip():
            previous = previous.prev
        text = _collapsed_within(previous.text(deep=True), _NEAR_TEXT_LIMIT) if previous is not None else ""
    if not text:
        return False
    pattern = boilerplate.match(text.translate(_PRIVATE_MARKS).strip(), boilerplate.ANY_POSITION)
    return pattern is not None and pattern.family in ("promo", "credit")


def _collapsed_within(text: str, limit: int) -> str | None:
    """`text` with its whitespace (paragraph breaks too) collapsed, or None when that is longer than `limit`.

    A long text (a wrapper holding the article) is judged on a prefix first: collapsing a prefix gives a
    prefix of the collapsed whole, so a prefix already over the limit settles it.
    """
    if len(text) > 4 * limit and len(" ".join(text[: 4 * limit].split())) > limit:
        return None
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= limit else None


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
        if _LINK_OPEN in text:
            text = text.translate(_LINK_MARKS)
        blocks.append(textwrap.dedent(text.strip("\n")).strip())  # paragraphs are trimmed; relative indents stay
        node.replace_with(f"{PARAGRAPH_BREAK}{_PRE_TOKEN}{len(blocks) - 1}{PARAGRAPH_BREAK}")
    return blocks


def _restore_pre(paragraph: str, verbatim: list[str]) -> str:
    match = _PRE_PARAGRAPH.match(paragraph) if paragraph.startswith(_PRE_TOKEN) else None
    return verbatim[int(match.group(1))] if match else paragraph


def split_paragraphs(text: str, link_share: dict[str, tuple[float, int]] | None = None) -> list[str]:
    """Text with paragraph separators -> trimmed, whitespace-collapsed paragraphs.

    A blank line splits a paragraph too (plain-text feeds), and a line break
    between two CJK characters is a hard wrap (3DMGame), not a space. In plain
    text outside prose blocks, a line break after 。！？.!? or before a list
    marker ends a paragraph. Most newlines are source formatting next to a
    separator, so the regexes run only on chunks that still hold one after trimming.

    Given `link_share`, the link marks (_LINK_OPEN/_LINK_CLOSE) are taken out of each chunk and
    `link_share` gets, for each paragraph of a chunk that had link text, the share of its
    non-space characters that were inside a link, and how many links it holds.
    """
    # Each of _INVISIBLE_CHARS by str.find: beats a regex class scan and a generator
    invisible = "\u200b" in text or "\u200c" in text or "\u200d" in text or "\u2060" in text or "\ufeff" in text or "\u00ad" in text
    paragraphs: list[str] = []
    depth = 0  # open prose blocks around the current chunk
    weigh = link_share is not None and _LINK_OPEN in text
    in_link = False  # a link runs on from an earlier chunk (it holds a block)
    pending: tuple[int, list[str]] | None = None  # the previous chunk's first paragraph and link fragments
    for chunk in text.split(PARAGRAPH_BREAK):
        if weigh:
            if pending is not None:
                _weigh_links(paragraphs, *pending, link_share)  # type: ignore[arg-type]
                pending = None
            if in_link or _LINK_OPEN in chunk or _LINK_CLOSE in chunk:
                chunk, fragments, in_link = _link_fragments(chunk, in_link)
                if fragments:
                    pending = (len(paragraphs), fragments)
        if not chunk:
            continue
        first = chunk[0]
        if first == _PROSE_CLOSE:
            if depth:
                depth -= 1
            if len(chunk) == 1:
                continue
            chunk = chunk[1:]
        elif first == _PROSE_OPEN:
            depth += 1
            if len(chunk) == 1:
                continue
            chunk = chunk[1:]
        if chunk.isspace():  # most chunks are the formatting between blocks
            continue
        if "\n" in chunk and "\n" in (chunk := chunk.strip()):
            for piece in _BLANK_LINE.split(chunk):
                if not depth and "\n" in piece and not _LATIN_HARD_WRAP.search(piece):
                    for line in _LINE_END.split(piece):
                        _append_paragraph(paragraphs, _CJK_LINE_BREAK.sub("", line), invisible)
                else:
                    _append_paragraph(paragraphs, _CJK_LINE_BREAK.sub("", piece), invisible)
            continue
        # _append_paragraph, inlined: this is the path of almost every paragraph.
        if _CELL_MARK in chunk:
            chunk = chunk.replace(_CELL_MARK, " ")
        if invisible:
            chunk = chunk.translate(_INVISIBLE)
        chunk = " ".join(chunk.split())
        if "&" in chunk and _LEFTOVER_ENTITY.search(chunk):
            chunk = " ".join(html_lib.unescape(chunk).split())  # double-escaped feeds
        if chunk:
            paragraphs.append(chunk)
    if pending is not None:
        _weigh_links(paragraphs, *pending, link_share)  # type: ignore[arg-type]
    return paragraphs


_LINK_MARK = re.compile(f"([{_LINK_OPEN}{_LINK_CLOSE}])")
_NOT_TEXT = str.maketrans("", "", _CELL_MARK + _PROSE_OPEN + _PROSE_CLOSE + _INVISIBLE_CHARS)


def _link_fragments(chunk: str, in_link: bool) -> tuple[str, list[str], bool]:
    """The chunk without link marks, the non-space text of each link part in it, and whether a link is still open."""
    pieces = _LINK_MARK.split(chunk)
    fragments = []
    for index in range(1, len(pieces), 2):  # the marks; the text after each is pieces[index + 1]
        if in_link and (fragment := "".join(pieces[index - 1].translate(_NOT_TEXT).split())):
            fragments.append(fragment)
        in_link = pieces[index] == _LINK_OPEN
    if in_link and (fragment := "".join(pieces[-1].translate(_NOT_TEXT).split())):
        fragments.append(fragment)
    return "".join(pieces[::2]), fragments, in_link


def _weigh_links(paragraphs: list[str], start: int, fragments: list[str], link_share: dict[str, tuple[float, int]]) -> None:
    """Share of link text in each paragraph one chunk gave (its link fragments found in order), and their number."""
    next_fragment = 0
    for paragraph in paragraphs[start:]:
        letters = "".join(paragraph.split())
        covered = position = 0
        first_fragment = next_fragment
        while next_fragment < len(fragments):
            found = letters.find(fragments[next_fragment], position)
            if found < 0:
                break
            covered += len(fragments[next_fragment])
            position = found + len(fragments[next_fragment])
            next_fragment += 1
        if covered and letters:
            weight = (covered / len(letters), next_fragment - first_fragment)
            link_share[paragraph] = min(weight, link_share.get(paragraph, weight))  # a text seen twice: the weaker


# A line break that ends a paragraph in plain text: after sentence-ending punctuation (not before a
# lowercase word: `etc.\nand`), or before a list marker (1. 1、 (1) ① - * •, 一、).
_LIST_MARKER = r"(?:\d{1,2}[.、)）](?!\d)|[（(]\d{1,2}[)）]|[①-⑳]|[-*•·]\s|[一二三四五六七八九十]{1,3}、)"
_LINE_END = re.compile(rf"(?<=[。！？!?.])[^\S\n]*\n\s*(?![a-z])|[^\S\n]*\n\s*(?={_LIST_MARKER})")
# Latin prose hard-wrapped at a fixed width (Paul Graham): a break between two words is mid-sentence.
_LATIN_HARD_WRAP = re.compile(r"[A-Za-z,;]\n[^\S\n]*[A-Za-z(\"'“]")
# A bare label (`评分：`, `导演：`, `Type:`): short, ends with a colon, no sentence inside.
_BARE_LABEL = re.compile(r"^(?:[^\s。！？!?.,，：:]{1,6}|[A-Za-z][A-Za-z ]{0,18})[：:]$")  # `以下为受访门店的基本情况：` is a sentence
_MEDIA_LABEL = re.compile(rf"^(?:{boilerplate.MEDIA_LABELS})\s*[:：]$", re.IGNORECASE)


def join_bare_labels(paragraphs: list[str]) -> list[str]:
    """`评分：` then `9.5` -> `评分：9.5`; a label with no value before the next label line is dropped.

    Labels of dropped media (`报道视频：`) are left for the boilerplate layer: what follows is not their value.
    """
    for paragraph in paragraphs:
        if paragraph[-1] in "：:":
            break
    else:
        return paragraphs
    joined: list[str] = []
    index = 0
    while index < len(paragraphs):
        paragraph = paragraphs[index]
        if paragraph[-1] in "：:" and _BARE_LABEL.match(paragraph) and not _MEDIA_LABEL.match(paragraph):
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            if following is not None and _BARE_LABEL.match(following) is None and _is_value(following):
                if _LABEL_LINE.match(following):
                    index += 1  # an empty field: its label says nothing
                    continue
                joined.append(paragraph + (" " if paragraph[-1] == ":" else "") + following)
                index += 2
                continue
        joined.append(paragraph)
        index += 1
    return joined


def _is_value(paragraph: str) -> bool:
    """What can follow a bare label as its value: short, no sentence in it (not `广大市民乘客：` + a letter)."""
    return len(paragraph) <= _MAX_VALUE and not _SENTENCE_END.search(paragraph)


_MAX_VALUE = 40
_SENTENCE_END = re.compile(r"[。！？!?]|\.(?:\s|$)")
# A `label：value` line: a following field, not a value of the bare label before it.
_LABEL_LINE = re.compile(r"^[^\s。！？!?.,，：:]{1,12}[：:]\s*\S")


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
