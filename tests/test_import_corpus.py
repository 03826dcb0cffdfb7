"""The fixed adversarial corpus (tests/import_corpus.py, generated at test time): every case is
imported exactly or refused with its file, line and problem, never a crash, each well under 60 s,
the whole corpus in one process under 2 GB. A sample also goes through the CLI: exit 1, one
message, the warehouse file unchanged byte for byte."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from import_corpus import Case, check, generate
from test_import_common import REPO, cli, rules_warehouse, tiny_wh  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus_run(tiny_wh, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    db = rules_warehouse(tiny_wh, folder / "base.duckdb")
    out = folder / "results.json"
    r = subprocess.run([sys.executable, str(REPO / "tests" / "import_corpus.py"), "run", "--db", str(db),
                        "--folder", str(folder / "files"), "--out", str(out)],
                       capture_output=True, text=True, timeout=1800, cwd=REPO)
    assert r.returncode == 0, r.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    return db, folder, data


def test_corpus_every_case_as_expected(corpus_run):
    _, _, data = corpus_run
    cases = [Case(**c) for c in data["cases"]]
    results = data["results"]
    assert len(cases) == len(results) >= 300
    wrong = [(c.name, why) for c, res in zip(cases, results) if (why := check(c, res))]
    kinds = Counter(f"{c.expect}:{c.kind}" for c in cases)
    slowest = max(results, key=lambda r: r["seconds"])
    print(f"{len(cases)} cases ({sum(c.expect == 'ok' for c in cases)} good files, "
          f"{sum(c.expect == 'refused' for c in cases)} bad); slowest {slowest['name']} "
          f"{slowest['seconds']:.1f} s; peak memory {data['peak_rss_mb']:.0f} MB; {dict(kinds)}")
    assert not wrong, "\n".join(f"{n}: {w}" for n, w in wrong[:40])
    assert data["peak_rss_mb"] < 2048


def test_corpus_sample_through_the_cli(corpus_run, tmp_path):
    """A refused file through `styrkort import`: exit 1, the file and line named, no traceback,
    the warehouse file byte for byte as before; a good one changes it."""
    db, _, data = corpus_run
    cases = [Case(**c) for c in data["cases"]]
    wanted = ["kolada/csv-utf8-semicolon-crlf/year-fraction", "kolada/xlsx/date-value", "kolada/csv-glob-name/ok",
              "kolada/file/named-pipe", "kolada/file/line-over-1MiB", "kolada/json/deep", "kolada/xls/bool-value",
              "kolada/csv-cp1252-crlf/code-with-other-name", "grants/amount-over-int64", "grants/year-3000",
              "indicators/meta-new-without-title", "kolada/file/xlsx-1.5M-rows-declared"]
    by_name = {c.name: c for c in cases}
    work = tmp_path / "w.duckdb"
    for name in wanted:
        case = by_name[name]
        work.write_bytes(db.read_bytes())
        before = work.read_bytes()
        extra = []
        for k, v in case.kwargs.items():
            if k == "kpis_meta":
                extra += ["--kpis", v]
            elif k == "rounds":
                extra += ["--rounds", v]
        r = cli("import", case.importer, *case.files, *extra, "--db", work)
        out = " ".join(r.output.split())
        assert "Traceback" not in out and "unexpected error" not in out, (name, out)
        if case.expect == "ok":
            assert r.exit_code == 0, (name, out)
            assert work.read_bytes() != before
        else:
            assert r.exit_code == 1, (name, out)
            assert out.startswith("Fel:") and Path(case.kwargs.get("expect_file") or case.files[-1]).name in out, (name, out)
            if isinstance(case.line, int):
                assert f"rad (line) {case.line}:" in out, (name, out)
            assert work.read_bytes() == before, name
        assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
