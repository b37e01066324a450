"""Boilerplate removal measured against hand labels: recall of boilerplate, precision of content.

    python bench/boilerplate_eval.py [--corpus DIR] [--against OLD] [--trafilatura PYTHON] [--json OUT]
    python bench/boilerplate_eval.py --show [--source NAME]          # print edge units, to label them
    python bench/boilerplate_eval.py --write-labels SCRATCH          # scratch labels -> bench/labels/more_labels.json
    python bench/boilerplate_eval.py --write-floor                   # record the current code's figures as the floor

The instrument (bench/labels/README.md has the labelling guidelines):
- A *unit* is a block of text of the raw HTML body, split here, independently of our parser: by block
  elements (p, div, li, h1-h6, blockquote, figcaption, td, ...), by <br>, by blank lines and by line breaks
  of plain text (except a break followed by a lower-case letter: hard-wrapped prose). Text of script, style,
  svg and comments is not text; fallback text of iframe, video, audio, object and noscript is.
- The first and last five units of every article (all of them when it has ten or fewer) are labelled by
  hand, boilerplate or content; labels are stored as hashes of the normalised unit (no corpus text here).
- A unit is *present* in an extractor's output when its normalised text occurs, contiguously, in the
  normalised output text (paragraph breaks read as spaces: a unit split over two output paragraphs is still
  whole), not inside a longer word. A content unit present is *kept*; a boilerplate unit absent is *removed*.
- Boilerplate recall = removed / labelled boilerplate; content precision = kept / labelled content.
  Per source and overall (overall counts units, not sources).

Extractors compared, each on the same raw files: our `parse_article(...)["text"]` from this tree (or
`--code`), from `--against` (a `git archive` snapshot of an older tree), and trafilatura's `extract` with
default settings on the body wrapped as a document (`<html><body>…</body></html>`: given the bare fragment it
returns None for most of these files). trafilatura is not a project dependency: give `--trafilatura` the Python of a
throwaway venv that has it (`python3 -m venv /tmp/traf && /tmp/traf/bin/pip install trafilatura`), or
run this script with an interpreter that can import it; otherwise that column is skipped with a message.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "more"
LABELS = BENCH / "labels" / "more_labels.json"
FLOOR = BENCH / "labels" / "more_floor.json"
EDGE = 5  # units labelled at each end of an article

BOILERPLATE, CONTENT = "boilerplate", "content"
# One letter per unit in a scratch labels file: content, or boilerplate of a kind (bench/labels/README.md).
LABEL_CODES = {
    "c": (CONTENT, ""),
    "t": (BOILERPLATE, "title_echo"),  # the title (or most of it) again, alone or with a date, issue number, label
    "k": (BOILERPLATE, "tag_row"),  # tags, keywords, a category word
    "n": (BOILERPLATE, "link_line"),  # read more, download, navigation, buttons
    "r": (BOILERPLATE, "credit"),  # byline, editor, image source, translator
    "p": (BOILERPLATE, "promo"),  # subscribe, share, follow, recruiting, sales notices, like/save counters
    "d": (BOILERPLATE, "date_line"),  # a bare date or time, a reading time
    "x": (BOILERPLATE, "other"),  # literal null, data blobs, a label with no value, media fallback, end markers
}

# --- units: the raw body split into blocks of text, independently of our parser -------------------------

_BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "ul", "iframe", "video", "audio", "object", "noscript", "body", "html",
))
_NOT_TEXT = frozenset(("script", "style", "svg", "math", "template", "head", "title", "-comment", "img"))
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_LINE_BREAK = re.compile(r"\n\s*(?![a-z])")  # a break before a lower-case letter is hard-wrapped prose
_FRONT_MATTER = re.compile(r"\A\s*---[^\S\n]*\n.*?\n---[^\S\n]*(?:\n|\Z)", re.DOTALL)


def body_of(raw: str) -> str:
    """The HTML body of a raw Hexo file: whatever follows the front matter block."""
    match = _FRONT_MATTER.match(raw)
    return raw[match.end():] if match else raw


def units_of(body_html: str) -> list[str]:
    """The body's text units in document order, whitespace collapsed."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(body_html)
    root = tree.body or tree.root
    units: list[str] = []
    if root is None:
        return units
    buffer: list[str] = []

    def flush(in_pre: bool) -> None:
        text = "".join(buffer)
        buffer.clear()
        for block in _BLANK_LINE.split(text):
            lines = [block] if in_pre else _LINE_BREAK.split(block)
            for line in lines:
                collapsed = " ".join(line.split())
                if collapsed:
                    units.append(collapsed)

    def walk(node, in_pre: bool) -> None:  # noqa: ANN001 - a selectolax node
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                buffer.append(child.text(deep=False))
            elif tag in _NOT_TEXT:
                continue
            elif tag == "br":
                flush(in_pre)
            elif tag in _BLOCK_TAGS or tag == "pre":
                flush(in_pre)
                walk(child, in_pre or tag == "pre")
                flush(in_pre or tag == "pre")
            else:
                walk(child, in_pre)

    walk(root, False)
    flush(False)
    return units


def edge_units(units: list[str]) -> list[str]:
    """The first and last EDGE units (every unit when there are no more than 2 * EDGE)."""
    return units if len(units) <= 2 * EDGE else units[:EDGE] + units[-EDGE:]


# --- normalisation, hashes, presence ---------------------------------------------------------------------

_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_AT_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


def normalise(text: str) -> str:
    """NFKC, entities decoded, invisible characters dropped, case folded, whitespace collapsed (none beside CJK).

    Line breaks between CJK characters carry no space in Chinese or Japanese; extractors differ on them.
    """
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    return _SPACE_AT_CJK.sub("", " ".join(text.split()))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def unit_hash(unit: str) -> str:
    return digest(normalise(unit))


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not re.match(rf"[{_CJK}]", char)


def present(unit_key: str, output_key: str) -> bool:
    """`unit_key` occurs in `output_key` (both normalised), not as part of a longer word."""
    if not unit_key:
        return True
    start = output_key.find(unit_key)
    while start != -1:
        end = start + len(unit_key)
        clean_start = start == 0 or not (_is_word_char(unit_key[0]) and _is_word_char(output_key[start - 1]))
        clean_end = end == len(output_key) or not (_is_word_char(unit_key[-1]) and _is_word_char(output_key[end]))
        if clean_start and clean_end:
            return True
        start = output_key.find(unit_key, start + 1)
    return False


# --- the corpus and the labels ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Article:
    relative_path: str  # under the corpus folder, as our raw_path
    source: str  # the <source> folder of the generator's layout
    body: str
    data: bytes

    @property
    def path_hash(self) -> str:
        return digest(self.relative_path)


def load_corpus(corpus: Path) -> list[Article]:
    articles = []
    for path in sorted(corpus.rglob("*.md")):
        relative = path.relative_to(corpus).as_posix()
        parts = relative.split("/")
        if "_posts" not in parts:
            continue  # the corpus's own README
        data = path.read_bytes()
        source = parts[parts.index("_posts") + 2]
        articles.append(Article(relative, source, body_of(data.decode("utf-8")), data))
    return articles


def read_labels(path: Path = LABELS) -> dict[str, dict]:
    return json.loads(path.read_text(encoding="utf-8"))["articles"]


def write_labels(scratch: Path, corpus: Path, out: Path = LABELS) -> None:
    """Scratch lines `<path_hash> <one letter of LABEL_CODES per edge unit>` -> the hashed labels file."""
    codes = {}
    for line in scratch.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            codes[fields[0]] = fields[1] if len(fields) > 1 else ""  # an article with no text units
    articles = {}
    for article in load_corpus(corpus):
        units = edge_units(units_of(article.body))
        letters = codes.get(article.path_hash)
        if letters is None:
            raise SystemExit(f"no labels for {article.path_hash} ({article.source})")
        if len(letters) != len(units) or set(letters) - set(LABEL_CODES):
            raise SystemExit(f"{article.path_hash} ({article.source}): {len(units)} units, labels {letters!r}")
        articles[article.path_hash] = {
            "source": article.source,
            "units": [[unit_hash(unit), *LABEL_CODES[code]] for unit, code in zip(units, letters)],
        }
    document = {
        "about": "Hand labels of the first and last 5 text units of every article of ../shared/corpus/more; "
                 "keys: sha256(relative path)[:16]; units: [sha256(normalised unit)[:16], label, kind of boilerplate] "
                 "in document order. "
                 "Units, normalisation and guidelines: bench/boilerplate_eval.py and bench/labels/README.md.",
        "articles": articles,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(articles)} articles, {sum(len(a['units']) for a in articles.values())} units")


_CODE_OF = {value: code for code, value in LABEL_CODES.items()}


def show(corpus: Path, source: str | None) -> None:
    """Print each article's edge units with their index (and a label when there is one), for labelling."""
    labels = read_labels() if LABELS.exists() else {}
    for article in load_corpus(corpus):
        if source and article.source != source:
            continue
        units = units_of(article.body)
        edges = edge_units(units)
        known = labels.get(article.path_hash, {}).get("units", [])
        print(f"\n=== {article.path_hash}  {article.relative_path}  ({len(units)} units)")
        for index, unit in enumerate(edges):
            label = _CODE_OF.get(tuple(known[index][1:]), "?") if index < len(known) else "?"
            gap = "   ..." if len(units) > 2 * EDGE and index == EDGE else ""
            if gap:
                print(gap)
            print(f"  [{index:2}] {label} | {unit[:300]}")


# --- extractors ------------------------------------------------------------------------------------------

def our_texts(articles: list[Article]) -> dict[str, str]:
    """`text` of parse_article for each article, from whichever `jobs` is first on sys.path (rejected: "")."""
    from jobs.errors import Rejected
    from jobs.parse.record import parse_article

    texts, records = {}, {}
    for article in articles:
        try:
            record = parse_article(article.data, article.relative_path)
            # A dict before the typed record (c07289c and older trees), an ArticleRecord after.
            texts[article.relative_path] = record["text"] if isinstance(record, dict) else record.text
            records[article.relative_path] = record
        except Rejected:
            texts[article.relative_path] = ""
    try:  # trees with per-source templates (jobs/parse/templates.py) clean each source's edges once more
        from jobs.parse import templates
    except ImportError:
        return texts
    share = float(os.environ.get("ARTICLE_LAKE_TEMPLATE_SHARE", templates.MIN_SHARE))  # to choose the threshold
    by_source: dict[str, list[list[str]]] = defaultdict(list)
    for record in records.values():
        by_source[record.source].append(record.paragraphs)
    learned = templates.learn(by_source, share)
    for path, record in records.items():
        kept, _ = templates.strip_template(record.paragraphs, frozenset(learned.get(record.source, ())))
        texts[path] = "\n".join(kept)
    return texts


def texts_from_tree(tree: Path, corpus: Path) -> dict[str, str]:
    """our_texts run in a fresh process with `tree` first on its path (a snapshot of another version)."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--corpus", str(corpus), "--child-texts",
                          str(tree.resolve())], check=True, capture_output=True, text=True, cwd="/")
    return json.loads(out.stdout)


_TRAFILATURA_CHILD = """
import json, sys
from trafilatura import extract
bodies = json.load(sys.stdin)
# The body as a document: given a bare fragment, extract returns None for most of these files.
json.dump({path: extract(f"<html><body>{body}</body></html>") or "" for path, body in bodies.items()}, sys.stdout)
"""


def trafilatura_texts(articles: list[Article], python: str | None) -> dict[str, str] | None:
    """trafilatura.extract(<html><body>body</body></html>), default settings, in `python` (a venv that has it) or here."""
    if python is None:
        try:
            import trafilatura  # noqa: F401 - only a probe
        except ImportError:
            print("trafilatura: not importable here and no --trafilatura PYTHON given; column skipped", file=sys.stderr)
            return None
        python = sys.executable
    bodies = json.dumps({a.relative_path: a.body for a in articles})
    out = subprocess.run([python, "-c", _TRAFILATURA_CHILD], input=bodies, check=True, capture_output=True,
                         text=True, cwd="/")
    return json.loads(out.stdout)


# --- scoring ---------------------------------------------------------------------------------------------

@dataclass
class Score:
    boilerplate: int = 0
    removed: int = 0
    content: int = 0
    kept: int = 0

    @property
    def recall(self) -> float:
        return self.removed / self.boilerplate if self.boilerplate else 1.0

    @property
    def precision(self) -> float:
        return self.kept / self.content if self.content else 1.0

    def as_dict(self) -> dict:
        return {"boilerplate": self.boilerplate, "removed": self.removed, "content": self.content, "kept": self.kept}


def score(articles: list[Article], labels: dict[str, dict], texts: dict[str, str]) -> dict[str, Score]:
    """Labelled units and how many the output removed (boilerplate) or kept (content).

    Keyed by source, by "overall", and by "kind:<kind>" for each kind of boilerplate.
    """
    scores: dict[str, Score] = defaultdict(Score)
    for article in articles:
        output_key = normalise(texts.get(article.relative_path, ""))
        units = edge_units(units_of(article.body))
        labelled = labels[article.path_hash]["units"]
        for unit, (label_hash, label, kind) in zip(units, labelled, strict=True):
            if unit_hash(unit) != label_hash:
                raise SystemExit(f"labels out of date for {article.path_hash} ({article.source}): re-label it")
            is_present = present(normalise(unit), output_key)
            for key in (article.source, "overall", *([f"kind:{kind}"] if kind else [])):
                entry = scores[key]
                if label == BOILERPLATE:
                    entry.boilerplate += 1
                    entry.removed += not is_present
                else:
                    entry.content += 1
                    entry.kept += is_present
    return dict(scores)


def check_coverage(articles: list[Article], labels: dict[str, dict]) -> list[str]:
    """Problems: an article without labels, or whose edge units no longer hash to the labelled ones."""
    problems = []
    for article in articles:
        entry = labels.get(article.path_hash)
        hashes = [unit_hash(u) for u in edge_units(units_of(article.body))]
        if entry is None:
            problems.append(f"{article.path_hash} ({article.source}): not labelled")
        elif [unit[0] for unit in entry["units"]] != hashes:
            problems.append(f"{article.path_hash} ({article.source}): labelled units differ from its edge units")
    return problems


def below_floor(scores: dict[str, Score], floor: dict[str, dict]) -> list[str]:
    """Sources (and overall) where fewer boilerplate units go or fewer content units stay than the floor says."""
    problems = []
    for key, recorded in sorted(floor.items()):
        now = scores.get(key, Score())
        if (now.boilerplate, now.content) != (recorded["boilerplate"], recorded["content"]):
            problems.append(f"{key}: labelled units changed ({now.as_dict()} vs floor {recorded}): re-record the floor")
        elif now.removed < recorded["removed"] or now.kept < recorded["kept"]:
            problems.append(f"{key}: boilerplate out {now.removed}/{now.boilerplate} (floor {recorded['removed']}), "
                            f"content kept {now.kept}/{now.content} (floor {recorded['kept']})")
    return problems


def _ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.0%})" if whole else f"{part}/{whole}"


def _cells(s: Score) -> list[str]:
    return [_ratio(s.removed, s.boilerplate), _ratio(s.kept, s.content)]


def table(results: dict[str, dict[str, Score]]) -> str:
    """Per source and overall: boilerplate out and content kept for each extractor (Markdown)."""
    names = list(results)
    header = "| source | " + " | ".join(f"{n}: boilerplate out | {n}: content kept" for n in names) + " |"
    rule = "|---|" + "---:|---:|" * len(names)
    sources = sorted(k for k in results[names[0]] if k != "overall" and not k.startswith("kind:"))
    rows = [f"| {source} | " + " | ".join(c for n in names for c in _cells(results[n][source])) + " |"
            for source in sources]
    rows.append("| **overall** | " + " | ".join(f"**{c}**" for n in names for c in _cells(results[n]["overall"])) + " |")
    return "\n".join([header, rule, *rows])


def kind_table(results: dict[str, dict[str, Score]]) -> str:
    """Boilerplate out per kind of boilerplate, for each extractor (Markdown)."""
    names = list(results)
    kinds = sorted(k for k in results[names[0]] if k.startswith("kind:"))
    header = "| kind of boilerplate | labelled | " + " | ".join(f"{n}: out" for n in names) + " |"
    rows = [f"| {kind[5:]} | {results[names[0]][kind].boilerplate} | " + " | ".join(
        str(results[n][kind].removed) for n in names) + " |" for kind in kinds]
    return "\n".join([header, "|---|---:|" + "---:|" * len(names), *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--code", type=Path, help="Import jobs/ from this tree instead of the live project.")
    parser.add_argument("--against", type=Path, help="Also score this older tree (a git archive snapshot).")
    parser.add_argument("--trafilatura", metavar="PYTHON", help="Python of a venv with trafilatura installed.")
    parser.add_argument("--json", type=Path, help="Write the figures as JSON here too.")
    parser.add_argument("--show", action="store_true", help="Print edge units per article, for labelling.")
    parser.add_argument("--source", help="With --show: only this source.")
    parser.add_argument("--write-labels", type=Path, metavar="SCRATCH")
    parser.add_argument("--write-floor", action="store_true", help="Record the current code's figures as the floor.")
    parser.add_argument("--check-floor", action="store_true", help="Exit 1 when the current code is below the floor.")
    parser.add_argument("--child-texts", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_texts:
        sys.path.insert(0, str(args.child_texts))
        json.dump(our_texts(load_corpus(args.corpus)), sys.stdout)
        return 0
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 2
    if args.show:
        show(args.corpus, args.source)
        return 0
    if args.write_labels:
        write_labels(args.write_labels, args.corpus)
        return 0
    articles = load_corpus(args.corpus)
    labels = read_labels()
    problems = check_coverage(articles, labels)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    code = (args.code or REPO).resolve()
    results = {f"current {_describe(code)}": score(articles, labels, texts_from_tree(code, args.corpus))}
    if args.against:
        results[f"base {_describe(args.against)}"] = score(articles, labels, texts_from_tree(args.against, args.corpus))
    floor_only = args.write_floor or args.check_floor
    traf = None if floor_only and not args.trafilatura else trafilatura_texts(articles, args.trafilatura)
    if traf is not None:
        results["trafilatura"] = score(articles, labels, traf)
    units = sum(len(entry["units"]) for entry in labels.values())
    print(f"## Boilerplate removal by hand labels: {len(articles)} articles of {args.corpus}, {units} labelled units\n")
    print(table(results))
    print()
    print(kind_table(results))
    if args.json:
        args.json.write_text(json.dumps({name: {k: v.as_dict() for k, v in s.items()} for name, s in results.items()},
                                        ensure_ascii=False, indent=1))
    if args.write_floor:
        current = next(iter(results.values()))
        FLOOR.write_text(json.dumps({k: v.as_dict() for k, v in sorted(current.items()) if not k.startswith("kind:")},
                                    ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {FLOOR}")
    if args.check_floor:
        problems = below_floor(next(iter(results.values())), json.loads(FLOOR.read_text(encoding="utf-8")))
        print("\n" + ("\n".join(problems) if problems else "at or above the floor everywhere"))
        return 1 if problems else 0
    return 0


def _describe(tree: Path) -> str:
    """A tree's commit: the HEAD file a snapshot carries (bench/README), else git's, else its path."""
    marker = tree / "HEAD"
    if marker.is_file():
        return marker.read_text().strip()
    try:
        commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        edited = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "jobs", "schemas"], check=True,
                                capture_output=True, text=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return str(tree)
    return f"{commit}+edits" if edited else commit


if __name__ == "__main__":
    sys.exit(main())
