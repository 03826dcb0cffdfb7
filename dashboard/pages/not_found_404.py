"""Any unknown path: a friendly page with a way back (never a traceback)."""
from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.i18n import get_lang, href, page_title, t

dash.register_page(__name__, path="/404", title=page_title("not_found_title"), name="404")


def layout(lang=None, **_):
    lang = get_lang({"lang": lang})
    return html.Div([
        html.H1(t("not_found_title", lang), className="h2"),
        html.P(t("not_found_text", lang, path="").replace("  ", " ")),
        dcc.Link(t("go_home", lang), href=href("/", lang), className="btn btn-primary"),
    ], className="py-4")
