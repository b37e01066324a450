"""Front-matter date strings -> aware UTC datetimes. Pure."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Callable

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


# A feed post is not older than the web's feeds, nor later than the run that reads it (a day of clock skew allowed).
EARLIEST_PLAUSIBLE = dt.datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_SLACK = dt.timedelta(days=1)
IMPLAUSIBLE_KEY = "_date_implausible"  # the key in `extra` saying what was done with an implausible date
# A full date (year, month, day; a time optional) as a body line or a path spells it.
_STATED = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/._年]\s*(\d{1,2})\s*[-/._月]\s*(\d{1,2})(?!\d)\s*[日号]?"
                     r"(?:[\sT_]*(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?")


def implausible_reason(published_at: dt.datetime, run_time: dt.datetime) -> str | None:
    """Why a front-matter instant cannot be a feed post's, or None when it can."""
    if published_at < EARLIEST_PLAUSIBLE:
        return f"before {EARLIEST_PLAUSIBLE.year}"
    if published_at > run_time + FUTURE_SLACK:
        return "more than a day after the run's time"
    return None


def settle_implausible(published_at: dt.datetime | None, front_matter: object, run_time: dt.datetime,
                       stated_in_body: Callable[[], list[str]], raw_path: str) -> tuple[dt.datetime | None, dict | None]:
    """(instant to keep, note for `extra`): a plausible date as is; else one the body or the raw path states; else None.

    `stated_in_body` gives the body's date-only lines (asked only for an implausible date). Dates inside
    sentences are events, not the post's date.
    """
    if published_at is None or (reason := implausible_reason(published_at, run_time)) is None:
        return published_at, None
    note = {"front_matter": str(front_matter), "reason": reason, "used": None}
    for origin, texts in (("body", stated_in_body()), ("raw_path", [raw_path])):
        for text in texts:
            stated = _stated_instant(text)
            if stated is not None and implausible_reason(stated, run_time) is None:
                note["used"] = origin
                return stated, note
    return None, note


def _stated_instant(text: str) -> dt.datetime | None:
    for found in _STATED.finditer(text):
        year, month, day, hour, minute, second = (int(part) if part else 0 for part in found.groups())
        try:
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            continue
    return None
