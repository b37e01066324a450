"""Two date defects: `date: ~` was rejected as bad_date while `date: null` was kept undated (both are
YAML's null: both undated now), and `Mon, 01 Jan 0001 00:00:00 +1400` became 2000-12-31 (the email
module widened the four-digit year 0001 to 2001: a four-digit year is now taken as written, and an
instant outside years 1-9999 in UTC is bad_date)."""

from __future__ import annotations

import datetime as dt

import pytest

from helpers_pipeline import article_text, read_articles, read_rejects, run_ingest, write_raw
from jobs.errors import Rejected
from jobs.parse.dates import parse_published_at
from jobs.parse.record import parse_article


@pytest.mark.parametrize("date_line", ["~", "null", "Null", "NULL", "''", "Invalid Date"])
def test_every_spelling_of_no_date_is_undated(date_line):
    record = parse_article(article_text("无日期", date_line).encode("utf-8"), "src/a.md")
    assert record.date is None and record.published_at is None


def test_tilde_and_null_land_in_the_same_undated_partition(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "src/tilde.md", article_text("波浪号", "~", author="源"))
    write_raw(raw, "src/null.md", article_text("空值", "null", author="源"))
    report = run_ingest(raw, out)
    assert report.rejects == 0 and report.articles_written == 2
    assert read_rejects(out) == []
    assert {row["title"]: row["date"] for row in read_articles(out)} == {"波浪号": None, "空值": None}


def test_a_four_digit_year_is_never_widened():
    with pytest.raises(Rejected) as rejected:  # year 1 at +14:00 is before year 1 in UTC
        parse_published_at("Mon, 01 Jan 0001 00:00:00 +1400")
    assert rejected.value.reason == "bad_date"
    assert parse_published_at("Mon, 01 Jan 0001 00:00:00 +0000") == dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
    assert parse_published_at("Sat, 06 Aug 0022 07:45:00 +0000").year == 22
    assert parse_published_at("Sat, 06 Aug 2022 07:45:00 +0800") == dt.datetime(2022, 8, 5, 23, 45, tzinfo=dt.timezone.utc)


def test_a_two_digit_year_keeps_rfc822_widening():
    assert parse_published_at("06 Aug 22 07:45:00 +0000").year == 2022
    assert parse_published_at("06 Aug 99 07:45:00 +0000").year == 1999


def test_the_iso_form_agrees():
    with pytest.raises(Rejected):
        parse_published_at("0001-01-01T00:00:00+14:00")
