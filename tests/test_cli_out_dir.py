"""A wrong --out-dir is one line and exit 2: a file, a path under a file, a read-only mount (writers),
a path that holds no dataset (readers). Never a traceback, never "verify ok" on nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers_pipeline import copy_samples, run_cli, sample_lake
from jobs.cli import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_line_error(result, exit_code: int, *words: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in words:
        assert word in lines[0], result.output


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    copy_samples(raw)
    return raw


WRITERS = (("ingest", "--workers", "1"), ("reprocess", "--all"), ("reprocess", "--all", "--yes", "--workers", "1"))


@pytest.mark.parametrize("command", WRITERS, ids=" ".join)
def test_a_file_given_as_out_dir_is_a_usage_error(tmp_path, raw_dir, command):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("mine\n")
    for out in (not_a_folder, not_a_folder / "sub"):
        result = invoke(*command, "--raw-dir", raw_dir, "--out-dir", out)
        assert_one_line_error(result, 2, "a file, not a folder")
    assert not_a_folder.read_text() == "mine\n"


def test_as_a_subprocess_the_error_is_one_line_on_stderr(tmp_path, raw_dir):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("mine\n")
    done = run_cli("ingest", "--raw-dir", str(raw_dir), "--out-dir", str(not_a_folder), "--workers", "1")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: --out-dir {not_a_folder} is a file, not a folder; "
                                                "give a folder (it is made if missing)"]


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def read_only(tmp_path: Path):
    """A read-only bind mount of a fresh dataset (needs root and mount(8)); unmounted after."""
    raw, out = sample_lake(tmp_path / "lake")
    mount_point = tmp_path / "ro"
    mount_point.mkdir()
    if not _mount("--bind", str(out), str(mount_point)):
        pytest.skip("cannot bind-mount here (not root, or no mount(8))")
    try:
        if not _mount("-o", "remount,bind,ro", str(mount_point)):
            pytest.skip("cannot remount read-only here")
        yield raw, mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)


@pytest.mark.parametrize("command", WRITERS, ids=" ".join)
def test_a_read_only_out_dir_is_a_usage_error(read_only, command):
    raw, mount_point = read_only
    result = invoke(*command, "--raw-dir", raw, "--out-dir", mount_point)
    assert_one_line_error(result, 2, "read-only file system")
    # A new dataset under a read-only folder: the same, named by the folder that exists.
    result = invoke(*command, "--raw-dir", raw, "--out-dir", mount_point / "new" / "lake")
    assert_one_line_error(result, 2, "read-only file system", str(mount_point))


def test_readers_still_read_a_dataset_on_a_read_only_mount(read_only):
    _, mount_point = read_only
    result = invoke("query", "--out-dir", mount_point, "--format", "csv", "select count(*) from articles")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "26"


READERS = (("verify",), ("query", "select count(*) from articles"), ("views",), ("status",), ("status", "--json"))


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_readers_say_there_is_no_dataset_at_a_mistyped_path(tmp_path, command):
    empty = tmp_path / "empty"
    empty.mkdir()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for out in (tmp_path / "nonexistent", empty, a_file):
        result = invoke(*command, "--out-dir", out)
        assert_one_line_error(result, 2, "no dataset at", str(out))


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_readers_accept_a_real_dataset(tmp_path, command):
    _, out = sample_lake(tmp_path)
    result = invoke(*command, "--out-dir", out)
    assert result.exit_code == 0, result.output
