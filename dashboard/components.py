"""Shared components for every page. Keep these signatures stable (pages of other helpers use
them); add new functions rather than changing existing ones.

Conventions:
- Every function takes `lang` ('sv'|'en') where it shows text.
- Text from the warehouse is always passed as a Dash child string (rendered as text by React,
  never as HTML): never use dangerously_allow_html / dcc.Markdown on warehouse text.
- Status is never colour alone: `status_badge` shows an icon AND a text.
- Figures: call `style_figure(fig, lang)` (sv-SE separators, readable font) and
  `graph(id, fig, ...)` for consistent config; put `source_caption` under every figure.
- Tables: `table_with_downloads(id, df, columns, lang, download=download_meta(...))` =
  an HTML table (long ones with filter, sort choice and pager, run by assets/styrkort.js) +
  CSV/Excel buttons, served by ONE pattern-matching callback
  (`register_callbacks(app)`, called by create_app). Every file, from a table or from a
  server-built table (`download_buttons` + `@server_download`), is made by `table_file`:
  the shown columns rounded as on screen but stored as numbers, a demo column, the year and
  the settings (county limit, swaps, config hash), and in Excel a second sheet "Om filen".

Quick reference:
    demo_badge(lang)                               -> "demo" pill with an explanation
    source_caption(source, year, lang, modelled=False, extra=None)
    stored_text(text)                              -> warehouse text marked lang="sv"
    status_badge(status, lang)                     -> 'better'|'worse'|'same'|'no_direction'|None
    trend_badge(verdict, lang)
    fmt_value(value, unit, lang, decimals=None)    -> sv-SE text by unit ('kr', '%', ...)
    sparkline(years, values, lang, label)          -> small static chart with a text alternative
    style_figure(fig, lang, height=None)           -> fig (mutated) with separators/fonts
    graph(id, fig, label, lang)                    -> dcc.Graph wrapped with an accessible label
    table_with_downloads(id, df, columns, lang, page_size=20, height=None, caption=None, download=None)
    col(field, header, kind='text', decimals=None, link_field=None, flex=None, raw=None) -> column spec
    download_meta(stem, source, year, demo, settings, title)   -> what a downloaded file carries
    table_file(rows, meta, 'csv'|'xlsx', lang)     -> (bytes, file name): THE download helper
    download_buttons(kind, args, lang, name) + @server_download(kind) -> ServerTable(df, columns, meta)
    not_computed(view, lang) / mart_missing(view, lang) / empty_state(text) / error_state(text)
    page_heading(title, lead=None)
    labelled_select(id, label, options, value=None, placeholder=None)  -> native <select> + <label>
    safe_layout(fn)                                -> decorator: a failing layout shows an error box
    navbar(pathname, search, lang)                 -> the header (used by dashboard.app)
"""
from __future__ import annotations

import functools
import io
import json
import math
import re

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from dash import MATCH, Input, Output, State, dcc, html, no_update

from dashboard.i18n import href, pick, t, trend_code, trend_label
from styrkort import formats

# -- small text helpers ---------------------------------------------------------------------------

def fmt_value(value, unit: str | None = None, lang: str = "sv", decimals: int | None = None) -> str:
    """A value with its unit in sv-SE (or en) format; 'uppgift saknas' when missing."""
    return formats.with_unit(value, unit, lang, decimals)


def fmt_kind(value, kind: str, lang: str = "sv", decimals: int | None = None) -> str:
    """Format by column kind: 'int', 'number', 'kr', 'percent', 'share' (0..1 -> %), 'bool',
    'p' (p-value), 'text'."""
    if kind == "text" or value is None:
        return "" if value is None and kind == "text" else (
            formats.number(None, lang=lang) if value is None else str(value))
    try:
        if isinstance(value, float) and value != value:
            return formats.number(None, lang=lang)
        if kind == "int":
            return formats.number(value, 0, lang)
        if kind == "kr":
            return formats.kr(value, decimals or 0, lang)
        if kind == "percent":
            return formats.percent(value, 1 if decimals is None else decimals, lang)
        if kind == "share":
            return formats.percent(100 * value, 1 if decimals is None else decimals, lang)
        if kind == "bool":
            return t("yes" if value else "no", lang)
        if kind == "auto":
            return fmt_value(value, None, lang)
        if kind == "p":   # p-values: '< 0,001' below a thousandth, else three decimals
            return ("< " + formats.number(0.001, 3, lang)) if value < 0.001 else formats.number(value, 3, lang)
        return formats.number(value, 1 if decimals is None else decimals, lang)
    except (TypeError, ValueError):
        return str(value)


# -- badges and captions --------------------------------------------------------------------------

def demo_badge(lang: str = "sv", **kwargs):
    """Visible 'demo' label (text, not colour) with an explanation for screen readers/hover."""
    return html.Span(
        t("demo", lang).upper(), className="sk-demo-badge", title=t("demo_title", lang),
        **{"aria-label": t("demo_title", lang)}, **kwargs)


def stored_text(text):
    """Warehouse text (a Kolada KPI title, a stored source note) as it is stored, in Swedish:
    marked lang="sv" so an English page says which language it is in. Shown as text."""
    if text is None or (isinstance(text, float) and text != text) or text == "":
        return ""
    return html.Span(str(text), lang="sv")


def index_demo_label(info, lang: str = "sv", **kwargs):
    """The composite index's demo label for one year. info: is_demo, n_kpis, n_kpis_real of the
    composite_index mart (pipelines/effective.py decides which KPIs are real): nothing when every
    KPI the index used is real, 'DEMO' when none is, 'DEMO' and 'X av Y nyckeltal i indexet är
    verkliga' for a mix."""
    if not info or not info.get("is_demo"):
        return None
    n, real = info.get("n_kpis"), info.get("n_kpis_real")
    if n and real:
        return html.Span([demo_badge(lang), " ",
                          html.Span(t("index_real_mix", lang, real=int(real), n=int(n)), className="small")],
                         className="sk-index-demo", **kwargs)
    return demo_badge(lang, **kwargs)


def source_caption(source, year=None, lang: str = "sv", modelled: bool = False, extra=None):
    """'Källa: SCB, år 2012' (+ 'modellerad') under a figure or value. `source`: a catalogue
    text, or warehouse text wrapped in stored_text(...); shown as text."""
    parts = [[f"{t('source', lang)}: ", source if source not in (None, "") else t("missing", lang)]]
    if year is not None:
        parts.append([f"{t('year', lang).lower()} {year}"])
    if modelled:
        parts.append([t("modelled", lang)])
    if extra:
        parts.append([str(extra)])
    children = []
    for i, part in enumerate(parts):
        children += ([", "] if i else []) + part
    return html.Small(children, className="sk-source text-body-secondary")


_STATUS = {
    # status -> (icon, css class); icon shapes differ so colour is never needed
    "better": ("▲", "sk-status-better"),
    "worse": ("▼", "sk-status-worse"),
    "same": ("●", "sk-status-same"),
    "no_direction": ("–", "sk-status-none"),
    None: ("?", "sk-status-missing"),
}


def status_badge(status: str | None, lang: str = "sv"):
    """Icon + text, e.g. '▲ bättre än gruppen'. The icon is decorative (aria-hidden)."""
    key = status if status in _STATUS else None
    icon, cls = _STATUS[key]
    text = t(f"status_{key}" if key else "status_missing", lang)
    return html.Span([html.Span(icon, className="sk-status-icon", **{"aria-hidden": "true"}),
                      " ", text], className=f"sk-status {cls}")


_TREND_ICONS = {"improving": "↗", "worsening": "↘", "no_change": "→"}


def trend_badge(verdict: str | None, lang: str = "sv"):
    label = trend_label(verdict, lang)
    icon = _TREND_ICONS.get(trend_code(verdict), "·")
    return html.Span([html.Span(icon, **{"aria-hidden": "true"}), " ", label],
                     className="sk-trend")


def page_heading(title: str, lead=None):
    children = [html.H1(title, className="h2 mb-2")]
    if lead:
        children.append(html.P(lead, className="lead mb-3"))
    return html.Div(children, className="sk-page-heading mb-3")


def not_computed(view: str, lang: str = "sv"):
    """The 'ej beräknat' state for a missing/empty mart view."""
    return html.Div(dbc.Alert([html.Strong(t("not_computed", lang).capitalize() + ". "),
                               t("view_missing", lang, view=view)],
                              color="secondary", className="sk-empty"), role="status")


def mart_missing(view: str, lang: str = "sv"):
    """A mart the page reads is not in the warehouse: say which and how to build it. There is
    no second code path computing the figure some other way."""
    return html.Div(dbc.Alert(t("mart_missing", lang, view=view), color="warning",
                              className="sk-mart-missing"), role="status")


def empty_state(text: str):
    return html.Div(dbc.Alert(text, color="light", className="sk-empty border"), role="status")


def error_state(text: str):
    return html.Div(dbc.Alert(text, color="warning", className="sk-error"), role="alert")


# -- figures ----------------------------------------------------------------------------------------

def style_figure(fig: go.Figure, lang: str = "sv", height: int | None = None) -> go.Figure:
    """sv-SE separators (decimal comma, space thousands), readable defaults. Mutates and returns."""
    fig.update_layout(
        separators=formats.plotly_separators(lang),
        font=dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
                  size=14, color="#212529"),
        margin=dict(l=10, r=10, t=40, b=10),
        paper_bgcolor="white", plot_bgcolor="white",
    )
    if height:
        fig.update_layout(height=height)
    return fig


# topojsonURL: Plotly's geo charts fetch a world base map from cdn.plot.ly even when only our
# own GeoJSON is drawn; an empty topology served from /assets keeps them offline and CSP-clean.
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "topojsonURL": "/assets/topojson/",
                "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def graph(id, fig: go.Figure | dict, label: str, lang: str = "sv", *, lazy: bool = False, **kwargs):
    """A dcc.Graph inside a region labelled for screen readers (charts are images to them).

    lazy: the chart is drawn when it comes into view. Its figure waits in the wrapper's
    data-sk-figure and assets/styrkort.js hands it to the graph through
    dash_clientside.set_props (the graph's figure prop, as a callback would set it, so a PNG
    export reads it too); until then the graph shows an empty plot of the same size. For charts
    below the first screen: each drawn chart cost 40-300 ms of main thread (2-core machine)
    before the page was usable, for a chart nobody could see yet."""
    from dashboard.figures import figure_dict

    spec = figure_dict(fig)
    height = (spec.get("layout") or {}).get("height")
    extra = {}
    # the chart's height before dcc.Graph and plotly.js have loaded: the page does not jump when
    # they arrive, and a lazy chart further down is not "in view" because the ones above are
    # still 0 px high
    size = (kwargs.get("style") or {}).get("height") or (f"{int(height)}px" if height else None)
    if size:
        extra["style"] = {"minHeight": size}
    if lazy:
        extra.update({"data-sk-figure": pio.to_json(spec, validate=False), "data-sk-graph": json.dumps(id)})
    return html.Div(dcc.Graph(id=id, figure=placeholder_figure(height) if lazy else spec, config=GRAPH_CONFIG,
                              **kwargs),
                    role="figure", **{"aria-label": label}, className="sk-graph", **extra)


def placeholder_figure(height: int | None = None) -> dict:
    """An empty plot of a lazy chart's size and background, until it is in view."""
    layout = {"xaxis": {"visible": False}, "yaxis": {"visible": False}, "paper_bgcolor": "white",
              "plot_bgcolor": "white", "margin": {"l": 10, "r": 10, "t": 10, "b": 10}}
    if height:
        layout["height"] = height
    return {"data": [], "layout": layout}


def sparkline(years, values, lang: str = "sv", label: str = "", unit: str | None = None,
              width: int = 120, height: int = 36):
    """A tiny line chart of a KPI over the years as an inline SVG image (no JavaScript, so a
    scorecard with 40 of them renders at once), with the values as its text alternative.
    The same series (a municipality's KPI in another year's view) is drawn once (~0,2 ms each)."""
    return _sparkline(tuple(years or ()), tuple(values or ()), lang, label, unit, width, height)


# What a data: URL cannot hold as it is (a browser drops tabs and newlines from a URL; '#' would
# start a fragment; '%' an escape); the rest of an SVG's markup may stay as it is.
# ('%' first: the escapes themselves contain it)
_DATA_URI_ESCAPES = (("%", "%25"), ("#", "%23"), ('"', "%22"), ("<", "%3C"), (">", "%3E"), (" ", "%20"),
                     ("\t", "%09"), ("\n", "%0A"), ("\r", "%0D"))


def svg_data_uri(svg: str) -> str:
    """The `src` of an <img> showing `svg`. A few str.replace instead of urllib's quote: ~30 times
    faster, and a scorecard draws 40 sparklines (at Kolada scale each one new: ~3 ms a page)."""
    for char, escaped in _DATA_URI_ESCAPES:
        svg = svg.replace(char, escaped)
    return "data:image/svg+xml;charset=utf-8," + svg


@functools.lru_cache(maxsize=8192)
def _sparkline(years, values, lang, label, unit, width, height):
    pts = [(y, v) for y, v in zip(years or [], values or []) if v is not None and v == v]
    if len(pts) < 2:
        return html.Span(t("missing", lang) if not pts else "", className="sk-spark-empty")
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    pad = 3

    def sx(x):
        return pad + (width - 2 * pad) * ((x - x0) / (x1 - x0) if x1 != x0 else 0.5)

    def sy(y):
        return height - pad - (height - 2 * pad) * ((y - y0) / (y1 - y0) if y1 != y0 else 0.5)
    line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
    lx, ly = sx(xs[-1]), sy(ys[-1])
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><polyline fill="none" stroke="#1f4e79" stroke-width="2" '
           f'stroke-linejoin="round" points="{line}"/><circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" '
           f'fill="#1f4e79"/></svg>')
    fmt = formats.unit_formatter(unit, lang)      # fmt_value's text, one lookup per series
    alt = f"{label}: " + ", ".join(f"{y} {fmt(v)}" for y, v in pts)
    return html.Img(src=svg_data_uri(svg), alt=alt, title=alt, width=width, height=height, className="sk-spark")


def _nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2,5 or 5 × 10^k) giving about `ticks` ticks over span."""
    raw = span / max(ticks, 1) if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


WATERFALL_COLOURS = {"up": "#1E7B34", "down": "#B02A37", "total": "#1F4E8C"}


def waterfall_svg(steps: list[tuple[str, float, str]], lang: str, axis_title: str, label: str,
                  decimals: int = 2, width: int = 700, height: int = 340):
    """A waterfall as an inline SVG image (no plotly.js for one static chart: on the scorecard it
    cost ~0,3 s of the browser's main thread). steps: (x label, value, 'absolute' | 'relative' |
    'total'); every bar carries its value as text (colour is never needed) and `label` is the
    image's text alternative."""
    from xml.sax.saxutils import escape

    def fmt(v, sign):
        return ("+" if sign and v > 0 else "") + formats.number(v, decimals, lang)

    bars, level = [], 0.0
    for name, v, kind in steps:
        lo, hi = (0.0, v) if kind in ("absolute", "total") else (level, level + v)
        level = v if kind in ("absolute", "total") else level + v
        colour = WATERFALL_COLOURS["total" if kind != "relative" else "up" if v >= 0 else "down"]
        bars.append((name, lo, hi, colour, fmt(v, kind == "relative"), level))
    low = min([0.0] + [min(b[1], b[2]) for b in bars])
    high = max([0.0] + [max(b[1], b[2]) for b in bars])
    step = _nice_step((high - low) or 1.0)
    y0, y1 = math.floor(low / step) * step, math.ceil(high / step) * step
    pad = 0.12 * (y1 - y0)                    # room for the value texts outside the bars
    y0, y1 = (y0 - pad if low < 0 else y0), y1 + pad
    left, right, top, bottom = 58, 10, 12, 58
    plot_w, plot_h = width - left - right, height - top - bottom

    def sy(v):
        return top + plot_h * (y1 - v) / (y1 - y0)
    slot = plot_w / max(len(bars), 1)
    font = "font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif\" font-size=\"13\""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" {font}><rect width="100%" height="100%" fill="white"/>']
    tick = math.ceil(y0 / step) * step
    while tick <= y1 + 1e-9:
        tick = round(tick, 9) + 0.0          # no "−0,0" from float noise
        y = sy(tick)
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{"#595959" if abs(tick) < 1e-9 else "#e5e5e5"}"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#333">'
                   f'{escape(formats.number(tick, 2 if step < 0.1 else 1 if step < 1 else 0, lang))}</text>')
        tick += step
    out.append(f'<text transform="translate(14 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'fill="#333">{escape(axis_title)}</text>')
    for i, (name, lo, hi, colour, text, level) in enumerate(bars):
        x = left + i * slot + slot * 0.2
        w = slot * 0.6
        ya, yb = sy(max(lo, hi)), sy(min(lo, hi))
        out.append(f'<rect x="{x:.1f}" y="{ya:.1f}" width="{w:.1f}" height="{max(yb - ya, 1):.1f}" fill="{colour}"/>')
        up = hi >= lo
        ty = ya - 5 if up else yb + 15
        out.append(f'<text x="{x + w / 2:.1f}" y="{ty:.1f}" text-anchor="middle" fill="#222">{escape(text)}</text>')
        if i + 1 < len(bars):                 # the connector to the next bar at the running level
            yl = sy(level)
            out.append(f'<line x1="{x + w:.1f}" x2="{x + slot:.1f}" y1="{yl:.1f}" y2="{yl:.1f}" '
                       f'stroke="#595959" stroke-dasharray="3 2"/>')
        cx = x + w / 2
        for j, line in enumerate(_wrap_words(name, 14)[:3]):    # under the bar, centred, up to 3 lines
            out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16 + 14 * j:.1f}" text-anchor="middle" '
                       f'font-size="11.5" fill="#222">{escape(line)}</text>')
    out.append("</svg>")
    # the text alternative on a role=img wrapper (as the chart it replaces had it)
    return html.Div(html.Img(src=svg_data_uri("".join(out)), alt="",
                             width=width, height=height, className="sk-waterfall img-fluid"),
                    role="img", **{"aria-label": label})


# -- tables with downloads ---------------------------------------------------------------------------

def col(field: str, header: str, kind: str = "text", decimals: int | None = None,
        link_field: str | None = None, flex: int | None = None, raw: str | list | None = None,
        text_lang: str | None = None) -> dict:
    """Column spec for table_with_downloads. kind: text|int|number|kr|percent|share|bool|p|auto
    (auto: as fmt_value without a unit, whole numbers from 100, else one decimal).
    link_field: a column holding a relative href ('/kommun/0180') to render the cell as a link.
    flex: relative column width (default 1; e.g. 3 for long titles).
    raw: for a text column showing a formatted number ('+1 234', '–' for none, '5–95'), the
    field holding the number itself, or [(field, header), ...] for several: the grid shows
    `field` as text, downloads carry the numbers as `kind` (default number) rounded to
    `decimals`, never the text.
    text_lang: the language of the column's texts when it is not the page's (warehouse text such
    as Kolada KPI titles or a report's notes is Swedish: text_lang="sv" marks each cell lang="sv")."""
    return {"field": field, "header": header, "kind": kind, "decimals": decimals,
            "link_field": link_field, "flex": flex, "raw": raw, "text_lang": text_lang}


_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")


def download_meta(stem: str, source: str | None = None, year=None, demo=None,
                  settings: list | None = None, title: str | None = None) -> dict:
    """What a downloaded table says about itself (JSON-safe; kept beside the grid).

    stem: the file name without extension, saying what is in it ('urval-2009-lan1-3f9a2c');
    source: where the figures come from; year: an int or a text ('2011–2013');
    demo: True (every row is demo data), False (none is), or the name of the row field that
    holds each row's is_demo; settings: [(label, value)] such as the county limit, swaps and
    config hash (written as columns and on the sheet "Om filen"); title: the table's caption."""
    return {"stem": file_stem(stem), "source": source, "year": year, "demo": demo,
            "settings": [[str(k), _setting(v)] for k, v in (settings or [])],
            "title": title}


_SCALARS = (str, int, float, bool, type(None))


def _pair_ok(p, types=_SCALARS) -> bool:
    return isinstance(p, list) and len(p) == 2 and all(isinstance(x, types) for x in p)


def _column_ok(c) -> bool:
    if not isinstance(c, dict) or not isinstance(c.get("field"), str):
        return False
    dec, raw = c.get("decimals"), c.get("raw")
    return (isinstance(c.get("kind"), (str, type(None))) and isinstance(c.get("header"), _SCALARS)
            and (dec is None or (type(dec) is int and 0 <= dec <= 10))
            and (not raw or isinstance(raw, str) or (isinstance(raw, list) and all(_pair_ok(p, str) for p in raw))))


def download_meta_ok(meta) -> bool:
    """Whether a grid's download meta has the shape download_meta() and table_with_downloads
    give it: the browser keeps it in a dcc.Store and sends it back with the click, so a request
    can carry anything there; the download is made only from this shape."""
    if not isinstance(meta, dict):
        return False
    columns, settings = meta.get("columns") or [], meta.get("settings") or []
    return (isinstance(columns, list) and all(_column_ok(c) for c in columns)
            and isinstance(settings, list) and all(_pair_ok(p) for p in settings)
            and all(isinstance(meta.get(k), _SCALARS) for k in ("stem", "source", "year", "demo", "title")))


def _rows_ok(rows) -> bool:
    """Grid rows as the grid holds them: a list of records of plain values."""
    return isinstance(rows, list) and all(isinstance(r, dict) and all(isinstance(v, _SCALARS) for v in r.values())
                                          for r in rows)


def _setting(v):
    """A setting's value for the files: numbers stay numbers (a county limit of 1), else text."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    return "" if v is None else str(v)


def file_stem(*parts) -> str:
    """'urval', 2009, 'län 1' -> 'urval-2009-l-n-1': ASCII letters, digits, '-' and '_' only."""
    text = "-".join(str(p) for p in parts if p is not None and str(p) != "")
    return _SAFE_ID.sub("-", text).strip("-")[:120] or "tabell"


def _cell(v):
    """A JSON-safe cell value (NaN/NA -> None, numpy -> Python, dates -> ISO text)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if hasattr(v, "isoformat"):
        v = v.isoformat()
    return v


def _demo_field(meta: dict | None) -> str | None:
    demo = (meta or {}).get("demo")
    return demo if isinstance(demo, str) else None


def _raw_fields(spec: dict) -> list[tuple[str, str]]:
    """[(field, header)] a column downloads as numbers instead of its shown text: col(raw='x')
    -> [('x', header)], col(raw=[('lo', 'KI, nedre'), ('hi', 'KI, övre')]) -> both ends."""
    raw = spec.get("raw")
    if not raw:
        return []
    if isinstance(raw, str):
        return [(raw, str(spec.get("header") or spec["field"]))]
    return [(f, h) for f, h in raw]


# -- tables: plain HTML; long ones filtered, sorted and paged in the browser (styrkort.js) ---------
# No grid library: AG Grid's 1,3 MB bundle loaded on every page and building a grid took
# 0,1-0,9 s of main thread per page (2-core machine). A table is HTML the server writes once
# (dashboard/static_html.py sends it as markup); a long one gets a filter box, a sort choice and
# a pager, all handled by delegated listeners in assets/styrkort.js (no callback, no round trip,
# CSP-safe). The downloads always carry every row (the sk-rows store), whatever is filtered.

PLAIN_MAX_ROWS = 25      # up to this many rows: just the table (a short table is read, not searched)
MIN_PAGE_ROWS = 25       # rows per page of a long table, or the page's page_size when larger


def table_with_downloads(id: str, df: pd.DataFrame | None, columns: list | None = None,
                         lang: str = "sv", page_size: int = 20, height: int | None = None,
                         caption: str | None = None, download: dict | None = None):
    """A table with CSV and Excel downloads of exactly the shown columns.

    `columns`: list of col(...) dicts or plain field names (shown as text/number). Numbers show
    their sv-SE text (styrkort.formats, precomputed into '<field>__fmt') and keep the raw value
    for sorting (data-v) and downloads. Text is rendered as text.
    More than PLAIN_MAX_ROWS rows: a filter box and a sort choice above the table; more than
    max(page_size, MIN_PAGE_ROWS): paged, with the pager after the table. `height` is accepted
    for old callers and ignored (a fixed-height scrolling box is not keyboard friendly).
    `download`: download_meta(...) — file name, source, year, demo flag and settings the
    downloaded files carry (see table_file); default: the id as file name.
    """
    tid = _SAFE_ID.sub("-", str(id))
    if df is None:
        df = pd.DataFrame()
    if columns is None:
        columns = list(df.columns)
    specs = [c if isinstance(c, dict) else col(c, c, "number" if c in df and
                                                pd.api.types.is_numeric_dtype(df[c]) else "text")
             for c in columns]
    meta = dict(download or download_meta(tid))
    meta["title"] = meta.get("title") or caption
    extra = [f for f in [_demo_field(meta)] + [f for s in specs for f, _ in _raw_fields(s)] if f]
    row_data = []
    for rec in df.to_dict("records"):
        out = {}
        for s in specs:
            f = s["field"]
            v = _cell(rec.get(f))
            out[f] = v
            if s["kind"] != "text" and not s.get("raw"):
                out[f + "__fmt"] = fmt_kind(v, s["kind"], lang, s["decimals"]) if v is not None \
                    else t("missing", lang)
            if s.get("link_field"):
                link = rec.get(s["link_field"])
                out[f + "__href"] = link if isinstance(link, str) and link.startswith("/") else None
        for f in extra:
            out[f] = _cell(rec.get(f))
        row_data.append(out)

    name = caption or tid
    # the column specs travel with the meta so the download knows each column's kind
    meta["columns"] = [{k: s.get(k) for k in ("field", "header", "kind", "decimals", "raw")}
                       for s in specs]
    size = max(page_size, MIN_PAGE_ROWS)
    long = len(row_data) > PLAIN_MAX_ROWS
    paged = len(row_data) > size
    children = []
    if caption:
        children.append(html.Div(caption, className="sk-table-caption fw-semibold mb-1",
                                 id=f"{tid}-caption"))
    if long:
        children.append(table_tools(tid, specs, lang))
    if len(specs) * 90 > 360:   # wider than a phone at 90 px a column: it scrolls, say so
        children.append(html.P(t("table_scroll_hint", lang), className="sk-scroll-hint small text-body-secondary mb-1"))
    children.append(plain_table(tid, specs, row_data, lang, name, page_size=size if paged else None,
                                keyboard=long))
    if paged:
        children.append(pager(tid, len(row_data), size, lang, name))
    # the downloads need the values, not the shown texts and links (those are in the table)
    stored = [{k: v for k, v in r.items() if not k.endswith(("__fmt", "__href"))} for r in row_data]
    children.append(_download_buttons(tid, meta, lang, name, PLAIN_DOWNLOAD,
                                      dcc.Store(id={"type": "sk-rows", "index": tid}, data=stored)))
    return html.Div(children, className="sk-table mb-3", id=f"{tid}-wrap")


# Download id types: the buttons read the table's sk-rows store (every row).
PLAIN_DOWNLOAD = ("sk-pdl-csv", "sk-pdl-xlsx", "sk-pdownload")


def _download_buttons(tid: str, meta: dict, lang: str, name: str, kinds: tuple, *extra):
    csv_type, xlsx_type, download_type = kinds
    return html.Div([
        dbc.Button(t("download_csv", lang), id={"type": csv_type, "index": tid},
                   color="primary", outline=True, size="sm", className="me-2 sk-download-csv",
                   title=t("download_label", lang, name=name)),
        dbc.Button(t("download_xlsx", lang), id={"type": xlsx_type, "index": tid},
                   color="primary", outline=True, size="sm", className="sk-download-xlsx",
                   title=t("download_label", lang, name=name)),
        dcc.Store(id={"type": "sk-dl-meta", "index": tid}, data=meta),
        dcc.Download(id={"type": download_type, "index": tid}),
        *extra,
    ], className="sk-downloads mt-2", role="group", **{"aria-label": t("download_label", lang, name=name)})


def _plain_cell(s: dict, row: dict, keyboard: bool):
    f = s["field"]
    numeric = s["kind"] != "text" and not s.get("raw")
    v = row.get(f)
    text = row.get(f + "__fmt") if numeric else ("" if v is None else str(v))
    href = row.get(f + "__href") if s.get("link_field") else None
    if isinstance(href, str) and href.startswith("/") and not href.startswith("//"):
        # in a long table the links are reached with the arrow keys (one Tab stop per table)
        # data-sk-link: opened inside the app like dcc.Link (styrkort.js)
        content = html.A(text, href=href, **{"data-sk-link": "1"}, **({"tabIndex": "-1"} if keyboard else {}))
    else:
        content = text
    attrs = {"data-col": f, **({"lang": s["text_lang"]} if s.get("text_lang") else {})}
    if numeric and isinstance(v, (int, float)) and not isinstance(v, bool):
        attrs["data-v"] = v    # the raw number: what the table sorts by
    return html.Td(content, className="text-end text-nowrap" if numeric else None, **attrs)


def tbody_components(specs: list, row_data: list, lang: str, page_size: int | None, keyboard: bool):
    """A table's body as Dash components (what tbody_html writes as markup)."""
    rows = [html.Tr([_plain_cell(s, r, keyboard) for s in specs],
                    **({"hidden": True} if page_size and i >= page_size else {}))
            for i, r in enumerate(row_data)]
    return html.Tbody(rows or [html.Tr(html.Td(t("no_rows", lang), colSpan=len(specs) or 1))])


def tbody_html(specs: list, row_data: list, lang: str, page_size: int | None, keyboard: bool) -> str:
    """The inner markup of tbody_components(...), written directly (~100× faster than building
    the components): same cells, attributes, hidden rows and links; every text escaped."""
    from html import escape

    from dashboard.static_html import _num

    cols = []
    for s in specs:
        numeric = s["kind"] != "text" and not s.get("raw")
        attrs = (' class="text-end text-nowrap"' if numeric else "") + f' data-col="{escape(str(s["field"]))}"'
        if s.get("text_lang"):
            attrs += f' lang="{escape(str(s["text_lang"]))}"'
        cols.append((s["field"], numeric, bool(s.get("link_field")), attrs))
    link_tab = ' tabindex="-1"' if keyboard else ""
    out = []
    for i, r in enumerate(row_data):
        out.append('<tr hidden="">' if page_size and i >= page_size else "<tr>")
        for f, numeric, linked, attrs in cols:
            v = r.get(f)
            text = r.get(f + "__fmt") if numeric else ("" if v is None else str(v))
            text = escape("" if text is None else str(text), quote=False)
            href = r.get(f + "__href") if linked else None
            if isinstance(href, str) and href.startswith("/") and not href.startswith("//"):
                text = f'<a href="{escape(href)}" data-sk-link="1"{link_tab}>{text}</a>'
            dv = (f' data-v="{_num(v)}"' if numeric and isinstance(v, (int, float)) and not isinstance(v, bool)
                  else "")
            out.append(f"<td{attrs}{dv}>{text}</td>")
        out.append("</tr>")
    if not row_data:
        out.append(f'<tr><td colspan="{len(specs) or 1}">{escape(t("no_rows", lang), quote=False)}</td></tr>')
    return "".join(out)


def plain_table(tid: str, specs: list, row_data: list, lang: str, name: str,
                page_size: int | None = None, keyboard: bool = False):
    """The rows as an HTML table (numbers as their sv-SE text, links as links), in a labelled
    region that takes keyboard focus, so a table wider than a phone can be scrolled by keyboard
    (axe 'scrollable-region-focusable'). page_size: rows after the first page start hidden
    (styrkort.js pages them). keyboard: the region is the table's one Tab stop and the arrow
    keys move between its links (a long table's links are not each a Tab stop)."""
    from dashboard.static_html import StaticHtml

    numeric = [s["kind"] != "text" and not s.get("raw") for s in specs]
    head = html.Thead(html.Tr([html.Th(s["header"], scope="col", className="text-end" if n else None)
                               for s, n in zip(specs, numeric)]))
    # the rows are one StaticHtml always (also in callback answers): styrkort.js reorders and
    # hides them, which React must not own. Written straight to markup; the same rows as
    # components (tbody_components) are built only if something reads them (tests: the two agree)
    body = StaticHtml("tbody", {}, tbody_html(specs, row_data, lang, page_size, keyboard),
                      source=lambda: tbody_components(specs, row_data, lang, page_size, keyboard))
    table = html.Table([html.Caption(name, className="visually-hidden"), head, body],
                       className="table table-sm table-striped sk-plain-table mb-0",
                       id={"type": "sk-table", "index": tid},
                       **({"data-page-size": page_size} if page_size else {}))
    region = {"className": "sk-plain-wrap", "tabIndex": "0", "role": "region", "aria-label": name}
    if keyboard:
        region["className"] += " sk-keyboard-table"
        region["aria-describedby"] = f"{tid}-keys"
        return html.Div([html.Div(table, **region),
                         html.P(t("table_keys_hint", lang), id=f"{tid}-keys", className="visually-hidden")])
    return html.Div(table, **region)


def table_tools(tid: str, specs: list, lang: str):
    """A long table's filter box and sort choice (styrkort.js: no round trip). The box is a
    plain <input> (dcc.Input would wrap it and hold its value in React state, for nothing)."""
    from dashboard.static_html import StaticHtml

    sort_options = [html.Option(t("table_sort_none", lang), value="")]
    for i, s in enumerate(specs):
        sort_options += [html.Option(t("table_sort_asc", lang, col=s["header"]), value=f"{i}:asc"),
                         html.Option(t("table_sort_desc", lang, col=s["header"]), value=f"{i}:desc")]
    locale = _browser_locale(lang)
    return html.Div([
        html.Div([html.Label(t("table_filter_label", lang), htmlFor=f"{tid}-filter", className="form-label small mb-0"),
                  StaticHtml("input", {"type": "search", "className": "form-control form-control-sm sk-filter",
                                       "autoComplete": "off"}, "", id=f"{tid}-filter")], className="me-3"),
        html.Div([html.Label(t("table_sort_label", lang), htmlFor=f"{tid}-sort", className="form-label small mb-0"),
                  html.Select(sort_options, id=f"{tid}-sort", className="form-select form-select-sm sk-sort")],
                 className="me-3"),
        html.Span("", role="status", className="small sk-filter-status align-self-end",
                  **{"data-text": t("table_filter_status", lang), "data-locale": locale}),
    ], className="sk-table-tools d-flex flex-wrap align-items-end mb-2")


def _browser_locale(lang) -> str:
    """'sv-SE' / 'en-GB': the numbers styrkort.js writes into a table's status texts (a hostile
    language value falls back to Swedish)."""
    from styrkort.i18n import BABEL_LOCALE
    locale = BABEL_LOCALE.get(lang, BABEL_LOCALE["sv"]) if isinstance(lang, str) else BABEL_LOCALE["sv"]
    return locale.replace("_", "-")


# -- paging long tables (the buttons after the table; styrkort.js) -----------------------------------

PAGER_BUTTONS = (("first", "grid_pager_first", "«"), ("prev", "grid_pager_prev", "‹"),
                 ("next", "grid_pager_next", "›"), ("last", "grid_pager_last", "»"))


def pager_status(page: int, pages: int, rows: int, size: int, lang: str) -> str:
    """'Sida 2 av 12 · rader 26–50 av 290' (pure; styrkort.js words the updates alike)."""
    first = (page - 1) * size + 1 if rows else 0
    return t("grid_pager_status", lang, page=page, pages=pages, first=fmt_kind(first, "int", lang),
             last=fmt_kind(min(page * size, rows), "int", lang), rows=fmt_kind(rows, "int", lang))


def pager(tid: str, rows: int, size: int, lang: str, name: str):
    """First/previous/next/last buttons and 'page x of y' for a paged table."""
    pages = -(-rows // size)
    locale = _browser_locale(lang)
    buttons = []
    for kind, key, symbol in PAGER_BUTTONS:
        buttons.append(html.Button(
            [html.Span(symbol, **{"aria-hidden": "true"}), " ", t(key, lang)], type="button",
            className="btn btn-outline-secondary btn-sm me-1", disabled=kind in ("first", "prev"),
            **{"data-sk-page": kind}))
        if kind == "prev":
            buttons.append(html.Span(pager_status(1, pages, rows, size, lang), role="status",
                                     className="mx-2 small sk-pager-status"))
    return html.Div(buttons, className="sk-pager d-flex flex-wrap align-items-center mt-1", role="group",
                    **{"aria-label": t("grid_pager_label", lang, name=name),
                       "data-status": t("grid_pager_status", lang), "data-locale": locale})


# -- the one download helper: every table file (grid or server-built) is made here ------------------

_KIND_DECIMALS = {"int": 0, "kr": 0, "number": 1, "percent": 1, "share": 1}
_CSV_MINUS = str.maketrans({"\u2212": "-", "\u00a0": " "})


def _rounded(v, kind: str, decimals: int | None):
    """A number rounded as the screen shows it (share -> percent), or None."""
    if v is None or isinstance(v, bool):
        return v
    try:
        x = float(v)
    except (TypeError, ValueError):
        return v
    if x != x:
        return None
    if kind == "share":
        x *= 100
    if kind == "p":   # p-values: three significant digits, never rounded down to 0
        return float(f"{x:.3g}")
    if kind == "auto":   # fmt_value's rule: whole numbers from 100, else one decimal
        return round(x) if abs(x) >= 100 else round(x, 1)
    d = _KIND_DECIMALS.get(kind, 1) if decimals is None else decimals
    if kind == "int":
        d = 0
    return round(x) if d == 0 else round(x, d)


def _unit_header(header: str, kind: str, lang: str) -> str:
    """Headers say the unit the screen showed next to each number ('Ram (kr)', 'Andel (%)')."""
    if kind in ("percent", "share") and "%" not in header:
        return f"{header} (%)"
    if kind == "kr" and "kr" not in header.lower() and "sek" not in header.lower():
        return f"{header} ({t('currency_short', lang)})"
    return header


def _unique(headers: list[str]) -> list[str]:
    """Column names made unique ('Antal', 'Antal (2)'): a table may show two alike headers."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        n = seen.get(h, 0) + 1
        seen[h] = n
        out.append(h if n == 1 else f"{h} ({n})")
    return out


def _text_cell(v, lang: str):
    """Text cells: booleans as ja/nej, U+2212 as ASCII '-', spreadsheet formulas quoted."""
    if isinstance(v, bool):
        return t("yes" if v else "no", lang)
    if v is None:
        return None
    if not isinstance(v, str):
        return v
    v = v.translate(_CSV_MINUS)
    # Spreadsheet formula injection: text starting with = + - @ is quoted.
    return "'" + v if v[:1] in ("=", "+", "-", "@") else v


def download_frame(rows: list[dict], meta: dict, lang: str = "sv") -> tuple[pd.DataFrame, list]:
    """(table, decimals per column) as downloaded: the shown columns in order under their
    headers (made unique, unit added), numbers rounded as on screen but kept as numbers,
    booleans as ja/nej (yes/no), text with ASCII minus; then the columns every download
    carries: demo (ja/nej per row) where the meta knows it, the year, and the settings."""
    specs = meta.get("columns") or []
    rows = rows or []
    data: dict[int, list] = {}
    headers, decimals = [], []
    demo_header = t("demo", lang)
    demo = meta.get("demo")
    for i, s in enumerate(specs):
        kind, dec = s.get("kind") or "text", s.get("decimals")
        header = str(s.get("header") or s["field"])
        if demo is not None and header.strip().lower() == demo_header.lower():
            continue   # the page's own demo column: replaced by the canonical one below
        if s.get("raw"):   # numbers in place of the shown text (one or more columns)
            kind = "number" if kind == "text" else kind
            parts = [(f, h, True) for f, h in _raw_fields(s)]
        else:
            parts = [(s["field"], header, kind not in ("text", "bool"))]
        for field, head, num in parts:
            values = [r.get(field) for r in rows]
            if num:
                values = [_rounded(v, kind, dec) for v in values]
                d = None if kind in ("p", "auto") else (0 if kind == "int" else
                                                      (_KIND_DECIMALS.get(kind, 1) if dec is None else dec))
            else:
                values = [_text_cell(v, lang) for v in values]
                d = "text"
            data[len(headers)] = values
            headers.append(_unit_header(head, kind, lang) if num else head)
            decimals.append(d)
    if demo is not None:
        flags = [bool(demo) if not isinstance(demo, str) else bool(r.get(demo)) for r in rows]
        data[len(headers)] = [t("yes" if f else "no", lang) for f in flags]
        headers.append(demo_header)
        decimals.append("text")
    year = meta.get("year")
    year_header = t("year", lang)
    if year is not None and year_header.lower() not in (h.lower() for h in headers):
        data[len(headers)] = [year] * len(rows)
        headers.append(year_header)
        decimals.append(0 if isinstance(year, int) else "text")
    for label, value in meta.get("settings") or []:
        data[len(headers)] = [_text_cell(value, lang)] * len(rows)
        headers.append(label)
        decimals.append("text")
    # object columns of plain Python values: int stays int ('4644248', not '4644248,0'),
    # float keeps its rounding, None is empty; text is text
    df = pd.DataFrame({i: pd.Series(data[i], dtype=object) for i in range(len(headers))},
                      index=range(len(rows)))
    df.columns = _unique([str(h).translate(_CSV_MINUS) for h in headers])
    return df, decimals


def about_rows(meta: dict, lang: str = "sv", created: str | None = None) -> list[tuple[str, str]]:
    """The sheet "Om filen": what the table is, its source, year, settings, demo note, created."""
    from datetime import datetime

    demo = meta.get("demo")
    if demo is None:
        note = t("dl_demo_unknown", lang)
    elif demo is True:
        note = t("dl_demo_all", lang)
    elif demo is False:
        note = t("dl_demo_none", lang)
    else:
        note = t("dl_demo_rows", lang)
    rows = [(t("dl_about_table", lang), meta.get("title") or meta.get("stem") or ""),
            (t("source", lang), meta.get("source") or t("missing", lang)),
            (t("year", lang), "" if meta.get("year") is None else str(meta["year"]))]
    rows += [(str(k), str(v)) for k, v in meta.get("settings") or []]
    rows += [(t("demo", lang), note),
             (t("dl_about_numbers", lang), t("dl_numbers_note", lang)),
             (t("dl_about_created", lang), created or datetime.now().strftime("%Y-%m-%d %H:%M")),
             (t("dl_about_program", lang), "styrkort")]
    return rows


def csv_bytes(df: pd.DataFrame, lang: str = "sv") -> bytes:
    """CSV as Swedish Excel reads it: ';' separated, decimal comma, UTF-8 with BOM (sv);
    ',' and '.' for English. Numbers are written as they are (no float noise, no thousands
    separator, ASCII minus); missing values are empty."""
    import csv

    def cell(v):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, bool):
            return t("yes" if v else "no", lang)
        if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
            v = int(v) if not hasattr(v, "item") else int(v.item())
        if isinstance(v, float):
            return repr(float(v)).replace(".", formats.symbols(lang)[1])
        if hasattr(v, "item") and not isinstance(v, str):
            return cell(v.item())
        return str(v)

    buf = io.StringIO()
    # Swedish Excel reads ';' with a decimal comma, English Excel ',' with a decimal point
    w = csv.writer(buf, delimiter=pick(lang, sv=";", en=","), lineterminator="\n")
    w.writerow([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        w.writerow([cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "data", decimals: list | None = None,
               about: list[tuple[str, str]] | None = None, about_sheet: str = "Om filen") -> bytes:
    """Excel: the table as numbers (number formats by `decimals`, header row frozen) and,
    when given, a second sheet `about_sheet` with (label, value) rows."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        name = (sheet or "data")[:31]
        df.to_excel(xw, sheet_name=name, index=False)
        ws, book = xw.sheets[name], xw.book
        ws.freeze_panes(1, 0)
        for i, c in enumerate(df.columns):
            d = (decimals or [None] * len(df.columns))[i] if decimals else None
            width = min(60, max(10, len(str(c)) + 2))
            if isinstance(d, int) and not isinstance(d, bool):
                fmt = book.add_format({"num_format": "#,##0" + ("." + "0" * d if d > 0 else "")})
                ws.set_column(i, i, width, fmt)
            else:
                ws.set_column(i, i, width)
        if about is not None:
            pd.DataFrame(about, columns=["", ""]).to_excel(
                xw, sheet_name=about_sheet[:31], index=False, header=False)
            xw.sheets[about_sheet[:31]].set_column(0, 0, 28)
            xw.sheets[about_sheet[:31]].set_column(1, 1, 90)
    return buf.getvalue()


def table_file(rows: list[dict], meta: dict, fmt: str, lang: str = "sv") -> tuple[bytes, str]:
    """(file bytes, file name) of one downloaded table: fmt 'csv' or 'xlsx'. The only place
    where download files are made (grids and server-built tables alike)."""
    df, decimals = download_frame(rows, meta, lang)
    stem = file_stem(meta.get("stem") or "tabell")
    if fmt == "xlsx":
        return (xlsx_bytes(df, t("dl_sheet_table", lang), decimals, about_rows(meta, lang),
                           t("dl_sheet_about", lang)), f"{stem}.xlsx")
    return csv_bytes(df, lang), f"{stem}.csv"


def frame_rows(df: pd.DataFrame | None) -> list[dict]:
    """DataFrame -> JSON-safe row dicts for table_file."""
    if df is None or df.empty:
        return []
    return [{k: _cell(v) for k, v in r.items()} for r in df.to_dict("records")]


# -- downloads generated on the server (for tables drawn as plain HTML, no grid) -------------------
# kind -> fn(args: list[str], lang) -> ServerTable (or None when the args are invalid).
# Filled at import time by page modules (static code, not per-user state); the functions must
# validate their args, which come from the browser.
SERVER_DOWNLOADS: dict = {}


class ServerTable:
    """A server-built download: raw rows, column specs (col(...)) and download_meta(...)."""

    def __init__(self, df: pd.DataFrame, columns: list[dict], meta: dict):
        self.rows = frame_rows(df)
        self.meta = dict(meta, columns=[{k: c.get(k) for k in ("field", "header", "kind", "decimals", "raw")}
                                        for c in columns])


def server_download(kind: str):
    """Decorator registering a server-side table for download_buttons(kind, args, ...)."""
    def deco(fn):
        SERVER_DOWNLOADS[kind] = fn
        return fn
    return deco


def download_buttons(kind: str, args: list, lang: str = "sv", name: str = ""):
    """CSV and Excel buttons for a table the server rebuilds from (kind, args) on click."""
    index = "|".join([kind] + [str(a) for a in args])
    label = t("download_label", lang, name=name or kind)
    return html.Div([
        dbc.Button(t("download_csv", lang), id={"type": "sk-srv-csv", "index": index},
                   color="primary", outline=True, size="sm", className="me-2 sk-download-csv", title=label),
        dbc.Button(t("download_xlsx", lang), id={"type": "sk-srv-xlsx", "index": index},
                   color="primary", outline=True, size="sm", className="sk-download-xlsx", title=label),
        dcc.Download(id={"type": "sk-srv-download", "index": index}),
    ], className="sk-downloads mt-2", role="group", **{"aria-label": label})


def _server_table(made) -> ServerTable | None:
    """A page's server download as a ServerTable (an older (df, stem) pair is accepted)."""
    if made is None or isinstance(made, ServerTable):
        return made
    df, stem = made
    cols = [col(c, str(c), "number" if pd.api.types.is_numeric_dtype(df[c]) else "text")
            for c in df.columns]
    return ServerTable(df, cols, download_meta(stem))


def register_callbacks(app) -> None:
    """Callbacks shared by all pages (called once per app by dashboard.app.create_app)."""

    @app.callback(
        Output({"type": "sk-srv-download", "index": MATCH}, "data"),
        Input({"type": "sk-srv-csv", "index": MATCH}, "n_clicks"),
        Input({"type": "sk-srv-xlsx", "index": MATCH}, "n_clicks"),
        State("_pages_location", "search"),
        prevent_initial_call=True,
    )
    def _server_download(n_csv, n_xlsx, search):
        from dash import ctx
        from dashboard.i18n import get_lang

        trig = ctx.triggered_id
        if not trig or not (n_csv or n_xlsx):
            return no_update
        kind, *args = str(trig.get("index", "")).split("|")
        fn = SERVER_DOWNLOADS.get(kind)
        lang = get_lang(search)
        table = _server_table(fn(args, lang) if fn else None)
        if table is None:
            return no_update
        fmt = "xlsx" if trig.get("type") == "sk-srv-xlsx" else "csv"
        content, filename = table_file(table.rows, table.meta, fmt, lang)
        return dcc.send_bytes(content, filename)

    # table downloads: the buttons send the table's sk-rows store (every row)
    for (csv_type, xlsx_type, download_type), rows in ((PLAIN_DOWNLOAD, ("sk-rows", "data")),):
        app.callback(
            Output({"type": download_type, "index": MATCH}, "data"),
            Input({"type": csv_type, "index": MATCH}, "n_clicks"),
            Input({"type": xlsx_type, "index": MATCH}, "n_clicks"),
            State({"type": rows[0], "index": MATCH}, rows[1]),
            State({"type": "sk-dl-meta", "index": MATCH}, "data"),
            State("_pages_location", "search"),
            prevent_initial_call=True,
        )(_table_download)


def _table_download(n_csv, n_xlsx, row_data, meta, search):
    """The file of a grid's or plain table's download button (CSV or Excel by the button)."""
    from dash import ctx
    from dashboard.i18n import get_lang

    trig = ctx.triggered_id
    if not trig or not (n_csv or n_xlsx) or not meta:
        return no_update
    if not (download_meta_ok(meta) and _rows_ok(row_data or [])):
        return no_update     # not what the page stored beside its table (see download_meta_ok)
    fmt = "xlsx" if str(trig.get("type", "")).endswith("xlsx") else "csv"
    content, filename = table_file(row_data or [], meta, fmt, get_lang(search))
    return dcc.send_bytes(content, filename)


# -- navigation -------------------------------------------------------------------------------------

NAV = [  # (path, i18n key)
    ("/", "nav_home"),
    ("/jamfor", "nav_jamfor"),
    ("/enheter", "nav_enheter"),
    ("/urval", "nav_urval"),
    ("/kostnad", "nav_kostnad"),
    ("/statsbidrag", "nav_statsbidrag"),
    ("/trender", "nav_trender"),
    ("/om", "nav_om"),
]


def navbar(pathname: str | None, search: str | None, lang: str = "sv", last_code: str | None = None):
    """The header: brand, main menu (keeps ?lang) and the language switch. `last_code`: the
    municipality the user viewed last (the "Trender" item opens it; without it, a chooser)."""
    from dashboard.i18n import switch_lang_href

    pathname = pathname or "/"
    items = []
    for path, key in NAV:
        active = pathname == path or (path != "/" and pathname.startswith(path + "/"))
        params = {"code": last_code} if path == "/trender" and last_code else {}
        items.append(html.Li(dcc.Link(
            t(key, lang), href=href(path, lang, **params),
            className="nav-link active fw-semibold text-decoration-underline" if active
            else "nav-link"), className="nav-item"))
    # On a narrow screen the menu collapses behind a button (styrkort.css, styrkort.js toggles it).
    return html.Header(
        html.Div([
            dcc.Link(html.Span([html.Span("▦ ", **{"aria-hidden": "true"}),
                                t("app_title", lang)]),
                     href=href("/", lang), className="navbar-brand sk-brand"),
            html.Button([html.Span("☰", className="me-1", **{"aria-hidden": "true"}), t("nav_menu", lang)],
                        id="sk-menu-button", type="button", className="btn btn-outline-light btn-sm sk-menu-button",
                        **{"aria-expanded": "false", "aria-controls": "sk-nav-menu"}),
            html.Nav(html.Ul(items, className="navbar-nav flex-row flex-wrap gap-2"), id="sk-nav-menu",
                     className="me-auto sk-nav-menu", **{"aria-label": t("nav_label", lang)}),
            # the switch names the other language in that language ("In English" / "På svenska")
            html.A(html.Span(t("lang_switch", lang), lang=pick(lang, sv="en", en="sv")),
                   href=switch_lang_href(pathname, search), hrefLang=pick(lang, sv="en", en="sv"),
                   className="btn btn-light btn-sm sk-lang", id="sk-lang-switch",
                   title=t("lang_switch_label", lang)),
        ], className="container-fluid d-flex flex-wrap align-items-center gap-3"),
        className="navbar navbar-dark bg-dark sk-navbar mb-3",
    )


def stack_labels(rows: list, head: list[str]) -> list:
    """Give each cell of the table rows a data-label (its column header): a table with class
    `sk-stack` shows each row as a card of 'label: value' lines on a narrow screen (styrkort.css)
    instead of scrolling sideways. Returns the rows."""
    for tr in rows:
        for cell, label in zip(getattr(tr, "children", None) or [], head):
            setattr(cell, "data-label", str(label))
    return rows


def safe_layout(fn):
    """Decorator for page layout functions: a failure becomes a friendly error box, never a
    traceback or a blank page (the error is logged). A layout is a function of the warehouse
    file and the URL's parameters, so a rendered layout is reused until the file changes
    (dashboard.cache.per_warehouse; failures are not kept)."""
    import functools
    import logging

    from dashboard.cache import per_warehouse

    cached = per_warehouse()(fn)

    def _static(*args, **kwargs):
        from dashboard.static_html import staticize
        return staticize(fn(*args, **kwargs), keep_source=False)
    # what the browser gets (dashboard.static_html.install): the page with its static parts as
    # markup only, kept instead of the plain components (a fraction of the memory: room for
    # every municipality's scorecard)
    cached_static = per_warehouse(maxsize=1024)(_static)

    def guarded(call, args, kwargs):
        from dashboard.i18n import get_lang
        try:
            return call(*args, **kwargs)
        except Exception:  # noqa: BLE001 - shown as a message, logged with traceback
            logging.getLogger("dashboard").exception("layout %s failed", fn.__module__)
            lang = get_lang(kwargs)
            return html.Div(error_state(t("db_error", lang)), className="container")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return guarded(cached, args, kwargs)

    def static_view(*args, **kwargs):
        return guarded(cached_static, args, kwargs)
    wrapper.static_view = static_view
    return wrapper


def labelled_select(id: str, label: str, options: list, value=None, placeholder: str | None = None,
                    **col_kwargs):
    """A native <select> (dbc.Select) with a visible <label for=...>: keyboard operable and named
    for screen readers. options: [{"label", "value"}]; values are strings in the browser."""
    opts = [{"label": str(o["label"]), "value": str(o["value"])} for o in options]
    if placeholder:
        opts = [{"label": placeholder, "value": ""}] + opts
    return html.Div([
        html.Label(label, htmlFor=id, className="form-label fw-semibold"),
        dbc.Select(id=id, options=opts, value="" if value is None else str(value)),
    ], **col_kwargs)


# ---------------------------------------------------------------- page helpers shared by the analysis pages


def alert(text, kind: str = "warning", **kw):
    """Message box; role=alert for problems (announced by screen readers), status otherwise."""
    return html.Div(text, className=f"alert alert-{kind} mb-2",
                    role="alert" if kind in ("warning", "danger") else "status", **kw)


