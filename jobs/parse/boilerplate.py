"""Generic boilerplate: credit, repost, view-more, promo and footer lines any feed may carry. Pure.

Runs on every source after its own rule (jobs/parse/sources/). Table-driven like
urls.py: each entry of PATTERNS is one documented line shape (family, language,
regex, where it may stand, what it lifts). Adding one is one line; the README's
"Generic boilerplate" section lists the families.

Position matters: credits, repost notices, promos and footers live in the first
and last few paragraphs; the same words mid-article are content. The scan walks
in from each end, dropping matching lines, and stops after HEAD_SLACK (start) or
TAIL_SLACK (end) lines that are kept: a stack of footer lines is peeled whole, a
line deep in the article is never looked at. Lone symbols and dropped-embed
labels carry no text anywhere, so they go wherever they stand.

What is worth keeping is lifted into fields: the author into `byline`, the
original outlet into `republished_from`, the original URL into `original_url`.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from jobs.parse import structure
from jobs.parse.lifted import LiftedFields

HEAD_SLACK = 2  # kept lines allowed before the head scan stops
TAIL_SLACK = 3  # kept lines allowed before the tail scan stops
MAX_LINE = 220  # a boilerplate line is short; a long paragraph is never one

EDGE = "edge"  # first or last few paragraphs
HEAD = "head"  # first few only
TAIL = "tail"  # last few only
ANYWHERE = "anywhere"  # carries no text: safe at any position
ANY_POSITION = "any_position"  # for match(): test every pattern (a short block judged on its own)

FAMILIES = {
    "repost": "repost and origin notices (the original outlet and URL are lifted)",
    "credit": "credit blocks: author, editor, producer, photo and translation credits (the author is lifted)",
    "view_more": "view / discuss / read-more links and engagement counters",
    "promo": "promos and contact lines: scan, follow, subscribe, add on WeChat, download the app",
    "footer": "copyright, reprint-policy, disclaimer and site footers",
    "orphan": "a lone label or symbol left where a video or embed was dropped, or a literal null/undefined",
    **structure.FAMILIES,  # shapes, not phrasings: jobs/parse/structure.py
}

# Values of a credit/notice: stop at the next separator or sentence end.
_NAME = r"[^，,。；;|｜丨（）()【】\[\]]{1,40}?"
_SEP = r"\s*[:：|｜丨/／]\s*"
_URL = r"(?P<url>https?://\S+)"
_ORIGIN_VERB = r"(?:来自|来源于|转载自|转自|转载于|摘自|选自|原载于?|首发于|首发在|首发|发表于|刊于|刊载于)"
_ACCOUNT_KIND = r"(?:微信)?(?:公众号|微信号|订阅号|服务号|微博|知乎|头条号|视频号)|微信"
_QUOTED_OUTLET = r"[「“\"『【《]?(?P<outlet>[^」”\"』】》，,。（(：:]{1,40}?)[」”\"』】》]?"

# Credit labels (zh, en, ja): "作者 | X", "编辑：X", "Photo: X", "文：X".
_AUTHOR_LABELS = r"作者|文|撰文|文字|记者|撰稿|口述|整理|作者信息|Author|Authors|Words|Text|執筆|著者|文・写真|文／写真"
_OTHER_LABELS = (
    r"编辑|責任編輯|责任编辑|责编|主编|执行主编|编审|审核|审校|校对|校审|终审|初审|复审|监制|出品|出品人|策划|统筹|制片|"
    r"排版|美编|美术|视觉|视觉设计|设计|插图|插画|绘图|制图|图表|图|图片|配图|头图|题图|封面|封面图|摄影|摄像|视频|剪辑|后期|"
    r"翻译|译者|编译|译|校译|运营|实习生|实习编辑|"
    r"Editor|Edited by|Editing|Photo|Photos|Photograph|Photography|Image|Images|Illustration|Cover|Header image|"
    r"Featured image|Design|Translation|Translated by|Producer|Video|Credit|Credits|"
    r"編集|写真|撮影|取材|構成|翻訳|イラスト|画像|デザイン|制作"
)
_LABEL = rf"(?:{_AUTHOR_LABELS}|{_OTHER_LABELS})"
# One or more "label | value" pairs on one line; the first author label's value is lifted.
_CREDIT_LINE = rf"^[（(【\[]?(?:{_LABEL}){_SEP}.{{1,40}}?(?:\s+(?:{_LABEL}){_SEP}.{{1,40}}?)*[）)】\]]?$"
_AUTHOR_VALUE = re.compile(rf"(?:^|[\s（(【\[])(?:{_AUTHOR_LABELS}){_SEP}(?P<author>[^\s|｜丨/／（）()【】\[\]]{{1,30}}(?:\s[A-Z][\w.'-]+)*)")

# Labels of media that the feed dropped (a video or audio embed): left alone they read as text.
MEDIA_LABELS = (
    r"(?:报道|相关|新闻|现场|精彩|点击观看|点击播放|播放|观看)?(?:视频|音频|直播|动图)|"
    r"(?:Watch|Video|Listen|Audio|Embedded video|Related video)|(?:動画|関連動画|音声)"
)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: each is one table entry
class Pattern:
    family: str
    language: str
    where: str
    regex: re.Pattern[str]
    lifts: tuple[str, ...] = ()  # named groups lifted: author -> byline, outlet -> republished_from, url -> original_url
    # A pattern that may start anywhere in the line (`^.{0,N}X`) names literals of which every line it
    # matches holds one: the screen looks for them first (a fast search) instead of trying N offsets.
    # Literals whose first character is rare in prose (not 不, 如, 作, i) keep that search quick.
    needs: str = ""


def _p(family: str, language: str, where: str, regex: str, *lifts: str, flags: int = 0, needs: str = "") -> Pattern:
    if regex.startswith("^.{") and not needs:
        raise ValueError(f"a pattern that floats in its line needs its literals: {regex[:40]}")
    return Pattern(family, language, where, re.compile(regex, flags), lifts, needs)


PATTERNS: tuple[Pattern, ...] = (
    # --- repost and origin notices -------------------------------------------------------------
    # 本文来自微信公众号：X（ID：y），作者：Z[，…]; 本文首发于 X; 转载自公众号「X」
    _p("repost", "zh", EDGE,
       rf"^(?:(?:本文|本篇(?:文章)?|文章|此文|该文)(?:内容)?{_ORIGIN_VERB}\s*(?:{_ACCOUNT_KIND})?|{_ORIGIN_VERB}\s*(?:{_ACCOUNT_KIND}))"
       rf"\s*[:：]?\s*{_QUOTED_OUTLET}"
       rf"(?:\s*[（(]\s*(?:微信)?(?:ID|id|微信号)\s*[:：]\s*[\w-]+\s*[）)])?"
       rf"(?:\s*[，,]\s*(?:作者|文)\s*[:：]?\s*(?P<author>{_NAME}))?(?:[，,；;。].{{0,100}})?$", "outlet", "author"),
    # …经授权发布 / 已获授权转载 / 转载请注明出处 (no outlet to lift)
    _p("repost", "zh", EDGE, r"^.{0,100}(?:经授权(?:发布|转载|刊发|转发|刊登)|已获(?:作者|原作者|原作)?授权(?:转载|发布|刊登)?|授权转载).{0,60}$", needs="授权"),
    # 来源：X / 转自 | X / 出处：X (a bare "来源" names the outlet)
    _p("repost", "zh", EDGE,
       rf"^[（(【\[]?(?:来源|来自|转自|转载自|出处|原文来源|文章来源|本文来源|稿件来源|内容来源|信息来源|消息来源|新闻来源){_SEP}"
       rf"(?P<outlet>[^。！？]{{1,40}}?)[）)】\]]?$", "outlet"),
    # 原文链接：URL / 原文地址：URL / 原文：URL
    _p("repost", "zh", EDGE, rf"^(?:原文链接|原文地址|原文|原帖|原文網址|原文連結|出处链接|来源链接)(?:{_SEP}?{_URL}|\s*[:：]?)$", "url"),
    # Originally published at X / This article first appeared on X / Reprinted with permission from X
    _p("repost", "en", EDGE,
       rf"^(?:This (?:article|post|story|piece|essay) (?:was )?)?(?:originally|first)\s+(?:published|appeared|posted)\s+(?:on|in|at|by)\s+"
       rf"(?P<outlet>[^.,;:]{{1,60}}?)(?:\s+(?:on|in)\s+[^.]{{1,40}})?(?:[,:]?\s*{_URL})?\s*\.?$", "outlet", "url", flags=re.IGNORECASE),
    _p("repost", "en", EDGE,
       rf"^(?:Re-?published|Reprinted|Republished|Cross-posted|Crossposted)\s+(?:with (?:kind )?permission\s+)?(?:from|on)\s+"
       rf"(?P<outlet>[^.,;:]{{1,60}}?)(?:[,:]?\s*{_URL})?\s*\.?$", "outlet", "url", flags=re.IGNORECASE),
    _p("repost", "en", EDGE, rf"^(?:Source|Via|Original(?: article| post)?|Read the original){_SEP}(?:{_URL}|(?P<outlet>[^.!?]{{1,60}}))$",
       "outlet", "url", flags=re.IGNORECASE),
    # この記事は X から転載 / 出典：X / 元記事：URL
    _p("repost", "ja", EDGE, r"^(?:この|本)記事は(?P<outlet>.{1,40}?)(?:から|より)(?:の)?(?:転載|転載しています|転載しました)(?:したもの)?(?:です)?[。.]?$",
       "outlet"),
    _p("repost", "ja", EDGE, rf"^(?:出典|出所|引用元|転載元|元記事|ソース){_SEP}(?:{_URL}|(?P<outlet>[^。]{{1,40}}))$", "outlet", "url"),
    # --- credit blocks ------------------------------------------------------------------------
    # 作者 | X  编辑 | Y ；(翻译：X) ；Photo: X
    _p("credit", "zh/en/ja", EDGE, _CREDIT_LINE, "author"),
    # By Jane Doe[, Reuters]
    _p("credit", "en", HEAD, r"^By\s+(?P<author>[A-Z][\w.'-]+(?:\s+(?:[A-Z][\w.'-]+|de|van|von|da|and|&)){0,4})(?:\s*[,|｜/–—-]\s*[A-Z][^.!?]{1,40})?$", "author"),
    # 图片来源：X / 图片来源及版权：X / 题图为 X 来自 Y / 业余数据和处理版权：X
    _p("credit", "zh", EDGE, r"^[（(]?(?:题图|头图|封面|首图|文图|配图|图片|图|本文图片|部分图片)(?:和文图|及文图|和配图)?(?:来源|来自|出处|版权|为|由|均?来自|均?来源于)"
                              r"(?:及版权)?.{1,80}$"),
    _p("credit", "zh", EDGE, r"^.{0,12}(?:图片)?(?:版权|著作权)(?:所有|归属|归)?\s*[:：]\s*.{1,60}$", needs="版权|著作权"),
    # Photo by X on Unsplash / Image courtesy of X / Photo credit: X
    _p("credit", "en", EDGE, r"^(?:Photo|Image|Illustration|Header|Cover|Featured image)s?\s+(?:by|via|courtesy(?: of)?|credit:?)\s+.{1,80}$",
       flags=re.IGNORECASE),
    # --- view / discuss links -----------------------------------------------------------------
    _p("view_more", "zh", EDGE, r"^(?:点击|点此|戳)?(?:这里|此处|下方|文末|左下角)?(?:查看|阅读|浏览|访问)?(?:知乎|微博|豆瓣|微信)?"
                                r"(?:原文|全文|更多|详情|完整内容|原帖|原文链接|更多内容|更多精彩|更多详情|讨论)(?:[>＞›»→]+|…+)?$"),
    _p("view_more", "zh", EDGE, r"^(?:点击|点此|戳)(?:这里|此处|下方|文末|左下角|链接)?.{0,10}(?:阅读原文|查看原文|查看更多|了解更多|阅读全文|查看全文|查看详情).{0,20}$"),
    _p("view_more", "zh", EDGE, r"^(?:继续阅读|繼續閱讀|阅读全文|閱讀全文|展开全文|展開全文|全文阅读|查看全文|閱讀更多|阅读更多|了解更多|了解詳情|更多内容|"
                                r"相关阅读|相關閱讀|推荐阅读|推薦閱讀|延伸阅读|延伸閱讀|往期回顾|往期推荐|往期精选|精彩推荐)\s*[:：]?(?:[>＞›»→]+|…+)?$"),
    _p("view_more", "en", EDGE, r"^(?:Read (?:more|on|the (?:full|rest|original)(?: \w+)?|the rest|full (?:story|article))|Continue reading|Keep reading|"
                                r"View (?:original|full|more|on \w+)|Full (?:story|article)|See more|Learn more|Discuss(?: (?:on|at) .{1,30})?|"
                                r"Comments|Join the discussion|Related(?: articles| posts| stories)?:?)"
                                r"(?:\s+(?:here|at|on|in) .{0,40})?\s*[.:…»›→>]*$", flags=re.IGNORECASE),
    _p("view_more", "ja", EDGE, r"^(?:続きを読む|続きはこちら|全文を読む|もっと見る|詳しくはこちら|記事を読む|元記事を読む|関連記事)\s*[:：]?(?:[>＞›»→]+)?$"),
    # Engagement counters: "0 likes", "12 saves", "3,204 次阅读", "在看 5"
    _p("view_more", "en/zh", TAIL, r"^[\d,.]+[kKwW万千]?\s*(?:likes?|saves?|comments?|views?|shares?|reposts?|retweets?|replies|"
                                   r"次阅读|阅读|人阅读|点赞|评论|在看|收藏|转发|赞|浏览)$", flags=re.IGNORECASE),
    # --- promos and contact lines -------------------------------------------------------------
    _p("promo", "zh", EDGE, r"^(?:请|欢迎|敬请|立即|马上|微信|用微信|打开微信|手机|读者可|可)?(?:扫码|扫一扫|扫描.{0,6}二维码|长按.{0,10}二维码|识别.{0,6}二维码|长按(?:识别|关注))[，,\s]*.{0,6}"
                            r"(?:关注|下载|添加|加入|进群|入群|领取|订阅|咨询|购买|报名|阅读|获取|了解|观看|收听|预约|参与|联系|免费|加我|查看).{0,150}$"),
    _p("promo", "zh", EDGE, r"^(?:欢迎|请|敬请|记得|别忘了)?(?:关注|订阅|添加|星标|置顶)(?:我们的)?.{0,24}(?:公众号|微信号|服务号|订阅号|视频号|微博|头条号|抖音号|B站|小红书|知乎号)"
                            r".{0,100}$"),
    _p("promo", "zh", EDGE, r"^.{0,10}(?:加|添加)(?:小编|小助手|助手|客服|编辑|作者)?(?:个人)?微信(?:号)?.{0,80}$", needs="微信"),
    _p("promo", "zh", EDGE, r"^(?:点击|点)(?:上方|下方|右上角)?.{0,6}(?:蓝字|关注|在看|分享|点赞|星标)(?:我们)?.{0,40}$"),
    _p("promo", "zh", EDGE, r"^(?:如有兴趣[,，]?\s*)?(?:请|欢迎)?(?:复制链接|点击|点此)?订阅(?:我们|本刊|专栏|频道|栏目|本号)?.{0,16}$"),
    _p("promo", "zh", EDGE, r"^(?:商务合作|广告合作|合作联系|投稿邮箱|投稿请|投稿方式|联系我们|联系方式|联系邮箱|联系电话|爆料|寻求报道|转载授权|转载合作|商务对接)"
                            r"(?:请联系|请发送?至?|请发邮件至)?\s*[:：|｜]?.{0,80}$"),
    _p("promo", "zh", EDGE, r"^(?:下载|打开).{0,10}(?:APP|App|app|客户端)(?!.{0,4}(?:时|后)).{0,40}$"),
    _p("promo", "en", EDGE, r"^(?:Subscribe|Sign up|Follow (?:us|me|@)|Join (?:our|us)|Download (?:our|the) app|Like us on|Get (?:our|the) newsletter|"
                            r"Don't forget to (?:subscribe|follow)|Contact us|Email us|For (?:business|advertising) inquiries)\b.{0,150}$",
       flags=re.IGNORECASE),
    _p("promo", "ja", EDGE, r"^(?:フォローする|フォローしてね|チャンネル登録|友だち追加|メルマガ登録|購読する|お問い合わせ(?:は|先)).{0,80}$"),
    # --- copyright and site footers -----------------------------------------------------------
    _p("footer", "en", TAIL, r"^(?:©|\(c\)|（c）|Copyright\b).{0,120}$", flags=re.IGNORECASE),
    _p("footer", "en", TAIL, r"^.{0,100}\bAll [Rr]ights [Rr]eserved\b.{0,60}$", needs="All [Rr]ights"),
    _p("footer", "zh", TAIL, r"^.{0,60}(?:版权所有|版權所有|著作权归|著作權歸|版权归|版權歸)(?!.{0,6}(?:纠纷|糾紛|诉讼|訴訟)).{0,80}$", needs="版权|版權|著作权|著作權"),
    _p("footer", "zh", EDGE, r"^.{0,40}(?:未经(?:许可|授权|允许|同意)|未經(?:許可|授權|允許|同意))[，,]?\s*(?:任何.{0,8})?(?:禁止|不得|严禁|嚴禁|请勿|請勿)"
                             r".{0,6}(?:转载|轉載|转发|使用|复制|複製).{0,60}$", needs="未经|未經"),
    _p("footer", "zh", EDGE, r"^.{0,20}(?:转载请|轉載請|如需转载|如需轉載)(?:注明|联系|聯繫|私信|后台|保留).{0,80}$", needs="载请|載請|需转载|需轉載"),
    _p("footer", "zh", TAIL, r"^.{0,20}(?:若有任何(?:錯誤|错误)或(?:建議|建议)|如有(?:侵权|侵權)|如涉及(?:侵权|版权)|本文(?:仅|僅)?代表作者(?:个人|個人)?(?:观点|觀點)|"
                             r"(?:文章|本文)(?:内容)?(?:为|為|系)作者(?:独立|個人|个人)观点|不代表.{0,20}(?:立场|立場)|免责声明|免責聲明).{0,160}$", needs="若有任何|侵权|侵權|版权|观点|觀點|立场|立場|免责声明|免責聲明"),
    _p("footer", "en", TAIL, r"^(?:Disclaimer|The views expressed|Opinions expressed)\b.{0,200}$", flags=re.IGNORECASE),
    _p("footer", "ja", TAIL, r"^.{0,40}(?:無断転載(?:を)?禁(?:じます|止)|転載禁止|無断複製・転載を禁じます).{0,40}$", needs="無断|転載禁止"),
    # --- lone labels and symbols --------------------------------------------------------------
    _p("orphan", "zh/en/ja", ANYWHERE, rf"^(?:{MEDIA_LABELS})\s*[:：]$", flags=re.IGNORECASE),
    _p("orphan", "any", ANYWHERE, r"^[+＋*＊•·●○◆◇■□▲△▼▽►▶◀→←↑↓»«›‹|｜/\\~～#＃=_\-–—…・.。,，]{1,6}$"),
    _p("orphan", "any", EDGE, r"^(?:null|NULL|undefined|\[object Object\]|NaN)$"),
    # The fallback text of a media element whose tag the feed lost (with the tag, body.py finds it by structure).
    _p("media_fallback", "en/zh", EDGE, r"^(?:Sorry,? )?Your browser (?:does not|doesn't|cannot|can't) (?:support|play) (?:the |this |HTML5 )?"
                                        r"(?:video|audio|media)(?: tag| element| file| format)?s?\.?$|"
                                        r"^(?:抱歉，?)?(?:您|你)的浏览器(?:不支持|暂不支持|无法播放)(?:HTML5 ?)?(?:video|audio|视频|音频|播放)?(?:标签|播放)?[。！!.]?$",
       flags=re.IGNORECASE),
)

_LONE_URL = re.compile(r"^https?://\S+$")


def _combined(patterns: list[Pattern]) -> re.Pattern[str]:
    """One regex for several patterns: one C-level call turns almost every line away."""
    parts = []
    for pattern in patterns:
        flags = "i" if pattern.regex.flags & re.IGNORECASE else ""
        body = re.sub(r"\(\?P<\w+>", "(?:", pattern.regex.pattern)  # group names may repeat across patterns
        parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    return re.compile("|".join(parts)) if parts else re.compile(r"(?!)")


# The regex parser of the standard library (private, and unknown to type stubs): it gives each pattern's
# possible first characters. Any surprise in its output makes a pattern "may start with anything".
_parser = importlib.import_module("re._parser")
_c = importlib.import_module("re._constants")


def _first_chars(pattern: Pattern) -> re.Pattern[str] | None:
    """A one-character regex that every line `pattern` matches starts with; None if any character may start one.

    Read off the parsed regex (the characters its first consuming element allows, through optional ones);
    compiled with the pattern's own flags, so case folding is the engine's. When in doubt, None.
    """
    try:
        chars = _first_of(_parser.parse(pattern.regex.pattern, pattern.regex.flags))
    except (re.error, TypeError, ValueError, AttributeError, IndexError):  # an unexpected parse: no shortcut
        return None
    if chars is None or chars[1] or not chars[0]:  # any character, or the whole pattern may match nothing
        return None
    return re.compile("[" + "".join(sorted(chars[0])) + "]", pattern.regex.flags)


_CATEGORIES = {_c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_NOT_DIGIT: r"\D", _c.CATEGORY_SPACE: r"\s",
               _c.CATEGORY_NOT_SPACE: r"\S", _c.CATEGORY_WORD: r"\w", _c.CATEGORY_NOT_WORD: r"\W"}


def _first_of(items: Any) -> tuple[set[str], bool] | None:  # items: a parsed (sub)pattern of re._parser
    """(character-class items a match may start with, whether the sequence may match nothing); None: any character."""
    chars: set[str] = set()
    for op, arg in items:
        found = _first_of_op(op, arg)
        if found is None:
            return None
        chars |= found[0]
        if not found[1]:
            return chars, False
    return chars, True


def _first_of_op(op: Any, arg: Any) -> tuple[set[str], bool] | None:
    if op is _c.LITERAL:
        return {re.escape(chr(arg))}, False
    if op is _c.IN:
        chars = set()
        for kind, value in arg:
            if kind is _c.LITERAL:
                chars.add(re.escape(chr(value)))
            elif kind is _c.RANGE:
                chars.add(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
            elif kind is _c.CATEGORY and value in _CATEGORIES:
                chars.add(_CATEGORIES[value])
            else:  # a negation, anything unusual
                return None
        return chars, False
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):  # zero width: ignoring the condition only widens the set
        return set(), True
    if op is _c.BRANCH:
        chars, empty = set(), False
        for branch in arg[1]:
            found = _first_of(branch)
            if found is None:
                return None
            chars |= found[0]
            empty = empty or found[1]
        return chars, empty
    if op is _c.SUBPATTERN and not arg[1] and not arg[2]:  # a group without inline flags
        return _first_of(arg[3])
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        found = _first_of(arg[2])
        return None if found is None else (found[0], found[1] or arg[0] == 0)
    return None  # any character, a back reference, anything unusual


_COMBINED: dict[tuple[Pattern, ...], re.Pattern[str]] = {}


def _combined_once(patterns: tuple[Pattern, ...]) -> re.Pattern[str]:
    """Many first characters pick the same few patterns: compile each such set once."""
    if patterns not in _COMBINED:
        _COMBINED[patterns] = _combined(list(patterns))
    return _COMBINED[patterns]


@dataclass(frozen=True)
class _Candidates:
    """For one first character: one regex saying whether any of its patterns can match, and the patterns."""

    anchored: re.Pattern[str] | None  # the anchored patterns this character may start, combined
    patterns: tuple[Pattern, ...]  # those and the floating ones, in PATTERNS order


@dataclass(frozen=True)
class _Screen:
    """The first pattern allowed at one position that matches a line, without trying each.

    Patterns anchored at the line's start are picked by the line's first character (each pattern's
    possible first characters are read off its regex); the few that remain run as one combined match.
    Patterns that float (`^.{0,N}X`) would be tried at N offsets: first one search for their literals.
    Only a line that passes is tried pattern by pattern, in table order, as before.
    """

    anchored: tuple[tuple[Pattern, re.Pattern[str] | None], ...]
    floating: tuple[Pattern, ...]
    floating_screen: tuple[re.Pattern[str], re.Pattern[str]] | None  # (their literals, their combined regex)
    by_first: dict[str, _Candidates]

    @classmethod
    def of(cls, wheres: tuple[str, ...]) -> _Screen:
        allowed = [pattern for pattern in PATTERNS if pattern.where in wheres]
        floating = tuple(pattern for pattern in allowed if pattern.needs)
        anchored = tuple((pattern, _first_chars(pattern)) for pattern in allowed if not pattern.needs)
        screen = (re.compile("|".join(pattern.needs for pattern in floating)), _combined(list(floating))) if floating else None
        return cls(anchored, floating, screen, {})

    def _candidates(self, first: str) -> _Candidates:
        picked = tuple(pattern for pattern, chars in self.anchored if chars is None or chars.match(first))
        chosen = {id(pattern) for pattern in picked + self.floating}
        ordered = tuple(pattern for pattern in PATTERNS if id(pattern) in chosen)
        candidates = self.by_first[first] = _Candidates(_combined_once(picked) if picked else None, ordered)
        return candidates

    def first_match(self, line: str) -> Pattern | None:
        first = line[:1]
        candidates = self.by_first.get(first) or self._candidates(first)
        if candidates.anchored is None or candidates.anchored.match(line) is None:
            if self.floating_screen is None:
                return None
            needs, floating = self.floating_screen
            if needs.search(line) is None or floating.match(line) is None:
                return None
        for pattern in candidates.patterns:
            if pattern.regex.match(line):
                return pattern
        return None


_ALLOWED = {HEAD: (HEAD, EDGE, ANYWHERE), TAIL: (TAIL, EDGE, ANYWHERE), ANY_POSITION: (HEAD, TAIL, EDGE, ANYWHERE)}
_SCREEN = {where: _Screen.of(allowed) for where, allowed in _ALLOWED.items()}
_SCREEN_ANYWHERE = _Screen.of((ANYWHERE,))


def match(paragraph: str, where: str) -> Pattern | None:
    """The first pattern that matches the whole paragraph and may stand at `where` (HEAD, TAIL or ANY_POSITION)."""
    return None if len(paragraph) > MAX_LINE else _SCREEN[where].first_match(paragraph)


def clean(paragraphs: list[str], fields: LiftedFields, page: structure.Page | None = None) -> list[str]:
    """Drop boilerplate lines from both ends (and lone labels anywhere); lift authors, outlets, URLs.

    With a `page`, the structural screen (structure.py) judges the edge lines no pattern matched,
    and a media element's fallback text goes wherever it stands; it never empties an article.
    Each dropped line is recorded in fields.boilerplate as (family, paragraph), for tests and reports.
    """
    n = len(paragraphs)
    if not n:
        return paragraphs
    drop: dict[int, Pattern] = {}
    _scan(paragraphs, range(n), HEAD, HEAD_SLACK, drop, page)
    _scan(paragraphs, range(n - 1, -1, -1), TAIL, TAIL_SLACK, drop, page)
    orphan = _SCREEN_ANYWHERE.first_match
    fallback = page.media_fallback if page is not None else ()
    for index, paragraph in enumerate(paragraphs):
        if index in drop:
            continue
        if len(paragraph) <= 24 and (pattern := orphan(paragraph)) is not None:
            drop[index] = pattern
        elif fallback and paragraph in fallback:
            drop[index] = STRUCTURAL["media_fallback"]
    if not drop:
        return paragraphs
    if len(drop) == n and any(pattern.where == STRUCTURE for pattern in drop.values()):
        drop = {index: pattern for index, pattern in drop.items() if pattern.where != STRUCTURE}  # never emptied by shape alone
    _drop_lone_urls_after(paragraphs, drop)
    kept = []
    for index, paragraph in enumerate(paragraphs):
        pattern = drop.get(index)
        if pattern is None:
            kept.append(paragraph)
            continue
        fields.boilerplate.append((pattern.family, paragraph))
        _lift(pattern, paragraph, fields)
    return kept


STRUCTURE = "structure"  # the `where` of a structural verdict: an edge line judged by its shape
STRUCTURAL = {family: Pattern(family, "any", STRUCTURE, re.compile(r"(?!)")) for family in structure.FAMILIES}


def _scan(paragraphs: list[str], indices: range, where: str, slack: int, drop: dict[int, Pattern],
          page: structure.Page | None) -> None:
    """Walk in from one end, marking matches; stop once `slack` kept lines have been passed.

    The structural screen is asked only while no kept line has been passed: at the very edge.
    """
    first_match = _SCREEN[where].first_match
    at_edge = page is not None
    head = where == HEAD
    for index in indices:
        if index in drop:
            continue
        paragraph = paragraphs[index]
        if len(paragraph) <= MAX_LINE:
            pattern = first_match(paragraph)
            if pattern is None and at_edge and (shape := structure.family(paragraph, head, page)) is not None:  # type: ignore[arg-type]
                pattern = STRUCTURAL[shape]
            if pattern is not None:
                drop[index] = pattern
                continue
        at_edge = False
        slack -= 1
        if slack < 0:
            return


def _drop_lone_urls_after(paragraphs: list[str], drop: dict[int, Pattern]) -> None:
    """A bare URL right after a dropped notice or promo belongs to it (`原文链接：` then the URL)."""
    for index in sorted(drop):
        following = index + 1
        if drop[index].family in ("repost", "promo", "view_more") and following < len(paragraphs) and following not in drop:
            if _LONE_URL.match(paragraphs[following]):
                family = drop[index].family
                drop[following] = Pattern(family, "any", EDGE, _LONE_URL_AS[family], ("url",) if family == "repost" else ())


_LONE_URL_AS = {family: re.compile(r"^(?P<url>https?://\S+)$") for family in ("repost", "promo", "view_more")}


def _lift(pattern: Pattern, paragraph: str, fields: LiftedFields) -> None:
    if not pattern.lifts:
        return
    found = pattern.regex.match(paragraph)
    if found is None:
        return
    groups = found.groupdict()
    if pattern.family == "credit" and "author" in pattern.lifts and not groups.get("author"):
        author = _AUTHOR_VALUE.search(paragraph)
        groups["author"] = author.group("author") if author else None
    for group in pattern.lifts:
        value = (groups.get(group) or "").strip(" \t'\"“”「」『』《》【】")
        if not value:
            continue
        # The first value found wins (a source rule's runs before this layer).
        if group == "author":
            fields.byline = fields.byline or value
        elif group == "outlet":
            fields.republished_from = fields.republished_from or value
        elif group == "url":
            fields.original_url = fields.original_url or value
