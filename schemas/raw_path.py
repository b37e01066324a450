"""How a raw file's name is spelled in `raw_path`, and back. Pure.

A Linux file name is bytes; Python hands names that are not valid UTF-8 over as text with lone
surrogates (surrogateescape), which neither SQLite nor Arrow can store. `raw_path` is therefore a
lossless escaped form:
  - every byte that is not part of valid UTF-8 is written `\\xHH` (two lowercase hex digits);
  - a backslash that is followed by `x`, by another backslash or by such a byte is doubled, so it
    cannot be read as the start of an escape.
Every other name (valid UTF-8 with no `\\x` or `\\\\` in it: all the names the generators write) is
stored as it is. `raw_file_path` turns the stored form back into the name the OS knows (the same
bytes, through os.fsencode's surrogateescape).
"""

from __future__ import annotations

import os
import re

_BYTE_ESCAPE = re.compile(r"\\(\\|x[89a-f][0-9a-f])")  # surrogateescape only ever escapes bytes >= 0x80


def _undecodable(char: str) -> bool:
    return "\udc80" <= char <= "\udcff"


def stored_raw_path(os_name: str) -> str:
    """The `raw_path` of a name as `os.scandir`/`os.fsdecode` give it (surrogates for undecodable bytes)."""
    if "\\" not in os_name:
        try:
            os_name.encode("utf-8")
            return os_name  # the common case: nothing to escape
        except UnicodeEncodeError:
            pass
    out = []
    for index, char in enumerate(os_name):
        if _undecodable(char):
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char == "\\" and index + 1 < len(os_name) and (os_name[index + 1] in "x\\"
                                                             or _undecodable(os_name[index + 1])):
            out.append("\\\\")
        else:
            out.append(char)
    return "".join(out)


def os_raw_path(raw_path: str) -> str:
    """The name the OS knows, as text (surrogateescape): `os.fsencode` of it gives the file's real bytes."""
    if "\\" not in raw_path:
        return raw_path
    return _BYTE_ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(0xDC00 + int(m.group(1)[1:], 16)), raw_path)


def raw_file_path(raw_dir: str | os.PathLike, raw_path: str) -> str:
    """The file a `raw_path` names under `raw_dir`, for open/stat."""
    return os.path.join(os.fspath(raw_dir), os_raw_path(raw_path))
