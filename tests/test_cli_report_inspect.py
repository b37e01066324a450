"""`articles report` counts quality per source; `articles inspect` shows one file's parsed record."""

from __future__ import annotations

import json

from helpers_cli import invoke
from helpers_pipeline import FIXTURES_RAW, article_text, copy_samples, write_raw


def test_report_counts_rows_rejects_empty_text_and_leaked_boilerplate(tmp_path):
    raw = tmp_path / "raw"
    copy_samples(raw)
    write_raw(raw, "bad/empty.md", "")
    # An unknown source with another feed's promo, which no rule (and no generic pattern) removes: the report must flag it.
    write_raw(raw, "source/_posts/科技/某日报/头条/leak.md",
              article_text("泄漏", "2022-08-01 10:00:00", author="某日报", body="<p>正文。</p><p>海量资讯、精准解读，尽在新浪财经APP</p>"))
    result = invoke("report", "--raw-dir", str(raw), "--workers", "1", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["source"]: row for row in json.loads(result.stdout)}
    assert rows["某日报"]["boilerplate_hits"] == 1 and rows["某日报"]["rows"] == 1
    assert rows["新浪财经"]["boilerplate_hits"] == 0 and rows["新浪财经"]["rows"] == 3
    assert rows["AcFun"]["empty_text"] == rows["AcFun"]["rows"] == 2
    assert sum(row["rejects"] for row in rows.values()) == 1
    assert sum(row["files"] for row in rows.values()) == 26 + 2
    table = invoke("report", "--raw-dir", str(raw), "--workers", "1")
    assert table.exit_code == 0 and table.stdout.startswith("| source | files | rows | rejects |")


def test_report_on_a_missing_dir_is_a_usage_error(tmp_path):
    assert invoke("report", "--raw-dir", str(tmp_path / "nope")).exit_code == 2


def test_inspect_prints_the_parsed_record(tmp_path):
    result = invoke("inspect", str(FIXTURES_RAW / "sina.md"))
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["source"] == "新浪财经" and record["editor"] and record["original_title"]
    assert record["paragraphs"] and all(p == p.strip() for p in record["paragraphs"])
    assert record["published_at"].endswith("+00:00")


def test_inspect_names_the_reject_reason_and_refuses_a_missing_file(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("no front matter here\n", encoding="utf-8")
    result = invoke("inspect", str(bad))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["reason"] == "no_front_matter"
    assert invoke("inspect", str(tmp_path / "missing.md")).exit_code == 2
