"""What per-source templates cost: learning and applying them in a run, and a run where a template changes.

    python bench/template_cost.py [--files N] [--work DIR]

1. A corpus of N files (bench/make_corpus.py) is ingested at once; reported: the run's wall time, and, timed
   again on the committed dataset in this process, the learning (the manifest's SQL for every source:
   `templates_after`) and the applying (apply_template over every row of every partition, as the reduce does).
2. Side by side, two nightly runs adding the same number of new files to the biggest source: one whose new
   files carry a new closing line in more than half of the source's articles (its template changes: every
   partition of the source is rewritten), one whose new files do not. Reported: rows cleaned again,
   partitions written, seconds.
"""

from __future__ import annotations

import argparse
import math
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

CLOSING = "<p>Thanks for reading the bench letter</p>"


def run(raw: Path, out: Path):
    started = time.perf_counter()
    report = ingest(RunOptions(raw_dir=raw, out_dir=out, engine=InProcessEngine(), workers=1))
    return report, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="template-cost-"))
    raw = work / "raw"
    subprocess.run([sys.executable, str(REPO / "bench" / "make_corpus.py"), str(raw), str(args.files), "--days", "60"],
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
    state.close()
    source, articles = counts.most_common(1)[0]
    folder = next(p.parent for p in raw.rglob("*.md") if f"/{source}/" in p.as_posix())
    adding = math.ceil(articles * 1.1) + 3  # enough new articles carrying the line to make it a template
    for label, closing in (("no template change", ""), ("template changes", CLOSING)):
        copy_out = work / f"out-{len(closing)}"
        shutil.copytree(work / "out", copy_out)
        copy_raw = work / f"raw-{len(closing)}"
        shutil.copytree(raw, copy_raw)
        target = copy_raw / folder.relative_to(raw)
        sample = sorted(target.glob("*.md"))[0].read_text(encoding="utf-8")
        for index in range(adding):
            text = sample.replace("title:", f"title: bench extra {index} ", 1)
            (target / f"bench-extra-{index}.md").write_text(text + ("\n" + closing if closing else "") + f"\n<p>extra {index}</p>\n",
                                                             encoding="utf-8")
        report, seconds = run(copy_raw, copy_out)
        print(f"{label}: +{adding} files to {source} ({articles} articles): {report.rows_recleaned} rows cleaned again, "
              f"{report.partitions_written} partitions written, {seconds:.1f}s")
    if args.work is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
