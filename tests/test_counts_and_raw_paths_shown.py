"""What the tool reports must match what the dataset holds: a no-op run's log counts the files it saw
unchanged (it said `"unchanged": 0`), `status` counts a feed's undated rows in its rows (a feed of 4
undated posts showed 0), and `inspect` shows raw_path as the dataset stores it, relative to the raw dir
(not to the current folder)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from helpers_pipeline import article_text, read_articles, run_cli, write_raw
from jobs.cli import app


def _raw_with_an_undated_feed(raw):
    for index in range(4):
        write_raw(raw, f"source/_posts/博客/无日期源/频道/{index}.md", article_text(f"无日期{index}", "Invalid Date", author="无日期源"))
    write_raw(raw, "source/_posts/博客/有日期源/频道/a.md", article_text("有日期", "2022-08-01 10:00:00", author="有日期源"))


def test_a_no_op_run_logs_every_file_it_saw_as_unchanged(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _raw_with_an_undated_feed(raw)
    args = ("ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1", "--log-json")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    finished = [json.loads(line) for line in again.stderr.splitlines() if '"run_finished"' in line]
    assert [(e["files_seen"], e["files_parsed"], e["unchanged"]) for e in finished] == [(5, 0, 5)]


def test_status_counts_undated_rows_in_a_feeds_rows(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _raw_with_an_undated_feed(raw)
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1"]).exit_code == 0
    for as_of in ([], ["--as-of", "2022-08-10"], ["--as-of", "2022-07-01"]):
        result = runner.invoke(app, ["status", "--out-dir", str(out), "--json", *as_of])
        assert result.exit_code == 0, result.output
        feeds = {feed["source"]: feed["rows"] for feed in json.loads(result.stdout)["feeds"]}
        # Undated rows have no day to fall after --as-of: they always count; the dated one only from its day.
        assert feeds == {"无日期源": 4, "有日期源": 0 if as_of == ["--as-of", "2022-07-01"] else 1}, as_of
    table = runner.invoke(app, ["status", "--out-dir", str(out)])
    row = next(line for line in table.stdout.splitlines() if line.startswith("无日期源"))
    assert row.split()[1] == "4"


def test_inspect_shows_raw_path_as_the_dataset_stores_it(tmp_path, monkeypatch):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _raw_with_an_undated_feed(raw)
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1"]).exit_code == 0
    stored = {row["title"]: row["raw_path"] for row in read_articles(out)}["有日期"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the current folder must not matter
    for path in (raw / stored, f"../raw/{stored}"):
        result = runner.invoke(app, ["inspect", str(path), "--raw-dir", str(raw)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["raw_path"] == stored
    # Without --raw-dir: relative to data/raw, the raw dir `ingest` reads by default.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw").symlink_to(raw)
    result = runner.invoke(app, ["inspect", f"data/raw/{stored}"])
    assert result.exit_code == 0 and json.loads(result.stdout)["raw_path"] == stored
    # A file outside the raw dir: its name, as a run over its own folder would store it.
    result = runner.invoke(app, ["inspect", str(raw / stored), "--raw-dir", str(elsewhere)])
    assert json.loads(result.stdout)["raw_path"] == "a.md"
