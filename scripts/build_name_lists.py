#!/usr/bin/env python3
"""Build the first-name and surname lists the fast name detector reads.

Source: the person providers shipped with the Faker package (MIT), Latin-script locales plus
the romanized Chinese and Japanese lists; and, as words a lone capitalised word must not be
taken for a name ("Say", "Will", "Hope", "France"), Faker's lorem word lists (English and
Latin whole, six other languages minus their own names) and its country and US state names. Nothing from an evaluation set goes in. Output:
src/seawall/guard/data/{first_names,last_names,common_words}.txt.gz, one lower-case word a line;
and pl_last_names.txt.gz, the Polish locale's surnames (its male and unisex lists, which the
general surname list does not read), used only by the Polish case-form pass (pii_names_pl.py).

    pip install faker && python scripts/build_name_lists.py [--only pl_last_names]
"""
from __future__ import annotations

import argparse
import gzip
import importlib
import pkgutil
import re
from pathlib import Path

from faker.providers import person

OUT = Path(__file__).resolve().parents[1] / "src" / "seawall" / "guard" / "data"
LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ɏ'’\-]+$")
LOCALE_PREFIXES = ("en", "es", "pl", "de", "fr", "it", "pt", "nl", "sv", "no", "da", "fi", "cs", "sk", "sl", "hr",
                   "hu", "ro", "lt", "lv", "et", "tr", "id", "ga", "is", "sw", "tw", "ha", "ig", "zh", "ja", "ko")


def _names(provider, attrs: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for a in attrs:
        v = getattr(provider, a, None)
        if v is None or isinstance(v, property):
            continue
        items = v.keys() if isinstance(v, dict) else v
        for n in items:
            for part in str(n).split():
                if LATIN.match(part) and len(part) >= 2:
                    out.add(part.lower())
    return out


def _write(name: str, items: set[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT / f"{name}.txt.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(sorted(items)) + "\n")
    print(name, len(items))


def polish_surnames() -> set[str]:
    prov = importlib.import_module("faker.providers.person.pl_PL").Provider
    return _names(prov, ("male_last_names", "unisex_last_names", "last_names_male", "last_names_female"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("pl_last_names",), help="rebuild just this list")
    if ap.parse_args().only:
        _write("pl_last_names", polish_surnames())
        return
    first: set[str] = set()
    last: set[str] = set()
    by_language: dict[str, set[str]] = {}  # "es" -> every name of the es_* locales
    for mod in pkgutil.iter_modules(person.__path__):
        if not mod.name.startswith(LOCALE_PREFIXES):
            continue
        prov = importlib.import_module(f"faker.providers.person.{mod.name}").Provider
        f = _names(prov, ("first_names", "first_names_male", "first_names_female", "first_romanized_names"))
        la = _names(prov, ("last_names", "last_romanized_names"))
        first |= f
        last |= la
        by_language.setdefault(mod.name[:2], set()).update(f | la)
    common: set[str] = set()
    for loc in ("en_US", "la", "es_ES", "pl_PL", "de_DE", "fr_FR", "it_IT", "nl_NL"):
        prov = importlib.import_module(f"faker.providers.lorem.{loc}").Provider
        words = {w.lower() for w in prov.word_list if LATIN.match(w)}
        if loc not in ("en_US", "la"):
            # these lists are sampled prose and hold that language's names (Juan, Piotr): drop them
            words -= by_language.get(loc[:2], set())
        common |= words
    # countries (in six languages) and US states are places, never a lone name ("capital of France")
    for loc in ("en_US", "es_ES", "pl_PL", "de_DE", "fr_FR", "it_IT"):
        prov = importlib.import_module(f"faker.providers.address.{loc}").Provider
        places = list(prov.countries) + list(getattr(prov, "states", ()) if loc == "en_US" else ())
        # one-word names only: the words of "Svalbard and Jan Mayen" are not places on their own
        common |= {str(p).lower() for p in places if LATIN.match(str(p)) and len(str(p)) >= 3}
    for name, items in (("first_names", first), ("last_names", last), ("common_words", common),
                        ("pl_last_names", polish_surnames())):
        _write(name, items)


if __name__ == "__main__":
    main()
