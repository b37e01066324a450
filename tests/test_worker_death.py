"""A worker SIGKILLed mid-task (OOM killer, kill -9): the run goes on, the file it was parsing is one parse_error."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import duckdb
import psutil
import pytest

from helpers_pipeline import article_text, copy_samples, run_ingest, write_raw
from jobs.run.engine import ProcessPoolEngine, WorkerLost

# Passes the screen, but its parse makes the worker grow far beyond any normal one: the killer's mark.
SLOW = "<p>x</p><p>y</p>" * (7 * 2**20 // 16)
KILL_ABOVE_RSS = 400 * 2**20


def _kill_big_workers(stop: threading.Event, killed: list[int]) -> None:
    """Like the OOM killer: SIGKILL any process under this one whose memory passes the mark."""
    me = psutil.Process()
    while not stop.is_set():
        for process in me.children(recursive=True):
            try:
                if process.memory_info().rss > KILL_ABOVE_RSS:
                    process.send_signal(signal.SIGKILL)
                    killed.append(process.pid)
            except psutil.Error:
                pass
        stop.wait(0.05)


@pytest.mark.slow
def test_a_worker_killed_while_parsing_makes_that_file_one_reject_and_the_run_commits(tmp_path: Path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    normal = copy_samples(raw)
    write_raw(raw, "hostile/feed/slow.md", article_text("slow", "2024-01-03 10:00:00", author="hostile", body=SLOW))
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_big_workers, args=(stop, killed), daemon=True)
    killer.start()
    try:
        report = run_ingest(raw, out, workers=2, chunk_files=6, worker_memory=None)
    finally:
        stop.set()
        killer.join()
    assert len(killed) >= 2  # once in its chunk, once alone
    assert report.exit_code == 0
    connection = duckdb.connect()
    rejects = connection.execute("SELECT raw_path, reason, message FROM read_parquet(?)",
                                 [str(out / "rejects" / "*.parquet")]).fetchall()
    assert [(path, reason) for path, reason, _ in rejects] == [("hostile/feed/slow.md", "parse_error")]
    assert "SIGKILL" in rejects[0][2], rejects[0][2]
    rows = connection.execute("SELECT raw_path FROM read_parquet(?, hive_partitioning=true) ORDER BY 1",
                              [str(out / "articles" / "**" / "*.parquet")]).fetchall()
    assert [r[0] for r in rows] == sorted(normal)


def _die_on_minus_one(number: int) -> int:
    if number == -1:
        os.kill(os.getpid(), signal.SIGKILL)
    return number * 10


def test_the_pool_restarts_and_hands_every_task_lost_with_a_dead_worker_to_on_lost():
    engine = ProcessPoolEngine(2, worker_memory=None)
    lost: list[tuple[int, bool, str]] = []

    def on_lost(item: int, error: WorkerLost):
        lost.append((item, error.alone, error.detail))
        return [f"lost {item}"]

    try:
        results = list(engine.map(_die_on_minus_one, [1, 2, -1, 3, 4, 5, 6, 7], on_lost=on_lost))
        assert "lost -1" in results and results.index("lost -1") == 2  # in the item's place
        assert {10, 20, 30, 40, 50, 60, 70} >= {r for r in results if isinstance(r, int)}
        assert len(results) == 8
        assert any("SIGKILL" in detail for _, _, detail in lost)
        # Alone, the culprit is the only task lost, and says so.
        lost.clear()
        assert list(engine.map(_die_on_minus_one, [-1], on_lost=on_lost, in_flight=1)) == ["lost -1"]
        assert lost[0][:2] == (-1, True)
        assert list(engine.map(_die_on_minus_one, [8, 9])) == [80, 90]  # the pool works again
    finally:
        engine.close()


def test_without_on_lost_a_dead_worker_still_fails_the_map():
    from concurrent.futures.process import BrokenProcessPool

    engine = ProcessPoolEngine(2, worker_memory=None)
    try:
        with pytest.raises(BrokenProcessPool):
            list(engine.map(_die_on_minus_one, [1, -1, 2]))
    finally:
        engine.close()


@pytest.mark.slow
def test_dask_hands_a_task_that_keeps_killing_its_workers_to_on_lost():
    pytest.importorskip("distributed")
    import dask

    from jobs.run.engine import DaskEngine

    # Fewer retries than Dask's default 3, so the test kills two workers, not four.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        engine = DaskEngine(None, 2)
    try:
        lost: list[tuple[int, str]] = []

        def on_lost(item: int, error: WorkerLost):
            lost.append((item, error.detail))
            return [f"lost {item}"]

        assert list(engine.map(_die_on_minus_one, [1, -1, 2], on_lost=on_lost)) == [10, "lost -1", 20]
        assert lost[0][0] == -1 and "KilledWorker" in lost[0][1]
    finally:
        engine.close()
