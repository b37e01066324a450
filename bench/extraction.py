"""Extraction speed: jobs.parse.body.extract(body, source) vs a bare lexbor parse plus text().

    python bench/extraction.py [RAW_DIR] [--limit N] [--rounds R] [--code DIR] [--profile]

Bodies are split from their front matter up front (jobs.parse.front_matter, in
memory), so both sides time the HTML work alone:
  extract:  jobs.parse.body.extract(body, source)          (rules, markers, images, links, <pre>, paragraphs)
  bare:     LexborHTMLParser(body).body.text()
Rounds alternate the two (the machine is noisy); the best round of each is
compared. The issue's target is extract <= 1.3x bare. Also per source, and
the whole parse_article (decode + front matter + dates + extract + ids) per
file for scale. RAW_DIR defaults to a 5,000-file corpus made by make_corpus.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def load(raw_dir: Path, limit: int) -> list[tuple[str, str, str, bytes]]:
    """(raw_path, source, body_html, raw bytes) of every file that parses."""
    from jobs.parse.decode import decode, normalise_newlines
    from jobs.errors import Rejected
    from jobs.parse.front_matter import split_front_matter
    from jobs.parse.record import _as_list, _as_text, _reduce_markdown, derive_source

    sys.path.insert(0, str(BENCH))
    from floor import list_files

    items = []
    paths = list_files(str(raw_dir))
    if limit and limit < len(paths):  # an even stride, not the first N: those would be a few sources only
        paths = paths[:: len(paths) // limit][:limit]
    for path in paths:
        data = Path(path).read_bytes()
        try:
            metadata, body = split_front_matter(normalise_newlines(decode(data)[0]))
            categories = _as_list(metadata.get("categories"))
            source = derive_source(_reduce_markdown(_as_text(metadata.get("author"))), categories,
                                   str(Path(path).relative_to(raw_dir)))
        except Rejected:
            continue
        items.append((str(Path(path).relative_to(raw_dir)), source, body, data))
    return items


def time_extract(items) -> float:
    from jobs.parse.body import extract
    clock = time.perf_counter()
    for _, source, body, _ in items:
        extract(body, source)
    return time.perf_counter() - clock


def time_bare(items) -> float:
    from selectolax.lexbor import LexborHTMLParser
    clock = time.perf_counter()
    for _, _, body, _ in items:
        LexborHTMLParser(body).body.text()
    return time.perf_counter() - clock


def time_parse_article(items) -> float:
    from jobs.parse.record import parse_article
    clock = time.perf_counter()
    for raw_path, _, _, data in items:
        parse_article(data, raw_path)
    return time.perf_counter() - clock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path, nargs="?")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--code", type=Path, help="Import jobs/ from this tree instead of the live project.")
    parser.add_argument("--profile", action="store_true", help="cProfile extract() over all bodies, top 20 by own time.")
    args = parser.parse_args(argv)
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    raw_dir = args.raw_dir
    if raw_dir is None:
        sys.path.insert(0, str(BENCH))
        from make_corpus import grow
        raw_dir = Path("/tmp/article-lake-bench/raw-extraction-5000")
        grow(raw_dir, 5000)
    import jobs
    items = load(raw_dir, args.limit)
    body_bytes = sum(len(b.encode()) for _, _, b, _ in items)

    time_extract(items[:200]), time_bare(items[:200])  # warm up imports, regex caches
    ext, bare, whole = [], [], []
    for _ in range(args.rounds):
        ext.append(time_extract(items))
        bare.append(time_bare(items))
    for _ in range(max(1, args.rounds // 2)):
        whole.append(time_parse_article(items))
    n = len(items)
    e, b, w = min(ext), min(bare), min(whole)
    print(f"## Extraction: {n} bodies ({body_bytes / 1e6:.1f} MB of HTML) from {raw_dir}, jobs from {Path(jobs.__file__).parent}, "
          f"best of {args.rounds} alternating rounds\n")
    print("| what | s (best) | s (median) | us/body | bodies/s | ratio to bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in (("bare: LexborHTMLParser(body).body.text()", bare), ("jobs.parse.body.extract(body, source)", ext),
                       ("jobs.parse.record.parse_article(bytes) (whole file, for scale)", whole)):
        best, median = min(runs), sorted(runs)[len(runs) // 2]
        print(f"| {name} | {best:.3f} | {median:.3f} | {best / n * 1e6:.0f} | {n / best:.0f} | {best / b:.2f}x |")
    ratio = e / b
    print(f"\n**extract / bare = {ratio:.2f}x** (target <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'})\n")

    by_source = defaultdict(list)
    for item in items:
        by_source[item[1]].append(item)
    print("| source | bodies | extract us/body | bare us/body | ratio |")
    print("|---|---:|---:|---:|---:|")
    rows = []
    for source, group in by_source.items():
        es = min(time_extract(group) for _ in range(3))
        bs = min(time_bare(group) for _ in range(3))
        rows.append((es / bs, source, len(group), es / len(group) * 1e6, bs / len(group) * 1e6))
    for ratio_s, source, count, eu, bu in sorted(rows, reverse=True):
        print(f"| {source} | {count} | {eu:.0f} | {bu:.0f} | {ratio_s:.2f}x |")

    if args.profile:
        import cProfile
        import pstats
        profile = cProfile.Profile()
        profile.enable()
        time_extract(items)
        profile.disable()
        print("\n```")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(20)
        print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
