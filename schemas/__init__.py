"""The dataset schema: the single source of truth for columns, types and docs."""
