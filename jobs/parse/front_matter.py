"""Decoded text -> (metadata of strings, body). Pure.

Every YAML scalar is read as a string (CBaseLoader: no implicit typing), so an
unquoted `no`, `10:00`, `2020` or bare date stays what the file says; fields
are typed explicitly later. TOML (`+++`) is read with the standard library.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import tomllib
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from jobs.errors import Rejected
from jobs.parse.simple_yaml import load_simple
from schemas.article import RejectReason

try:  # libyaml is several times faster; the pure-Python loader behaves the same.
    from yaml import CBaseLoader as _StringLoader
except ImportError:  # pragma: no cover - libyaml ships in PyYAML's wheels
    from yaml import BaseLoader as _StringLoader

# Bounds on what a front matter may expand to (aliases can blow up: billion laughs).
MAX_NODES = 10_000
MAX_STRING = 100_000


class StringYAMLHandler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        simple = load_simple(fm)
        if simple is not None:
            return simple
        if "!" in fm:
            _refuse_python_tags(fm)
        loaded = yaml.load(fm, Loader=_StringLoader)
        if "*" in fm:  # only aliases can make the result bigger than the text
            _check_size(loaded)
        return loaded


def _refuse_python_tags(fm: str) -> None:
    """The string loader never runs a tag, but a `!!python/...` tag is hostile input: name it."""
    for token in yaml.scan(fm, Loader=_StringLoader):
        if isinstance(token, yaml.TagToken):
            tag = "".join(part or "" for part in token.value)
            if "python/" in tag:
                raise Rejected(RejectReason.BAD_FRONT_MATTER, f"forbidden YAML tag {tag!r}")


class TomlHandler(BaseHandler):
    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return _stringify(tomllib.loads(fm))


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


_YAML = StringYAMLHandler()
_TOML = TomlHandler()
_OPENING = re.compile(r"\A(?:[ \t]*\n)*(---|\+\+\+)[ \t]*\n")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (metadata, body). Raises Rejected(no_front_matter | bad_front_matter)."""
    opening = _OPENING.match(text)
    if not opening:
        raise Rejected(RejectReason.NO_FRONT_MATTER, "file does not start with a --- or +++ front matter block")
    handler = _YAML if opening.group(1) == "---" else _TOML
    text = text[opening.start(1):]
    if len(handler.FM_BOUNDARY.findall(text, 0, len(text))) < 2:
        raise Rejected(RejectReason.BAD_FRONT_MATTER, f"front matter opened with {opening.group(1)} is never closed")
    try:
        post = frontmatter.loads(text, handler=handler)
    except yaml.YAMLError as error:
        recovered = _recover(text, _first_line(error))
        if recovered is None:
            raise Rejected(RejectReason.BAD_FRONT_MATTER, f"invalid YAML: {_first_line(error)}") from None
        return recovered
    except tomllib.TOMLDecodeError as error:
        raise Rejected(RejectReason.BAD_FRONT_MATTER, f"invalid TOML: {_first_line(error)}") from None
    except (ValueError, TypeError, RecursionError) as error:
        raise Rejected(RejectReason.BAD_FRONT_MATTER, f"unreadable front matter: {_first_line(error)}") from None
    metadata = dict(post.metadata)
    if not metadata:
        raise Rejected(RejectReason.NO_FRONT_MATTER, "front matter block is empty or not a mapping")
    return _unescape(metadata), post.content


# Line-by-line reading of a block YAML refused: `key: value` at column 0, ` - item` lists, and
# continuation lines (a title broken over blank lines) joined to the value above them.
_RECOVER_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(.*?))?[ \t]*$")
_RECOVER_ITEM = re.compile(r"^[ \t]+-[ \t]+(.*?)[ \t]*$")
RECOVERY_KEYS = ("title", "date", "author", "categories")
_YAML_SYNTAX = set("[{&*!|>%@`")  # at least one must be read for a row


def _recover(text: str, reason: str) -> tuple[dict[str, Any], str] | None:
    try:
        fm, content = _YAML.split(text)
    except ValueError:
        return None
    metadata: dict[str, Any] = {}
    key: str | None = None
    for line in fm.split("\n"):
        if not line.strip():
            continue
        if (found := _RECOVER_KEY.match(line)) is not None:
            key = found.group(1)
            if key in metadata or (found.group(2) or " ")[0] in _YAML_SYNTAX:  # duplicates, flow collections, anchors: no guessing
                return None
            metadata[key] = found.group(2) or ""
        elif key is not None and (item := _RECOVER_ITEM.match(line)) is not None and isinstance(metadata[key], (list, str)):
            if metadata[key] == "":
                metadata[key] = []
            if not isinstance(metadata[key], list):
                return None
            metadata[key].append(_unquote(item.group(1)))
        elif key is not None and isinstance(metadata[key], str):
            metadata[key] = f"{metadata[key]} {line.strip()}".strip()
        else:
            return None
    metadata = {k: _unquote(v) if isinstance(v, str) else v for k, v in metadata.items()}
    if not any(metadata.get(k) for k in RECOVERY_KEYS):
        return None
    metadata["_front_matter_recovered"] = f"YAML refused the block ({reason}); read line by line"
    return _unescape(metadata), content


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner
    return value


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _check_size(value: Any) -> None:
    """Walk the loaded value with a budget; aliases are shared references, so count every visit."""
    budget = MAX_NODES
    stack = [value]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise Rejected(RejectReason.BAD_FRONT_MATTER, f"front matter expands to more than {MAX_NODES} nodes (alias bomb?)")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) > MAX_STRING:
            raise Rejected(RejectReason.BAD_FRONT_MATTER, f"a front matter value is longer than {MAX_STRING} characters")


def _unescape(value: Any) -> Any:
    """Decode HTML entities (the generator writes `{` as `&#123;`) in every string."""
    if isinstance(value, str):
        return html.unescape(value) if "&" in value else value
    if isinstance(value, dict):
        return {_unescape(k): _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value
