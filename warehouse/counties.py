"""Sweden's 21 counties (län) by SCB's 2-digit county code, as SCB names them."""
from __future__ import annotations

COUNTY_NAMES: dict[str, str] = {
    "01": "Stockholms län",
    "03": "Uppsala län",
    "04": "Södermanlands län",
    "05": "Östergötlands län",
    "06": "Jönköpings län",
    "07": "Kronobergs län",
    "08": "Kalmar län",
    "09": "Gotlands län",
    "10": "Blekinge län",
    "12": "Skåne län",
    "13": "Hallands län",
    "14": "Västra Götalands län",
    "17": "Värmlands län",
    "18": "Örebro län",
    "19": "Västmanlands län",
    "20": "Dalarnas län",
    "21": "Gävleborgs län",
    "22": "Västernorrlands län",
    "23": "Jämtlands län",
    "24": "Västerbottens län",
    "25": "Norrbottens län",
}


def county_name(county_code: str) -> str:
    try:
        return COUNTY_NAMES[county_code]
    except KeyError:
        raise ValueError(f"Unknown county code {county_code!r} (expected one of {sorted(COUNTY_NAMES)})") from None
