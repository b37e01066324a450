"""The schema as text, JSON and the README's Markdown tables (from schemas/article.py and schemas/state.py)."""

from __future__ import annotations

from schemas.article import PARTITION_KEYS, REJECT_REASONS, SCHEMA_VERSION, TABLES
from schemas.state import FILE_STATUS_MEANINGS, MANIFEST_COLUMNS, RUN_STATUS_MEANINGS


def schema_as_dict() -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "partition_keys": list(PARTITION_KEYS),
        "tables": {
            table: [{"name": c.name, "type": c.sql_type, "nullable": c.nullable, "description": c.description}
                    for c in columns]
            for table, columns in TABLES.items()
        },
        "reject_reasons": {str(k): v for k, v in REJECT_REASONS.items()},
        "run_statuses": {str(k): v for k, v in RUN_STATUS_MEANINGS.items()},
        "file_statuses": {str(k): v for k, v in FILE_STATUS_MEANINGS.items()},
        "manifest": [{"name": c.name, "type": c.sql_type, "nullable": c.nullable, "description": c.description}
                     for c in MANIFEST_COLUMNS],
    }


def schema_as_text() -> str:
    lines = [f"schema_version {SCHEMA_VERSION}"]
    for table, columns in TABLES.items():
        lines.append(f"\n{table}")
        lines += [f"  {c.name:<16} {c.sql_type:<26} {'' if c.nullable else 'NOT NULL':<9} {c.description}" for c in columns]
    return "\n".join(lines)


def schema_markdown() -> str:
    """The README's schema section, between the markers; tests/test_docs.py keeps it in sync."""
    parts = []
    for table, columns in TABLES.items():
        parts.append(f"**{table}**\n\n| column | type | null | description |\n|---|---|---|---|")
        parts += [f"| `{c.name}` | {c.sql_type} | {'yes' if c.nullable else 'no'} | {c.description} |" for c in columns]
        parts.append("")
    parts.append("**Reject reasons**\n\n| reason | meaning |\n|---|---|")
    parts += [f"| `{reason}` | {meaning} |" for reason, meaning in REJECT_REASONS.items()]
    parts.append("\n**Run statuses** (`runs.status`)\n\n| status | meaning |\n|---|---|")
    parts += [f"| `{status}` | {meaning} |" for status, meaning in RUN_STATUS_MEANINGS.items()]
    parts.append("\n**Manifest** (`_state/manifest.sqlite`, table `files`: the run's own state, not for analysts)\n\n"
                 "| column | type | null | description |\n|---|---|---|---|")
    parts += [f"| `{c.name}` | {c.sql_type} | {'yes' if c.nullable else 'no'} | {c.description} |" for c in MANIFEST_COLUMNS]
    parts.append("\n**File statuses** (`files.status`, and per-file outcomes in the JSON log)\n\n| status | meaning |\n|---|---|")
    parts += [f"| `{status}` | {meaning} |" for status, meaning in FILE_STATUS_MEANINGS.items()]
    return "\n".join(parts)
