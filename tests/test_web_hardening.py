"""The web server answers bad requests with 4xx, never 5xx, names no versions, compresses, and
lets browsers cache fingerprinted files for a year - checked over HTTP against `styrkort serve
--prod` (gunicorn) and, for the Server header, the development server.

The fuzz: every callback the app registers, sent with its declared dependencies (a control that
must answer 200 or 204) and then with mutations (wrong types, missing keys, unknown callbacks,
wrong ids, deep nesting, junk bytes, huge bodies), plus traversal and odd paths and methods:
more than 200 malformed requests, none may get a status >= 500."""
from __future__ import annotations

import gzip
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from layout_support import free_port

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow




def _serve(db: Path, prod: bool, log: Path):
    port = free_port()
    cmd = [sys.executable, "-m", "styrkort.cli", "serve", "--db", str(db), "--port", str(port)]
    if prod:
        cmd += ["--prod", "--workers", "2", "--threads", "4"]
    env = dict(os.environ)
    env.pop("STYRKORT_DB", None)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=open(log, "wb"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            status, _, _ = request(port, "GET", "/")
            if status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start:\n" + log.read_text()[-3000:])


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def request(port, method, path, body=None, headers=None, timeout=30):
    """(status, headers, body bytes) over a fresh connection; raw path, no client-side cleanup."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = {"Content-Type": "application/json"} if body is not None else {}
        hdrs.update(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Length", str(len(body)))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass          # the server answered (413) before reading all of it
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def prod(built_db, tmp_path_factory):
    d = tmp_path_factory.mktemp("web")
    db = d / "w.duckdb"
    shutil.copy(built_db, db)
    proc, port = _serve(db, True, d / "serve.log")
    yield port, d / "serve.log"
    _stop(proc)


def _callbacks(port):
    status, _, body = request(port, "GET", "/_dash-dependencies")
    assert status == 200
    return [d for d in json.loads(body) if not d.get("clientside_function")]


def _dep_id(i):
    """A declared id -> an id the renderer would send (a pattern's wildcards -> index 0)."""
    if isinstance(i, str) and i.startswith("{"):
        return {k: (0 if isinstance(v, list) else v) for k, v in json.loads(i).items()}
    return i


def _outputs(output: str):
    """'..a.children...b.data..' / 'a.data@hash' -> [{"id", "property"}]."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    res = []
    for p in parts:
        cid, prop = p.split("@")[0].rsplit(".", 1)     # '@<hash>': an allow_duplicate output
        res.append({"id": _dep_id(cid), "property": prop})
    return res if output.startswith("..") else res[0]


def valid_body(cb, value=None) -> dict:
    dep = lambda d: {"id": _dep_id(d["id"]), "property": d["property"], "value": value}   # noqa: E731
    inputs = [dep(d) for d in cb["inputs"]]
    return {"output": cb["output"], "outputs": _outputs(cb["output"]), "inputs": inputs,
            "state": [dep(d) for d in cb.get("state", [])],
            "changedPropIds": [f'{json.dumps(inputs[0]["id"], separators=(",", ":")) if isinstance(inputs[0]["id"], dict) else inputs[0]["id"]}.{inputs[0]["property"]}']}


def mutations(cb, rng) -> list[tuple[str, bytes]]:
    base = valid_body(cb)
    out = []

    def add(name, obj):
        out.append((name, obj if isinstance(obj, bytes) else json.dumps(obj).encode()))

    for k in ("output", "inputs", "outputs", "changedPropIds"):
        b = dict(base)
        b.pop(k)
        if k != "outputs":      # a missing 'outputs' is legacy-renderer format that Dash accepts
            add(f"missing {k}", b)
    for bad in (123, None, [], {"a": 1}, "x" * 10_000, True):
        add(f"output={str(bad)[:10]}", {**base, "output": bad})
    for bad in ("x", 5, None, {"id": "a"}, [[]], [{"property": "value"}], [{"id": 5, "property": "value"}],
                [{"id": {"a": {"b": 1}}, "property": "v"}], [{"id": "nope", "property": "value", "value": 1}]):
        add(f"inputs={str(bad)[:15]}", {**base, "inputs": bad})
    add("inputs: one too many", {**base, "inputs": base["inputs"] + base["inputs"][:1]})
    add("inputs: one too few", {**base, "inputs": base["inputs"][:-1]})
    add("state: wrong", {**base, "state": "s"})
    add("changedPropIds: not a list", {**base, "changedPropIds": {"a": 1}})
    add("changedPropIds: numbers", {**base, "changedPropIds": [1, 2]})
    for v in (12345, -1.5, True, [1, 2, 3], {"a": [1, {"b": 2}]}, "x" * 100_000, "\u0000\udc80" * 3,
              "../../etc/passwd", "<script>alert(1)</script>", float("1e308"), "'; DROP TABLE kpi; --"):
        body = valid_body(cb, value=v)
        try:
            add(f"value={str(v)[:12]}", body)
        except ValueError:
            pass
    deep = {"a": 1}
    for _ in range(200):
        deep = {"a": deep}
    add("deep nesting", {**base, "inputs": [{**base["inputs"][0], "value": deep}] + base["inputs"][1:]})
    add("not JSON", b"{" + bytes(rng.getrandbits(8) for _ in range(200)))
    add("truncated JSON", json.dumps(base).encode()[:-5])
    add("a JSON list", [base])
    add("JSON string", "hello")
    add("invalid UTF-8", b'{"output": "\xff\xfe"}')
    return out


def test_fuzz_callbacks_paths_and_methods_never_5xx(prod):
    port, log = prod
    rng = random.Random(11)
    callbacks = _callbacks(port)
    assert len(callbacks) >= 10
    results = []                  # (name, status)
    # Controls: each callback with its declared dependencies (values None) is served, not refused.
    header = next(cb for cb in callbacks if "sk-header.children" in cb["output"])
    body = valid_body(header)
    body["inputs"][0]["value"], body["inputs"][1]["value"] = "/kommun/0180", ""
    status, _, payload = request(port, "POST", "/_dash-update-component", json.dumps(body).encode())
    assert status == 200, payload[:300]
    assert b"sk-header" in payload or b"response" in payload
    for cb in callbacks:
        status, _, payload = request(port, "POST", "/_dash-update-component", json.dumps(valid_body(cb)).encode())
        assert status < 500, (cb["output"], status, payload[:300])
        results.append((f"control {cb['output'][:40]}", status))
        muts = mutations(cb, rng)
        for name, raw in rng.sample(muts, min(len(muts), 14)):
            status, _, payload = request(port, "POST", "/_dash-update-component", raw)
            results.append((f"{cb['output'][:40]}: {name}", status))
    n_callback_fuzz = len(results) - len(callbacks)

    # Bodies over the limit: 413 (announced size, and a real 12 MiB body).
    status, _, _ = request(port, "POST", "/_dash-update-component", b"x" * 1000,
                           headers={"Content-Length": str(100 << 20)})
    results.append(("announced 100 MB body", status))
    assert status == 413
    status, _, _ = request(port, "POST", "/_dash-update-component", b"{" + b"x" * (12 << 20))
    results.append(("12 MiB junk body", status))
    assert status == 413

    # Traversal and unknown files under the component route: 404.
    for path in ["/_dash-component-suites/dash/../../../../etc/passwd", "/_dash-component-suites/dash/..%2f..%2fsetup.py",
                 "/_dash-component-suites/dash/%2e%2e/%2e%2e/dash.py", "/_dash-component-suites/os/path.py",
                 "/_dash-component-suites/dash/deps/nope.js", "/_dash-component-suites/dash/dash.py",
                 "/_dash-component-suites/dash_ag_grid/../../styrkort/cli.py", "/_dash-component-suites/../etc/passwd",
                 "/_dash-component-suites/dash/%00.js", "/assets/../warehouse/db.py", "/assets/%2e%2e/app.py",
                 "/assets/nope.css"]:
        status, _, payload = request(port, "GET", path)
        results.append((f"GET {path}", status))
        assert status == 404, (path, status)
        assert b"def " not in payload and b"root:" not in payload

    # Odd paths, queries and methods on the page routes.
    odd = ["/%ff", "/kommun/%00", "/kommun/" + "9" * 5000, "/?year=%ff%fe", "/kostnad?year=1e999", "/?lang=" + "x" * 3000,
           "/trender?code=0180&code=1480&kpis=%5B", "/jamfor?a=0180&b=%27%20OR%201=1%20--", "//etc/passwd", "/.git/config",
           "/_dash-layout?x=%ff", "/_dash-dependencies/../../", "/_reload-hash", "/_favicon.ico?%00"]
    for path in odd:
        status, _, _ = request(port, "GET", path)
        results.append((f"GET {path[:40]}", status))
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"):
        for path in ("/", "/_dash-update-component", "/_dash-layout"):
            status, _, _ = request(port, method, path, b"{}")
            results.append((f"{method} {path}", status))
    status, _, _ = request(port, "GET", "/_dash-update-component")
    results.append(("GET callback route", status))
    status, _, _ = request(port, "POST", "/_dash-update-component", json.dumps(body).encode(),
                           headers={"Content-Type": "text/plain"})
    results.append(("callback as text/plain", status))

    # No callback raised on any of it: a request that passed the checks ran to an answer (the
    # hardening logs a callback that raised as "callback failed on a request", answered 400).
    time.sleep(0.5)
    failed = [line for line in log.read_text("utf-8", "replace").splitlines() if "callback failed on a request" in line]
    assert not failed, log.read_text("utf-8", "replace")[-4000:]
    five = [(n, s) for n, s in results if s >= 500]
    malformed = [(n, s) for n, s in results if not n.startswith("control")]
    assert len(malformed) >= 200 and n_callback_fuzz >= 150, (len(malformed), n_callback_fuzz)
    assert not five, five[:20]
    # Malformed callback bodies are refused as such (400), except wrong-typed values that a
    # callback may still treat as "nothing to do" (204) or answer normally.
    structural = [(n, s) for n, s in results if ": missing" in n or ": output=" in n or "inputs=" in n
                  or "not JSON" in n or "deep nesting" in n]
    assert structural and all(s == 400 for _, s in structural), [x for x in structural if x[1] != 400][:10]


def test_headers_compression_and_caching_over_http(prod):
    port, _ = prod
    status, headers, body = request(port, "GET", "/kommun/0180", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    html = gzip.decompress(body).decode()
    assert "<html" in html
    assert headers.get("server") == "gunicorn"           # no version
    low = html.lower()
    for leak in ("dash_version", "python_version", "plotly_version", sys.version.split()[0], "werkzeug/"):
        assert leak.lower() not in low, leak
    assert not re.search(r"\.v\d+_\d+_\d+m\d+", html), "a fingerprint spells a package version"
    assert "immutable" not in headers.get("cache-control", "")

    status, headers, body = request(port, "GET", "/kommun/0180", headers={"Accept-Encoding": "br"})
    assert headers.get("content-encoding") == "br"
    import brotli
    assert "<html" in brotli.decompress(body).decode()

    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', html)
    assert scripts
    total_plain = total_sent = 0
    for src in scripts:
        status, headers, body = request(port, "GET", src, headers={"Accept-Encoding": "gzip"})
        assert status == 200, src
        assert headers.get("cache-control") == "public, max-age=31536000, immutable", (src, headers)
        if headers.get("content-encoding") == "gzip":
            plain = gzip.decompress(body)
        else:
            plain = body
            assert len(body) < 500, (src, "not compressed")
        total_plain += len(plain)
        total_sent += len(body)
    assert total_sent < 0.5 * total_plain, (total_sent, total_plain)
    css = re.findall(r'href="(/assets/[^"]+\?m=[^"]+)"', html)
    assert css
    status, headers, _ = request(port, "GET", css[0], headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "immutable" in headers.get("cache-control", "")
    print(f"component scripts: {total_plain / 1e6:.1f} MB plain, {total_sent / 1e6:.2f} MB gzip")


def test_dev_server_names_no_version(built_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(built_db, db)
    proc, port = _serve(db, False, tmp_path / "dev.log")
    try:
        status, headers, _ = request(port, "GET", "/")
        assert status == 200
        server = headers.get("server", "")
        assert "Werkzeug" not in server and "Python" not in server and "/" not in server, server
    finally:
        _stop(proc)
