"""How the manifest stores the edge paragraphs the source templates are learned from (schemas/state.py):
each article's `files` row lists the hashes of its edge paragraphs as written, and `edge_texts` holds each
spelling once per source. A footer shared by many articles is one text row, not one per article; the
template's text is the smallest spelling a current article has, also after that article changes; a
manifest written by the code that kept one `edges` row per article and paragraph is converted on opening
and seeded by the next run, with the same templates and rows (the old code is taken from git).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_cli import invoke
from helpers_pipeline import article_text, code_at, manifest, read_articles, run_ingest, write_raw
from jobs.lake.manifest import State
from jobs.parse.templates import paragraph_key
from jobs.run.events import KILL_AT_VARIABLE
from jobs.run.options import RunOptions
from jobs.run.pipeline import ingest

FOOTER = "Thanks for reading the Lighthouse Notes"
ARTICLES = 50
OLD = "764475f"  # the last commit with the per-row `edges` table


def lighthouse(raw: Path, count: int = ARTICLES, footer=lambda day: FOOTER) -> None:
    """`count` articles of one source, each with paragraphs of its own and (when `footer` gives one) a footer."""
    for day in range(count):
        closing = footer(day)
        body = (f"<p>Lamp log {day}, the beam turned {day * 7 + 3} times before the fog lifted over the rocks.</p>"
                f"<p>Keeper's note {day}, oil {day + 2} gallons.</p>" + (f"<p>{closing}</p>" if closing else ""))
        write_raw(raw, f"灯塔/notes/{day:03d}.md",
                  article_text(f"Lamp {day}", f"2023-{day % 12 + 1:02d}-{day % 28 + 1:02d} 09:00:00", author="灯塔", body=body))


def rows(out: Path, sql: str, *params) -> list[tuple]:
    db = manifest(out)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def stored_templates(out: Path) -> dict:
    state = State(out)
    try:
        return state.stored_templates()
    finally:
        state.close()


def test_a_footer_shared_by_fifty_articles_is_stored_once(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    lighthouse(raw)
    assert run_ingest(raw, out).exit_code == 0
    key = paragraph_key(FOOTER)
    assert rows(out, "SELECT count(*) FROM edge_texts WHERE key=?", key) == [(1,)]
    # Every other edge paragraph is an article's own: one text row each, so rows = distinct spellings.
    assert rows(out, "SELECT count(*), count(DISTINCT text) FROM edge_texts") == [(2 * ARTICLES + 1, 2 * ARTICLES + 1)]
    # Each article lists its three edges (two of its own and the footer) in its files row.
    listed = [hashes.split() for (hashes,) in rows(out, "SELECT edge_hashes FROM files WHERE status='article'")]
    assert len(listed) == ARTICLES and all(len(hashes) == 3 for hashes in listed)
    footer_hash = rows(out, "SELECT text_hash FROM edge_texts WHERE key=?", key)[0][0]
    assert all(footer_hash in hashes for hashes in listed)
    # Nothing stores a row per article and paragraph any more.
    tables = {name for (name,) in rows(out, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"edges", "pending_edges"}
    assert rows(out, "SELECT count(*) FROM pending_edge_texts") == [(0,)]
    # The pages the run's pending rows took were given back at its commit (incremental vacuum).
    assert rows(out, "PRAGMA auto_vacuum") == [(2,)] and rows(out, "PRAGMA freelist_count") == [(0,)]
    template = stored_templates(out)["灯塔"][key]
    assert template[2:5] == (FOOTER, ARTICLES, ARTICLES)


def test_the_template_text_is_the_smallest_spelling_a_current_article_has(tmp_path):
    """Two spellings of one key (case differs): the smaller is the text while an article has it; when that
    article changes, the text is the other spelling and the gone spelling's row is deleted."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    upper = FOOTER.upper()  # sorts before FOOTER
    lighthouse(raw, footer=lambda day: upper if day == 0 else FOOTER)
    assert run_ingest(raw, out).exit_code == 0
    key = paragraph_key(FOOTER)
    assert stored_templates(out)["灯塔"][key][2:4] == (upper, ARTICLES)
    assert sorted(t for (t,) in rows(out, "SELECT text FROM edge_texts WHERE key=?", key)) == [upper, FOOTER]

    lighthouse(raw, count=1, footer=lambda day: FOOTER)  # article 0 now closes like the others
    assert run_ingest(raw, out).exit_code == 0
    assert stored_templates(out)["灯塔"][key][2:4] == (FOOTER, ARTICLES)
    assert rows(out, "SELECT text FROM edge_texts WHERE key=?", key) == [(FOOTER,)]


def test_texts_no_current_article_has_are_deleted_at_the_commit(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    lighthouse(raw)
    assert run_ingest(raw, out).exit_code == 0
    lighthouse(raw, footer=lambda day: None)  # every article rewritten without the footer
    report = run_ingest(raw, out)
    assert report.exit_code == 0 and report.files_parsed == ARTICLES
    assert rows(out, "SELECT count(*) FROM edge_texts WHERE key=?", paragraph_key(FOOTER)) == [(0,)]
    assert rows(out, "SELECT count(*) FROM edge_texts") == [(2 * ARTICLES,)]
    assert "灯塔" not in stored_templates(out)
    assert all(row["template_removed"] == [] for row in read_articles(out))


@pytest.fixture(scope="module")
def old_code(tmp_path_factory) -> Path:
    return code_at(OLD, tmp_path_factory.mktemp("old-code"), "the code with the per-row edges table")


def old_ingest(old_code: Path, raw: Path, out: Path, kill_at: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", KILL_AT_VARIABLE)} | {"PYTHONPATH": str(old_code)}
    if kill_at:
        env[KILL_AT_VARIABLE] = kill_at
    done = subprocess.run([sys.executable, "-m", "jobs.cli", "ingest", "--raw-dir", str(raw), "--out-dir", str(out),
                           "--workers", "1"], cwd=old_code, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == (-signal.SIGKILL if kill_at else 0), done.stderr[-2000:]


def test_a_manifest_with_the_per_row_edges_table_is_converted_and_seeded(old_code, tmp_path):
    raw, out, fresh = tmp_path / "raw", tmp_path / "out", tmp_path / "fresh"
    lighthouse(raw, footer=lambda day: FOOTER.upper() if day == 3 else FOOTER)
    write_raw(raw, "其他/a.md", article_text("Other", "2023-05-01 10:00:00", author="其他", body="<p>Only its own words.</p>"))
    old_ingest(old_code, raw, out)
    db = sqlite3.connect(out / "_state" / "manifest.sqlite")
    try:
        assert db.execute("SELECT count(*) FROM edges").fetchone()[0] == 3 * ARTICLES + 1
    finally:
        db.close()
    templates_before = stored_templates(out)  # opening converts: the old tables go, the articles' edges are missing
    rows_before = [(r["raw_path"], r["text"], r["template_removed"]) for r in read_articles(out)]
    tables = {name for (name,) in rows(out, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert not tables & {"edges", "pending_edges"} and {"edge_texts", "pending_edge_texts"} <= tables
    state = State(out)
    try:
        assert state.edges_missing() and not state.relearn_pending()
    finally:
        state.close()

    events = []
    report = ingest(RunOptions(raw_dir=raw, out_dir=out, workers=1), lambda name, data: events.append((name, data)))
    assert report.exit_code == 0 and report.files_parsed == 0 and report.rows_recleaned == 0
    assert ("edges_seeded", {"edges": 3 * ARTICLES + 1}) in events
    assert stored_templates(out) == templates_before
    assert [(r["raw_path"], r["text"], r["template_removed"]) for r in read_articles(out)] == rows_before
    state = State(out)
    try:
        assert not state.edges_missing() and not state.relearn_pending()
    finally:
        state.close()
    # The same manifest content as a fresh run of this code over the same files.
    assert run_ingest(raw, fresh).exit_code == 0
    for table in ("SELECT raw_path, edge_hashes FROM files ORDER BY raw_path", "SELECT * FROM edge_texts ORDER BY 1, 2",
                  "SELECT * FROM templates ORDER BY 1, 2"):
        assert rows(out, table) == rows(fresh, table)


def test_a_run_of_the_old_code_killed_before_its_manifest_commit_rolls_forward_and_is_seeded(old_code, tmp_path):
    """Its Delta commit is in the log, its outcomes and per-row edges in flight: the new code drops the old edge
    tables on opening, recovery rolls the run forward (its articles' edges unknown), the seeding fills them,
    and the manifest and rows equal a fresh run's."""
    raw, out, fresh = tmp_path / "raw", tmp_path / "out", tmp_path / "fresh"
    lighthouse(raw, count=10)
    old_ingest(old_code, raw, out)
    lighthouse(raw)  # 40 more, all with the footer
    old_ingest(old_code, raw, out, kill_at="rejects_written")
    db = sqlite3.connect(out / "_state" / "manifest.sqlite")
    try:
        assert db.execute("SELECT count(*) FROM pending_edges").fetchone()[0] == 3 * (ARTICLES - 10)

        templates_before = db.execute("SELECT * FROM templates ORDER BY 1, 2").fetchall()
    finally:
        db.close()
    assert templates_before  # the old run learned the footer from its first 10 articles

    events, after_recovery = [], []

    def on_event(name, data):
        events.append((name, data))
        if name == "recovered":  # the roll-forward knows no edges of its articles: it leaves the templates be
            after_recovery.extend(rows(out, "SELECT * FROM templates ORDER BY 1, 2"))

    report = ingest(RunOptions(raw_dir=raw, out_dir=out, workers=1), on_event)
    assert report.exit_code == 0 and report.files_parsed == 0
    assert [data["action"] for name, data in events if name == "recovered"] == ["rolled_forward"]
    assert after_recovery == templates_before
    assert ("edges_seeded", {"edges": 3 * ARTICLES}) in events
    assert run_ingest(raw, fresh).exit_code == 0
    for table in ("SELECT raw_path, edge_hashes FROM files ORDER BY raw_path", "SELECT * FROM edge_texts ORDER BY 1, 2",
                  "SELECT * FROM templates ORDER BY 1, 2"):
        assert rows(out, table) == rows(fresh, table)
    assert [(r["raw_path"], r["text"], r["template_removed"]) for r in read_articles(out)] == \
        [(r["raw_path"], r["text"], r["template_removed"]) for r in read_articles(fresh)]


def test_a_source_pruned_whole_leaves_no_text_and_no_template(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    lighthouse(raw, count=6)
    write_raw(raw, "其他/a.md", article_text("Other", "2023-05-01 10:00:00", author="其他", body="<p>Only its own words.</p>"))
    assert run_ingest(raw, out).exit_code == 0
    assert "灯塔" in stored_templates(out)
    shutil.rmtree(raw / "灯塔")
    result = invoke("reprocess", "--raw-dir", raw, "--out-dir", out, "--workers", "1", "--all", "--prune", "--yes")
    assert result.exit_code == 0, result.output
    assert rows(out, "SELECT DISTINCT source FROM edge_texts") == [("其他",)]
    assert stored_templates(out) == {}
