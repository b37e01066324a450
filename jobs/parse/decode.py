"""Raw bytes -> text, with the encoding used. Pure: no I/O."""

from __future__ import annotations

import re

from jobs.errors import Rejected
from schemas.article import RejectReason

# Control characters other than tab, LF, CR, FF: frequent in binary data, rare in text.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# A GB18030 decode is trusted only when it yields mostly ASCII and common CJK,
# otherwise it is mojibake of something else (GB18030 accepts most byte strings).
_PLAUSIBLE_CJK = re.compile(r"[\x09\x0a\x0d\x20-\x7e\u3000-\u303f\u4e00-\u9fff\uff00-\uffef\u2010-\u2027]")
# Shift-JIS and EUC-KR bytes read as GB18030 still give Han characters, but rare ones. These are the
# ~500 most frequent Chinese characters (after Jun Da's frequency list): 40-90% of the Han characters
# of real Chinese text, under 5% of such mojibake.
_COMMON_HAN = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性"
    "知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建"
    "务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快"
    "办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尼"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_MIN_HAN_TO_JUDGE = 20
_MIN_COMMON_HAN_SHARE = 0.2


def decode(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). Raises Rejected(empty_file | binary | decode_error)."""
    if not data.strip():
        raise Rejected(RejectReason.EMPTY_FILE, "file is empty or whitespace only")
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16"), "utf-16"
    head = data[:8192]
    if b"\x00" in head or (_CONTROL.search(head) and len(_CONTROL.findall(head)) > len(head) // 20):
        raise Rejected(RejectReason.BINARY, "bytes look like binary data (NUL or control characters)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise Rejected(RejectReason.DECODE_ERROR, f"not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}) nor GB18030") from None
        sample = text[:4096]
        if len(_PLAUSIBLE_CJK.findall(sample)) < 0.97 * len(sample) or not _common_han(sample):
            raise Rejected(RejectReason.DECODE_ERROR, f"not UTF-8 ({utf8_error.reason} at byte {utf8_error.start}); GB18030 gives mojibake")
        return text, "gb18030"


def _common_han(sample: str) -> bool:
    """False when the Han characters are mostly rare ones: another CJK encoding misread as GB18030."""
    han = _HAN.findall(sample)
    if len(han) < _MIN_HAN_TO_JUDGE:
        return True
    return sum(ch in _COMMON_HAN for ch in han) >= _MIN_COMMON_HAN_SHARE * len(han)


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise Rejected(RejectReason.DECODE_ERROR, f"invalid {encoding} ({error.reason} at byte {error.start})") from None


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
