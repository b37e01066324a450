"""Every command on a dataset with undated articles. Several real feeds date every post `Invalid Date`,
so the undated (null) partition is normal, not an edge case: each command must exit with its
documented code and no traceback. (Dry-run `reprocess` crashed on it with `--all`, `--source` and
`--parser-older-than`.)"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from helpers_pipeline import article_text, write_raw
from jobs.cli import app

COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)

UNDATED_FEED = "无日期源"  # every post `Invalid Date`
MIXED_FEED = "混合源"  # dated posts and undated ones


@pytest.fixture(scope="module")
def dataset_with_undated_rows(tmp_path_factory):
    root = tmp_path_factory.mktemp("undated")
    raw, out = root / "raw", root / "out"
    for index in range(4):
        write_raw(raw, f"source/_posts/博客/{UNDATED_FEED}/频道/{index}.md",
                  article_text(f"无日期 {index}", "Invalid Date", author=UNDATED_FEED, body=f"<p>第{index}篇。</p>"))
    for index, date in enumerate(("2022-08-01 10:00:00", "2022-08-02 10:00:00", "", "~")):
        write_raw(raw, f"source/_posts/博客/{MIXED_FEED}/频道/{index}.md",
                  article_text(f"混合 {index}", date, author=MIXED_FEED, body=f"<p>混合第{index}篇。</p>"))
    write_raw(raw, f"source/_posts/博客/{MIXED_FEED}/频道/broken.md", "no front matter\n")
    return raw, out, root


def _steps(raw, out, root) -> list[tuple[str, list[str]]]:
    """(command, arguments) in the order a user would go; every command appears."""
    where = ["--raw-dir", str(raw), "--out-dir", str(out)]
    undated_file = str(raw / "source" / "_posts" / "博客" / UNDATED_FEED / "频道" / "0.md")
    return [
        ("ingest", [*where, "--workers", "1"]),
        ("ingest", [*where, "--workers", "1", "--log-json"]),  # a no-op rerun
        ("reprocess", [*where, "--all"]),
        ("reprocess", [*where, "--source", UNDATED_FEED]),
        ("reprocess", [*where, "--source", MIXED_FEED]),
        ("reprocess", [*where, "--from", "2022-08-01", "--to", "2022-08-02"]),
        ("reprocess", [*where, "--parser-older-than", "9999"]),
        ("reprocess", [*where, "--all", "--prune"]),
        ("reprocess", [*where, "--source", UNDATED_FEED, "--yes", "--workers", "1"]),
        ("reprocess", [*where, "--from", "2022-08-01", "--to", "2022-08-01", "--yes", "--workers", "1"]),
        ("reprocess", [*where, "--all", "--yes", "--workers", "1"]),
        ("status", ["--out-dir", str(out)]),
        ("status", ["--out-dir", str(out), "--json"]),
        ("status", ["--out-dir", str(out), "--as-of", "2022-08-10"]),
        ("status", ["--out-dir", str(out), "--json", "--as-of", "2022-08-01"]),
        ("verify", ["--out-dir", str(out), "--raw-dir", str(raw)]),
        ("query", ["--out-dir", str(out), "SELECT source, date, count(*) FROM articles GROUP BY ALL ORDER BY ALL"]),
        ("query", ["--out-dir", str(out), "--format", "json", "SELECT * FROM articles WHERE date IS NULL"]),
        ("query", ["--out-dir", str(out), "--format", "csv", "SELECT * FROM rejects"]),
        ("report", ["--raw-dir", str(raw), "--workers", "1"]),
        ("report", ["--raw-dir", str(raw), "--workers", "1", "--json"]),
        ("review", ["--raw-dir", str(raw), "--html", str(root / "review.html"), "--workers", "1"]),
        ("review", ["--raw-dir", str(raw), "--html", str(root / "undated.html"), "--source", UNDATED_FEED]),
        ("query", ["--out-dir", str(out), "--as-of", "1", "SELECT count(*) FROM articles WHERE date IS NULL"]),
        ("history", ["--out-dir", str(out)]),
        ("history", ["--out-dir", str(out), "--json"]),
        ("vacuum", ["--out-dir", str(out), "--dry-run"]),
        ("vacuum", ["--out-dir", str(out)]),
        ("migrate", ["--out-dir", str(out)]),
        ("views", ["--out-dir", str(out)]),
        ("schema", []),
        ("inspect", [undated_file, "--raw-dir", str(raw)]),
        ("inspect", [undated_file]),
    ]


def test_every_command_exits_cleanly_on_a_dataset_with_undated_rows(dataset_with_undated_rows):
    raw, out, root = dataset_with_undated_rows
    steps = _steps(raw, out, root)
    assert sorted({command for command, _ in steps}) == COMMANDS  # a new command must join this test
    runner = CliRunner()
    for command, args in steps:
        result = runner.invoke(app, [command, *args])
        crashed = result.exception if not isinstance(result.exception, (SystemExit, type(None))) else None
        assert crashed is None, f"{command} {args}: {crashed!r}"
        assert result.exit_code == 0, f"{command} {args} -> {result.exit_code}: {result.output}"
        assert "Traceback" not in result.output, f"{command} {args}"

    # ...and what they said is about the undated rows, not around them.
    status = json.loads(runner.invoke(app, ["status", "--out-dir", str(out), "--json"]).stdout)
    assert status["articles"] == 8 and status["undated"] == 6 and status["rejects"] == 1
    assert {feed["source"]: feed["rows"] for feed in status["feeds"]} == {UNDATED_FEED: 4, MIXED_FEED: 4}
    preview = runner.invoke(app, ["reprocess", "--raw-dir", str(raw), "--out-dir", str(out), "--all"]).output
    assert UNDATED_FEED < MIXED_FEED  # by code point; within a source the undated partition comes first
    assert preview.splitlines()[1:] == [f"  source={UNDATED_FEED} month=(undated)", f"  source={MIXED_FEED} month=(undated)",
                                        f"  source={MIXED_FEED} month=2022-08"]
    undated = runner.invoke(app, ["query", "--out-dir", str(out), "--format", "json",
                                  "SELECT count(*) AS n FROM articles WHERE date IS NULL"])
    assert json.loads(undated.stdout) == [{"n": 6}]
