"""The parse floor: the least work any ingest must do per file, in one bare process.

    python bench/floor.py RAW_DIR [--limit N]

For every *.md under RAW_DIR (sorted, hidden entries skipped, as `articles
ingest` lists them): read the bytes, decode UTF-8, frontmatter.loads(text),
LexborHTMLParser(body) and [p.text() for p in tree.css('p')]. Prints one JSON
line: files, seconds of the loop (listing excluded), files_per_s, chars of
paragraph text (so the work cannot be optimised away).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import frontmatter
from selectolax.lexbor import LexborHTMLParser


def list_files(root: str) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith(".md") and not f.startswith("."))
    return found


def floor(paths: list[str]) -> tuple[float, int]:
    chars = 0
    clock = time.perf_counter()
    for path in paths:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        post = frontmatter.loads(text)
        tree = LexborHTMLParser(post.content)
        chars += sum(len(t) for t in [p.text() for p in tree.css("p")])
    return time.perf_counter() - clock, chars


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw_dir")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    paths = list_files(args.raw_dir)
    if args.limit:
        paths = paths[:args.limit]
    seconds, chars = floor(paths)
    print(json.dumps({"files": len(paths), "seconds": round(seconds, 3), "files_per_s": round(len(paths) / seconds, 1),
                      "paragraph_chars": chars}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
