"""article-lake: raw RSS-to-Hexo article files to Hive-partitioned Parquet."""

# Bump whenever extraction output changes for any input; `reprocess
# --parser-older-than` finds stale rows by it. tests/test_parser_version.py
# fails when the golden outputs change without a bump.
PARSER_VERSION = "5"
