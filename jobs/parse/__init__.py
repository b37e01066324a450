"""Stage 1: the bytes of one raw file -> one record (or a Rejected reason). Pure: no I/O.

Imports only `schemas` and `jobs.errors` from the project.
"""

# Bump whenever extraction output changes for any input; `reprocess
# --parser-older-than` finds stale rows by it. tests/test_parser_version.py
# fails when the golden outputs change without a bump.
PARSER_VERSION = "7"
