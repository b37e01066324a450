"""Extraction speed: jobs.parse.body.extract(body, source) vs a bare lexbor parse plus text().

    python bench/extraction.py [RAW_DIR] [--limit N] [--rounds R] [--code DIR] [--profile]
    python bench/extraction.py [RAW_DIR] [--limit N] [--rounds R] --code NEW --against OLD

With --against, two code trees are timed side by side: each round runs one
fresh process per tree (order alternating), each timing the same bodies (those
both trees accept) three times in CPU time and keeping its best; the table gives the
median over rounds of each tree and the ratio NEW / OLD of the medians.

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
# Wall time by default; side by side, each process's CPU time (the machine may be shared: time spent
# waiting for a core is not the code's).
clock = time.perf_counter


def load(raw_dir: Path, limit: int, only: set[str] | None = None) -> list[tuple[str, str, str, bytes]]:
    """(raw_path, source, body_html, raw bytes) of every file that parses (of `only`, when given)."""
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
        if only is not None and str(Path(path).relative_to(raw_dir)) not in only:
            continue
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
    start = clock()
    for _, source, body, _ in items:
        extract(body, source)
    return clock() - start


def time_bare(items) -> float:
    from selectolax.lexbor import LexborHTMLParser
    start = clock()
    for _, _, body, _ in items:
        LexborHTMLParser(body).body.text()
    return clock() - start


def time_parse_article(items) -> float:
    from jobs.parse.record import parse_article
    start = clock()
    for raw_path, _, _, data in items:
        parse_article(data, raw_path)
    return clock() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path, nargs="?")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--code", type=Path, help="Import jobs/ from this tree instead of the live project.")
    parser.add_argument("--profile", action="store_true", help="cProfile extract() over all bodies, top 20 by own time.")
    parser.add_argument("--against", type=Path, help="Time --code (default: this project) side by side with this tree.")
    parser.add_argument("--child", choices=("list", "time"), help=argparse.SUPPRESS)
    parser.add_argument("--only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # The tree under test comes first on the path, before any installed copy of the project.
    sys.path.insert(0, str((args.code or BENCH.parent).resolve()))
    raw_dir = args.raw_dir
    if raw_dir is None:
        sys.path.insert(0, str(BENCH))
        from make_corpus import grow
        raw_dir = Path("/tmp/article-lake-bench/raw-extraction-5000")
        grow(raw_dir, 5000)
    if args.child:
        return child(args, raw_dir)
    if args.against:
        return side_by_side(args, raw_dir)
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


def child(args: argparse.Namespace, raw_dir: Path) -> int:
    """One tree in a fresh process: list the bodies it accepts, or time extract/bare/parse_article on `--only`."""
    import json
    only = set(args.only.read_text().splitlines()) if args.only else None
    items = load(raw_dir, args.limit, only)
    if args.child == "list":
        print("\n".join(item[0] for item in items))
        return 0
    global clock
    clock = time.process_time
    time_extract(items[:200]), time_bare(items[:200])
    ext = min(time_extract(items) for _ in range(3))
    bare = min(time_bare(items) for _ in range(3))
    whole = min(time_parse_article(items) for _ in range(2))
    print(json.dumps({"n": len(items), "extract": ext, "bare": bare, "whole": whole}))
    return 0


def side_by_side(args: argparse.Namespace, raw_dir: Path) -> int:
    import json
    import statistics
    import subprocess
    import tempfile

    new, old = (args.code or BENCH.parent).resolve(), args.against.resolve()
    base = [sys.executable, str(Path(__file__).resolve()), str(raw_dir), "--limit", str(args.limit)]

    def run(tree: Path, *extra: str) -> str:
        return subprocess.run([*base, "--code", str(tree), *extra], check=True, capture_output=True, text=True).stdout

    common = set(run(new, "--child", "list").splitlines()) & set(run(old, "--child", "list").splitlines())
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(sorted(common)))
    runs: dict[Path, list[dict]] = {new: [], old: []}
    for round_ in range(args.rounds):
        for tree in ((old, new) if round_ % 2 == 0 else (new, old)):
            runs[tree].append(json.loads(run(tree, "--child", "time", "--only", handle.name)))
    Path(handle.name).unlink()
    n = runs[new][0]["n"]
    median = {tree: {key: statistics.median(r[key] for r in rs) for key in ("extract", "bare", "whole")} for tree, rs in runs.items()}
    print(f"## Extraction side by side: {n} bodies both trees accept, from {raw_dir}; {args.rounds} rounds, "
          f"one process per tree per round (order alternating), CPU time, best of 3 passes in each; medians over rounds\n")
    print("| code | extract us/body | bare us/body | extract / bare | parse_article us/file |")
    print("|---|---:|---:|---:|---:|")
    for label, tree in (("old", old), ("new", new)):
        m = median[tree]
        print(f"| {label}: {tree} | {m['extract'] / n * 1e6:.0f} | {m['bare'] / n * 1e6:.0f} | {m['extract'] / m['bare']:.2f}x | "
              f"{m['whole'] / n * 1e6:.0f} |")
    per_round = [a["extract"] / b["extract"] for a, b in zip(runs[new], runs[old])]
    print(f"\n**extract new / old = {median[new]['extract'] / median[old]['extract']:.2f}x** (medians; per round: "
          f"{', '.join(f'{r:.2f}' for r in per_round)}); parse_article new / old = "
          f"{median[new]['whole'] / median[old]['whole']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
