"""`articles report` shows each source's learned template (jobs/parse/templates.py) beside the
repeated-paragraph candidates, and marks which candidates the template has.

Raw files are our own: a source of five articles sharing a short closing line (its template), three of
them also closing with a long notice (a candidate, never a template: too long), and a paragraph repeated
in the middle of every article (neither); beside a source with no repeat at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from helpers_cli import invoke
from helpers_pipeline import article_text, run_ingest, write_raw
from jobs.parse import templates

CLOSING = "~ the lighthouse log closes here ~"
NOTICE = ("This log is kept by volunteers who climb the tower every evening, write down the weather, the ships "
          "seen from the gallery and the state of the lamp, and post it the next morning for anyone who cares "
          "to read about the sea.")
MIDDLE = "The keeper wound the clockwork again."


def write_sources(raw: Path) -> None:
    for i in range(5):
        paragraphs = [f"Evening {i}, paragraph {k}: wind from the west, {i + k} ships." for k in range(6)]
        paragraphs += [MIDDLE] + [f"Evening {i}, later note {k} about the lamp and the fog." for k in range(6)]
        paragraphs += [NOTICE] if i < 3 else []
        paragraphs += [CLOSING]
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        write_raw(raw, f"灯塔/log/evening-{i}.md",
                  article_text(f"Lighthouse evening {i}", f"2023-05-0{i + 1} 21:00:00", author="灯塔", body=body))
        write_raw(raw, f"其他/notes/note-{i}.md",
                  article_text(f"Note {i}", f"2023-05-0{i + 1} 09:00:00", author="其他",
                               body=f"<p>Note {i} says only its own thing.</p>"))


def report_json(raw: Path) -> dict[str, dict]:
    result = invoke("report", "--raw-dir", raw, "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    return {row["source"]: row for row in json.loads(result.stdout)}


def test_report_json_shows_the_learned_template_and_marks_candidates(tmp_path):
    raw = tmp_path / "raw"
    write_sources(raw)
    rows = report_json(raw)
    lighthouse = rows["灯塔"]
    assert lighthouse["template"] == [{"position": "end", "paragraph": CLOSING, "articles": 5, "share": 1.0,
                                       "paragraph_key": templates.paragraph_key(CLOSING)}]
    candidates = {c["paragraph"]: c for c in lighthouse["repeated_paragraph_candidates"]}
    assert set(candidates) == {CLOSING, NOTICE}  # the mid-article repeat is no candidate
    assert candidates[CLOSING]["template"] is True
    assert candidates[NOTICE]["template"] is False and candidates[NOTICE]["articles"] == 3  # long: never a template
    assert rows["其他"]["template"] == [] and rows["其他"]["repeated_paragraph_candidates"] == []


def test_report_text_lists_the_templates_per_source(tmp_path):
    raw = tmp_path / "raw"
    write_sources(raw)
    result = invoke("report", "--raw-dir", raw, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "Source templates (removed by a run over this raw dir): 1 paragraphs in 1 sources" in result.stdout
    assert f"| 灯塔 | end | {CLOSING} | 5 | 5 | 1.0 |" in result.stdout
    assert f"| 灯塔 | end | {CLOSING} | 5 | 1.0 | True |" in result.stdout  # the candidate, marked


def test_report_template_is_the_one_a_run_learns(tmp_path):
    """The report learns in memory what the run learns from the manifest: same sources, keys and counts."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_sources(raw)
    # A sixth article without the closing line: 5 of 6 still clear the threshold, and the counts differ from the total.
    write_raw(raw, "灯塔/log/evening-5.md",
              article_text("Lighthouse evening 5", "2023-05-06 21:00:00", author="灯塔", body="<p>Calm, no ships.</p>"))
    rows = report_json(raw)
    reported = sorted((source, t["paragraph_key"], t["paragraph"], t["articles"]) for source, row in rows.items() for t in row["template"])
    run_ingest(raw, out)
    stored = duckdb.connect().sql(f"SELECT source, paragraph_key, text, articles FROM read_parquet('{out}/templates/part-0.parquet')"
                                  " ORDER BY ALL").fetchall()
    assert reported == sorted(stored) == [("灯塔", templates.paragraph_key(CLOSING), CLOSING, 5)]
