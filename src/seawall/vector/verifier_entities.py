"""Entity matching for the verifier: the same thing named two ways is not a different entity.

- demonyms and country names ("Mexican" / "Mexico", "Canadian" / "Canada") share one key;
- an acronym on one side matches the initials of a run of capitalised words on the other
  ("UC" / "University of California", "CDC" / "Centers for Disease Control", "US" /
  "United States"): connecting words (of, for, and, the ...) may be skipped;
- an abbreviation written with a dot ("Rep.", "Gov.") matches a longer word it opens.

A different entity still refuses: "Paris" vs "London", "Mexico" vs "Canada". The gazetteer
(places and languages typed in lower case) and the demonym table were written for this project
(common countries and regions, the forms people write).
"""
from __future__ import annotations

import re
from functools import lru_cache

# country or region: its demonyms / adjectives ("+s" plurals are added for -an/-i/-ese-less forms)
_DEMONYMS = """
afghanistan: afghan afghans | albania: albanian | algeria: algerian | argentina: argentine argentinian |
australia: australian aussie | austria: austrian | bangladesh: bangladeshi | belgium: belgian |
bolivia: bolivian | brazil: brazilian | britain: british briton brits uk u.k | bulgaria: bulgarian |
cambodia: cambodian | canada: canadian | chile: chilean | china: chinese | colombia: colombian |
croatia: croatian | cuba: cuban | czechia: czech | denmark: danish danes | egypt: egyptian |
england: english | ethiopia: ethiopian | europe: european | finland: finnish finns | france: french |
germany: german | ghana: ghanaian | greece: greek | hungary: hungarian | iceland: icelandic icelander |
india: indian | indonesia: indonesian | iran: iranian | iraq: iraqi | ireland: irish |
israel: israeli | italy: italian | jamaica: jamaican | japan: japanese | jordan: jordanian |
kenya: kenyan | korea: korean | kuwait: kuwaiti | lebanon: lebanese | libya: libyan |
malaysia: malaysian | mexico: mexican | morocco: moroccan | nepal: nepali nepalese |
netherlands: dutch holland | nigeria: nigerian | norway: norwegian | pakistan: pakistani |
palestine: palestinian | peru: peruvian | philippines: filipino filipinos philippine |
poland: polish | portugal: portuguese | romania: romanian | russia: russian |
saudi: saudis | scotland: scottish scots | serbia: serbian | singapore: singaporean |
somalia: somali | spain: spanish spaniard | sudan: sudanese | sweden: swedish swedes |
switzerland: swiss | syria: syrian | taiwan: taiwanese | thailand: thai | turkey: turkish turks |
ukraine: ukrainian | venezuela: venezuelan | vietnam: vietnamese | wales: welsh | yemen: yemeni |
zimbabwe: zimbabwean | africa: african | asia: asian | us: american americans america usa u.s u.s.a
"""

# A small gazetteer for entities typed in lower case: places and languages people ask about.
GAZETTEER = frozenset("""
paris london berlin madrid rome lisbon dublin amsterdam brussels vienna prague warsaw budapest
athens stockholm oslo copenhagen helsinki zurich geneva munich milan barcelona moscow kyiv kiev
istanbul ankara cairo lagos nairobi johannesburg capetown dubai riyadh tehran baghdad delhi
mumbai bangalore bengaluru karachi dhaka bangkok singapore jakarta manila hanoi seoul tokyo
osaka beijing shanghai shenzhen hongkong taipei sydney melbourne auckland toronto vancouver
montreal ottawa chicago boston seattle denver austin dallas houston miami atlanta phoenix
philadelphia detroit washington nyc newyork la sanfrancisco losangeles mexico bogota lima
santiago buenosaires saopaulo rio caracas havana quebec edinburgh glasgow manchester
liverpool birmingham lyon marseille nice hamburg frankfurt cologne
france germany spain italy portugal ireland england scotland wales britain uk usa america
canada brazil argentina chile peru colombia venezuela cuba china japan korea india pakistan
bangladesh indonesia philippines vietnam thailand malaysia australia zealand russia ukraine
poland austria switzerland belgium netherlands holland sweden norway denmark finland iceland
greece turkey egypt nigeria kenya ethiopia morocco algeria tunisia israel iran iraq syria
lebanon jordan saudi qatar emirates afghanistan nepal srilanka taiwan singapore europe asia
africa antarctica
california texas florida york ohio oregon nevada arizona utah colorado georgia virginia
michigan illinois alaska hawaii massachusetts
english french german spanish italian portuguese dutch russian chinese mandarin cantonese
japanese korean hindi arabic hebrew turkish polish swedish norwegian danish finnish greek
czech hungarian romanian ukrainian vietnamese thai indonesian malay persian farsi urdu bengali
swahili latin
monday tuesday wednesday thursday friday saturday sunday
""".split())

# Programming languages and well-known software, named wherever they stand (a capitalised
# sentence opener is otherwise only a weak entity): "Python function to ..." vs "Java
# function to ..." asks for other code. Lower case counts for names that are nothing else;
# names that are also everyday words (rust, swift, go, react ...) count only capitalised.
TECH = frozenset("""
python javascript typescript kotlin golang haskell php perl matlab scala elixir clojure fortran
cobol erlang ocaml fsharp c++ c# csharp java postgres postgresql mysql sqlite mongodb redis
kafka elasticsearch docker kubernetes k8s terraform ansible linux ubuntu debian macos
android iphone ipad aws azure gcp django flask fastapi pandas numpy pytorch tensorflow jquery
nodejs vuejs angularjs nextjs graphql excel powerpoint
""".split())
TECH_CAPITALISED = frozenset("rust swift ruby julia dart react angular vue spring rails node "
                             "windows word outlook chrome firefox safari".split())

ALIASES: dict[str, str] = {"nyc": "new york"}
for _entry in _DEMONYMS.replace("\n", " ").split("|"):
    _country, _forms = _entry.split(":")
    _country = _country.strip()
    for _f in _forms.split():
        ALIASES[_f] = _country
        if _f[-1] in "ni" and _f not in ("british",) and not _f.endswith("ese"):
            ALIASES.setdefault(_f + "s", _country)  # Mexicans, Iraqis
        if "." in _f:
            ALIASES[_f + "."] = _country  # "u.s." as tokenised

# Demonyms that name a place even in lower case ("mexican food"); "polish" is also a verb.
LOWER_CASE_DEMONYMS = frozenset(ALIASES) - {"polish", "nyc"}

# Words that may sit inside an expansion without giving a letter to the acronym.
CONNECTORS = frozenset("of for and the on in at de du la del da van von & to".split())
_MAX_RUN = 8  # capitalised words in one expansion


def entity_key(w: str) -> str:
    """One key for one entity: aliases and demonyms fold to the country."""
    return ALIASES.get(w.rstrip("."), w)


@lru_cache(maxsize=1024)
def expansions(raw_tokens: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """initials -> words of each run of capitalised words (connectors skipped or counted):
    "University of California" -> {"uc": {...}, "uoc": {...}}."""
    out: dict[str, frozenset[str]] = {}
    n = len(raw_tokens)
    for i in range(n):
        if not raw_tokens[i][:1].isupper():
            continue
        variants = [("", ())]  # (initials, words) with and without connector letters
        for j in range(i, min(n, i + 2 * _MAX_RUN)):
            t = raw_tokens[j]
            w = t.lower()
            if t[:1].isupper():
                variants = [(ini + w[0], ws + (entity_key(w.removesuffix("'s")),)) for ini, ws in variants]
                for ini, ws in variants:
                    if len(ini) >= 2 and len(ws) >= 2:
                        out.setdefault(ini, frozenset(ws))
            elif w in CONNECTORS and j > i:
                variants = variants + [(ini + w[0], ws) for ini, ws in variants if w[0].isalpha()]
                if len(variants) > 8:
                    variants = variants[:8]
            else:
                break
    return out


_ABBREV = re.compile(r"\b([A-Z][a-z]{1,4})\.")


def abbreviations(text: str) -> frozenset[str]:
    """Short capitalised words written with a dot: "Rep.", "Gov.", "Sen."."""
    return frozenset(m.group(1).lower() for m in _ABBREV.finditer(text))


def match_acronyms(only_a: set[str], only_b: set[str], raw_b: tuple[str, ...]) -> None:
    """Drop from ``only_a`` each acronym spelled out on the other side (its tokens ``raw_b``),
    and that expansion's words from ``only_b`` (in place)."""
    exp_b = expansions(raw_b)
    for e in list(only_a):
        key = e.replace(".", "")
        words = exp_b.get(key)
        if words is not None and 2 <= len(key) <= 8:
            only_a.discard(e)
            only_b.difference_update(words)
