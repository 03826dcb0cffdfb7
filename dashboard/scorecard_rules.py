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
             "kommun_rule_similar", "kommun_rule_targets")
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
    if not _has(row.get("value")) or not _has(row.get(f"{scope}_rank")):
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


# -- targets (pipelines/targets.py, mart target_status) ----------------------------------------------
# status -> (icon, css class); shapes differ so colour is never needed
TARGET_ICONS = {"achieved": ("✓", "sk-status-better"), "near": ("≈", "sk-status-same"),
                "not_achieved": ("✗", "sk-status-worse"), "no_direction": ("–", "sk-status-none"),
                "no_value": ("?", "sk-status-missing")}


def _has(v) -> bool:
    """A value that is there (None and NaN are not: rows may come through a DataFrame)."""
    return v is not None and v == v


def target_icon(status) -> tuple[str, str]:
    return TARGET_ICONS.get(status, TARGET_ICONS["no_value"])


def target_words(row: dict, lang: str) -> str:
    """'✓ uppnått' / '≈ nära' / '✗ ej uppnått'; a KPI without direction: '– avvikelse +3,2 %'."""
    from dashboard.components import fmt_value

    status = row.get("target_status")
    icon = target_icon(status)[0]
    if status == "no_direction" and _has(row.get("target_gap")):
        gap = row["target_gap"]
        sign = "+" if gap > 0 else ""
        return f"{icon} {t('target_gap', lang, gap=sign + fmt_value(gap, row.get('unit'), lang))}"
    return f"{icon} {t(f'target_{status}' if status in TARGET_ICONS else 'target_no_value', lang)}"


def target_text(row: dict, lang: str) -> str:
    """One line for the PDF and downloads: 'mål 90,0 %: ✓ uppnått' ('' without a target)."""
    from dashboard.components import fmt_value

    if not _has(row.get("target")):
        return ""
    head = t("target_label", lang, target=fmt_value(row["target"], row.get("unit"), lang))
    demo = f" ({t('demo', lang)})" if row.get("target_is_demo") else ""
    return f"{head}{demo}: {target_words(row, lang)}"


def target_summary(counts: dict | None, lang: str) -> str | None:
    """'Mål: 4 av 6 uppnådda, 1 nära, 1 ej uppnått.' (plus those without direction) from a panel's
    counts as the targets step stored them (dashboard.data.panel_target_counts: mart
    target_status_counts; screen and PDF alike), None when the panel has no target."""
    if not counts or not counts.get("n"):
        return None
    text = t("target_summary", lang, achieved=counts["achieved"], n=counts["n"], near=counts["near"],
             missed=counts["not_achieved"])
    if counts.get("no_direction"):
        text += " " + t("target_summary_nodir", lang, k=counts["no_direction"])
    return text


WHATIF_ANCHOR = "vad-flyttar-rangen"


def whatif_method_section(lang: str) -> html.Section:
    """/om: how 'Vad skulle flytta rangen?' is computed (pipelines/whatif.py), id WHATIF_ANCHOR."""
    return html.Section([html.H2(t("om_whatif_h", lang), id=WHATIF_ANCHOR, className="h4"),
                         *[html.P(p) for p in t("om_whatif_text", lang).split("\n\n")]],
                        className="mb-4", **{"aria-labelledby": WHATIF_ANCHOR})
