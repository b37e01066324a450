"""URL clean-up: unwrap proxies, redirectors and trackers; spot placeholders. Pure.

Each redirector is one entry in REDIRECTORS: (host suffix, path prefix, query
parameter holding the target). Adding one is one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urlsplit

# Proxies that take the target URL as the whole query string: https://proxy/?http://target
QUERY_PROXIES = ("cors.zfour.workers.dev",)

REDIRECTORS: tuple[tuple[str, str, str], ...] = (
    ("oschina.net", "/action/GoToLink", "url"),  # 开源中国
    ("c.duomai.com", "/track.php", "t"),  # cnBeta shopping links
    ("link.zhihu.com", "/", "target"),
    ("link.juejin.cn", "/", "target"),
    ("www.google.com", "/url", "q"),
    # Affiliate networks (Impact: *.pvxt.net, *.sjv.io, *.7eer.net, *.evyy.net) carry the target in u=;
    # their short links (`microsoft.pvxt.net/x9Vg1`) carry none and are kept as they are.
    ("pvxt.net", "/", "u"),
    ("sjv.io", "/", "u"),
    ("7eer.net", "/", "u"),
    ("evyy.net", "/", "u"),
    ("go.skimresources.com", "/", "url"),
    ("click.linksynergy.com", "/", "murl"),
)

PLACEHOLDER_HOSTS = ("picsum.photos",)
# Image files that stand in for a missing picture (Webtoons' guide placeholder, lazy-load blanks).
PLACEHOLDER_FILES = ("img-ctguide-white.png", "blank.gif", "spacer.gif", "pixel.gif", "transparent.gif", "1x1.gif", "1x1.png")
# A URL whose last segment is a JavaScript value: the page wrote a variable that was never set.
PLACEHOLDER_TAILS = ("/undefined", "/null", "/none", "/nan", "/[object%20object]", "/[object object]")


def unwrap(url: str) -> str:
    """Follow known proxies and redirectors (nested ones too) to the target URL."""
    for _ in range(4):  # proxies can be nested; a few levels is plenty
        target = _unwrap_once(url)
        if target == url:
            return url
        url = target
    return url


# Cheap substring test first: urlsplit is slow and almost no URL needs it.
_MARKERS = re.compile("|".join(re.escape(m) for m in (*QUERY_PROXIES, *(suffix for suffix, _, _ in REDIRECTORS))))


def _unwrap_once(url: str) -> str:
    if not _MARKERS.search(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if host in QUERY_PROXIES and parts.query:
        target = unquote(parts.query) if parts.query.startswith("http%3A") or parts.query.startswith("https%3A") else parts.query
        return target if target.startswith(("http://", "https://")) else url
    for suffix, path, param in REDIRECTORS:
        if (host == suffix or host.endswith("." + suffix)) and parts.path.startswith(path):
            # The target may itself contain '&' unescaped (duomai's t= comes last): take the raw tail.
            raw = parts.query
            marker = f"{param}="
            for piece_start in _param_starts(raw, marker):
                target = unquote(raw[piece_start + len(marker):]) if param == "t" else parse_qs(raw).get(param, [""])[0]
                if target.startswith(("http://", "https://")):
                    return target
    return url


def _param_starts(query: str, marker: str) -> Iterable[int]:
    start = 0
    while True:
        index = query.find(marker, start)
        if index < 0:
            return
        if index == 0 or query[index - 1] == "&":
            yield index
        start = index + 1


def is_placeholder(url: str) -> bool:
    """A stand-in, not a picture or a page: picsum.photos, a guide/blank image, a `/undefined` URL."""
    path = url.partition("?")[0].partition("#")[0].lower().rstrip("/")
    if path.endswith(PLACEHOLDER_TAILS) or path.endswith(PLACEHOLDER_FILES):
        return True
    for host in PLACEHOLDER_HOSTS:  # a substring test first: urlsplit is slow
        if host in url:
            break
    else:
        return False
    host = (urlsplit(url).hostname or "").lower()
    return host in PLACEHOLDER_HOSTS


def is_tracking_pixel(attributes: dict[str, str | None]) -> bool:
    """An <img> sized 0 or 1 pixel on a side (width/height attributes or inline style): a beacon, not a picture."""
    for name in ("width", "height"):
        value = (attributes.get(name) or "").strip().lower().removesuffix("px").strip()
        if value in ("0", "1"):
            return True
    style = (attributes.get("style") or "").replace(" ", "").lower()
    return bool(style) and ("width:1px" in style or "height:1px" in style or "width:0" in style)


def clean_list(urls: Iterable[str]) -> list[str]:
    """Unwrap each URL, keep http(s) ones that are not placeholders, drop duplicates keeping first-seen order."""
    seen: dict[str, None] = {}
    for url in urls:
        url = url.strip()
        if not url:
            continue
        url = unwrap(url)
        if url.startswith(("http://", "https://", "//")) and url not in seen and not is_placeholder(url):
            seen[url] = None
    return list(seen)


def clean_single(url: str | None) -> str | None:
    """headimg/thumbnail: unwrap; placeholders and blanks become null."""
    if not url or not url.strip():
        return None
    url = unwrap(url.strip())
    return None if is_placeholder(url) else url
