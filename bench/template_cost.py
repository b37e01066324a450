"""What per-source templates cost: learning and applying them in a run, and a run where a template changes.

    python bench/template_cost.py [--files N] [--days D] [--night K] [--work DIR]

1. A corpus of N files (bench/make_corpus.py) is ingested at once; reported: the run's wall time, and, timed
   again on the committed dataset in this process, the learning (the manifest's SQL for every source:
   `templates_after`) and the applying (apply_template over every row of every partition, as the reduce does).
2. Side by side, from the same committed state, two nightly runs adding the same K new files to the biggest
   source (n articles), every paragraph of them its own (no edge paragraph shared with anything):
   - "no template change": the new files end as they are;
   - "template change": the new files also end with a closing line L that, before the night, closed
     threshold(n + K) - K of the source's articles (one step short of a template, set up by a run that appended L
     to them and is not measured): the K files tip L into the template, so every partition of the source is read
     and its rows carrying L are cleaned again in the night's commit.
   Reported for each: the sources whose template changed, rows cleaned again, partitions written, seconds.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jobs.lake.manifest import State  # noqa: E402
from jobs.lake.table import ArticlesTable, read_data_files  # noqa: E402
from jobs.lake.paths import Layout  # noqa: E402
from jobs.run.engine import InProcessEngine  # noqa: E402
from jobs.run.options import RunOptions  # noqa: E402
from jobs.run.pipeline import ingest  # noqa: E402
from jobs.run.templates import apply_template, threshold  # noqa: E402
from schemas.raw_path import raw_file_path  # noqa: E402

CLOSING = "<p>Thanks for reading the bench letter</p>"
_FRONT = re.compile(r"\A\s*---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)  # the front matter (bench/make_corpus.py writes it so)


def run(raw: Path, out: Path):
    started = time.perf_counter()
    report = ingest(RunOptions(raw_dir=raw, out_dir=out, engine=InProcessEngine(), workers=1))
    return report, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365, help="days the corpus spans (partitions are months)")
    parser.add_argument("--night", type=int, default=20, help="new files a night adds to the biggest source (K)")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="template-cost-"))
    raw = work / "raw"
    subprocess.run([sys.executable, str(REPO / "bench" / "make_corpus.py"), str(raw), str(args.files), "--days", str(args.days)],
                   check=True, capture_output=True)
    report, seconds = run(raw, work / "out")
    print(f"first run: {report.files_parsed} files in {seconds:.1f}s; templates changed for {len(report.templates_changed)} sources")

    state = State(work / "out")
    sources = [row[0] for row in state.db.execute("SELECT DISTINCT source FROM files WHERE source IS NOT NULL")]
    started = time.perf_counter()
    learned = state.templates_after(None, sources, threshold)
    learn_s = time.perf_counter() - started
    table = ArticlesTable(work / "out")
    table.open()
    layout, rows, apply_s = Layout(work / "out"), 0, 0.0
    for key, files in table.files_by_partition().items():
        data = read_data_files(layout, key, files)
        started = time.perf_counter()
        apply_template(data, frozenset(learned.get(key[0], {})))
        apply_s += time.perf_counter() - started
        rows += data.num_rows
    print(f"learning every source's template: {learn_s:.3f}s ({100 * learn_s / seconds:.1f} % of the run); "
          f"applying to {rows} rows: {apply_s:.3f}s ({100 * apply_s / seconds:.1f} % of the run)")

    counts = Counter(row[0] for row in state.db.execute("SELECT source FROM files WHERE status='article'"))
    source, articles = counts.most_common(1)[0]
    paths = sorted(row[0] for row in state.db.execute(
        "SELECT raw_path FROM files WHERE status='article' AND source=?", [source]))
    state.close()
    adding = args.night
    carrying = threshold(articles + adding) - adding  # L in these before the night: one night short of a template
    for raw_path in paths[:carrying]:
        target = Path(raw_file_path(raw, raw_path))
        target.write_text(target.read_text(encoding="utf-8") + "\n" + CLOSING + "\n", encoding="utf-8")
    setup, seconds = run(raw, work / "out")
    assert not setup.templates_changed.get(source), setup.templates_changed
    print(f"setup (not a night): {CLOSING!r} appended to {carrying} of {source}'s {articles} articles "
          f"(threshold for {articles + adding}: {threshold(articles + adding)}), {seconds:.1f}s")

    donor = Path(raw_file_path(raw, paths[0])).read_text(encoding="utf-8")
    front = _FRONT.match(donor)
    assert front is not None, paths[0]
    folder = Path(raw_file_path(raw, paths[0])).parent
    for label, closing in (("no template change", ""), ("template change", CLOSING)):
        name = "change" if closing else "same"
        copy_out, copy_raw = work / f"out-{name}", work / f"raw-{name}"
        shutil.copytree(work / "out", copy_out)
        shutil.copytree(raw, copy_raw)
        target = copy_raw / folder.relative_to(raw)
        for index in range(adding):
            head = re.sub(r"(?m)^title:.*$", f"title: bench night {index}", front.group(1), count=1)
            body = "".join(f"<p>Bench night file {index}, paragraph {k}: words of its own, {index * 31 + k} of them.</p>\n"
                           for k in range(4))
            (target / f"bench-night-{index}.md").write_text(f"---\n{head}---\n{body}{closing}\n", encoding="utf-8")
        report, seconds = run(copy_raw, copy_out)
        changed = ", ".join(f"{s} {a}->{b}" for s, (a, b) in report.templates_changed.items()) or "none"
        print(f"{label}: +{adding} files to {source} ({articles} articles): templates changed: {changed}; "
              f"{report.rows_recleaned} rows cleaned again, {report.partitions_written} partitions written, {seconds:.1f}s")
    if args.work is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
