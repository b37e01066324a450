"""The hand-labelled boilerplate evaluation (bench/boilerplate_eval.py, bench/labels/).

Over ../shared/corpus/more (skipped without it): the labels cover every article's edge units, by hash, and
hold no corpus text; the current code removes at least the labelled boilerplate and keeps at least the
labelled content the floor records, per source and overall. The unit splitter and the matcher are checked
on invented HTML.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from paths import MORE_CORPUS, REPO


@pytest.fixture(scope="module")
def evaluation() -> ModuleType:
    path = REPO / "bench" / "boilerplate_eval.py"
    spec = importlib.util.spec_from_file_location("boilerplate_eval", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def articles(evaluation: ModuleType) -> list:
    if not MORE_CORPUS.is_dir():
        pytest.skip(f"reference corpus not found at {MORE_CORPUS}")
    return evaluation.load_corpus(MORE_CORPUS)


def test_units_split_blocks_breaks_and_plain_lines_not_wrapped_prose(evaluation: ModuleType) -> None:
    body = ("<div>\nTag line\n\n\nHeadline here\nSummary line.<p>One <b>bold</b> para.</p>after<br>next"
            "<ul><li>item</li></ul><script>x()</script><!-- note --><video>Your browser cannot play this.</video>"
            "Wrapped prose goes\non here.<pre>code()\n\nmore()</pre></div>")
    assert evaluation.units_of(body) == [
        "Tag line", "Headline here", "Summary line.", "One bold para.", "after", "next", "item",
        "Your browser cannot play this.", "Wrapped prose goes on here.", "code()", "more()",
    ]
    assert evaluation.edge_units([str(n) for n in range(12)]) == ["0", "1", "2", "3", "4", "7", "8", "9", "10", "11"]


def test_presence_is_contiguous_and_never_inside_a_word(evaluation: ModuleType) -> None:
    def present(unit: str, output: str) -> bool:
        return evaluation.present(evaluation.normalise(unit), evaluation.normalise(output))

    assert present("One bold para.", "Intro\nOne  bold\npara.")  # split over output paragraphs: still whole
    assert present("全角　ＡＢＣ", "全角abc")  # NFKC, case, no space beside CJK
    assert present("&#123;x&#125;", "{x}")
    assert not present("null", "a nullable field")
    assert not present("0 likes", "10 likes")
    assert present("0 likes", "x 0 likes")
    assert not present("One bold para.", "One bold")


def test_floor_reports_fewer_removed_or_kept(evaluation: ModuleType) -> None:
    Score = evaluation.Score
    floor = {"s": {"boilerplate": 4, "removed": 2, "content": 5, "kept": 5}}
    assert evaluation.below_floor({"s": Score(4, 2, 5, 5)}, floor) == []
    assert evaluation.below_floor({"s": Score(4, 3, 5, 5)}, floor) == []
    assert evaluation.below_floor({"s": Score(4, 1, 5, 5)}, floor)
    assert evaluation.below_floor({"s": Score(4, 2, 5, 4)}, floor)
    assert evaluation.below_floor({"s": Score(3, 2, 5, 5)}, floor)  # the labels changed under the floor


def test_labels_cover_every_article_of_the_corpus(evaluation: ModuleType, articles: list) -> None:
    labels = evaluation.read_labels()
    assert len(articles) == 95
    assert evaluation.check_coverage(articles, labels) == []
    assert set(labels) == {article.path_hash for article in articles}  # none left over from a removed file
    assert {article.source for article in articles} == {entry["source"] for entry in labels.values()}
    units = [unit for entry in labels.values() for unit in entry["units"]]
    assert {(label, kind) for _, label, kind in units} <= set(evaluation.LABEL_CODES.values())


def test_labels_hold_no_corpus_text(evaluation: ModuleType, articles: list) -> None:
    stored = evaluation.LABELS.read_text(encoding="utf-8")
    labels = json.loads(stored)["articles"]
    for entry in labels.values():
        for unit_hash, _, _ in entry["units"]:
            assert len(unit_hash) == 16 and int(unit_hash, 16) >= 0
    for article in articles:
        for unit in evaluation.units_of(article.body):
            if len(unit) >= 8:  # shorter strings (a source name, `0 likes`) say nothing of an article
                assert unit not in stored and evaluation.normalise(unit) not in stored


def test_current_code_is_at_least_the_recorded_floor(evaluation: ModuleType, articles: list) -> None:
    scores = evaluation.score(articles, evaluation.read_labels(), evaluation.our_texts(articles))
    floor = json.loads(evaluation.FLOOR.read_text(encoding="utf-8"))
    assert set(floor) == {key for key in scores if not key.startswith("kind:")}
    assert evaluation.below_floor(scores, floor) == []
