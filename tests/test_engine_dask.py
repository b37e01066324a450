"""The Dask engine on a LocalCluster: a worker killed mid-run, a task that raises, a worker that cannot see
the raw dir. Real processes, real SIGKILL."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from helpers_pipeline import REPO, cli_command, cli_env, generate_corpus, snapshot
from test_engine import data_columns
from jobs.run.engine import DaskEngine, InProcessEngine
from jobs.run.pipeline import RunOptions, ingest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask")
    generate_corpus(root / "raw", 600, days=20, salt="集群")
    report = ingest(RunOptions(raw_dir=root / "raw", out_dir=root / "reference", engine=InProcessEngine()))
    assert report.exit_code == 0
    return root / "raw", data_columns(root / "reference")


def test_a_worker_killed_mid_run_does_not_change_the_result(corpus, tmp_path):
    raw, expected = corpus
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    engine = DaskEngine(cluster.scheduler_address)
    killed = []

    def on_event(name, data):
        if name == "parsed" and not killed:  # the first map results are in: more tasks are running
            pids = engine._client.run(os.getpid)
            victim = next(iter(pids.values()))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
    try:
        report = ingest(RunOptions(raw_dir=raw, out_dir=tmp_path / "out", engine=engine, chunk_files=10), on_event)
    finally:
        engine.close()
        cluster.close()
    assert killed and report.exit_code == 0
    assert data_columns(tmp_path / "out") == expected


def test_a_task_that_raises_fails_the_run_swaps_nothing_and_the_next_run_completes(corpus, tmp_path):
    raw, expected = corpus
    out = tmp_path / "out"
    part_files = sorted(Path(p) for p in (Path(raw).parent / "reference" / "articles").rglob("*.parquet"))
    # A dataset with one partition file cut short: the reduce task that merges into it raises.
    broken = out / "articles" / part_files[0].relative_to(Path(raw).parent / "reference" / "articles")
    broken.parent.mkdir(parents=True)
    broken.write_bytes(part_files[0].read_bytes()[:100])
    before = snapshot(out)
    result = _cli(raw, out, "--engine", "dask", "--workers", "2")
    assert result.returncode == 1, result.stderr
    assert snapshot(out) == before  # nothing swapped in
    assert not (out / "_staging").exists()
    broken.unlink()
    result = _cli(raw, out, "--engine", "dask", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "dask dashboard: http" in result.stderr
    assert data_columns(out) == expected


def _cli(raw, out, *args):
    import subprocess
    return subprocess.run(cli_command("ingest", "--raw-dir", str(raw), "--out-dir", str(out), *args), cwd=REPO,
                          env=cli_env(), capture_output=True, text=True, timeout=300)
