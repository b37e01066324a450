"""The manifest of raw files and the log of runs, in SQLite under OUT/_state. I/O.

SQLite gives atomic multi-row commits that survive a kill at any instant (WAL,
synchronous=FULL) and indexed lookups by path and by article id, with no
server and nothing to install. Commit order (jobs/run/commit.py): the run's Delta
commit first, the manifest last; a run that finds outcomes of a killed run rolls
them forward when its commit is in the table's log, and drops them when it is not.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from pathlib import Path

import pyarrow as pa

from jobs.lake.paths import manifest_file
from schemas.article import RUN_COLUMNS, RejectReason
from schemas.state import (ADDED_COLUMNS, FRAGMENT_COLUMNS, LEGACY_EDGE_TABLES, LEGACY_STATE_DDL, MANIFEST_COLUMNS, MANIFEST_DDL,
                           PENDING_COLUMNS, PENDING_FORGET, RUN_METRICS, FileStatus, RunStatus, add_column)



Threshold = Callable[[int], int]  # a source's article count -> the articles a template paragraph needs
_ARTICLE = f"status='{FileStatus.ARTICLE}'"
_RELEARN_ALL = 1  # PRAGMA user_version while seeded edges wait for a commit to learn every source's template
_REJECT = f"status='{FileStatus.REJECT}'"
_IN_FLIGHT = ("pending", "fragments", "pending_edge_texts")  # a run's rows until its manifest commit
_FINISH_RUN = ("UPDATE runs SET finished_at=?, status=?, exit_code=?, "
               + ", ".join(f"{name}=?" for name in RUN_METRICS) + " WHERE run_id=?")


class State:
    def __init__(self, out_dir: str | Path):
        path = manifest_file(out_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=60)
        if not self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # A run's `pending` rows are deleted at its commit (commit_pending): a big first run leaves as many
            # free pages as its rows took; incremental vacuum gives them back. Settable only on a new file.
            self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(fragments)")}
        if "date" in columns:  # the day-partitioned layout's staging index (empty between runs)
            self.db.execute("DROP TABLE fragments")
        self.db.executescript(LEGACY_STATE_DDL)
        legacy_edges = self._drop_legacy_edges()
        self.db.executescript(MANIFEST_DDL)
        for table, added in ADDED_COLUMNS.items():
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for column in added:
                if column.name not in have:
                    self.db.execute(add_column(table, column))
        if legacy_edges:  # the dropped tables were most of the file: give their pages back, once
            self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect with the VACUUM
            self.db.execute("VACUUM")

    def _drop_legacy_edges(self) -> bool:
        """Drop the edge tables of manifests made before `edge_hashes` (schemas/state.py): their articles' edges
        are then missing (edges_missing), and the next run seeds them from the table's rows."""
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        legacy = [name for name in LEGACY_EDGE_TABLES if name in tables]
        for name in legacy:
            self.db.execute(f"DROP TABLE {name}")
        return bool(legacy)

    def close(self) -> None:
        self.db.close()

    # -- the plan's listing and work (TEMP tables: on disk, this connection's own) --------------------
    # An ingest compares the raw dir's listing with `files` here, not in Python: at 200,000 files a dict of
    # the manifest and a list of the listing cost the driver ~200 MiB; SQLite pages both through its cache.
    def list_raw_files(self, files: Iterable[tuple[str, int, int]]) -> int:
        """Replace the listing with `files` ((raw_path, size, mtime_ns), in listing order); how many."""
        count = 0

        def rows():
            nonlocal count
            for row in files:
                count += 1
                yield row

        self.db.execute("DROP TABLE IF EXISTS temp.listing")
        self.db.execute("CREATE TEMP TABLE listing (raw_path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER)")
        self.db.execute("BEGIN")  # temp tables only: no lock on the manifest itself
        try:
            self.db.executemany("INSERT INTO temp.listing VALUES (?, ?, ?)", rows())
            self.db.execute("CREATE INDEX temp.listing_path ON listing (raw_path)")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return count

    def plan_work(self, parser_version: str) -> int:
        """Fill the work with the listed files a run must look at, in listing order; how many.

        A file needs a look when the manifest does not know it, its size or mtime changed, or it was a
        read_error (transient: tried every run) or a reject of another parser version. Its known hash is
        reused (equal bytes are not parsed again) unless it was such a reject; a read_error's message is
        kept (the same failure again changes nothing). Then the files sharing an article_id with a known
        file that changes: one of them may become the new winner (sorted by path).
        """
        marks = {"reject": FileStatus.REJECT.value, "read_error": RejectReason.READ_ERROR.value, "version": parser_version,
                 "article": FileStatus.ARTICLE.value}
        self.db.execute("DROP TABLE IF EXISTS temp.work")
        self.db.execute("CREATE TEMP TABLE work (raw_path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,"
                        " known_sha256 TEXT, known INTEGER NOT NULL, known_read_error TEXT)")
        self.db.execute("BEGIN")
        try:
            self.db.execute(
                "INSERT INTO temp.work SELECT l.raw_path, l.size, l.mtime_ns,"
                " CASE WHEN f.raw_path IS NULL OR (f.status = :reject AND f.parser_version != :version) THEN NULL"
                " ELSE f.sha256 END, f.raw_path IS NOT NULL,"
                " CASE WHEN f.status = :reject AND f.reject_reason = :read_error THEN f.reject_message END"
                " FROM temp.listing l LEFT JOIN main.files f ON f.raw_path = l.raw_path"
                " WHERE f.raw_path IS NULL OR f.size IS NOT l.size OR f.mtime_ns IS NOT l.mtime_ns"
                " OR (f.status = :reject AND (f.reject_reason = :read_error OR f.parser_version != :version))"
                " ORDER BY l.rowid", marks)
            self.db.execute("CREATE INDEX temp.work_path ON work (raw_path)")
            self.db.execute(
                "INSERT INTO temp.work SELECT l.raw_path, l.size, l.mtime_ns, NULL, 1, NULL"
                " FROM main.files s JOIN temp.listing l ON l.raw_path = s.raw_path"
                " WHERE s.article_id IN (SELECT f.article_id FROM temp.work w JOIN main.files f"
                "   ON f.raw_path = w.raw_path WHERE w.known AND f.status = :article)"
                " AND s.raw_path NOT IN (SELECT raw_path FROM temp.work) ORDER BY s.raw_path", marks)
            self.db.execute("DROP TABLE temp.listing")  # compared: only the work is read from here on
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return self.db.execute("SELECT count(*) FROM temp.work").fetchone()[0]

    def planned_work(self, page: int = 2000) -> Iterator[tuple[str, int, int, str | None, bool, str | None]]:
        """The work plan_work chose, in its order, read back a page at a time (so a caller may write between)."""
        last = 0
        while True:
            rows = self.db.execute("SELECT rowid, raw_path, size, mtime_ns, known_sha256, known, known_read_error"
                                   " FROM temp.work WHERE rowid > ? ORDER BY rowid LIMIT ?", (last, page)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for _, raw_path, size, mtime_ns, sha, known, read_error in rows:
                yield raw_path, size, mtime_ns, sha, bool(known), read_error

    def known_under(self, prefix: str) -> int:
        """How many raw paths the manifest knows under a folder prefix ('' for all)."""
        return self.db.execute("SELECT count(*) FROM files WHERE substr(raw_path, 1, ?) = ?",
                               (len(prefix), prefix)).fetchone()[0]

    # -- files -------------------------------------------------------------
    def article_files(self) -> Iterator[tuple[str, str, str, str]]:
        """(raw_path, source, date, parser_version) of every article file."""
        yield from self.db.execute(f"SELECT raw_path, source, date, parser_version FROM files WHERE {_ARTICLE}")

    def reject_paths(self) -> list[str]:
        return [row[0] for row in self.db.execute(f"SELECT raw_path FROM files WHERE {_REJECT}")]

    def rejects_table(self) -> pa.Table:
        rows = self.db.execute(
            "SELECT raw_path, reject_reason, reject_message, sha256, size, run_id, updated_at FROM files"
            f" WHERE {_REJECT} ORDER BY raw_path").fetchall()
        return _rejects(rows)

    # -- in flight (see schemas/state.py) ------------------------------------
    def add_pending(self, run_id: str, outcomes: pa.Table, fragments: list[tuple] = (), edges: list[tuple] = ()) -> None:
        """Stream one map task's outcomes (its fragment index, the texts of its articles' edge paragraphs:
        (source, text_hash, key, text)) in."""
        names = [c.name for c in PENDING_COLUMNS]
        rows = [(run_id, *(_sql_value(r.get(n)) for n in names[1:])) for r in outcomes.to_pylist()]
        self.db.execute("PRAGMA synchronous=NORMAL")  # the marker's FULL commit makes these durable
        with self._transaction():
            self.db.executemany(f"INSERT INTO pending ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", rows)
            self.db.executemany(f"INSERT INTO fragments VALUES ({', '.join('?' * len(FRAGMENT_COLUMNS))})",
                                [(run_id, s, _sql_value(d), f, b, n) for s, d, f, b, n in fragments])
            self.db.executemany("INSERT OR IGNORE INTO pending_edge_texts VALUES (?, ?, ?, ?, ?)",
                                [(run_id, *edge) for edge in edges])
        self.db.execute("PRAGMA synchronous=FULL")

    def add_forgotten(self, run_id: str, raw_paths: Iterable[str]) -> None:
        with self._transaction():
            self.db.executemany("INSERT INTO pending (run_id, raw_path, size, mtime_ns, status) VALUES (?, ?, -1, -1, ?)",
                                [(run_id, p, PENDING_FORGET) for p in raw_paths])

    def outcome_counts(self, run_id: str) -> tuple[dict[str, int], dict[str, int]]:
        """(files per status, rejects per reason) of this run's outcomes."""
        statuses = dict(self.db.execute("SELECT status, count(*) FROM pending WHERE run_id=? GROUP BY status", (run_id,)))
        reasons = dict(self.db.execute("SELECT reject_reason, count(*) FROM pending WHERE run_id=? AND status=?"
                                       " GROUP BY reject_reason", (run_id, FileStatus.REJECT.value)))
        return statuses, reasons

    def departures(self, run_id: str) -> Iterator[tuple[str, str | None, str]]:
        """(source, month, raw_path) of every earlier article row this run's outcomes supersede."""
        yield from self.db.execute(
            f"SELECT f.source, substr(f.date, 1, 7), f.raw_path FROM pending p JOIN files f ON f.raw_path = p.raw_path"
            f" WHERE p.run_id = ? AND p.status != ? AND f.{_ARTICLE}", (run_id, FileStatus.UNCHANGED.value))

    def fragment_partitions(self, run_id: str) -> Iterator[tuple[str, str | None]]:
        yield from self.db.execute("SELECT DISTINCT source, month FROM fragments WHERE run_id=?", (run_id,))

    def fragments_of(self, run_id: str, source: str, month: str | None) -> list[tuple[str, list[int]]]:
        rows = self.db.execute("SELECT fragment, batch FROM fragments WHERE run_id=? AND source=? AND month IS ?"
                               " ORDER BY fragment, batch", (run_id, source, month))
        found: dict[str, list[int]] = {}
        for fragment, batch in rows:
            found.setdefault(fragment, []).append(batch)
        return list(found.items())

    def runs_in_flight(self) -> list[str]:
        """Runs whose outcomes are pending: killed (or failed) before their manifest commit."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT run_id FROM pending ORDER BY run_id")]

    def drop_run(self, run_id: str) -> None:
        """Forget what a run left in flight (its Delta commit never happened)."""
        with self._transaction():
            for table in _IN_FLIGHT:
                self.db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))

    def rejects_after(self, run_id: str, rejected_at: dt.datetime) -> pa.Table:
        """Every reject once this run commits: earlier ones not superseded, and this run's."""
        rows = self.db.execute(
            "SELECT raw_path, reject_reason, reject_message, sha256, size, run_id, updated_at FROM files"
            f" WHERE {_REJECT} AND raw_path NOT IN (SELECT raw_path FROM pending WHERE run_id=? AND status != ?)"
            " UNION ALL SELECT raw_path, reject_reason, reject_message, sha256, size, run_id, ? FROM pending"
            " WHERE run_id=? AND status=? ORDER BY raw_path",
            (run_id, FileStatus.UNCHANGED.value, rejected_at.isoformat(), run_id, FileStatus.REJECT.value)).fetchall()
        return _rejects(rows)

    # -- edges of rows written without them (migration, a manifest rebuilt from the dataset) ---------
    def edges_missing(self) -> bool:
        """Articles are known but none of their edge paragraphs: the templates cannot be learned."""
        return bool(self.db.execute(f"SELECT EXISTS (SELECT 1 FROM files WHERE {_ARTICLE})"
                                    f" AND NOT EXISTS (SELECT 1 FROM files WHERE {_ARTICLE} AND edge_hashes IS NOT NULL)").fetchone()[0])

    def seed_edges(self, edge_hashes: Iterable[tuple[str, str]], texts: Iterable[tuple]) -> None:
        """The edges of the dataset's rows: (raw_path, edge_hashes) per article file, and their texts (source,
        text_hash, key, text); every source's template is then learned again by the next commit
        (relearn_pending), whatever it changes. An article file the rows do not name is left with none."""
        with self._transaction():
            self.db.execute(f"UPDATE files SET edge_hashes='' WHERE {_ARTICLE}")
            self.db.executemany(f"UPDATE files SET edge_hashes=? WHERE raw_path=? AND {_ARTICLE}",
                                [(hashes, raw_path) for raw_path, hashes in edge_hashes])
            self.db.execute("DELETE FROM edge_texts")
            self.db.executemany("INSERT OR IGNORE INTO edge_texts VALUES (?, ?, ?, ?)", texts)
            self.db.execute(f"PRAGMA user_version = {_RELEARN_ALL}")

    def relearn_pending(self) -> bool:
        """Edges were seeded and no commit has learned every source's template from them yet."""
        return self.db.execute("PRAGMA user_version").fetchone()[0] == _RELEARN_ALL

    def article_sources(self) -> set[str]:
        return {row[0] for row in self.db.execute(f"SELECT DISTINCT source FROM files WHERE {_ARTICLE}")}

    def commit_pending(self, run_id: str, parser_version: str, when: dt.datetime,
                       threshold: Threshold | None = None, every_source: bool = False) -> int:
        """Every outcome of the run into `files`, in one transaction that also ends it being in flight.

        Its articles' edge hashes come with their rows and its new edge texts join `edge_texts`; the texts no
        current article of a source it changed has any more go, and the templates of those sources are
        learned again with `threshold` (the same as the run used: templates_after).
        """
        names = [c.name for c in MANIFEST_COLUMNS]
        selected = ", ".join("?" if n in ("parser_version", "updated_at") else n for n in names)
        with self._transaction():
            sources = self.changed_sources(run_id) | (self.article_sources() if every_source else set())
            statuses = dict(self.db.execute("SELECT status, count(*) FROM pending WHERE run_id=? GROUP BY status",
                                            (run_id,)))
            files = sum(statuses.values())
            # Each statement below scans the run's pending rows: skipped when no row has its status.
            if statuses.get(PENDING_FORGET):
                self.db.execute("DELETE FROM files WHERE raw_path IN (SELECT raw_path FROM pending WHERE run_id=? AND status=?)",
                                (run_id, PENDING_FORGET))
            if statuses.get(FileStatus.UNCHANGED.value):
                self.db.execute("UPDATE files SET size=p.size, mtime_ns=p.mtime_ns FROM pending p"
                                " WHERE p.raw_path = files.raw_path AND p.run_id=? AND p.status=?",
                                (run_id, FileStatus.UNCHANGED.value))
            self.db.execute(f"INSERT OR REPLACE INTO files ({', '.join(names)}) SELECT {selected} FROM pending"
                            " WHERE run_id=? AND status IN (?, ?)",
                            (parser_version, when.isoformat(), run_id, FileStatus.ARTICLE.value, FileStatus.REJECT.value))
            self.db.execute("INSERT OR IGNORE INTO edge_texts SELECT source, text_hash, key, text FROM pending_edge_texts"
                            " WHERE run_id=?", (run_id,))
            for table in _IN_FLIGHT:
                self._delete_run(table, run_id)
            if sources and not self.edges_missing():  # (a run of an old manifest rolled forward: seeded next)
                learned, unused = self._learn(None, sources, threshold or (lambda n: 0))
                self.db.executemany("DELETE FROM edge_texts WHERE source=? AND text_hash=?", unused)
                if threshold is not None:
                    self._delete_in("DELETE FROM templates WHERE source IN ({})", sorted(sources))
                    self.db.executemany("INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?, ?)",
                                        [row for rows in learned.values() for row in rows.values()])
            if every_source:
                self.db.execute("PRAGMA user_version = 0")
        # The pages its pending rows took, back to the disk (executescript: execute frees one page, a step).
        self.db.executescript("PRAGMA incremental_vacuum;")
        return files

    # -- templates (jobs/parse/templates.py) -------------------------------
    def changed_sources(self, run_id: str) -> set[str]:
        """Sources whose articles this run adds, changes or takes away: their templates may change."""
        # Two DISTINCTs, not one UNION: a UNION keeps a temporary index of every row (0.9 s at 200,000).
        added = self.db.execute("SELECT DISTINCT source FROM pending WHERE run_id=? AND status=?",
                                (run_id, FileStatus.ARTICLE.value))
        superseded = self.db.execute(
            f"SELECT DISTINCT f.source FROM pending p JOIN files f ON f.raw_path = p.raw_path"
            f" WHERE p.run_id=? AND p.status != ? AND f.{_ARTICLE}", (run_id, FileStatus.UNCHANGED.value))
        return {row[0] for row in added} | {row[0] for row in superseded}

    def templates_after(self, run_id: str | None, sources: Iterable[str], threshold: Threshold) -> dict[str, dict[str, tuple]]:
        """Per source, {key: (source, key, text, articles, source_articles, first_seen, last_seen)} of its
        template once `run_id`'s outcomes are committed (None: as committed now).

        A key is a template when at least threshold(source_articles) of the source's articles have it at an
        edge; its text is the smallest spelling they have, its dates the earliest and latest of theirs.
        """
        return self._learn(run_id, sources, threshold)[0]

    def _learn(self, run_id: str | None, sources: Iterable[str], threshold: Threshold
               ) -> tuple[dict[str, dict[str, tuple]], list[tuple[str, str]]]:
        """(templates_after, the (source, text_hash) of edge_texts no current article of those sources names).

        Counted in Python from each current article's edge_hashes, one source at a time (the rows come ordered
        by source, so memory holds one source's): one Counter update per article (an article lists a key
        once, in one spelling), the spellings' counts summed per key.
        """
        run = run_id or ""
        current = (f"SELECT source, date, edge_hashes FROM files WHERE {_ARTICLE} AND source IN ({{0}})"
                   " AND raw_path NOT IN (SELECT raw_path FROM pending WHERE run_id=:run AND status != :unchanged)"
                   " UNION ALL SELECT source, date, edge_hashes FROM pending WHERE run_id=:run AND status=:article"
                   " AND source IN ({0}) ORDER BY source")
        # UNION: a spelling both committed and pending (the same key and text) comes once
        texts = ("SELECT text_hash, key, text FROM edge_texts WHERE source=:source"
                 " UNION SELECT text_hash, key, text FROM pending_edge_texts WHERE run_id=:run AND source=:source")
        learned: dict[str, dict[str, tuple]] = {}
        unused: list[tuple[str, str]] = []
        sources = sorted(set(sources))
        for start in range(0, len(sources), 500):
            chunk = sources[start:start + 500]
            names = {f"s{i}": source for i, source in enumerate(chunk)}
            marks = ",".join(f":s{i}" for i in range(len(chunk)))
            params = {"run": run, "unchanged": FileStatus.UNCHANGED.value, "article": FileStatus.ARTICLE.value, **names}
            seen = set()
            for source, group in itertools.groupby(self.db.execute(current.format(marks), params), key=itemgetter(0)):
                seen.add(source)
                rows = [(date, hashes.split() if hashes else ()) for _, date, hashes in group]
                found, gone = self._learn_source(source, rows, self.db.execute(texts, {"run": run, "source": source}),
                                                 threshold)
                if found:
                    learned[source] = found
                unused += gone
            for source in set(chunk) - seen:  # no current article: none of its texts is named any more
                unused += [(source, spelling) for (spelling, _, _) in self.db.execute(texts, {"run": run, "source": source})]
        return learned, unused

    @staticmethod
    def _learn_source(source: str, rows: list[tuple], texts: Iterable[tuple], threshold: Threshold
                      ) -> tuple[dict[str, tuple], list[tuple[str, str]]]:
        """One source's template from its current articles' (date, edge hashes) and its texts (text_hash, key, text)."""
        counts: Counter[str] = Counter()
        for _, hashes in rows:
            counts.update(hashes)
        keys: dict[str, list] = {}  # key -> [articles, smallest text]
        key_of: dict[str, str] = {}  # spelling -> key, of the spellings current articles have
        unused = []
        for spelling, key, text in texts:
            found = counts[spelling]
            if not found:
                unused.append((source, spelling))
                continue
            key_of[spelling] = key
            entry = keys.get(key)
            if entry is None:
                keys[key] = [found, text]
            else:
                entry[0] += found
                entry[1] = min(entry[1], text)
        need = max(2, threshold(len(rows)))
        template = {key for key, (articles, _) in keys.items() if articles >= need}
        if not template:
            return {}, unused
        dates: dict[str, list] = {}
        for date, hashes in rows:
            if date is None:
                continue
            for spelling in hashes:
                key = key_of.get(spelling)
                if key in template:
                    seen = dates.setdefault(key, [date, date])
                    seen[0], seen[1] = min(seen[0], date), max(seen[1], date)
        found = {}
        for key in sorted(template):
            articles, text = keys[key]
            first, last = dates.get(key, (None, None))
            found[key] = (source, key, text, articles, len(rows), first, last)
        return found, unused

    def stored_templates(self, sources: Iterable[str] | None = None) -> dict[str, dict[str, tuple]]:
        """Per source, {key: row} of the templates table (every source when `sources` is None)."""
        if sources is None:
            rows = self.db.execute("SELECT * FROM templates ORDER BY source, key")
        else:
            rows = self._select_in("SELECT * FROM templates WHERE source IN ({}) ORDER BY source, key", sorted(set(sources)))
        found: dict[str, dict[str, tuple]] = {}
        for row in rows:
            found.setdefault(row[0], {})[row[1]] = row
        return found

    def templates_table(self) -> pa.Table:
        """The templates view's rows (TEMPLATE_COLUMNS), by source and paragraph."""
        rows = [row for by_key in self.stored_templates().values() for row in by_key.values()]
        dates = [[dt.date.fromisoformat(r[i]) if r[i] else None for r in rows] for i in (5, 6)]
        return pa.table({
            "source": pa.array([r[0] for r in rows], pa.string()),
            "paragraph_key": pa.array([r[1] for r in rows], pa.string()),
            "text": pa.array([r[2] for r in rows], pa.string()),
            "articles": pa.array([r[3] for r in rows], pa.int64()),
            "source_articles": pa.array([r[4] for r in rows], pa.int64()),
            "first_seen": pa.array(dates[0], pa.date32()),
            "last_seen": pa.array(dates[1], pa.date32()),
        })

    # -- runs --------------------------------------------------------------
    def begin_run(self, run_id: str, command: str, started_at: dt.datetime) -> None:
        with self._transaction():
            self.db.execute("UPDATE runs SET status=? WHERE status=?", (RunStatus.ABANDONED.value, RunStatus.RUNNING.value))
            self.db.execute("INSERT INTO runs (run_id, command, started_at, status) VALUES (?,?,?,?)",
                            (run_id, command, started_at.isoformat(), RunStatus.RUNNING.value))

    def finish_run(self, run_id: str, finished_at: dt.datetime, status: str, exit_code: int, counts: dict[str, float]) -> None:
        with self._transaction():
            self.db.execute(_FINISH_RUN, (finished_at.isoformat(), RunStatus(status).value, exit_code,
                                          *(counts.get(name) for name in RUN_METRICS), run_id))

    def runs_table(self) -> pa.Table:
        names = [c.name for c in RUN_COLUMNS]
        rows = self.db.execute(f"SELECT {', '.join(names)} FROM runs ORDER BY started_at").fetchall()
        columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
        for name in ("started_at", "finished_at"):
            columns[name] = [dt.datetime.fromisoformat(v) if v else None for v in columns[name]]
        return pa.table(columns)

    # -- helpers -----------------------------------------------------------
    def _transaction(self):
        return _Transaction(self.db)

    def _delete_run(self, table: str, run_id: str) -> None:
        """A run's in-flight rows out of `table`; when they are all it holds (the usual case: one run at a time),
        a DELETE without WHERE, which SQLite does by dropping the pages instead of visiting every row."""
        others = self.db.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE run_id < ?)"
                                 f" OR EXISTS (SELECT 1 FROM {table} WHERE run_id > ?)", (run_id, run_id)).fetchone()[0]
        if others:
            self.db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
        else:
            self.db.execute(f"DELETE FROM {table}")

    def _delete_in(self, sql: str, values: list[str]) -> None:
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            self.db.execute(sql.format(",".join("?" * len(chunk))), chunk)

    def _select_in(self, sql: str, values: Iterable[str]) -> Iterator[tuple]:
        values = list(values)
        for start in range(0, len(values), 500):  # stay under SQLite's variable limit
            chunk = values[start:start + 500]
            yield from self.db.execute(sql.format(",".join("?" * len(chunk))), chunk)


def _sql_value(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def _rejects(rows: list[tuple]) -> pa.Table:
    names = ["raw_path", "reason", "message", "raw_sha256", "size", "run_id", "rejected_at"]
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    columns["size"] = [s if s is not None and s >= 0 else None for s in columns["size"]]
    columns["rejected_at"] = [dt.datetime.fromisoformat(v) for v in columns["rejected_at"]]
    return pa.table(columns)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._rollback()  # a failed COMMIT (a full disk) must not leave the transaction open
                raise
        self._rollback()

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # already rolled back by SQLite: the error being raised is the one that matters
