"""Shared helpers for the pipeline, CLI, store and crash tests.

Raw files are built here from a few templates (tests/fixtures/raw and data/raw),
datasets are read back with DuckDB, and whole output trees are snapshotted
(bytes and mtimes) to prove that a run wrote nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb

from jobs.run.pipeline import RunOptions, RunReport, ingest

from paths import FIXTURES_RAW, REAL_CORPUS, REPO

SAMPLE_RAW = REPO / "data" / "raw"

# Columns that legitimately differ between two runs over the same input.
RUN_LEVEL_COLUMNS = ("ingested_at", "run_id")


# -- raw files ---------------------------------------------------------------
def article_text(title: str, date: str, author: str | None = "测试源", body: str = "<p>正文。</p>",
                 categories: Iterable[str] = ("测试",)) -> str:
    """A minimal raw article: YAML front matter (title, author, date) and an HTML body."""
    lines = ["---", f"title: {json.dumps(title, ensure_ascii=False)}"]
    cats = list(categories)
    if cats:
        lines.append("categories:")
        lines += [f" - {json.dumps(c, ensure_ascii=False)}" for c in cats]
    if author is not None:
        lines.append(f"author: {json.dumps(author, ensure_ascii=False)}")
    lines += [f"date: {date}", "---", "", body, ""]
    return "\n".join(lines)


def write_raw(raw_dir: Path, relative: str, content: str | bytes) -> Path:
    path = raw_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def templates() -> list[tuple[str, str]]:
    """(relative path, text) of every sample raw file: the fixtures and data/raw."""
    found = [(f"fixtures/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(FIXTURES_RAW.glob("*.md"))]
    found += [(p.relative_to(SAMPLE_RAW).as_posix(), p.read_text(encoding="utf-8"))
              for p in sorted(SAMPLE_RAW.rglob("*.md"))]
    return found


_TITLE = re.compile(r"^title:.*$", re.MULTILINE)
_DATE = re.compile(r"^date:.*$", re.MULTILINE)


def retitle(text: str, title: str, date: dt.datetime) -> str:
    """The same raw file with another title and date: a distinct article of the same source."""
    text = _TITLE.sub(lambda _: f"title: {json.dumps(title, ensure_ascii=False)}", text, count=1)
    return _DATE.sub(lambda _: f"date: {date:%Y-%m-%d %H:%M:%S}", text, count=1)


def generate_corpus(raw_dir: Path, count: int, days: int = 20, salt: str = "") -> list[str]:
    """`count` distinct articles templated from the samples, spread over sources and `days` dates.

    Returns the relative paths written. Deterministic for given arguments.
    """
    bases = templates()
    start = dt.datetime(2022, 6, 1, 8, 0, 0)
    written = []
    for index in range(count):
        base_path, base_text = bases[index % len(bases)]
        when = start + dt.timedelta(days=(index * 7) % days, minutes=index)
        text = retitle(base_text, f"生成文章 {salt}{index:05d}", when)
        relative = f"gen/{index % 37:02d}/{index:05d}-{Path(base_path).name}"
        write_raw(raw_dir, relative, text)
        written.append(relative)
    return written


def sample_lake(root: Path) -> tuple[Path, Path]:
    """data/raw plus one file with no front matter (a reject), ingested through the CLI: (raw, out)."""
    from helpers_cli import invoke  # here: jobs.cli is slow to import and most users of this module do not need it

    raw, out = root / "raw", root / "out"
    copy_samples(raw)
    write_raw(raw, "bad/no_front_matter.md", "no front matter\n")
    result = invoke("ingest", "--raw-dir", raw, "--out-dir", out, "--workers", "1")
    assert result.exit_code == 0, result.output
    return raw, out


def copy_samples(raw_dir: Path) -> list[str]:
    """Copy data/raw (26 files, 26 distinct articles) into raw_dir; return relative paths."""
    written = []
    for path in sorted(SAMPLE_RAW.rglob("*.md")):
        relative = path.relative_to(SAMPLE_RAW).as_posix()
        write_raw(raw_dir, relative, path.read_bytes())
        written.append(relative)
    return written


# -- running -----------------------------------------------------------------
def run_ingest(raw_dir: Path, out_dir: Path, **options) -> RunReport:
    """The library call, in this process, one worker (fast and deterministic)."""
    options.setdefault("workers", 1)
    return ingest(RunOptions(raw_dir=Path(raw_dir), out_dir=Path(out_dir), **options))


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "jobs.cli", *args]


def run_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """The real command line, as a subprocess."""
    return subprocess.run(cli_command(*args), cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=cli_env(), **kwargs)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# -- reading back --------------------------------------------------------------
def article_glob(out_dir: Path) -> str:
    """A plain glob over the table's data files: superseded files too, until vacuum (see README)."""
    return str(Path(out_dir) / "articles" / "**" / "*.parquet")


def current_article_files(out_dir: Path) -> list[str]:
    """The data files of the table's current version (absolute paths), as its log lists them."""
    from deltalake import DeltaTable
    if not (Path(out_dir) / "articles" / "_delta_log").is_dir():
        return []
    return sorted(DeltaTable(str(Path(out_dir) / "articles")).file_uris())


def read_articles(out_dir: Path, connection: duckdb.DuckDBPyConnection | None = None) -> list[dict]:
    """Every article row of the current version (partition keys included), as dicts, ordered by raw_path.
    Read by DuckDB from the version's file list, as the views do."""
    connection = connection or duckdb.connect()
    files = current_article_files(out_dir)
    if not files:
        return []
    relation = connection.sql(
        f"SELECT * FROM read_parquet({files!r}, hive_partitioning = true,"
        f" hive_types = {{'source': 'VARCHAR', 'month': 'VARCHAR'}}) ORDER BY raw_path")
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def read_rejects(out_dir: Path) -> list[dict]:
    path = Path(out_dir) / "rejects" / "part-0.parquet"
    if not path.exists():
        return []
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{Path(out_dir) / 'rejects' / '*.parquet'}') ORDER BY raw_path")
    return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


def comparable(rows: list[dict]) -> list[dict]:
    """Rows without run-level columns, ordered by article_id: what two equivalent runs share."""
    return sorted(({k: v for k, v in row.items() if k not in RUN_LEVEL_COLUMNS} for row in rows),
                  key=lambda r: (r["article_id"], r["raw_path"]))


def article_files(out_dir: Path) -> list[Path]:
    """The current version's data files."""
    return [Path(p) for p in current_article_files(out_dir)]


def snapshot(out_dir: Path, folders: Iterable[str] = ("articles", "rejects")) -> dict[str, tuple[str, int]]:
    """relative path -> (sha256 of bytes, mtime_ns) of every file under the given folders."""
    found = {}
    for folder in folders:
        for path in sorted((Path(out_dir) / folder).rglob("*")):
            if path.is_file():
                found[path.relative_to(out_dir).as_posix()] = (
                    hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    return found


def manifest(out_dir: Path):
    import sqlite3
    return sqlite3.connect(Path(out_dir) / "_state" / "manifest.sqlite")


# -- older code --------------------------------------------------------------
def code_at(commit: str, into: Path, what: str) -> Path:
    """jobs/ and schemas/ as they were at `commit`, extracted into `into` (PYTHONPATH for a subprocess);
    skips the test when git or the commit is not there (`what`: the code, for the message)."""
    import pytest
    if shutil.which("git") is None or shutil.which("tar") is None:
        pytest.skip(f"git or tar not found: cannot take {what}")
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "jobs", "schemas"], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"commit {commit} is not in this clone (shallow?): {archive.stderr.decode(errors='replace')[:200]}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into
