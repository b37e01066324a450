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
)

PLACEHOLDER_HOSTS = ("picsum.photos",)


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
    if not any(host in url for host in PLACEHOLDER_HOSTS):
        return False
    host = (urlsplit(url).hostname or "").lower() if url else ""
    return host in PLACEHOLDER_HOSTS


def clean_list(urls: Iterable[str]) -> list[str]:
    """Unwrap each URL, keep http(s) ones, drop duplicates keeping first-seen order."""
    seen: dict[str, None] = {}
    for url in urls:
        url = url.strip()
        if not url:
            continue
        url = unwrap(url)
        if url.startswith(("http://", "https://", "//")) and url not in seen:
            seen[url] = None
    return list(seen)


def clean_single(url: str | None) -> str | None:
    """headimg/thumbnail: unwrap; placeholders and blanks become null."""
    if not url or not url.strip():
        return None
    url = unwrap(url.strip())
    return None if is_placeholder(url) else url
