"""/om – where the data comes from (the datasets view: dates, provenance, demo flags), the
pipeline runs with their config hashes, and the methods in plain Swedish (English on request)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard import components as C
from dashboard.data import get_db, success_factors
from dashboard.i18n import factor_text, get_lang, href, page_title, t

dash.register_page(__name__, path="/om", title=page_title("nav_om"), name="Om", order=9)

# (heading, paragraphs) per method; Swedish first, English second.
METHODS = {
    "sv": [
        ("Demodata", [
            "Det finns inga öppna kvalitetsindikatorer (Öppna jämförelser) per kommun i lagret från "
            "början. Därför genereras realistiska men påhittade värden för 2007–2013, och likaså "
            "enheter (hemtjänst och särskilt boende) med månadsvärden. Allt sådant är märkt DEMO "
            "på skärmen och flaggat is_demo i lagret. När du importerar riktiga värden från Kolada "
            "ersätter de demovärdena i beräkningarna.",
        ]),
        ("Sammanvägt index", [
            "Indexet följer SKL:s metod från Öppna jämförelser 2010. Ett nyckeltal används ett år "
            "bara om alla 290 kommuner har ett värde. Varje nyckeltal görs om till ett z-värde "
            "(avvikelse från medelvärdet i standardavvikelser), med omvänt tecken där lågt är bra. "
            "Nyckeltalen slås ihop till områden (t.ex. brukarbedömning) och områdena till ett index "
            "med vikter. Rang 1 är bäst.",
            "Rangens osäkerhet visas som ett intervall: vi räknar om indexet många gånger med "
            "slumpvis varierade vikter och normeringsmetoder och anger mellan vilka rangplatser "
            "kommunen hamnar i 90 procent av fallen.",
        ]),
        ("Storleksgrupper", [
            "Små kommuner har under 12 500 invånare eller är glesbygdskommuner enligt SKL:s "
            "indelning 2005, mellanstora har 12 500–50 000 invånare och stora fler än 50 000. "
            "Styrkortets status (”bättre än gruppen” osv.) jämför med medelvärdet i kommunens "
            "storleksgrupp samma år; ”som gruppen” betyder att skillnaden är liten.",
        ]),
        ("Urvalet 15 höga och 15 låga", [
            "Som i SKL:s studie väljs de 6 bästa och 6 sämsta små och mellanstora kommunerna och de "
            "3 bästa och 3 sämsta stora. Spridning över länen kan krävas (högst K per län), och "
            "manuella byten syns med skäl. Se sidan Rangordning och urval.",
        ]),
        ("Kostnad och standardkostnad (modellerad)", [
            "Kostnadsavvikelsen är skillnaden i procent mellan kommunens nettokostnad för "
            "äldreomsorg per invånare (Kolada N20014) och en standardkostnad. Finns den officiella "
            "strukturjusterade standardkostnaden i lagret används den (”officiell”). Annars skattar "
            "vi standardkostnaden själva med en regressionsmodell på andelen 65–79 år, andelen 80 år "
            "och äldre, folkmängd (logaritmerad) och glesbygd – då står det ”modellerad”. "
            "Modellens koefficienter och förklaringsgrad visas på sidan Kostnad.",
        ]),
        ("Trender", [
            "För varje nyckeltal och kommun räknas en rät linje över de senaste fem åren. Om hela "
            "konfidensintervallet för lutningen ligger på den goda sidan står det ”förbättras”, på "
            "den dåliga sidan ”försämras”, annars ”ingen tydlig förändring”.",
        ]),
        ("Statsbidrag och ramar", [
            "Prestationsbidragen för värdighetsgarantier 2011–2013 kommer från Socialstyrelsens "
            "lägesrapport 2014. Första omgången 2011 gav ett fast belopp per kommun; därefter "
            "fördelades ramen efter kommunens andel av rikets invånare 75 år och äldre. Pott 2 är "
            "33/65 av pott 1. Utfall per kommun finns bara för 2013; för tidigare omgångar är bara "
            "totalerna kända.",
        ]),
        ("Siffror och format", [
            "Tal skrivs på svenskt sätt (3 569 733 kr, 12,5 %). Varje siffra visar källa och år. "
            "Alla tabeller kan laddas ner som CSV (semikolon och decimalkomma) eller Excel.",
        ]),
    ],
    "en": [
        ("Demo data", [
            "There are no open quality indicators (Öppna jämförelser) per municipality in the "
            "embedded warehouse. Realistic but invented values for 2007–2013 are therefore "
            "generated, as are units (home care and special housing) with monthly values. All of "
            "it is labelled DEMO on screen and flagged is_demo in the warehouse. Real values "
            "imported from Kolada replace them in the calculations.",
        ]),
        ("Composite index", [
            "The index follows SALAR's 2010 method. An indicator is used in a year only if all 290 "
            "municipalities have a value. Each indicator becomes a z-score, sign flipped where low "
            "is good; indicators are averaged into areas and areas into a weighted index. Rank 1 "
            "is best.",
            "Rank uncertainty is an interval: the index is recomputed many times with randomly "
            "varied weights and normalisations; the interval holds 90% of the ranks.",
        ]),
        ("Size groups", [
            "Small: under 12,500 inhabitants or a sparsely populated municipality (SALAR 2005); "
            "medium: 12,500–50,000; large: over 50,000. Status compares with the size group's mean "
            "in the same year.",
        ]),
        ("The 15 high / 15 low selection", [
            "As in the study: the 6 best and 6 worst small and medium municipalities and the 3 best "
            "and 3 worst large ones, optionally at most K per county, with manual swaps and reasons.",
        ]),
        ("Cost and standard cost (modelled)", [
            "Cost deviation is the percentage difference between net elderly-care cost per "
            "inhabitant (Kolada N20014) and a standard cost: the official one where present, "
            "otherwise our own regression on age shares, population and sparsity – then marked "
            "'modelled'.",
        ]),
        ("Trends", [
            "A straight line over the last five years per indicator and municipality; 'improving' or "
            "'worsening' only when the whole confidence interval of the slope is on one side.",
        ]),
        ("State grants and frames", [
            "Performance grants 2011–2013 from the National Board of Health and Welfare's 2014 "
            "report. 2011's first round was a fixed amount; later frames follow each municipality's "
            "share of inhabitants aged 75+. Outcomes per municipality exist only for 2013.",
        ]),
        ("Numbers and formats", [
            "Swedish number formats in the Swedish UI. Every figure shows its source and year. "
            "Every table downloads as CSV or Excel.",
        ]),
    ],
}


def _datasets(db, lang):
    df = db.query_view("datasets", "SELECT dataset, description, source, file, sha256, loaded_at, "
                                   "is_demo FROM datasets ORDER BY is_demo, dataset")
    if df is None or df.empty:
        return C.not_computed("datasets", lang)
    df = df.copy()
    df["loaded"] = pd.to_datetime(df["loaded_at"]).dt.strftime("%Y-%m-%d %H:%M")
    df["demo"] = df["is_demo"].map(lambda v: ("DEMO" if v else ("nej" if lang == "sv" else "no")))
    df["sha"] = df["sha256"].map(lambda v: v[:12] if isinstance(v, str) else "")
    n_demo = int(df["is_demo"].sum())
    return html.Div([
        html.P(t("om_datasets_text", lang, n=len(df), demo=n_demo)),
        C.table_with_downloads(
            "datakallor", df,
            [C.col("dataset", t("om_col_dataset", lang)),
             C.col("description", t("om_col_description", lang), flex=3),
             C.col("source", t("source", lang), flex=3),
             C.col("file", t("om_col_file", lang), flex=2),
             C.col("loaded", t("om_col_loaded", lang)),
             C.col("demo", t("demo", lang)),
             C.col("sha", "SHA-256")],
            lang, caption=t("om_datasets", lang), page_size=30),
    ])


def _runs(db, lang):
    df = db.query_view("pipeline_runs", "SELECT step, year, config_hash, started_at FROM pipeline_runs "
                                        "ORDER BY started_at DESC, step, year LIMIT 500")
    if df is None:
        return C.not_computed("pipeline_runs", lang)
    if df.empty:
        return C.empty_state(t("no_rows", lang))
    df = df.copy()
    df["started"] = pd.to_datetime(df["started_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return C.table_with_downloads(
        "korningar", df,
        [C.col("step", t("om_col_step", lang)), C.col("year", t("year", lang)),
         C.col("config_hash", t("om_col_hash", lang)), C.col("started", t("om_col_started", lang))],
        lang, caption=t("om_runs", lang), page_size=15)


def _factors(lang):
    names = success_factors()
    items = []
    for n in sorted(names):
        items.append(html.Li([html.Strong(names[n]), ": ", factor_text(n, lang)]))
    return html.Section([
        html.H2(t("om_factors", lang), id="framgangsfaktorer", className="h4"),
        html.P(t("om_factors_text", lang)),
        html.Ol(items),
    ], className="mb-4")


@C.safe_layout
def layout(lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    methods = []
    for heading, paragraphs in METHODS["en" if lang == "en" else "sv"]:
        methods.append(html.H3(heading, className="h5 mt-3"))
        methods += [html.P(p) for p in paragraphs]
    return html.Div([
        C.page_heading(t("om_title", lang), t("om_lead", lang)),
        dbc.Row([
            dbc.Col([
                html.Section([html.H2(t("om_datasets", lang), className="h4"), _datasets(db, lang)],
                             className="mb-4"),
                html.Section([html.H2(t("om_methods", lang), className="h4"), *methods],
                             className="mb-4"),
                _factors(lang),
                html.Section([html.H2(t("om_runs", lang), className="h4"),
                              html.P(t("om_runs_text", lang)), _runs(db, lang)], className="mb-4"),
                html.P(dcc.Link(t("go_home", lang), href=href("/", lang))),
            ]),
        ]),
    ])
