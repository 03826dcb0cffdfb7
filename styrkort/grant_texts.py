"""The grant reconciliation in words (pipelines/grants.py stores codes: a check code, an agreement
code, and a note code with its figures as JSON). One place for the dashboard's /statsbidrag table,
its download and `styrkort grants`, in either language from the catalogue.

    check_text("frame_vs_granted_2013:1_median_ratio", "sv")   # what is checked
    agreement_text("within_1pct", "en")                        # 'nearly (within 1%)'
    note_text("frame_ratio", '{"n": 68, ...}', "sv")           # what the figures mean
"""
from __future__ import annotations

import json
import re

from styrkort import formats
from styrkort.i18n import t

def agreement_text(code, lang: str) -> str:
    """The catalogue's word for the grants step's agreement code (equal / within_1pct / differs /
    no_comparison); the difference itself is always shown beside it."""
    return t(f"agreement_{code}", lang) if code in AGREEMENTS else t("missing", lang)


AGREEMENTS = ("equal", "within_1pct", "differs", "no_comparison")

# The grants step's check codes (pipelines/grants.py: reconciliation) -> catalogue text; the
# code's parts (round, year, pot, municipality) fill the text. First full match wins.
_R, _Y, _P = r"(?P<round>\d{4}(?::\d)?)", r"(?P<year>\d{4})", r"(?P<pot>\d)"
CHECK_TEXTS = tuple((re.compile(rx), key) for rx, key in (
    (rf"frame_vs_granted_{_R}_median_ratio", "statsbidrag_check_frame_ratio"),
    (rf"frame_vs_granted_{_R}_within_(?P<pct>\d+)pct", "statsbidrag_check_frame_within"),
    (rf"pot2_over_pot1_{_Y}_median", "statsbidrag_check_pot_ratio"),
    (rf"printed_sum_pot{_P}_{_Y}_sek_vs_row_sum", "statsbidrag_check_printed_pot"),
    (rf"printed_sum_total_{_Y}_sek_vs_row_sum", "statsbidrag_check_printed_total"),
    (rf"row_total_gaps_{_Y}_count", "statsbidrag_check_row_gaps"),
    (rf"row_total_{_Y} (?P<code>\d{{4}})(?: .*)?", "statsbidrag_check_row_total"),
    (rf"municipalities_applied_{_Y}", "statsbidrag_check_applied"),
    (rf"municipalities_applied_both_pots_{_Y}", "statsbidrag_check_applied_both"),
    (rf"municipalities_applied_only_pot{_P}_{_Y}", "statsbidrag_check_applied_only"),
    (rf"municipalities_not_applied_{_Y}", "statsbidrag_check_not_applied"),
    (rf"applications_pot{_P}_{_Y}", "statsbidrag_check_applications"),
    (rf"municipalities_granted_{_R}", "statsbidrag_check_granted"),
    (rf"paid_total_{_R}_sek", "statsbidrag_check_paid"),
    (rf"frame_sum_{_R}_sek", "statsbidrag_check_frame_sum"),
    (r"municipalities_never_applied_(?P<first>\d{4})_(?P<last>\d{4})", "statsbidrag_check_never_applied"),
    (rf"municipalities_applied_only_in_{_Y}", "statsbidrag_check_only_in"),
    (rf"frame_date_candidate_31dec{_Y}_sd", "statsbidrag_check_frame_date"),
    (r"stimulus_return (?P<code>\d{4}) (?P<years>\S+)", "statsbidrag_check_stimulus"),
))


def check_text(check: str, lang: str, name_of=lambda code: code) -> str:
    """What a reconciliation row checks, in words from the catalogue (never the internal code).
    name_of: municipality code -> name."""
    for rx, key in CHECK_TEXTS:
        m = rx.fullmatch(str(check))
        if m:
            parts = m.groupdict()
            if "code" in parts:
                parts["name"] = name_of(parts["code"])
            if "years" in parts:
                parts["years"] = parts["years"].replace("-", "–")
            return t(key, lang, **parts)
    return t("statsbidrag_check_other", lang)


NOTES = ("frame_ratio", "frame_within", "pot_ratio", "printed_pot", "printed_total", "row_gaps", "row_total",
         "applied_any", "applied_both", "applied_only", "not_applied", "applications", "granted", "paid",
         "frame_sum", "never_applied", "only_in_2011", "frame_date", "stimulus_return")


PLAIN = frozenset({"ref_year", "pot", "grant_type"})   # shown as they are: a year is not '2 011'


def _figure(v, lang: str, decimals: int | None = None) -> str:
    """A note's figure: whole numbers grouped ('65 000 000'); other numbers with the decimals the
    pipeline stated for the note (`decimals`), else with the digits they have (up to 6)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return formats.number(v, 0, lang)
    if decimals is None:
        decimals = 0 if float(v).is_integer() else min(6, len(repr(float(v)).split(".")[1].rstrip("0")))
    return formats.number(v, decimals, lang)


def basis_text(values: dict, lang: str) -> str:
    """How a frame was computed: a fixed amount per municipality or a share of the country's 75+."""
    if values.get("basis") == "share_75_plus":
        return t("grant_basis_share_75_plus", lang, ref_year=str(values.get("ref_year")),
                 announced=_figure(values.get("announced"), lang))
    if values.get("basis") == "fixed":
        return t("grant_basis_fixed", lang, amount=_figure(values.get("amount"), lang))
    return ""


def note_text(note, values, lang: str) -> str:
    """The note of a reconciliation row in words: the catalogue's text for the code, its figures
    formatted for the language ('' for an unknown code or none)."""
    if note not in NOTES:
        return ""
    vals = json.loads(values) if isinstance(values, str) and values else dict(values or {})
    decimals = vals.pop("decimals", None)
    shown = {k: str(v) if k in PLAIN else _figure(v, lang, decimals) for k, v in vals.items()}
    if "basis" in vals:
        shown["basis"] = basis_text(vals, lang)
    return t(f"grant_note_{note}", lang, **shown)
