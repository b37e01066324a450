"""Domain errors. The library raises these; the CLI maps them to exit codes once."""

from __future__ import annotations

from schemas.article import RejectReason


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


class QueryTimedOut(ArticleLakeError):
    """`articles query --timeout` was reached; DuckDB was told to stop."""

    exit_code = 124  # as timeout(1)


class QueryInterrupted(ArticleLakeError):
    """Ctrl-C (SIGINT) stopped a query."""

    exit_code = 130  # 128 + SIGINT, as shells report it


class Rejected(Exception):
    """A raw file cannot become an article, for one of the closed set of reasons (RejectReason)."""

    def __init__(self, reason: RejectReason, message: str):
        self.reason = RejectReason(reason)  # a reason outside the set fails here, where it is raised
        self.message = message
        super().__init__(f"{self.reason}: {message}")

    def __reduce__(self):  # raised in worker processes: rebuilt from its own fields, not from the message
        return (type(self), (self.reason, self.message))


class DamagedFile(ArticleLakeError):
    """A file of the dataset cannot be read (truncated, bad bytes). The message names the file and,
    when there is one, the command that repairs it."""

    exit_code = 1

    def __init__(self, path, detail: str, repair: str | None = None):
        self.path = str(path)
        self.detail = detail
        self.repair = repair
        message = f"damaged file {self.path}: {detail}"
        if repair:
            message += f"; repair it with: {repair}"
        super().__init__(message)

    def __reduce__(self):  # raised in worker processes: rebuilt from its own fields, not from the message
        return (type(self), (self.path, self.detail, self.repair))


class DamagedManifest(DamagedFile):
    """The SQLite manifest is not a database or is malformed."""


class StorageFull(ArticleLakeError):
    """The disk (or a quota) ran out of space while writing; nothing of the run was committed."""

    exit_code = 1


_FULL_ERRNOS = (28, 122)  # ENOSPC, EDQUOT
_SQLITE_FULL = 13
_SQLITE_IOERR = 10
_FULL_TEXTS = ("No space left on device", "os error 28", "Disk quota exceeded")  # delta-rs and Arrow errors
_NEARLY_FULL_BYTES = 256 * 1024


def domain_error(error: BaseException, out_dir=None) -> BaseException:
    """The error to report for `error`: a full disk becomes StorageFull (its real cause first, once);
    anything else is returned as it is.

    SQLite says only "disk I/O error" when it cannot grow its -shm file on a full disk: with `out_dir`
    given, such an error on a filesystem with (nearly) no free space is a full disk too."""
    if isinstance(error, ArticleLakeError):
        return error
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    full = isinstance(error, OSError) and error.errno in _FULL_ERRNOS
    full = full or code == _SQLITE_FULL or any(text in str(error) for text in _FULL_TEXTS)
    full = full or (code == _SQLITE_IOERR and out_dir is not None and _nearly_full(out_dir))
    if full:
        where = f" ({error.filename})" if getattr(error, "filename", None) else ""
        return StorageFull(f"No space left on device{where}. The dataset is still readable and this run's staging"
                           f" files were removed; free some space and rerun to finish. ({error})")
    return error


def _nearly_full(out_dir) -> bool:
    import os
    path = os.fspath(out_dir)
    while path and not os.path.exists(path):
        path = os.path.dirname(path)
    try:
        stats = os.statvfs(path or ".")
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < _NEARLY_FULL_BYTES


_SQLITE_CORRUPT_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def manifest_damage(error: BaseException, manifest_path) -> DamagedManifest | None:
    """DamagedManifest for an SQLite error that says the manifest file itself is broken, else None."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code not in _SQLITE_CORRUPT_CODES:
        return None
    return DamagedManifest(manifest_path, str(error),
                           f"move it aside (mv {manifest_path} {manifest_path}.damaged): the next run rebuilds it from the dataset")
