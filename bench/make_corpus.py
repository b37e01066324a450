"""Grow a benchmark corpus of N raw article files from structure templates.

    python bench/make_corpus.py DIR N [--seed S] [--days D] [--start YYYY-MM-DD]

Templates: tests/fixtures/raw/*.md, data/raw/**/*.md and, when present,
/work/shared/corpus/real/**/*.md (read only; nothing of them lands in the
project). File i is made from template i picks with its own seeded RNG, so the
same (seed, i) always gives the same bytes and a second call with a larger N
only adds files (existing ones are left alone, mtimes included).

Each file is a distinct article: the template's front matter is kept line for
line except `title:` (index appended) and `date:` (uniform over --days days,
in the template's own date style); the body keeps its HTML structure, with the
inner paragraphs shuffled, 0..40 extra paragraphs (long-tailed sizes) and one
paragraph carrying the index. The path follows the generator's layout
source/_posts/<category>/<source>/<channel>/<title>.md (post/<category>/ for
two-category feeds), so the path, `author` and `categories` agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
REAL_CORPUS = Path("/work/shared/corpus/real")
_FRONT = re.compile(r"\A(\s*)---[ \t]*\n(.*?\n)---[ \t]*\n(.*)\Z", re.S)
_PARAGRAPH = re.compile(r"(<p\b[^>]*>)(.*?)(</p>)", re.S)
_TAG = re.compile(r"<[^>]+>")
_RFC822 = re.compile(r"^[A-Za-z]{3},?\s+\d")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Extra paragraphs per file: most files as the template, a long tail of big ones.
_EXTRA = ((0.55, 0, 0), (0.25, 1, 3), (0.15, 4, 10), (0.05, 11, 40))


@dataclass
class Template:
    name: str
    lead: str  # blank lines before the opening ---
    fm_before_title: str
    fm_between: str  # lines between title and date (or after, see date_first)
    fm_after: str
    date_first: bool
    title: str
    rfc822: bool
    body_parts: list[str]  # literal, (open, text, close) flattened: even = literal, odd = paragraph html
    folder: str  # relative folder of the generated files
    movable: list[int]  # inner paragraphs (not first or last) long enough to be body text


def load_templates(extra_dirs: list[Path] | None = None) -> list[Template]:
    paths = sorted((PROJECT / "tests" / "fixtures" / "raw").glob("*.md"))
    paths += sorted((PROJECT / "data" / "raw").rglob("*.md"))
    roots = {p: PROJECT / "data" / "raw" for p in paths if "data/raw" in p.as_posix()}
    for root in ([REAL_CORPUS] if REAL_CORPUS.is_dir() else []) + (extra_dirs or []):
        found = sorted(root.rglob("*.md"))
        paths += found
        roots.update({p: root for p in found})
    templates = []
    for path in paths:
        template = _parse_template(path, roots.get(path))
        if template is not None:
            templates.append(template)
    return templates


def _parse_template(path: Path, root: Path | None) -> Template | None:
    text = path.read_text("utf-8").replace("\r\n", "\n")
    match = _FRONT.match(text)
    if not match:
        return None
    lead, front, body = match.groups()
    meta = yaml.load(front, Loader=yaml.BaseLoader)
    if not isinstance(meta, dict) or "title" not in meta or "date" not in meta:
        return None
    lines = front.splitlines(keepends=True)
    title_at = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    date_at = next(i for i, line in enumerate(lines) if line.startswith("date:"))
    first, second = sorted((title_at, date_at))
    categories = meta.get("categories") or []
    categories = categories if isinstance(categories, list) else [categories]
    if root is not None:
        folder = path.parent.relative_to(root).as_posix()
    elif len(categories) >= 3:
        folder = "source/_posts/" + "/".join(_segment(c) for c in categories[:3])
    else:
        folder = "post/" + _segment(categories[0] if categories else "misc")
    parts: list[str] = []
    last = 0
    for m in _PARAGRAPH.finditer(body):
        parts.append(body[last:m.start()])
        parts.append(m.group(0))
        last = m.end()
    parts.append(body[last:])
    return Template(
        name=path.name, lead=lead, fm_before_title="".join(lines[:first]), fm_between="".join(lines[first + 1:second]),
        fm_after="".join(lines[second + 1:]), date_first=date_at < title_at, title=str(meta["title"]),
        rfc822=bool(_RFC822.match(str(meta["date"]))), body_parts=parts, folder=folder,
        movable=[i for i, p in enumerate(parts[1::2]) if 0 < i < len(parts) // 2 - 1 and len(_TAG.sub("", p).strip()) > 30])


def _segment(value: str) -> str:
    return value.replace("/", "_").replace("\\", "_").strip() or "_"


def _filename(title: str, suffix: str) -> str:
    """Like the generator: path-hostile characters become `_`, dots vanish; bounded to 200 bytes."""
    name = re.sub(r'[/\\:*?<>|\n\r\t]', "_", title).replace(".", "")
    raw = name.encode("utf-8")
    if len(raw) > 180:
        name = raw[:180].decode("utf-8", "ignore")
    return name + suffix + ".md"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _format_date(when: dt.datetime, rfc822: bool) -> str:
    if rfc822:
        return f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year} {when:%H:%M:%S} GMT"
    return f"{when:%Y-%m-%d %H:%M:%S}"


class Generator:
    def __init__(self, templates: list[Template], seed: int, days: int, start: dt.date):
        self.templates, self.seed, self.days = templates, seed, days
        self.start = dt.datetime(start.year, start.month, start.day)
        pool = [_TAG.sub("", part) for t in templates for part in t.body_parts[1::2]]
        self.pool = [" ".join(p.split()) for p in pool if len(p.strip()) > 20] or ["lorem ipsum dolor sit amet"]

    def article(self, index: int) -> tuple[str, bytes]:
        rng = random.Random(self.seed * 1_000_003 + index)
        t = self.templates[rng.randrange(len(self.templates))]
        suffix = f" #{index}"
        title = t.title.strip() + suffix
        when = self.start + dt.timedelta(days=rng.randrange(self.days), seconds=rng.randrange(86400))
        title_line, date_line = f"title: {_quote(title)}\n", f"date: {_format_date(when, t.rfc822)}\n"
        first, second = (date_line, title_line) if t.date_first else (title_line, date_line)
        front = t.fm_before_title + first + t.fm_between + second + t.fm_after
        parts = list(t.body_parts)
        paragraphs = parts[1::2]
        if t.movable:  # shuffle the long inner paragraphs; short ones (bylines, editors) stay put
            paragraphs = list(paragraphs)
            moved = [paragraphs[i] for i in t.movable]
            rng.shuffle(moved)
            for i, paragraph in zip(t.movable, moved):
                paragraphs[i] = paragraph
        extra = self._extra_paragraphs(rng)
        marker = f"<p>{rng.choice(self.pool)[:rng.randint(20, 120)]} [{index}]</p>"
        body_html = "".join(lit + (paragraphs[i] if i < len(paragraphs) else "") for i, lit in enumerate(parts[0::2]))
        close = body_html.rfind("</div>")
        insert = "\n" + marker + "".join(extra) + "\n"
        body_html = body_html[:close] + insert + body_html[close:] if close >= 0 else body_html + insert
        text = f"{t.lead}---\n{front}---\n{body_html}"
        return f"{t.folder}/{_filename(t.title.strip(), suffix)}", text.encode("utf-8")

    def _extra_paragraphs(self, rng: random.Random) -> list[str]:
        roll, count = rng.random(), 0
        for share, low, high in _EXTRA:
            if roll < share:
                count = rng.randint(low, high)
                break
            roll -= share
        return [f"<p>{rng.choice(self.pool)}</p>" for _ in range(count)]


def grow(out: Path, n: int, seed: int = 1, days: int = 365, start: dt.date = dt.date(2022, 1, 1),
         templates: list[Template] | None = None) -> dict:
    templates = templates or load_templates()
    generator = Generator(templates, seed, days, start)
    out.mkdir(parents=True, exist_ok=True)
    made_dirs: set[str] = set()
    written = skipped = size = 0
    for index in range(n):
        relative, data = generator.article(index)
        folder = relative.rsplit("/", 1)[0]
        if folder not in made_dirs:
            (out / folder).mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        try:
            fd = os.open(out / relative, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            skipped += 1
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        written += 1
        size += len(data)
    info = {"files": n, "seed": seed, "days": days, "start": start.isoformat(), "templates": len(templates),
            "written": written, "already_there": skipped, "bytes_written": size}
    (out / ".corpus.json").write_text(json.dumps(info, indent=1))  # hidden: discover() skips it
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2022, 1, 1))
    parser.add_argument("--template-dir", type=Path, action="append", default=[], help="More template folders.")
    args = parser.parse_args(argv)
    clock = time.perf_counter()
    info = grow(args.dir, args.n, args.seed, args.days, args.start, load_templates(args.template_dir))
    seconds = time.perf_counter() - clock
    print(f"{args.dir}: {info['written']} files written ({info['bytes_written'] / 1e6:.1f} MB), "
          f"{info['already_there']} already there, from {info['templates']} templates, in {seconds:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
