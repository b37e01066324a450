"""The structural screen (jobs/parse/structure.py): edge lines dropped by their shape, in any language.

Invented bodies reproduce the shapes (a row of tag links, previous/next navigation, a heading that
repeats the title over a bare timestamp, an empty label, a media element's fallback text, a literal
null); look-alikes that are content stay: a long linked paragraph, a linked heading at the start, a
line in the middle, a date under a signature at the end, an article that would be emptied.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.parse.body import extract
from jobs.parse.boilerplate import MAX_LINE
from jobs.parse.record import parse_article

BODY = "<p>第一段是正文，讲一件具体的事情，写得足够长。</p><p>Second paragraph of real text, long enough to be prose.</p>"


def _removed(body) -> list[tuple[str, str]]:
    return list(body.fields.boilerplate)


def test_a_row_of_tag_links_and_post_navigation_at_the_end_go():
    html = (BODY + '<div class="tags">标签：<a href="/t/1">手机</a> <a href="/t/2">评测</a> <a href="/t/3">影像</a></div>'
            '<div class="nav"><a href="/p/9">« Older post</a> <a href="/p/11">Newer post »</a></div>')
    body = extract(html, "某站", title="一篇文章")
    assert body.paragraphs == [p.split(">")[1].split("<")[0] for p in BODY.split("</p>") if p]
    assert _removed(body) == [("link_line", "标签：手机 评测 影像"), ("link_line", "« Older post Newer post »")]


def test_a_heading_that_repeats_the_title_and_a_bare_timestamp_under_it_go():
    html = "<h1>Launch Day: What We Shipped</h1><p>2023-04-05 09:30</p>" + BODY
    body = extract(html, "Blog", title="Launch Day_ What We Shipped")  # the generator writes `_` for `:`
    assert len(body.paragraphs) == 2
    assert _removed(body) == [("title_echo", "Launch Day: What We Shipped"), ("date_line", "2023-04-05 09:30")]
    # The title with a date in the same line is an echo too; a Chinese date line with its weekday is a date line.
    body = extract("<h2>新品发布会 2023年4月5日</h2><p>2023年4月5日 星期三</p>" + BODY, "站", title="新品发布会")
    assert [family for family, _ in _removed(body)] == ["title_echo", "date_line"]


def test_an_empty_label_a_literal_null_and_media_fallback_text_go():
    html = ("<video src='/v.mp4'><p>Your browser cannot show this clip, sorry.</p></video>" + BODY +
            "<audio src='/a.mp3'>播放器加载失败</audio><p>null</p><p>Tags:</p>")
    body = extract(html, "站", title="t")
    assert len(body.paragraphs) == 2
    assert sorted(_removed(body)) == sorted([("media_fallback", "Your browser cannot show this clip, sorry."),
                                             ("media_fallback", "播放器加载失败"), ("orphan", "null"), ("empty_label", "Tags:")])
    # Without the tag, the well-known sentence is still fallback text at an edge.
    lost_tag = extract(BODY + "<p>Your browser does not support the video tag.</p>", "站")
    assert _removed(lost_tag) == [("media_fallback", "Your browser does not support the video tag.")]


def test_content_shaped_like_boilerplate_stays():
    long_link = "<p><a href='/x'>" + "这是一整段被做成链接的正文，" * 8 + "</a></p>"
    cases = {
        "a long paragraph that is all link": BODY + long_link,
        "a linked heading at the start (a name)": "<h3><a href='/people/1'>Ada Lovelace</a></h3>" + BODY,
        "a row of links in the middle": "<p>开头一段正文，写得足够长，不是边缘行。</p><p>再一段正文，仍然足够长。</p>"
                                        "<p><a href='/a'>甲</a> <a href='/b'>乙</a></p>" + BODY,
        "a date under a signature at the end": BODY + "<p>某某市交通运输局</p><p>2021年10月15日</p>",
        "a first line that only starts like the title": "<p>Launch Day was long and we shipped a lot.</p>" + BODY,
        "a label followed by its value at the end": BODY + "<p>Tags:</p><p>phones, cameras</p>",
    }
    for name, html in cases.items():
        body = extract(html, "站", title="Launch Day")
        assert not [f for f, _ in _removed(body) if f != "orphan"], name


def test_the_screen_never_empties_an_article():
    for html, title in (("<p>Only The Title Here</p>", "Only The Title Here"),
                        ("<p><a href='/1'>下载</a> <a href='/2'>购买</a></p>", "t"),
                        ("<p>2022-08-06</p>", "t")):
        body = extract(html, "站", title=title)
        assert body.paragraphs and not body.fields.boilerplate, html


def test_a_credit_in_a_link_still_goes_to_byline():
    record = parse_article(("---\ntitle: T\nauthor: 站\ndate: 2022-08-06 10:00:00\n---\n"
                            "<p>By <a href='/u/jr'>Jane Roe</a></p>" + BODY).encode(), "站/频道/t.md")
    assert record.byline == "Jane Roe" and "Jane Roe" not in record.text


def test_generic_false_keeps_every_line_and_the_markers_never_leak():
    html = "<h1>T T T T</h1><p>x <a href='/a'>y</a> <a href='/b'>z</a></p><pre>code <a href='/c'>link</a></pre>" + BODY
    for generic in (True, False):
        body = extract(html, "站", generic=generic, title="T T T T")
        assert all(not any("\ue000" <= ch <= "\ue0ff" for ch in p) for p in body.paragraphs)
        assert "code link" in body.paragraphs
    assert len(extract(html, "站", generic=False).paragraphs) == 5


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(lambda t: t.strip())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_text, st.booleans()), min_size=1, max_size=8), st.one_of(st.none(), _text))
def test_removed_lines_are_exactly_what_left_and_long_lines_never_go(parts, title):
    """Whatever the body: what the layer drops is what it records; no line longer than MAX_LINE is dropped."""
    from html import escape

    html = "".join(f"<p><a href='/{i}'>{escape(t)}</a></p>" if linked else f"<p>{escape(t)}</p>"
                   for i, (t, linked) in enumerate(parts))
    before = extract(html, "站", generic=False).paragraphs
    after = extract(html, "站", title=title)
    removed = [line for _, line in after.fields.boilerplate]
    assert Counter(before) - Counter(after.paragraphs) == Counter(removed)
    kept = iter(before)
    assert all(any(p == q for q in kept) for p in after.paragraphs)  # what stays keeps its order
    assert all(len(line) <= MAX_LINE for line in removed)
