"""Where a run's peak memory sits: PSS of every process of its tree, sampled, with the run's events.

    python bench/memory_timeline.py OUT_JSON -- articles ingest --raw-dir R --out-dir O --log-json

Samples every 0.2 s (bench/run.py's sampler functions): per process (driver, forkserver, each worker by
pid and its command line's role) and the tree's sum. Prints the peak tree PSS, its breakdown at that
instant, and each process's own peak; OUT_JSON keeps the whole timeline. With --log-json the events
(stderr) are stamped on the same clock, so the peak can be placed in a phase (plan, map, reduce, commit).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench_run  # noqa: E402

MIB = 1024 * 1024


def _role(pid: int, driver: int) -> str:
    """driver, forkserver (its child), worker (the forkserver's children: same command line), resource_tracker."""
    if pid == driver:
        return "driver"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "gone"
    if "forkserver import main" in command:
        return "forkserver" if _parent(pid) == driver else "worker"
    if "resource_tracker" in command:
        return "resource_tracker"
    return "worker"


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2:].split()[1])


def main(argv: list[str]) -> int:
    out_json, command = Path(argv[0]), argv[argv.index("--") + 1:]
    clock = time.perf_counter()
    events: list[tuple[float, str]] = []
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def read_events() -> None:
        for line in process.stderr:
            try:
                events.append((time.perf_counter() - clock, json.loads(line).get("event", "?")))
            except ValueError:
                pass

    reader = threading.Thread(target=read_events, daemon=True)
    reader.start()
    samples = []
    while process.poll() is None:
        at = time.perf_counter() - clock
        per = {}
        for pid in bench_run._descendants(process.pid):
            pss, _ = bench_run._memory_kib(pid)
            if pss:
                per[f"{_role(pid, process.pid)}:{pid}"] = pss * 1024
        samples.append((at, per))
        time.sleep(0.2)
    reader.join()
    peak_at, peak = max(samples, key=lambda s: sum(s[1].values()))
    own: dict[str, int] = {}
    for _, per in samples:
        for name, pss in per.items():
            own[name] = max(own.get(name, 0), pss)
    phase = [name for at, name in events if at <= peak_at]
    print(f"exit {process.returncode}; {time.perf_counter() - clock:.1f} s; peak tree PSS "
          f"{sum(peak.values()) / MIB:.0f} MiB at {peak_at:.1f} s (last event before it: {phase[-1] if phase else '-'})")
    for name, pss in sorted(peak.items(), key=lambda item: -item[1]):
        print(f"  at the peak  {name:<24} {pss / MIB:7.1f} MiB")
    for name, pss in sorted(own.items(), key=lambda item: -item[1])[:8]:
        print(f"  own peak     {name:<24} {pss / MIB:7.1f} MiB")
    out_json.write_text(json.dumps({"samples": samples, "events": events}))
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
