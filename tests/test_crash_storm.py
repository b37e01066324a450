"""Crash recovery that does not assume the same raw bytes (issue 12, item 1).

Runs are SIGKILLed (at a step of the commit: while reduce tasks write data files, before the Delta
commit, after it and before the manifest commit; or at a random moment), then the raw files change
(re-dated, reverted, added, deleted) before the next run, `ingest` and `reprocess` mixed. The dataset
must end as a fresh run over the final raw files gives (rows of files still there), with no raw path
or article id twice, agree with the manifest row for row, and hold no file that no version names.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers_pipeline import (REPO, cli_command, cli_env, comparable, generate_corpus, manifest, read_articles,
                              retitle, write_raw, article_text)
from jobs.lake.paths import Layout
from jobs.lake.table import untracked_files
from jobs.run.events import KILL_AT_VARIABLE

pytestmark = pytest.mark.slow  # kills runs again and again

FILES = 900
DAYS = 45  # two months
# Steps of the commit a run kills itself at (jobs/run/commit.py): data files written, none committed;
# the Delta commit next; the Delta commit done, the manifest's not.
KILL_POINTS = ("partition_written", "committing", "table_committed", "rejects_written")


def run_cli(raw: Path, out: Path, log: Path, args: list[str], kill: str | float | None = None) -> int | None:
    """One command as a subprocess; kill=None waits; an event name: the run SIGKILLs itself right after
    that event (if the run reaches it); seconds: SIGKILLed then (if still running)."""
    env = cli_env() | ({KILL_AT_VARIABLE: kill} if isinstance(kill, str) else {})
    with open(log, "wb") as err:
        process = subprocess.Popen(cli_command(*args, "--raw-dir", str(raw), "--out-dir", str(out), "--workers", "1",
                                               "--log-json"), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                   stderr=err, start_new_session=True)
    if kill is None or isinstance(kill, str):
        code = process.wait(timeout=300)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # orphans of a self-killed run
        except ProcessLookupError:
            pass
        return code
    deadline = time.monotonic() + kill
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return None


def redate(path: Path, when: dt.datetime) -> None:
    text = path.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))[6:].strip().strip('"')
    path.write_text(retitle(text, title, when), encoding="utf-8")


def assert_agrees_with_fresh_run(raw: Path, out: Path, tmp: Path) -> None:
    assert run_cli(raw, out, tmp / "final.log", ["ingest"]) == 0, (tmp / "final.log").read_text()
    fresh = tmp / "fresh"
    assert run_cli(raw, fresh, tmp / "fresh.log", ["ingest"]) == 0
    rows = read_articles(out)
    present = {p.relative_to(raw).as_posix() for p in raw.rglob("*.md")}
    assert len({r["raw_path"] for r in rows}) == len(rows), "a raw file has two rows"
    assert len({r["article_id"] for r in rows}) == len(rows), "an article id twice"
    assert comparable([r for r in rows if r["raw_path"] in present]) == comparable(read_articles(fresh))
    with manifest(out) as db:
        homes = {(p, s, d) for p, s, d in db.execute("SELECT raw_path, source, date FROM files WHERE status='article'")}
        in_flight = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    db.close()
    winners = {(r["raw_path"], r["source"], r["date"].isoformat()) for r in rows}
    assert winners <= homes, f"rows the manifest does not place there: {sorted(winners - homes)[:5]}"
    assert in_flight == 0
    assert untracked_files(Layout(out)) == [], "a killed run's data files outlived the run after it"


@pytest.fixture
def raw_and_ingested_out(tmp_path):
    """(raw dir, out dir): a generated corpus of FILES articles over DAYS days, ingested by a real process."""
    raw = tmp_path / "raw"
    generate_corpus(raw, FILES, days=DAYS, salt="风暴")
    out = tmp_path / "out"
    assert run_cli(raw, out, tmp_path / "first.log", ["ingest"]) == 0
    return raw, out


def test_new_file_killed_before_commit_then_redated_is_in_one_partition_only(raw_and_ingested_out, tmp_path):
    raw, out = raw_and_ingested_out
    news = [write_raw(raw, f"new/{i:03d}.md", article_text(f"新 {i}", f"2022-05-{1 + i % 20:02d} 10:00:00", author=f"新源{i}"))
            for i in range(200)]  # 200 new partitions: the swaps come in two batches
    assert run_cli(raw, out, tmp_path / "killed.log", ["ingest"], kill="partition_written") == -signal.SIGKILL
    for path in news:
        redate(path, dt.datetime(2021, 1, 1) + dt.timedelta(days=news.index(path) % 9))
    assert_agrees_with_fresh_run(raw, out, tmp_path)


@pytest.mark.parametrize("kill_at", ["committing", "table_committed"])
def test_moved_file_killed_around_the_commit_then_reverted_keeps_its_row(raw_and_ingested_out, tmp_path, kill_at):
    """Before the Delta commit the run is dropped; after it, rolled forward, then the revert is a change."""
    raw, out = raw_and_ingested_out
    moved = sorted(raw.glob("gen/*/*.md"))[::2]
    originals = {path: path.read_bytes() for path in moved}
    for index, path in enumerate(moved):
        redate(path, dt.datetime(2023, 3, 1) + dt.timedelta(days=index % 30))
    assert run_cli(raw, out, tmp_path / "killed.log", ["ingest"], kill=kill_at) == -signal.SIGKILL
    for path, data in originals.items():  # the feed reverts: same bytes (and size) as before the kill
        path.write_bytes(data)
    assert_agrees_with_fresh_run(raw, out, tmp_path)


def test_storm_of_kills_and_raw_changes(raw_and_ingested_out, tmp_path):
    raw, out = raw_and_ingested_out
    rng = random.Random(int(os.environ.get("STORM_SEED", "12")))
    rounds = int(os.environ.get("STORM_ROUNDS", "6"))
    for round_ in range(rounds):
        files = sorted(raw.rglob("*.md"))
        for path in rng.sample(files, 60):  # re-dated
            redate(path, dt.datetime(2022, 6, 1) + dt.timedelta(days=rng.randrange(DAYS + 10), minutes=rng.randrange(900)))
        for path in rng.sample(files, 15):  # deleted
            if path.exists():
                path.unlink()
        for index in range(20):  # added
            write_raw(raw, f"storm/{round_}/{index}.md",
                      article_text(f"风暴 {round_}-{index}", f"2022-06-{1 + rng.randrange(28):02d} 0{rng.randrange(10)}:00:00",
                                   author=f"源{rng.randrange(30)}"))
        command = rng.choice([["ingest"], ["ingest"], ["reprocess", "--all", "--yes"],
                              ["reprocess", "--from", "2022-06-05", "--to", "2022-06-20", "--yes"]])
        kill = rng.choice(KILL_POINTS) if round_ % 2 == 0 else rng.uniform(0.5, 4.0)
        run_cli(raw, out, tmp_path / f"round-{round_}.log", command, kill=kill)
    assert_agrees_with_fresh_run(raw, out, tmp_path)
