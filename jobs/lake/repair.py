"""Open the manifest, and rebuild it from the dataset when it is missing, empty or damaged. I/O.

Every article row carries `raw_path` and `raw_sha256`, and every reject row its `raw_path`, so
the dataset itself says which raw files it holds and where: the Delta table's current version (its
data files, each row with its `date`) and the rejects file. A rebuilt manifest records them with
an unknown size and mtime (-1): the next run hashes each listed raw file once, and parses only the
ones whose bytes differ from the row's `raw_sha256`; a file that moved partition since is
therefore superseded in the partition that holds its row, never added twice.

A raw path found more than once in the dataset (in two partitions, or as an article and a
reject) keeps its newest row; the older article rows are removed from their partitions here (one
Delta commit), and the path is recorded with no hash, so the next run reparses it. Rejects are
recorded with an unknown parser version, so the next run retries them. An unreadable data file is
removed from the table (one Delta commit) and moved to _state/damaged/: its raw files are parsed again.

Runs only under the output lock (it may commit to the table and rename the damaged manifest).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from jobs.errors import DamagedFile, DamagedManifest
from jobs.lake.damaged import read_parquet
from jobs.lake.manifest import State
from jobs.lake.paths import manifest_file, rejects_file, runs_file
from jobs.lake.store import write_file_list
from jobs.lake.table import ArticlesTable, read_data_files, write_partition_file
from schemas.article import RUN_COLUMNS
from schemas.state import MANIFEST_COLUMNS, FileStatus

Notify = Callable[[str], None]

_CORRUPT_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
_ARTICLE_COLUMNS = ["raw_path", "raw_sha256", "article_id", "parser_version", "run_id", "ingested_at"]
_REJECT_COLUMNS = ["raw_path", "reason", "message", "raw_sha256", "size", "run_id", "rejected_at"]
UNKNOWN_PARSER = ""  # rejects carry no parser version: recorded as unknown, so they are retried


def is_corruption(error: BaseException) -> bool:
    """An SQLite error that means the file is not a (sound) database, not a busy or full disk."""
    return isinstance(error, sqlite3.DatabaseError) and ((getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF) in _CORRUPT_CODES


def open_state(out_dir: str | Path, notify: Notify, repair: bool = True) -> State:
    """The manifest, checked; rebuilt from the dataset (with a message through `notify`) when it is
    missing, empty or damaged and the dataset holds rows.

    With repair=False (a dry run, without the lock) a manifest that needs rebuilding is an error instead.
    """
    out = Path(out_dir)
    path = manifest_file(out)
    problem = manifest_problem(path)
    if problem is None:
        return State(out)
    if not _dataset_has_rows(out):
        if problem.startswith("damaged"):
            if not repair:
                raise DamagedManifest(path, problem, "run `articles ingest`: it sets the file aside and starts a new one")
            aside = _set_aside(path)
            notify(f"manifest {path} was {problem}: set aside as {aside.name}; the dataset holds no rows, so a new one was started")
        return State(out)
    if not repair:
        raise DamagedManifest(path, problem, "run `articles ingest` (or `reprocess ... --yes`): it rebuilds the manifest"
                                             " from the dataset first")
    note = ""
    if problem.startswith("damaged"):
        note = f"; the damaged file was set aside as {_set_aside(path).name}"
    else:
        _remove_sidecars(path)  # a WAL left beside a deleted database must not be replayed into the new one
    state = State(out)
    counts = rebuild_manifest(state, out, notify)
    notify(f"manifest {path} was {problem}: rebuilt from the dataset ({counts['articles']} article rows,"
           f" {counts['rejects']} rejects, {counts['runs']} runs){note}; the next run hashes each raw file once"
           f" to confirm it and reparses only changed ones")
    return state


def manifest_problem(path: Path) -> str | None:
    """None when the manifest opens and its tables read; else 'missing', 'empty' or 'damaged (...)'."""
    if not path.exists():
        return "missing"
    if path.stat().st_size == 0 and not Path(f"{path}-wal").exists():
        return "empty"
    try:
        db = sqlite3.connect(path, timeout=60)
    except sqlite3.DatabaseError as error:
        return f"damaged ({error})"
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "files" not in tables:
            return "empty"
        # Every page of every table and index (as `verify` checks): a damaged index page, or a page of the
        # in-flight tables, is damage too, and counting the rows of `files` alone never saw it.
        check = [row[0] for row in db.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            return f"damaged ({describe_check(check)})"
        return None
    except sqlite3.DatabaseError as error:
        if is_corruption(error):
            return f"damaged ({error})"
        raise
    finally:
        db.close()


def describe_check(check: list[str]) -> str:
    """SQLite's quick_check lines, said briefly (its first line alone can be just '*** in database main ***')."""
    lines = [line for line in check if line.strip() and not line.startswith("*** in database")]
    return "; ".join(lines[:2]) + (f"; and {len(lines) - 2} more" if len(lines) > 2 else "") if lines else "malformed"


def rebuild_manifest(state: State, out: Path, notify: Notify) -> dict[str, int]:
    """Fill an empty manifest from the dataset's own rows (see the module docstring)."""
    articles = _article_rows(out, notify)
    rejects = _reject_rows(out, notify)
    newest: dict[str, dict] = {}
    conflicted: set[str] = set()
    for record in articles + rejects:
        seen = newest.get(record["raw_path"])
        if seen is not None:
            conflicted.add(record["raw_path"])
            if (record["updated_at"], record["status"] == FileStatus.ARTICLE) <= (seen["updated_at"], seen["status"] == FileStatus.ARTICLE):
                continue
        newest[record["raw_path"]] = record
    if conflicted:
        _drop_older_copies(out, articles, newest, conflicted)
        notify(f"{len(conflicted)} raw files had more than one row in the dataset: the newest was kept, and the"
               f" next run reparses them")
    names = [c.name for c in MANIFEST_COLUMNS]
    rows = []
    for raw_path, record in newest.items():
        if raw_path in conflicted:
            record = record | {"sha256": None}  # which copy is right is unknown: reparse
        rows.append(tuple(record.get(name) for name in names))
    runs = _run_rows(out)
    insert = f"INSERT INTO files ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    run_names = [c.name for c in RUN_COLUMNS]
    insert_run = f"INSERT OR IGNORE INTO runs ({', '.join(run_names)}) VALUES ({', '.join('?' * len(run_names))})"
    state.db.execute("BEGIN IMMEDIATE")
    try:
        state.db.executemany(insert, rows)
        state.db.executemany(insert_run, runs)
        state.db.execute("COMMIT")
    except BaseException:
        state.db.execute("ROLLBACK")
        raise
    return {"articles": sum(r[names.index("status")] == FileStatus.ARTICLE for r in rows),
            "rejects": sum(r[names.index("status")] == FileStatus.REJECT for r in rows), "runs": len(runs)}


def _article_rows(out: Path, notify: Notify) -> list[dict]:
    table = ArticlesTable(out)
    if not table.exists():
        return []
    layout, found, damaged = table.layout, [], []
    for live in table.live_files():
        path = layout.data_file(live.relative)
        try:
            rows = read_parquet(path, columns=_ARTICLE_COLUMNS + ["date"])
        except (DamagedFile, FileNotFoundError) as error:
            damaged.append(live.relative)
            notify(f"{error}: it cannot be read, so its raw files are unknown; removed from the table (the next"
                   f" run parses its raw files again; rows of raw files that are gone are lost)")
            continue
        for row in rows.to_pylist():
            found.append({
                "raw_path": row["raw_path"], "size": -1, "mtime_ns": -1, "sha256": row["raw_sha256"],
                "status": FileStatus.ARTICLE.value, "article_id": row["article_id"], "source": live.source,
                "date": _iso(row["date"]), "parser_version": row["parser_version"], "run_id": row["run_id"],
                "updated_at": _iso(row["ingested_at"]), "_file": live.relative,
            })
    if damaged:
        _remove_damaged(table, damaged)
    return found


def _remove_damaged(table: ArticlesTable, relatives: list[str]) -> None:
    """Take unreadable data files out of the table (one commit) and move them to _state/damaged/."""
    run_id = f"repair-{os.getpid()}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}"
    version = table.commit([], relatives, run_id, {"command": "repair", "damaged_files": len(relatives)})
    for relative in relatives:
        target = table.layout.damaged / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(table.layout.data_file(relative), target)
        except FileNotFoundError:
            pass
    write_file_list(table.layout, version, table.live_files())


def _reject_rows(out: Path, notify: Notify) -> list[dict]:
    path = rejects_file(out)
    if not path.exists():
        return []
    try:
        table = read_parquet(path, columns=_REJECT_COLUMNS)
    except DamagedFile as damaged:
        notify(f"{damaged}: its rejects are unknown; the next run looks at those raw files again")
        return []
    return [{
        "raw_path": row["raw_path"], "size": row["size"] if row["size"] is not None else -1, "mtime_ns": -1,
        "sha256": row["raw_sha256"], "status": FileStatus.REJECT.value, "reject_reason": row["reason"],
        "reject_message": row["message"], "parser_version": UNKNOWN_PARSER, "run_id": row["run_id"],
        "updated_at": _iso(row["rejected_at"]),
    } for row in table.to_pylist()]


def _run_rows(out: Path) -> list[tuple]:
    """The run log, from runs.parquet (the manifest's own copy of it is what was lost)."""
    path = runs_file(out)
    try:
        table = read_parquet(path)
    except (FileNotFoundError, DamagedFile):
        return []
    names = [c.name for c in RUN_COLUMNS]
    rows = []
    for row in table.to_pylist():
        rows.append(tuple(_iso(row.get(name)) if isinstance(row.get(name), dt.datetime) else row.get(name)
                          for name in names))
    return rows


def _drop_older_copies(out: Path, articles: list[dict], newest: dict[str, dict], conflicted: set[str]) -> None:
    """Rewrite each partition holding an article row of a conflicted path that is not its newest (one commit)."""
    stale: dict[str, set[str]] = {}
    for record in articles:
        winner = newest.get(record["raw_path"])
        if record["raw_path"] in conflicted and winner is not record and winner.get("_file") != record["_file"]:
            stale.setdefault(record["_file"], set()).add(record["raw_path"])
    if not stale:
        return
    table = ArticlesTable(out)
    layout = table.layout
    run_id = f"repair-{os.getpid()}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}"
    by_file = {live.relative: live for live in table.live_files()}
    adds = []
    for index, (relative, raw_paths) in enumerate(sorted(stale.items())):
        live = by_file[relative]
        rows = read_data_files(layout, (live.source, live.month), [relative])
        kept = rows.filter(pc.invert(pc.is_in(rows.column("raw_path"), value_set=pa.array(sorted(raw_paths)))))
        if kept.num_rows:
            adds.append(write_partition_file(layout, kept, live.source, live.month, run_id, 0, index))
    version = table.commit(adds, sorted(stale), run_id, {"command": "repair", "rewritten_files": len(stale)})
    write_file_list(layout, version, table.live_files())


def _dataset_has_rows(out: Path) -> bool:
    return rejects_file(out).exists() or bool(ArticlesTable(out).exists() and ArticlesTable(out).live_files())


def _set_aside(path: Path) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        sidecar = Path(f"{path}{suffix}")
        if sidecar.exists():
            os.replace(sidecar, Path(f"{aside}{suffix}"))
    return aside


def _remove_sidecars(path: Path) -> None:
    for suffix in ("-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def _iso(value) -> str | None:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
