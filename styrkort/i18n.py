"""The text catalogue: every user-facing text, Swedish and English, in one gettext catalogue.

The catalogue is two Babel/gettext `.po` files next to this module::

    styrkort/locale/sv/LC_MESSAGES/styrkort.po
    styrkort/locale/en/LC_MESSAGES/styrkort.po

They are read directly with `babel.messages.pofile` (once per process, cached), so there is
no compile step and nothing binary to keep current. Message ids are symbolic keys
(`kommun_col_kpi`), the msgstr is the text. The dashboard imports `t` through
`dashboard.i18n`; the CLI and the pipelines import it from here (no Dash import).

Call it::

    from styrkort.i18n import t, tn
    t("missing", lang)                          # 'uppgift saknas' / 'no data'
    t("kommun_rank", lang, year=2012)           # {placeholders} filled with str.format
    tn("cli_rows", n, lang)                     # plural: n is passed to the text as {n}
    t("cli_error", cli_lang(), ...)             # the CLI: STYRKORT_LANG=en, default Swedish

How to add a text (both languages, always):

1. Pick a key: `<area>_<what>` in lower case, e.g. `urval_col_reason`, `cli_trends_done`.
   Areas: `nav`, `home`, `kommun`, `jamfor`, `urval`, `kostnad`, `statsbidrag`, `trender`, `om`,
   `report` (the PDF), `dl` (download headers), `cli`, `grid` (long tables' pager), `table`, plus the shared
   vocabulary below.
2. Add the same entry to BOTH files above at its place in key order (the files are sorted by
   key, so an area's keys stay together; an entry is a `msgid`/`msgstr` pair, blank line
   between entries), or let `python scripts/catalogue.py add KEY "sv text" "en text"` do it::

       msgid "urval_col_reason"
       msgstr "Skäl"                 # sv file
       msgstr "Reason"               # en file

   Placeholders are Python format fields (`{year}`) and must be the same in both languages.
   Quotes inside a text are escaped (`\\"`); a newline is `\\n`. A plural text has a
   `msgid_plural` and `msgstr[0]`/`msgstr[1]` (sv and en both: one / other).
3. Call `t("urval_col_reason", lang)`. Never write `"x" if lang != "en" else "y"`.
4. `pytest tests/test_i18n_catalogue.py` checks that every key used in the code exists in both
   files with a non-empty text, no key is defined twice, placeholders match, and no
   language conditional is left in the code.

Stored data keeps codes; the catalogue translates them. Code families (the key is
`<prefix>_<code>`): `status_*` (better/worse/same/no_direction/missing), `trend_*`
(improving/worsening/no_change/no_direction), `size_*` (small/medium/large),
`persp_*` (omsorgstagare/ekonomi/medarbetare/verksamhet), `kind_*` (unit kinds),
`factor_*` (the SKL 2010 success factors 1–8), `costterm_*` (cost-model terms).

One term per concept (the Swedish of the SKL 2010 study "Öppna jämförelser – analys av
framgångsfaktorer i äldreomsorgen" wins where it has a word):

    sv                          en                          concept
    Ekonomi                     Finances                    the perspective `ekonomi`
    ingen riktning              no direction                a KPI without better/worse direction
    små / mellanstora / stora   small / medium-sized / large   size groups (SKL 2010 wording)
    kommuner                    municipalities
    nyckeltal                   indicator
    storleksgrupp               size group
    standardkostnad             standard cost
    kostnadsavvikelse           cost deviation
    statsbidrag                 state grants
    prestationsbidrag           performance grant
    andel av ramen              share of the frame (grant uptake)
    förbättras / försämras      improving / worsening       trend verdicts
    ingen tydlig förändring     no clear change             trend verdict `no_change`
    uppgift saknas              no data
    modellerad                  modelled
    sammanvägt index            composite index
    rang                        rank
    län                         county
    nämndrapport                committee report
"""
from __future__ import annotations

import os
import string
from functools import lru_cache
from pathlib import Path

LANGS = ("sv", "en")
DEFAULT_LANG = "sv"
DOMAIN = "styrkort"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Babel/CLDR locale per UI language (number formats, table pager, Plotly).
BABEL_LOCALE = {"sv": "sv_SE", "en": "en_GB"}


def cli_lang() -> str:
    """The command line's language: STYRKORT_LANG=en for English, Swedish otherwise (commands
    with a --lang option take it from there)."""
    return lang_of(os.environ.get("STYRKORT_LANG", DEFAULT_LANG))


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def lang_of(lang: str | None) -> str:
    """A supported language code: anything but 'en' is Swedish."""
    return lang if lang in LANGS else DEFAULT_LANG


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict:
    """{key: text} for one language; plural entries map to a tuple (one, other)."""
    from babel.messages.pofile import read_po

    with open(po_path(lang_of(lang)), "rb") as f:
        cat = read_po(f, locale=lang_of(lang), domain=DOMAIN)
    out: dict = {}
    for message in cat:
        if not message.id:
            continue  # the header
        key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
        out[key] = tuple(message.string) if isinstance(message.string, (list, tuple)) else message.string
    return out


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in catalogue(lang_of(lang))


def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """The text for `key` in `lang`; `fmt` fills {placeholders}. Unknown keys come back as the
    key itself (visible in the UI, never a crash; tests/test_i18n_catalogue.py catches them)."""
    text = catalogue(lang_of(lang)).get(key)
    if text is None:
        return key
    if isinstance(text, tuple):
        text = text[-1]
    return text.format(**fmt) if fmt else text


def tn(key: str, n: int, lang: str = DEFAULT_LANG, **fmt) -> str:
    """Plural text: the form for `n` (sv and en: one when n == 1, else other); {n} is filled."""
    text = catalogue(lang_of(lang)).get(key)
    if text is None:
        return key
    if isinstance(text, tuple):
        text = text[0] if n == 1 else text[-1]
    return text.format(n=n, **fmt)


def placeholders(text) -> set[str]:
    """The {field} names in a text (or in every form of a plural)."""
    texts = text if isinstance(text, tuple) else (text,)
    return {name.split(".")[0].split("[")[0]
            for s in texts for _, name, _, _ in string.Formatter().parse(s) if name}


def pick(lang: str, **by_lang):
    """The value for `lang` from per-language values that are not texts (a locale table,
    a CLDR code): pick(lang, sv=', ', en='.,'). Texts belong in the catalogue."""
    return by_lang[lang_of(lang)]


def label(family: str, code, lang: str = DEFAULT_LANG, default: str | None = None) -> str:
    """The text for a stored code: label('status', 'better', lang) -> t('status_better').
    An unknown code is shown as stored (or `default`)."""
    if code is None or code == "":
        return default if default is not None else t("missing", lang)
    key = f"{family}_{code}"
    if has(key, lang):
        return t(key, lang)
    return default if default is not None else str(code)
