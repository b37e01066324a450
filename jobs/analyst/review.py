"""`articles review`: what a reviewer needs to judge extraction per source, gathered from a raw dir.

Counts come from the same scan as `articles report` (report.py), so the page and the report
agree. For a sample of each source's articles the raw file is parsed again with
`parse_article`, and its body re-rendered inertly (safe_html.py) with each line judged:
kept, removed (in the raw text but not in the extracted paragraphs) or lifted (moved into a
field such as byline or editor). The sources' templates are learned from the same scan (report.py
`learned_templates`) and removed from each sample as a run would (jobs/parse/templates.py): a line
they remove is removed with family `template`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from jobs.analyst.report import RawDirScan, learned_templates, mark_templates, quality_table, repeated_paragraphs, scan_raw_dir
from jobs.analyst.safe_html import render_body, squash
from jobs.errors import Rejected, UsageError
from jobs.parse.decode import decode, normalise_newlines
from jobs.parse.front_matter import split_front_matter
from jobs.parse.templates import strip_template
from jobs.parse.record import parse_article
from schemas.raw_path import raw_file_path

# Record fields the extractor fills by lifting a line out of the text (those absent from the record are skipped).
LIFTED_FIELDS = ("original_title", "byline", "editor", "contributors", "keywords", "republished_from", "original_url")
METADATA_FIELDS = ("title", "source", "published_at", "date", "author", "category", "channel", "categories",
                   "raw_path", "encoding", "headimg", "thumbnail", "char_count", "paragraph_count", "image_count",
                   "image_urls", "link_urls", "extra")
SHORT = 4  # a line this short is only kept when an extracted paragraph is, or starts with, it
TEMPLATE = "template"  # the family of a line removed by its source's learned template


@dataclass
class Sample:
    raw_path: str
    record: dict[str, Any]
    raw_body: str  # inert HTML with marks
    removed: list[str] = field(default_factory=list)
    families: dict[str, str] = field(default_factory=dict)  # removed line -> family (`template`), when known
    lifted: list[tuple[str, str]] = field(default_factory=list)  # (field, raw line)


@dataclass
class SourceReview:
    source: str
    stats: dict[str, Any]  # the `articles report` row
    rejects_by_reason: list[dict[str, Any]]
    rejected_files: list[dict[str, Any]]
    per_day: list[tuple[dt.date, int]]
    undated: int
    candidates: list[dict[str, Any]]  # each marked `template` when the source's template has it
    samples: list[Sample]
    template: list[dict[str, Any]] = field(default_factory=list)  # the source's learned template (report.py)


@dataclass
class Review:
    raw_dir: str
    generated_at: dt.datetime
    totals: dict[str, int]
    sources: list[SourceReview]


class ParagraphJudge:
    """Kept, removed or lifted: one raw line against the record's paragraphs and lifted fields."""

    def __init__(self, record: dict[str, Any]):
        self.paragraphs = record["paragraphs"]
        self.kept = set(self.paragraphs)
        # Removed by the source's template (not kept: a repeat kept elsewhere in the article stays kept).
        self.template = {squash(r["text"]) for r in record.get("template_removed") or ()} - {squash(p) for p in self.paragraphs}
        # Joined without separators: a raw line the extractor split or joined differently still counts as kept.
        self.joined = squash("".join(self.paragraphs))
        self.lifted = [(name, squash(value)) for name in LIFTED_FIELDS for value in _values(record.get(name)) if squash(value)]
        self.verdicts: list[tuple[str, str, str | None]] = []

    def __call__(self, line: str) -> tuple[str, str | None]:
        verdict = self._judge(line)
        self.verdicts.append((line, *verdict))
        return verdict

    def _judge(self, line: str) -> tuple[str, str | None]:
        if line in self.kept:
            return "kept", None
        compact = squash(line)
        if compact in self.template:
            return "removed", TEMPLATE
        if len(compact) >= SHORT and compact in self.joined:
            return "kept", None
        if len(compact) < SHORT and any(p.startswith(line) for p in self.paragraphs):
            return "kept", None  # a bare label joined with its value
        for name, value in self.lifted:
            if value in compact:
                return "lifted", name
        return "removed", None


def build_review(raw_dir: str | Path, sources: tuple[str, ...] = (), sample: int = 3, workers: int = 1) -> Review:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise UsageError(f"raw dir {raw_dir} does not exist")
    if sample < 0:
        raise UsageError("--sample must be 0 or more")
    scan = scan_raw_dir(raw_dir, workers=workers)
    table = quality_table(scan)
    known = set(table["source"].to_list())
    if sources:
        missing = [s for s in sources if s not in known]
        if missing:
            raise UsageError(f"no source {', '.join(missing)} in {raw_dir} (sources: {', '.join(sorted(known))})")
        table = table.filter(pl.col("source").is_in(list(sources)))
    learned = learned_templates(scan)
    candidates = mark_templates(repeated_paragraphs(scan), learned)
    reviews = [_source_review(raw_dir, scan, row, candidates, learned, sample) for row in table.iter_rows(named=True)]
    totals = {name: int(table[name].sum()) for name in ("files", "rows", "rejects", "empty_text", "undated")}
    return Review(str(raw_dir), dt.datetime.now(dt.timezone.utc), totals, reviews)


def _source_review(raw_dir: Path, scan: RawDirScan, stats: dict, candidates: pl.DataFrame, learned: pl.DataFrame,
                   sample: int) -> SourceReview:
    source = stats["source"]
    template = learned.filter(pl.col("source") == source).drop("source")
    keys = frozenset(template["paragraph_key"].to_list())
    articles = scan.articles.filter(pl.col("source") == source)
    rejects = scan.rejects.filter(pl.col("source") == source)
    per_day = articles.drop_nulls("date").group_by("date").agg(pl.len().alias("n")).sort("date")
    by_reason = rejects.group_by("reason").agg(pl.len().alias("files")).sort(["files", "reason"], descending=[True, False])
    return SourceReview(
        source=source,
        stats=stats,
        rejects_by_reason=by_reason.to_dicts(),
        rejected_files=rejects.sort("raw_path").select("raw_path", "reason").to_dicts(),
        per_day=list(per_day.iter_rows()),
        undated=articles["date"].null_count(),
        candidates=candidates.filter(pl.col("source") == source).drop("source").to_dicts(),
        samples=[s for s in (_sample(raw_dir, p, keys) for p in _pick(articles, sample)) if s is not None],
        template=template.to_dicts(),
    )


def _pick(articles: pl.DataFrame, count: int) -> list[str]:
    """`count` articles spread evenly over the source's dates (deterministic)."""
    paths = articles.sort(["date", "raw_path"], nulls_last=True)["raw_path"].to_list()
    if count <= 0 or not paths:
        return []
    if len(paths) <= count:
        return paths
    step = (len(paths) - 1) / max(count - 1, 1)
    return list(dict.fromkeys(paths[round(i * step)] for i in range(count)))


def _sample(raw_dir: Path, raw_path: str, template_keys: frozenset[str] = frozenset()) -> Sample | None:
    try:
        data = Path(raw_file_path(raw_dir, raw_path)).read_bytes()
        record = parse_article(data, raw_path).as_dict()
        _, body_html = split_front_matter(normalise_newlines(decode(data)[0]))
    except (OSError, Rejected):  # changed or vanished since the scan: nothing to show
        return None
    _remove_template(record, template_keys)
    judge = ParagraphJudge(record)
    rendered = render_body(body_html, judge)
    removed = [line for line, status, _ in judge.verdicts if status == "removed"]
    families = {line: name for line, status, name in judge.verdicts if status == "removed" and name}
    lifted = [(name or "", line) for line, status, name in judge.verdicts if status == "lifted"]
    return Sample(raw_path, record, rendered, removed=removed, families=families, lifted=lifted)


def _remove_template(record: dict[str, Any], keys: frozenset[str]) -> None:
    """The record as the run writes it: its source's template removed (jobs/run/templates.py apply_template)."""
    kept, removed = strip_template(record["paragraphs"], keys)
    if not removed:
        return
    text = "\n".join(kept)
    record.update(paragraphs=kept, template_removed=[{"position": i, "text": t} for i, t in removed], text=text,
                  char_count=len(text), paragraph_count=len(kept))


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v]
    return [str(value)]
