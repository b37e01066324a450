"""Which raw files exist: walk the raw dir, match the globs, stat each file. I/O."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

DEFAULT_GLOBS = ("*.md", "*.markdown", "*.txt", "*.html")


@dataclass(frozen=True, slots=True)
class RawFile:
    raw_path: str  # relative to the raw dir, '/'-separated
    size: int  # -1 when stat failed (dangling symlink, loop, vanished)
    mtime_ns: int


def discover(raw_dir: str, globs: Sequence[str] = DEFAULT_GLOBS) -> Iterator[RawFile]:
    """Yield matching files in a stable (sorted) order.

    Hidden files and folders (leading `.`) are skipped; symlinked folders are not
    followed (no loops); a symlinked file is read through its link, and a broken
    one is still yielded (size -1) so it ends as a reject, not silence.
    """
    root = os.path.abspath(raw_dir)
    stack = [""]
    while stack:
        relative_dir = stack.pop()
        try:
            entries = sorted(os.scandir(os.path.join(root, relative_dir)), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
            if _is_real_dir(entry):
                subdirs.append(relative)
            elif _matches(relative, entry.name, globs):
                yield _stat(entry, relative)
        stack.extend(reversed(subdirs))


def _is_real_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _matches(relative: str, name: str, globs: Sequence[str]) -> bool:
    # A pattern with a '/' matches the whole relative path ('*' crosses folders); otherwise the name.
    return any(fnmatch.fnmatchcase(relative if "/" in g else name, g) for g in globs)


def _stat(entry: os.DirEntry, relative: str) -> RawFile:
    try:
        stat = entry.stat(follow_symlinks=True)
    except OSError:
        return RawFile(relative, -1, -1)
    return RawFile(relative, stat.st_size, stat.st_mtime_ns)
