"""A cheap look at a body's HTML before lexbor parses it: refuse the shapes that make parsing blow up. Pure.

Two shapes cost far more than their size (measured with bench/screen_cost.py --hostile):
- table rows: the text markers extract() puts between rows are foster-parented by the HTML parser,
  and lexbor's memory and time grow quadratically with the rows of a table (16,000 rows: ~240 MB,
  32,000: 1.7 GB);
- nesting: lexbor's time grows quadratically with the depth of open elements (20,000 nested
  `<div>`: 1-4 s; 200,000 unclosed: ~2 minutes).
The budgets are far above any real article (of the 190 bodies of the reference corpus, data/raw and
tests/fixtures, the deepest nests 21 elements, the longest table has 8 rows, the most tags is 604;
tests/test_parse_screen.py checks every such file against a tenth of the budgets).
"""

from __future__ import annotations

import re

from jobs.errors import Rejected
from schemas.article import RejectReason

MAX_TABLE_ROWS = 4_000  # `<tr` tags in the whole body (~40 MiB and 0.2 s to parse at the budget)
MAX_DEPTH = 2_000  # elements open at once, counted as below (~0.05 s to parse at the budget)

# A body with fewer `<` than this cannot exceed either budget: most files pass on one str.count().
_NO_SCAN_BELOW = min(MAX_TABLE_ROWS, MAX_DEPTH)

_ROW = re.compile(r"<tr[\s/>]", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
# Elements that never stay open: void ones, and those whose end tag the parser supplies itself
# (a new <p>, <li> or <td> closes the previous one). Counting them would call a page of
# unclosed <p> deep, which it is not.
_NOT_NESTING = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "p", "li", "dt", "dd", "rt", "rp", "optgroup", "option", "tr", "td", "th", "thead", "tbody", "tfoot",
    "colgroup", "caption", "html", "head", "body",
})


def screen(html: str) -> None:
    """Raise Rejected("too_complex") when `html` has more table rows or deeper nesting than the budgets."""
    if html.count("<") < _NO_SCAN_BELOW:
        return
    rows = table_rows(html)
    if rows > MAX_TABLE_ROWS:
        raise Rejected(RejectReason.TOO_COMPLEX, f"{rows} table rows, more than the {MAX_TABLE_ROWS} a body may have")
    depth = nesting_depth(html, stop_above=MAX_DEPTH)
    if depth > MAX_DEPTH:
        raise Rejected(RejectReason.TOO_COMPLEX, f"elements nested more than {MAX_DEPTH} deep")


def nesting_depth(html: str, stop_above: int | None = None) -> int:
    """The most elements open at once: +1 per start tag, -1 per end tag (of any name), never below 0.

    Exact for well-formed HTML; for broken HTML an upper bound of what the parser builds, except
    that a stray end tag may close nothing in the parser. Stops counting above `stop_above`.
    """
    depth = deepest = 0
    for found in _TAG.finditer(html):
        if found.group(2).lower() in _NOT_NESTING:
            continue
        if found.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
    return deepest


def table_rows(html: str) -> int:
    """How many `<tr` start tags the body has (all its tables together)."""
    return len(_ROW.findall(html))
