"""The 15 high / 15 low selection (SKL 2010, *Öppna jämförelser analys –
framgångsfaktorer inom äldreomsorgen*, ch. 2) as pure functions over DataFrames.

1. Ranking: per size group the 6 highest and 6 lowest (small, medium), 3 and 3 (large).
2. Geographic spread (optional, `max_per_county=K`): walk the municipalities in rank order
   1, 2, … and take one if its size group still has a free place and fewer than K from its
   county are already in the high list; the low list likewise from the last rank upward.
   This replaces the study's undocumented "small adjustment" with a rule anyone can rerun.
3. Swaps: a selected municipality replaced by another of the same size group, with the
   reason recorded — the manual adjustment made visible.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import pandas as pd

QUOTAS: dict[str, int] = {"small": 6, "medium": 6, "large": 3}
SIZE_GROUP_ORDER = ("small", "medium", "large")
SIZE_GROUP_SV = {"small": "Små kommuner", "medium": "Medelstora kommuner", "large": "Stora kommuner"}
RESULT_SV = {"high": "Höga resultat", "low": "Låga resultat"}
CODE_RE = re.compile(r"^\d{4}$")

ITEM_COLUMNS = ["municipality_code", "name", "size_group", "result", "rank", "group_rank",
                "composite", "county_code", "county_name", "adjusted", "reason", "replaces"]


def group_quarters(group_rank: pd.Series, group_n: pd.Series) -> pd.Series:
    """'top' / 'middle' / 'bottom' per row: the size group's best quarter is group ranks
    1..floor(n/4), the worst the last floor(n/4) ranks, the rest the middle; NA without a rank
    (pure). Stored in composite_index so /urval can warn when a swap brings in a municipality
    from the middle of its group (a "high" or "low" result it does not have)."""
    r = pd.to_numeric(group_rank, errors="coerce")
    n = pd.to_numeric(group_n, errors="coerce")
    q = (n // 4)
    out = pd.Series(pd.NA, index=group_rank.index, dtype="object")
    has = r.notna() & n.notna()
    out[has] = "middle"
    out[has & (r <= q)] = "top"
    out[has & (r > n - q)] = "bottom"
    return out


def table1_rows(items: pd.DataFrame) -> pd.DataFrame:
    """The study's Tabell 1 for a selection, long form with counts (pure): per size group and result ('high', 'low') the
    overall ranks of the municipalities in it, ascending, as '3,5,9', and how many (0 and '' when
    none). items: size_group, result, rank (a selection after swaps, or the study's own sample).
    Stored per selection run in the selection_table1 mart; /urval reads it. (table1 below is
    the CLI's wide form of the same ranks.)"""
    rows = []
    for g in SIZE_GROUP_ORDER:
        for res in ("high", "low"):
            part = items[(items["size_group"] == g) & (items["result"] == res)]
            ranks = sorted(int(r) for r in part["rank"])
            rows.append({"size_group": g, "result": res, "ranks": ",".join(str(r) for r in ranks),
                         "n": len(ranks)})
    return pd.DataFrame(rows, columns=["size_group", "result", "ranks", "n"])


class SelectionError(ValueError):
    """A selection request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Swap:
    out_code: str
    in_code: str
    reason: str

    def as_dict(self) -> dict:
        return {"out": self.out_code, "in": self.in_code, "reason": self.reason}


def parse_swap(text: str) -> Swap:
    """'OUT:IN:REASON' (the reason may itself contain colons)."""
    parts = text.split(":", 2)
    if len(parts) != 3:
        raise SelectionError(f"--swap {text!r}: expected OUT:IN:REASON, e.g. 0180:0182:bättre länsspridning")
    out_code, in_code, reason = (p.strip() for p in parts)
    for c in (out_code, in_code):
        if not CODE_RE.match(c):
            raise SelectionError(f"--swap {text!r}: {c!r} is not a municipality code (four digits, e.g. 0180)")
    if out_code == in_code:
        raise SelectionError(f"--swap {text!r}: OUT and IN are the same municipality")
    if not reason:
        raise SelectionError(f"--swap {text!r}: give a reason (OUT:IN:REASON); it is stored with the selection")
    return Swap(out_code, in_code, reason)


def _walk(rows: pd.DataFrame, quotas: dict[str, int], max_per_county: int | None,
          exclude: set[str]) -> list[str]:
    taken_group: Counter = Counter()
    taken_county: Counter = Counter()
    chosen: list[str] = []
    for code, group, county in zip(rows["municipality_code"], rows["size_group"], rows["county_code"]):
        if code in exclude or group not in quotas or taken_group[group] >= quotas[group]:
            continue
        if max_per_county is not None and taken_county[county] >= max_per_county:
            continue
        chosen.append(code)
        taken_group[group] += 1
        taken_county[county] += 1
        if all(taken_group[g] >= q for g, q in quotas.items()):
            break
    return chosen


def _lists(ranked: pd.DataFrame, quotas: dict[str, int], max_per_county: int | None):
    by_rank = ranked.sort_values("rank")
    high = _walk(by_rank, quotas, max_per_county, set())
    low = _walk(by_rank.iloc[::-1], quotas, max_per_county, set(high))
    return high, low


def select(ranked: pd.DataFrame, quotas: dict[str, int] | None = None,
           max_per_county: int | None = None) -> pd.DataFrame:
    """The selection from a ranked index.

    ranked: municipality_code, name, county_code, county_name, size_group, rank, group_rank,
    composite (all municipalities of one year and config).
    """
    quotas = dict(QUOTAS if quotas is None else quotas)
    if max_per_county is not None and max_per_county < 1:
        raise SelectionError(f"--max-per-county {max_per_county}: must be at least 1")
    high, low = _lists(ranked, quotas, max_per_county)
    plain_high, plain_low = _lists(ranked, quotas, None) if max_per_county is not None else (high, low)
    info = ranked.set_index("municipality_code")
    rows = []
    for result, chosen, plain in (("high", high, plain_high), ("low", low, plain_low)):
        dropped = {g: [c for c in plain if c not in chosen and info.at[c, "size_group"] == g]
                   for g in quotas}
        for code in chosen:
            r = info.loc[code]
            adjusted = code not in plain
            replaces = None
            if adjusted:
                # pair newcomers with the ranking's municipalities they displaced, in rank order
                replaces = dropped[r["size_group"]].pop(0) if dropped[r["size_group"]] else None
                repl = f"; i stället för {replaces} {info.at[replaces, 'name']}" if replaces else ""
                reason = f"länsspridning: högst {max_per_county} per län{repl}"
            else:
                side = "högsta" if result == "high" else "lägsta"
                reason = f"rangordning: bland de {quotas[r['size_group']]} {side} i storleksgruppen"
            rows.append({"municipality_code": code, "name": r["name"], "size_group": r["size_group"],
                         "result": result, "rank": int(r["rank"]), "group_rank": int(r["group_rank"]),
                         "composite": float(r["composite"]), "county_code": r["county_code"],
                         "county_name": r.get("county_name"), "adjusted": adjusted,
                         "reason": reason, "replaces": replaces})
    return order_items(pd.DataFrame(rows, columns=ITEM_COLUMNS))


def order_items(items: pd.DataFrame) -> pd.DataFrame:
    key = items["size_group"].map({g: i for i, g in enumerate(SIZE_GROUP_ORDER)}).fillna(9)
    res = items["result"].map({"high": 0, "low": 1})
    return (items.assign(_g=key, _r=res).sort_values(["_g", "_r", "rank"])
            .drop(columns=["_g", "_r"]).reset_index(drop=True))


def _label(info: pd.DataFrame, code: str) -> str:
    return f"{code} {info.at[code, 'name']}"


def apply_swaps(items: pd.DataFrame, ranked: pd.DataFrame, swaps: list[Swap]) -> pd.DataFrame:
    """Replace selected municipalities, one swap after the other (a later swap may take out
    one an earlier swap put in). Raises SelectionError with a clear message."""
    info = ranked.set_index("municipality_code")
    items = items.copy()
    for s in swaps:
        tag = f"--swap {s.out_code}:{s.in_code}"
        for c in (s.out_code, s.in_code):
            if c not in info.index:
                raise SelectionError(f"{tag}: unknown municipality code {c} (not in the index for this year)")
        selected = dict(zip(items["municipality_code"], items["result"]))
        if s.out_code not in selected:
            raise SelectionError(f"{tag}: {_label(info, s.out_code)} is not selected, so it cannot be swapped out")
        if s.in_code in selected:
            raise SelectionError(f"{tag}: {_label(info, s.in_code)} is already selected "
                                 f"({selected[s.in_code]})")
        g_out, g_in = info.at[s.out_code, "size_group"], info.at[s.in_code, "size_group"]
        if g_out != g_in:
            raise SelectionError(f"{tag}: {_label(info, s.in_code)} is in size group {g_in}, "
                                 f"{_label(info, s.out_code)} in {g_out}; a swap must stay within "
                                 f"the size group")
        r = info.loc[s.in_code]
        i = items.index[items["municipality_code"] == s.out_code][0]
        items.loc[i, ["municipality_code", "name", "rank", "group_rank", "composite",
                      "county_code", "county_name", "adjusted", "reason", "replaces"]] = [
            s.in_code, r["name"], int(r["rank"]), int(r["group_rank"]), float(r["composite"]),
            r["county_code"], r.get("county_name"), True, s.reason, s.out_code]
    return order_items(items)


def shortfall(items: pd.DataFrame, quotas: dict[str, int] | None = None) -> list[str]:
    """Places the rules could not fill (e.g. a county cap too tight for the counties there
    are), as readable lines; empty when the selection is complete."""
    quotas = QUOTAS if quotas is None else quotas
    out = []
    for g, q in quotas.items():
        for result in ("high", "low"):
            got = int(((items["size_group"] == g) & (items["result"] == result)).sum())
            if got < q:
                out.append(f"{g}/{result}: {got} of {q} places filled")
    return out


def table1(items: pd.DataFrame) -> pd.DataFrame:
    """The study's Table 1 shape: one row per size group, the ranks of the high and the low
    municipalities (ascending)."""
    rows = []
    for g in SIZE_GROUP_ORDER:
        row = {"size_group": g}
        for result in ("high", "low"):
            ranks = sorted(items.loc[(items["size_group"] == g) & (items["result"] == result), "rank"])
            row[result] = ", ".join(str(int(r)) for r in ranks)
        rows.append(row)
    return pd.DataFrame(rows, columns=["size_group", "high", "low"])
