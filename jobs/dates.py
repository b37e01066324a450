"""Front-matter date strings -> aware UTC datetimes. Pure."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from jobs.errors import Rejected

UTC = dt.timezone.utc
_RFC822 = re.compile(r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")  # the weekday is optional
_FALLBACK_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d")


def parse_published_at(value: object) -> dt.datetime:
    """Parse RFC 822, ISO 8601 (with or without offset) or a naive crawl time.

    Naive times are taken as UTC (the generator writes crawl times in UTC).
    Raises Rejected(missing_date | bad_date).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Rejected("missing_date", "front matter has no date")
    if not isinstance(value, str):
        raise Rejected("bad_date", f"date is a {type(value).__name__}, not a string")
    text = " ".join(value.split())
    parsed = _parse(text)
    if parsed is None:
        raise Rejected("bad_date", f"unrecognised date {text[:80]!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Rejected("bad_date", f"date out of range {text[:80]!r}") from None


def _parse(text: str) -> dt.datetime | None:
    if _RFC822.match(text):
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _FALLBACK_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None
