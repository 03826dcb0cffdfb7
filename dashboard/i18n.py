"""Swedish first, English on request: `?lang=en` in the query string, kept on every link.

Usage in a page::

    from dashboard.i18n import get_lang, t, href
    lang = get_lang(query)              # 'sv' unless lang=en
    t("missing", lang)                  # 'uppgift saknas' / 'no data'
    href("/kommun/0180", lang, year=2012)   # '/kommun/0180?year=2012' or '...&lang=en'

Unknown keys return the key itself (visible in the UI, never a crash). Helper F may add keys
to STRINGS for their pages; keep both languages.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

LANGS = ("sv", "en")
DEFAULT_LANG = "sv"

# key -> (sv, en)
STRINGS: dict[str, tuple[str, str]] = {
    # shell / navigation
    "app_title": ("Styrkort för äldreomsorgen", "Scorecards for elderly care"),
    "app_subtitle": ("Öppna jämförelser, kostnad och statsbidrag per kommun",
                     "Open comparisons, cost and state grants per municipality"),
    "nav_home": ("Start", "Home"),
    "nav_jamfor": ("Jämför", "Compare"),
    "nav_urval": ("Rangordning och urval", "Rankings and selection"),
    "nav_kostnad": ("Kostnad", "Cost"),
    "nav_statsbidrag": ("Statsbidrag", "State grants"),
    "nav_trender": ("Trender", "Trends"),
    "nav_om": ("Om data", "About the data"),
    "nav_label": ("Huvudmeny", "Main menu"),
    "lang_switch": ("In English", "På svenska"),
    "lang_switch_label": ("Byt språk till engelska", "Switch language to Swedish"),
    "skip_to_content": ("Hoppa till innehållet", "Skip to content"),
    # common states
    "missing": ("uppgift saknas", "no data"),
    "not_computed": ("ej beräknat", "not computed"),
    "view_missing": ("Uppgiften finns inte i lagret (vyn {view} saknas eller är tom).",
                     "Not available in the warehouse (view {view} is missing or empty)."),
    "db_error": ("Lagret kunde inte läsas.", "The warehouse could not be read."),
    "demo": ("demo", "demo"),
    "demo_title": ("Demodata: påhittade värden som visar hur produkten fungerar, inte verkliga resultat.",
                   "Demo data: generated values that show how the product works, not real results."),
    "source": ("Källa", "Source"),
    "year": ("År", "Year"),
    "download_csv": ("Ladda ner CSV", "Download CSV"),
    "download_xlsx": ("Ladda ner Excel", "Download Excel"),
    "download_label": ("Ladda ner tabellen {name}", "Download table {name}"),
    "table": ("Tabell", "Table"),
    "no_rows": ("Inga rader att visa.", "No rows to show."),
    "modelled": ("modellerad", "modelled"),
    "official": ("officiell", "official"),
    # status
    "status_better": ("bättre än gruppen", "better than the group"),
    "status_worse": ("sämre än gruppen", "worse than the group"),
    "status_same": ("som gruppen", "same as the group"),
    "status_no_direction": ("ingen riktning", "no direction"),
    "status_missing": ("uppgift saknas", "no data"),
    # trend verdicts (trends view writes Swedish verdicts)
    "trend_improving": ("förbättras", "improving"),
    "trend_worsening": ("försämras", "worsening"),
    "trend_flat": ("ingen tydlig förändring", "no clear change"),
    "trend": ("Trend", "Trend"),
    # size groups
    "size_small": ("små kommuner", "small municipalities"),
    "size_medium": ("mellanstora kommuner", "medium-sized municipalities"),
    "size_large": ("stora kommuner", "large municipalities"),
    "size_group": ("Storleksgrupp", "Size group"),
    # perspectives (Balansen)
    "persp_omsorgstagare": ("Omsorgstagare", "Care recipients"),
    "persp_ekonomi": ("Ekonomi", "Economy"),
    "persp_medarbetare": ("Medarbetare och utveckling", "Staff and development"),
    "persp_verksamhet": ("Verksamhet och processer", "Operations and processes"),
    # start page
    "home_title": ("Styrkort för äldreomsorgen", "Scorecards for elderly care"),
    "home_lead": ("Kvalitet, kostnad och statsbidrag i Sveriges 290 kommuner – ett balanserat styrkort per kommun.",
                  "Quality, cost and state grants in Sweden's 290 municipalities – a balanced scorecard per municipality."),
    "search_label": ("Sök kommun (namn eller kommunkod)", "Find a municipality (name or code)"),
    "search_placeholder": ("Skriv t.ex. Göteborg eller 1480", "Type e.g. Göteborg or 1480"),
    "search_help": ("Välj en kommun i listan för att öppna dess styrkort.",
                    "Pick a municipality in the list to open its scorecard."),
    "map_title": ("Karta", "Map"),
    "search_button": ("Visa styrkort", "Show scorecard"),
    "search_none": ("Hittade ingen kommun som heter ”{text}”. Skriv namnet eller den fyrsiffriga koden.",
                    "No municipality called “{text}”. Type the name or the four-digit code."),
    "jamfor_pick": ("Välj kommun", "Choose a municipality"),
    "jamfor_pick_unit": ("Välj enhet", "Choose a unit"),
    "map_measure": ("Färga kartan efter", "Colour the map by"),
    "map_alt": ("Karta över Sveriges kommuner: {label}. {n} kommuner har värden; samma uppgifter finns i tabellen under kartan.",
                "Map of Sweden's municipalities: {label}. {n} municipalities have values; the same data is in the table below the map."),
    "map_table_title": ("Kartans uppgifter som tabell", "The map's data as a table"),
    "municipality": ("Kommun", "Municipality"),
    "code": ("Kommunkod", "Code"),
    "county": ("Län", "County"),
    # scorecard /kommun/<code>
    "kommun_search_link": ("Sök en kommun på startsidan", "Search for a municipality on the start page"),
    "kommun_composite": ("Sammanvägt kvalitetsindex", "Composite quality index"),
    "kommun_rank": ("Rang bland alla kommuner {year}", "Rank among all municipalities {year}"),
    "kommun_in_group": ("i storleksgruppen", "in the size group"),
    "kommun_rank_interval": ("osäkerhet: rang {lo}–{hi} (90 %-intervall, median {med})",
                             "uncertainty: rank {lo}–{hi} (90% interval, median {med})"),
    "kommun_interval_missing": ("osäkerhetsintervall ej beräknat", "uncertainty interval not computed"),
    "kommun_cost": ("Kostnadsavvikelse från standardkostnad {year}", "Cost deviation from standard cost {year}"),
    "kommun_cost_detail": ("nettokostnad {net}/inv, standardkostnad {std}/inv",
                           "net cost {net}/inh., standard cost {std}/inh."),
    "kommun_grants": ("Prestationsbidrag 2011–2013", "Performance grants 2011–2013"),
    "kommun_grants_summary": ("{years}: sökte i {applied} av {rounds} potter; beviljat {granted} ({share} av ramarna)",
                              "{years}: applied in {applied} of {rounds} pots; granted {granted} ({share} of the frames)"),
    "kommun_grants_unknown": ("{years}: utfall per kommun saknas (bara omgångarnas totaler är kända)",
                              "{years}: no outcome per municipality (only round totals are known)"),
    "kommun_latest": ("senast: {value} ({year})", "latest: {value} ({year})"),
    "kommun_col_kpi": ("Nyckeltal", "Indicator"),
    "kommun_col_value": ("Värde", "Value"),
    "kommun_col_group": ("Storleksgruppen", "Size group"),
    "kommun_col_nation": ("Riket", "Sweden"),
    "kommun_col_status": ("Jämfört med gruppen", "Compared with the group"),
    "kommun_col_rank": ("Rang i gruppen", "Rank in group"),
    "kommun_col_group_n": ("Antal i gruppen", "Municipalities in group"),
    "kommun_col_spark": ("Utveckling", "Over time"),
    "kommun_col_persp": ("Perspektiv", "Perspective"),
    "unit": ("Enhet", "Unit"),
    "kommun_no_kpis": ("Inga nyckeltal i detta perspektiv i lagret.", "No indicators in this perspective in the warehouse."),
    "kommun_panel_summary": ("{n} nyckeltal: {better} bättre, {same} som och {worse} sämre än storleksgruppen.",
                             "{n} indicators: {better} better than, {same} same as and {worse} worse than the size group."),
    "kommun_weak_title": ("Svagare perspektiv – vad gjorde de bästa kommunerna?",
                          "Weaker perspective – what did the best municipalities do?"),
    "kommun_weak_text": ("Minst hälften av nyckeltalen här är sämre än storleksgruppen. SKL:s analys (2010) av 15 höga och 15 låga kommuner fann bland annat dessa framgångsfaktorer:",
                         "At least half of the indicators here are worse than the size group. SALAR's 2010 study of 15 high and 15 low municipalities found, among others, these success factors:"),
    "kommun_weak_more": ("Alla åtta framgångsfaktorer", "All eight success factors"),
    "kommun_units": ("Enheter i kommunen", "Units in the municipality"),
    "kommun_units_text": ("Hemtjänst- och boendeenheter med månadsuppgifter, som i Göteborgs Balansen. Jämför två enheter sida vid sida.",
                          "Home-care and housing units with monthly figures, as in Göteborg's Balansen. Compare two units side by side."),
    "kommun_compare_unit": ("jämför med {other}", "compare with {other}"),
    "kind_hemtjanst": ("hemtjänst", "home care"),
    "kind_sarskilt_boende": ("särskilt boende", "special housing"),
    "kommun_grant_history": ("Statsbidrag per omgång", "State grants by round"),
    "grant_round": ("Omgång", "Round"),
    "grant_pot": ("Pott", "Pot"),
    "grant_applied": ("Sökte", "Applied"),
    "grant_frame": ("Ram", "Frame"),
    "grant_granted": ("Beviljat", "Granted"),
    "grant_paid": ("Utbetalt", "Paid"),
    "grant_returned": ("Återbetalt", "Returned"),
    "grant_uptake": ("Andel av ramen", "Share of frame"),
    "kommun_all_kpis": ("Alla nyckeltal som tabell", "All indicators as a table"),
    "kommun_shown": ("Visar {shown} av {n} nyckeltal (de med värde först).", "Showing {shown} of {n} indicators (those with a value first)."),
    "kommun_show_all": ("Visa alla", "Show all"),
    "kommun_download_all": ("Hela styrkortet som fil:", "The whole scorecard as a file:"),
    "kommun_population": ("{pop} invånare ({year})", "{pop} inhabitants ({year})"),
    "kommun_header_source": ("index och rang: pipelines/ranking.py (demo-nyckeltal); kostnad: pipelines/economy.py",
                             "index and rank: pipelines/ranking.py (demo indicators); cost: pipelines/economy.py"),
    "kommun_compare": ("Jämför med en annan kommun", "Compare with another municipality"),
    "kommun_trends": ("Trender för nämnden", "Trends for the committee"),
    "kommun_panel_trends": ("Visa trenddiagram för {perspective}", "Show trend charts for {perspective}"),
    "kommun_lead": ("Balanserat styrkort för {year} i fyra perspektiv. Status jämför med kommunens storleksgrupp.",
                    "Balanced scorecard for {year} in four perspectives. Status compares with the municipality's size group."),
    # compare /jamfor
    "jamfor_title": ("Jämför två kommuner", "Compare two municipalities"),
    "jamfor_title_units": ("Jämför två enheter", "Compare two units"),
    "jamfor_lead": ("Samma nyckeltal sida vid sida för det senaste år då båda kommunerna har uppgifter. Skillnader markeras med pil och text.",
                    "The same indicators side by side for the latest year both municipalities have data. Differences are marked with an arrow and text."),
    "jamfor_to_units": ("Jämför enheter (hemtjänst, boenden) i stället.", "Compare units (home care, housing) instead."),
    "jamfor_to_munis": ("Jämför kommuner i stället.", "Compare municipalities instead."),
    "jamfor_a": ("Kommun A", "Municipality A"),
    "jamfor_b": ("Kommun B", "Municipality B"),
    "jamfor_pick_two": ("Välj två kommuner att jämföra.", "Choose two municipalities to compare."),
    "jamfor_no_common": ("Kommunerna har inget gemensamt år med uppgifter.", "The municipalities have no common year with data."),
    "jamfor_summary": ("{a} är bättre på {na} och {b} på {nb} av {n} nyckeltal.",
                       "{a} is better on {na} and {b} on {nb} of {n} indicators."),
    "jamfor_open": ("Styrkort för {name}", "Scorecard for {name}"),
    "jamfor_diff": ("Skillnad ({a} − {b})", "Difference ({a} − {b})"),
    "jamfor_better": ("Bättre", "Better"),
    "jamfor_table": ("Jämförelsen som tabell", "The comparison as a table"),
    "jamfor_units_lead": ("Månadsuppgifter för två enheter, som i Göteborgs Balansen där t.ex. en hemtjänstenhet i Linnéstaden jämförs med en i Bergsjön.",
                          "Monthly figures for two units, as in Göteborg's Balansen where e.g. a home-care unit in Linnéstaden is compared with one in Bergsjön."),
    "jamfor_unit_a": ("Enhet A", "Unit A"),
    "jamfor_unit_b": ("Enhet B", "Unit B"),
    "jamfor_pick_two_units": ("Välj två enheter att jämföra.", "Choose two units to compare."),
    "jamfor_unknown_unit": ("Enheten {ids} finns inte.", "The unit {ids} does not exist."),
    "jamfor_units_demo": ("Enheterna och deras månadsvärden är demodata: det finns inga öppna enhetsuppgifter.",
                          "The units and their monthly values are demo data: no open unit-level data exists."),
    "jamfor_unit_graph_alt": ("Linjediagram: {kpi} per månad för {a} (heldragen linje) och {b} (streckad linje). Värdena finns i tabellen nedan.",
                              "Line chart: {kpi} per month for {a} (solid line) and {b} (dashed line). The values are in the table below."),
    "jamfor_month": ("Månad", "Month"),
    "jamfor_units_table": ("Månadsvärden som tabell", "Monthly values as a table"),
    # about /om
    "om_title": ("Om data och metoder", "About the data and methods"),
    "om_lead": ("Varifrån siffrorna kommer, vilka som är demodata och hur de räknas – i klartext.",
                "Where the figures come from, which are demo data and how they are computed – in plain words."),
    "om_datasets": ("Datakällor i lagret", "Datasets in the warehouse"),
    "om_datasets_text": ("Lagret innehåller {n} datamängder, varav {demo} är demodata. Varje rad anger källa, fil, när den lästes in och en kontrollsumma.",
                         "The warehouse holds {n} datasets, {demo} of them demo data. Each row gives the source, file, load time and a checksum."),
    "om_col_dataset": ("Datamängd", "Dataset"),
    "om_col_description": ("Beskrivning", "Description"),
    "om_col_file": ("Fil", "File"),
    "om_col_loaded": ("Inläst", "Loaded"),
    "om_methods": ("Metoder", "Methods"),
    "om_factors": ("Åtta framgångsfaktorer (SKL 2010)", "Eight success factors (SALAR 2010)"),
    "om_factors_text": ("SKL jämförde 15 kommuner med höga och 15 med låga resultat i Öppna jämförelser 2009. Det här är vad de höga hade gemensamt, med våra ord:",
                        "SALAR compared 15 high- and 15 low-scoring municipalities in Öppna jämförelser 2009. This is what the high scorers shared, in our words:"),
    "om_runs": ("Beräkningskörningar", "Pipeline runs"),
    "om_runs_text": ("Varje beräkning sparas med sin konfiguration och en kontrollsumma (hash) av den, så att ett resultat kan spåras och upprepas.",
                     "Every computation is stored with its configuration and a hash of it, so a result can be traced and repeated."),
    "om_col_step": ("Steg", "Step"),
    "om_col_hash": ("Konfigurationens hash", "Config hash"),
    "om_col_started": ("Startad", "Started"),
    # 404
    "not_found_title": ("Sidan finns inte", "Page not found"),
    "not_found_text": ("Adressen {path} finns inte i styrkortet.",
                       "The address {path} does not exist."),
    "go_home": ("Till startsidan och sökningen", "Go to the start page and search"),
}


def get_lang(query=None) -> str:
    """'en' if the query (dict of params, or a '?a=b' search string) says lang=en, else 'sv'."""
    if query is None:
        return DEFAULT_LANG
    if isinstance(query, str):
        query = dict(parse_qsl(query.lstrip("?")))
    value = query.get("lang") if hasattr(query, "get") else None
    if isinstance(value, list):
        value = value[0] if value else None
    return "en" if value == "en" else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """Translate `key`; `fmt` fills {placeholders}. Unknown keys come back as the key."""
    pair = STRINGS.get(key)
    if pair is None:
        text = key
    else:
        text = pair[1] if lang == "en" else pair[0]
    return text.format(**fmt) if fmt else text


def href(path: str, lang: str = DEFAULT_LANG, **params) -> str:
    """A link that keeps the language: href('/jamfor', 'en', a='0180') -> '/jamfor?a=0180&lang=en'.
    Parameters that are None or '' are left out."""
    items = [(k, str(v)) for k, v in params.items() if v is not None and v != ""]
    if lang == "en":
        items.append(("lang", "en"))
    return f"{path}?{urlencode(items)}" if items else path


def search_string(lang: str = DEFAULT_LANG, **params) -> str:
    """Just the '?a=b&lang=en' part (for dcc.Location.search); '' when empty."""
    url = href("", lang, **params)
    return url


def switch_lang_href(pathname: str, search: str | None) -> str:
    """Same page and parameters in the other language."""
    items = [(k, v) for k, v in parse_qsl((search or "").lstrip("?"), keep_blank_values=False)
             if k != "lang"]
    if get_lang(search) != "en":
        items.append(("lang", "en"))
    return f"{pathname or '/'}?{urlencode(items)}" if items else (pathname or "/")


def perspective_label(perspective: str | None, lang: str = DEFAULT_LANG) -> str:
    return t(f"persp_{perspective}", lang) if perspective else ""


def size_group_label(size_group: str | None, lang: str = DEFAULT_LANG) -> str:
    if not size_group:
        return t("missing", lang)
    return t(f"size_{size_group}", lang)


_TREND_KEYS = {
    "förbättras": "trend_improving", "improving": "trend_improving",
    "försämras": "trend_worsening", "worsening": "trend_worsening",
    "ingen tydlig förändring": "trend_flat", "no clear change": "trend_flat", "flat": "trend_flat",
}


def trend_label(verdict: str | None, lang: str = DEFAULT_LANG) -> str:
    """The trends view's verdict in the UI language (unknown verdicts shown as stored)."""
    if not verdict:
        return t("not_computed", lang)
    key = _TREND_KEYS.get(str(verdict).strip().lower())
    return t(key, lang) if key else str(verdict)


# The factors in our own words (what the high scorers did), Swedish and English.
FACTOR_TEXT = {
    1: ("Låt den enskildes behov och önskemål styra: genomförandeplanen används i det dagliga "
        "arbetet och varje brukare har en kontaktman.",
        "Let each person's needs and wishes steer the care: the care plan is used every day and "
        "everyone has a named contact person."),
    2: ("Satsa på personalen: kompetensutveckling för alla, synliga utvecklingsvägar och ett yrke "
        "som marknadsförs mot unga.",
        "Invest in staff: training for everyone, visible career paths and marketing the job to "
        "young people."),
    3: ("Styr med en vision som når ut, få mätbara mål och en rättvis resursfördelning – ofta med "
        "ett balanserat styrkort som verktyg.",
        "Steer with a vision that reaches everyone, a few measurable goals and a fair allocation "
        "of resources – often with a balanced scorecard."),
    4: ("Håll isär rollerna: politiken sätter mål och får goda beslutsunderlag tidigt, "
        "tjänstepersonerna sköter genomförandet.",
        "Keep roles apart: politicians set goals and get good decision material early, officials "
        "run the operations."),
    5: ("Arbeta systematiskt med kvalitet: ett ledningssystem, klagomål som tas om hand och "
        "nationella resultat som leder till konkreta åtgärder.",
        "Work systematically on quality: a management system, complaints that are acted on and "
        "national results that lead to concrete action."),
    6: ("Sätt brukaren i centrum av kulturen: det offentliga åtagandet är tydligt och behoven, "
        "inte personalens rutiner, styr insatserna.",
        "Put the care recipient at the centre of the culture: needs, not staff routines, decide "
        "what is done."),
    7: ("Samarbeta strukturerat med landstinget: tydliga överenskommelser och rutiner som gäller "
        "oavsett huvudman.",
        "Work with the county council in a structured way: clear agreements and routines that "
        "hold whoever is responsible."),
    8: ("Delta aktivt i nätverk med liknande kommuner för att dela kunskap, analysstöd och "
        "tjänster.",
        "Take part in networks with similar municipalities to share knowledge, analysis and "
        "services."),
}
