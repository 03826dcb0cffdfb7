"""Plotly figure builders for the analysis pages (/urval, /kostnad, /statsbidrag, /trender).

Pure functions: DataFrames in, ``go.Figure`` out; no database access, no Dash. Every figure
gets Swedish (or English) number separators and, where asked, its source line drawn inside the
figure so an exported PNG/PDF still says where the numbers come from.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from styrkort import formats
from styrkort.i18n import t

# Colours chosen for contrast >= 4.5:1 on white (WCAG AA for the text labels drawn in them).
RED = "#B3261E"      # above standard cost (costlier)
GREEN = "#1E7B34"    # below standard cost (cheaper)
BLUE = "#1F4E8C"     # the municipality's own line
GREY = "#595959"     # national reference
ORANGE = "#A65A00"   # size-group reference
PURPLE = "#6A3D9A"   # similar-municipalities reference
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"

SIZE_GROUPS = ("small", "medium", "large")


def _install_template() -> None:
    """A slim default template ("styrkort": the layout part of Plotly's "plotly" template, without
    its per-trace defaults and the polar/ternary/3-D/mapbox sections no chart here uses). Every
    go.Figure builds and validates its template: the full one cost ~15 ms a figure (four trend
    charts: most of /trender's server time) and added ~7 KB of JSON a figure sent to the
    browser; this one 0,4 ms and 0,9 KB, and the charts look the same (axes, title standoff,
    colours, map background)."""
    import plotly.io as pio

    if "styrkort" not in pio.templates:
        layout = pio.templates["plotly"].layout.to_plotly_json()
        for unused in ("polar", "ternary", "scene", "mapbox", "map", "colorscale"):
            layout.pop(unused, None)
        pio.templates["styrkort"] = go.layout.Template(layout=layout)
    pio.templates.default = "styrkort"


_install_template()


def size_group_short(size_group, lang: str = "sv") -> str:
    """'Små' / 'Mellanstora' / 'Stora' (legends, tables); other codes as stored."""
    key = f"size_short_{size_group}"
    text = t(key, lang)
    return str(size_group) if text == key else text


AXIS_STYLE = {"showgrid": True, "gridcolor": "#e0e0e0", "zerolinecolor": "#9e9e9e", "automargin": True}


def _common_layout(lang: str, big: bool, source: str | None, height: int | None) -> dict:
    """The layout every chart shares (pure; base_layout and the plain-dict builders use it)."""
    size = 22 if big else 14
    layout = {
        "separators": formats.plotly_separators(lang),
        "font": {"family": FONT, "size": size, "color": "#1a1a1a"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 10, "r": 20, "t": 60 if big else 40, "b": (130 if big else 90) if source else 40},
        "hoverlabel": {"font": {"size": size}},
    }
    if height:
        layout["height"] = height
    return layout


def _source_note(source: str, big: bool) -> dict:
    """The source line drawn under the plot (an annotation, so an exported image keeps it)."""
    size = 22 if big else 14
    return {"text": source, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "yshift": -70 if not big else -95,
            "xanchor": "left", "yanchor": "top", "showarrow": False, "align": "left",
            "font": {"size": max(11, size - 6), "color": GREY}}


def base_layout(fig: go.Figure, lang: str = "sv", *, big: bool = False, source: str | None = None,
                height: int | None = None) -> go.Figure:
    """Common layout: locale separators, readable fonts, white background, optional source line."""
    fig.update_layout(_common_layout(lang, big, source, height))
    fig.update_xaxes(AXIS_STYLE)
    fig.update_yaxes(AXIS_STYLE)
    if source:
        fig.add_annotation(_source_note(source, big))
    return fig


def empty_figure(message: str, lang: str = "sv") -> go.Figure:
    """A blank figure that says why it is blank (never an empty axis without explanation)."""
    fig = go.Figure()
    fig.add_annotation(text=message, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
                       font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, lang, height=240)


# --------------------------------------------------------------------------- statistics


def association_in_words(r: float, p: float, lang: str = "sv", alpha: float = 0.05) -> str:
    """Pearson r and p in plain words, e.g. 'Inget tydligt samband (r = 0,04; p = 0,52)'.

    'Tydligt' means significant at `alpha`; strength follows the usual rule of thumb
    (|r| < 0,3 weak, < 0,5 moderate, else strong)."""
    if r is None or p is None or math.isnan(r) or math.isnan(p):
        return t("assoc_too_few", lang)
    nums = f"(r = {formats.number(r, 2, lang)}; {_p_text(p, lang)})"
    if p >= alpha:
        return t("assoc_none", lang, nums=nums)
    a = abs(r)
    strength = "weak" if a < 0.3 else ("moderate" if a < 0.5 else "strong")
    direction = "positive" if r > 0 else "negative"
    return t(f"assoc_{strength}_{direction}", lang, nums=nums)


def _p_text(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < " + formats.number(0.001, 3, lang)
    return "p = " + formats.number(p, 2 if p >= 0.01 else 3, lang)


# --------------------------------------------------------------------------- /kostnad


def deviation_colour(value: float) -> str:
    """Study's convention: above standard cost (positive) red, below (negative) green."""
    return RED if value > 0 else GREEN


def deviation_label(value: float, lang: str = "sv") -> str:
    """Bar label that carries the meaning without colour: sign, value and 'över/under'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("missing", lang)
    sign = "+" if value > 0 else ("\u2212" if value < 0 else "\u00b1")
    mag = formats.percent(abs(value), 1, lang)
    key = "dev_above" if value > 0 else "dev_below" if value < 0 else "dev_equal"
    return t(key, lang, value=f"{sign}{mag}")


def top_by_composite(composite: pd.DataFrame, deviation: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The n best municipalities by composite rank that have a cost deviation, best first.

    composite: municipality_code, name, rank; deviation: municipality_code, deviation_pct, method."""
    df = composite.merge(deviation, on="municipality_code", how="inner")
    df = df.dropna(subset=["deviation_pct"]).sort_values("rank", kind="stable")
    return df.head(n).reset_index(drop=True)


def diagram1(df: pd.DataFrame, lang: str = "sv", source: str | None = None, title: str | None = None) -> go.Figure:
    """Seed 003's Diagram 1 rebuilt: % deviation from standard cost for the best municipalities.

    df: name, deviation_pct, rank (best first). Horizontal bars, rank 1 on top."""
    if df.empty:
        return empty_figure(t("fig_no_cost_data", lang), lang)
    values = df["deviation_pct"].astype(float).tolist()
    labels = [f"{int(r)}. {nm}" for r, nm in zip(df["rank"], df["name"])]
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h",
        marker={"color": [deviation_colour(v) for v in values]},
        text=[deviation_label(v, lang) for v in values],
        textposition="outside", cliponaxis=False,
        textfont={"size": 13, "color": "#1a1a1a"},
        hovertemplate="%{y}: %{x:.1f} %<extra></extra>",
    ))
    span = max(abs(v) for v in values) if values else 1.0
    pad = span * 1.9 + 1  # room for the outside labels on both sides
    fig.update_xaxes(range=[-pad if min(values) < 0 else -span * 0.3 - 1, pad if max(values) > 0 else span * 0.3 + 1],
                     title=t("fig_deviation_axis", lang),
                     zeroline=True, zerolinewidth=2, zerolinecolor="#1a1a1a")
    fig.update_yaxes(autorange="reversed", showgrid=False)
    if title:
        fig.update_layout(title={"text": title, "x": 0})
    return base_layout(fig, lang, source=source, height=max(360, 34 * len(df) + 160))


def cost_scatter(df: pd.DataFrame, lang: str = "sv", source: str | None = None,
                 line: dict | None = None, title: str | None = None) -> go.Figure:
    """Composite (x) vs cost deviation % (y), one dot per municipality, with the OLS line.

    df: municipality_code, name, composite, deviation_pct[, size_group]. line: {"slope",
    "intercept"} of deviation on composite as the quality_associations mart stores it (test
    ols_line_cost_deviation): drawn across the dots, not fitted here. title: the association in
    words (from the mart's Pearson row)."""
    d = df.dropna(subset=["composite", "deviation_pct"])
    if d.empty:
        return empty_figure(t("fig_no_values", lang), lang)
    fig = go.Figure()
    symbols = {"small": "circle", "medium": "square", "large": "diamond"}
    groups = d["size_group"].unique().tolist() if "size_group" in d else [None]
    for g in [g for g in SIZE_GROUPS if g in groups] + [g for g in groups if g not in SIZE_GROUPS]:
        part = d if g is None else d[d["size_group"] == g]
        fig.add_trace(go.Scatter(
            x=part["composite"], y=part["deviation_pct"], mode="markers",
            name=size_group_short(g, lang) if g else "",
            marker={"size": 8, "symbol": symbols.get(g, "circle"), "opacity": 0.75,
                    "line": {"width": 0.5, "color": "white"}},
            text=part.get("name"), hovertemplate="%{text}<br>%{x:.2f}; %{y:.1f} %<extra></extra>",
        ))
    if line and line.get("slope") is not None and line.get("intercept") is not None:
        # the stored line, drawn from the leftmost to the rightmost dot
        xs = np.array([d["composite"].min(), d["composite"].max()], dtype=float)
        fig.add_trace(go.Scatter(x=xs, y=line["intercept"] + line["slope"] * xs, mode="lines",
                                 name=t("fig_ols_line", lang),
                                 line={"color": "#1a1a1a", "width": 3, "dash": "dash"}))
    fig.update_xaxes(title=t("fig_composite_axis", lang))
    fig.update_yaxes(title=t("fig_deviation_axis", lang),
                     zeroline=True, zerolinewidth=2)
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
                      title={"text": title or "", "x": 0, "font": {"size": 15}})
    fig = base_layout(fig, lang, source=source, height=540)
    fig.update_layout(margin={"t": 90})   # title line above the legend row
    return fig


# --------------------------------------------------------------------------- /statsbidrag


def uptake_by_group_bar(df: pd.DataFrame, lang: str = "sv", source: str | None = None) -> go.Figure:
    """df: round, size_group, uptake_pct (granted / frame, %). Grouped bars per round."""
    if df.empty:
        return empty_figure(t("fig_no_grant_data", lang), lang)
    fig = go.Figure()
    patterns = {"small": "", "medium": "/", "large": "."}  # pattern as well as colour
    colours = {"small": "#1F4E8C", "medium": "#A65A00", "large": "#1E7B34"}
    for g in SIZE_GROUPS:
        part = df[df["size_group"] == g]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            x=part["round"], y=part["uptake_pct"], name=size_group_short(g, lang),
            marker={"color": colours[g], "pattern": {"shape": patterns[g]}},
            text=[formats.percent(v, 0, lang) for v in part["uptake_pct"]], textposition="outside",
            hovertemplate="%{x}: %{y:.1f} %<extra></extra>",
        ))
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    fig.update_yaxes(title=t("fig_uptake_axis", lang), rangemode="tozero")
    fig.update_xaxes(title=t("grant_round", lang), type="category")
    return base_layout(fig, lang, source=source, height=440)


def uptake_map(df: pd.DataFrame, geojson: dict | str, lang: str = "sv", source: str | None = None) -> go.Figure:
    """Choropleth of uptake % per municipality. df: municipality_code, name, uptake_pct."""
    if df.empty:
        return empty_figure(t("fig_no_grant_data", lang), lang)
    # A geo choropleth (SVG, no map tiles): works offline and under the app's CSP, and needs
    # no MapLibre/WebGL in the dashboard's plotly.js (dashboard/plotly_bundle.py).
    fig = go.Figure(go.Choropleth(
        geojson=geojson, locations=df["municipality_code"], z=df["uptake_pct"], featureidkey="properties.id",
        text=df["name"], colorscale="Blues", zmin=0, zmax=max(100.0, float(df["uptake_pct"].max() or 0)),
        marker={"line": {"width": 0.4, "color": "#555"}},
        colorbar={"title": {"text": "%"}, "thickness": 14},
        hovertemplate="%{text}: %{z:.0f} %<extra></extra>",
    ))
    fig.update_layout(geo={"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"}},
                      dragmode=False)
    fig = base_layout(fig, lang, source=source, height=720)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 10, "b": 90 if source else 10})
    return fig


# --------------------------------------------------------------------------- /trender


PERCENT_UNITS = ("%",)
KEEP = "keep"        # annotations with this name stay on screen (for_screen); the rest is export-only


def is_percent(unit: str | None) -> bool:
    return (unit or "").strip() in PERCENT_UNITS


def _nice_step(span: float) -> float:
    """A 1-2-5 step giving about five ticks over span (pure)."""
    raw = span / 5 if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)


def value_axis(values, unit: str | None) -> dict | None:
    """The y-axis of a committee chart (pure): {'range': [y0, y1], 'from_zero': bool}.

    A percentage starts at 0 (a 90–95 % axis makes noise look dramatic); any other unit starts
    at 0 too when that costs little (the lowest value minus a margin reaches 0), else at a round
    number below the lowest value, and the chart says so ('axeln börjar vid …'). None when a
    value is negative or there is none (Plotly's own range then)."""
    v = [float(x) for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not v or min(v) < 0:
        return None
    lo, hi = min(v), max(v)
    span = hi - lo if hi > lo else (abs(hi) or 1.0)
    pad = span * 0.1
    top = hi + pad if hi > 0 else 1.0
    if is_percent(unit) or lo - 2 * pad <= 0:
        return {"range": [0.0, top], "from_zero": True}
    step = _nice_step(span)
    y0 = math.floor((lo - pad) / step) * step
    if y0 <= 0:
        return {"range": [0.0, top], "from_zero": True}
    return {"range": [y0, top], "from_zero": False}


def _has(d: pd.DataFrame, col: str) -> bool:
    return col in d and d[col].notna().any()


def _national_hover(d: pd.DataFrame, unit: str | None, lang: str) -> list[str]:
    """Per year: 'Riket (medel): 16,8 %, medel över 289 av 290 kommuner' (+ the < 90 % note)."""
    out = []
    for r in d.itertuples():
        text = f"{r.year}: {t('fig_national_mean', lang)} {formats.with_unit(r.national_mean, unit, lang)}"
        n, total = getattr(r, "national_n", None), getattr(r, "n_municipalities", None)
        if n is not None and total is not None and not pd.isna(n) and not pd.isna(total):
            text += "<br>" + t("trender_national_n", lang, n=int(n), total=int(total))
        if bool(getattr(r, "low_coverage", False) is True):
            text += "<br>" + t("trender_low_coverage", lang)
        out.append(text)
    return out


@functools.cache
def _template() -> dict:
    """The default template as the JSON a go.Figure would send with it (built once; shared by
    every figure dict, never changed)."""
    import plotly.io as pio

    return pio.templates[pio.templates.default].to_plotly_json()


def _floats(col) -> list:
    """A column as JSON-ready numbers (None for missing: a gap in the line, as Plotly draws NaN)."""
    return [None if pd.isna(x) else float(x) for x in col]


def trend_figure(values: pd.DataFrame, title: str, unit: str | None, lang: str = "sv", **kwargs) -> go.Figure:
    """trend_spec as a go.Figure (tests, notebooks; the page and the PDF use the dict)."""
    return go.Figure(trend_spec(values, title, unit, lang, **kwargs))


def trend_spec(values: pd.DataFrame, title: str, unit: str | None, lang: str = "sv", *,
               municipality_name: str = "", group_label: str | None = None,
               source: str | None = None, big: bool = True, is_demo: bool = False,
               breaks: list[tuple[int, str]] | None = None) -> dict:
    """Committee chart as a plain Plotly figure dict: the municipality's line with size-group
    and national means.

    A dict, not a go.Figure: graph_objects validates every property as it is set, which cost
    ~25 ms a chart, most of the time a municipality change on /trender took on the server.

    values: year, value[, group_mean, national_mean, similar_mean, national_n, n_municipalities,
    low_coverage] (the kpi_reference_series mart's n and coverage of the national mean). Thick
    lines and large type so it reads on a projector; references are dashed/dotted so they differ
    without colour too. A year whose national mean covers under 90 % of the municipalities gets
    an open square (and says so on hover). breaks: (year, note) of known definition changes,
    drawn as a dashed vertical line before the year with the words 'Ändrad definition <year>'.
    The y-axis follows value_axis (percentages from 0; otherwise a note where it starts)."""
    d = values.sort_values("year")
    if d.empty or d["value"].dropna().empty:
        return empty_figure(t("missing", lang).capitalize(), lang).to_plotly_json()
    lw = 6 if big else 3
    ms = 14 if big else 8
    years = [int(y) for y in d["year"]]
    traces = []
    if _has(d, "national_mean"):
        low = (d["low_coverage"].fillna(False).astype(bool).tolist() if "low_coverage" in d
               else [False] * len(d))
        traces.append({"type": "scatter", "x": years, "y": _floats(d["national_mean"]), "mode": "lines+markers",
                       "name": t("fig_national_mean", lang),
                       "line": {"color": GREY, "width": lw - 2, "dash": "dot"},
                       "marker": {"size": [ms if x else ms - 4 for x in low],
                                  "symbol": ["square-open" if x else "square" for x in low],
                                  "line": {"width": 2, "color": GREY}},
                       "customdata": _national_hover(d, unit, lang),
                       "hovertemplate": "%{customdata}<extra></extra>"})
    if _has(d, "group_mean"):
        traces.append({"type": "scatter", "x": years, "y": _floats(d["group_mean"]), "mode": "lines+markers",
                       "name": group_label or t("fig_group_mean", lang),
                       "line": {"color": ORANGE, "width": lw - 2, "dash": "dash"},
                       "marker": {"size": ms - 4, "symbol": "diamond"}})
    if _has(d, "similar_mean"):
        traces.append({"type": "scatter", "x": years, "y": _floats(d["similar_mean"]), "mode": "lines+markers",
                       "name": t("fig_similar_mean", lang),
                       "line": {"color": PURPLE, "width": lw - 2, "dash": "dashdot"},
                       "marker": {"size": ms - 4, "symbol": "triangle-up"}})
    own_name = municipality_name or t("fig_the_municipality", lang)
    shown_breaks = sorted((int(y), note) for y, note in (breaks or [])
                          if d["year"].min() < int(y) <= d["year"].max())
    own_hover = []
    for r in d.itertuples():
        text = f"{r.year}: {own_name} {formats.with_unit(r.value, unit, lang)}"
        for y, _note in shown_breaks:
            if r.year == y:
                text += "<br>" + t("trender_break_hover", lang, year=y)
        own_hover.append(text)
    traces.append({"type": "scatter", "x": years, "y": _floats(d["value"]), "mode": "lines+markers",
                   "name": own_name, "line": {"color": BLUE, "width": lw}, "marker": {"size": ms},
                   "customdata": own_hover, "hovertemplate": "%{customdata}<extra></extra>"})
    # between the last year counted the old way and the first counted the new way
    shapes = [{"type": "line", "xref": "x", "yref": "y domain", "x0": y - 0.5, "x1": y - 0.5, "y0": 0, "y1": 1,
               "line": {"color": "#1a1a1a", "width": 3, "dash": "dash"}} for y, _note in shown_breaks]
    annotations = [{"x": y - 0.5, "xref": "x", "y": 1, "yref": "paper", "yanchor": "top", "xanchor": "left",
                    "xshift": 6, "text": t("trender_break_label", lang, year=y), "showarrow": False, "name": KEEP,
                    "font": {"size": 18 if big else 12, "color": "#1a1a1a"}, "bgcolor": "rgba(255,255,255,0.85)"}
                   for y, _note in shown_breaks]
    yaxis = {**({"title": {"text": unit}} if unit else {}), "exponentformat": "none", "separatethousands": True}
    drawn = [d[c] for c in ("value", "group_mean", "national_mean", "similar_mean") if c in d]
    axis = value_axis([x for col in drawn for x in col.tolist()], unit)
    if axis:
        yaxis["range"] = list(axis["range"])
        if not axis["from_zero"]:
            annotations.append({"text": axis_note(axis, unit, lang), "xref": "paper", "yref": "paper", "x": 0, "y": 0,
                                "xanchor": "left", "yanchor": "bottom", "showarrow": False, "name": KEEP,
                                "font": {"size": 16 if big else 11, "color": "#1a1a1a"},
                                "bgcolor": "rgba(255,255,255,0.85)"})
    if source:
        annotations.append(_source_note(source, big))
    heading = title + (f" ({t('demo', lang)})" if is_demo else "")
    layout = _common_layout(lang, big, source, 620 if big else 420)
    layout["margin"]["t"] = 140 if big else 90
    layout.update({
        "template": _template(),
        "title": {"text": heading, "x": 0, "y": 0.97, "yanchor": "top", "font": {"size": 28 if big else 16}},
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        "xaxis": {"dtick": 1, "tickformat": "d", **AXIS_STYLE},
        "yaxis": {**yaxis, **AXIS_STYLE},
    })
    if shapes:
        layout["shapes"] = shapes
    if annotations:
        layout["annotations"] = annotations
    return {"data": traces, "layout": layout}


def axis_note(axis: dict | None, unit: str | None, lang: str = "sv") -> str:
    """'Axeln börjar vid 7 000 kr/inv, inte vid 0.' for an axis that does not start at 0; ''."""
    if not axis or axis["from_zero"]:
        return ""
    return t("trender_axis_from", lang, v=formats.with_unit(axis["range"][0], unit, lang))


def figure_dict(fig: go.Figure | dict) -> dict:
    """A figure as the plain dict Dash and plotly.js take (a dict is returned as it is)."""
    return fig.to_plotly_json() if isinstance(fig, go.Figure) else fig


def for_screen(fig: go.Figure | dict) -> dict:
    """The on-screen variant of an export figure, as a figure dict: the page shows title and
    source as HTML text next to the chart, so drop them from the figure (the PNG/PDF keeps
    them); what is part of the chart itself (a definition-change label, the axis note:
    annotations named KEEP) stays."""
    spec = figure_dict(fig)
    layout = {k: v for k, v in spec["layout"].items() if k != "title"}
    keep = [a for a in layout.get("annotations") or () if a.get("name") == KEEP]
    if keep:
        layout["annotations"] = keep
    else:
        layout.pop("annotations", None)
    layout["margin"] = {**(layout.get("margin") or {}), "t": 50, "b": 40}
    return {"data": spec["data"], "layout": layout}


EXPORT_WIDTH, EXPORT_HEIGHT = 1400, 800


def export_spec(fig: go.Figure | dict, filename: str, fail_text: str = "") -> dict:
    """What the browser needs to turn the on-screen chart (for_screen) into the exported PNG:
    the export figure's title, source line, legend and fonts, margins that keep the title off
    the image's edge, the pixel size and the file name (without .png)."""
    lay = figure_dict(fig)["layout"]
    keep = {k: lay[k] for k in ("title", "annotations", "legend", "font", "height") if k in lay}
    margin = dict(lay.get("margin") or {})
    margin["l"] = max(int(margin.get("l") or 0), 96)   # room for the y-axis title too
    margin["r"] = max(int(margin.get("r") or 0), 48)
    keep["margin"] = margin
    title = dict(keep.get("title") or {})
    if title:
        # 'container' x = 0 would put the first letter on the edge: start at the plot's left margin
        title.update({"xref": "paper", "x": 0, "xanchor": "left"})
        keep["title"] = title
    keep["height"] = EXPORT_HEIGHT
    keep["width"] = EXPORT_WIDTH
    return {"layout": keep, "width": EXPORT_WIDTH, "height": EXPORT_HEIGHT, "filename": filename,
            "fail": fail_text}


def figure_png(fig: go.Figure, width: int = 1400, height: int = 800, scale: float = 1.0) -> bytes:
    """Render a figure to PNG with kaleido 1.x (needs a Chrome; see dashboard.report.ensure_browser)."""
    from dashboard.report import ensure_browser

    ensure_browser()
    return fig.to_image(format="png", width=width, height=height, scale=scale)
