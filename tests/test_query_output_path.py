"""`query --output` writes only a regular file: a new path, or an existing regular file replaced whole.
A symlink, a FIFO or a device at the path is refused (one line, exit 2) and left as it was; new files
get the user's umask, not 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from helpers_pipeline import run_cli, sample_lake
from jobs.cli import app

SQL = "select source, count(*) as n from articles group by 1 order by 1"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return sample_lake(tmp_path_factory.mktemp("lake"))[1]


@pytest.fixture
def umask_027():
    previous = os.umask(0o027)
    yield 0o027
    os.umask(previous)


def assert_refused(result, output: Path, kind: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: --output {output} is a {kind}, not a regular file"), result.output


@pytest.mark.parametrize("output_format", ["csv", "parquet"])
def test_a_symlink_is_refused_and_neither_it_nor_its_target_changes(tmp_path, dataset, output_format):
    target = tmp_path / "target.txt"
    target.write_text("keep me\n")
    link = tmp_path / "link"  # as /dev/stdout is (-> /proc/self/fd/1); not that one: old code replaced it
    link.symlink_to(target)
    assert_refused(invoke("query", "--out-dir", dataset, "--format", output_format, "--output", link, SQL), link,
                   "symbolic link")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "keep me\n"


def test_a_dangling_symlink_is_refused_too(tmp_path, dataset):
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    assert_refused(invoke("query", "--out-dir", dataset, "--output", link, SQL), link, "symbolic link")
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path, dataset):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_refused(invoke("query", "--out-dir", dataset, "--format", "csv", "--output", fifo, SQL), fifo, "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_device_is_refused_and_stays_a_device(tmp_path, dataset):
    """A private node of the null device (major 1, minor 3), not /dev/null itself: the code before this
    fix replaced the device with a file, and /dev/null is shared by everything on the machine."""
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    before = os.lstat(device)
    done = run_cli("query", "--out-dir", str(dataset), "--format", "csv", "--output", str(device), SQL)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [f"error: --output {device} is a device, not a regular file; give a new "
                                                "path or a regular file to replace (leave out --output to print to stdout)"]
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


@pytest.mark.parametrize("output_format", ["csv", "json", "table", "parquet"])
def test_a_new_file_gets_the_umask(tmp_path, dataset, umask_027, output_format):
    output = tmp_path / f"result.{output_format}"
    result = invoke("query", "--out-dir", dataset, "--format", output_format, "--output", output, SQL)
    assert result.exit_code == 0, result.output
    assert stat.S_ISREG(os.lstat(output).st_mode)
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o666 & ~umask_027 == 0o640
    if output_format == "parquet":
        assert pq.read_table(output).num_rows > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_an_existing_regular_file_is_replaced_whole_and_keeps_its_mode(tmp_path, dataset, umask_027):
    output = tmp_path / "result.csv"
    output.write_text("old\n" * 10_000)
    output.chmod(0o604)
    old_inode = os.stat(output).st_ino
    result = invoke("query", "--out-dir", dataset, "--format", "csv", "--output", output, SQL)
    assert result.exit_code == 0, result.output
    text = output.read_text()
    assert text.startswith("source,n\n") and "old" not in text
    assert os.stat(output).st_ino != old_inode  # renamed into place, not written through
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o604
