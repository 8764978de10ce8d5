"""The centre's numbers (`/statistics/`): recognised products by level and year, by province, group,
OCOP stars and export market; awards about to expire; support projects by year and programme; fairs
by year. Every figure is counted from the rows of the open-data tables (`exports.table_rows`), so the
page and the files a reader downloads always agree."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

EXPIRY_WINDOW = dt.timedelta(days=365)
TOP_MARKETS = 10


def offered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["withdrawn"] is None]


def statistics(tables: dict[str, list[dict[str, Any]]], on: dt.date) -> dict[str, Any]:
    products = offered(tables["products"])
    active = {row["slug"] for row in products}
    recognised: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for award in tables["awards"]:
        if award["counts"]:
            recognised[award["year"]][award["level"]].add(award["product"])
    by_year = {year: {level: len(slugs) for level, slugs in levels.items()} for year, levels in sorted(recognised.items())}
    current = Counter(row["current_level"] for row in products if row["current_level"])
    provinces = _by(products, "province_code")
    groups = _by(products, "group")
    ocop = Counter(row["ocop_stars"] for row in products if row["ocop_stars"])
    markets = Counter(code for row in products for code in row["export_markets"].split())
    expiring = sorted(({"product": award["product"], "level": award["level"], "year": award["year"],
                        "valid_until": award["valid_until"]}
                       for award in tables["awards"]
                       if award["counts"] and award["valid"] and award["product"] in active
                       and award["valid_until"] <= on + EXPIRY_WINDOW),
                      key=lambda item: (item["valid_until"], item["product"]))
    support: dict[tuple[int, str], dict[str, int]] = {}
    for item in tables["support"]:
        line = support.setdefault((item["year"], item["programme"]),
                                  {"projects": 0, "amount_vnd": 0, "counterpart_vnd": 0, "jobs": 0, "accepted": 0})
        line["projects"] += 1
        line["amount_vnd"] += item["amount_vnd"] or 0
        line["counterpart_vnd"] += item["counterpart_vnd"] or 0
        line["jobs"] += item["jobs"] or 0
        line["accepted"] += item["status"] == "accepted"
    fairs = Counter(fair["start"].year for fair in tables["fairs"])
    return {
        "products": len(products), "facilities": len(offered(tables["facilities"])),
        "withdrawn_products": len(tables["products"]) - len(products),
        "withdrawn_facilities": len(tables["facilities"]) - len(offered(tables["facilities"])),
        "recognised_by_year": by_year, "current_by_level": dict(current),
        "by_province": provinces, "by_group": groups,
        "ocop": {stars: ocop[stars] for stars in sorted(ocop)},
        "markets": markets.most_common(TOP_MARKETS),
        "expiring": expiring,
        "support": [{"year": year, "programme": programme, **figures}
                    for (year, programme), figures in sorted(support.items(), reverse=True)],
        "support_totals": {key: sum(line[key] for line in support.values())
                           for key in ("projects", "amount_vnd", "counterpart_vnd", "jobs", "accepted")},
        "fairs_by_year": dict(sorted(fairs.items())),
    }


def _by(products: list[dict[str, Any]], key: str) -> list[tuple[str, int, int]]:
    """(code, products, products with an award in force), most products first."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in products:
        counts[row[key]][0] += 1
        counts[row[key]][1] += bool(row["current_level"])
    return sorted(((code, total, awarded) for code, (total, awarded) in counts.items()), key=lambda item: (-item[1], item[0]))
