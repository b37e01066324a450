-- article-lake views, generated from schemas/article.py by schemas/views.py (do not edit).
-- The dataset root: `article_lake_root` if set before (SET VARIABLE article_lake_root = '/srv/lake/parquet';),
-- else data/parquet under the current folder. From the repository root: duckdb -init schemas/views.sql
-- `articles` reads the Delta table's current version, as listed in _state/articles_files.parquet when
-- this file runs: the session keeps seeing that version (its files stay until vacuum); read this file
-- again for a newer one. `source` and `month` are always text. A table with no file yet (no rejects,
-- no runs, an empty dataset) is an empty view.
SET VARIABLE article_lake_root = coalesce(getvariable('article_lake_root'), 'data/parquet');
SET VARIABLE article_lake_articles_list = CASE WHEN (SELECT count(*) FROM glob(getvariable('article_lake_root') || '/_state/articles_files.parquet')) > 0
    THEN 'SELECT list_concat(list(getvariable(''article_lake_root'') || ''/articles/'' || path ORDER BY path), [getvariable(''article_lake_root'') || ''/_state/empty/source=_/month=_/empty.parquet'']) FROM read_parquet(getvariable(''article_lake_root'') || ''/_state/articles_files.parquet'')'
    ELSE 'SELECT NULL::VARCHAR[]' END;
SET VARIABLE article_lake_articles_files = (FROM query(getvariable('article_lake_articles_list')));
SET VARIABLE article_lake_articles = CASE WHEN getvariable('article_lake_articles_files') IS NOT NULL
    THEN 'SELECT * EXCLUDE (source, month), source, month FROM read_parquet(getvariable(''article_lake_articles_files''), hive_partitioning = true, hive_types = {''source'': ''VARCHAR'', ''month'': ''VARCHAR''})'
    ELSE 'SELECT CAST(NULL AS VARCHAR) AS "article_id", CAST(NULL AS DATE) AS "date", CAST(NULL AS VARCHAR) AS "title", CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS "published_at", CAST(NULL AS VARCHAR) AS "author", CAST(NULL AS VARCHAR) AS "category", CAST(NULL AS VARCHAR) AS "channel", CAST(NULL AS VARCHAR[]) AS "categories", CAST(NULL AS VARCHAR) AS "text", CAST(NULL AS VARCHAR[]) AS "paragraphs", CAST(NULL AS STRUCT("position" INTEGER, "text" VARCHAR)[]) AS "template_removed", CAST(NULL AS INTEGER) AS "char_count", CAST(NULL AS INTEGER) AS "paragraph_count", CAST(NULL AS INTEGER) AS "image_count", CAST(NULL AS VARCHAR[]) AS "image_urls", CAST(NULL AS VARCHAR[]) AS "link_urls", CAST(NULL AS VARCHAR) AS "headimg", CAST(NULL AS VARCHAR) AS "thumbnail", CAST(NULL AS VARCHAR) AS "original_title", CAST(NULL AS VARCHAR) AS "byline", CAST(NULL AS VARCHAR) AS "republished_from", CAST(NULL AS VARCHAR) AS "original_url", CAST(NULL AS VARCHAR) AS "editor", CAST(NULL AS VARCHAR[]) AS "keywords", CAST(NULL AS VARCHAR[]) AS "contributors", CAST(NULL AS VARCHAR) AS "raw_path", CAST(NULL AS VARCHAR) AS "raw_sha256", CAST(NULL AS VARCHAR) AS "encoding", CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS "ingested_at", CAST(NULL AS VARCHAR) AS "parser_version", CAST(NULL AS VARCHAR) AS "run_id", CAST(NULL AS VARCHAR) AS "extra", CAST(NULL AS VARCHAR) AS "source", CAST(NULL AS VARCHAR) AS "month" WHERE false' END;
CREATE OR REPLACE VIEW articles AS FROM query(getvariable('article_lake_articles'));
SET VARIABLE article_lake_rejects = CASE WHEN (SELECT count(*) FROM glob(getvariable('article_lake_root') || '/rejects/*.parquet')) > 0
    THEN 'SELECT * FROM read_parquet(getvariable(''article_lake_root'') || ''/rejects/*.parquet'', union_by_name = true)'
    ELSE 'SELECT CAST(NULL AS VARCHAR) AS "raw_path", CAST(NULL AS VARCHAR) AS "reason", CAST(NULL AS VARCHAR) AS "message", CAST(NULL AS VARCHAR) AS "raw_sha256", CAST(NULL AS BIGINT) AS "size", CAST(NULL AS VARCHAR) AS "run_id", CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS "rejected_at" WHERE false' END;
CREATE OR REPLACE VIEW rejects AS FROM query(getvariable('article_lake_rejects'));
SET VARIABLE article_lake_runs = CASE WHEN (SELECT count(*) FROM glob(getvariable('article_lake_root') || '/_state/runs.parquet')) > 0
    THEN 'SELECT * FROM read_parquet(getvariable(''article_lake_root'') || ''/_state/runs.parquet'', union_by_name = true)'
    ELSE 'SELECT CAST(NULL AS VARCHAR) AS "run_id", CAST(NULL AS VARCHAR) AS "command", CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS "started_at", CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS "finished_at", CAST(NULL AS VARCHAR) AS "status", CAST(NULL AS INTEGER) AS "exit_code", CAST(NULL AS BIGINT) AS "files_seen", CAST(NULL AS BIGINT) AS "files_parsed", CAST(NULL AS BIGINT) AS "articles_written", CAST(NULL AS BIGINT) AS "duplicates", CAST(NULL AS BIGINT) AS "rejects", CAST(NULL AS BIGINT) AS "partitions_written", CAST(NULL AS DOUBLE) AS "duration_s" WHERE false' END;
CREATE OR REPLACE VIEW runs AS FROM query(getvariable('article_lake_runs'));
SET VARIABLE article_lake_templates = CASE WHEN (SELECT count(*) FROM glob(getvariable('article_lake_root') || '/templates/*.parquet')) > 0
    THEN 'SELECT * FROM read_parquet(getvariable(''article_lake_root'') || ''/templates/*.parquet'', union_by_name = true)'
    ELSE 'SELECT CAST(NULL AS VARCHAR) AS "paragraph_key", CAST(NULL AS VARCHAR) AS "text", CAST(NULL AS BIGINT) AS "articles", CAST(NULL AS BIGINT) AS "source_articles", CAST(NULL AS DATE) AS "first_seen", CAST(NULL AS DATE) AS "last_seen", CAST(NULL AS VARCHAR) AS "source" WHERE false' END;
CREATE OR REPLACE VIEW templates AS FROM query(getvariable('article_lake_templates'));
