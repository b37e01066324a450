"""The ingest plan compares the listing with the manifest inside SQLite: what it chooses, and that the driver
holds no per-file objects while it does (a dict of the manifest and a list of the listing cost ~200 MiB at
200,000 files)."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

from helpers_pipeline import article_text, manifest, run_ingest, write_raw
from jobs.lake.manifest import State
from jobs.run.options import RunOptions
from jobs.run.plan import plan_ingest


def _plan(raw: Path, out: Path):
    state = State(out)
    try:
        plan = plan_ingest(RunOptions(raw_dir=raw, out_dir=out, workers=1), state)
        return plan.files_seen, {item.raw_path: item for item in plan.work()}
    finally:
        state.close()


def test_planning_twenty_thousand_files_allocates_no_per_file_objects(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    for folder in range(40):
        directory = raw / f"feed{folder:02d}"
        directory.mkdir(parents=True)
        for number in range(500):
            (directory / f"post-{number:04d}-with-a-long-enough-name.md").write_bytes(b"x")
    state = State(out)
    try:
        tracemalloc.start()
        plan = plan_ingest(RunOptions(raw_dir=raw, out_dir=out, workers=1), state)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert (plan.files_seen, plan.to_parse) == (20_000, 20_000)
        # The old plan's list and dict held 5.7 MB here; now one folder's entries at a time (~0.6 MB).
        assert peak < 1_500_000, peak
        items = list(plan.work())
    finally:
        state.close()
    assert [item.raw_path for item in items[:2]] == ["feed00/post-0000-with-a-long-enough-name.md",
                                                    "feed00/post-0001-with-a-long-enough-name.md"]
    assert len({item.raw_path for item in items}) == 20_000 and not any(item.known for item in items)


def test_the_plan_looks_at_new_changed_retried_and_old_parser_rejects_only(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "feed/same.md", article_text("不变", "2024-01-02 10:00:00"))
    changed = write_raw(raw, "feed/changed.md", article_text("会变", "2024-01-02 11:00:00"))
    write_raw(raw, "feed/bad.md", "---\ntitle: [unclosed\n---\n<p>x</p>\n")
    write_raw(raw, "feed/old-parser-bad.md", "---\ntitle: [unclosed\n---\n<p>y</p>\n")
    assert run_ingest(raw, out, workers=1).exit_code in (0, 4)
    with manifest(out) as db:  # as an older parser would have left it
        db.execute("UPDATE files SET parser_version = '0.1' WHERE raw_path = 'feed/old-parser-bad.md'")
        known_sha = dict(db.execute("SELECT raw_path, sha256 FROM files"))
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    write_raw(raw, "feed/new.md", article_text("新的", "2024-01-03 10:00:00"))

    seen, work = _plan(raw, out)
    assert seen == 5
    assert sorted(work) == ["feed/changed.md", "feed/new.md", "feed/old-parser-bad.md"]
    assert work["feed/changed.md"].known and work["feed/changed.md"].known_sha256 == known_sha["feed/changed.md"]
    assert not work["feed/new.md"].known and work["feed/new.md"].known_sha256 is None
    # Another parser's reject is parsed again even with the same bytes: its hash is not reused.
    assert work["feed/old-parser-bad.md"].known and work["feed/old-parser-bad.md"].known_sha256 is None


def test_a_read_error_is_looked_at_every_run_with_its_last_message(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    write_raw(raw, "feed/ok.md", article_text("好的", "2024-01-02 10:00:00"))
    (raw / "feed" / "dangling.md").symlink_to(raw / "feed" / "nowhere.md")
    run_ingest(raw, out, workers=1)
    with manifest(out) as db:
        reason, message = db.execute("SELECT reject_reason, reject_message FROM files"
                                     " WHERE raw_path = 'feed/dangling.md'").fetchone()
    assert reason == "read_error"
    _, work = _plan(raw, out)
    assert list(work) == ["feed/dangling.md"] and work["feed/dangling.md"].known_read_error == message


def test_files_sharing_an_article_id_with_a_changed_file_are_looked_at_again(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    text = article_text("同一篇", "2024-01-02 10:00:00", body="<p>同样的正文。</p>")
    first = write_raw(raw, "a/copy.md", text)
    write_raw(raw, "b/copy.md", text)  # the same article under another feed: one article_id
    write_raw(raw, "c/other.md", article_text("另一篇", "2024-01-02 12:00:00"))
    run_ingest(raw, out, workers=1)
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 10**9))
    _, work = _plan(raw, out)
    assert sorted(work) == ["a/copy.md", "b/copy.md"]
    assert work["b/copy.md"].known and work["b/copy.md"].known_sha256 is None  # parsed: it may win now
