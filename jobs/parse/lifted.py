"""What a body's rules lift out of the text instead of leaving it there: the source-rule channel. Pure.

Source rules (jobs/parse/sources/) and the generic boilerplate layer
(boilerplate.py) fill one LiftedFields per body; record.py turns it into
columns. Every field is optional: most bodies lift nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LiftedFields:
    original_title: str | None = None  # 原标题 line of a republished article (-> column original_title)
    byline: str | None = None  # author or reporter line (-> byline)
    editor: str | None = None  # 责任编辑 and the like (-> editor)
    republished_from: str | None = None  # outlet or account a repost notice names (-> republished_from)
    original_url: str | None = None  # URL of the original a repost notice gives (-> original_url)
    keywords: list[str] = field(default_factory=list)  # from the feed's keyword comment (-> keywords)
    contributors: list[str] = field(default_factory=list)  # readers credited for a tip (-> contributors)
    promo_images: list[str] = field(default_factory=list)  # image URLs of promo blocks: not headimg/thumbnail
    boilerplate: list[tuple[str, str]] = field(default_factory=list)  # (family, line) the generic layer dropped
