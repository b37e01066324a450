"""Front-matter date strings -> aware UTC datetimes. Pure."""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from jobs.errors import Rejected
from schemas.article import RejectReason

UTC = dt.timezone.utc
_RFC822 = re.compile(r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+(\d{2,4})\s")  # the weekday is optional
_FALLBACK_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d")


# What a generator writes when the feed item had no date: kept as an undated article, not rejected.
# `~` is YAML's other spelling of null (every scalar is read as a string, so `date: ~` arrives as "~").
NO_DATE_WORDS = frozenset({"invalid date", "undefined", "null", "~", "none", "nan", "nat", "n/a"})


def parse_published_at(value: object) -> dt.datetime | None:
    """Parse RFC 822, ISO 8601 (with or without offset) or a naive crawl time.

    Naive times are taken as UTC (the generator writes crawl times in UTC).
    No date, a blank one or the generator's `Invalid Date` gives None (an undated
    article). Raises Rejected(bad_date) for a date that says something unreadable.
    """
    if value is None or (isinstance(value, str) and (not value.strip() or value.strip().lower() in NO_DATE_WORDS)):
        return None
    if not isinstance(value, str):
        raise Rejected(RejectReason.BAD_DATE, f"date is a {type(value).__name__}, not a string")
    text = " ".join(value.split())
    parsed = _parse(text)
    if parsed is None:
        raise Rejected(RejectReason.BAD_DATE, f"unrecognised date {text[:80]!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Rejected(RejectReason.BAD_DATE, f"date out of range {text[:80]!r}") from None


_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# The generator's own form, `Sat, 06 Aug 2022 07:45:00 GMT`, read without the email module (hot path).
_GENERATOR_FORM = re.compile(r"[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT")


def _parse(text: str) -> dt.datetime | None:
    if (match := _GENERATOR_FORM.fullmatch(text)) and match.group(2) in _MONTHS:
        day, month, year, hour, minute, second = match.groups()
        try:
            return dt.datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        except ValueError:
            return None
    if rfc822 := _RFC822.match(text):
        try:
            parsed = email.utils.parsedate_to_datetime(text)
            # The email module widens any year below 100 (RFC 822's two-digit years: 22 -> 2022), even
            # one written with four digits: `0001` would become 2001. A year of 3+ digits is taken as written.
            written = rfc822.group(1)
            if len(written) > 2 and parsed.year != int(written):
                parsed = parsed.replace(year=int(written))
            return parsed
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
