"""Domain errors. The library raises these; the CLI maps them to exit codes once."""

from __future__ import annotations


class ArticleLakeError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class UsageError(ArticleLakeError):
    """Bad options or arguments (for example a raw dir that does not exist)."""

    exit_code = 2


class OutputLocked(ArticleLakeError):
    """Another run holds the output folder."""

    exit_code = 3


class TooManyRejects(ArticleLakeError):
    """The run finished, but rejected more files than --max-reject-ratio allows."""

    exit_code = 4


class Rejected(Exception):
    """A raw file cannot become an article. `reason` is one of schemas.article.REJECT_REASONS."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
