"""Which raw files exist: walk the raw dir, match the globs, stat each file. I/O."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

DEFAULT_GLOBS = ("*.md", "*.markdown", "*.txt", "*.html")


@dataclass(frozen=True, slots=True)
class UnlistedFolder:
    """A folder under the raw dir that could not be listed (permission denied, I/O error)."""
    relative_dir: str  # '' for the raw dir itself
    error: str

    def describe(self) -> str:
        return f"cannot list folder {self.relative_dir or '.'!r} of the raw dir ({self.error})"


@dataclass(frozen=True, slots=True)
class RawFile:
    raw_path: str  # relative to the raw dir, '/'-separated
    size: int  # -1 when stat failed (dangling symlink, loop, vanished)
    mtime_ns: int


def discover(raw_dir: str, globs: Sequence[str] = DEFAULT_GLOBS,
             unlisted: list[UnlistedFolder] | None = None) -> Iterator[RawFile]:
    """Yield matching files in a stable (sorted) order.

    Hidden files and folders (leading `.`) are skipped; symlinked folders are not
    followed (no loops); a symlinked file is read through its link, and a broken
    one is still yielded (size -1) so it ends as a reject, not silence. A folder
    that cannot be listed is appended to `unlisted`: its files are not seen this
    run, which is not the same as deleted.
    """
    root = os.path.abspath(raw_dir)
    matches = _matcher(tuple(globs))
    stack = [""]
    while stack:
        relative_dir = stack.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, relative_dir)), key=lambda e: e.name)
        except OSError as error:
            if unlisted is not None:
                unlisted.append(UnlistedFolder(relative_dir, f"{type(error).__name__}: {error.strerror or error}"))
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            if _is_real_dir(entry):
                subdirs.append(relative)
            elif matches(relative, entry.name):
                yield _stat(entry, relative)
        stack.extend(reversed(subdirs))


def _is_real_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _matcher(globs: tuple[str, ...]):
    """One compiled regex for the name patterns, one for the path patterns (fnmatch per file is slow).

    A pattern with a '/' matches the whole relative path ('*' crosses folders); otherwise the name.
    """
    def compile_(patterns: list[str]) -> re.Pattern | None:
        return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)) if patterns else None

    by_name = compile_([g for g in globs if "/" not in g])
    by_path = compile_([g for g in globs if "/" in g])

    def matches(relative: str, name: str) -> bool:
        return bool((by_name and by_name.match(name)) or (by_path and by_path.match(relative)))

    return matches


def _stat(entry: os.DirEntry, relative: str) -> RawFile:
    try:
        stat = entry.stat(follow_symlinks=True)
    except OSError:
        return RawFile(relative, -1, -1)
    return RawFile(relative, stat.st_size, stat.st_mtime_ns)
