"""Golden records: every fixture in tests/fixtures/raw/ parses to tests/fixtures/expected/<name>.json.

When one of these fails because extraction improved on purpose: bump PARSER_VERSION in
jobs/__init__.py, run `python tools/regen_golden.py`, and read the diff of the goldens.
"""

from __future__ import annotations

import json
import re

import pytest

from paths import FIXTURES_EXPECTED, FIXTURES_RAW

RAW = FIXTURES_RAW
EXPECTED = FIXTURES_EXPECTED
NAMES = sorted(path.stem for path in RAW.glob("*.md"))


def test_every_fixture_has_a_golden_and_every_golden_a_fixture():
    goldens = sorted(path.stem for path in EXPECTED.glob("*.json") if not path.name.startswith("_"))
    assert goldens == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_fixture_matches_golden(name, golden_tool):
    expected = json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))
    actual = golden_tool.expected_record(name)
    for column in expected:
        assert actual[column] == expected[column], f"{name}: column {column!r} differs from the golden"
    assert actual == expected


def _golden(name: str) -> dict:
    return json.loads((EXPECTED / f"{name}.json").read_text(encoding="utf-8"))


# What the goldens must say, independently of what the code outputs: a regenerated golden
# that loses one of these is wrong, whatever PARSER_VERSION says.

MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|&#?\w+;")
CSS = re.compile(r"[\w.#>\-\s]+\{[^{}]*[\w-]+\s*:\s*[^;{}]+;")


@pytest.mark.parametrize("name", NAMES)
def test_golden_paragraphs_are_clean(name):
    record = _golden(name)
    assert record["text"] == "\n".join(record["paragraphs"])
    assert record["char_count"] == len(record["text"])
    assert record["paragraph_count"] == len(record["paragraphs"])
    assert record["image_count"] == len(record["image_urls"])
    for paragraph in record["paragraphs"]:
        assert paragraph and paragraph == paragraph.strip()
        assert not CSS.search(paragraph), paragraph
        assert "\u2029" not in paragraph and "\ue000" not in paragraph and "\ue001" not in paragraph
        if name not in ("juejin", "unseen_source"):  # code with generics; an escaped <第三空间> in the text
            assert not MARKUP.search(paragraph), paragraph
    for url in record["image_urls"] + record["link_urls"] + [record["headimg"] or "", record["thumbnail"] or ""]:
        assert "cors.zfour.workers.dev" not in url and "picsum.photos" not in url


def test_sina_lifts_original_title_byline_editor_keywords_and_drops_promo():
    record = _golden("sina")
    assert record["original_title"] == "白酒板块半年报陆续披露 高端产品动销平稳"
    assert record["byline"] == "（深圳商报驻京记者 林海涛）"
    assert record["editor"] == "孙悦 SF021"
    assert record["keywords"] == ["sh600519"]
    for fragment in ("原标题", "责任编辑", "海量资讯", "appendQr", "深圳商报", "news_keyword_pub"):
        assert fragment not in record["text"]
    assert record["paragraphs"][0].startswith("8月以来")


def test_ithome_lifts_contributors_and_drops_the_credit():
    record = _golden("ithome")
    assert record["contributors"] == ["南山有竹", "夜航船"]
    assert "线索投递" not in record["text"] and "感谢" not in record["text"]
    assert not any("userpage" in url or "open.html" in url for url in record["link_urls"])


def test_zaker_keeps_bare_text_nodes_and_uses_data_original():
    record = _golden("zaker")
    assert record["paragraphs"][0] == "夏天走进公园，你是否感觉一下子凉快了不少？"
    assert record["image_urls"] == [
        "http://zkres1.myzaker.com/202208/62eb5c0e8e9f0921d36a7b10_1024.jpg",
        "http://zkres2.myzaker.com/202208/62eb5c0e8e9f0921d36a7b11_1024.jpg",
    ]


def test_redirect_and_tracking_links_are_unwrapped():
    assert _golden("oschina")["link_urls"] == ["https://github.com/tidewave/tidewave/releases/tag/v1.2.0"]
    cnbeta = _golden("cnbeta")["link_urls"]
    assert "https://www.example-shop.com/" in cnbeta
    assert not any("track.php" in url for url in cnbeta)


def test_juejin_has_no_css_keeps_code_verbatim_and_one_paragraph_per_table_row():
    paragraphs = _golden("juejin")["paragraphs"]
    assert not any("markdown-body" in p or "font-size" in p for p in paragraphs)
    assert "type DeepPartial<T> = {\n  [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K]\n}" in paragraphs
    assert paragraphs[paragraphs.index("对比") + 1:][:3] == ["类型 是否递归", "Partial<T> 否", "DeepPartial<T> 是"]


def test_unseen_source_gets_clean_paragraphs_with_table_rows():
    paragraphs = _golden("unseen_source")["paragraphs"]
    assert "门店 夜间客流（人次）" in paragraphs and "A 店 320" in paragraphs and "B 店 275" in paragraphs
    assert paragraphs[-1] == "（本文数据来自门店自述，仅供参考）"
    assert not any("wzStat" in p or "正文开始" in p for p in paragraphs)


def test_hard_wrapped_lines_are_joined_without_a_space_between_cjk():
    dmgame = _golden("dmgame")["paragraphs"]
    assert dmgame[1].endswith("开发商表示PC版存档可以与主机版互通。")
    assert "PlayStation 5平台" in dmgame[0]
    assert _golden("cnbeta")["paragraphs"][0].endswith("正在加快普及。")


def test_plain_text_body_splits_on_blank_lines():
    paragraphs = _golden("hexo_plain_text")["paragraphs"]
    assert len(paragraphs) == 3
    assert paragraphs[1].endswith("启动一次子进程。") and "Node 18" in paragraphs[2]


def test_proxies_unwrapped_and_placeholders_null():
    bangumi = _golden("bangumi")
    assert bangumi["headimg"] == bangumi["thumbnail"] == "http://lain.bgm.tv/pic/cover/l/6a/b3/405517_Tz9cA.jpg"
    for name in ("juejin", "kr36", "oschina", "hexo_plain_text"):
        assert _golden(name)["headimg"] is None and _golden(name)["thumbnail"] is None


def test_images_only_bodies_have_empty_text_and_keep_images():
    for name, images in (("acfun_images_only", 1), ("webtoons_post", 3)):  # Webtoons: 4 <img>, one a guide placeholder
        record = _golden(name)
        assert record["text"] == "" and record["paragraphs"] == []
        assert record["image_count"] == images


def test_placeholder_images_are_dropped_everywhere():
    record = _golden("webtoons_post")
    for url in record["image_urls"] + [record["headimg"] or "", record["thumbnail"] or ""]:
        assert "img-ctguide-white.png" not in url and not url.endswith(("/undefined", "/null"))
    assert record["thumbnail"] is None  # the feed used the placeholder as thumbnail


def test_webtoons_post_layout_source_comes_from_the_markdown_author():
    record = _golden("webtoons_post")
    assert record["source"] == "Webtoons - Naver"
    assert record["channel"] is None


def test_promo_and_credit_lines_are_dropped():
    assert not any("FTC" in p for p in _golden("nineto5")["paragraphs"])
    assert "https://9to5mac.com/about/#affiliate" not in _golden("nineto5")["link_urls"]
    woshipm = _golden("woshipm_svg")["text"]
    for fragment in ("打赏", "赞赏", "本文由", "禁止转载", "M9.1"):
        assert fragment not in woshipm
