"""A source template never empties an article: a body that is only template lines keeps them."""

from __future__ import annotations

from jobs.parse.templates import paragraph_key, reinsert, strip_template


def test_an_article_of_template_lines_only_keeps_them():
    keys = {paragraph_key("关注我们"), paragraph_key("正文。")}
    assert strip_template(["正文。"], keys) == (["正文。"], [])
    assert strip_template(["关注我们", "正文。"], keys) == (["关注我们", "正文。"], [])


def test_the_edges_go_when_something_else_stays_and_come_back_exactly():
    keys = {paragraph_key("关注我们")}
    paragraphs = ["关注我们", "真正的内容在这里。", "关注我们"]
    kept, removed = strip_template(paragraphs, keys)
    assert kept == ["真正的内容在这里。"] and removed == [(0, "关注我们"), (2, "关注我们")]
    assert reinsert(kept, removed) == paragraphs
