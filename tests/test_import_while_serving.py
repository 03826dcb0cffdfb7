"""`styrkort import kolada` and `styrkort refresh` while `styrkort serve --prod` serves the same
warehouse: both succeed (the new warehouse is written beside the served one and swapped in), no
request fails meanwhile, and the first page request after the swap shows the new value."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time

import pytest

from test_web_hardening import REPO, _serve, _stop, request, valid_body

pytestmark = pytest.mark.slow
NEW_VALUE = re.compile(r"9\D{0,3}876\D{0,3}543")     # 9876543 as the page formats it (sv-SE spaces)


def _text(payload: bytes) -> str:
    """A callback response as text with its escapes undone (\\u00a0 -> a non-breaking space)."""
    return json.dumps(json.loads(payload), ensure_ascii=False)


def _page_body(callbacks, path: str) -> bytes:
    cb = next(c for c in callbacks if "_pages_content.children" in c["output"])
    body = valid_body(cb)
    body["inputs"][0]["value"], body["inputs"][1]["value"] = path, ""
    body["changedPropIds"] = ["_pages_location.pathname"]
    return json.dumps(body).encode()


def _styrkort(*args):
    return subprocess.run([sys.executable, "-m", "styrkort.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, timeout=900)


def test_import_and_refresh_while_serving(built_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(built_db, db)
    proc, port = _serve(db, True, tmp_path / "serve.log")
    try:
        status, _, deps = request(port, "GET", "/_dash-dependencies")
        callbacks = [d for d in json.loads(deps) if not d.get("clientside_function")]
        page = _page_body(callbacks, "/kommun/0180")
        status, _, before = request(port, "POST", "/_dash-update-component", page)
        assert status == 200 and b"Stockholm" in before and not NEW_VALUE.search(_text(before))

        failures, counts, stop = [], {"n": 0}, threading.Event()

        def load(kind):
            while not stop.is_set():
                try:
                    if kind == "page":
                        st, _, _ = request(port, "POST", "/_dash-update-component", page, timeout=60)
                    else:
                        st, _, _ = request(port, "GET", "/kommun/0180", timeout=60)
                    counts["n"] += 1
                    if st != 200:
                        failures.append((kind, st))
                except OSError as e:
                    failures.append((kind, repr(e)))

        threads = [threading.Thread(target=load, args=(k,), daemon=True) for k in ("page", "page", "shell")]
        for t in threads:
            t.start()
        try:
            csv = tmp_path / "new.csv"
            csv.write_text("Variabelkod,Kommun,År,Värde\nN20014,Stockholm,2011,9876543\n", encoding="utf-8")
            r = _styrkort("import", "kolada", csv, "--db", db)
            assert r.returncode == 0, r.stderr
            r = _styrkort("refresh", "--db", db)
            assert r.returncode == 0, r.stderr
            swapped = time.monotonic()
            st, _, after = request(port, "POST", "/_dash-update-component", page)
            first_after = time.monotonic() - swapped
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=90)
        assert st == 200
        assert NEW_VALUE.search(_text(after)), "the first request after the swap shows the old value"
        assert counts["n"] > 10
        assert failures == [], failures[:10]
        assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
        print(f"{counts['n']} requests during import + refresh, 0 failed; new value on the first request "
              f"after the swap ({first_after:.2f} s)")
    finally:
        _stop(proc)
