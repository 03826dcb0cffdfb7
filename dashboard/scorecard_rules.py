"""The scorecard's rules in words, shown on /kommun ("Så läser du styrkortet") and on /om from
the same catalogue texts, so the page and the method description can never say different
things. The rules themselves are computed in pipelines/ (kpi_positions.sql, ...)."""
from __future__ import annotations

from dash import html

from dashboard.i18n import t

ANCHOR = "sa-laser-du-styrkortet"

# Quartile bands (kpi_positions) -> (icon, css class): icon + text, never colour alone. Filled
# shapes for a KPI with direction (better/worse), hollow ones for information on a KPI without.
BANDS = {
    "best25": ("▲", "sk-status-better"), "middle50": ("●", "sk-status-same"),
    "worst25": ("▼", "sk-status-worse"), "high25": ("△", "sk-status-none"),
    "low25": ("▽", "sk-status-none"),
}
INFO_MIDDLE = ("○", "sk-status-none")   # middle50 of a KPI without direction
NO_BAND = ("?", "sk-status-missing")
# catalogue keys, in reading order
RULE_KEYS = ("kommun_rule_status", "kommun_rule_ties", "kommun_rule_group", "kommun_rule_direction",
             "kommun_rule_similar")
SIMILAR_ANCHOR = "liknande-kommuner"


def rule_items(lang: str) -> list:
    return [html.Li(t(k, lang)) for k in RULE_KEYS]


def rule_section(lang: str, heading: str = "h4") -> html.Section:
    """The rules under the heading 'Så läser du styrkortet' (id ANCHOR for links)."""
    h = getattr(html, heading.upper())
    return html.Section([h(t("kommun_rule_title", lang), id=ANCHOR, className="h4"),
                         html.Ul(rule_items(lang), className="mb-0")],
                        className="sk-rules mb-4", **{"aria-labelledby": ANCHOR})


def band_icon(band, info: bool = False) -> tuple[str, str]:
    """(icon, css class) of a band code; `info` for a KPI without direction."""
    if band not in BANDS:
        return NO_BAND
    return INFO_MIDDLE if info and band == "middle50" else BANDS[band]


def band_text(band, lang: str) -> str:
    """The band (or status) code in words: 'bland de 25 % bästa', 'ingen riktning', ..."""
    if band in BANDS:
        return t(f"band_{band}", lang)
    return t(f"status_{band}", lang) if band in ("no_direction", "too_few") else t("status_too_few", lang)


def place_text(rank, tied, n, lang: str) -> str:
    """'plats 12 av 290', or 'delad plats 9–200 av 276' when several share the value."""
    if rank is None or not n:
        return t("missing", lang)
    if tied and tied > 1:
        return t("kommun_place_tied", lang, rank=int(rank), last=int(rank) + int(tied) - 1, n=int(n))
    return t("kommun_place", lang, rank=int(rank), n=int(n))


def position_text(row: dict, lang: str, scope: str = "national") -> str:
    """One line for the PDF and downloads, the same words as the screen:
    '▼ bland de 25 % sämsta, plats 250 av 290' ('… (högst först, ingen riktning)' for a KPI
    without direction); '? uppgift saknas' without a value."""
    if row.get("value") is None or row.get(f"{scope}_rank") is None:
        return f"{NO_BAND[0]} {t('status_missing', lang)}"
    info = row.get("higher_is_better") is None
    band = row.get(f"{scope}_band")
    place = place_text(row[f"{scope}_rank"], row.get(f"{scope}_tied"), row.get(f"{scope}_n"), lang)
    if info:
        place = f"{place} {t('kommun_place_info', lang)}"
    return f"{band_icon(band, info)[0]} {band_text(band, lang)}, {place}"


def similar_method_section(lang: str) -> html.Section:
    """/om: how the similar municipalities are chosen (pipelines/similar.py), id SIMILAR_ANCHOR."""
    return html.Section([html.H2(t("om_similar_h", lang), id=SIMILAR_ANCHOR, className="h4"),
                         *[html.P(p) for p in t("om_similar_text", lang).split("\n\n")]],
                        className="mb-4", **{"aria-labelledby": SIMILAR_ANCHOR})
