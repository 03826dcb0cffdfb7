"""The PDF "nämndrapport" for /trender: cover, scorecard summary of the four Balansen
perspectives, one page per trend chart, sources.

Charts are rendered to PNG by kaleido 1.x (which drives a system Chrome/Chromium, kept open per
process by ``ChartRenderer``) and the pages
are assembled with fpdf2. ``assemble_pdf`` is pure (bytes in, bytes out) so it is testable
without a browser; ``build_report`` adds the kaleido step.
"""
from __future__ import annotations

import atexit
import functools
import io
import json
import os
import shutil
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from dashboard.cache import ByteLRU
from dashboard.data import PERSPECTIVES
from dashboard.scorecard_rules import target_summary
from dashboard.i18n import perspective_label, t

# the screen's status icons (dashboard/components.py), text from the catalogue
STATUS_ICON = {"better": "▲", "worse": "▼", "same": "●", "no_direction": "–", None: "?"}
# Plain-ASCII fallbacks when no Unicode font is available (core PDF fonts are Latin-1 only).
_ASCII = {"▲": "+", "▼": "-", "●": "=", "?": "?", "△": "+", "▽": "-", "○": "=", "✓": "OK", "✗": "X", "≈": "~", "–": "-", "—": "-", "\u2212": "-", "\u00a0": " ", "≤": "<=", "≥": ">="}

# A Chromium start takes 1-5 s (more on a busy machine); one that has not opened by then is
# taken as hung and started again (ChartRenderer._render_uncached).
START_TIMEOUT = 20.0

# Rendered chart images kept per process (~0,1 MB each): a repeated PDF skips Chromium.
CHART_CACHE_BYTES = 16 << 20

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def ensure_browser() -> str | None:
    """Point kaleido at a Chrome before rendering.

    kaleido 1.x does not ship a browser; choreographer looks at the BROWSER_PATH environment
    variable first and then PATH (chromium, google-chrome ...). It starts Chrome with
    --no-sandbox by default (enable_sandbox=False), which is what running as root needs."""
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"]
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"):
        if Path(candidate).exists():
            os.environ["BROWSER_PATH"] = candidate
            return candidate
    found = shutil.which("chromium") or shutil.which("google-chrome")
    if found:
        os.environ["BROWSER_PATH"] = found
    return found


class ChartRenderer:
    """One kaleido (one headless Chromium, two tabs) kept open in a background event loop, so a
    PDF's charts cost a render each (~0,1 s, two at a time) instead of a Chromium start
    (~2–4 s) per request. One per process (`renderer()`): gunicorn workers each get their own,
    started right after the fork (`warm_after_fork`); one report renders at a time per process
    (a lock), and a failed or hung browser is closed and started again on the next call.

    Three things kaleido does by default that a PDF request should not pay for:
    - its page loads MathJax from a CDN on every tab load; ours does not (no LaTeX anywhere).
      It keeps the package's full plotly.js (4,8 MB): with the dashboard's 1,4 MB bundle the
      page loaded so fast that kaleido's first navigation now and then missed the load event
      and the start hung (seen under load); the reloads it would speed up are off the path;
    - it reloads a tab after every chart, before handing back the image (~0,2–0,4 s each,
      re-parsing plotly.js); here the tabs are reloaded after a report, in the background;
    - the same figure is rendered again: images are kept by the figure's JSON (`cache`), so a
      second PDF of the same charts skips Chromium."""

    def __init__(self, timeout: float = 60.0, tabs: int = 2, cache_bytes: int = CHART_CACHE_BYTES):
        self.timeout = timeout
        self.tabs = tabs
        self.cache = ByteLRU(cache_bytes)
        self._lock = threading.Lock()
        self._loop = None
        self._kaleido = None

    def _run(self, coro, timeout=None):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout or self.timeout)

    def _start(self) -> None:
        import asyncio

        import kaleido

        ensure_browser()
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="kaleido", daemon=True).start()
        self._loop = loop

        async def open_():
            k = kaleido.Kaleido(n=self.tabs, mathjax=False)
            await k.open()
            return k
        try:
            self._kaleido = self._run(open_(), START_TIMEOUT)
        except BaseException:
            self._stop()
            raise

    def _stop(self) -> None:
        k, loop = self._kaleido, self._loop
        self._kaleido = self._loop = None
        if loop is None:
            return
        if k is not None:
            try:
                asyncio_run = __import__("asyncio").run_coroutine_threadsafe
                asyncio_run(k.close(), loop).result(3)   # a blocked loop never closes it
            except Exception:  # noqa: BLE001 - closing a broken browser: best effort
                pass
        loop.call_soon_threadsafe(loop.stop)

    def warm(self) -> None:
        """Start the browser now (in the background, before the first PDF) and render a tiny
        chart on every tab: a fresh tab's first chart costs plotly.js's first-run work."""
        with self._lock:
            if self._kaleido is not None:
                return
            self._start()
            import plotly.graph_objects as go

            tiny = [go.Figure(go.Scatter(x=[0, 1], y=[i, 1])) for i in range(self.tabs)]
            opts = {"format": "png", "width": 200, "height": 100, "scale": 1.0}
            self._run(_render_batch(self._kaleido, self.tabs, tiny, opts, self.timeout))

    def render(self, figs: list, width: int = 1400, height: int = 800, scale: float = 1.0) -> list[bytes]:
        opts = {"format": "png", "width": width, "height": height, "scale": scale}
        keys = [_figure_key(f, opts) for f in figs]
        out = [self.cache.get(k) for k in keys]
        todo = [i for i, png in enumerate(out) if png is None]
        if todo:
            for i, png in zip(todo, self._render_uncached([figs[i] for i in todo], opts)):
                out[i] = png
                self.cache.set(keys[i], png)
        return out

    def _render_uncached(self, figs: list, opts: dict) -> list[bytes]:
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._kaleido is None:
                        self._start()
                    return list(self._run(_render_batch(self._kaleido, self.tabs, figs, opts, self.timeout)))
                except Exception:
                    # a crashed or stuck Chromium, or a start that hung (kaleido 1.5 / choreographer
                    # 1.4 now and then block their event loop while opening, under load): afresh once
                    self._stop()
                    if attempt == 2:
                        raise
        return []

    def close(self, wait: float = -1) -> None:
        """Close the browser; `wait` > 0: give up after that many seconds when a start or render
        holds the lock (at exit: a worker stopped while its Chromium starts must not hang
        until gunicorn kills it; the browser ends with the process's pipes)."""
        if not self._lock.acquire(timeout=wait):
            return
        try:
            self._stop()
        finally:
            self._lock.release()


def _figure_key(fig, opts: dict) -> str:
    """The cache key of a rendered figure: its full JSON and the image options (a figure is
    built from the warehouse, so a changed warehouse gives other JSON, never a stale image)."""
    import hashlib

    import plotly.io as pio

    text = pio.to_json(fig, validate=False) + json.dumps(opts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


async def _render_batch(k, n_tabs: int, figs: list, opts: dict, timeout: float) -> list[bytes]:
    """Render `figs` on the kaleido's tabs (side by side; Chromium's processes use both cores),
    in order. Each tab renders chart after chart without a reload; afterwards each is reloaded
    in the background (a clean page for the next report, kaleido's own hygiene) and only then
    handed back, so a report that follows at once waits for that, not for a restart."""
    import asyncio

    if not _direct_tab_render():   # another kaleido: its public call (a reload per chart)
        return list(await asyncio.gather(*(k.calc_fig(f, opts=opts) for f in figs)))
    tabs = [await k.tabs_ready.get() for _ in range(min(len(figs), n_tabs))]
    free: asyncio.Queue = asyncio.Queue()
    for tab in tabs:
        free.put_nowait(tab)

    async def one(fig):
        tab = await free.get()
        try:
            return await asyncio.wait_for(_render_on_tab(tab, fig, opts), timeout)
        finally:
            free.put_nowait(tab)
    try:
        return list(await asyncio.gather(*(one(f) for f in figs)))
    finally:
        for tab in tabs:
            task = asyncio.ensure_future(_reload_and_return(k, tab))
            _RELOADS.add(task)                       # the loop keeps only weak references
            task.add_done_callback(_RELOADS.discard)


_RELOADS: set = set()


async def _render_on_tab(tab, fig, opts: dict) -> bytes:
    """kaleido 1.5's per-tab render (what Kaleido.calc_fig does, minus the reload)."""
    from kaleido import _profiler
    from kaleido._utils import fig_tools

    spec = fig_tools.coerce_for_js(fig, None, opts)
    profile = _profiler.RenderTaskProfile(spec, None, tab.tab.target_id)
    return await tab._calc_fig(spec, topojson=None, render_prof=profile, stepper=False)


async def _reload_and_return(k, tab) -> None:
    try:
        await tab.reload()
    except Exception:  # noqa: BLE001 - a dead tab: the next render fails and restarts Chromium
        pass
    await k.tabs_ready.put(tab)


@functools.lru_cache(maxsize=1)
def _direct_tab_render() -> bool:
    """True when the installed kaleido has the per-tab calls `_render_on_tab` uses (kaleido is
    pinned; after an upgrade without them the public calc_fig path is used)."""
    try:
        from kaleido import _profiler
        from kaleido._kaleido_tab import _KaleidoTab
        from kaleido._utils import fig_tools
    except ImportError:
        return False
    return all((hasattr(_KaleidoTab, "_calc_fig"), hasattr(_KaleidoTab, "reload"),
                hasattr(fig_tools, "coerce_for_js"), hasattr(_profiler, "RenderTaskProfile")))


_RENDERERS: dict[int, ChartRenderer] = {}
_RENDERERS_LOCK = threading.Lock()


def renderer() -> ChartRenderer:
    """This process's chart renderer (a new one after a fork)."""
    pid = os.getpid()
    with _RENDERERS_LOCK:
        r = _RENDERERS.get(pid)
        if r is None:
            r = _RENDERERS[pid] = ChartRenderer()
            atexit.register(r.close, 2.0)
        return r


def warm_renderer_in_background() -> None:
    """Start this process's Chromium in a thread (no-op once started), so the first PDF does
    not wait for it. `STYRKORT_PDF_WARM=0` leaves it to the first PDF (saves a Chromium's memory
    per worker where nobody makes PDFs)."""
    if os.environ.get("STYRKORT_PDF_WARM", "").strip() == "0" or os.getpid() == _NO_WARM_PID:
        return
    r = renderer()
    if r._kaleido is None and not r._lock.locked():
        threading.Thread(target=lambda: _quietly(_warm_all, r), name="kaleido-warm", daemon=True).start()


def _warm_all(r: ChartRenderer) -> None:
    r.warm()
    _Pdf()   # fpdf2 and fontTools imported, the fonts read once (their files in the page cache)


_NO_WARM_PID: int | None = None


def no_warm_in_this_process() -> None:
    """This process (gunicorn's master under --preload) never starts a Chromium, not even when
    it renders pages before the fork (/trender's layout asks for one): a browser's pipes and
    threads do not survive a fork. Its forked workers still do (another pid)."""
    global _NO_WARM_PID
    _NO_WARM_PID = os.getpid()


def warm_after_fork() -> None:
    """Start the Chromium of every process forked from this one (gunicorn's workers under
    --preload) as soon as it exists, in the background: the first PDF a worker answers then
    costs the renders only, not a browser start (1,5–4 s). Never in this (master) process:
    a browser's pipes and threads do not survive a fork."""
    no_warm_in_this_process()
    os.register_at_fork(after_in_child=warm_renderer_in_background)


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - no browser: the PDF says so when asked for
        pass


def render_pngs(figs: list, width: int = 1400, height: int = 800, scale: float = 1.0) -> list[bytes]:
    """Render figures to PNG with the process's kept-open kaleido (ChartRenderer)."""
    if not figs:
        return []
    return renderer().render(figs, width, height, scale)


@dataclass
class Chart:
    title: str
    png: bytes
    caption: str = ""          # source and years, "demo"/"modellerad" where relevant
    verdict: str = ""          # trend verdict in words
    notes: list = field(default_factory=list)   # the screen's notes under the chart: axis start,
    # years of low coverage, definition changes ((heading, note) pairs); trender.chart_notes


@dataclass
class ReportContent:
    """scorecard: one row per KPI of the screen's panels (dashboard.data.panel_rows) with
    perspective, title, value (raw, None = uppgift saknas), value_text, reference_text, status."""
    municipality_code: str
    municipality_name: str
    year: int | None
    lang: str = "sv"
    period_label: str = ""     # shown instead of the year when each KPI has its own year
    size_group_label: str = ""
    headline: list[tuple[str, str]] = field(default_factory=list)   # (label, value) on the cover
    scorecard: pd.DataFrame = field(default_factory=pd.DataFrame)
    # perspective -> the panel's counts (n, best, middle, worst, info) as the screen shows them:
    # the scorecard_status_counts mart, never counted here
    panel_counts: dict[str, dict] = field(default_factory=dict)
    # perspective -> the panel's target counts (n, achieved, near, not_achieved, no_direction) as
    # the screen shows them: the target_status_counts mart (None/absent: no target in the panel)
    target_counts: dict[str, dict | None] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    has_demo: bool = False
    created: date = field(default_factory=date.today)


class _Pdf:
    """Thin wrapper over fpdf2 that picks a Unicode font when one is installed."""

    def __init__(self):
        from fpdf import FPDF

        self.pdf = FPDF(orientation="L", unit="mm", format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(15, 15, 15)
        self.unicode = False
        for path in FONT_CANDIDATES:
            if Path(path).exists():
                bold = Path(path).with_name(Path(path).name.replace(".ttf", "-Bold.ttf").replace("-Regular-Bold", "-Bold"))
                self.pdf.add_font("Body", "", path)
                self.pdf.add_font("Body", "B", str(bold) if bold.exists() else path)
                self.unicode = True
                break
        self.family = "Body" if self.unicode else "Helvetica"

    def text(self, s: str) -> str:
        s = str(s)
        if self.unicode:
            return s
        for k, v in _ASCII.items():
            s = s.replace(k, v)
        return s.encode("latin-1", "replace").decode("latin-1")

    def font(self, size: float, bold: bool = False):
        self.pdf.set_font(self.family, "B" if bold else "", size)


def status_text(row: dict, lang: str) -> str:
    """The status as on screen: the row's `status_text` (dashboard.scorecard_rules.position_text:
    '▼ bland de 25 % sämsta, plats 250 av 290') when given; a KPI without a value in the year
    shown has no status ('? uppgift saknas')."""
    if row.get("status_text"):
        return str(row["status_text"])
    status = row.get("status") if row.get("value") is not None else None
    key = status if status in STATUS_ICON else None
    return f"{STATUS_ICON[key]} {t(f'status_{key}' if key else 'status_missing', lang)}"


def assemble_pdf(c: ReportContent, before_charts=None) -> bytes:
    """Build the committee report. Returns the PDF bytes. `before_charts()` is called after the
    cover and scorecard pages, before the chart pages need `c.charts[i].png` (build_report
    waits there for the renders it started, so Chromium and this layout work side by side)."""
    w = _Pdf()
    pdf, lang = w.pdf, c.lang
    pdf.set_title(w.text(f"{t('report_title', lang)} – {c.municipality_name}"))
    pdf.set_author("styrkort")
    pdf.set_creator("styrkort (fpdf2, kaleido)")
    _cover(w, c)
    _scorecard(w, c)
    if before_charts:
        before_charts()
    _charts(w, c)
    _sources(w, c)
    return bytes(pdf.output())


def _cover(w: _Pdf, c: ReportContent) -> None:
    pdf, lang = w.pdf, c.lang
    pdf.add_page()
    w.font(12)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 8, w.text(t("report_kicker", lang)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(25)
    pdf.set_text_color(20, 20, 20)
    w.font(40, bold=True)
    pdf.cell(0, 20, w.text(c.municipality_name), new_x="LMARGIN", new_y="NEXT")
    w.font(16)
    sub = f"{t('report_code', lang)} {c.municipality_code}"
    if c.size_group_label:
        sub += f" · {c.size_group_label}"
    if c.year:
        sub += f" · {t('report_year', lang)} {c.year}"
    elif c.period_label:   # the scorecard's "senaste": each KPI at its latest year
        sub += f" · {c.period_label}"
    pdf.cell(0, 10, w.text(sub), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    w.font(14)
    for label, value in c.headline:
        pdf.cell(90, 9, w.text(label))
        w.font(14, bold=True)
        pdf.cell(0, 9, w.text(value), new_x="LMARGIN", new_y="NEXT")
        w.font(14)
    pdf.ln(10)
    w.font(11)
    pdf.set_text_color(90, 90, 90)
    contents = t("report_contents", lang, n=len(c.charts))
    pdf.multi_cell(0, 6, w.text(contents), new_x="LMARGIN", new_y="NEXT")
    if c.has_demo:
        pdf.multi_cell(0, 6, w.text(t("report_demo_note", lang)),
            new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, w.text(f"{t('dl_about_created', lang)} {c.created.isoformat()} · styrkort"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(20, 20, 20)


def _scorecard(w: _Pdf, c: ReportContent) -> None:
    """The four perspectives as on /kommun: the panel's counts line, target line, KPI table."""
    pdf, lang = w.pdf, c.lang
    pdf.add_page()
    w.font(22, bold=True)
    pdf.cell(0, 12, w.text(t("report_scorecard_h", lang)),
             new_x="LMARGIN", new_y="NEXT")
    sc = c.scorecard if c.scorecard is not None else pd.DataFrame()
    if sc.empty:
        w.font(12)
        pdf.multi_cell(0, 7, w.text(t("report_no_scorecard", lang)),
                       new_x="LMARGIN", new_y="NEXT")
    else:
        for p in PERSPECTIVES:
            part = sc[sc["perspective"] == p]
            rows = part.to_dict("records")
            w.font(15, bold=True)
            pdf.ln(2)
            pdf.cell(0, 9, w.text(perspective_label(p, lang)), new_x="LMARGIN", new_y="NEXT")
            w.font(10)
            if part.empty:
                pdf.cell(0, 6, w.text(t("kommun_no_kpis", lang)), new_x="LMARGIN", new_y="NEXT")
                continue
            # the panel's own summary line: the same counts (the mart's) and words as on screen
            counts = c.panel_counts.get(p)
            line = (t("kommun_panel_summary", lang, **counts) if counts is not None
                    else t("mart_missing", lang, view="scorecard_status_counts"))
            pdf.multi_cell(0, 6, w.text(line), new_x="LMARGIN", new_y="NEXT")
            # target fulfilment: the screen's summary line and a column, when the panel has targets
            goals = target_summary(c.target_counts.get(p), lang)
            if goals:
                w.font(10, bold=True)
                pdf.multi_cell(0, 6, w.text(goals), new_x="LMARGIN", new_y="NEXT")
                w.font(10)
            head = [t("kommun_col_kpi", lang), t("kommun_col_value", lang), t("kommun_col_group", lang),
                    t("kommun_col_status", lang)]
            widths, align = (120, 40, 45, 62), ("LEFT", "RIGHT", "RIGHT", "LEFT")
            if goals:
                head.append(t("kommun_col_target", lang))
                widths, align = (92, 34, 36, 55, 50), align + ("LEFT",)
            with pdf.table(col_widths=widths, text_align=align, line_height=5.5,
                           first_row_as_headings=True) as table:
                table.row([w.text(x) for x in head])
                for r in rows:
                    cells = [w.text(r.get("title", "")), w.text(r.get("value_text", "")),
                             w.text(r.get("reference_text", "")), w.text(status_text(r, lang))]
                    if goals:
                        cells.append(w.text(r.get("target_text") or ""))
                    table.row(cells)


def _charts(w: _Pdf, c: ReportContent) -> None:
    """One page per trend chart: title, verdict, image, the screen's notes, caption."""
    pdf = w.pdf
    for ch in c.charts:
        pdf.add_page()
        w.font(18, bold=True)
        pdf.multi_cell(0, 9, w.text(ch.title), new_x="LMARGIN", new_y="NEXT")
        if ch.verdict:
            w.font(13)
            pdf.multi_cell(0, 7, w.text(ch.verdict), new_x="LMARGIN", new_y="NEXT")
        avail_h = pdf.h - pdf.get_y() - 28 - 5 * len(ch.notes)
        img_w = min(pdf.epw, avail_h * 1400 / 800)
        pdf.image(io.BytesIO(ch.png), x=pdf.l_margin, w=img_w)
        if ch.notes:
            w.font(10)
            for n in ch.notes:
                line = n if isinstance(n, str) else f"{n[0]} {n[1]}"
                pdf.multi_cell(0, 5, w.text("• " + line), new_x="LMARGIN", new_y="NEXT")
        if ch.caption:
            w.font(9)
            pdf.set_text_color(90, 90, 90)
            pdf.multi_cell(0, 5, w.text(ch.caption), new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(20, 20, 20)


def _sources(w: _Pdf, c: ReportContent) -> None:
    pdf, lang = w.pdf, c.lang
    pdf.add_page()
    w.font(22, bold=True)
    pdf.cell(0, 12, w.text(t("report_sources_h", lang)), new_x="LMARGIN", new_y="NEXT")
    w.font(11)
    for s in c.sources or [t("report_no_sources", lang)]:
        pdf.multi_cell(0, 6, w.text(f"• {s}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(4)
    pdf.multi_cell(0, 6, w.text(t("report_method_note", lang)), new_x="LMARGIN", new_y="NEXT")


def build_report(content: ReportContent, figs: list, progress=None) -> bytes:
    """Render `figs` (one per content.charts entry) with the process's kept-open kaleido and
    assemble. The renders run in Chromium while this thread lays out the cover and scorecard
    pages (fpdf2, ~0,2–0,4 s); the chart pages wait for them."""
    if progress:
        progress(1, 3)
    pending = _in_thread(render_pngs, figs)

    def charts_ready():
        for ch, png in zip(content.charts, pending.result()):
            ch.png = png
        if progress:
            progress(2, 3)
    out = assemble_pdf(content, before_charts=charts_ready)
    if progress:
        progress(3, 3)
    return out


def _in_thread(fn, *args) -> Future:
    """fn(*args) in a new daemon thread; its result or exception through the Future."""
    result: Future = Future()

    def run():
        try:
            result.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            result.set_exception(exc)
    threading.Thread(target=run, name="pdf-charts", daemon=True).start()
    return result
