"""`articles review` on deeply nested bodies (no RecursionError), its labels, and its width in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser
from typer.testing import CliRunner

from helpers_pipeline import article_text, copy_samples, write_raw
from jobs.analyst.safe_html import MAX_DEPTH, render_body
from jobs.cli import app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def nested(tag: str, depth: int, text: str) -> str:
    return f"<{tag}>" * depth + text + f"</{tag}>" * depth


def test_review_of_1200_nested_spans_writes_the_page(tmp_path):
    raw = tmp_path / "raw"
    body = f"<p>{nested('span', 1200, '最深处的正文')}</p>"  # about 16 KB
    write_raw(raw, "source/_posts/测试/嵌套源/频道/deep.md", article_text("深", "2022-08-01 10:00:00", author="嵌套源", body=body))
    page = tmp_path / "review.html"
    result = invoke("review", "--html", page, "--raw-dir", raw, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert result.exception is None
    html_text = page.read_text(encoding="utf-8")
    raw_pane = LexborHTMLParser(html_text).css_first("article.sample .pane.raw")
    assert "最深处的正文" in raw_pane.text()
    assert f"nesting deeper than {MAX_DEPTH} levels shown as text" in raw_pane.text()


@pytest.mark.parametrize("tag", ["span", "div", "b", "blockquote"])
def test_render_body_is_bounded_by_depth_not_by_the_stack(tag):
    rendered = render_body(nested(tag, 20_000, "底"), lambda line: ("kept", None))
    assert "底" in rendered
    assert rendered.count(f"<{tag}>") <= MAX_DEPTH + 1


def test_render_body_keeps_structure_above_the_bound():
    rendered = render_body(nested("div", 5, "<p>浅</p>"), lambda line: ("kept", None))
    assert "nesting deeper" not in rendered and rendered.count("<div>") == 5 and "<p>浅</p>" in rendered


def test_the_boilerplate_hits_column_is_called_so(tmp_path):
    raw = tmp_path / "raw"
    copy_samples(raw)
    page = tmp_path / "review.html"
    assert invoke("review", "--html", page, "--raw-dir", raw, "--workers", "1").exit_code == 0
    tree = LexborHTMLParser(page.read_text(encoding="utf-8"))
    headers = [th.text() for th in tree.css("#summary th")]
    assert "boilerplate hits" in headers and "marker hits" not in headers
    labels = {node.css_first(".n").attributes["data-stat"]: node.css_first(".l").text() for node in tree.css(".stat")}
    assert labels["boilerplate_hits"] == "boilerplate hits"


def scroll_width(tmp_path: Path, page: Path, width: int) -> int:
    """The page's scrollWidth in headless Chromium at `width` px. The page itself runs no script (its CSP
    forbids it), so a copy without the CSP gets one that writes the width into the title."""
    probe = tmp_path / "probe.html"
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text(encoding="utf-8"))
    probe.write_text(text.replace("</body>", "<script>document.title = 'width=' + "
                                              "document.documentElement.scrollWidth;</script></body>"), encoding="utf-8")
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                           "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                           f"--window-size={width},2000", "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r"<title>width=(\d+)</title>", done.stdout)
    assert found, done.stderr[-2000:]
    return int(found.group(1))


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_the_page_does_not_scroll_sideways_at_1400_px(tmp_path):
    raw = tmp_path / "raw"
    copy_samples(raw)
    unbreakable = "%E7%BB%A7%E7%BB%AD" * 30  # a percent-encoded title, as some feeds have
    wide_table = "<table><tr>" + "".join(f"<td>column{i}_without_breaks</td>" for i in range(40)) + "</tr></table>"
    body = f"<p>https://example.com/{'a' * 300}</p>{wide_table}<pre>{'x' * 400}</pre>"
    for i in range(3):
        write_raw(raw, f"source/_posts/测试/宽源/频道/wide{i}.md",
                  article_text(f"{unbreakable}{i}", f"2022-08-0{i + 1} 10:00:00", author="宽源", body=body))
    page = tmp_path / "review.html"
    assert invoke("review", "--html", page, "--raw-dir", raw, "--workers", "1", "--source", "宽源").exit_code == 0
    assert scroll_width(tmp_path, page, 1400) <= 1400
