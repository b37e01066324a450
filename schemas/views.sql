-- article-lake views, generated from schemas/article.py by schemas/views.py (do not edit).
-- From the repository root: duckdb -init schemas/views.sql
-- `source` is always text and `date` a DATE, whatever the folder names look like.
CREATE OR REPLACE VIEW articles AS SELECT * FROM read_parquet('data/parquet/articles/**/*.parquet', hive_partitioning = true,
    hive_types = {'source': 'VARCHAR', 'date': 'DATE'}, union_by_name = true);
CREATE OR REPLACE VIEW rejects AS SELECT * FROM read_parquet('data/parquet/rejects/*.parquet', union_by_name = true);
CREATE OR REPLACE VIEW runs AS SELECT * FROM read_parquet('data/parquet/_state/runs.parquet', union_by_name = true);
