"""A front-matter date that cannot be right (before 1995, after the run's time plus a day) is not taken as is.

The row takes a date-only line of the body, else a date the raw path spells, else stays undated;
`extra` says why, and `status` counts such rows per source.
"""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from helpers_pipeline import read_articles, run_ingest, write_raw
from jobs.cli import app
from jobs.parse.record import parse_article

UTC = dt.timezone.utc
RUN = dt.datetime(2023, 1, 1, 12, tzinfo=UTC)


def _raw(date: str, body: str = "<p>一段正文，足够长的一段正文。</p>", title: str = "标题") -> bytes:
    return f"---\ntitle: {title}\nauthor: 怪日期源\ndate: {date}\n---\n<div>{body}</div>".encode()


def _note(record: dict) -> dict:
    return json.loads(record.extra)["_date_implausible"]


def test_a_plausible_date_is_taken_as_is_with_no_note():
    record = parse_article(_raw("2022-12-31 23:00:00"), "怪日期源/频道/a.md", RUN)
    assert record.date == dt.date(2022, 12, 31) and record.extra is None
    # A day of clock skew is allowed.
    assert parse_article(_raw("2023-01-02 11:00:00"), "怪日期源/频道/a.md", RUN).extra is None


def test_the_epoch_takes_the_timestamp_line_of_the_body():
    record = parse_article(_raw("Thu, 01 Jan 1970 00:00:00 GMT", "<p>2022-08-06 07:45</p><p>一段正文，足够长的一段正文。</p>"),
                           "怪日期源/频道/a.md", RUN)
    assert record.published_at == dt.datetime(2022, 8, 6, 7, 45, tzinfo=UTC) and record.date == dt.date(2022, 8, 6)
    assert _note(record) == {"front_matter": "Thu, 01 Jan 1970 00:00:00 GMT", "reason": "before 1995", "used": "body"}
    assert record.paragraphs == ["一段正文，足够长的一段正文。"]  # the timestamp line is boilerplate all the same


def test_a_date_inside_a_sentence_is_an_event_not_the_posts_date():
    record = parse_article(_raw("1900-01-01", "<p>自 2021 年 10 月 18 日起施行，一段足够长的正文。</p>"), "怪日期源/频道/a.md", RUN)
    assert record.date is None and _note(record)["used"] is None


def test_a_future_date_takes_the_raw_paths_date_else_stays_undated():
    record = parse_article(_raw("2099-01-01"), "怪日期源/2022-03-04/a.md", RUN)
    assert record.date == dt.date(2022, 3, 4) and _note(record)["used"] == "raw_path"
    undated = parse_article(_raw("2099-01-01"), "怪日期源/频道/a.md", RUN)
    assert undated.date is None and undated.published_at is None
    assert _note(undated) == {"front_matter": "2099-01-01", "reason": "more than a day after the run's time", "used": None}
    # A path date that is itself implausible is not used either.
    assert parse_article(_raw("2099-01-01"), "怪日期源/1980-03-04/a.md", RUN).date is None


def test_the_run_uses_its_own_start_and_status_counts_the_rows(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "怪日期源/频道/future.md", _raw("2999-01-01", title="未来"))
    write_raw(raw, "怪日期源/频道/epoch.md", _raw("Thu, 01 Jan 1970 00:00:00 GMT", "<p>2022年8月6日</p><p>正文一段，足够长。</p>", "纪元"))
    write_raw(raw, "怪日期源/频道/fine.md", _raw("2022-08-01 10:00:00", title="正常"))
    report = run_ingest(raw, out)
    assert report.exit_code == 0 and report.articles_written == 3
    rows = {row["title"]: row["date"] for row in read_articles(out)}
    assert rows == {"未来": None, "纪元": dt.date(2022, 8, 6), "正常": dt.date(2022, 8, 1)}

    result = CliRunner().invoke(app, ["status", "--out-dir", str(out), "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["implausible_dates"] == 2
    assert status["implausible_dates_per_source"] == [{"source": "怪日期源", "rows": 2, "undated": 1}]
    text = CliRunner().invoke(app, ["status", "--out-dir", str(out)])
    assert text.exit_code == 0 and "2 with an implausible date" in text.output and "implausible dates" in text.output
