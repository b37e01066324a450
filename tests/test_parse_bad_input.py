"""Hostile and unusual raw files, one case per test, at the parse_article level.

Each file either becomes a correct record or is rejected with the named reason
(jobs.errors.Rejected.reason, one of schemas.article.REJECT_REASONS).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import tracemalloc
from urllib.parse import unquote

import pytest
import yaml

from jobs.parse import front_matter
from jobs.errors import Rejected
from jobs.lake.paths import month_of, partition_dir
from schemas.hive import encode_value
from jobs.parse.record import ArticleRecord, parse_article
from schemas.article import REJECT_REASONS

RAW_PATH = "source/_posts/新媒体/测试源/频道/文章.md"
UTC = dt.timezone.utc
ASCII_FRONT_MATTER = "title: t\nauthor: src\ndate: 2022-08-06\n"


def article(front_matter: str = "title: 标题\nauthor: 测试源\ndate: Sat, 06 Aug 2022 07:45:00 GMT\n",
            body: str = "<div>\n<p>第一段。</p><p>第二段。</p>\n</div>") -> str:
    return f"\n---\n{front_matter}---\n\n{body}"


def parse(data: bytes | str, raw_path: str = RAW_PATH) -> ArticleRecord:
    return parse_article(data.encode("utf-8") if isinstance(data, str) else data, raw_path)


def rejected(data: bytes | str, raw_path: str = RAW_PATH) -> Rejected:
    with pytest.raises(Rejected) as caught:
        parse(data, raw_path)
    assert caught.value.reason in REJECT_REASONS
    return caught.value


# --- bytes and encodings -------------------------------------------------------------------

def test_empty_file():
    assert rejected(b"").reason == "empty_file"


def test_whitespace_only():
    assert rejected(b" \n\t\r\n   \n").reason == "empty_file"


def test_binary_garbage():
    garbage = bytes(range(256)) * 8 + b"\x00\x01\x02PK\x03\x04" * 50
    assert rejected(garbage).reason == "binary"


def test_invalid_utf8_is_a_decode_error_not_mojibake():
    latin1 = article(front_matter=ASCII_FRONT_MATTER, body="<p>Le résumé du café était très intéressant, même pour les élèves.</p>").encode("latin-1")
    assert rejected(latin1).reason == "decode_error"


@pytest.mark.parametrize("encoding, body", [
    ("shift_jis", "日本語のテキストです。これは長い文章で、いろいろな文字が含まれています。東京都の天気は晴れです。"),
    ("euc-kr", "한국어 텍스트입니다. 이것은 긴 문장이며 다양한 문자가 포함되어 있습니다. 서울의 날씨는 맑습니다."),
])
def test_another_cjk_encoding_misread_as_gb18030_is_a_decode_error(encoding, body):
    # These bytes decode "successfully" as GB18030, into rare Han characters (mojibake).
    data = article(front_matter=ASCII_FRONT_MATTER, body=f"<p>{body}</p>").encode(encoding)
    assert rejected(data).reason == "decode_error"


def test_gb18030_chinese_file_is_parsed():
    text = article(body="<p>据市场监管部门消息，七月全国新设个体工商户同比增长，其中餐饮、零售和居民服务类占比超过六成。</p>")
    record = parse(text.encode("gb18030"))
    assert record.encoding == "gb18030"
    assert record.title == "标题" and record.source == "测试源"
    assert record.paragraphs == ["据市场监管部门消息，七月全国新设个体工商户同比增长，其中餐饮、零售和居民服务类占比超过六成。"]


def test_utf8_bom_is_parsed_with_its_front_matter():
    record = parse(b"\xef\xbb\xbf" + article().encode("utf-8"))
    assert record.encoding == "utf-8-sig"
    assert record.title == "标题"
    assert record.paragraphs == ["第一段。", "第二段。"]  # the front matter did not leak into the body


def test_crlf_line_endings_parse_like_lf():
    lf = parse(article(body="<div>\n<p>第一段\n续行。</p>\n</div>"))
    crlf = parse(article(body="<div>\n<p>第一段\n续行。</p>\n</div>").replace("\n", "\r\n"))
    assert crlf.paragraphs == ["第一段续行。"]
    assert dataclasses.replace(crlf, raw_sha256="") == dataclasses.replace(lf, raw_sha256="")


def test_leading_blank_lines_before_the_front_matter():
    record = parse("\n\n  \n\t\n" + article())
    assert record.title == "标题"


# --- front matter ----------------------------------------------------------------------------

def test_no_front_matter():
    assert rejected("<div><p>只有正文，没有元数据。</p></div>").reason == "no_front_matter"


def test_toml_front_matter_is_parsed():
    text = "+++\ntitle = \"TOML &#123;标题&#125;\"\nauthor = \"测试源\"\ncategories = [\"新媒体\", \"测试源\", \"频道\"]\n" \
           "date = 2022-08-06T15:45:00+08:00\n+++\n<p>正文。</p>"
    record = parse(text)
    assert record.title == "TOML {标题}"
    assert record.published_at == dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC)
    assert record.channel == "频道"
    assert record.paragraphs == ["正文。"]


def test_malformed_yaml():
    assert rejected(article(front_matter="title: [没有闭合\nauthor: 测试源\ndate: 2022-08-06\n")).reason == "bad_front_matter"


def test_billion_laughs_aliases_are_rejected_fast_with_bounded_memory():
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    bomb += "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    text = article(front_matter="title: t\nauthor: 测试源\ndate: 2022-08-06\n" + bomb)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        reason = rejected(text).reason
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert reason == "bad_front_matter"
    assert elapsed < 2.0
    assert peak < 20 * 1024 * 1024  # 9**10 expanded strings would need gigabytes


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system",
    "!<tag:yaml.org,2002:python/object/apply:os.system>",
])
def test_python_tag_is_rejected_and_never_executed(tmp_path, tag):
    proof = tmp_path / "executed"
    text = article(front_matter=f"title: t\nauthor: 测试源\ndate: 2022-08-06\nx: {tag} ['touch {proof}']\n")
    assert rejected(text).reason == "bad_front_matter"
    assert not proof.exists()
    # Even past the tag check, the loader in use constructs no Python objects.
    try:
        yaml.load(f"x: {tag} ['touch {proof}']", Loader=front_matter._StringLoader)
    except yaml.YAMLError:
        pass
    assert not proof.exists()


def test_yaml_implicit_typing_keeps_strings():
    record = parse(article(front_matter="title: no\nauthor: yes\ndate: 2021-08-07\n"
                                        "time: 10:00\nyear: 2020\nday: 2021-08-07\nflag: on\nnothing: ~\n"))
    assert record.title == "no"
    assert record.source == record.author == "yes"
    assert json.loads(record.extra) == {"time": "10:00", "year": "2020", "day": "2021-08-07", "flag": "on", "nothing": "~"}


@pytest.mark.parametrize("date_line", ["", "date:\n", "date: ''\n", "date: Invalid Date\n", "date: 'Invalid Date'\n", "date: undefined\n"])
def test_a_missing_or_invalid_date_keeps_the_article_undated(date_line):
    record = parse(article(front_matter=f"title: t\nauthor: 测试源\n{date_line}"))
    assert record.published_at is None and record.date is None
    assert record.paragraphs == ["第一段。", "第二段。"]
    assert partition_dir(record.source, month_of(record.date)) == f"source={encode_value('测试源')}/month=__HIVE_DEFAULT_PARTITION__"


def test_undated_articles_with_one_title_but_different_text_get_different_ids():
    first = parse(article(front_matter="title: t\nauthor: 测试源\ndate: Invalid Date\n", body="<p>甲。</p>"))
    second = parse(article(front_matter="title: t\nauthor: 测试源\ndate: Invalid Date\n", body="<p>乙。</p>"))
    assert first.article_id != second.article_id
    assert first.article_id == parse(article(front_matter="title: t\nauthor: 测试源\n", body="<p>甲。</p>")).article_id


def test_a_source_named_like_the_hive_null_partition_is_refused():
    assert rejected(article(front_matter="title: t\nauthor: __HIVE_DEFAULT_PARTITION__\ndate: 2022-08-06\n")).reason == "bad_source"


def test_front_matter_yaml_refuses_but_lines_can_be_read_gives_a_recovered_row():
    # An unquoted title broken over blank lines: the continuation is a plain scalar without a key.
    front = "title: 话题\n\n正文的第一句，被当成标题的一部分。\n此外，还有: 冒号\ncategories:\n - 新媒体\n - 测试源\nauthor: 测试源\ndate: Invalid Date\n"
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(front)
    record = parse(article(front_matter=front))
    assert record.title == "话题 正文的第一句，被当成标题的一部分。 此外，还有: 冒号"
    assert record.categories == ["新媒体", "测试源"] and record.source == "测试源"
    assert "read line by line" in json.loads(record.extra)["_front_matter_recovered"]


@pytest.mark.parametrize("front", ["title: [没有闭合\nauthor: 测试源\ndate: 2022-08-06\n",
                                   "title: a\ntitle: b\nauthor: 测试源\n: x\n",
                                   "just some words\nand more: [\n"])
def test_front_matter_that_cannot_be_read_line_by_line_is_still_rejected(front):
    assert rejected(article(front_matter=front)).reason == "bad_front_matter"


def test_unparseable_date():
    assert rejected(article(front_matter="title: t\nauthor: 测试源\ndate: 上周五下午\n")).reason == "bad_date"


def test_html_entities_in_front_matter_are_decoded():
    record = parse(article(front_matter="title: '函数 &#123;x&#125; &amp; &lt;T&gt;'\nauthor: 测试源\ndate: 2022-08-06\n"))
    assert record.title == "函数 {x} & <T>"


# --- HTML body -----------------------------------------------------------------------------

def test_html_nested_deep_parses_up_to_the_budget_and_is_too_complex_beyond():
    body = "<div>" * 1_900 + "深处的文字" + "</div>" * 1_900
    record = parse(article(body=body))
    assert record.paragraphs == ["深处的文字"]
    with pytest.raises(Rejected) as rejected:  # lexbor's time grows quadratically with depth
        parse(article(body="<div>" * 20_000 + "深处的文字" + "</div>" * 20_000))
    assert rejected.value.reason == "too_complex"


def test_script_style_comments_br_and_bare_text_between_blocks():
    body = ("开头的裸文本<script>var x = '<p>脚本</p>';</script>"
            "<style>p &#123; color: red &#125;</style><!-- 注释 <p>不是正文</p> -->"
            "<p>第一段<br>第二行</p>段落之间的裸文本<div>块</div>结尾")
    record = parse(article(body=body))
    assert record.paragraphs == ["开头的裸文本", "第一段", "第二行", "段落之间的裸文本", "块", "结尾"]


# --- source names and partitions -----------------------------------------------------------

@pytest.mark.parametrize("name", ["a/b", "..", "../..", "100%", "50%2F", "第一行\n第二行", "a\\b", "x=y", " 前后空格 "])
def test_source_names_make_safe_partition_values(name):
    encoded = encode_value(name)
    assert "/" not in encoded and "\n" not in encoded
    assert unquote(encoded) == name
    assert partition_dir(name, month_of(dt.date(2022, 8, 6))).count("/") == 1


def test_author_with_slash_and_dots_stays_the_source_name():
    record = parse(article(front_matter="title: t\nauthor: ../a/b%\ndate: 2022-08-06\n"))
    assert record.source == "../a/b%"
    assert partition_dir(record.source, month_of(record.date)) == "source=..%2Fa%2Fb%25/month=2022-08"


def test_post_layout_without_author_or_categories_has_no_source():
    text = article(front_matter="title: t\ndate: 2022-08-06\n")
    assert rejected(text, raw_path="post/二次元/1화.md").reason == "bad_source"
    assert parse(text, raw_path="source/_posts/二次元/AcFun/番剧/x.md").source == "AcFun"


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("Sat, 06 Aug 2022 07:45:00 GMT", dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC)),  # RFC 822
    ("Sat, 06 Aug 2022 15:45:00 +0800", dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC)),
    ("06 Aug 2022 07:45:00 GMT", dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC)),  # no weekday
    ("2022-08-06T15:45:00+08:00", dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC)),  # ISO 8601 with offset
    ("2022-08-06T07:45:00Z", dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC)),  # ISO 8601 with Z
    ("2021-08-07 02:22:05", dt.datetime(2021, 8, 7, 2, 22, 5, tzinfo=UTC)),  # naive crawl time: UTC
    ("2021-08-07", dt.datetime(2021, 8, 7, tzinfo=UTC)),  # bare date
])
def test_date_formats(value, expected):
    record = parse(article(front_matter=f"title: t\nauthor: 测试源\ndate: {value}\n"))
    assert record.published_at == expected
    assert record.published_at.utcoffset() == dt.timedelta(0)
    assert record.date == expected.date()


def test_offset_moves_the_partition_date_to_utc():
    record = parse(article(front_matter="title: t\nauthor: 测试源\ndate: 2022-08-07T06:00:00+08:00\n"))
    assert record.date == dt.date(2022, 8, 6)
