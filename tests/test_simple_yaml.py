"""The front-matter fast path gives exactly what PyYAML's BaseLoader gives, or steps aside."""

from __future__ import annotations

import yaml
from hypothesis import given, settings, strategies as st

from jobs.parse.simple_yaml import load_simple

try:
    from yaml import CBaseLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import BaseLoader as Loader

HEXO = """title: '12306 上新，铁路畅行码正全面推广中'
categories: 
 - 新媒体
 - IT 之家
 - 分类资讯
headimg: 'https://img.ithome.com/a.png'
author: IT 之家
comments: false
date: Wed, 27 Jul 2022 07:31:24 GMT
thumbnail: 'https://img.ithome.com/a.png'
"""


def test_reads_the_generator_shape_like_yaml():
    assert load_simple(HEXO) == yaml.load(HEXO, Loader=Loader)


def test_steps_aside_for_anything_else():
    for text in ("a: [1, 2]", "a: &x 1\nb: *x", "a: !!python/object x", "a: 'it''s' # c", 'a: "tab\\t"',
                 "a:\n  b: c", "a: x\n  continued", "a: 1\na: 2", "- x", "a: b: c", "a: #x"):
        assert load_simple(text) is None, text


def test_quoting_rules():
    assert load_simple("a: 'it''s'\nb: \"x'y\"\nc: ' '") == {"a": "it's", "b": "x'y", "c": " "}
    assert load_simple("t: no\nu: 10:00\nv: 2020\nw: 2021-08-07 02:22:05") == \
        {"t": "no", "u": "10:00", "v": "2020", "w": "2021-08-07 02:22:05"}
    assert load_simple("empty:\nnext: x") == {"empty": "", "next": "x"}


_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1, max_size=30)


@st.composite
def _documents(draw) -> str:
    lines = []
    for key in draw(st.lists(_keys, min_size=1, max_size=6, unique=True)):
        style = draw(st.sampled_from(["plain", "single", "double", "list"]))
        value = draw(_text)
        if style == "plain":
            lines.append(f"{key}: {value}")
        elif style == "single":
            lines.append(f"{key}: '{value.replace(chr(39), chr(39) * 2)}'")
        elif style == "double":
            lines.append(f'{key}: "{value}"')
        else:
            items = draw(st.lists(_text, min_size=1, max_size=3))
            lines.append(f"{key}: ")
            lines += [f" - {item}" for item in items]
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None)
@given(_documents())
def test_fast_path_agrees_with_libyaml_whenever_it_answers(document: str):
    fast = load_simple(document)
    if fast is None:
        return
    try:
        expected = yaml.load(document, Loader=Loader)
    except yaml.YAMLError:
        raise AssertionError(f"fast path accepted what YAML rejects: {document!r}")
    assert fast == expected, document


def test_fast_path_answers_feed_like_documents_and_agrees():
    """Guards the property test against vacuity: on feed-like text the fast path must answer."""
    import random
    rng = random.Random(7)
    alphabet = "abcXYZ019 ,.-_:/?=&%'\"()（）：，。新浪财经之家｜·！@#"
    answered = 0
    for _ in range(300):
        title = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 25)))
        doc = (f"title: '{title.replace(chr(39), chr(39) * 2)}'\ncategories: \n - 金融\n - {title.strip() or 'x'}\n"
               f"author: 新浪财经\ndate: Thu, 19 Aug 2021 23:56:09 GMT\n")
        fast = load_simple(doc)
        if fast is not None:
            answered += 1
            assert fast == yaml.load(doc, Loader=Loader), doc
    assert answered >= 150
