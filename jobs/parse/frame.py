"""Records -> Arrow tables cast to the one schema. Pure.

Every batch, even an empty one, gets exactly the schema's types, so no file
ever holds a Null-typed column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from schemas.article import ARTICLE_COLUMNS, REJECT_COLUMNS, arrow_schema

# In memory, between workers and the writer, the partition keys travel as columns.
ARTICLE_BATCH_SCHEMA = arrow_schema(ARTICLE_COLUMNS, drop=("month",))  # month: derived from date when rows are grouped by partition
REJECT_BATCH_SCHEMA = arrow_schema(REJECT_COLUMNS)


def to_table(records: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    columns = {name: [record.get(name) for record in records] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)
