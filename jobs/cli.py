"""The `articles` command line: thin over the library. Each command validates its
options, makes one library call and maps domain errors to exit codes once (`_run`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from jobs.errors import ArticleLakeError
from jobs.run.engine import EngineName

HELP = """Turn raw RSS-to-blog article files (Markdown with YAML front matter and an HTML body)
into a clean, typed Parquet dataset, partitioned by source and date, that DuckDB and Polars query.

\b
Start with:
  articles ingest                 parse new and changed files of data/raw (the nightly job)
  articles status                 what the dataset holds, feed by feed, and how runs went
  articles query "SELECT ..."     SQL over the views articles, rejects and runs

Exit codes: 0 ok, 1 failure, 2 usage error, 3 output folder locked by another run, 4 too many rejects,
124 query --timeout reached, 130 interrupted (Ctrl-C).
"""

app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP, rich_markup_mode=None)


def _show_version(value: bool) -> None:
    if value:
        from jobs import __version__
        from jobs.parse import PARSER_VERSION
        from schemas.article import SCHEMA_VERSION
        typer.echo(f"articles {__version__} (parser {PARSER_VERSION}, schema {SCHEMA_VERSION})")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """The options common to every command."""

RawDir = Annotated[Path, typer.Option("--raw-dir", help="Folder of raw article files (searched recursively).")]
OutDir = Annotated[Path, typer.Option("--out-dir", help="Dataset folder (articles/, rejects/, _state/).")]
Workers = Annotated[Optional[int], typer.Option("--workers", help="Parser processes (default: all cores).")]
Wait = Annotated[float, typer.Option("--wait", help="Seconds to wait for another run's lock before exiting 3.")]
LogJson = Annotated[bool, typer.Option("--log-json", help="One JSON log line per event on stderr.")]
EngineOption = Annotated[EngineName, typer.Option("--engine", help="Where tasks run: local (process pool on this machine) or dask.")]
Scheduler = Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address (tcp://HOST:8786); without it --engine dask starts a LocalCluster of --workers processes.")]
MaxBytes = Annotated[int, typer.Option("--max-bytes", help="Files larger than this are rejected as too_large.")]
Retention = Annotated[float, typer.Option("--retention", help="Hours a superseded data file stays for readers of older versions before vacuum removes it.")]
MaxRejectRatio = Annotated[float, typer.Option("--max-reject-ratio", help="Exit 4 when more than this share of parsed files is rejected.")]


class OutputFormat(str, Enum):
    """`query --format`: a closed set, so typos are refused by the option parser."""
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _run(call):
    """Call the library; turn domain errors into a message and an exit code, once. An OSError the
    library did not name (a disk error, a folder that vanished) is still one line, exit 1."""
    try:
        return call()
    except ArticleLakeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(error.exit_code) from None
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        typer.echo(f"error: {error.strerror or error}{where}", err=True)
        raise typer.Exit(1) from None


def _options(raw_dir, out_dir, workers=None, **extra):
    from jobs.run.options import RunOptions
    options = RunOptions(raw_dir=raw_dir, out_dir=out_dir, **extra)
    if workers is not None:
        options.workers = workers
    return options


@app.command()
def ingest(
    raw_dir: RawDir = Path("data/raw"),
    out_dir: OutDir = Path("data/parquet"),
    glob: Annotated[Optional[list[str]], typer.Option("--glob", help="File pattern, repeatable (default: *.md *.markdown *.txt *.html).")] = None,
    workers: Workers = None,
    max_bytes: MaxBytes = 8 * 1024 * 1024,
    max_reject_ratio: MaxRejectRatio = 0.5,
    wait: Wait = 0.0,
    log_json: LogJson = False,
    engine: EngineOption = EngineName.local,
    scheduler: Scheduler = None,
    retention: Retention = 168.0,
) -> None:
    """Parse new and changed raw files into the dataset (the nightly job).

    Example: articles ingest --raw-dir data/raw --out-dir data/parquet
    """
    from jobs.run.discover import DEFAULT_GLOBS
    from jobs.run.events import choose_sink
    from jobs.run.pipeline import ingest as run_ingest

    options = _options(raw_dir, out_dir, workers, globs=tuple(glob) if glob else DEFAULT_GLOBS, max_bytes=max_bytes,
                       max_reject_ratio=max_reject_ratio, wait_seconds=wait, engine_name=engine, scheduler=scheduler,
                       retention_hours=retention)
    report = _run(lambda: run_ingest(options, choose_sink(log_json)))
    typer.echo(report.summary())
    raise typer.Exit(report.exit_code)


@app.command()
def reprocess(
    raw_dir: RawDir = Path("data/raw"),
    out_dir: OutDir = Path("data/parquet"),
    date_from: Annotated[Optional[dt.datetime], typer.Option("--from", formats=["%Y-%m-%d"], help="First date (YYYY-MM-DD).")] = None,
    date_to: Annotated[Optional[dt.datetime], typer.Option("--to", formats=["%Y-%m-%d"], help="Last date (YYYY-MM-DD).")] = None,
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Source name, repeatable.")] = None,
    parser_older_than: Annotated[Optional[str], typer.Option("--parser-older-than", help="Partitions holding rows of an older parser_version.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every partition, and every reject.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Drop rows whose raw file no longer exists.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do it; without --yes only print the plan.")] = False,
    workers: Workers = None,
    wait: Wait = 0.0,
    log_json: LogJson = False,
    engine: EngineOption = EngineName.local,
    scheduler: Scheduler = None,
    retention: Retention = 168.0,
) -> None:
    """Rebuild chosen partitions from the raw files (after a parser change).

    Example: articles reprocess --from 2022-08-01 --to 2022-08-07 --source 新浪财经 --yes
    """
    from jobs.run.events import choose_sink
    from jobs.run.pipeline import Selection, plan_reprocess, reprocess as run_reprocess

    if not (everything or date_from or date_to or source or parser_older_than):
        typer.echo("error: choose what to rebuild: --from/--to, --source, --parser-older-than or --all", err=True)
        raise typer.Exit(2)
    selection = Selection(date_from.date() if date_from else None, date_to.date() if date_to else None,
                          tuple(source or ()), parser_older_than, everything, prune)
    options = _options(raw_dir, out_dir, workers, wait_seconds=wait, engine_name=engine, scheduler=scheduler,
                       retention_hours=retention)
    if not yes:
        preview = _run(lambda: plan_reprocess(options, selection))
        for line in preview.lines():
            typer.echo(line)
        return
    report = _run(lambda: run_reprocess(options, selection, choose_sink(log_json)))
    typer.echo(report.summary())
    raise typer.Exit(report.exit_code)


@app.command()
def status(
    out_dir: OutDir = Path("data/parquet"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    runs: Annotated[int, typer.Option("--runs", help="How many recent runs to show.")] = 5,
    as_of: Annotated[Optional[dt.datetime], typer.Option("--as-of", formats=["%Y-%m-%d"], help="Judge feed health as of this day (YYYY-MM-DD, UTC); default: now.")] = None,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when any feed health flag is raised (for cron or a monitor).")] = False,
    stale_min_days: Annotated[float, typer.Option("--stale-min-days", help="stale: no article for more than max(this, ...")] = 3.0,
    stale_gap_factor: Annotated[float, typer.Option("--stale-gap-factor", help="... this x the feed's median gap between articles).")] = 5.0,
    drop_ratio: Annotated[float, typer.Option("--drop-ratio", help="drop: last 7 days below this share of the usual 7-day volume ...")] = 0.3,
    drop_min_usual: Annotated[float, typer.Option("--drop-min-usual", help="... when the usual 7-day volume is at least this.")] = 7.0,
    spike_factor: Annotated[float, typer.Option("--spike-factor", help="rejects/empty/undated: last run's share above this x the earlier runs' ...")] = 3.0,
    spike_min_share: Annotated[float, typer.Option("--spike-min-share", help="... and at least this share ...")] = 0.2,
    spike_min_files: Annotated[int, typer.Option("--spike-min-files", help="... and at least this many files ...")] = 3,
    history_min_files: Annotated[int, typer.Option("--history-min-files", help="... when earlier runs saw at least this many files of the source.")] = 10,
) -> None:
    """Feed health per source (last article, last 7 and 30 days, a 30-day sparkline, flags), rows and
    date range, rejects by reason, recent runs, size on disk.

    Example: articles status --check --as-of 2022-08-10
    """
    from jobs.analyst.health import Thresholds
    from jobs.analyst.status import dataset_status
    from jobs.analyst.status_view import render_status

    thresholds = Thresholds(stale_min_days=stale_min_days, stale_gap_factor=stale_gap_factor, drop_ratio=drop_ratio,
                            drop_min_usual=drop_min_usual, spike_factor=spike_factor, spike_min_share=spike_min_share,
                            spike_min_files=spike_min_files, history_min_files=history_min_files)
    info = _run(lambda: dataset_status(out_dir, runs, as_of.date() if as_of else None, thresholds))
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False, default=str))
    else:
        render_status(info, sys.stdout)
    if check and info["flags_raised"]:
        raise typer.Exit(1)


@app.command()
def query(
    sql: Annotated[Optional[str], typer.Argument(help="SQL over the views articles, rejects, runs.")] = None,
    out_dir: OutDir = Path("data/parquet"),
    output_format: Annotated[OutputFormat, typer.Option("--format", help="How to print or save the result.")] = OutputFormat.table,
    output: Annotated[Optional[Path], typer.Option("--output", help="Write to this file (never inside --out-dir) instead of stdout: a new path or a regular file, replaced whole; never a symlink, FIFO or device.")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", min=0.0, help="Stop a query after this many seconds (exit 124).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Read articles as of this table version (articles history) or ISO instant (UTC unless given), within the vacuum retention.")] = None,
) -> None:
    """Run SQL in DuckDB over the views articles, rejects and runs (reads nothing else, writes only --output).

    Example: articles query --format csv "select source, count(*) from articles group by 1"
    Without SQL on a terminal, opens an interactive prompt. Ctrl-C stops a query (exit 130; at the
    prompt it cancels the query or line and keeps the prompt).
    With --as-of, `articles` is that older version (rejects and runs stay the current ones).
    """
    import signal
    # Ctrl-C (or `kill -INT`, even when started with SIGINT ignored, as `&` does) stops the query however
    # early it comes: from here on, not only once the query runs (imports and opening the table take a second).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from jobs.analyst.output import interactive, run_query
        from jobs.lake.out_dir import require_dataset
    except KeyboardInterrupt:
        typer.echo("error: query interrupted (Ctrl-C)", err=True)
        raise typer.Exit(130) from None

    _run(lambda: require_dataset(out_dir))
    if sql is None:
        if not sys.stdin.isatty():
            sql = sys.stdin.read()
        else:
            _run(lambda: interactive(out_dir, timeout, as_of))
            return
    _run(lambda: run_query(out_dir, sql, output_format.value, output, timeout, as_of))


@app.command()
def verify(
    out_dir: OutDir = Path("data/parquet"),
    raw_dir: Annotated[Optional[Path], typer.Option("--raw-dir", help="Raw dir, only to spell the repair commands.")] = None,
) -> None:
    """Read every data file and check the dataset against the manifest; exit 1 naming each problem and its repair.

    Example: articles verify --out-dir data/parquet
    """
    from jobs.analyst.verify import verify_dataset
    from jobs.lake.out_dir import require_dataset

    _run(lambda: require_dataset(out_dir))
    result = _run(lambda: verify_dataset(out_dir, raw_dir))
    for line in result.lines():
        typer.echo(line)
    raise typer.Exit(result.exit_code)


@app.command()
def history(
    out_dir: OutDir = Path("data/parquet"),
    limit: Annotated[Optional[int], typer.Option("--limit", help="Only the newest N versions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per version, one per line.")] = False,
) -> None:
    """List the articles table's versions, newest first: when, which run and command, files and rows
    added and removed. Any version still within the retention can be read with `query --as-of`.

    Example: articles history --limit 5
    """
    from jobs.lake.history import history_lines, table_history
    from jobs.lake.paths import Layout

    changes = table_history(Layout(out_dir), limit)
    if as_json:
        for change in changes:
            typer.echo(json.dumps(change.as_dict(), ensure_ascii=False, default=str))
        return
    if not changes:
        typer.echo(f"no table at {out_dir}/articles yet")
        return
    for line in history_lines(changes):
        typer.echo(line)


@app.command()
def vacuum(
    out_dir: OutDir = Path("data/parquet"),
    retention: Retention = 168.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    wait: Wait = 0.0,
) -> None:
    """Remove data files superseded more than --retention hours ago and files no version names (a killed
    run's, a stray copied in). Every run does this too; readers of an older version lose it.

    Example: articles vacuum --retention 24 --dry-run
    """
    from jobs.run.maintain import vacuum_dataset

    result = _run(lambda: vacuum_dataset(out_dir, retention, dry_run, wait))
    for line in result.lines():
        typer.echo(line)


@app.command()
def migrate(
    out_dir: OutDir = Path("data/parquet"),
    wait: Wait = 0.0,
    log_json: LogJson = False,
) -> None:
    """Convert a dataset of the source/date layout (before the Delta table) into the table, keeping every
    row as it was. The first ingest or reprocess does it too.

    Example: articles migrate --out-dir data/parquet
    """
    from jobs.run.events import choose_sink
    from jobs.run.maintain import migrate_dataset

    typer.echo(_run(lambda: migrate_dataset(out_dir, choose_sink(log_json), wait)))


@app.command()
def views(out_dir: OutDir = Path("data/parquet")) -> None:
    """Print DuckDB views (articles, rejects, runs) over this dataset, for your own DuckDB.

    Example: articles views --out-dir /srv/lake > views.sql && duckdb -init views.sql
    """
    from jobs.lake.out_dir import require_dataset
    from schemas.views import render_views_file

    _run(lambda: require_dataset(out_dir))
    typer.echo(render_views_file(str(out_dir.resolve())), nl=False)


@app.command()
def schema(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False) -> None:
    """Print every column of articles, rejects and runs with its type and description.

    Example: articles schema --json
    """
    from schemas.docs import schema_as_dict, schema_as_text

    typer.echo(json.dumps(schema_as_dict(), ensure_ascii=False) if as_json else schema_as_text())


@app.command()
def report(
    raw_dir: RawDir = Path("data/raw"),
    workers: Workers = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
) -> None:
    """Extraction quality per source over a raw dir (writes nothing), paragraphs that repeat
    at the start or end of many of a source's articles, and each source's learned template.

    Example: articles report --raw-dir ../shared/corpus/real
    """
    from jobs.analyst.output import markdown_table
    from jobs.analyst.report import (learned_templates, mark_templates, quality_table, repeated_paragraphs, report_rows,
                                     scan_raw_dir)
    from jobs.errors import UsageError
    from jobs.run.engine import default_workers

    def scan():
        if not raw_dir.is_dir():
            raise UsageError(f"raw dir {raw_dir} does not exist")
        return scan_raw_dir(raw_dir, workers=workers or default_workers())

    scanned = _run(scan)
    if as_json:
        typer.echo(json.dumps(report_rows(scanned), ensure_ascii=False))
        return
    table = quality_table(scanned)
    typer.echo(markdown_table(table.columns, table.rows()))
    learned = learned_templates(scanned)
    candidates = mark_templates(repeated_paragraphs(scanned), learned)
    typer.echo(f"\nRepeated paragraphs at the start or end of a source's articles: {candidates.height}"
               " (template: the source's learned template has it)")
    if candidates.height:
        typer.echo(markdown_table(candidates.columns, candidates.rows()))
    shown = learned.drop("paragraph_key")
    typer.echo(f"\nSource templates (removed by a run over this raw dir): {learned.height} paragraphs"
               f" in {learned['source'].n_unique()} sources")
    if learned.height:
        typer.echo(markdown_table(shown.columns, shown.rows()))


@app.command()
def review(
    html_file: Annotated[Path, typer.Option("--html", help="Write the review page to this HTML file.")],
    raw_dir: RawDir = Path("data/raw"),
    source: Annotated[Optional[list[str]], typer.Option("--source", help="Only this source, repeatable (default: all).")] = None,
    sample: Annotated[int, typer.Option("--sample", help="Articles shown raw beside extracted, per source.")] = 3,
    workers: Workers = None,
) -> None:
    """One self-contained HTML page to review extraction per source: counts, rejects, repeated
    paragraphs, articles per day, and sample articles with the raw body beside the extracted text.

    Example: articles review --html review.html --raw-dir ../shared/corpus/more --sample 2
    """
    from jobs.analyst.review import build_review
    from jobs.analyst.review_page import save_review
    from jobs.run.engine import default_workers

    built = _run(lambda: build_review(raw_dir, tuple(source or ()), sample, workers or default_workers()))
    _run(lambda: save_review(built, html_file))
    typer.echo(f"wrote {html_file}: {len(built.sources)} sources, {sum(len(s.samples) for s in built.sources)} sample articles")


@app.command()
def inspect(
    path: Annotated[Path, typer.Argument(help="One raw file.")],
    raw_dir: Annotated[Optional[Path], typer.Option("--raw-dir", help="Raw dir the file is ingested from (default: data/raw): raw_path is shown relative to it, as the dataset stores it.")] = None,
) -> None:
    """Print the parsed record of one raw file (front matter, paragraphs, metadata) as JSON.

    Example: articles inspect data/raw/source/_posts/金融/新浪财经/新浪财经－国內/x.md
    """
    from jobs.analyst.inspect import inspect_raw_file

    record = _run(lambda: inspect_raw_file(path, raw_dir))
    typer.echo(json.dumps(record, ensure_ascii=False, indent=2))


if __name__ == "__main__":  # pragma: no cover
    app()
