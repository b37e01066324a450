"""How partition values are spelled in Hive folder names (`source=<value>`).

Every writer and reader must agree on this, so it belongs to the schema:
values are percent-encoded only where they must be (`%`, `/`, `\\`, `=`,
control characters and a few characters that some filesystems refuse), so
Chinese and spaces stay readable, DuckDB and Polars decode them back, and no
value can make a path: `/` never survives and `..` becomes part of
`source=..`, a plain folder name.
"""

from __future__ import annotations

# The folder value Hive, DuckDB and Polars read back as NULL: undated articles live in `date=__HIVE_DEFAULT_PARTITION__`.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
MAX_SEGMENT_BYTES = 200  # below the 255-byte NAME_MAX of common filesystems
_MUST_ENCODE = set('%/\\=:*?"<>|#') | {chr(c) for c in range(0x20)} | {"\x7f"}


def encode_value(value: str) -> str:
    return "".join(_percent(ch) if ch in _MUST_ENCODE else ch for ch in value)


def _percent(ch: str) -> str:
    return "".join(f"%{byte:02X}" for byte in ch.encode("utf-8"))
