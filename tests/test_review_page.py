"""`articles review --html`: a self-contained page; hostile raw HTML never runs (checked in headless Chromium)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from helpers_cli import invoke
from helpers_pipeline import article_text, copy_samples, write_raw
from paths import MORE_CORPUS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
PWNED = "PWNED"
# Everything a feed could use to run code, load something or break out of a frame.
HOSTILE_BODY = f"""<div>
<p>第一段正文，讲一件事。</p>
<script>document.title = '{PWNED}'; document.body.setAttribute('data-pwned', '1');</script>
<img src="x" onerror="document.title='{PWNED}'">
<img src="https://tracker.example/pixel.png" alt="remote">
<svg onload="document.title='{PWNED}'"><circle r="3"/></svg>
<iframe src="https://evil.example/frame"></iframe>
<form action="https://evil.example/post"><input name="q" value="x"><button>go</button></form>
<p><a href="javascript:document.title='{PWNED}'">点我</a> 和 <a href="https://example.com/ok">正常链接</a></p>
<p>文本里的 &lt;/iframe&gt;&lt;script&gt;document.title='{PWNED}'&lt;/script&gt; 只是文字。</p>
<p>"></iframe><script>document.title='{PWNED}'</script></p>
<noscript><p title="</noscript><img src=x onerror=document.title='{PWNED}'>"></p></noscript>
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/">
<link rel="stylesheet" href="https://evil.example/x.css">
<style>body {{ display: none }} @import url(https://evil.example/y.css);</style>
<object data="https://evil.example/x.swf"></object>
<p style="background:url(https://evil.example/bg.png)" onclick="document.title='{PWNED}'">最后一段正文。</p>
<p>扫码关注我们的公众号</p>
</div>"""


def hostile_raw_dir(root: Path) -> Path:
    raw = root / "raw"
    copy_samples(raw)
    title = f"<script>document.title='{PWNED}'</script>恶意标题"
    # Two copies: a third identical article would make every short paragraph the source's template (README
    # "Source templates"), and the review would show them all removed.
    for i in range(2):
        write_raw(raw, f"source/_posts/测试/恶意源/频道/hostile{i}.md",
                  article_text(f"{title} {i}", f"2022-08-0{i + 1} 10:00:00", author="恶意源", body=HOSTILE_BODY))
    write_raw(raw, "source/_posts/测试/恶意源/频道/bad.md", article_text("坏", "not a date", author="恶意源"))
    return raw


def build_page(tmp_path: Path, raw: Path, *extra) -> Path:
    page = tmp_path / "review.html"
    result = invoke("review", "--html", page, "--raw-dir", raw, "--workers", "1", *extra)
    assert result.exit_code == 0, result.output
    return page


def assert_inert(html_text: str) -> None:
    """No element of the page can run code or load anything."""
    tree = LexborHTMLParser(html_text)
    for tag in ("script", "iframe", "frame", "object", "embed", "form", "input", "button", "base", "link", "img", "video", "audio"):
        assert tree.css_first(tag) is None, tag
    assert [m.attributes.get("http-equiv") for m in tree.css("meta[http-equiv]")] == ["Content-Security-Policy"]
    for node in tree.root.traverse():
        for name, value in node.attributes.items():
            assert not name.lower().startswith("on"), (node.tag, name)
            assert name.lower() not in ("src", "href", "action", "srcdoc", "style") or (node.tag == "a" and (value or "").startswith("#")), (node.tag, name, value)
    assert PWNED not in (tree.css_first("title").text() if tree.css_first("title") else "")
    assert tree.css_first("[data-pwned]") is None


def test_page_is_self_contained_and_the_hostile_body_is_inert_text(tmp_path):
    raw = hostile_raw_dir(tmp_path)
    page = build_page(tmp_path, raw, "--source", "恶意源", "--sample", "2")
    html_text = page.read_text(encoding="utf-8")
    assert_inert(html_text)
    tree = LexborHTMLParser(html_text)
    csp = tree.css_first('meta[http-equiv="Content-Security-Policy"]').attributes["content"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    sample = tree.css_first("article.sample")
    raw_pane = sample.css_first(".pane.raw").text()
    # The breakout attempts are shown as the text they are.
    assert "</iframe><script>" in raw_pane and "第一段正文" in raw_pane and "最后一段正文" in raw_pane
    assert {n.text().split(" ")[0] for n in sample.css(".pane.raw .dropped")} >= {"<script>", "<iframe>", "<form>", "<svg>", "<object>"}
    assert "tracker.example" in sample.css_first(".pane.raw .raw-img[title*=tracker]").attributes["title"]
    # What the extractor dropped from the raw text is marked; kept paragraphs are not.
    removed = [n.text() for n in sample.css(".pane.raw .mark.removed")]
    extracted = [n.text() for n in sample.css("ol.extracted li")]
    assert all(text not in extracted for text in removed)
    assert "第一段正文，讲一件事。" in extracted
    assert len(tree.css("section.source")) == 1 and len(tree.css("article.sample")) == 2


def test_removed_and_lifted_lines_are_marked_on_the_raw_body(tmp_path):
    raw = tmp_path / "raw"
    copy_samples(raw)
    page = build_page(tmp_path, raw, "--source", "新浪财经", "--sample", "3")
    tree = LexborHTMLParser(page.read_text(encoding="utf-8"))
    samples = tree.css("article.sample")
    assert len(samples) == 3
    lifted = [n.text() for s in samples for n in s.css(".pane.raw .mark.lifted .tag")]
    assert any("editor" in tag for tag in lifted)
    metadata = [n.css_first("th").text() for s in samples for n in s.css("tr.lifted-field")]
    assert "editor" in metadata


def test_unknown_source_and_missing_raw_dir_are_usage_errors(tmp_path):
    raw = tmp_path / "raw"
    copy_samples(raw)
    assert invoke("review", "--html", tmp_path / "r.html", "--raw-dir", raw, "--source", "没有这个源").exit_code == 2
    assert invoke("review", "--html", tmp_path / "r.html", "--raw-dir", tmp_path / "nope").exit_code == 2
    assert invoke("review", "--html", tmp_path / "no" / "dir" / "r.html", "--raw-dir", raw).exit_code == 2


# -- in a real browser ---------------------------------------------------------------------------
def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def dump_dom(tmp_path: Path, page: Path) -> LexborHTMLParser:
    done = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return LexborHTMLParser(done.stdout)


@needs_chromium
def test_the_browser_runs_scripts_of_an_ordinary_page(tmp_path):
    """The control: the same browser and flags do run a page's script, so a clean DOM below means something."""
    control = tmp_path / "control.html"
    control.write_text(f"<html><head><title>before</title></head><body><script>document.title='{PWNED}';"
                       "document.body.setAttribute('data-pwned','1')</script></body></html>", encoding="utf-8")
    dom = dump_dom(tmp_path, control)
    assert dom.css_first("title").text() == PWNED and dom.css_first("[data-pwned]") is not None


@needs_chromium
def test_in_chromium_no_fixture_script_runs_and_counts_match_the_report(tmp_path):
    raw = hostile_raw_dir(tmp_path)
    page = build_page(tmp_path, raw, "--sample", "2")
    dom = dump_dom(tmp_path, page)
    assert dom.css_first("title").text().startswith("Extraction review")
    assert dom.css_first("[data-pwned]") is None
    assert_inert(dom.html)
    check_counts_against_report(dom, raw)
    screenshot = tmp_path / "page.png"
    done = chromium(tmp_path, "--hide-scrollbars", f"--screenshot={screenshot}", "--window-size=1400,2000", page.as_uri())
    assert done.returncode == 0 and screenshot.stat().st_size > 10_000, done.stderr[-2000:]


@needs_chromium
def test_in_chromium_the_more_corpus_page_matches_the_report(tmp_path):
    if not MORE_CORPUS.is_dir():
        pytest.skip(f"reference corpus not found at {MORE_CORPUS}")
    page = build_page(tmp_path, MORE_CORPUS, "--sample", "2")
    dom = dump_dom(tmp_path, page)
    assert_inert(dom.html)
    check_counts_against_report(dom, MORE_CORPUS)
    sections = dom.css("section.source")
    assert all(s.css_first("svg.chart") or s.css_first(".stat [data-stat=rows]").text() == s.css_first(".stat [data-stat=undated]").text()
               for s in sections)  # a chart wherever there are dated rows
    assert sum(len(s.css("article.sample")) for s in sections) >= 2 * (len(sections) - 4)
    chromium(tmp_path, "--hide-scrollbars", f"--screenshot={tmp_path / 'page.png'}", "--window-size=1400,2000", page.as_uri())


def check_counts_against_report(dom: LexborHTMLParser, raw: Path) -> None:
    result = invoke("report", "--raw-dir", raw, "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    report = {row["source"]: row for row in json.loads(result.stdout)}
    sections = {s.attributes["data-source"]: s for s in dom.css("section.source")}
    assert set(sections) == set(report)
    for source, row in report.items():
        shown = {n.attributes["data-stat"]: n.text() for n in sections[source].css("[data-stat]")}
        for key in ("files", "rows", "rejects", "empty_text", "undated", "avg_paragraphs", "avg_chars", "repeated_paragraphs"):
            assert shown[key] == str(row[key]), (source, key)
        reasons = {n.attributes["data-reject-reason"]: int(n.text()) for n in sections[source].css("[data-reject-reason]")}
        assert sum(reasons.values()) == row["rejects"]
        table = sections[source].css_first("[data-candidates]")
        assert int(table.attributes["data-candidates"]) == len(row["repeated_paragraph_candidates"])
        chart = sections[source].css_first("svg.chart")
        assert (int(chart.attributes["data-total"]) if chart else 0) == row["rows"] - row["undated"]
