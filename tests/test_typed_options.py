"""Closed sets are enums and thresholds are named: a typo is refused where it is made."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from jobs.analyst.health import Thresholds
from jobs.cli import app
from jobs.run.engine import EngineName


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("command", [("ingest",), ("reprocess", "--all")], ids=" ".join)
def test_a_mistyped_engine_is_refused_by_the_option_parser(tmp_path, command):
    result = invoke(*command, "--raw-dir", tmp_path, "--out-dir", tmp_path / "out", "--engine", "dsk")
    assert result.exit_code == 2
    assert "Invalid value for '--engine'" in result.output and "'local', 'dask'" in result.output


@pytest.mark.parametrize("command", ["ingest", "reprocess"])
def test_help_lists_the_engines(command):
    assert "--engine <local|dask>" in invoke(command, "--help").output


def test_the_engine_names_are_the_enum():
    assert [engine.value for engine in EngineName] == ["local", "dask"]


def test_thresholds_are_built_by_keyword_only():
    with pytest.raises(TypeError):
        Thresholds(3.0, 5.0, 0.3, 7.0, 3.0, 0.2, 3, 10)  # eight numbers in a row: which is which?
    named = Thresholds(drop_ratio=0.5, spike_min_files=4)
    assert (named.drop_ratio, named.spike_min_files, named.stale_min_days) == (0.5, 4, 3.0)


def test_every_threshold_has_a_status_option():
    options = {param.name for param in _command("status").params}
    assert {field.name for field in dataclasses.fields(Thresholds)} <= options


def _command(name: str):
    import typer.main
    return typer.main.get_command(app).commands[name]
