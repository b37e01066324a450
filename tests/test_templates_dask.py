"""Templates on the Dask engine: a source ingested day by day equals the same files ingested at once."""

from __future__ import annotations

import pytest

from helpers_pipeline import run_ingest
from jobs.run.engine import DaskEngine
from test_templates_incremental import DAYS, assert_same_dataset, by_path, write_day

pytestmark = pytest.mark.slow  # a Dask LocalCluster
distributed = pytest.importorskip("distributed")


def test_day_by_day_on_dask_equals_at_once(tmp_path):
    daily_raw, daily_out, once_raw, once_out = (tmp_path / n for n in ("raw1", "out1", "raw2", "out2"))
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    engine = DaskEngine(cluster.scheduler_address)
    try:
        for day in range(DAYS):
            write_day(daily_raw, day)
            write_day(once_raw, day)
            assert run_ingest(daily_raw, daily_out, engine=engine).exit_code == 0
        assert run_ingest(once_raw, once_out, engine=engine).exit_code == 0
    finally:
        engine.close()
        cluster.close()
    assert_same_dataset(daily_out, once_out)
    assert all(row["template_removed"] for path, row in by_path(daily_out).items() if path.startswith("港口/"))
