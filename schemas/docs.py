"""The schema as text, JSON and the README's Markdown table (all from schemas/article.py)."""

from __future__ import annotations

from schemas.article import PARTITION_KEYS, REJECT_REASONS, SCHEMA_VERSION, TABLES


def schema_as_dict() -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "partition_keys": list(PARTITION_KEYS),
        "tables": {
            table: [{"name": c.name, "type": c.sql_type, "nullable": c.nullable, "description": c.description}
                    for c in columns]
            for table, columns in TABLES.items()
        },
        "reject_reasons": REJECT_REASONS,
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
    return "\n".join(parts)
