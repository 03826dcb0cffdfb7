"""Shared components for every page. Keep these signatures stable (pages of other helpers use
them); add new functions rather than changing existing ones.

Conventions:
- Every function takes `lang` ('sv'|'en') where it shows text.
- Text from the warehouse is always passed as a Dash child string (rendered as text by React,
  never as HTML): never use dangerously_allow_html / dcc.Markdown on warehouse text.
- Status is never colour alone: `status_badge` shows an icon AND a text.
- Figures: call `style_figure(fig, lang)` (sv-SE separators, readable font) and
  `graph(id, fig, ...)` for consistent config; put `source_caption` under every figure.
- Tables: `table_with_downloads(id, df, columns, lang)` = dash-ag-grid + CSV/Excel buttons,
  served by ONE pattern-matching callback (`register_callbacks(app)`, called by create_app).

Quick reference:
    demo_badge(lang)                               -> "demo" pill with an explanation
    source_caption(source, year, lang, modelled=False, extra=None)
    status_badge(status, lang)                     -> 'better'|'worse'|'same'|'no_direction'|None
    trend_badge(verdict, lang)
    fmt_value(value, unit, lang, decimals=None)    -> sv-SE text by unit ('kr', '%', ...)
    sparkline(years, values, lang, label)          -> small static chart with a text alternative
    style_figure(fig, lang, height=None)           -> fig (mutated) with separators/fonts
    graph(id, fig, label, lang)                    -> dcc.Graph wrapped with an accessible label
    table_with_downloads(id, df, columns, lang, page_size=20, height=None)
    col(field, header, kind='text', decimals=None, link_field=None)   -> column spec dict
    not_computed(view, lang) / empty_state(text) / error_state(text)
    page_heading(title, lead=None)
    labelled_select(id, label, options, value=None, placeholder=None)  -> native <select> + <label>
    safe_layout(fn)                                -> decorator: a failing layout shows an error box
    navbar(pathname, search, lang)                 -> the header (used by dashboard.app)
"""
from __future__ import annotations

import io
import re

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import MATCH, Input, Output, State, dcc, html, no_update

from dashboard.i18n import href, t, trend_code, trend_label
from styrkort import formats

# -- small text helpers ---------------------------------------------------------------------------

def fmt_value(value, unit: str | None = None, lang: str = "sv", decimals: int | None = None) -> str:
    """A value with its unit in sv-SE (or en) format; 'uppgift saknas' when missing."""
    if value is None or (isinstance(value, float) and value != value):
        return formats.number(None, lang=lang)
    unit = (unit or "").strip()
    if unit in ("kr", "kr/inv", "SEK"):
        s = formats.kr(value, decimals or 0, lang)
        return s + ("/inv" if unit == "kr/inv" else "")
    if unit == "%":
        return formats.percent(value, 1 if decimals is None else decimals, lang)
    if decimals is None:
        decimals = 0 if abs(value) >= 100 else 1
    s = formats.number(value, decimals, lang)
    if unit and unit not in ("antal", "index", "count"):
        s = f"{s}{formats.NBSP}{unit}"
    return s


def fmt_kind(value, kind: str, lang: str = "sv", decimals: int | None = None) -> str:
    """Format by column kind: 'int', 'number', 'kr', 'percent', 'share' (0..1 -> %), 'text'."""
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
            return ("ja" if value else "nej") if lang == "sv" else ("yes" if value else "no")
        return formats.number(value, 1 if decimals is None else decimals, lang)
    except (TypeError, ValueError):
        return str(value)


# -- badges and captions --------------------------------------------------------------------------

def demo_badge(lang: str = "sv", **kwargs):
    """Visible 'demo' label (text, not colour) with an explanation for screen readers/hover."""
    return html.Span(
        t("demo", lang).upper(), className="sk-demo-badge", title=t("demo_title", lang),
        **{"aria-label": t("demo_title", lang)}, **kwargs)


def source_caption(source, year=None, lang: str = "sv", modelled: bool = False, extra=None):
    """'Källa: SCB, år 2012' (+ 'modellerad') under a figure or value. `source` is warehouse
    text: shown as text."""
    parts = [f"{t('source', lang)}: {source or t('missing', lang)}"]
    if year is not None:
        parts.append(f"{t('year', lang).lower()} {year}")
    if modelled:
        parts.append(t("modelled", lang))
    if extra:
        parts.append(str(extra))
    return html.Small(", ".join(parts), className="sk-source text-body-secondary")


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


def empty_state(text: str):
    return html.Div(dbc.Alert(text, color="light", className="sk-empty border"), role="status")


def error_state(text: str):
    return html.Div(dbc.Alert(text, color="warning", className="sk-error"), role="alert")


# -- figures ----------------------------------------------------------------------------------------

def style_figure(fig: go.Figure, lang: str = "sv", height: int | None = None) -> go.Figure:
    """sv-SE separators (decimal comma, space thousands), readable defaults. Mutates and returns."""
    fig.update_layout(
        separators=formats.PLOTLY_SEPARATORS.get(lang, ", "),
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


def graph(id, fig: go.Figure, label: str, lang: str = "sv", **kwargs):
    """A dcc.Graph inside a region labelled for screen readers (charts are images to them)."""
    return html.Div(dcc.Graph(id=id, figure=fig, config=GRAPH_CONFIG, **kwargs),
                    role="figure", **{"aria-label": label}, className="sk-graph")


def sparkline(years, values, lang: str = "sv", label: str = "", unit: str | None = None,
              width: int = 120, height: int = 36):
    """A tiny line chart of a KPI over the years as an inline SVG image (no JavaScript, so a
    scorecard with 40 of them renders at once), with the values as its text alternative."""
    from urllib.parse import quote

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
    alt = f"{label}: " + ", ".join(f"{y} {fmt_value(v, unit, lang)}" for y, v in pts)
    return html.Img(src="data:image/svg+xml;charset=utf-8," + quote(svg), alt=alt, title=alt,
                    width=width, height=height, className="sk-spark")


# -- tables with downloads ---------------------------------------------------------------------------

def col(field: str, header: str, kind: str = "text", decimals: int | None = None,
        link_field: str | None = None, flex: int | None = None) -> dict:
    """Column spec for table_with_downloads. kind: text|int|number|kr|percent|share|bool.
    link_field: a column holding a relative href ('/kommun/0180') to render the cell as a link.
    flex: relative column width (default 1; e.g. 3 for long titles)."""
    return {"field": field, "header": header, "kind": kind, "decimals": decimals,
            "link_field": link_field, "flex": flex}


_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]+")


def table_with_downloads(id: str, df: pd.DataFrame | None, columns: list | None = None,
                         lang: str = "sv", page_size: int = 20, height: int | None = None,
                         caption: str | None = None):
    """An AG Grid with CSV and Excel downloads of exactly the shown columns.

    `columns`: list of col(...) dicts or plain field names (shown as text/number). Raw values
    stay in the grid (correct sorting, raw numbers in downloads); the sv-SE text of each
    formatted cell is precomputed with styrkort.formats into '<field>__fmt' and displayed by
    the asset renderer SkFormatted (no JS eval, CSP-safe). Text is rendered as text.
    """
    tid = _SAFE_ID.sub("-", str(id))
    if df is None:
        df = pd.DataFrame()
    if columns is None:
        columns = list(df.columns)
    specs = [c if isinstance(c, dict) else col(c, c, "number" if c in df and
                                                pd.api.types.is_numeric_dtype(df[c]) else "text")
             for c in columns]
    row_data = []
    for rec in df.to_dict("records"):
        out = {}
        for s in specs:
            f = s["field"]
            v = rec.get(f)
            if isinstance(v, float) and v != v:
                v = None
            elif v is pd.NA or v is pd.NaT:
                v = None
            elif hasattr(v, "item") and not isinstance(v, (str, bytes)):
                try:
                    v = v.item()
                except (ValueError, AttributeError):
                    pass
            if hasattr(v, "isoformat"):
                v = v.isoformat()
            out[f] = v
            if s["kind"] != "text":
                out[f + "__fmt"] = fmt_kind(v, s["kind"], lang, s["decimals"]) if v is not None \
                    else t("missing", lang)
            if s.get("link_field"):
                link = rec.get(s["link_field"])
                out[f + "__href"] = link if isinstance(link, str) and link.startswith("/") else None
        row_data.append(out)

    col_defs = []
    for s in specs:
        cd = {"field": s["field"], "headerName": s["header"], "sortable": True,
              "filter": True, "resizable": True}
        if s.get("flex"):
            cd["flex"] = s["flex"]
        if s.get("link_field"):
            cd["cellRenderer"] = "SkLink"
        elif s["kind"] != "text":
            cd["cellRenderer"] = "SkFormatted"
            cd["type"] = "rightAligned"
            cd["filter"] = "agNumberColumnFilter"
        col_defs.append(cd)

    grid_style = {"height": f"{height}px"} if height else None
    grid = dag.AgGrid(
        id={"type": "sk-grid", "index": tid},
        rowData=row_data,
        columnDefs=col_defs,
        defaultColDef={"minWidth": 90, "flex": 1, "wrapHeaderText": True, "autoHeaderHeight": True,
                       "wrapText": True, "autoHeight": True, "cellStyle": {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"}},
        dashGridOptions={
            "pagination": len(row_data) > page_size,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": False,
            "domLayout": None if height else "autoHeight",
            "enableCellTextSelection": True,
            "ensureDomOrder": True,
            "localeText": {"noRowsToShow": t("no_rows", lang)},
        },
        style=grid_style,
        className="sk-grid",
    )
    name = caption or tid
    buttons = html.Div([
        dbc.Button(t("download_csv", lang), id={"type": "sk-dl-csv", "index": tid},
                   color="primary", outline=True, size="sm", className="me-2",
                   title=t("download_label", lang, name=name)),
        dbc.Button(t("download_xlsx", lang), id={"type": "sk-dl-xlsx", "index": tid},
                   color="primary", outline=True, size="sm",
                   title=t("download_label", lang, name=name)),
        dcc.Download(id={"type": "sk-download", "index": tid}),
    ], className="sk-downloads mt-2", role="group", **{"aria-label": t("download_label", lang, name=name)})
    children = []
    if caption:
        children.append(html.Div(caption, className="sk-table-caption fw-semibold mb-1",
                                 id=f"{tid}-caption"))
    children += [grid, buttons]
    return html.Div(children, className="sk-table mb-3", id=f"{tid}-wrap")


def _download_frame(row_data, col_defs) -> pd.DataFrame:
    """Only the visible columns, in order, with their header names; raw values."""
    fields = [c["field"] for c in (col_defs or []) if c.get("field")]
    headers = [c.get("headerName") or c["field"] for c in (col_defs or []) if c.get("field")]
    df = pd.DataFrame(row_data or [], columns=None)
    for f in fields:
        if f not in df.columns:
            df[f] = None
    df = df[fields] if fields else df
    df.columns = headers if fields else df.columns
    # Spreadsheet formula injection: text cells starting with = + - @ are quoted.
    for c in df.columns:
        if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]):
            df[c] = df[c].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@")
                              else v)
    return df


def _whole_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Float columns holding only whole numbers (ints that became float next to a missing
    value) are written as integers: '4644248', not '4644248,0'."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if pd.api.types.is_float_dtype(col):
            vals = col.dropna()
            if len(vals) and (vals == vals.round()).all() and vals.abs().max() < 2**53:
                out[c] = col.astype("Int64")
    return out


def csv_bytes(df: pd.DataFrame, lang: str = "sv") -> bytes:
    """CSV as Swedish Excel reads it: ';' separated, decimal comma, UTF-8 with BOM (sv);
    ',' and '.' for English."""
    df = _whole_numbers(df)
    buf = io.StringIO()
    if lang == "en":
        df.to_csv(buf, index=False)
    else:
        df.to_csv(buf, index=False, sep=";", decimal=",")
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(df: pd.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    df = _whole_numbers(df)
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xw:
        df.to_excel(xw, sheet_name=sheet[:31] or "data", index=False)
    return buf.getvalue()


# -- downloads generated on the server (for tables drawn as plain HTML, no grid) -------------------
# kind -> fn(args: list[str], lang) -> (DataFrame with display headers, file stem) or None.
# Filled at import time by page modules (static code, not per-user state); the functions must
# validate their args, which come from the browser.
SERVER_DOWNLOADS: dict = {}


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
                   color="primary", outline=True, size="sm", className="me-2", title=label),
        dbc.Button(t("download_xlsx", lang), id={"type": "sk-srv-xlsx", "index": index},
                   color="primary", outline=True, size="sm", title=label),
        dcc.Download(id={"type": "sk-srv-download", "index": index}),
    ], className="sk-downloads mt-2", role="group", **{"aria-label": label})


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
        made = fn(args, lang) if fn else None
        if made is None:
            return no_update
        df, stem = made
        stem = _SAFE_ID.sub("-", stem)
        if trig.get("type") == "sk-srv-xlsx":
            return dcc.send_bytes(xlsx_bytes(df, stem), f"{stem}.xlsx")
        return dcc.send_bytes(csv_bytes(df, lang), f"{stem}.csv")

    @app.callback(
        Output({"type": "sk-download", "index": MATCH}, "data"),
        Input({"type": "sk-dl-csv", "index": MATCH}, "n_clicks"),
        Input({"type": "sk-dl-xlsx", "index": MATCH}, "n_clicks"),
        State({"type": "sk-grid", "index": MATCH}, "rowData"),
        State({"type": "sk-grid", "index": MATCH}, "columnDefs"),
        State({"type": "sk-grid", "index": MATCH}, "id"),
        State("_pages_location", "search"),
        prevent_initial_call=True,
    )
    def _download(n_csv, n_xlsx, row_data, col_defs, grid_id, search):
        from dash import ctx
        from dashboard.i18n import get_lang

        trig = ctx.triggered_id
        if not trig or not (n_csv or n_xlsx):
            return no_update
        df = _download_frame(row_data, col_defs)
        name = _SAFE_ID.sub("-", str(grid_id.get("index", "tabell"))) if grid_id else "tabell"
        if trig.get("type") == "sk-dl-xlsx":
            return dcc.send_bytes(xlsx_bytes(df, name), f"{name}.xlsx")
        return dcc.send_bytes(csv_bytes(df, get_lang(search)), f"{name}.csv")


# -- navigation -------------------------------------------------------------------------------------

NAV = [  # (path, i18n key)
    ("/", "nav_home"),
    ("/jamfor", "nav_jamfor"),
    ("/urval", "nav_urval"),
    ("/kostnad", "nav_kostnad"),
    ("/statsbidrag", "nav_statsbidrag"),
    ("/trender", "nav_trender"),
    ("/om", "nav_om"),
]


def navbar(pathname: str | None, search: str | None, lang: str = "sv"):
    """The header: brand, main menu (keeps ?lang) and the language switch."""
    from dashboard.i18n import switch_lang_href

    pathname = pathname or "/"
    items = []
    for path, key in NAV:
        active = pathname == path or (path != "/" and pathname.startswith(path + "/"))
        items.append(html.Li(dcc.Link(
            t(key, lang), href=href(path, lang),
            className="nav-link active fw-semibold text-decoration-underline" if active
            else "nav-link"), className="nav-item"))
    return html.Header(
        html.Div([
            dcc.Link(html.Span([html.Span("▦ ", **{"aria-hidden": "true"}),
                                t("app_title", lang)]),
                     href=href("/", lang), className="navbar-brand sk-brand"),
            html.Nav(html.Ul(items, className="navbar-nav flex-row flex-wrap gap-2"),
                     className="me-auto", **{"aria-label": t("nav_label", lang)}),
            html.A(t("lang_switch", lang), href=switch_lang_href(pathname, search),
                   className="btn btn-light btn-sm sk-lang", id="sk-lang-switch",
                   title=t("lang_switch_label", lang)),
        ], className="container-fluid d-flex flex-wrap align-items-center gap-3"),
        className="navbar navbar-dark bg-dark sk-navbar mb-3",
    )


def safe_layout(fn):
    """Decorator for page layout functions: a failure becomes a friendly error box, never a
    traceback or a blank page (the error is logged)."""
    import functools
    import logging

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from dashboard.i18n import get_lang
        try:
            return fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - shown as a message, logged with traceback
            logging.getLogger("dashboard").exception("layout %s failed", fn.__module__)
            lang = get_lang(kwargs)
            return html.Div(error_state(t("db_error", lang)), className="container")
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


def translator(texts: dict):
    """Page-local texts {key: (sv, en)} -> t(key, lang, **fmt)."""
    def _t(key, lang, **kw):
        sv, en = texts[key]
        s = en if lang == "en" else sv
        return s.format(**kw) if kw else s
    return _t


def alert(text, kind: str = "warning", **kw):
    """Message box; role=alert for problems (announced by screen readers), status otherwise."""
    return html.Div(text, className=f"alert alert-{kind} mb-2",
                    role="alert" if kind in ("warning", "danger") else "status", **kw)


def widen(table, fields: dict):
    """Give long text columns of a table_with_downloads grid more room and wrapped rows.
    fields: {field: flex}."""
    for child in table.children:
        if isinstance(child, dag.AgGrid):
            child.columnDefs = [dict(c, flex=fields[c["field"]], wrapText=True, autoHeight=True,
                                     cellStyle={"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px"})
                                if c.get("field") in fields else c for c in child.columnDefs]
    return table
