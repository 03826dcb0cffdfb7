"""Swedish first, English on request: `?lang=en` in the query string, kept on every link.

Usage in a page::

    from dashboard.i18n import get_lang, t, href
    lang = get_lang(query)              # 'sv' unless lang=en
    t("missing", lang)                  # 'uppgift saknas' / 'no data'
    href("/kommun/0180", lang, year=2012)   # '/kommun/0180?year=2012' or '...&lang=en'

`t` and `tn` come from the one text catalogue, `styrkort/i18n.py`, whose docstring says how to
add a text: an entry in BOTH `styrkort/locale/sv/LC_MESSAGES/styrkort.po` and
`styrkort/locale/en/LC_MESSAGES/styrkort.po` (or `python scripts/catalogue.py add KEY SV EN`).
There is no STRINGS dict any more. Unknown keys return the key itself (visible in the UI, never
a crash); tests/test_i18n_catalogue.py fails on them.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from styrkort.i18n import DEFAULT_LANG, LANGS, label, lang_of, pick, t, tn  # noqa: F401  (re-exported)


def get_lang(query=None) -> str:
    """'en' if the query (dict of params, or a '?a=b' search string) says lang=en, else 'sv'."""
    if query is None:
        return DEFAULT_LANG
    if isinstance(query, str):
        query = dict(parse_qsl(query.lstrip("?")))
    value = query.get("lang") if hasattr(query, "get") else None
    if isinstance(value, list):
        value = value[0] if value else None
    return lang_of(value) if isinstance(value, str) else DEFAULT_LANG


def request_lang() -> str:
    """The language of the request being served: in a callback the URL's ?lang (the pages
    router's `_pages_location.search` input), else the HTTP request's query string (for Dash's
    own /_dash-layout request, the page's: its Referer); 'sv' outside any request."""
    try:
        import dash
        inputs = dash.callback_context.inputs or {}
        if "_pages_location.search" in inputs:
            return get_lang(inputs["_pages_location.search"])
    except Exception:  # noqa: BLE001 - no callback context: fall through to the HTTP request
        pass
    try:
        import flask
        if "lang" in flask.request.args or not flask.request.path.startswith("/_dash-"):
            return get_lang(flask.request.args.to_dict())
        return get_lang(urlsplit(flask.request.referrer or "").query)
    except RuntimeError:  # outside a request
        return DEFAULT_LANG


def page_title(key: str):
    """A Dash page title that follows the language: register_page(title=page_title('nav_kostnad')).
    Dash calls it with the page's path variables; the text is '<page> – <app name>'."""
    def title(**_path_variables) -> str:
        lang = request_lang()
        return t("page_title", lang, page=t(key, lang))
    return title


def href(path: str, lang: str = DEFAULT_LANG, **params) -> str:
    """A link that keeps the language: href('/jamfor', 'en', a='0180') -> '/jamfor?a=0180&lang=en'.
    Parameters that are None or '' are left out."""
    items = [(k, str(v)) for k, v in params.items() if v is not None and v != ""]
    if lang_of(lang) != DEFAULT_LANG:       # the default language is the URL without ?lang
        items.append(("lang", lang_of(lang)))
    return f"{path}?{urlencode(items)}" if items else path


def search_string(lang: str = DEFAULT_LANG, **params) -> str:
    """Just the '?a=b&lang=en' part (for dcc.Location.search); '' when empty."""
    url = href("", lang, **params)
    return url


def switch_lang_href(pathname: str, search: str | None) -> str:
    """Same page and parameters in the other language."""
    items = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=False)
             if k != "lang"]
    other = next(x for x in LANGS if x != get_lang(search))
    if other != DEFAULT_LANG:
        items.append(("lang", other))
    return f"{pathname or '/'}?{urlencode(items)}" if items else (pathname or "/")


def perspective_label(perspective: str | None, lang: str = DEFAULT_LANG) -> str:
    return t(f"persp_{perspective}", lang) if perspective else ""


def size_group_label(size_group: str | None, lang: str = DEFAULT_LANG) -> str:
    if not size_group:
        return t("missing", lang)
    return t(f"size_{size_group}", lang)


# Trend verdicts are stored as codes (the `trends` mart); older warehouses stored Swedish prose,
# accepted here until every warehouse has been rebuilt.
TREND_CODES = ("improving", "worsening", "no_change", "no_direction")
_LEGACY_VERDICTS = {
    "förbättras": "improving", "försämras": "worsening",
    "ingen tydlig förändring": "no_change", "flat": "no_change", "unclear": "no_change",
    "ingen riktning": "no_direction",
}


def trend_code(verdict: str | None) -> str | None:
    """The verdict code for a stored verdict (code or legacy prose); None when missing/unknown."""
    if not verdict:
        return None
    v = str(verdict).strip().lower()
    v = _LEGACY_VERDICTS.get(v, v)
    return v if v in TREND_CODES else None


def trend_label(verdict: str | None, lang: str = DEFAULT_LANG) -> str:
    """The trends mart's verdict in the UI language (unknown verdicts shown as stored)."""
    if not verdict:
        return t("not_computed", lang)
    code = trend_code(verdict)
    return t(f"trend_{code}", lang) if code else str(verdict)


def factor_name(n: int, lang: str = DEFAULT_LANG) -> str:
    """The name of SKL 2010's success factor n (sv: the study's own words, as in
    warehouse/sources/success_factors.json; a test keeps the two equal)."""
    return t(f"factor_name_{n}", lang)


def factor_text(n: int, lang: str = DEFAULT_LANG) -> str:
    """The SKL 2010 success factor n (1-8) in our own words."""
    return t(f"factor_{n}", lang)


# cost_model.term (statsmodels' names for the cost formula's terms) -> catalogue key costterm_<name>
COST_TERMS = {"Intercept": "intercept", "share_65_79": "share_65_79", "share_80_plus": "share_80_plus",
              "np.log(population)": "log_population", "glesbygd": "glesbygd",
              "glesbygd[T.True]": "glesbygd"}


def cost_term_label(term, lang: str = DEFAULT_LANG) -> str:
    """A cost-model term in words: 'np.log(population)' -> 'ln(folkmängd)', 'Intercept' -> 'konstant'."""
    key = COST_TERMS.get(str(term))
    return t(f"costterm_{key}", lang) if key else str(term)


def formula_in_words(terms, lang: str = DEFAULT_LANG) -> str:
    """The cost model as a sentence of its terms: 'nettokostnad … = konstant + andel 65–79 år + …'."""
    shown = [cost_term_label(x, lang) for x in terms if str(x) != "Intercept"]
    return t("kostnad_formula", lang, terms=" + ".join(shown))
