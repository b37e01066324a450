"""Per-source extraction rules, chosen by source name.

A new source is one module with one SourceRule subclass, listed in _RULES.
Sources without a rule get the generic extractor only.
"""

from __future__ import annotations

from jobs.parse.sources.base import SourceRule
from jobs.parse.sources.ithome import IthomeRule
from jobs.parse.sources.nineto5 import NineToFiveRule
from jobs.parse.sources.sina import SinaFinanceRule
from jobs.parse.sources.woshipm import WoshipmRule
from jobs.parse.sources.zaker import ZakerRule

_RULES: tuple[SourceRule, ...] = (SinaFinanceRule(), IthomeRule(), ZakerRule(), NineToFiveRule(), WoshipmRule())
_BY_SOURCE: dict[str, SourceRule] = {name: rule for rule in _RULES for name in rule.sources}
_GENERIC = SourceRule()


def rule_for(source: str) -> SourceRule:
    return _BY_SOURCE.get(source, _GENERIC)


__all__ = ["SourceRule", "rule_for"]
