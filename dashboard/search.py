"""Forgiving search over municipalities (by name or code) and units (by name).

    entries = search_entries(municipalities, units)    # built once per warehouse connection
    hits = search(entries, "odeshog")                  # ranked, best first

Forgiving means: case, accents and diacritics do not matter ("goteborg" finds Göteborg,
"malmo" Malmö), dashes and spaces are the same ("malung salen"), a beginning is enough ("malu"
finds Malung-Sälen), and so is the beginning of any word ("salen", "väsby"). A code finds its
municipality ("0509" → Ödeshög), the start of a code lists the codes that begin so. Small typos
("gotebrog") are caught only when nothing else matched.

Ranking (lower is better): exact code, exact name, name begins with the query, a word begins with
it, code begins with it, the name contains it, a near miss. Within a tier municipalities come
before units, then shorter names first, then alphabetical.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_/.,()'’\"]+")
_CODE = re.compile(r"[0-9]{1,4}")

# tiers
EXACT_CODE, EXACT_NAME, NAME_PREFIX, WORD_PREFIX, CODE_PREFIX, CONTAINS, NEAR = range(7)


def fold(text: str | None) -> str:
    """Lower case without accents or diacritics, separators as single spaces:
    'Malung-Sälen' → 'malung salen', 'ÖDESHÖG' → 'odeshog'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # letters NFKD does not decompose
    bare = bare.replace("ø", "o").replace("æ", "ae").replace("ß", "ss")
    return _SEPARATORS.sub(" ", bare).strip()


@dataclass(frozen=True)
class Entry:
    kind: str               # 'municipality' | 'unit'
    key: str                # municipality code or unit id
    name: str               # as shown
    detail: str             # e.g. the code, or the unit's municipality
    folded: str             # fold(name)
    words: tuple[str, ...]  # folded words of the name
    code: str = ""          # municipality code (municipalities only)


@dataclass(frozen=True)
class Hit:
    entry: Entry
    tier: int


def municipality_entry(code: str, name: str) -> Entry:
    f = fold(name)
    return Entry("municipality", code, name, code, f, tuple(f.split()), code)


def unit_entry(unit_id: str, name: str, municipality_name: str = "") -> Entry:
    f = fold(name)
    return Entry("unit", str(unit_id), name, municipality_name or "", f, tuple(f.split()))


def search_entries(municipalities, units=()) -> list[Entry]:
    """municipalities: iterable of (code, name); units: iterable of (unit_id, name, municipality name)."""
    out = [municipality_entry(str(c), str(n)) for c, n in municipalities]
    out += [unit_entry(u, n, m) for u, n, m in units]
    return out


def _tier(entry: Entry, q: str, q_raw: str) -> int | None:
    if entry.code and q_raw == entry.code:
        return EXACT_CODE
    if not q:
        return None
    if entry.folded == q:
        return EXACT_NAME
    if entry.folded.startswith(q):
        return NAME_PREFIX
    q_words = q.split()
    # every typed word begins some word of the name, in order ("upp vas" → Upplands Väsby)
    if _words_prefix(entry.words, q_words):
        return WORD_PREFIX
    if entry.code and _CODE.fullmatch(q_raw) and entry.code.startswith(q_raw):
        return CODE_PREFIX
    if len(q) >= 2 and q in entry.folded:
        return CONTAINS
    return None


def _words_prefix(words: tuple[str, ...], q_words: list[str]) -> bool:
    i = 0
    for w in words:
        if i < len(q_words) and w.startswith(q_words[i]):
            i += 1
    return i == len(q_words) and i > 0


def _near(entry: Entry, q: str) -> bool:
    """A small typo: the query is close to the whole name or to its beginning of the same length."""
    if len(q) < 4:
        return False
    head = entry.folded[:len(q)]
    ratio = max(difflib.SequenceMatcher(None, q, entry.folded).ratio(),
                difflib.SequenceMatcher(None, q, head).ratio())
    return ratio >= 0.8


def search(entries: list[Entry], query: str | None, limit: int = 10) -> list[Hit]:
    """Ranked hits for what the user typed (best first, at most `limit`)."""
    q_raw = str(query or "").strip()
    # "Göteborg (1480)": a picked suggestion or a pasted label searches by its code
    m = re.search(r"\(([0-9]{4})\)\s*$", q_raw)
    if m:
        q_raw = m.group(1)
    q = fold(q_raw)
    if not q:
        return []
    hits = []
    for e in entries:
        tier = _tier(e, q, q_raw)
        if tier is not None:
            hits.append(Hit(e, tier))
    if not hits:
        hits = [Hit(e, NEAR) for e in entries if _near(e, q)]
    hits.sort(key=lambda h: (h.tier, h.entry.kind != "municipality", len(h.entry.folded),
                             h.entry.folded, h.entry.key))
    return hits[:limit]
