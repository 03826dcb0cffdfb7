"""URL rules: an address that names something that does not exist answers HTTP 404.

Dash serves the same HTML shell for every path and renders the page in the browser, so without
this every address answered 200 ("/kommun/9999", "/finns/inte", "?year=1800"). `install(app)`
adds a Flask after_request hook that looks at each page request (GET, HTML) and turns the status
into 404 when

- the path matches no registered page (the shell then shows the friendly "Sidan finns inte"),
- /kommun/<code> names no municipality, /enhet/<unit_id> no unit,
- a query parameter names a municipality (`code`, `a`, `b`, `kommun`) or a unit (`unit_a`,
  `unit_b`) that does not exist,
- `year` is not a year the page has data for. A page says which years it offers with a module
  function ``valid_years(db, params) -> list[int] | None`` (None: the page cannot tell; then
  only a malformed year is refused). The page itself shows `year_notice(...)`, so the user
  reads why (and what is shown instead), while links and crawlers get the 404.

The body is unchanged: the browser still renders the page, which explains the problem in words.
"""
from __future__ import annotations

import logging
import re
import sys
from urllib.parse import unquote

import dash
from dash import html

from dashboard.i18n import t

MUNICIPALITY_PARAMS = ("code", "a", "b", "kommun")
UNIT_PARAMS = ("unit_a", "unit_b")
_SKIP_PREFIXES = ("/_dash", "/assets/", "/_favicon", "/_reload", "/_alive")

log = logging.getLogger("dashboard")


def match_page(path: str) -> tuple[dict | None, dict]:
    """The registered page for a path (trailing slash ignored) and its path variables."""
    path_id = path.strip("/")
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            pattern = "^" + re.sub(r"<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>[^/]+)",
                                   re.escape(template.strip("/")).replace(r"\<", "<").replace(r"\>", ">")) + "$"
            m = re.match(pattern, path_id)
            if m:
                return page, m.groupdict()
        elif path_id == page["path"].strip("/"):
            return page, {}
    return None, {}


def parse_year_param(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _unit_exists(db, unit_id: str) -> bool:
    ids = db._cached("unit_ids", lambda: frozenset(
        r[0] for r in (db.rows_view("org_units", "SELECT unit_id FROM org_units") or [])))
    return str(unit_id) in ids


def problem(db, path: str, args: dict) -> str | None:
    """Why this page address is not found, or None when it is fine. `args`: query parameters
    (first value of each)."""
    page, path_vars = match_page(path)
    if page is None:
        return "no such page"
    if page["path"].strip("/") == "404":
        return "the not-found page"
    if "code" in path_vars and not db.municipality(unquote(path_vars["code"])):
        return f"unknown municipality {path_vars['code']!r}"
    if "unit_id" in path_vars and not _unit_exists(db, unquote(path_vars["unit_id"])):
        return f"unknown unit {path_vars['unit_id']!r}"
    for name in MUNICIPALITY_PARAMS:
        value = args.get(name)
        if value and not db.municipality(value):
            return f"unknown municipality {name}={value!r}"
    for name in UNIT_PARAMS:
        value = args.get(name)
        if value and not _unit_exists(db, value):
            return f"unknown unit {name}={value!r}"
    if args.get("year"):
        year = parse_year_param(args["year"])
        if year is None:
            return f"malformed year {args['year']!r}"
        module = sys.modules.get(page.get("module", ""))
        valid_years = getattr(module, "valid_years", None)
        if valid_years is not None:
            years = valid_years(db, {**args, **{k: unquote(v) for k, v in path_vars.items()}})
            if years is not None and year not in years:
                return f"no data for year {year}"
    return None


def install(app) -> None:
    """Register the after_request hook on the app's Flask server."""
    from flask import request

    def not_found_status(response):
        if (request.method != "GET" or response.status_code != 200 or response.mimetype != "text/html"
                or request.path.startswith(_SKIP_PREFIXES)):
            return response
        try:
            from dashboard.data import get_db
            why = problem(get_db(), request.path, {k: v for k, v in request.args.items()})
        except Exception:  # noqa: BLE001 - a check that fails must not break the page
            log.exception("URL check failed for %s", request.full_path)
            return response
        if why:
            response.status_code = 404
        return response

    app.server.after_request(not_found_status)


# -- on the page ---------------------------------------------------------------------------------------

def year_notice(asked, years: list[int], shown: int | None, lang: str):
    """The message a page shows when ?year= asks for a year it has no data for; None otherwise.
    `shown`: the year the page shows instead (None: each indicator's latest value)."""
    if asked is None or asked == "" or not years:
        return None
    if isinstance(asked, list):
        asked = asked[0] if asked else None
    year = parse_year_param(asked)
    if year is not None and year in years:
        return None
    if shown is None:   # e.g. the scorecard's default: each indicator's latest value
        text = t("year_not_available_latest", lang, asked=str(asked)[:12], first=min(years), last=max(years))
    else:
        text = t("year_not_available", lang, asked=str(asked)[:12], first=min(years), last=max(years),
                 shown=shown)
    return html.Div(text, className="alert alert-warning mb-3 sk-year-notice", role="alert")
