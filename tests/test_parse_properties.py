"""Property tests: no input makes parsing crash, and the extractor's guarantees hold for any HTML."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.parse.body import extract
from jobs.errors import Rejected
from schemas.hive import encode_value
from jobs.parse.record import parse_article
from schemas.article import REJECT_REASONS

PROPERTY_SETTINGS = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

# --- raw files: arbitrary bytes, and bytes that get past the first checks -----------------------

_FRONT_MATTER_LINES = st.sampled_from([
    "title: 标题", "title: no", "title: '&#123;x&#125;'", "title: [a, b]", "title: {a: 1}", "title:",
    "author: 新浪财经", "author: IT 之家", "author: ZAKER", "author: 'Webtoons - [Naver](https://comic.naver.com)'",
    "author: ../..", "author: ''", "categories: [新媒体, cnBeta, 最新]", "categories:\n - 金融\n - 新浪财经",
    "date: Sat, 06 Aug 2022 07:45:00 GMT", "date: 2021-08-07 02:22:05", "date: 2021-08-07", "date: 2020",
    "date: 2022-08-06T07:45:00Z", "date: 9999-12-31T23:59:59-05:00", "date: [1, 2]", "date:", "date: 上周五",
    "headimg: 'https://cors.zfour.workers.dev/?http://x.example/a.jpg'", "thumbnail: https://picsum.photos/1",
    "x: &a [1, 2]", "y: *a", "z: !!python/object/apply:os.system ['true']", "bad: [", "bad: 'x", "- list item",
    "key: 'it''s'", "tab:\tvalue", "deep: [[[[[[[[]]]]]]]]",
])
_BODY_PIECES = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<br>", "<pre>", "</pre>", "<table><tr><td>", "</td><td>", "</table>",
    "<script>x='<p>s</p>'</script>", "<style>p{color:red}</style>", "<!-- c -->", "<img src='https://a.example/i.png'>",
    "<a href='https://www.oschina.net/action/GoToLink?url=https%3A%2F%2Fe.example'>l</a>", "&amp;", "&#123;", "&nbsp;",
    "中文", "text", "\n", "\n\n", " ", "\u3000", "\ue000", "\ue0010", "\u2029", "<p>　　原标题：x</p>",
    "<p class=\"article-editor\">责任编辑：某某</p>", "<div class=\"tougao-user\">感谢IT之家网友 <a>甲</a> 的线索投递！</div>",
    "<!-- news_keyword_pub,stock,a,b -->",
])


@st.composite
def raw_files(draw) -> bytes:
    lines = draw(st.lists(_FRONT_MATTER_LINES, max_size=8))
    body = "".join(draw(st.lists(st.one_of(_BODY_PIECES, st.text(max_size=20)), max_size=25)))
    opening = draw(st.sampled_from(["---", "+++", "", "\n---", "---  "]))
    closing = draw(st.sampled_from(["---", "+++", ""]))
    text = f"{opening}\n" + "\n".join(lines) + f"\n{closing}\n{body}"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # corrupt a few bytes
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:position] + draw(st.binary(max_size=4)) + data[position + 1:]
    return data


def _parses_or_rejects(data: bytes) -> None:
    try:
        record = parse_article(data, "source/_posts/分类/来源/频道/文章.md")
    except Rejected as rejected:
        assert rejected.reason in REJECT_REASONS, rejected.reason
        return
    assert record.source
    assert all(p and p == p.strip() for p in record.paragraphs)
    assert record.text == "\n".join(record.paragraphs)


@PROPERTY_SETTINGS
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_parse_or_reject_with_a_known_reason(data):
    _parses_or_rejects(data)


@PROPERTY_SETTINGS
@given(raw_files())
def test_article_shaped_bytes_parse_or_reject_with_a_known_reason(data):
    _parses_or_rejects(data)


# --- the body extractor ----------------------------------------------------------------------

_TAGS = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<span>", "</span>", "<b>", "</b>", "<br>", "<br/>", "<hr>",
    "<ul>", "<li>", "</li>", "</ul>", "<table>", "<tr>", "<td>", "<th>", "</td>", "</tr>", "</table>",
    "<pre>", "</pre>", "<code>", "</code>", "<h2>", "</h2>", "<blockquote>", "</blockquote>",
    "<img src='https://cors.zfour.workers.dev/?http://x.example/a.jpg'>", "<a href='https://e.example/'>", "</a>",
    "<script>document.write('<p>x</p>')</script>", "<script>", "</script>", "<style>p{color:red}</style>",
    "<style>", "</style>", "<!--", "-->", "<!-- <script>x</script> -->", "<svg><script>s</script><text>t</text></svg>",
    "<noscript><script>n</script></noscript>", "<textarea><script>t</script></textarea>", "<title><script>t</script></title>",
    "<iframe><script>i</script></iframe>", "<template><script>t</script></template>", "<select><option>o</select>",
    "&amp;", "&nbsp;", "&#123;", "&#x4e2d;", "&#0;", "&bogus;", "&", "<", ">", "\n", "\n\n", "\t", "\u3000", "\u2029",
    "\ue000", "\ue0011", "\u00ad", "\u200b",
])
_HTMLISH = st.lists(st.one_of(_TAGS, st.text(max_size=15)), max_size=40).map("".join)


@PROPERTY_SETTINGS
@given(_HTMLISH, st.sampled_from(["", "新浪财经", "IT 之家", "ZAKER", "9To5", "人人都是产品经理"]))
def test_extracted_paragraphs_are_clean(html, source):
    body = extract(html, source)
    for paragraph in body.paragraphs:
        assert paragraph, "empty paragraph"
        assert paragraph == paragraph.strip(), repr(paragraph)
        assert "\u2029" not in paragraph and "\ue000" not in paragraph and "\ue001" not in paragraph, repr(paragraph)
        assert "<script" not in paragraph.lower(), repr(paragraph)
    for url in body.image_urls + body.link_urls:
        assert "cors.zfour.workers.dev" not in url


@PROPERTY_SETTINGS
@given(st.text(max_size=300))
def test_extract_never_fails_on_any_text(html):
    body = extract(html)
    assert all(p and p == p.strip() for p in body.paragraphs)


# --- partition values ------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(st.text())
def test_partition_values_never_contain_a_slash_and_round_trip(value):
    encoded = encode_value(value)
    assert "/" not in encoded
    assert unquote(encoded) == value
