"""Per-source templates (jobs/parse/templates.py, jobs/run/templates.py): learned from a source's own
articles, applied to every row at reduce, and the same dataset however the files arrived.

Raw files are our own: a source whose articles open with a subscribe line and close with an end marker
(short, the same in every article), beside a source with none, and a series whose title-like line is
at the edge of only some articles.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from helpers_pipeline import article_text, current_article_files, manifest, read_articles, run_ingest, write_raw
from jobs.parse import templates
from jobs.run.engine import InProcessEngine, ProcessPoolEngine

HEADER = "The Harbour Letter, printed on the quay"
FOOTER = "— end of the letter —"
DAYS = 6


def body(day: int, header: bool = True, footer: bool = True) -> str:
    parts = [f"<p>{HEADER}</p>"] if header else []
    parts += [f"<p>Day {day}: the tide came in at {day + 4} o'clock and the boats went out early.</p>",
              f"<p>A second paragraph of day {day}, about nets, gulls and the price of herring.</p>"]
    parts += [f"<p>{FOOTER}</p>"] if footer else []
    return "\n".join(parts)


def write_day(raw: Path, day: int, **parts) -> None:
    date = dt.datetime(2023, 3, day + 1, 8, 0)
    write_raw(raw, f"港口/letters/day-{day:02d}.md",
              article_text(f"Harbour day {day}", f"{date:%Y-%m-%d %H:%M:%S}", author="港口", body=body(day, **parts)))
    write_raw(raw, f"其他/notes/note-{day:02d}.md",
              article_text(f"Note {day}", f"{date:%Y-%m-%d %H:%M:%S}", author="其他",
                           body=f"<p>Note number {day} has its own words only.</p>"))


def data_rows(out: Path) -> list[tuple]:
    """Every data column (not the run-level ones) of the current version, as comparable tuples."""
    connection = duckdb.connect()
    files = current_article_files(out)
    return connection.sql(
        f"SELECT * EXCLUDE (ingested_at, run_id) FROM read_parquet({files!r}, hive_partitioning = true,"
        " hive_types = {'source': 'VARCHAR', 'month': 'VARCHAR'})").fetchall()


def assert_same_dataset(one: Path, other: Path) -> None:
    connection = duckdb.connect()
    tables = {}
    for name, out in (("a", one), ("b", other)):
        files = current_article_files(out)
        connection.execute(f"CREATE TABLE {name} AS SELECT * EXCLUDE (ingested_at, run_id) FROM read_parquet({files!r},"
                           " hive_partitioning = true, hive_types = {'source': 'VARCHAR', 'month': 'VARCHAR'})")
        tables[name] = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    assert tables["a"] == tables["b"]
    assert connection.execute("SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b)").fetchone()[0] == 0
    assert connection.execute("SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a)").fetchone()[0] == 0


def by_path(out: Path) -> dict[str, dict]:
    return {row["raw_path"]: row for row in read_articles(out)}


@pytest.mark.parametrize("engine", ["in_process", "process_pool"])
def test_a_source_ingested_day_by_day_equals_the_same_files_at_once(tmp_path, engine):
    daily_raw, daily_out, once_raw, once_out = (tmp_path / n for n in ("raw1", "out1", "raw2", "out2"))
    make = (lambda: InProcessEngine()) if engine == "in_process" else (lambda: ProcessPoolEngine(2))
    reports = []
    for day in range(DAYS):
        write_day(daily_raw, day)
        write_day(once_raw, day)
        pool = make()
        try:
            reports.append(run_ingest(daily_raw, daily_out, engine=pool))
        finally:
            pool.close()
    pool = make()
    try:
        run_ingest(once_raw, once_out, engine=pool)
    finally:
        pool.close()
    assert_same_dataset(daily_out, once_out)
    rows = by_path(daily_out)
    harbour = [row for path, row in rows.items() if path.startswith("港口/")]
    assert len(harbour) == DAYS
    for row in harbour:
        assert HEADER not in row["paragraphs"] and FOOTER not in row["paragraphs"]
        assert [r["text"] for r in row["template_removed"]] == [HEADER, FOOTER]
        assert row["paragraph_count"] == 2 and row["text"] == "\n".join(row["paragraphs"])
    # Day 3 (the third article) made the template: the run cleaned the two earlier rows again and said so.
    learned = [r for r in reports if r.templates_changed]
    assert learned and learned[0].rows_recleaned == 2 and "港口" in learned[0].templates_changed
    assert all(not row["template_removed"] for path, row in rows.items() if path.startswith("其他/"))


def test_the_parsed_paragraphs_come_back_exactly(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for day in range(4):
        write_day(raw, day)
    run_ingest(raw, out)
    for row in by_path(out).values():
        removed = [(r["position"], r["text"]) for r in row["template_removed"]]
        parsed = templates.reinsert(row["paragraphs"], removed)
        assert row["paragraph_count"] + len(removed) == len(parsed)
        if removed:
            assert parsed[0] == HEADER and parsed[-1] == FOOTER


def test_a_template_that_stops_being_one_brings_its_lines_back(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for day in range(4):
        write_day(raw, day)
    run_ingest(raw, out)
    assert all(row["template_removed"] for p, row in by_path(out).items() if p.startswith("港口/"))
    for day in range(1, 4):  # three of the four lose the footer and header: 1 of 4 is no template
        write_day(raw, day, header=False, footer=False)
    report = run_ingest(raw, out)
    assert report.templates_changed["港口"] == [2, 0]
    first = by_path(out)["港口/letters/day-00.md"]
    assert first["paragraphs"][0] == HEADER and first["paragraphs"][-1] == FOOTER and not first["template_removed"]
    assert report.rows_recleaned == 1  # day 0, not reparsed: cleaned again from its own row
    with manifest(out) as db:
        assert db.execute("SELECT count(*) FROM templates").fetchone()[0] == 0


def test_a_long_paragraph_or_a_middle_repeat_is_never_removed():
    long = "A long paragraph repeated everywhere. " * 8
    articles = [[long, f"own {i}", "shared middle", f"more {i}", f"x {i}", f"y {i}", "shared middle", f"z {i}",
                 f"w {i}", f"v {i}", f"u {i}", long] for i in range(6)]
    learned = templates.learn({"s": articles})["s"]
    assert templates.paragraph_key(long) not in learned  # too long to be a template
    for paragraphs in articles:
        kept, removed = templates.strip_template(paragraphs, frozenset(learned) | {templates.paragraph_key("shared middle")})
        assert kept == paragraphs and removed == []  # the middle repeat is not in a run at an edge


def test_a_series_title_line_at_the_edge_of_a_few_articles_stays():
    series = "From the harbour series"
    articles = [([series] if i < 4 else []) + [f"own text {i}", f"more text {i}"] for i in range(10)]
    assert templates.learn({"s": articles})["s"] == {}  # 4 of 10 is under the share


def test_a_source_of_four_articles_learns_from_three():
    articles = [[HEADER, f"text {i}"] for i in range(3)] + [["text 3"]]
    assert set(templates.learn({"s": articles})["s"]) == {templates.paragraph_key(HEADER)}
    assert templates.learn({"s": articles[:2] + [["a"], ["b"]]})["s"] == {}


def test_a_field_line_repeated_everywhere_is_content():
    articles = [["Type: figure", f"Product {i}", f"Update: {i}"] for i in range(6)]
    assert templates.learn({"s": articles})["s"] == {}


def test_the_templates_view_and_the_manifest_agree(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for day in range(4):
        write_day(raw, day)
    run_ingest(raw, out)
    from jobs.analyst.query import connect
    rows = connect(out).execute("SELECT source, text, articles, source_articles, first_seen, last_seen FROM templates"
                                " ORDER BY text").fetchall()
    assert sorted(rows) == sorted([("港口", HEADER, 4, 4, dt.date(2023, 3, 1), dt.date(2023, 3, 4)),
                                   ("港口", FOOTER, 4, 4, dt.date(2023, 3, 1), dt.date(2023, 3, 4))])


def test_status_json_shows_each_sources_template(tmp_path):
    import json
    from typer.testing import CliRunner
    from jobs.cli import app
    raw, out = tmp_path / "raw", tmp_path / "out"
    for day in range(4):
        write_day(raw, day)
    run_ingest(raw, out)
    result = CliRunner().invoke(app, ["status", "--out-dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["templates_per_source"]
    assert [(t["source"], t["paragraphs"], t["rows_cleaned"]) for t in found] == [("港口", 2, 4)]
    assert {p["text"] for p in found[0]["template"]} == {HEADER, FOOTER}
