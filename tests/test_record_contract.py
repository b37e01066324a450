"""Typed contracts between the parser and the schema: a misspelt name fails loudly, never as a null column.

- The record a parse returns (ArticleRecord) has one field per article column, in column order, except the
  columns a run stamps (RunStamp) and `month`, derived from `date` at the partition step (a partition key of
  the table, in its log and paths, never in a record); a field that may be None belongs to a nullable column.
- Arrow tables built from records carry exactly the records' values and the run's stamp.
- Reject reasons are a closed enum: each one documented, and Rejected refuses a reason outside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

import pytest

from jobs.errors import Rejected
from jobs.lake.paths import month_of
from jobs.parse.frame import ARTICLE_BATCH_SCHEMA, DERIVED_FIELDS, RUN_STAMP_FIELDS, TEMPLATE_FIELDS, RunStamp, article_table
from jobs.parse.record import RECORD_FIELDS, ArticleRecord, parse_article
from paths import FIXTURES_RAW
from schemas.article import ARTICLE_COLUMNS, ARTICLE_FILE_SCHEMA, PARTITION_KEYS, REJECT_REASONS, RejectReason

COLUMNS = {column.name: column for column in ARTICLE_COLUMNS}
STAMP = RunStamp(ingested_at=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc), parser_version="9.9", run_id="run-1")


def _fixture_records() -> list[ArticleRecord]:
    return [parse_article(path.read_bytes(), path.name) for path in sorted(FIXTURES_RAW.glob("*.md"))]


def test_record_fields_and_run_stamp_are_the_article_columns_in_order():
    assert not set(RECORD_FIELDS) & set(RUN_STAMP_FIELDS)
    assert not set(DERIVED_FIELDS) & (set(RECORD_FIELDS) | set(RUN_STAMP_FIELDS))
    assert RECORD_FIELDS == tuple(c.name for c in ARTICLE_COLUMNS if c.name not in RUN_STAMP_FIELDS + DERIVED_FIELDS + TEMPLATE_FIELDS)
    assert set(RECORD_FIELDS) | set(RUN_STAMP_FIELDS) | set(DERIVED_FIELDS) | set(TEMPLATE_FIELDS) == set(COLUMNS)


def test_derived_columns_are_partition_keys_kept_out_of_the_data_files():
    assert set(DERIVED_FIELDS) <= set(PARTITION_KEYS)
    assert not set(DERIVED_FIELDS) & set(ARTICLE_FILE_SCHEMA.names)
    assert not set(DERIVED_FIELDS) & set(ARTICLE_BATCH_SCHEMA.names)


def test_month_read_back_is_the_month_of_each_rows_date(tmp_path):
    from helpers_pipeline import read_articles, run_ingest, write_raw
    raw, out = tmp_path / "raw", tmp_path / "out"
    for path in sorted(FIXTURES_RAW.glob("*.md")):
        write_raw(raw, path.name, path.read_bytes())
    write_raw(raw, "undated.md", "---\ntitle: t\nauthor: 无日期源\ndate: Invalid Date\n---\n\n<p>正文。</p>\n")
    assert run_ingest(raw, out).exit_code in (0, 4)  # some fixtures are rejects by design
    rows = read_articles(out)
    assert len(rows) > 10 and any(row["date"] is None for row in rows)
    assert all(row["month"] == month_of(row["date"]) for row in rows)


@pytest.mark.parametrize("field", dataclasses.fields(ArticleRecord) + dataclasses.fields(RunStamp), ids=lambda f: f.name)
def test_a_field_that_may_be_none_belongs_to_a_nullable_column(field):
    optional = "None" in str(field.type)  # annotations are strings (from __future__ import annotations)
    assert not optional or COLUMNS[field.name].nullable, f"{field.name} may be None but its column is NOT NULL"


def test_a_misspelt_field_is_an_error_not_a_null_column():
    record = parse_article((FIXTURES_RAW / "sina.md").read_bytes(), "sina.md")
    with pytest.raises(TypeError):
        dataclasses.replace(record, titel="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.title = "x"  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):  # slots: no attribute outside the fields
        object.__setattr__(record, "titel", "x")


def test_article_table_holds_each_records_values_and_the_run_stamp():
    records = _fixture_records()
    table = article_table(records, STAMP)
    assert table.schema.equals(ARTICLE_BATCH_SCHEMA)
    assert table.num_rows == len(records) > 10
    rows = table.to_pylist()
    for record, row in zip(records, rows):
        assert {name: row[name] for name in RECORD_FIELDS} == record.as_dict()
        assert {name: row[name] for name in RUN_STAMP_FIELDS} == dataclasses.asdict(STAMP)


def test_article_table_of_no_records_is_typed():
    table = article_table([], STAMP)
    assert table.num_rows == 0 and table.schema.equals(ARTICLE_BATCH_SCHEMA)


def test_as_dict_is_every_field_in_order():
    record = _fixture_records()[0]
    assert list(record.as_dict()) == list(RECORD_FIELDS)
    assert record.as_dict() == dataclasses.asdict(record)


def test_every_reject_reason_is_documented_and_nothing_else_is():
    assert list(REJECT_REASONS) == list(RejectReason)
    assert all(meaning.strip() for meaning in REJECT_REASONS.values())


def test_rejected_refuses_a_reason_outside_the_enum():
    with pytest.raises(ValueError):
        Rejected("bad_dates", "a misspelt reason")
    assert Rejected("bad_date", "spelt right").reason is RejectReason.BAD_DATE


def test_rejected_survives_pickling_with_its_reason_and_message():
    """Workers raise it in other processes: it must come back with its fields, not a merged message."""
    rejected = pickle.loads(pickle.dumps(Rejected(RejectReason.TOO_LARGE, "9 bytes > --max-bytes 8")))
    assert (rejected.reason, rejected.message) == (RejectReason.TOO_LARGE, "9 bytes > --max-bytes 8")
