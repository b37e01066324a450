"""`articles status`: feed health per source (stale, drop, rejects, empty), --as-of, --check, aligned columns."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest
from rich.cells import cell_len

from helpers_cli import invoke
from helpers_pipeline import article_text, write_raw
from jobs.analyst.inspect import inspect_raw_file
from paths import MORE_CORPUS, REAL_CORPUS

AS_OF = dt.date(2022, 8, 31)


def write_feed(raw, source: str, days_ago: list[int], body: str = "<p>正文。</p>", tag: str = "") -> None:
    for i, ago in enumerate(days_ago):
        when = dt.datetime.combine(AS_OF - dt.timedelta(days=ago), dt.time(8, i % 60))
        write_raw(raw, f"source/_posts/测试/{source}/频道/{tag}{i}.md",
                  article_text(f"{source} {tag}{i}", when.strftime("%Y-%m-%d %H:%M:%S"), author=source, body=body))


def ingest(raw, out):
    result = invoke("ingest", "--raw-dir", raw, "--out-dir", out, "--workers", "1")
    assert result.exit_code in (0, 4), result.output


def health(out, *extra) -> dict[str, dict]:
    result = invoke("status", "--out-dir", out, "--json", "--as-of", AS_OF.isoformat(), *extra)
    assert result.exit_code == 0, result.output
    return {feed["source"]: feed for feed in json.loads(result.stdout)["feeds"]}


def test_stale_and_drop_follow_each_feeds_own_rhythm(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_feed(raw, "日更源", list(range(0, 40)))                  # daily, up to today: healthy
    write_feed(raw, "停更源", list(range(12, 52)))                 # daily until 12 days ago: stale
    write_feed(raw, "周刊", [2, 9, 16, 23, 30, 37, 44])              # weekly: 2 days is nothing
    write_feed(raw, "Weekly Late", [40, 47, 54, 61, 68])            # weekly, 40 days silent (> 5 x 7): stale
    write_feed(raw, "大户", [0] + [d for d in range(7, 35) for _ in range(3)])  # ~21 a week, 1 this week: drop
    ingest(raw, out)
    feeds = health(out)
    flagged = {source: feed["flags"] for source, feed in feeds.items() if feed["flags"]}
    assert flagged == {"停更源": ["stale"], "Weekly Late": ["stale"], "大户": ["drop"]}
    assert feeds["日更源"]["last_7_days"] == 7 and feeds["日更源"]["last_30_days"] == 30
    assert feeds["日更源"]["sparkline"] == "█" * 30 and len(feeds["停更源"]["sparkline"]) == 30
    assert feeds["停更源"]["sparkline"] == "█" * 18 + "·" * 12  # oldest day first and feeds["停更源"]["last_7_days"] == 0
    assert feeds["停更源"]["last_date"] == (AS_OF - dt.timedelta(days=12)).isoformat()
    assert "no article for 12" in feeds["停更源"]["reasons"]["stale"]
    # Thresholds are options: allow 15 days of silence and the daily feed is no longer stale.
    assert "stale" not in health(out, "--stale-min-days", "15")["停更源"]["flags"]
    # --as-of in the past: the feed was healthy then, and later articles do not count.
    earlier = invoke("status", "--out-dir", out, "--json", "--as-of", (AS_OF - dt.timedelta(days=13)).isoformat())
    feeds_then = {f["source"]: f for f in json.loads(earlier.stdout)["feeds"]}
    assert feeds_then["停更源"]["flags"] == [] and feeds_then["停更源"]["last_30_days"] == 30
    # --check: exit 1 while a flag is raised, 0 on a healthy dataset.
    assert invoke("status", "--out-dir", out, "--as-of", AS_OF.isoformat(), "--check").exit_code == 1
    healthy_raw, healthy_out = tmp_path / "healthy_raw", tmp_path / "healthy_out"
    write_feed(healthy_raw, "日更源", list(range(0, 40)))
    ingest(healthy_raw, healthy_out)
    assert invoke("status", "--out-dir", healthy_out, "--as-of", AS_OF.isoformat(), "--check").exit_code == 0


def test_rejects_and_empty_texts_of_the_last_run_against_the_feeds_history(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_feed(raw, "稳定源", list(range(1, 15)))
    write_feed(raw, "图片源", list(range(1, 15)), body="<p><img src='https://img.example/a.jpg'></p>")  # always empty
    ingest(raw, out)
    assert not any(feed["flags"] for feed in health(out).values())  # first night: no history, no spike
    write_feed(raw, "稳定源", [0, 0, 0, 0], body="<div><img src='https://img.example/b.jpg'></div>", tag="empty")
    for i in range(4):
        write_raw(raw, f"source/_posts/测试/稳定源/频道/bad{i}.md", article_text("坏", "not a date", author="稳定源"))
    write_feed(raw, "图片源", [0, 0, 0], body="<p><img src='https://img.example/c.jpg'></p>", tag="more")
    ingest(raw, out)
    feeds = health(out)
    assert feeds["稳定源"]["flags"] == ["rejects", "empty"]
    assert feeds["稳定源"]["last_run"] == {"files": 8, "rejects": 4, "empty": 4, "undated": 0}
    assert feeds["稳定源"]["earlier_runs"]["files"] == 14
    assert feeds["图片源"]["flags"] == []  # empty as always
    text = invoke("status", "--out-dir", out, "--as-of", AS_OF.isoformat())
    assert re.search(r"rejects\s+稳定源: 4 of 8 files in the last run \(50%\), usually 0%", text.stdout)


def test_sources_line_up_by_display_width(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for source in ("A", "新浪财经", "Webtoons - Naver", "好奇心日报 Daily"):
        write_feed(raw, source, [0, 1, 2])
    ingest(raw, out)
    lines = invoke("status", "--out-dir", out, "--as-of", AS_OF.isoformat()).stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("source"))
    rows = [line for line in lines[header + 1:header + 5]]
    assert sorted(line.split()[0] for line in rows) == ["A", "Webtoons", "好奇心日报", "新浪财经"]
    # The column after the name (rows, right-aligned) ends at the same display column on every line.
    ends = {cell_len(re.match(r"^.*?\S\s+3(?=\s)", line).group(0)) for line in rows}
    assert len(ends) == 1
    sparks = {cell_len(line[:line.index("···")]) for line in rows}
    assert len(sparks) == 1


@pytest.mark.parametrize("corpus", [REAL_CORPUS, MORE_CORPUS], ids=["real", "more"])
def test_on_the_reference_corpora_only_the_feed_made_stale_is_flagged(tmp_path, corpus):
    """Each corpus source gets a steady daily rhythm up to as-of (the files' own bodies and
    front matter otherwise unchanged); one source is then aged by 10 days."""
    if not corpus.is_dir():
        pytest.skip(f"reference corpus not found at {corpus}")
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(corpus, raw)
    date_line = re.compile(r"^date:.*$", re.MULTILINE)
    by_source: dict[str, list] = {}
    for path in sorted(raw.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not date_line.search(text):
            continue
        path.write_text(date_line.sub("date: 2000-01-01 00:00:00", text, count=1), encoding="utf-8")
        record = inspect_raw_file(path, raw)
        if not record.get("rejected"):
            by_source.setdefault(record["source"], []).append(path)
    sources = sorted(by_source, key=lambda s: (-len(by_source[s]), s))
    aged = sources[0]
    for source, paths in by_source.items():
        for i, path in enumerate(paths):
            day = AS_OF - dt.timedelta(days=i + (10 if source == aged else 0))
            text = date_line.sub(f"date: {day.isoformat()} 09:00:00", path.read_text(encoding="utf-8"), count=1)
            path.write_text(text, encoding="utf-8")
    ingest(raw, out)
    feeds = health(out)
    flagged = {source: feed["flags"] for source, feed in feeds.items() if feed["flags"]}
    assert flagged == {aged: ["stale"]}, flagged
    assert len(feeds) >= 20
    assert invoke("status", "--out-dir", out, "--as-of", AS_OF.isoformat(), "--check").exit_code == 1


def test_status_of_a_missing_dataset_is_a_usage_error(tmp_path):
    result = invoke("status", "--out-dir", tmp_path / "nope")
    assert result.exit_code == 2 and "error:" in result.output
