"""What the pre-scan before lexbor (jobs/parse/screen.py) costs on normal files, and what it saves on hostile ones.

    python bench/screen_cost.py [RAW_DIR] [--limit N] [--rounds R]
    python bench/screen_cost.py --hostile

Normal files: parse_article on the same files with the screen and with it replaced by a no-op,
rounds alternating (the machine is shared), CPU time of this process, best round of each; plus
screen() alone over the same bodies. RAW_DIR defaults to a 5,000-file corpus made by
bench/make_corpus.py under /tmp. The target: the screen costs at most 2 % of parse time.

--hostile: extract() time and peak memory (a fresh process per case) on tables of N rows and on
N nested <div>, closed and unclosed: the curve the budgets were chosen from.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DEFAULT_CORPUS = Path("/tmp/article-lake-bench-screen")


def load(raw_dir: Path, limit: int) -> list[tuple[str, bytes, str]]:
    """(raw_path, bytes, body) of every file that parses (an even stride of `limit` files)."""
    from jobs.errors import Rejected
    from jobs.parse.decode import decode, normalise_newlines
    from jobs.parse.front_matter import split_front_matter

    paths = sorted(p for p in raw_dir.rglob("*.md") if p.is_file())
    if limit and limit < len(paths):
        paths = paths[:: len(paths) // limit][:limit]
    items = []
    for path in paths:
        data = path.read_bytes()
        try:
            _, body = split_front_matter(normalise_newlines(decode(data)[0]))
        except Rejected:
            continue
        items.append((path.relative_to(raw_dir).as_posix(), data, body))
    return items


def time_parse(items, screened: bool) -> float:
    import jobs.parse.record as record
    from jobs.errors import Rejected
    from jobs.parse.screen import screen

    record.screen = screen if screened else (lambda html: None)
    start = time.process_time()
    for raw_path, data, _ in items:
        try:
            record.parse_article(data, raw_path)
        except Rejected:
            pass
    record.screen = screen
    return time.process_time() - start


def time_screen(items) -> float:
    from jobs.parse.screen import screen

    start = time.process_time()
    for _, _, body in items:
        screen(body)
    return time.process_time() - start


def normal(raw_dir: Path, limit: int, rounds: int) -> None:
    if raw_dir == DEFAULT_CORPUS and not raw_dir.exists():
        subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), str(raw_dir), "5000"], check=True)
    items = load(raw_dir, limit)
    time_parse(items[:200], True)  # warm up imports and caches
    with_screen, without, alone = [], [], []
    for index in range(rounds):
        for screened in ((True, False) if index % 2 == 0 else (False, True)):
            (with_screen if screened else without).append(time_parse(items, screened))
        alone.append(time_screen(items))
    best_with, best_without, best_alone = min(with_screen), min(without), min(alone)
    print(f"{len(items)} files of {raw_dir}, best of {rounds} rounds, CPU s")
    print(f"  parse_article with the screen     {best_with:8.3f}")
    print(f"  parse_article without the screen  {best_without:8.3f}")
    print(f"  difference                        {100 * (best_with - best_without) / best_without:+7.2f} %")
    print(f"  screen() alone                    {best_alone:8.4f}  ({100 * best_alone / best_without:.2f} % of parse)")


def hostile() -> None:
    cases = [("table rows", lambda n: "<table>" + "<tr><td>1</td></tr>" * n + "</table>", (1000, 4000, 8000, 16000)),
             ("nested <div>", lambda n: "<div>" * n + "x" + "</div>" * n, (2000, 10000, 20000)),
             ("unclosed <div>", lambda n: "<div>" * n + "x", (2000, 10000, 20000))]
    print(f"{'shape':<16}{'n':>8}{'extract s':>12}{'peak MiB':>10}")
    for name, make, sizes in cases:
        for n in sizes:
            html = make(n)
            code = ("import resource,time,sys; from jobs.parse.body import extract; h=sys.stdin.read(); "
                    "t=time.perf_counter(); extract(h); "
                    "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss//1024)")
            seconds, peak = subprocess.run([sys.executable, "-c", code], input=html, text=True, check=True,
                                           capture_output=True).stdout.split()
            print(f"{name:<16}{n:>8}{float(seconds):>12.2f}{peak:>10}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path, nargs="?", default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hostile", action="store_true")
    args = parser.parse_args(argv)
    hostile() if args.hostile else normal(args.raw_dir, args.limit, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
