"""The one text catalogue (styrkort/locale/{sv,en}/LC_MESSAGES/styrkort.po): complete, consistent,
and the only place where a text depends on the language."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from styrkort import i18n
from styrkort.i18n import LANGS, catalogue, placeholders, po_path, t, tn

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dashboard", "pipelines", "styrkort", "warehouse")
# The catalogue helpers themselves may look at the language code.
HELPERS = {"styrkort/i18n.py", "dashboard/i18n.py"}
# Files still being converted to the catalogue (issue 7 part 5); shrinks to empty.
NOT_YET_CONVERTED: set[str] = set()


def _sources():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text("utf-8")


def _is_t_call(node: ast.Call) -> bool:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id in ("t", "tn")
    return isinstance(f, ast.Attribute) and f.attr in ("t", "tn") and isinstance(f.value, ast.Name) \
        and f.value.id in ("i18n", "I")


def _scan():
    """(literal keys used in t()/tn() calls with their places, f-string key prefixes,
    every string constant in the code)."""
    keys, prefixes, constants = {}, set(), set()
    for rel, text in _sources():
        tree = ast.parse(text, rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            # a key built from a prefix and a code: f"stat_{code}" (then t(key, lang))
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant) \
                    and re.fullmatch(r"[a-z][a-z0-9_]*_", str(node.values[0].value)):
                prefixes.add(node.values[0].value)
            if not (isinstance(node, ast.Call) and _is_t_call(node) and node.args):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                keys.setdefault(arg.value, []).append(f"{rel}:{node.lineno}")
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                prefixes.add(arg.values[0].value)
    return keys, prefixes, constants


SCAN = _scan()


def _raw_msgids(lang):
    return re.findall(r'^msgid "(.*)"$', po_path(lang).read_text("utf-8"), flags=re.M)


@pytest.mark.parametrize("lang", LANGS)
def test_no_key_is_defined_twice(lang):
    ids = [i for i in _raw_msgids(lang) if i]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"{po_path(lang)}: defined twice: {dupes}"


def test_both_languages_hold_the_same_keys():
    sv, en = set(catalogue("sv")), set(catalogue("en"))
    assert not sv - en, f"only in sv: {sorted(sv - en)}"
    assert not en - sv, f"only in en: {sorted(en - sv)}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_text_is_non_empty_and_not_fuzzy(lang):
    text = po_path(lang).read_text("utf-8")
    assert "#, fuzzy" not in text.split('msgid ""', 1)[1].split("\n\n", 1)[1]
    empty = [k for k, v in catalogue(lang).items()
             if (not all(s.strip() for s in v) if isinstance(v, tuple) else not v.strip())]
    assert not empty, f"empty texts in {lang}: {empty}"


def test_header_declares_language_and_plural_forms():
    for lang in LANGS:
        head = po_path(lang).read_text("utf-8")[:1500]
        assert f'"Language: {lang}\\n"' in head
        assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in head


def test_placeholders_match_between_languages():
    sv, en = catalogue("sv"), catalogue("en")
    bad = {k: (sorted(placeholders(sv[k])), sorted(placeholders(en[k])))
           for k in sv if k in en and placeholders(sv[k]) != placeholders(en[k])}
    assert not bad, f"placeholders differ (sv, en): {bad}"
    # plural entries are plural in both languages
    assert {k for k, v in sv.items() if isinstance(v, tuple)} == {k for k, v in en.items() if isinstance(v, tuple)}


def test_every_key_used_in_the_code_exists():
    keys, _, _ = SCAN
    assert len(keys) > 100  # the scan finds the calls
    missing = {k: places[:3] for k, places in keys.items() if not all(i18n.has(k, lang) for lang in LANGS)}
    assert not missing, f"keys used in the code but not in both .po files: {missing}"


def test_every_key_in_the_catalogue_is_used():
    """A key is used by a t("key") call, as a string constant (tables of keys), or through an
    f-string family (t(f"status_{code}"))."""
    keys, prefixes, constants = SCAN
    unused = [k for k in catalogue("sv")
              if k not in keys and k not in constants and not any(k.startswith(p) for p in prefixes)]
    assert not unused, f"keys no code uses: {unused}"


@pytest.mark.parametrize("family,codes", [
    ("status", ("better", "worse", "same", "no_direction", "missing")),
    ("trend", ("improving", "worsening", "no_change", "no_direction")),
    ("size", ("small", "medium", "large")),
    ("persp", ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")),
    ("factor", tuple(range(1, 9))),
    ("factor_name", tuple(range(1, 9))),
])
def test_code_families_are_complete(family, codes):
    for code in codes:
        for lang in LANGS:
            assert i18n.has(f"{family}_{code}", lang), f"{family}_{code} missing in {lang}"


def test_t_fills_placeholders_and_falls_back_to_the_key():
    # hand-written expectations for a few entries (from the catalogue's texts as shipped)
    assert t("missing", "sv") == "uppgift saknas" and t("missing", "en") == "no data"
    assert t("kommun_rank", "en", year=2012) == "Rank among all municipalities 2012"
    assert t("missing", "fr") == "uppgift saknas"   # any other language code: Swedish
    assert t("no_such_key_xyz", "en") == "no_such_key_xyz"
    assert tn("no_such_key_xyz", 2, "en") == "no_such_key_xyz"


def test_one_term_per_concept():
    """The terms fixed in styrkort/i18n.py's docstring are used, their rivals are not."""
    sv, en = catalogue("sv"), catalogue("en")
    assert t("persp_ekonomi", "en") == "Finances"
    assert t("size_medium", "sv") == "mellanstora kommuner"  # SKL 2010's own wording
    assert t("status_no_direction", "sv") == "ingen riktning"
    flat = lambda c: " ".join(v if isinstance(v, str) else " ".join(v) for v in c.values())  # noqa: E731
    assert "medelstor" not in flat(sv).lower() and "bakgrundsuppgift" not in flat(sv).lower()
    assert not re.search(r"\bEconomy\b", flat(en)) and "background figure" not in flat(en)


# -- no language conditionals outside the catalogue -----------------------------------------------

def _lang_conditionals(rel: str, text: str) -> list[str]:
    """Comparisons with the language codes 'sv'/'en', and dict literals keyed by both."""
    found = []
    for node in ast.walk(ast.parse(text, rel)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for o in operands:
                consts = [o] if isinstance(o, ast.Constant) else \
                    (o.elts if isinstance(o, (ast.Tuple, ast.List, ast.Set)) else [])
                if any(isinstance(c, ast.Constant) and c.value in ("sv", "en") for c in consts):
                    found.append(f"{rel}:{node.lineno}")
                    break
        elif isinstance(node, ast.Dict):
            ks = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if {"sv", "en"} <= ks:
                found.append(f"{rel}:{node.lineno}")
    return found


def test_no_language_conditionals_outside_the_catalogue():
    found = []
    for rel, text in _sources():
        if rel in HELPERS or rel in NOT_YET_CONVERTED:
            continue
        found += _lang_conditionals(rel, text)
    assert not found, f"language conditionals (use t() and the .po files): {found}"


def test_the_conditional_scan_finds_conditionals():
    sample = 'x = "a" if lang != "en" else "b"\ny = {"sv": 1, "en": 2}\nz = lang in ("en",)\n'
    assert len(_lang_conditionals("sample.py", sample)) == 3
    assert _lang_conditionals("ok.py", 'x = t("key", lang)\n') == []


# -- the first HTML of a page follows ?lang ----------------------------------------------------------

@pytest.fixture(scope="module")
def client(built_db):
    from dashboard.app import create_app
    return create_app(built_db).server.test_client()


@pytest.mark.parametrize("url,lang,skip,title", [
    ("/kostnad", "sv", "Hoppa till innehållet", "Kostnad – Styrkort"),
    ("/kostnad?lang=en", "en", "Skip to content", "Cost – Styrkort"),
    ("/kommun/1480?lang=en", "en", "Skip to content", "Municipality 1480 – Styrkort"),
    ("/om?year=2012&lang=en", "en", "Skip to content", "About the data – Styrkort"),
])
def test_first_html_follows_the_language(client, url, lang, skip, title):
    body = client.get(url).get_data(as_text=True)
    assert f'<html lang="{lang}">' in body
    assert f'href="#main">{skip}</a>' in body
    assert f'property="og:title" content="{title}"' in body
    assert "{%" not in body


# -- stored codes are translated ---------------------------------------------------------------------

def test_cost_model_terms_in_words(built_db):
    import duckdb

    from dashboard.i18n import cost_term_label, formula_in_words
    assert cost_term_label("np.log(population)", "sv") == "ln(folkmängd)"
    assert cost_term_label("share_80_plus", "sv") == "andel 80+"
    assert cost_term_label("Intercept", "sv") == "konstant"
    assert cost_term_label("share_65_79", "en") == "share aged 65–79"
    with duckdb.connect(str(built_db), read_only=True) as con:
        terms = [r[0] for r in con.execute("SELECT DISTINCT term FROM cost_model").fetchall()]
    assert terms
    for lang in LANGS:
        shown = [cost_term_label(x, lang) for x in terms]
        assert not set(shown) & set(terms), f"terms shown as code names ({lang}): {set(shown) & set(terms)}"
        assert "np.log" not in formula_in_words(terms, lang) and "share_" not in formula_in_words(terms, lang)


def test_success_factor_names_are_the_studys_own():
    """The Swedish names in the catalogue are SKL 2010's, as transcribed in success_factors.json."""
    from dashboard.data import success_factors
    names = success_factors()
    assert sorted(names) == list(range(1, 9))
    for n, name in names.items():
        assert t(f"factor_name_{n}", "sv") == name
        assert t(f"factor_name_{n}", "en") != name


def test_long_table_texts_follow_the_language():
    """A long table's filter, sort choice and pager speak the page's language, with the
    language's number format in the pager's status."""
    import pandas as pd

    from dashboard import components as C
    from layout_support import find, text_of

    def tools(lang):
        rows = pd.DataFrame({"a": [1.5] * 1234})
        wrap = C.table_with_downloads("t", rows, [C.col("a", "Antal", "number", 1)], lang)
        labels = [text_of(c) for c in find(wrap, lambda c: type(c).__name__ == "Label")]
        options = [text_of(c) for c in find(wrap, lambda c: type(c).__name__ == "Option")]
        status = next(find(wrap, lambda c: "sk-pager-status" in (getattr(c, "className", "") or "")))
        return labels, options, text_of(status)

    (sv_labels, sv_options, sv_status), (en_labels, en_options, en_status) = tools("sv"), tools("en")
    assert sv_labels == ["Filtrera raderna", "Sortera efter"] and en_labels == ["Filter the rows", "Sort by"]
    assert sv_options == ["Ursprunglig ordning", "Antal, stigande", "Antal, fallande"]
    assert en_options == ["Original order", "Antal, ascending", "Antal, descending"]
    assert sv_status == "Sida 1 av 50 · rader 1–25 av 1\u00a0234"
    assert en_status == "Page 1 of 50 · rows 1–25 of 1,234"


def test_plotly_separators_follow_the_language():
    import plotly.graph_objects as go

    from dashboard import figures as F
    from dashboard.components import style_figure
    assert F.base_layout(go.Figure(), "sv").layout.separators == ", "
    assert F.base_layout(go.Figure(), "en").layout.separators == ".,"
    assert style_figure(go.Figure(), "sv").layout.separators == ", "


def test_the_header_is_in_the_pages_language_from_the_first_render(client):
    """Dash fetches the shell from /_dash-layout; the page it is for is in the Referer."""
    en = client.get("/_dash-layout", headers={"Referer": "http://localhost/kostnad?lang=en"}).get_data(as_text=True)
    sv = client.get("/_dash-layout", headers={"Referer": "http://localhost/kostnad"}).get_data(as_text=True)
    assert "About the data" in en and "Om data" not in en
    assert "Om data" in sv and "About the data" not in sv


def test_cli_messages_follow_styrkort_lang(monkeypatch, capsys):
    from types import SimpleNamespace

    from warehouse.cli import print_summary
    summary = SimpleNamespace(kind="units", inserted=2, updated=0, unchanged=4, skipped=1,
                              skipped_reasons={"tom rad": 1}, new_kpis=[], unmapped=[], warnings=[])
    monkeypatch.setenv("STYRKORT_LANG", "en")
    print_summary(summary)
    en = capsys.readouterr().out
    assert "unchanged" in en and "skipped: 1" in en and "Run `styrkort refresh`" in en and "oförändrade" not in en
    monkeypatch.delenv("STYRKORT_LANG")
    print_summary(summary)
    sv = capsys.readouterr().out
    assert "oförändrade" in sv and "Kör `styrkort refresh`" in sv and "unchanged" not in sv
