"""The import templates of the unit pages as plain downloads: /enheter/mall/enheter.csv|.xlsx (the
unit register) and /enheter/mall/enhetsvarden.csv|.xlsx (monthly values; the Excel file lists the
unit KPIs the warehouse knows). The files are made by warehouse/units.py, the KPI list is read
from the public view unit_kpis; a Flask route, so a link (keyboard, no script) downloads it."""
from __future__ import annotations

from dashboard.i18n import get_lang, t

FILES = {"enheter.csv": ("units", "csv"), "enheter.xlsx": ("units", "xlsx"),
         "enhetsvarden.csv": ("values", "csv"), "enhetsvarden.xlsx": ("values", "xlsx")}
MIME = {"csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def template_bytes(db, name: str, lang: str = "sv") -> bytes | None:
    from warehouse.units import template_csv, template_xlsx

    which, fmt = FILES[name]
    if fmt == "csv":
        return template_csv(which)
    kpis = []
    rows = db.rows_view("unit_kpis", "SELECT kpi_id, title, unit, perspective, higher_is_better, frequency "
                                     "FROM unit_kpis WHERE NOT is_demo ORDER BY perspective, kpi_id") or []
    for r in rows:
        kpis.append(dict(zip(("kpi_id", "title", "unit", "perspective", "higher_is_better", "frequency"), r)))
    lines = [t(f"enheter_template_help_{i}", lang) for i in range(1, 6)]
    return template_xlsx(which, kpis, lines)


def install(app) -> None:
    from flask import Response, abort, request

    from dashboard.data import get_db

    @app.server.route("/enheter/mall/<name>")
    def unit_template(name):
        if name not in FILES:
            abort(404)
        data = template_bytes(get_db(), name, get_lang(request.args.to_dict()))
        return Response(data, mimetype=MIME[FILES[name][1]],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
