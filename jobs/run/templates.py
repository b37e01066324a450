"""Sources' templates in a run: learn them from the manifest (driver), apply them to rows (reduce tasks).

The driver, between map and reduce, learns the template of every source the run changes, as it will be once
the run commits (jobs/lake/manifest.py `templates_after`, the threshold of jobs/parse/templates.py), and
compares it with the stored one: a source whose template changed has every partition touched, so that all
its rows are cleaned again in this run's one commit. The reduce tasks apply each source's template to every
row they write, from the paragraphs as parsed (kept in the row: `paragraphs` + `template_removed`), so a
row's cleaning depends only on the current template, never on the order its files arrived in.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from jobs.lake.manifest import State
from jobs.lake.paths import PartitionKey
from jobs.lake.table import ArticlesTable, read_data_files
from jobs.parse import templates
from schemas.article import ARTICLE_FILE_SCHEMA

threshold = templates.min_articles  # a source's article count -> articles a template paragraph needs


@dataclass
class TemplatePlan:
    keys: dict[str, frozenset[str]]  # each source's template, as it will be after this run
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (paragraphs before, after)

    def partitions_to_clean(self, partitions: Iterable[PartitionKey]) -> set[PartitionKey]:
        """Every partition of a source whose template changed: its rows are cleaned again."""
        return {key for key in partitions if key[0] in self.changed}


def plan_templates(state: State, run_id: str, every_source: bool = False) -> TemplatePlan:
    """The templates after this run: of the sources it changes (every source, after edges were seeded)."""
    sources = state.changed_sources(run_id) | (state.article_sources() if every_source else set())
    stored = state.stored_templates()
    learned = state.templates_after(run_id, sources, threshold) if sources else {}
    keys = {source: frozenset(rows) for source, rows in stored.items()}
    changed = {}
    for source in sources:
        after = frozenset(learned.get(source, {}))
        before = keys.get(source, frozenset())
        if after != before:
            changed[source] = (len(before), len(after))
        keys[source] = after
    return TemplatePlan({s: k for s, k in keys.items() if k}, changed)


def apply_template(table: pa.Table, keys: frozenset[str], fresh: Collection[str] = ()) -> tuple[pa.Table, int]:
    """(the rows cleaned with `keys`, how many rows not in `fresh` (raw paths parsed this run) changed).

    Each row's paragraphs as parsed are its paragraphs with its template_removed put back; the template
    is then removed from them again (jobs/parse/templates.py strip_template) and text, counts follow.
    """
    if table.num_rows == 0:
        return table, 0
    removed_column = table.column("template_removed")
    if not keys and removed_column.null_count == 0 and not any(removed_column.to_pylist()):
        return table, 0
    paragraphs = table.column("paragraphs").to_pylist()
    paths = table.column("raw_path").to_pylist()
    fresh = set(fresh)
    new_paragraphs, new_removed, recleaned, any_change = [], [], 0, removed_column.null_count > 0
    for kept, removed, path in zip(paragraphs, removed_column.to_pylist(), paths):
        before = [(r["position"], r["text"]) for r in removed or ()]
        again, gone = templates.strip_template(templates.reinsert(kept, before), keys)
        if gone != before:
            any_change = True
            recleaned += path not in fresh
        new_paragraphs.append(again)
        new_removed.append([{"position": p, "text": t} for p, t in gone])
    if not any_change:
        return table, 0
    texts = ["\n".join(p) for p in new_paragraphs]
    columns = {
        "paragraphs": pa.array(new_paragraphs, ARTICLE_FILE_SCHEMA.field("paragraphs").type),
        "template_removed": pa.array(new_removed, ARTICLE_FILE_SCHEMA.field("template_removed").type),
        "text": pa.array(texts, pa.string()),
        "char_count": pa.array([len(t) for t in texts], pa.int32()),
        "paragraph_count": pa.array([len(p) for p in new_paragraphs], pa.int32()),
    }
    for name, values in columns.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), values)
    return table, recleaned


def seed_edges_from_table(state: State, table: ArticlesTable) -> int:
    """Fill the manifest's edges from the table's rows (their paragraphs as parsed: `paragraphs` with
    `template_removed` put back) when articles are known without them: a dataset migrated from the layout
    before the table, a manifest rebuilt from the dataset, a manifest of the per-row `edges` table. The
    edges (article and paragraph) seeded."""
    hashes: list[tuple[str, str]] = []
    texts: dict[tuple[str, str], tuple] = {}
    seeded = 0
    for live in table.live_files():
        rows = read_data_files(table.layout, (live.source, live.month), [live.relative])
        if rows is None:
            continue
        for raw_path, kept, removed in zip(rows.column("raw_path").to_pylist(), rows.column("paragraphs").to_pylist(),
                                           rows.column("template_removed").to_pylist()):
            parsed = templates.reinsert(kept, [(r["position"], r["text"]) for r in removed or ()])
            spellings = []
            for edge in templates.edges(parsed):
                spellings.append(spelling := templates.text_hash(edge.text))
                texts[(live.source, spelling)] = (live.source, spelling, edge.key, edge.text)
            hashes.append((raw_path, " ".join(spellings)))
            seeded += len(spellings)
    state.seed_edges(hashes, texts.values())
    return seeded
