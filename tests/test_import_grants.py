"""`styrkort import grants` and `load_grant_seeds` on the real Bilaga 1 table (with its three
1-kr gaps) and hand-made files."""
from __future__ import annotations

import duckdb

from test_import_common import SOURCES, cli, query, read_csv_rows, snapshot, tiny_wh, wh, write  # noqa: F401

GRANTS = SOURCES / "grants_2013_by_municipality.csv"
HEADER = "municipality_code,municipality_name,name_in_source,year,pot1_granted_sek,pot2_granted_sek,total_granted_sek\n"


def _seed_rounds(db):
    from warehouse.importers.grants import load_grant_seeds

    con = duckdb.connect(str(db))
    con.execute("BEGIN")
    n = load_grant_seeds(con)
    con.execute("COMMIT")
    con.close()
    return n


def _rounds_only(db):
    """The grant rounds of Tabell 2 without the awards (what `import grants` needs to know)."""
    con = duckdb.connect(str(db))
    con.execute("""INSERT INTO grant_round (round, pot, source) VALUES
                   ('2011:1', 1, 't'), ('2011:2', 1, 't'), ('2012', 1, 't'), ('2013:1', 1, 't'), ('2013:2', 2, 't')""")
    con.close()


def test_real_bilaga1_kept_as_printed_and_gaps_reported(wh):
    _rounds_only(wh)
    rows = read_csv_rows(GRANTS)
    # Independent expectations from the file itself.
    gaps = [(i + 2, r["municipality_code"]) for i, r in enumerate(rows)
            if int(r["pot1_granted_sek"] or 0) + int(r["pot2_granted_sek"] or 0) != int(r["total_granted_sek"])]
    assert len(gaps) == 3
    r = cli("import", "grants", GRANTS, "--db", wh)
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    for line, code in gaps:
        assert f"rad {line}: {code}" in out
    assert "kept as printed" in out
    # One award row per pot and applicant; applied = the pot's cell is not empty.
    assert query(wh, "SELECT count(*) FROM grant_awards")[0][0] == 2 * len(rows)
    for pot, col in ((1, "pot1_granted_sek"), (2, "pot2_granted_sek")):
        applied = sum(1 for x in rows if x[col] != "")
        granted = sum(int(x[col]) for x in rows if x[col] != "")
        assert query(wh, "SELECT sum(applied::INT), sum(granted_sek) FROM grant_awards WHERE pot = ?", [pot]) \
            == [(applied, granted)]
    # Rounds: pot 1 -> 2013:1, pot 2 -> 2013:2.
    assert sorted(query(wh, "SELECT DISTINCT round, pot FROM grant_awards")) == [("2013:1", 1), ("2013:2", 2)]
    # Kinda as printed: 82 868 + 42 071 = 124 939, total printed 124 940.
    assert sorted(query(wh, "SELECT pot, granted_sek FROM grant_awards WHERE municipality_code = '0513'")) == [
        (1, 82868), (2, 42071)]
    assert query(wh, "SELECT total_granted_sek FROM grant_award_printed_total WHERE municipality_code = '0513'") == [(124940,)]
    # Arvidsjaur applied only to pot 2 (empty pot 1, pot 2 = 0).
    assert sorted(query(wh, "SELECT pot, applied, granted_sek FROM grant_awards WHERE municipality_code = '2505'")) == [
        (1, False, None), (2, True, 0)]
    # Re-import changes nothing.
    before = snapshot(wh)
    r2 = cli("import", "grants", GRANTS, "--db", wh)
    assert r2.exit_code == 0
    after = snapshot(wh)
    assert query(wh, "SELECT inserted, updated FROM import_log ORDER BY imported_at")[-1] == (0, 0)
    before.pop("import_log"), after.pop("import_log")
    assert before == after


def test_load_grant_seeds(wh):
    n = _seed_rounds(wh)
    assert n["grant_round"] == 5
    rounds = {r[0]: r[1:] for r in query(wh, "SELECT round, pot, announced_sek, paid_sek, municipalities_granted FROM grant_rounds")}
    # Tabell 2 in mnkr -> SEK by hand: 29 -> 29 000 000; 23.4 -> 23 400 000; 2013:2 is pot 2.
    assert rounds["2011:1"] == (1, 29_000_000, 23_400_000, 234)
    assert rounds["2013:2"] == (2, 33_000_000, 3_500_000, 36)
    assert rounds["2012"] == (1, 98_500_000, 52_300_000, 106)
    assert query(wh, "SELECT returned_sek, received_total_sek, spent_sek FROM stimulus_grant_returns") == [
        (3_569_733, 8_379_559, 4_809_826)]
    assert query(wh, "SELECT value FROM grant_fact WHERE fact = 'municipalities_never_applied_2011_2013'") == [(25.0,)]
    assert query(wh, "SELECT count(*) FROM grant_awards")[0][0] == 2 * 88
    # The grants of seed 000: 68 granted in pot 1 (a positive amount), 36 in pot 2 (Tabell 1).
    assert query(wh, "SELECT count(*) FILTER (WHERE pot = 1 AND granted_sek > 0), "
                     "count(*) FILTER (WHERE pot = 2 AND granted_sek > 0) FROM grant_awards") == [(68, 36)]
    assert query(wh, "SELECT count(*) FROM import_log")[0][0] == 0


def test_grant_bad_amount_and_disagreeing_name(wh):
    _rounds_only(wh)
    f = write(wh.parent / "g.csv", HEADER + "1440,Ale,Ale kommun,2013,100,,100\n1489,Alingsås,,2013,12 tusen,,1\n")
    before = snapshot(wh)
    r = cli("import", "grants", f, "--db", wh)
    assert r.exit_code != 0
    out = " ".join(r.output.split())
    assert str(f) in out and "rad (line) 3:" in out and "non-numeric value" in out
    assert snapshot(wh) == before
    f2 = write(wh.parent / "g2.csv", HEADER + "1440,Alingsås,,2013,100,,100\n")
    r = cli("import", "grants", f2, "--db", wh)
    assert r.exit_code != 0 and "code and name disagree" in " ".join(r.output.split())
    assert snapshot(wh) == before


def test_grant_duplicate_with_different_value(wh):
    _rounds_only(wh)
    f = write(wh.parent / "g.csv", HEADER + "1440,Ale,,2013,100,,100\n1440,Ale,,2013,200,,200\n")
    before = snapshot(wh)
    r = cli("import", "grants", f, "--db", wh)
    assert r.exit_code != 0
    out = " ".join(r.output.split())
    assert "rad (line) 3:" in out and "duplicate key with a different value" in out
    assert snapshot(wh) == before


def test_grant_by_name_only_and_update(wh):
    _seed_rounds(wh)
    f = write(wh.parent / "g.csv", "municipality_name,year,pot1_granted_sek,pot2_granted_sek\nAle kommun,2013,1,\n")
    r = cli("import", "grants", f, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT applied, granted_sek, source FROM grant_awards WHERE municipality_code='1440' AND pot=1") == [
        (True, 1, "Statsbidrag (fil: g.csv)")]
    assert query(wh, "SELECT inserted, updated FROM import_log") == [(0, 1)]
