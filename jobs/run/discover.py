"""Which raw files exist: walk the raw dir, match the globs, stat each file. I/O."""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from schemas.raw_path import stored_raw_path

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
    raw_path: str  # relative to the raw dir, '/'-separated, escaped as schemas.raw_path says (valid UTF-8)
    size: int  # -1 when stat failed (dangling symlink, loop, vanished)
    mtime_ns: int


def discover(raw_dir: str, globs: Sequence[str] = DEFAULT_GLOBS,
             unlisted: list[UnlistedFolder] | None = None, skip: Sequence[str] = ()) -> Iterator[RawFile]:
    """Yield matching files in a stable (sorted) order.

    Hidden files and folders (leading `.`) are skipped; symlinked folders are not
    followed (no loops); a symlinked file is read through its link, and a broken
    one is still yielded (size -1) so it ends as a reject, not silence. A folder
    that cannot be listed is appended to `unlisted`: its files are not seen this
    run, which is not the same as deleted. Folders in `skip` (the dataset's own, when the out dir
    lies in the raw dir) are never entered, whatever path reaches them.
    """
    root = os.path.abspath(raw_dir)
    matches = _matcher(tuple(globs))
    skipped = _identities(skip)
    stack = [""]
    while stack:
        relative_dir = stack.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, relative_dir)), key=lambda e: e.name)
        except OSError as error:
            if unlisted is not None:
                unlisted.append(UnlistedFolder(stored_raw_path(relative_dir),
                                               f"{type(error).__name__}: {error.strerror or error}"))
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            if _is_real_dir(entry):
                if not (skipped and _identity(entry) in skipped):
                    subdirs.append(relative)
            elif matches(relative, entry.name):
                yield _stat(entry, stored_raw_path(relative))
        stack.extend(reversed(subdirs))


def _identities(folders: Sequence[str]) -> set[tuple[int, int]]:
    found = set()
    for folder in folders:
        try:
            stat = os.stat(folder)
        except OSError:
            continue  # not there: nothing to skip
        found.add((stat.st_dev, stat.st_ino))
    return found


def _identity(entry: os.DirEntry) -> tuple[int, int] | None:
    try:
        return entry.stat(follow_symlinks=False).st_dev, entry.inode()
    except OSError:
        return None


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
