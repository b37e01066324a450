"""The generic boilerplate layer: each documented family, in zh/en/ja, goes at the edges and is lifted;
the same words inside the article stay. Examples are invented, not taken from any feed."""

from __future__ import annotations


import pytest

from jobs.parse import boilerplate
from jobs.parse.body import extract
from jobs.parse.lifted import LiftedFields
from paths import REPO

BODY = ["这是文章的第一段正文，讲了一件事情。", "第二段继续讲述细节，内容比较长。", "第三段是结尾，总结全文。"]


def clean(head: list[str], tail: list[str], body: list[str] = BODY) -> tuple[list[str], LiftedFields]:
    fields = LiftedFields()
    return boilerplate.clean(head + body + tail, fields), fields


@pytest.mark.parametrize("line, family", [
    ("本文来自微信公众号：某某研究社（ID：mouresearch），作者：李雷，经授权发布。", "repost"),
    ("本文首发于公众号「深夜读书」，转载请联系作者。", "repost"),
    ("转载自：某某日报", "repost"),
    ("来源｜某某网", "repost"),
    ("本文经授权转载。", "repost"),
    ("原文链接：https://example.org/p/1", "repost"),
    ("Originally published at Example Weekly.", "repost"),
    ("This article first appeared on The Example Review.", "repost"),
    ("Reprinted with permission from Example Press.", "repost"),
    ("この記事はサンプル通信からの転載です。", "repost"),
    ("出典：サンプル新聞", "repost"),
    ("作者 | 韩梅梅 编辑 | 李雷", "credit"),
    ("监制：王某", "credit"),
    ("头图 | 视觉中国", "credit"),
    ("图片来源：某图库", "credit"),
    ("题图来自 Unsplash", "credit"),
    ("（翻译：某某馆）", "credit"),
    ("Photo by Jane Roe on Unsplash", "credit"),
    ("文：山田花子", "credit"),
    ("查看知乎原文", "view_more"),
    ("阅读原文", "view_more"),
    ("繼續閱讀", "view_more"),
    ("Read more", "view_more"),
    ("Continue reading »", "view_more"),
    ("続きを読む", "view_more"),
    ("扫码关注我们，获取更多资讯", "promo"),
    ("关注公众号「某某」，回复“资料”领取", "promo"),
    ("加小编微信：abc123，进读者群", "promo"),
    ("商务合作请联系：bd@example.com", "promo"),
    ("Subscribe to our newsletter for weekly updates.", "promo"),
    ("チャンネル登録お願いします", "promo"),
    ("© 2022 Example Media. All Rights Reserved.", "footer"),
    ("版权所有 © 某某网 未经授权禁止转载", "footer"),
    ("未经许可，禁止转载。", "footer"),
    ("若有任何錯誤或建議，歡迎來信告知。", "footer"),
    ("本文仅代表作者个人观点，不代表本站立场。", "footer"),
    ("無断転載を禁じます", "footer"),
])
def test_each_family_is_dropped_at_the_end(line, family):
    paragraphs, fields = clean([], [line])
    assert paragraphs == BODY
    assert fields.boilerplate == [(family, line)]


@pytest.mark.parametrize("line", [
    "本文来自微信公众号：某某研究社（ID：mouresearch），作者：李雷",
    "作者 | 韩梅梅",
    "By Jane Roe, Example Wire",
    "来源：某某网",
])
def test_credit_and_repost_lines_at_the_start_are_dropped(line):
    paragraphs, fields = clean([line], [])
    assert paragraphs == BODY and fields.boilerplate[0][1] == line


def test_what_is_worth_keeping_is_lifted():
    _, fields = clean(["本文来自微信公众号：某某研究社（ID：mouresearch），作者：李雷，经授权发布。"], ["原文链接：https://example.org/p/1"])
    assert (fields.republished_from, fields.byline, fields.original_url) == ("某某研究社", "李雷", "https://example.org/p/1")
    _, fields = clean(["By Jane Roe, Example Wire"], ["Originally published at Example Weekly: https://example.org/x"])
    assert (fields.byline, fields.republished_from, fields.original_url) == ("Jane Roe", "Example Weekly", "https://example.org/x")
    _, fields = clean(["作者 | 韩梅梅 编辑 | 李雷"], [])
    assert fields.byline == "韩梅梅"


def test_a_bare_url_after_a_notice_is_part_of_it():
    paragraphs, fields = clean([], ["原文链接：", "https://example.org/p/2"])
    assert paragraphs == BODY and fields.original_url == "https://example.org/p/2"


def test_a_stack_of_footer_lines_is_peeled_whole():
    tail = ["作者 | 韩梅梅", "编辑 | 李雷", "扫码关注我们", "阅读原文", "版权所有，未经授权禁止转载。"]
    paragraphs, fields = clean([], tail)
    assert paragraphs == BODY and [line for _, line in fields.boilerplate] == tail


@pytest.mark.parametrize("line", [
    "作者 | 韩梅梅", "来源：某某网", "扫码关注我们，获取更多资讯", "阅读原文", "未经许可，禁止转载。", "本文经授权转载。",
])
def test_the_same_words_mid_article_are_content(line):
    body = [f"第{i}段正文，叙述事情的经过。" for i in range(12)]
    mixed = body[:6] + [line] + body[6:]
    assert boilerplate.clean(list(mixed), LiftedFields()) == mixed


@pytest.mark.parametrize("line", [
    "用户扫码即可查看列车的相关信息，也可以直接在小程序中打开。",  # 扫码 as news content, not a promo
    "来自斯坦福大学的研究团队发现，睡眠不足会影响记忆。",  # 来自 opening a sentence, not a repost notice
    "By 2030, the market is expected to double.",
    "Read more books, the author argues, and you will write better.",
    "版权纠纷案昨日开庭，双方均未到场。",
])
def test_lookalike_sentences_at_the_edges_stay(line):
    paragraphs, fields = clean([line], [line])
    assert paragraphs == [line] + BODY + [line] and not fields.boilerplate


def test_lone_labels_and_symbols_left_by_dropped_embeds_go_anywhere():
    body = [f"第{i}段正文，叙述事情的经过。" for i in range(10)]
    paragraphs, fields = clean([], [], body[:5] + ["报道视频：", "+", "Video:"] + body[5:])
    assert paragraphs == body and [f for f, _ in fields.boilerplate] == ["orphan"] * 3


def test_a_long_paragraph_is_never_boilerplate():
    line = "作者：" + "很长的正文内容" * 40
    assert boilerplate.match(line, boilerplate.TAIL) is None


def test_extract_runs_the_layer_after_the_source_rule_and_drops_promo_images():
    html = ("<div><p>作者 | 韩梅梅</p><p>正文第一段。</p><p>正文第二段。</p><p>扫码关注我们</p>"
            "<p><img src='https://img.example.org/qr.png'></p><p><img src='https://img.example.org/pic.png'></p>"
            "<img src='https://t.example.org/pixel.gif?id=1' width='1' height='1'></div>")
    body = extract(html, "某新源")
    assert body.paragraphs == ["正文第一段。", "正文第二段。"]
    assert body.image_urls == ["https://img.example.org/pic.png"]
    assert body.fields.byline == "韩梅梅"


def test_every_family_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Generic boilerplate")[1].split("\n## ")[0]
    for family in boilerplate.FAMILIES:
        assert f"`{family}`" in section, family
    structural = set(boilerplate.STRUCTURAL)  # shapes (structure.py), not table lines
    assert {pattern.family for pattern in boilerplate.PATTERNS} | structural == set(boilerplate.FAMILIES)
