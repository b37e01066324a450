"""`articles report` finds paragraphs repeated at the start or end of many of a source's articles."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter, defaultdict

import pytest

from helpers_cli import invoke
from helpers_pipeline import article_text, write_raw
from jobs.analyst.inspect import inspect_raw_file
from paths import MORE_CORPUS, REAL_CORPUS


def report(raw) -> dict[str, dict]:
    result = invoke("report", "--raw-dir", raw, "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    return {row["source"]: row for row in json.loads(result.stdout)}


def test_footer_in_most_articles_is_a_candidate_mid_article_repeats_are_not(tmp_path):
    raw = tmp_path / "raw"
    for i in range(10):
        middle = "".join(f"<p>第{i}篇第{k}段。</p>" for k in range(4))
        # A line no documented boilerplate pattern knows: only the repeat tells it apart.
        footer = "<p>本栏目每周五与读者见面</p>" if i < 6 else ""
        credit = "<p>作者｜某人</p>" if i < 2 else ""  # only 2 articles: below the minimum of 3
        body = f"{credit}<p>开头{i}。</p>{middle}<p>重复的中段。</p>{middle}{footer}"
        write_raw(raw, f"source/_posts/测试/某号/频道/{i}.md", article_text(f"标题{i}", f"2022-08-0{i % 9 + 1} 10:00:00", author="某号", body=body))
    row = report(raw)["某号"]
    assert row["repeated_paragraphs"] == 1
    assert row["repeated_paragraph_candidates"] == [{"position": "end", "paragraph": "本栏目每周五与读者见面", "articles": 6, "share": 0.6, "template": True}]
    text = invoke("report", "--raw-dir", raw, "--workers", "1").stdout
    assert "| 某号 | end | 本栏目每周五与读者见面 | 6 | 0.6 | True |" in text


@pytest.mark.parametrize("corpus", [REAL_CORPUS, MORE_CORPUS], ids=["real", "more"])
def test_candidates_on_the_reference_corpora_match_a_count_from_each_record(corpus):
    if not corpus.is_dir():
        pytest.skip(f"reference corpus not found at {corpus}")
    articles, edges = Counter(), defaultdict(set)
    for path in sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".md", ".markdown", ".txt", ".html")):
        record = inspect_raw_file(path, corpus)
        if record.get("rejected"):
            continue
        articles[record["source"]] += 1
        for paragraph in record["paragraphs"][:3] + record["paragraphs"][-3:]:
            key = " ".join(unicodedata.normalize("NFKC", paragraph).split()).lower()
            edges[record["source"], key].add(record["raw_path"])
    expected = sorted((source, len(paths)) for (source, key), paths in edges.items()
                      if key and len(paths) >= 3 and len(paths) / articles[source] >= 0.2)
    found = sorted((source, c["articles"]) for source, row in report(corpus).items() for c in row["repeated_paragraph_candidates"])
    assert found == expected
