"""article-lake: raw RSS-to-Hexo article files to Hive-partitioned Parquet.

Stages, each a subpackage: `parse` (bytes -> record, pure), `lake` (the dataset
on disk), `run` (plan, work, merge, commit), `analyst` (query, status, report).
"""

__version__ = "0.1.0"
