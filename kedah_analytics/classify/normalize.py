"""Reading post text, the one home of negators and of Malay/Manglish spelling normalisation.

Every classifier in this package reads text through these functions, so that the lexicon baseline,
the offline model's training and its runtime agree on what a negator is and how "sgt" is spelt:

- :func:`post_text`: the text kept with a classified post (links, mentions and case as written,
  so that spam, hashtag and place signals still see them), cut at :data:`MAX_POST_CHARS`;
- :func:`clean_text`: what a sentiment model reads (entities decoded, URLs and mentions replaced,
  cut at :data:`MAX_TEXT_CHARS`);
- :func:`normalize_spelling`: common chat spellings of lower-cased text mapped to one form
  ("x", "tk", "tidak" -> "tak"; "sgt" -> "sangat"; "bole" -> "boleh"; "gud" -> "good").
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

# Posts longer than this are cut at a word boundary before a model reads them: the sentiment of a
# long caption is mostly in its opening, and the cost of the features grows with length.
MAX_TEXT_CHARS = 1000
# What a classified post keeps of its text: enough for any caption, bounded for the warehouse.
MAX_POST_CHARS = 5000

# One set, with the chat spellings. Only single words: a token is compared against it.
# "kurang" (less) and "takkan" (will not) negate what follows as "tak" does ("kurang sedap").
MALAY_NEGATORS = frozenset(
    "tak tidak bukan x tiada jangan belum tk tdk bkn xde xda takde takda tiade jgn blm tkde takkan "
    "toksah kurang".split()
)
ENGLISH_NEGATORS = frozenset(
    "not no never cannot cant dont didnt doesnt isnt wasnt werent arent wont wouldnt shouldnt "
    "couldnt aint nothing nobody nor neither without hardly".split()
)
NEGATORS = MALAY_NEGATORS | ENGLISH_NEGATORS

# Chat spelling -> the form the n-grams and lexicons see. Abbreviations map to the standard word;
# the negators of one meaning map to one word. Left out on purpose: spellings that are also common
# words elsewhere ("cam" camera, "bg" abang/bagi, "kt" kat/kita, "ape", "spa", "asal" origin), and
# English words with a Malay equivalent ("boring"): VADER knows them as they are.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    # negation
    "tak": ("x", "tk", "tidak", "tdk", "idak", "ndak", "tak"),
    "tiada": ("takde", "tkde", "xde", "xda", "xdak", "takda", "takdak", "tiade", "tade", "xada"),
    "bukan": ("bkn", "bukn"),
    "jangan": ("jgn", "jgan", "jangn"),
    "belum": ("blm", "blum", "belom"),
    # intensifiers and function words
    "sangat": ("sgt", "sngt", "sangt", "sgt2"),
    "macam": ("mcm", "mcam", "mcmtu"),
    "boleh": ("bole", "blh", "bleh", "bley", "boley", "bolehh"),
    "yang": ("yg", "yng"),
    "dengan": ("dgn", "dng", "dngn", "ngan"),
    "untuk": ("utk", "ntk", "untk"),
    "dalam": ("dlm", "dalm"),
    "orang": ("org", "orng"),
    "saya": ("sy", "sye", "saye"),
    "saja": ("sje", "saje"),
    "je": ("jer", "jek", "jea", "jee"),
    "tapi": ("tp", "tpi", "tetapi"),
    "pun": ("pon",),
    "lagi": ("lg", "lgi"),
    "dah": ("dh", "sdh", "sudah"),
    "sebab": ("sbb", "sbab", "sbbkan"),
    "kerana": ("krn", "krna", "karna"),
    "banyak": ("byk", "bnyk", "bnyak", "byak"),
    "sekarang": ("skrg", "skrng", "skang", "skarang"),
    "makan": ("mkn", "mkan"),
    "tengok": ("tgk", "tngok", "tgok", "tengo"),
    "nak": ("nk", "nakk", "hendak"),
    "cakap": ("ckp", "cakp"),
    "betul": ("btl", "btol", "btul", "betol"),
    "kena": ("kne", "kna"),
    "semua": ("sume", "smua", "smue", "semue"),
    "memang": ("mmg", "mmng", "memg"),
    "kalau": ("klu", "kalu", "kalo", "klau", "kalaw"),
    "lepas": ("lps", "lpas"),
    "dapat": ("dpt", "dpat"),
    "kenapa": ("knp", "knape", "kenape", "naper"),
    "siapa": ("sape", "siape"),
    "tolong": ("tlg", "tolng"),
    "terus": ("trus", "trs"),
    "dekat": ("dkt", "dekt"),
    "pergi": ("pegi", "gi", "pi"),
    "sikit": ("skit", "sket", "sikit2"),
    # travel and food words the lexicons know in one spelling
    "best": ("bes", "bestt", "bez"),
    "sedap": ("sdp", "sedapp", "sdap"),
    "cantik": ("cntik", "cantek", "cantikk", "cntk"),
    "terbaik": ("terbaek", "tbaik", "trbaik"),
    "gila": ("gile", "gilerr", "giler", "gler"),
    "mahal": ("mhl", "mahl"),
    "teruk": ("truk", "teruk2"),
    "bosan": ("bosn",),
    "penat": ("pnat",),
    # Manglish
    "good": ("gud", "gd"),
    "love": ("luv", "lurve"),
    "please": ("pls", "plz", "plis", "pliss"),
    "thanks": ("thx", "tq", "tqvm", "tenkiu", "tenks", "thnks", "tks"),
    "you": ("u", "yu"),
    "your": ("ur", "yr"),
    "because": ("coz", "cuz", "bcoz", "bcos", "cos"),
    "dont": ("dun", "dnt"),
    "what": ("wat", "wht"),
    "people": ("ppl",),
    "really": ("rly", "rlly"),
}
MALAY_SPELLINGS: dict[str, str] = {
    variant: standard
    for standard, variants in _SPELLINGS.items()
    for variant in variants
    if variant != standard
}
# A whole word (not inside a word, a hashtag, a mention or a hyphenated word: "x-ray", "u-turn").
_SPELLING_RE = re.compile(
    r"(?<![\w#@'’-])("
    + "|".join(re.escape(v) for v in sorted(MALAY_SPELLINGS, key=len, reverse=True))
    + r")(?![\w'’-])"
)

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<![\w@])@\w{1,30}")
# C0/C1 controls, lone surrogates, U+FFFD (what errors="replace" leaves), BOM and zero-width marks.
_JUNK_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufeff\u200b\u200c\u2060]")
_SPACE_RE = re.compile(r"\s+")


def coerce_text(value: Any) -> str:
    """Any post text (str, bytes, None) as a str without invalid characters or control codes."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    if not value:
        return ""
    # Lone surrogates (from surrogateescape) would make any later .encode() fail.
    return _JUNK_RE.sub(" ", value)


def truncate(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a space when one is near the end."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit + 1)
    return text[: cut if cut > 0 else limit].rstrip()


def post_text(value: Any) -> str:
    """The text stored with a classified post: readable, as written, at most MAX_POST_CHARS."""
    return truncate(coerce_text(value), MAX_POST_CHARS).strip()


def clean_text(value: Any) -> str:
    """Readable post text: entities decoded, URLs and @mentions replaced, spaces collapsed, cut.

    Case and emoji stay (VADER reads both).
    """
    text = coerce_text(value)
    if not text:
        return ""
    if len(text) > 4 * MAX_TEXT_CHARS:
        text = text[: 4 * MAX_TEXT_CHARS]  # before the regexes: a 10 MB "post" must stay cheap
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        # NFKC folds the "fancy font" letters and full-width forms people post with.
        text = unicodedata.normalize("NFKC", text)
    if "http" in text or "www." in text or "HTTP" in text:
        text = _URL_RE.sub(" url ", text)
    if "@" in text:
        text = _MENTION_RE.sub(" @user ", text)
    return truncate(_SPACE_RE.sub(" ", text).strip())


def _standard(match: re.Match[str]) -> str:
    return MALAY_SPELLINGS[match.group(1)]


# Space-separated chunk -> its normalised form. Words repeat, so the regex runs once per distinct
# chunk and a post costs a dict lookup per word (the runtime must read 5,000 posts/s on one core).
_NORMALISED: dict[str, str] = {}
_MAX_NORMALISED = 300_000


def normalize_spelling(lowered: str) -> str:
    """Chat spellings of whole words in lower-cased text replaced by one form ("sgt" -> "sangat")."""
    cache = _NORMALISED
    if len(cache) > _MAX_NORMALISED:
        cache.clear()
    out = []
    for chunk in lowered.split(" "):
        normalised = cache.get(chunk)
        if normalised is None:
            # A space is a boundary on both sides, so chunk by chunk equals the whole string at once.
            normalised = cache[chunk] = _SPELLING_RE.sub(_standard, chunk)
        out.append(normalised)
    return " ".join(out)


def vader_text(clean: str) -> str:
    """The text VADER reads: Malay negators become "not", which VADER understands."""
    if not any(w in MALAY_NEGATORS for w in clean.lower().split()):
        return clean
    return " ".join("not" if w.lower() in MALAY_NEGATORS else w for w in clean.split(" "))
