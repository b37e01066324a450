"""Every raw file ends as exactly one article row or one reject row; bad files never stop a run."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from pathlib import Path

import duckdb
import pytest

from helpers_pipeline import article_text, copy_samples, read_articles, read_rejects, run_ingest, snapshot, write_raw
from jobs.run.discover import discover
from jobs.run.map import Job, WorkItem, parse_chunk

MAX_BYTES = 256 * 1024

# relative path -> expected reject reason, or None when the file must become an article.
BAD_FILES: dict[str, str | None] = {
    "bad/empty.md": "empty_file",
    "bad/binary.md": "binary",
    "bad/invalid_utf8.md": "decode_error",
    "bad/no_front_matter.md": "no_front_matter",
    "bad/malformed_yaml.md": "bad_front_matter",
    "bad/huge.md": "too_large",
    "bad/loop.md": "read_error",
    "bad/dangling.md": "read_error",
    "bad/fifo.md": "read_error",
    "bad/slash_source.md": None,
    "bad/dotdot_source.md": None,
    "bad/percent_source.md": None,
    "bad/newline_source.md": None,
    "source/_posts/cat/new\nline/chan/folder_source.md": None,
}


def make_bad_files(raw: Path) -> None:
    write_raw(raw, "bad/empty.md", b"")
    write_raw(raw, "bad/binary.md", b"\x00\x01\x02\x03PNG" * 200)
    write_raw(raw, "bad/invalid_utf8.md", b"---\ntitle: x\ndate: 2022-08-01\n---\n" + bytes(range(0x80, 0x100)) * 4)
    write_raw(raw, "bad/no_front_matter.md", "<p>只有正文</p>\n")
    write_raw(raw, "bad/malformed_yaml.md", "---\ntitle: [unclosed\ndate: 2022-08-01\n---\n<p>x</p>\n")
    write_raw(raw, "bad/huge.md", article_text("巨大", "2022-08-01 10:00:00", body="<p>" + "字" * MAX_BYTES + "</p>"))
    os.symlink("loop.md", raw / "bad/loop.md")
    os.symlink("does-not-exist.md", raw / "bad/dangling.md")
    os.mkfifo(raw / "bad/fifo.md")  # nobody ever writes to it: opening it must not hang the run
    _unblock_later(raw / "bad/fifo.md")
    write_raw(raw, "bad/slash_source.md", article_text("斜杠", "2022-08-01 10:00:00", author="a/b/../c"))
    write_raw(raw, "bad/dotdot_source.md", article_text("点点", "2022-08-01 10:00:00", author=".."))
    write_raw(raw, "bad/percent_source.md", article_text("百分号", "2022-08-01 10:00:00", author="100%25"))
    write_raw(raw, "bad/newline_source.md", article_text("换行", "2022-08-01 10:00:00", author="上\n下"))
    write_raw(raw, "source/_posts/cat/new\nline/chan/folder_source.md",
              article_text("目录换行", "2022-08-01 10:00:00", author=None, categories=()))


def _unblock_later(fifo: Path, seconds: float = 20) -> None:
    """Safety net: should a regression block on opening the FIFO, fail (as an empty file) instead of hanging."""
    def open_and_close() -> None:
        time.sleep(seconds)
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # succeeds only if a reader is blocked on it
        except OSError:
            pass
    threading.Thread(target=open_and_close, daemon=True).start()


@pytest.fixture
def mixed(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    samples = copy_samples(raw)
    make_bad_files(raw)
    report = run_ingest(raw, out, max_bytes=MAX_BYTES, max_reject_ratio=1.0)
    return raw, out, samples, report


def test_each_raw_file_is_exactly_one_article_or_one_reject(mixed):
    raw, out, samples, report = mixed
    listed = [f.raw_path for f in discover(str(raw))]
    articles = [r["raw_path"] for r in read_articles(out)]
    rejects = [r["raw_path"] for r in read_rejects(out)]
    assert len(articles) == len(set(articles)) and len(rejects) == len(set(rejects))
    assert set(articles).isdisjoint(rejects)
    assert sorted(articles + rejects) == sorted(listed)
    assert set(samples) <= set(articles)
    expected_rejects = {p for p, reason in BAD_FILES.items() if reason}
    assert set(rejects) == expected_rejects
    assert report.rejects == len(expected_rejects) and report.files_parsed == len(listed)


def test_bad_files_are_rejected_by_reason_and_never_crash_the_run(mixed):
    raw, out, samples, report = mixed
    assert report.exit_code == 0 and report.status == "ok"
    reasons = {r["raw_path"]: r["reason"] for r in read_rejects(out)}
    sources = {r["raw_path"]: r["source"] for r in read_articles(out)}
    for path, reason in BAD_FILES.items():
        if reason:
            assert reasons.get(path) == reason, path
        else:
            assert path in sources, path
    assert sources["bad/slash_source.md"] == "a/b/../c" and sources["bad/dotdot_source.md"] == ".."
    assert sources["source/_posts/cat/new\nline/chan/folder_source.md"] == "new\nline"
    assert report.rejects_by_reason["read_error"] == 3
    loop = [r for r in read_rejects(out) if r["raw_path"] == "bad/loop.md"][0]
    assert "symlink loop" in loop["message"]
    assert [r["message"] for r in read_rejects(out) if r["raw_path"] == "bad/fifo.md"] == [
        "not a regular file (fifo)"]
    for path in (out / "articles").rglob("*"):
        assert path.resolve().is_relative_to((out / "articles").resolve())


def test_a_file_deleted_between_listing_and_reading_is_a_read_error(tmp_path):
    raw = tmp_path / "raw"
    path = write_raw(raw, "gone.md", article_text("将被删除", "2022-08-01 10:00:00"))
    listed = list(discover(str(raw)))
    path.unlink()
    job = Job(str(raw), "run-1", dt.datetime.now(dt.timezone.utc), MAX_BYTES)
    chunk = parse_chunk(job, [WorkItem(f.raw_path, f.size, f.mtime_ns, None) for f in listed])
    assert chunk.articles.num_rows == 0
    assert chunk.rejects.column("reason").to_pylist() == ["read_error"]
    assert "FileNotFoundError" in chunk.rejects.column("message")[0].as_py()
    assert chunk.outcomes.column("status").to_pylist() == ["reject"]


def test_a_known_file_deleted_between_listing_and_reading_keeps_its_row(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    path = write_raw(raw, "kept.md", article_text("已入库", "2022-08-01 10:00:00"))
    run_ingest(raw, out)
    listed = list(discover(str(raw)))
    known_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    path.unlink()
    job = Job(str(raw), "run-2", dt.datetime.now(dt.timezone.utc), MAX_BYTES)
    chunk = parse_chunk(job, [WorkItem(f.raw_path, f.size, f.mtime_ns, known_sha) for f in listed])
    assert chunk.rejects.num_rows == 0 and chunk.outcomes.column("status").to_pylist() == ["unchanged"]


def test_rejects_file_is_readable_by_duckdb_with_its_columns(mixed):
    raw, out, samples, report = mixed
    relation = duckdb.connect().sql(f"SELECT * FROM read_parquet('{out / 'rejects' / '*.parquet'}')")
    assert dict(zip(relation.columns, [str(t) for t in relation.types])) == {
        "raw_path": "VARCHAR", "reason": "VARCHAR", "message": "VARCHAR", "raw_sha256": "VARCHAR",
        "size": "BIGINT", "run_id": "VARCHAR", "rejected_at": "TIMESTAMP WITH TIME ZONE"}
    rows = {r[0]: r for r in relation.fetchall()}
    assert rows["bad/dangling.md"][3] is None and rows["bad/dangling.md"][4] is None  # nothing was read
    assert rows["bad/malformed_yaml.md"][3] and rows["bad/malformed_yaml.md"][4] > 0
    assert {r[5] for r in rows.values()} == {report.run_id}


def test_a_reject_is_not_retried_unless_its_file_changes(mixed):
    """(read_error rejects are the exception: tried again every run; the same failure again writes nothing.)"""
    raw, out, samples, report = mixed
    before = snapshot(out)
    again = run_ingest(raw, out, max_bytes=MAX_BYTES, max_reject_ratio=1.0)
    assert (again.files_parsed, again.rejects, again.unchanged) == (0, 0, again.files_seen)
    assert snapshot(out) == before
    path = raw / "bad/malformed_yaml.md"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched, same bytes
    again = run_ingest(raw, out, max_bytes=MAX_BYTES, max_reject_ratio=1.0)
    assert (again.files_parsed, again.unchanged) == (0, again.files_seen)
    assert snapshot(out) == before
    path.write_text("---\ntitle: [still broken\n---\n", encoding="utf-8")  # changed, still bad
    again = run_ingest(raw, out, max_bytes=MAX_BYTES, max_reject_ratio=1.0)
    assert (again.files_parsed, again.rejects) == (1, 1)
    row = [r for r in read_rejects(out) if r["raw_path"] == "bad/malformed_yaml.md"]
    assert len(row) == 1 and row[0]["run_id"] == again.run_id


def test_a_fixed_file_moves_from_rejects_to_articles(mixed):
    raw, out, samples, report = mixed
    write_raw(raw, "bad/malformed_yaml.md", article_text("修好了", "2022-08-01 10:00:00", author="修复源"))
    again = run_ingest(raw, out, max_bytes=MAX_BYTES, max_reject_ratio=1.0)
    assert (again.files_parsed, again.articles_written, again.rejects) == (1, 1, 0)
    assert "bad/malformed_yaml.md" not in {r["raw_path"] for r in read_rejects(out)}
    assert [r["title"] for r in read_articles(out) if r["raw_path"] == "bad/malformed_yaml.md"] == ["修好了"]
    assert len(read_rejects(out)) == len([r for r in BAD_FILES.values() if r]) - 1
