"""A run hashes each raw file once: parse_article takes the hash it already has, and still hashes alone."""

from __future__ import annotations

import dataclasses
import hashlib

from jobs.parse.record import parse_article
from paths import FIXTURES_RAW


def test_parse_article_alone_hashes_the_bytes():
    data = (FIXTURES_RAW / "sina.md").read_bytes()
    assert parse_article(data, "sina.md").raw_sha256 == hashlib.sha256(data).hexdigest()


def test_parse_article_takes_the_callers_hash_and_the_record_is_otherwise_identical():
    data = (FIXTURES_RAW / "sina.md").read_bytes()
    given = hashlib.sha256(data).hexdigest()
    alone, passed = parse_article(data, "sina.md"), parse_article(data, "sina.md", sha256=given)
    assert passed == alone
    # The given value is what lands in raw_sha256 (the caller owns it; not recomputed).
    assert parse_article(data, "sina.md", sha256="0" * 64) == dataclasses.replace(alone, raw_sha256="0" * 64)
