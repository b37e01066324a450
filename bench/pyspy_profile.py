"""Where an ingest spends its time, per process: py-spy over the CLI and its workers.

    python bench/pyspy_profile.py RAW_DIR [--workers K] [--rate HZ] [--top N] [--code DIR]

Runs `py-spy record --subprocesses --format raw` around `articles ingest`
into a fresh out dir (py-spy must be installed: .venv/bin/pip install py-spy;
it is not a project dependency), then prints, for the main process and for
the busiest worker, the top functions by own time and by inclusive time
(share of that process's samples).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PYTHON = Path(sys.executable)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "python3.11/", "/work/main/", "/tmp/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("/tmp/article-lake-bench/out-profile"))
    parser.add_argument("--code", type=Path)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.code:
        env["PYTHONPATH"] = str(args.code.resolve())
    shutil.rmtree(args.out, ignore_errors=True)
    raw_out = args.out.with_suffix(".pyspy.txt")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(PYTHON.parent / "py-spy"), "record", "--subprocesses", "--format", "raw", "--rate", str(args.rate),
           "--output", str(raw_out), "--", str(PYTHON.parent / "articles"), "ingest", "--raw-dir", str(args.raw_dir),
           "--out-dir", str(args.out), "--workers", str(args.workers)]
    print("$ " + " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, env=env, cwd=args.out.parent)  # not the project: see run.py on the forkserver's cwd

    own: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    inclusive: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    totals: collections.Counter = collections.Counter()
    for line in raw_out.read_text("utf-8", "replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        # Each process's frames follow a `process PID:"cmdline"` frame; a worker's come after its parents'.
        marks = [i for i, f in enumerate(frames) if f.startswith("process ")]
        if not marks:
            continue
        process = frames[marks[-1]]
        frames = [short(f) for f in frames[marks[-1] + 1:]]
        kind = "main" if len(marks) == 1 else process.split(":", 1)[0] + (" (forkserver)" if "forkserver import main" in process and len(marks) == 2 else " (worker)")
        totals[kind] += int(count)
        if frames:
            own[kind][frames[-1]] += int(count)
            for frame in set(frames):
                inclusive[kind][frame] += int(count)
    print(f"## py-spy: `articles ingest --workers {args.workers}` over {args.raw_dir} ({args.rate} Hz)\n")
    print("| process | samples |\n|---|---:|")
    for kind, total in totals.most_common():
        print(f"| {kind[:110]} | {total} |")
    busiest_worker = max((k for k in totals if k != "main"), key=lambda k: totals[k], default=None)
    for title, kind in (("main process", "main"), ("busiest other process (a worker)", busiest_worker)):
        if kind is None or kind not in totals:
            continue
        total = totals[kind]
        print(f"\n### {title}: {kind[:100]} ({total} samples)\n")
        print("| own time: function | % |   | inclusive: function | % |\n|---|---:|---|---|---:|")
        top_own = own[kind].most_common(args.top)
        top_inc = [item for item in inclusive[kind].most_common(args.top + 25) if not item[0].startswith(("<module>", "_bootstrap", "run (", "main ("))][: args.top]
        for i in range(max(len(top_own), len(top_inc))):
            a = top_own[i] if i < len(top_own) else ("", 0)
            b = top_inc[i] if i < len(top_inc) else ("", 0)
            print(f"| {a[0]} | {100 * a[1] / total:.1f} | | {b[0]} | {100 * b[1] / total:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
