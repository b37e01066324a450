"""A raw feed body, re-rendered from its parsed tree as inert HTML, with what the extractor dropped marked.

Why re-render instead of showing the raw HTML in a sandboxed frame: nothing the feed wrote
reaches the page except text, escaped, inside a short list of structural tags that we write
ourselves, with no attribute copied. So there is no script, event handler, form, remote load,
style or `</iframe>` breakout to neutralise: they are never emitted (scripts, frames, forms and
media become a grey placeholder naming them; images a placeholder naming their file; links a
dotted underline whose URL shows on hover). It also lets the marks (removed, lifted) sit on
the very lines the reviewer reads, which a frame's opaque document cannot. The page adds a
Content-Security-Policy without any script source as a second wall.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from jobs.parse.body import split_paragraphs

# Structural tags kept as themselves (no attributes); other block-level tags become <div>.
KEPT_TAGS = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "table",
    "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "strong", "b", "em", "i", "u", "s", "sub", "sup",
    "figure", "figcaption", "dl", "dt", "dd", "hr", "small",
}
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li",
    "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "td", "th",
    "ul", "caption",
}
VOID_TAGS = {"hr"}
# Never rendered: shown as a placeholder naming the element, so the reviewer sees what was there.
PLACEHOLDER_TAGS = {"script", "iframe", "object", "embed", "video", "audio", "form", "input", "button", "select",
                    "textarea", "canvas", "svg", "math", "frame", "frameset", "applet", "portal"}
# Never rendered and not worth a placeholder.
SILENT_TAGS = {"style", "link", "meta", "base", "title", "noscript", "template", "noembed", "noframes", "head",
               "source", "track", "param", "-comment", "!doctype"}
_BLOCK_SELECTOR = ",".join(sorted(BLOCK_TAGS))
# The renderer recurses once per level of nesting: below this depth an element is shown as its
# text only, so a body of thousands of nested tags renders instead of exhausting the stack.
MAX_DEPTH = 64
FLATTENED = f'<span class="dropped">nesting deeper than {MAX_DEPTH} levels shown as text</span>'

Judge = Callable[[str], tuple[str, str | None]]  # paragraph -> ("kept" | "removed" | "lifted", field or family)


def render_body(body_html: str, judge: Judge) -> str:
    """Inert HTML for `body_html`; each line the judge calls removed or lifted is wrapped in a mark."""
    tree = LexborHTMLParser(body_html)
    root = tree.body
    return _Renderer(judge).children(root) if root is not None else ""


class _Renderer:
    def __init__(self, judge: Judge):
        self.judge = judge

    def children(self, node: LexborNode, depth: int = 0) -> str:
        """A container's children: inline runs (between <br> and blocks) are judged as one line each."""
        if depth >= MAX_DEPTH:
            text = node.text(deep=True) or ""
            return FLATTENED + self.mark(html.escape(text), text)
        out: list[str] = []
        run_html: list[str] = []
        run_text: list[str] = []

        def flush() -> None:
            if run_html:
                out.append(self.mark("".join(run_html), "".join(run_text)))
                run_html.clear()
                run_text.clear()

        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                text = child.text_content or ""
                run_html.append(html.escape(text))
                run_text.append(text)
            elif tag == "br":
                flush()
                out.append("<br>")
            elif tag in SILENT_TAGS:
                continue
            elif tag in PLACEHOLDER_TAGS:
                run_html.append(_placeholder(tag, child))
            elif tag in BLOCK_TAGS or child.css_first(_BLOCK_SELECTOR) is not None:
                flush()
                out.append(self.element(child, self.children(child, depth + 1)))
            else:
                run_html.append(self.inline(child, depth + 1))
                run_text.append(child.text(deep=True) or "")
        flush()
        return "".join(out)

    def inline(self, node: LexborNode, depth: int = 0) -> str:
        """An inline element without blocks inside: rendered as a whole, judged with its run."""
        if depth >= MAX_DEPTH:
            return FLATTENED + html.escape(node.text(deep=True) or "")
        tag = node.tag
        if tag == "img":
            return _image(node)
        inner = []
        for child in node.iter(include_text=True):
            if child.tag == "-text":
                inner.append(html.escape(child.text_content or ""))
            elif child.tag == "br":
                inner.append("<br>")
            elif child.tag in PLACEHOLDER_TAGS:
                inner.append(_placeholder(child.tag, child))
            elif child.tag not in SILENT_TAGS:
                inner.append(self.inline(child, depth + 1))
        return self.element(node, "".join(inner))

    def element(self, node: LexborNode, inner: str) -> str:
        tag = node.tag
        if tag == "a":
            href = (node.attributes.get("href") or "").strip()
            return f'<span class="raw-link" title="{html.escape(href)}">{inner}</span>' if href else inner
        if tag in KEPT_TAGS:
            return f"<{tag}>" if tag in VOID_TAGS else f"<{tag}>{inner}</{tag}>"
        if tag in BLOCK_TAGS:
            return f"<div>{inner}</div>"
        return inner  # unknown inline tags (span, font, custom elements): their content only

    def mark(self, fragment: str, text: str) -> str:
        paragraphs = split_paragraphs(text)
        if not paragraphs:
            return fragment
        verdicts = [self.judge(p) for p in paragraphs]
        lifted = [field for status, field in verdicts if status == "lifted"]
        if lifted:
            label = ", ".join(dict.fromkeys(f for f in lifted if f))
            return f'<span class="mark lifted" data-mark="lifted">{fragment}<span class="tag">→ {html.escape(label)}</span></span>'
        removed = sum(status == "removed" for status, _ in verdicts)
        if removed == len(verdicts):
            families = sorted({family for _, family in verdicts if family})
            family = f' data-family="{html.escape(" ".join(families))}"' if families else ""
            return f'<span class="mark removed" data-mark="removed"{family}>{fragment}</span>'
        if removed:
            return f'<span class="mark partial" data-mark="partial">{fragment}</span>'
        return fragment


def _placeholder(tag: str, node: LexborNode) -> str:
    where = node.attributes.get("src") or node.attributes.get("data-src") or node.attributes.get("data") or ""
    host = urlsplit(where.strip()).hostname if where.strip().startswith(("http", "//")) else None
    return f'<span class="dropped">&lt;{html.escape(tag)}&gt;{" " + html.escape(host) if host else ""} not shown</span>'


def _image(node: LexborNode) -> str:
    source = ""
    for name in ("data-original", "data-src", "data-actualsrc", "src"):
        value = (node.attributes.get(name) or "").strip()
        if value:
            source = value
            break
    name = "inline data" if source.startswith("data:") else _short_url(source)
    alt = (node.attributes.get("alt") or "").strip()
    label = f"image {name}" + (f" — {alt[:60]}" if alt else "")
    return f'<span class="raw-img" title="{html.escape(source[:300])}">{html.escape(label)}</span>'


def _short_url(url: str) -> str:
    parts = urlsplit(url)
    file = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return f"{parts.hostname or ''}/…/{file}" if file else (parts.hostname or url[:40])


_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Text without any whitespace: compares lines whatever the paragraph boundaries were."""
    return _SPACE.sub("", text)
