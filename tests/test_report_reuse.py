"""The nämndrapport of /trender's PDF button is built once per municipality, KPIs, language and
day and handed out again until the warehouse file is swapped (a second click or a colleague's
same report costs nothing; a swapped warehouse is never answered from the old one)."""
from __future__ import annotations

import os
import shutil
import sys
from datetime import date

import pytest


@pytest.fixture
def trender(db_copy):
    from dashboard.app import create_app

    app = create_app(db_copy)
    with app.server.test_request_context("/trender"):
        yield sys.modules["pages.trender"]


def _swap(path):
    """Replace the warehouse the way build/import do: a copy renamed into place."""
    tmp = path.with_suffix(".new")
    shutil.copyfile(path, tmp)
    os.replace(tmp, path)


def test_the_same_report_is_built_once_until_the_warehouse_changes(trender, db_copy, monkeypatch):
    from dashboard import report as R

    built = []
    original = R.build_report
    monkeypatch.setattr(R, "build_report", lambda c, figs, **k: built.append(c.municipality_code) or original(c, figs, **k))
    # no KPIs chosen: the scorecard pages only, no Chromium needed for this
    day = date.today().isoformat()
    first, n = trender._report_pdf("1480", (), "sv", day)
    assert first[:5] == b"%PDF-" and n == 0
    assert trender._report_pdf("1480", (), "sv", day)[0] == first
    assert built == ["1480"]
    trender._report_pdf("1480", (), "en", day)
    trender._report_pdf("0180", (), "sv", day)
    assert built == ["1480", "1480", "0180"]
    _swap(db_copy)
    assert trender._report_pdf("1480", (), "sv", day)[0][:5] == b"%PDF-"
    assert built == ["1480", "1480", "0180", "1480"]
