"""`?lang=en` leaves no Swedish UI chrome: every page in English shows none of the catalogue's
Swedish-only texts, outside text marked lang="sv" (stored Kolada KPI titles and other
warehouse text may stay Swedish when they say so).

The Swedish-only texts are computed from the catalogue: each Swedish text (or, for a text with
{placeholders}, each literal piece of it) that differs from its English text, is not part of
any English text, and is not a substring of the warehouse's own text (names, titles, sources),
which the pages show as data (names, and KPI titles marked lang="sv")."""
from __future__ import annotations

import re

import duckdb
import pytest

from conftest import wait_for
from browser_support import wait_rendered
from styrkort.i18n import catalogue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [
    "/",
    "/?measure=cost",
    "/kommun/1480",
    "/kommun/0180?year=2012",
    "/jamfor?a=0180&b=1480",
    "/jamfor?mode=units",
    "/enhet/1480-HT-LINNE",
    "/enheter?kommun=1480",
    "/urval",
    "/kostnad",
    "/statsbidrag",
    "/trender?code=1480",
    "/om",
    "/finns-inte",
    "/kommun/9999",
]

# Visible text outside lang="sv" subtrees, plus the user-facing attributes and the tab title.
VISIBLE_TEXT_JS = r"""
document.querySelectorAll('details').forEach(function (d) { d.open = true; });
function svMarked(el) { var s = el.closest('[lang]'); return !!s && s.getAttribute('lang') === 'sv'; }
var out = [document.title];
var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
var node;
while ((node = walker.nextNode())) {
  var el = node.parentElement;
  if (!el || svMarked(el) || !node.nodeValue.trim()) continue;
  if (el.closest('script,style,noscript')) continue;
  if (el.getClientRects().length === 0) continue;      // not rendered
  out.push(node.nodeValue);
}
document.querySelectorAll('[title],[aria-label],[placeholder],[alt]').forEach(function (el) {
  if (svMarked(el)) return;
  ['title', 'aria-label', 'placeholder', 'alt'].forEach(function (a) {
    var v = el.getAttribute(a);
    if (v) out.push(v);
  });
});
document.querySelectorAll('option').forEach(function (o) { if (!svMarked(o)) out.push(o.textContent); });
return out.join('\n');
"""


# The warehouse text the pages show as data: proper names (same in both languages) and the
# stored KPI texts (Swedish, marked lang="sv" where shown). Other stored prose shown on a page
# must be marked lang="sv" too, so it is not excluded here.
DATA_COLUMNS = {"municipalities": ("name", "county_name"), "org_units": ("name",),
                "kpis": ("title", "unit", "source", "area")}


def _warehouse_text(db_path) -> str:
    parts = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        for view, cols in DATA_COLUMNS.items():
            for c in cols:
                parts += [str(r[0]) for r in con.execute(
                    f'SELECT DISTINCT "{c}" FROM "{view}" WHERE "{c}" IS NOT NULL').fetchall()]
    return "\n".join(parts)


def _pieces(text) -> list[str]:
    texts = text if isinstance(text, tuple) else (text,)
    out = []
    for s in texts:
        out += [p.strip(" ,.:;()–-—…▶◀=+%") for p in re.split(r"\{[^}]*\}", s)]
    return [p for p in out if re.search(r"[A-Za-zÅÄÖåäö]{2}", p)]


def occurs(piece: str, text: str) -> bool:
    """Short pieces ('Län', 'Kod') as whole words, longer ones as substrings."""
    if len(piece) >= 8:
        return piece in text
    return re.search(r"(?<!\w)" + re.escape(piece) + r"(?!\w)", text) is not None


def swedish_only(data_text: str) -> dict[str, str]:
    """{Swedish piece: catalogue key} for the pieces an English page must not show."""
    sv, en = catalogue("sv"), catalogue("en")
    english = "\n".join(v if isinstance(v, str) else "\n".join(v) for v in en.values())
    out = {}
    for key, text in sv.items():
        if text == en.get(key):
            continue
        for piece in _pieces(text):
            if occurs(piece, english) or occurs(piece, data_text):
                continue
            out[piece] = key
    return out


@pytest.fixture(scope="module")
def sv_only(built_db):
    found = swedish_only(_warehouse_text(built_db))
    assert len(found) > 300          # the computation finds the catalogue's Swedish texts
    assert "uppgift saknas" in found and "Rangordning och urval" in found
    return found


def test_the_swedish_only_set_leaves_out_shared_and_data_words():
    assert "Län" in swedish_only("")                    # the column header, a whole word
    assert "Län" not in swedish_only("Län i Sverige")   # ... unless the warehouse has it as data
    assert "Term" not in swedish_only("")               # the same word in both languages
    assert occurs("Län", "County: Län") and not occurs("Län", "Länsstyrelsen")


@pytest.mark.parametrize("path", PAGES)
def test_english_page_has_no_swedish_chrome(open_page, sv_only, path):
    url = path + ("&" if "?" in path else "?") + "lang=en"
    d = open_page(url)
    wait_rendered(d)
    wait_for(lambda: d.execute_script("return document.documentElement.lang") == "en", 10, "<html lang=en>")
    wait_for(lambda: d.find_element("id", "sk-lang-switch").text == "På svenska", 10, "English header")
    text = d.execute_script(VISIBLE_TEXT_JS)
    shown = {piece: key for piece, key in sv_only.items() if occurs(piece, text)}
    assert not shown, f"Swedish texts on {url}: " + "; ".join(f"{p!r} ({k})" for p, k in sorted(shown.items()))
    # the page still has text (an English page, not an error box)
    assert len(text) > 200


@pytest.mark.parametrize("path,title", [
    ("/kostnad", "Kostnad – Styrkort"), ("/kostnad?lang=en", "Cost – Styrkort"),
    ("/om?lang=en", "About the data – Styrkort"), ("/kommun/1480?lang=en", "Municipality 1480 – Styrkort"),
    ("/kommun/1480", "Kommun 1480 – Styrkort"),
])
def test_tab_title_follows_the_language(open_page, path, title):
    d = open_page(path)
    wait_rendered(d)
    wait_for(lambda: d.title == title, 10, f"tab title {title!r} (got {d.title!r})")


def test_tab_title_changes_with_the_language_switch(open_page):
    d = open_page("/statsbidrag")
    wait_for(lambda: d.title == "Statsbidrag – Styrkort", 10, "Swedish tab title")
    d.find_element("id", "sk-lang-switch").click()
    wait_for(lambda: d.title == "State grants – Styrkort", 20, f"English tab title (got {d.title!r})")
