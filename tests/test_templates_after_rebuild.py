"""A manifest rebuilt from the dataset (or a migrated dataset) learns its sources' templates again from the rows:
the edges are seeded from each row's paragraphs as parsed, and every source's template is relearned."""

from __future__ import annotations

from helpers_pipeline import article_text, read_articles, run_ingest, write_raw
from jobs.lake.manifest import State


def _source_with_a_template(raw):
    for day in range(1, 6):
        body = f"<p>第{day}篇的正文，各不相同，足够长的一段。</p><p>本文由模板源整理发布</p>"
        write_raw(raw, f"模板源/频道/{day}.md", article_text(f"标题{day}", f"2022-08-0{day} 10:00:00", author="模板源", body=body))


def test_a_rebuilt_manifest_keeps_the_templates_and_the_rows(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _source_with_a_template(raw)
    assert run_ingest(raw, out).exit_code == 0
    before = read_articles(out)
    assert all(row["text"] == row["paragraphs"][0] and row["template_removed"] for row in before)
    state = State(out)
    templates_before = state.stored_templates()
    state.close()
    (out / "_state" / "manifest.sqlite").unlink()  # lost: the next run rebuilds it from the dataset

    report = run_ingest(raw, out)
    # Relearned from the rows (the rebuilt manifest had none): the same template, so no row changes.
    assert report.exit_code == 0 and report.rows_recleaned == 0 and report.partitions_written == 0
    state = State(out)
    try:
        assert state.stored_templates().keys() == templates_before.keys()
        assert {k: v[1:4] for k, v in state.stored_templates()["模板源"].items()} == \
            {k: v[1:4] for k, v in templates_before["模板源"].items()}
        assert not state.relearn_pending() and not state.edges_missing()
    finally:
        state.close()
    after = read_articles(out)
    assert [(r["raw_path"], r["text"], r["template_removed"]) for r in after] == \
        [(r["raw_path"], r["text"], r["template_removed"]) for r in before]
