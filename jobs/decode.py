"""Raw bytes -> text, with the encoding used. Pure: no I/O."""

from __future__ import annotations

import re

from jobs.errors import Rejected

# Control characters other than tab, LF, CR, FF: frequent in binary data, rare in text.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A GB18030 decode is trusted only when it yields mostly ASCII and common CJK,
# otherwise it is mojibake of something else (GB18030 accepts most byte strings).
_PLAUSIBLE_CJK = re.compile(r"[\x09\x0a\x0d\x20-\x7e\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u2010-\u2027]")


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Raises Rejected(empty_file | binary | decode_error)."""
    if not data.strip():
        raise Rejected("empty_file", "file is empty or whitespace only")
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    head = data[:8192]
    if b"\x00" in head or len(_CONTROL.findall(head)) > len(head) // 20:
        raise Rejected("binary", "bytes look like binary data (NUL or control characters)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise Rejected("decode_error", f"not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) nor GB18030") from None
        sample = text[:4096]
        if len(_PLAUSIBLE_CJK.findall(sample)) < 0.97 * len(sample):
            raise Rejected("decode_error", f"not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}); GB18030 gives mojibake")
        return text, "gb18030"


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise Rejected("decode_error", f"invalid {encoding} ({error.reason} at byte {error.start})") from None


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
