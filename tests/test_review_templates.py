"""`articles review --html`: a line removed by its source's learned template is shown removed, with
family `template`; a paragraph repeated in the middle of every article stays kept, with no family.

Raw files are our own: five articles of one source closing with the same short line and repeating one
paragraph mid-article, beside a source with no repeat.
"""

from __future__ import annotations

from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from helpers_cli import invoke
from helpers_pipeline import article_text, write_raw

CLOSING = "~ the tide table ends here ~"
MIDDLE = "The harbour master rang the bell twice."


def write_sources(raw: Path) -> None:
    for i in range(5):
        paragraphs = [f"Morning {i}, note {k}: the tide turned at {k + 3} and {i + 1} boats left." for k in range(6)]
        paragraphs += [MIDDLE] + [f"Morning {i}, afternoon note {k}: gulls over the pier." for k in range(6)] + [CLOSING]
        write_raw(raw, f"潮汐/tides/morning-{i}.md",
                  article_text(f"Tide morning {i}", f"2023-06-0{i + 1} 06:00:00", author="潮汐",
                               body="".join(f"<p>{p}</p>" for p in paragraphs)))
        write_raw(raw, f"其他/notes/note-{i}.md",
                  article_text(f"Note {i}", f"2023-06-0{i + 1} 09:00:00", author="其他",
                               body=f"<p>Note {i} has words of its own.</p>"))


def review_page(tmp_path: Path) -> LexborHTMLParser:
    raw, page = tmp_path / "raw", tmp_path / "review.html"
    write_sources(raw)
    result = invoke("review", "--html", page, "--raw-dir", raw, "--sample", "5", "--workers", "1")
    assert result.exit_code == 0, result.output
    return LexborHTMLParser(page.read_text(encoding="utf-8"))


def test_template_line_is_removed_with_family_template_mid_article_repeat_is_kept(tmp_path):
    tree = review_page(tmp_path)
    section = tree.css_first('section.source[data-source="潮汐"]')
    samples = section.css("article.sample")
    assert len(samples) == 5
    for sample in samples:
        marked = [(n.text(), n.attributes.get("data-family")) for n in sample.css(".pane.raw .mark.removed")]
        assert marked == [(CLOSING, "template")]
        extracted = [n.text() for n in sample.css("ol.extracted li")]
        assert MIDDLE in extracted and CLOSING not in extracted and len(extracted) == 13
        assert [(n.text(), n.attributes.get("data-family")) for n in sample.css("ul.removed-list li")] == [(CLOSING, "template")]
    template = section.css_first("table.template")
    assert template.attributes["data-template-paragraphs"] == "1" and CLOSING in template.text()
    flags = {row.css_first("td.text").text(): row.css_first("td[data-template]").attributes["data-template"]
             for row in section.css("table.candidates tr") if row.css_first("td.text")}
    assert flags == {CLOSING: "true"}


def test_a_source_without_template_has_no_template_family(tmp_path):
    tree = review_page(tmp_path)
    section = tree.css_first('section.source[data-source="其他"]')
    assert section.css("[data-family]") == []
    assert section.css_first(".template").attributes["data-template-paragraphs"] == "0"
