"""The pre-scan before lexbor (jobs/parse/screen.py): hostile shapes are refused, real bodies pass far under budget."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.errors import Rejected
from jobs.parse.decode import decode, normalise_newlines
from jobs.parse.front_matter import split_front_matter
from jobs.parse.record import parse_article
from jobs.parse.screen import MAX_DEPTH, MAX_TABLE_ROWS, nesting_depth, screen, table_rows
from paths import FIXTURES, MORE_CORPUS, REAL_CORPUS, REPO

FRONT = "---\ntitle: hostile\ndate: 2024-01-02 10:00:00\nauthor: 测试源\n---\n"


def _reason(body: str) -> str:
    with pytest.raises(Rejected) as rejected:
        parse_article((FRONT + body).encode(), "a/b/c.md")
    return rejected.value.reason


def test_a_60000_row_table_is_too_complex_before_lexbor_sees_it():
    assert _reason("<table>" + "<tr><td>1</td></tr>" * 60_000 + "</table>") == "too_complex"


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "unclosed"])
def test_200k_nested_divs_are_too_complex(closed: bool):
    assert _reason("<div>" * 200_000 + "x" + ("</div>" * 200_000 if closed else "")) == "too_complex"


def test_just_under_the_budgets_is_an_article():
    body = "<table>" + "<TR><td>1</td>" * MAX_TABLE_ROWS + "</table>" + "<div>" * MAX_DEPTH + "x" + "</div>" * MAX_DEPTH
    assert parse_article((FRONT + body).encode(), "a/b/c.md").char_count > 0


def test_one_over_each_budget_is_refused():
    with pytest.raises(Rejected, match="table rows"):
        screen("<tr>" * (MAX_TABLE_ROWS + 1))
    with pytest.raises(Rejected, match="nested"):
        screen("<span>" * (MAX_DEPTH + 1))


def test_paragraphs_list_items_and_void_tags_do_not_count_as_nesting():
    assert nesting_depth("<p>a" * 10_000 + "<li>b<br><img src=x>" * 10_000) == 0
    screen("<p>a<br>" * 10_000)  # a long page of unclosed paragraphs is not deep


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.just(""), lambda inner: st.lists(inner, max_size=3).map(
    lambda children: "<div>" + "".join(children) + "</div>"), max_leaves=40))
def test_nesting_depth_of_well_formed_html_is_its_depth(html: str):
    depth = deepest = 0
    for index in range(0, len(html)):
        if html.startswith("<div>", index):
            depth += 1
            deepest = max(deepest, depth)
        elif html.startswith("</div>", index):
            depth -= 1
    assert nesting_depth(html) == deepest


def _bodies() -> list[Path]:
    roots = [REAL_CORPUS, MORE_CORPUS, REPO / "data" / "raw", FIXTURES]
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*.md"))


def test_every_real_body_is_far_under_the_budgets():
    """A tenth of each budget: the screen must never reject a real article (corpus, data/raw, fixtures)."""
    checked = 0
    for path in _bodies():
        try:
            text, _ = decode(path.read_bytes())
            _, body = split_front_matter(normalise_newlines(text))
        except Rejected:
            continue
        assert table_rows(body) <= MAX_TABLE_ROWS / 10, path.name
        assert nesting_depth(body) <= MAX_DEPTH / 10, path.name
        checked += 1
    assert checked >= 40  # data/raw and the fixtures at least; the reference corpus when present
