"""jobs.parse.body.extract on small hand-written bodies: block structure, tables, code, markers, source rules."""

from __future__ import annotations

import pytest

from jobs.parse.body import extract


def paragraphs(html: str, source: str = "") -> list[str]:
    return extract(html, source).paragraphs


def test_table_rows_are_one_paragraph_each():
    html = "<p>表前</p><table><tr><th>类型</th>\n<th>是否递归</th></tr>\n<tr><td>A</td><td>否</td></tr></table>表后的裸文本"
    assert paragraphs(html) == ["表前", "类型 是否递归", "A 否", "表后的裸文本"]


def test_table_cells_separated_by_blank_lines_stay_in_their_row():
    assert paragraphs("<table><tr><td>甲</td>\n\n<td>乙</td></tr></table>") == ["甲 乙"]


def test_table_caption_and_nested_table():
    html = "<table><caption>说明</caption><tr><td>外<table><tr><td>内1</td><td>内2</td></tr></table></td></tr></table>"
    assert paragraphs(html) == ["说明", "外", "内1 内2"]


def test_pre_keeps_code_lines_and_turns_br_into_newlines():
    assert paragraphs("<pre>line1<br>line2<br>\nline3</pre>") == ["line1\nline2\nline3"]
    assert paragraphs("<pre><code>\n    if x:\n        y()\n</code></pre>") == ["if x:\n    y()"]


def test_nested_pre_is_one_block():
    assert paragraphs("<pre>a<pre>b</pre></pre>after") == ["a\nb", "after"]


def test_input_cannot_forge_internal_markers():
    assert paragraphs("<pre>code</pre><p>\ue000x</p><p>\ue0010</p>") == ["code", "x", "0"]


def test_blank_lines_split_plain_text_and_hard_wraps_join():
    html = "第一段第一句，\n第一段续行。\n\n第二段 English\nwrapped.\n\n\n第三段"
    assert paragraphs(html) == ["第一段第一句，第一段续行。", "第二段 English wrapped.", "第三段"]


def test_invisible_and_non_displayed_content_is_dropped():
    html = ("<title>标题</title><noembed>嵌入</noembed><noframes>框架</noframes><template><p>模板</p></template>"
            "<p>正文\u200b内容\u00ad。</p><textarea>输入</textarea><select><option>选项</option></select>")
    assert paragraphs(html) == ["正文内容。"]


def test_double_escaped_entities_are_decoded_once_more():
    assert paragraphs("<p>a &amp;amp; b &amp;#123;c&amp;#125;</p>") == ["a & b {c}"]


def test_image_urls_prefer_lazy_attributes_and_skip_data_uris():
    body = extract('<img src="data:image/png;base64,AAA" data-src="https://a.example/1.png">'
                   '<img src="https://cors.zfour.workers.dev/?http://b.example/2.png">'
                   '<img src="https://a.example/1.png">')
    assert body.image_urls == ["https://a.example/1.png", "http://b.example/2.png"]


def test_ninetofive_affiliate_disclaimer_is_dropped():
    html = ('<p>Story.</p><div class="ad-disclaimer-container"><p class="disclaimer-affiliate"><em>FTC: We use income '
            'earning auto affiliate links.</em> <a href="https://9to5mac.com/about/#affiliate">More.</a></p></div>')
    body = extract(html, "9To5")
    assert body.paragraphs == ["Story."] and body.link_urls == []


def test_woshipm_credit_lines_and_tip_widget_are_dropped():
    html = ("<p>正文。</p><p>本文由 @某作者 原创发布于人人都是产品经理。未经许可，禁止转载。</p>"
            "<p>题图来自 Unsplash，基于CC0协议。</p><div class=\"support-author\"><div>给作者打赏，鼓励TA抓紧创作！</div>"
            "<button><svg><path d=\"M0,0\"/></svg>赞赏</button></div>")
    assert paragraphs(html, "人人都是产品经理") == ["正文。"]
    # Without the source's rule the generic layer still drops the credit lines (reprint policy, cover
    # credit), but the tip widget is that source's markup and stays.
    assert paragraphs(html) == ["正文。", "给作者打赏，鼓励TA抓紧创作！"]


def test_zaker_bottom_widgets_by_id_are_dropped():
    html = '<p>正文。</p><div id="recommend_bottom">推荐</div><div id="article_bottom">底部</div>'
    assert paragraphs(html, "ZAKER") == ["正文。"]


@pytest.mark.parametrize("html", ["", "   ", "<div></div>", "<!-- only a comment -->", "<script>x</script>", "\u2029\u2029"])
def test_empty_bodies_give_no_paragraphs(html):
    assert paragraphs(html) == []
