"""What the unit pages (/enhet/<unit_id>, /enheter) read and the pieces they share. Data comes
from the unit marts (pipelines/units.py: unit_kpi_summary, unit_scorecard, unit_status_counts) and the public views
org_units and unit_kpis; nothing is computed here but formatting.

    unit(db, unit_id) -> dict | None                  # org_units row + municipality name
    unit_summary(db, unit_id) -> list[dict]           # unit_kpi_summary rows + KPI title/unit/direction
    unit_months(db, unit_id) -> DataFrame             # unit_scorecard rows (the download)
    status_counts(db, unit_id=.. | code=..) -> dict    # unit_status_counts rows by perspective / unit
    municipality_units(db, code) -> list[dict]        # the register of one municipality
    month_label(period, lang) -> 'december 2013'
    month_sparkline(periods, values, peer_median, lang, label, unit) -> an inline SVG with gaps
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from dash import html

from dashboard.components import svg_data_uri
from dashboard.data import clean
from dashboard.i18n import t

UNIT_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")


def valid_unit_id(unit_id) -> bool:
    s = str(unit_id or "")
    return 0 < len(s) <= 64 and set(s) <= UNIT_ID_CHARS


def unit(db, unit_id) -> dict | None:
    if not valid_unit_id(unit_id):
        return None
    return db.one("org_units", "SELECT u.*, m.name AS municipality_name FROM org_units u "
                               "LEFT JOIN municipalities m USING (municipality_code) WHERE u.unit_id = ?",
                  [str(unit_id)])


def unit_summary(db, unit_id: str) -> list[dict] | None:
    """One dict per KPI the unit or its peers report (None: the mart is not built)."""
    df = db.query_view(
        "unit_kpi_summary",
        "SELECT s.*, k.title, k.unit, k.higher_is_better, k.is_demo AS kpi_is_demo "
        "FROM unit_kpi_summary s JOIN unit_kpis k USING (kpi_id) WHERE s.unit_id = ? ORDER BY k.title", [unit_id])
    if df is None:
        return None
    return [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if hasattr(v, "tolist"):
        return [clean(x) for x in v.tolist()]
    return clean(v)


def status_counts(db, unit_id: str | None = None, code: str | None = None) -> dict | None:
    """The counts pipelines/units.py stored (mart unit_status_counts): for one unit
    {perspective: row} (perspective 'all' = every KPI); for a municipality {unit_id: its 'all' row}.
    None when the mart is not built."""
    where, arg = ("unit_id = ?", unit_id) if unit_id is not None else ("municipality_code = ? AND perspective = 'all'", code)
    df = db.query_view("unit_status_counts", f"SELECT * FROM unit_status_counts WHERE {where}", [arg])
    if df is None:
        return None
    key = "perspective" if unit_id is not None else "unit_id"
    return {r[key]: {k: clean(v) for k, v in r.items()} for r in df.to_dict("records")}


def unit_months(db, unit_id: str) -> pd.DataFrame | None:
    return db.query_view(
        "unit_scorecard",
        "SELECT s.period, k.perspective, k.title, s.kpi_id, k.unit, s.value, s.peer_n, s.peer_median, s.peer_min, "
        "s.peer_max, s.status, s.target, s.target_status, s.is_demo, s.source "
        "FROM unit_scorecard s JOIN unit_kpis k USING (kpi_id) WHERE s.unit_id = ? "
        "ORDER BY s.period DESC, k.perspective, k.title", [unit_id])


def municipality_units(db, code: str) -> list[dict]:
    rows = db.rows_view("org_units", "SELECT unit_id, name, kind, district, provider, is_demo, valid_from, valid_to "
                                     "FROM org_units WHERE municipality_code = ? ORDER BY kind, name", [code]) or []
    cols = ("unit_id", "name", "kind", "district", "provider", "is_demo", "valid_from", "valid_to")
    return [dict(zip(cols, r)) for r in rows]


def month_label(period, lang: str) -> str:
    """'december 2013' / 'December 2013' for a date or 'YYYY-MM'."""
    if period is None:
        return t("missing", lang)
    if isinstance(period, str):
        y, m = int(period[:4]), int(period[5:7])
    else:
        y, m = period.year, period.month
    return f"{t(f'month_{m}', lang)} {y}"


def short_month(period: str, lang: str) -> str:
    """'dec 2013' for the sparkline's alternative text."""
    y, m = int(period[:4]), int(period[5:7])
    return f"{t(f'month_{m}', lang)[:3]} {y}"


def month_sparkline(periods, values, peer_median, lang: str, label: str, fmt, width: int = 150, height: int = 40):
    """A line of monthly values as an inline SVG: missing months break the line (a short grey
    tick marks each), the peers' median is a dashed grey line. Its text alternative lists every
    month, missing ones as missing. `fmt(value) -> text`."""
    periods = list(periods or [])
    values = [None if v is None or v != v else float(v) for v in (values or [])]
    peers = [None if v is None or v != v else float(v) for v in (peer_median or [None] * len(periods))]
    known = [v for v in values + peers if v is not None]
    n = len(periods)
    if n == 0 or not [v for v in values if v is not None]:
        return html.Span(t("missing", lang), className="sk-spark-empty")
    lo, hi = min(known), max(known)
    pad = 4

    def sx(i):
        return pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)

    def sy(v):
        return height - pad - (height - 2 * pad) * ((v - lo) / (hi - lo) if hi != lo else 0.5)

    def runs(series):
        out, cur = [], []
        for i, v in enumerate(series):
            if v is None:
                if cur:
                    out.append(cur)
                cur = []
            else:
                cur.append((i, v))
        if cur:
            out.append(cur)
        return out

    parts = []
    for seg in runs(peers):
        pts = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in seg)
        if len(seg) > 1:
            parts.append(f'<polyline fill="none" stroke="#6c757d" stroke-width="1.5" stroke-dasharray="3 2" points="{pts}"/>')
    for seg in runs(values):
        pts = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in seg)
        if len(seg) > 1:
            parts.append(f'<polyline fill="none" stroke="#1f4e79" stroke-width="2" stroke-linejoin="round" points="{pts}"/>')
        else:
            i, v = seg[0]
            parts.append(f'<circle cx="{sx(i):.1f}" cy="{sy(v):.1f}" r="2" fill="#1f4e79"/>')
    for i, v in enumerate(values):
        if v is None:   # a missing month: a tick on the baseline
            parts.append(f'<line x1="{sx(i):.1f}" x2="{sx(i):.1f}" y1="{height - 1}" y2="{height - 7}" '
                         f'stroke="#a4161a" stroke-width="1.5"/>')
    last = max(i for i, v in enumerate(values) if v is not None)
    parts.append(f'<circle cx="{sx(last):.1f}" cy="{sy(values[last]):.1f}" r="2.8" fill="#1f4e79"/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>')
    alt = f"{label}: " + ", ".join(
        f"{short_month(p, lang)} {fmt(v) if v is not None else t('missing', lang)}" for p, v in zip(periods, values))
    return html.Img(src=svg_data_uri(svg), alt=alt, title=alt,
                    width=width, height=height, className="sk-spark sk-month-spark")


def today_month() -> dt.date:
    d = dt.date.today()
    return dt.date(d.year, d.month, 1)
