"""Street addresses on the fast path (``STREET_ADDRESS``), written from postal formats.

Forms found without any label (a label such as "Address:" is handled in ``pii_ids.py``):

* **number first** (US, UK, Ireland, Canada, Australia, NZ): ``123 Main St``, ``221B Baker
  Street``, ``5/12 Smith St`` (AU unit/number), ``1600 Pennsylvania Avenue NW``, ``350 W 42nd
  St``, ``4567 County Road 12``. Road words (Street, Road, Lane, Close, Mews...) count alone;
  place-like USPS suffixes (Park, Hill, Bridge, Village...) count only when a unit or a
  "City, ST 12345" / postcode tail confirms them, because "3 Grand Canyon Views" can be prose;
* **French / Belgian number first**: ``12 rue de la Paix``, ``8 bis, avenue Foch``;
* **type word first, number after** (Italian, Spanish, Catalan, Portuguese, French-Swiss):
  ``Via Roma 12``, ``via Garibaldi, 12``, ``Calle Mayor 5``, ``Rua Augusta, 123``;
* **name first, number after** (German, Austrian, Swiss, Dutch, Flemish, Nordic, Finnish):
  compounds ``Musterstraße 12a``, ``Kerkstraat 5``, ``Drottninggatan 3 B``, ``Mannerheimintie
  12``, separate words ``Berliner Straße 5``, ``Karl Johans gate 22``, ``Nørre Voldgade 12``;
* **a name and number confirmed by a postcode + town**: ``Marszałkowska 10/12, 00-590
  Warszawa``, ``Národní 33, 110 00 Praha``, ``Am Markt 5, 28195 Bremen``;
* **PO boxes**: ``P.O. Box 123``, ``GPO Box 12``, ``Locked Bag 5``, ``Postfach 10 12 34``,
  ``Apartado de correos 12``, ``Casella postale 7``, ``Postbus 123``, ``Skrytka pocztowa 5``,
  and US military mail (``PSC 1234, Box 5678``, ``USNS Smith`` + ``FPO AE 12345``).

Every form needs a house / box number, so the numbers are the candidates: number-first forms
are tried at a free-standing number (not after "Chapter", "Room", "Step", "Page"... or a
currency sign) when the next word can start a street; the forms ending in a number are tried
at the few word starts before it, and only when the word right before the number allows
one (a street suffix, "Box", a capitalised name followed by a postcode) or a Romance street
word is near. ``extend_addresses`` then grows a street over its tail (unit, city, state,
postcode, country; on the same line, the next lines or in a "> " quoted reply) and over a
unit written before it ("Flat 3, 12 High Street").
"""
from __future__ import annotations

import re

from .pii_europe import EU_CITIES
from .types import Span

# road words: a number + capitalised name + one of these is an address on its own
_ROAD = (
    r"Street|St|Str|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Terr|"
    r"Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Crescent|Cres|Close|Row|Mews|Grove|Gr|Gardens|Gdns|"
    r"Walk|Rise|Parade|Pde|Esplanade|Alley|Aly|Expressway|Expy|Freeway|Fwy|Turnpike|Tpke|Causeway|Cswy|Crossing|"
    r"Xing|Loop|Pike|Plaza|Plz|Circuit|Cct|Wynd|Broadway|Promenade|Embankment|Quay|Wharf|Drove|Chase|Hollow|Bypass"
)
# place-like suffixes (USPS Publication 28 and UK / AU usage): need a confirming tail
_PLACE = (
    r"Park|Hill|Hills|Green|View|Views|Vale|Heights|Hts|Ridge|Point|Pt|Bridge|Brg|Village|Vlg|Station|Sta|Center|"
    r"Centre|Ctr|Port|Harbor|Harbour|Island|Isle|Lake|Lakes|River|Valley|Spring|Springs|Estate|Estates|Manor|Crest|"
    r"Shore|Shores|Field|Fields|Forest|Creek|Brook|Falls|Ferry|Ford|Fort|Junction|Jct|Key|Knoll|Knolls|Landing|"
    r"Meadow|Meadows|Mill|Mills|Mission|Mount|Mountain|Orchard|Oval|Pass|Pines|Plains|Prairie|Ranch|Rapids|Run|"
    r"Path|Shoal|Shoals|Summit|Trace|Track|Tunnel|Union|Vista|Via|Wall|Well|Wells|Canyon|Cape|Burg|Camp|Cliff|"
    r"Cliffs|Club|Common|Commons|Corner|Corners|Cove|Coves|Curve|Dale|Dam|Divide|Extension|Flat|Flats|Fork|Forks|"
    r"Gateway|Glen|Glens|Haven|Inlet|Lights|Lock|Locks|Lodge|Loaf|Mall|Neck|Overpass|Plain|Points|Ports|Radial|"
    r"Ramp|Rest|Route|Skyway|Spur|Squares|Stream|Streets|Throughway|Trafficway|Underpass|Villages|Ville|Ways|"
    r"Bayou|Beach|Bluff|Bluffs|Bottom|Branch|Burgs|Byu|Courts|Creeks|Drives|Grounds|Groves|Harbors|Hollows|Islands|"
    r"Junctions|Keys|Lanes|Loops|Manors|Mountains|Orchards|Parks|Parkways|Passages|Ridges|Roads|Routes|Terraces|"
    r"Trails|Unions|Valleys|Viaduct|Vistas|Avenues|Boulevards|Crossroad|Crossroads|Estates|Fall|Motorway|Gardens"
)
# the words before a number that make it something else than a house number
_NOT_HOUSE = frozenset(
    "chapter chapters ch room rooms step steps page pages p pp section sec figure fig table level levels floor "
    "platform gate gates rule rules version v ver release part parts vol volume episode season item items "
    "question q lesson grade class year years day days week weeks no number nr verse line lines "
    "article art paragraph clause row rows column col exercise task phase stage round game games track "
    "slide slides appendix tier size top over under about around approx approximately only just "
    "bus tram train flight seat aisle bay dock pier lane terminal hall ward bed block sector zone".split()
)

_NUM_EN = r"(?:\d{1,4}/)?\d{1,6}[A-Za-z]?(?:-\d{1,6}[A-Za-z]?)?"
_NAME_EN = r"(?:(?:[A-Z][A-Za-z'\-]*\.?|\d{1,3}(?:st|nd|rd|th)|[A-Z]\.)[ \t]+){1,4}"
_DIR = r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?[ \t]+)?"
_EN_RE = re.compile(
    r"(?<![\w$€£¥.,/:\-])" + _NUM_EN + r"[ \t]+" + _DIR + r"(?P<name>" + _NAME_EN + r")"
    r"(?:(?P<road>" + _ROAD + r")|(?P<place>" + _PLACE + r"))(?![\w'\-])\.?"
)
_EN_ROAD_RE = re.compile(_EN_RE.pattern.split("(?:(?P<road>")[0] + r"(?:" + _ROAD + r")(?![\w'\-])\.?")
# US streets with Spanish / Italian names put the number first: "1200 Camino Real", "974 Via Roma"
_NUM_ROMANCE_RE = re.compile(
    r"(?<![\w$€£.,/:\-])\d{1,6}[ \t]+(?:Via|Viale|Piazza|Avenida|Calle|Camino|Paseo|Plaza|Rua|Rue|Carrer|Corso)[ \t]+"
    r"(?:(?:de|del|della|delle|di|da|do|dos|la|las|los|el|des|du)[ \t]+)*[A-ZÀ-Ý][\w'\-]*(?:[ \t]+[A-ZÀ-Ý0-9][\w'\-]*){0,3}"
)
# rural routes: "4567 County Road 12", "12 State Highway 16"
_RURAL_RE = re.compile(
    r"(?<![\w$€£.,/:\-])\d{1,6}[ \t]+(?:(?:State|County|US|U\.S\.|Farm to Market|Ranch)[ \t]+)?"
    r"(?:Road|Rd|Highway|Hwy|Route|Rte)[ \t]+\d{1,4}[A-Z]?(?![\w])"
)
_FR_RE = re.compile(
    r"(?<![\w$€£.,/:\-])\d{1,4}(?:[ \t]?(?:bis|ter|quater|[A-Da-d])(?![\w]))?,?[ \t]+"
    r"(?P<type>(?i:rue|avenue|av\.|boulevard|bd|place|allée|impasse|chemin|quai|cours|route|square|passage|voie|"
    r"faubourg|chaussée|rond-point|esplanade|promenade|sentier|cité|résidence|montée|ruelle|parvis))"
    r"[ \t]+(?:(?P<part>de[ \t]+la|de[ \t]+l'|du|des|de|d'|la|le|les|l'|aux|au)[ \t]*)?"
    r"[^\W\d_][\w'\-]*(?:[ \t]+(?:(?:de|du|des|la|le|les|d'|l'|et|sur|en)[ \t]*)?[A-ZÀ-Ý][\w'\-]*){0,3}"
)
_ROMANCE_TYPES = (
    r"Via|Viale|Piazza|Piazzale|Corso|Largo|Vicolo|Contrada|Lungomare|Borgo|Calle|Carrer|Avenida|Avinguda|"
    r"Plaza|Plaça|Paseo|Passeig|Camino|Carretera|Ronda|Travesía|Rua|Rúa|Travessa|Praça|Estrada|Alameda|Rue|Avenue|"
    r"Chemin|Route|Piazzetta|Strada|Bulevardul|Calea|Șoseaua|Soseaua|Aleea|Piața|Piata"
)
# Italian, Spanish and Portuguese often write the street word in lower case ("via Roma, 12")
_ROMANCE_LOWER = "|".join(w.lower() for w in _ROMANCE_TYPES.split("|") if w not in ("Rue", "Avenue", "Chemin", "Route"))
_ROMANCE_RE = re.compile(
    r"(?<![\w])(?P<type>" + _ROMANCE_TYPES + r"|" + _ROMANCE_LOWER + r")[ \t]+"
    r"(?P<part>(?:(?:di|del|della|dello|dei|degli|delle|de|da|do|dos|das|la|las|los|el|les|du|des|dels|d'|l'|San|"
    r"Santa|Santo|São|Sant'|Nuestra|Señora)[ \t]*)*)"
    r"[A-ZÀ-Ý][\w'.\-]*(?:[ \t]+(?:(?:di|del|della|dei|degli|delle|de|da|do|dos|das|la|las|los|el|e|y|i|du|des|"
    r"d'|l')[ \t]*)*[A-ZÀ-Ý][\w'.\-]*){0,4}"
    r"(?P<sep>,?[ \t]*)(?:(?:n[º°o]?|nr)\.?[ \t]*)?(?P<num>[1-9]\d{0,3}(?:[ \t]?[/\-][ \t]?\d{1,4})?[A-Za-z]?|s/n)(?![\w%.,]\d|[\w%°])"
)
# German / Dutch / Nordic / Finnish compounds ending in a street word, or the street word apart
_SUFFIX = (
    r"stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|(?<![aeiouy])(?<!Sp)(?<!St)(?<!B)(?<!Wr)ring|damm|ufer|chaussee|"
    r"steig|stieg|zeile|graben|"
    r"straat|laan|gracht|plein|kade|singel|dijk|dreef|steeg|"
    r"gatan|gata|vägen|väg|gränd|torget|torg|backen|stigen|allén|veien|vegen|vei|plass|"
    r"vej|(?<!Bri)(?<!ene)gade|stien|stræde|torv|plads|"
    r"vegur|braut|stræti|straeti|stígur|brücke|baan|"
    r"katu|(?<!Neck)(?<!neck)(?<!Bow)(?<!bow)(?<![Cc]u)(?<!Hot)(?<!hot)tie|kuja|polku|tori|väylä"
)
# in lower case ("hersnapvej 18") only the endings no English word has
_LOWER_SUFFIX = r"stra(?:ß|ss)e|straat|gasse|platz|allee|gatan|vägen|katu|vej|gracht|brücke|stræde|straeti|vegur"
_APART = (
    r"Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Damm|Ufer|Chaussee|Steig|Markt|Straat|Laan|Gracht|Plein|Kade|"
    r"Singel|Dijk|Baan|Boulevard|Allé|(?<=s[ \t])gate|gata|gaten|vei|veien|vegen|vej|gade|Gade|allé|plass|torg|väg|vägen|gatan|"
    r"katu|terrasse|bakken|stien|svingen|"
    r"tänav|puiestee|maantee|iela|gatvė|náměstí|nám\.|třída|nábřeží|námestie|"  # Baltic, Czech, Slovak
    r"utca|u\.|út|útja|tér|tere|körút|krt\.|köz|sor|sétány|rakpart|rkp\."  # Hungarian: "Kossuth Lajos utca 12."
)
_HOUSE = r"(?P<num>[1-9]\d{0,3}(?:[ \t]?[a-zA-Z](?![\w])(?:[ \t]\d{1,3}(?![\w]))?)?(?:[ \t]?[/\-][ \t]?\d{1,4}[a-zA-Z]?)?)(?![\w%.,]\d|[\w%°'])"
_NAME_FIRST_RE = re.compile(
    r"(?<![\w\-])(?:"
    r"[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃŠŽČŘ][\w.\-]*(?:" + _SUFFIX + r")"
    r"|[a-zà-öø-þ][\w\-]{2,}(?:" + _LOWER_SUFFIX + r")"
    r"|(?:[A-ZÀ-ÖØ-ÞŁŚŻŹĆŃŠŽČŘ][\w.\-]*[ \t]+){1,3}(?:" + _APART + r")"
    r")[ \t]+" + _HOUSE
)
# postcode + town after a comma (or on the next line): the confirmation for a bare "Name 12"
_POSTCODE = (
    r"(?:[A-Z]{1,2}-)?(?:\d{2}-\d{3}|\d{4}-\d{3}|\d{3}[ \t]\d{2}|\d{5,6}|\d{4}(?:[ \t]?[A-Z]{2}(?![\w]))?)"
)
_TOWN = r"[A-ZÀ-ÝÄÖÜÅÆØŁŚŻŹĆŃ][\wäöüßåæøéèáàíóúõãçąćęłńóśźż'.\-]*(?:[ \t]+[A-ZÀ-ÝÄÖÜŁ0-9][\w'.\-]*){0,2}"
_CONFIRMED_RE = re.compile(
    r"(?<![\w\-])(?P<name>(?:(?:[A-ZÀ-ÝÄÖÜÅÆØŁŚŻŹĆŃ][\wäöüßåæøéèáàíóúõãçąćęłńóśźż'.\-]*|am|an|der|den|dem|im|"
    r"zum|zur|auf|de|la|van|von|del|di|al)[ \t]+){1,4})"
    + _HOUSE + r"(?:[ \t]*,[ \t]*|[ \t]*\n[ \t]*)(?P<pc>" + _POSTCODE + r")[ \t]+" + _TOWN
)
_POBOX_RE = re.compile(
    r"(?<![\w])(?:P\.?[ \t]?O\.?[ \t]?Box|POB|Post[ \t]Office[ \t]Box|GPO[ \t]Box|Locked[ \t]Bag|Private[ \t]Bag|PMB|"
    r"Postfach|Bo[iî]te[ \t]postale|Apartado(?:[ \t]de[ \t]correos|[ \t]postal)?|Casella[ \t]postale|Caixa[ \t]postal|"
    r"Postbus|Postboks|Postbox|Skrytka[ \t]pocztowa|Box)[ \t]*#?[ \t]*\d{1,6}(?:[ \t]\d{2}){0,2}(?![\w])"
    r"|(?i:(?<![\w])(?:PSC|CMR|Unit)[ \t]+\d{4},?[ \t]+Box[ \t]+\d{1,5}(?![\w])"
    r"|(?<![\w])(?:USNS|USNV|USS|USCGC)[ \t]+[^\W\d_]+(?=[ \t]*(?:,|\n)[ \t]*[AFD]PO[ \t]+A[AEP][ \t]+\d{5}))"
)

# what may follow a street: a unit, then a town with state / postcode, then a country
_STATES = (
    r"A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY]|"
    r"A[AEP]|GU|PR|VI|AS|MP"
)
_CA_PROV = r"AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT"
_AU_STATES = r"NSW|VIC|QLD|TAS|ACT|WA|SA|NT"
_CITY = r"[A-Z][\w'.\-]*(?:[ \t]+[A-Z][\w'.\-]*){0,2}"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"
_CA_POSTCODE = r"[A-Z]\d[A-Z][ \t]?\d[A-Z]\d"
_COUNTRY = (r"USA|U\.S\.A\.|US|United States|UK|United Kingdom|Canada|Australia|New Zealand|Germany|Deutschland|"
            r"Poland|Polska|France|Spain|España|Italy|Italia|Netherlands|Nederland|Austria|Österreich|Switzerland|"
            r"Schweiz|Suisse|Ireland|Belgium|Belgique|België|Sweden|Sverige|Norway|Norge|Denmark|Danmark|Finland|"
            r"Suomi|Portugal|Czech Republic|Czechia|Slovakia|Hungary|Slovenia|Croatia|Estonia|Latvia|Lithuania|Iceland|"
            r"Greece|Cyprus|Romania|Bulgaria|Luxembourg|Greenland|South Africa|Mexico|Brazil|Argentina|Uruguay|Chile|"
            r"Japan|India|Singapore")
_UNIT = r"(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|Lot|Bldg|Building|Dept|#)\.?[ \t]*#?[\w\-]{1,6}"
_SEP = r"(?:,[ \t]*(?:\n[ \t>]*)?|[ \t]*\n[ \t>]*)"  # "> " quotes a reply
_TAIL = re.compile(
    r"(?:\.(?=[ \t]*[,\n]))?"  # Hungarian / Czech "u. 12."
    r"(?:[ \t]+(?:NE|NW|SE|SW|N|S|E|W)\.?(?![\w]))?"  # "Pennsylvania Avenue NW"
    r"(?:(?:(?:,?[ \t]*|" + _SEP + r")" + _UNIT + r")?"
    r"(?:" + _SEP + r"(?:" + _CITY + r")(?:,[ \t]*|[ \t]+)(?:(?:" + _STATES + r"|" + _CA_PROV + r")(?![\w])"
    r"(?:[ \t]+(?:\d{5}(?:-\d{4})?|" + _CA_POSTCODE + r"))?|(?:" + _AU_STATES + r")[ \t]+\d{4}(?![\w])|"
    r"[A-Z][a-z]+(?:[ \t][A-Z][a-z]+)?[ \t]+\d{5}(?:-\d{4})?|"
    r"\d{5}(?:-\d{4})?|" + _UK_POSTCODE + r"|" + _CA_POSTCODE + r")"
    r"|" + _SEP + _POSTCODE + r"[ \t]+" + _TOWN + r"(?:[ \t]+\([A-Z]{2}\)|[ \t]+[A-Z]{2}(?![\w]))?"
    r"|" + _SEP + _CITY + r"(?=" + _SEP + r"(?:" + _COUNTRY + r")(?![\w]))"  # "Akureyri\nIceland"
    r"|" + _SEP + r"(?i:[AFD]PO[ \t]+A[AEP])[ \t]+\d{5})"
    r"(?:" + _SEP + r"(?:" + _COUNTRY + r")(?![\w]))?"
    r"|(?:,?[ \t]*|" + _SEP + r")" + _UNIT + r"(?![\w]))?"
)
_UNIT_BEFORE = re.compile(
    r"(?:Flat|Apt\.?|Apartment|Unit|Suite|Ste\.?|Studio|Shop|Lot|Level)(?:[ \t]*#?[\w\-]{1,5},?)?[ \t]*$"
)


# Title Case headlines ("3 Tips For The Perfect Drive") are no street names; "12 The Mall" is
_TITLE_WORDS = frozenset(
    "for to of and a an in on at by is are your my our their this that with from about how why what when best top "
    "ways tips things reasons steps ideas".split()
)


def _headline(name: str) -> bool:
    words = name.lower().split()
    return any(w in _TITLE_WORDS or (w == "the" and i) for i, w in enumerate(words))


_FR_STRONG = frozenset("rue boulevard bd allée impasse chemin quai faubourg chaussée rond-point ruelle montée parvis cité".split())


_DIGITS = re.compile(r"\d+")
_SN = re.compile(r"(?<![\w/])[sS]/[nN](?![\w/])")
_ROMANCE_WORDS = frozenset(w.lower() for w in _ROMANCE_TYPES.split("|"))
# a lower-case word after a house number that can start a French street ("12 rue", "8 bis, avenue")
_NUM_FIRST_WORDS = frozenset("State County US U.S. Farm Ranch Road Rd Highway Hwy Route Rte Via Viale Piazza Avenida Calle "
                             "Camino Paseo Plaza Rua Rue Carrer Corso".split())
_FR_NEXT = frozenset("rue avenue av. boulevard bd place allée impasse chemin quai cours route square passage voie "
                     "faubourg chaussée rond-point esplanade promenade sentier cité résidence montée ruelle parvis "
                     "bis ter quater a b c d".split())
_ROMANCE_AMBIG = frozenset(("Route", "Avenue", "Plaza", "Largo", "Ronda", "Alameda", "Corso"))
# the word right before a box number ("P.O. Box 12", "Apartado de correos 45", "FPO AE 09021")
_POBOX_BEFORE = frozenset("box bag pmb pob postfach postale postal apartado correos postbus postboks postbox pocztowa "
                          "aa ae ap".split())
# the word right before a house number that lets the name-first form run (its regex decides)
_SUFFIX_ENDS = tuple({
    w.replace("\\.", ".")
    for w in re.sub(r"\(\?<[=!][^)]*\)", "", (_SUFFIX + "|" + _APART).replace("stra(?:ß|ss)e", "straße|strasse")).lower().split("|")
})
_AFTER_HOUSE = re.compile(r"[ \t]?[A-Za-z]?(?:[ \t]?[/\-][ \t]?\d{1,4}[a-zA-Z]?)?\.?[ \t]*(?:,|\n)[ \t>]*(?:[A-Z]{1,2}-)?\d")


def address_spans(text: str) -> list[Span]:
    """Street addresses (see the module docstring for the forms). Each free-standing number
    up to six digits is a candidate: number-first forms are tried at it; a form ending in
    the number is tried just before it, only when the word before it (or a street word a
    few words back) allows one, so ordinary prose costs one scan for digits."""
    found: dict[tuple[int, int], Span] = {}

    def add(s: int, e: int) -> None:
        found[(s, e)] = Span("STREET_ADDRESS", s, e, 0.7, "pattern")

    n = len(text)
    romance_here: bool | None = None  # any Romance street word in the text at all (looked up once)
    cands = [c.span() for c in _DIGITS.finditer(text)]
    if "/n" in text or "/N" in text:  # Spanish "s/n" (no number) closes a street as a number does
        cands += [m.span() for m in _SN.finditer(text)]
        cands.sort()
    for ns, ne in cands:
        if (ne - ns > 6 or (ns and (text[ns - 1] in "+:" or (text[ns - 1] in ".," and ns > 1 and text[ns - 2].isdigit())))
                or (ne < n and text[ne] in "%:") or (ne + 1 < n and text[ne] in ".," and text[ne + 1].isdigit())):
            continue  # decimals, percentages, times, long numbers ("Calle Montevideo,66" is a street)
        prev = text[max(0, ns - 40) : ns].split()
        p = prev[-1].strip(",#>(") if prev else ""  # the word right before, in its own case
        before = p.lower().strip(".:)")
        if (not ns or not (text[ns - 1].isalnum() or text[ns - 1] in "$€£¥/-")) and before not in _NOT_HOUSE:
            nxt = text[ne : ne + 24].split(None, 2)
            if nxt and (nxt[0][:1].isupper() or nxt[0][:1].isdigit() or nxt[0][:1] in "/-"
                        or nxt[0].lower().strip(",") in _FR_NEXT or (len(nxt) > 1 and nxt[1].lower() in _FR_NEXT)):
                _number_first(text, ns, add, nxt)
        if not p:
            continue
        checks = []
        if before in _POBOX_BEFORE:
            checks.append(_POBOX_RE)
        if p.lower().endswith(_SUFFIX_ENDS):
            checks.append(_NAME_FIRST_RE)
        if p[:1].isupper() and before not in _NOT_HOUSE and ("," in text[ne : ne + 14] or "\n" in text[ne : ne + 14]) \
                and _AFTER_HOUSE.match(text, ne) is not None:
            checks.append(_CONFIRMED_RE)
        if romance_here is None:
            low = text.lower()
            romance_here = any(w in low for w in _ROMANCE_WORDS)
        if romance_here and not _ROMANCE_WORDS.isdisjoint(w.lower().strip("(\"'[>") for w in prev[-10:]):
            checks.append(_ROMANCE_RE)
        if checks:
            ws = max(0, ns - 64)
            while ws > 0 and not text[ws - 1].isspace():
                ws -= 1
            # these forms end in the number: try them only at the few word starts before it
            starts = _word_starts(text, ws, ns)
            we = min(n, ne + 48)
            tok = p.lower()
            for rx in checks:
                for st, w in starts:
                    if rx is _ROMANCE_RE and w.lower() not in _ROMANCE_WORDS:
                        continue  # the street word opens the match
                    if (rx is _NAME_FIRST_RE or rx is _CONFIRMED_RE) and not w[:1].isupper() and w.lower() != tok:
                        continue  # a capitalised name opens these (or a lower-case compound: "hersnapvej")
                    m = rx.match(text, st, we)
                    # the match must reach the number (a "USNS Name" reaches the FPO line after it)
                    if m is not None and (m.end() > ns or rx is _POBOX_RE) and _keep(text, rx, m):
                        add(m.start(), m.end("num") if rx is _CONFIRMED_RE else m.end())
                        break
    return list(found.values())


_TOKEN = re.compile(r"[^\W_][^\s/]*|#\S*")  # a word from its first letter or digit: skips "> ", "(", "C/"


def _word_starts(text: str, ws: int, ns: int, k: int = 10) -> list[tuple[int, str]]:
    """(start, word) of the last ``k`` words in text[ws:ns], earliest first."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(text, ws, ns)][-k:]


def _keep(text: str, rx: re.Pattern[str], m: re.Match[str]) -> bool:
    if rx is _POBOX_RE:
        return not m.group().startswith("Box") or _confirmed(text, m.end())  # a bare "Box 3" needs a town
    if rx is _ROMANCE_RE:
        t = m.group("type")
        # "via Slack 2 times", "Route Planner 2": need "via Roma, 12", "Route de Genève" or a postcode
        loose = (t[0].islower() and not m.group("sep").startswith(",")) or (t in _ROMANCE_AMBIG and not m.group("part"))
        return not loose or _confirmed(text, m.end())
    if rx is _NAME_FIRST_RE:
        return not _yearish(m.group("num")) or _confirmed(text, m.end())
    name = m.group("name")
    return (name[0].isupper() and name.split()[0].lower() not in _NOT_HOUSE
            and not _yearish(m.group("pc")) and not _yearish(m.group("num")))


def _number_first(text: str, ns: int, add, nxt: list[str]) -> None:
    first = nxt[0].strip(",")
    m = _EN_RE.match(text, ns) if first[:1].isupper() or first[:1].isdigit() or first[:1] in "/-" else None
    if m is not None and _headline(m.group("name")):
        m = None
    if m is not None:
        if m.group("place") is not None:
            t = _TAIL.match(text, m.end(), min(len(text), m.end() + 90))
            if t is None or t.end() == m.end():
                # "3 Grand Canyon Views" is prose until a unit or a town confirms it;
                # "14 Crown Street Kishiev Squares" still holds a street
                m = _EN_ROAD_RE.match(text, ns, m.end())
        if m is not None:
            add(m.start(), m.end())
    for rx in (_RURAL_RE, _FR_RE, _NUM_ROMANCE_RE):
        if rx is _FR_RE and not (first.lower() in _FR_NEXT or (len(nxt) > 1 and nxt[1].lower() in _FR_NEXT)):
            continue
        if rx is not _FR_RE and first not in _NUM_FIRST_WORDS:
            continue
        m = rx.match(text, ns)
        if m is None:
            continue
        if rx is _FR_RE and not (m.group("part") or m.group("type").lower() in _FR_STRONG
                                 or text[m.end("type") + 1 :].lstrip()[:1].isupper()):
            continue  # "3 square meters", "5 route changes": no French street
        add(m.start(), m.end())


def _yearish(num: str) -> bool:
    return len(num) == 4 and num[:2] in ("19", "20")


def _confirmed(text: str, end: int) -> bool:
    """A postcode follows the number, or a city as it is written at home ("Corso Buenos Aires 1, Milano")."""
    t = _TAIL.match(text, end, min(len(text), end + 90))
    if t is not None and t.end() > end and any(c.isdigit() for c in text[end : t.end()]):
        return True
    c = _CITY_AFTER.match(text, end)
    return c is not None and c.group(1).lower() in EU_CITIES


_CITY_AFTER = re.compile(r",?[ \t]*([A-ZÀ-Ý][^\W\d_]+)")


def extend_addresses(text: str, spans: list[Span]) -> list[Span]:
    """A street span grows over the unit / town / state / postcode that follows it and over a
    unit written before it. Returns ``spans`` itself when nothing grew."""
    out = []
    grew = False
    for s in spans:
        if s.kind == "STREET_ADDRESS":
            start, end = s.start, s.end
            m = _TAIL.match(text, end, min(len(text), end + 90))
            if m is not None and m.end() > end:
                end = m.end()
                while end > s.end and text[end - 1] in " \t,.\n":
                    end -= 1
            if start > 0 and text[start - 1] in " \t,":
                u = _UNIT_BEFORE.search(text, max(0, start - 24), start)
                if u is not None and (u.start() == 0 or not text[u.start() - 1].isalnum()):
                    start = u.start()
            if (start, end) != (s.start, s.end):
                s = Span(s.kind, start, end, s.score, s.detector)
                grew = True
        out.append(s)
    return out if grew else spans


# ---------------------------------------------------------------- postal codes without a street

# A postal code pins a person down to a few streets, and it is written without a street as often as
# with one: "Chicago, IL 60614", "Send it to SW1A 1AA". Only forms that cannot be a number or a code
# of something else: a US ZIP right after "City, ST" (a real state), a UK postcode with its space and a
# real postcode area, a Canadian one with its space and the letters Canada Post uses. The code is
# reported as part of an address (what the labeled "ZIP code 60614" gives).
_UK_AREAS = (
    "AB|AL|B|BA|BB|BD|BH|BL|BN|BR|BS|BT|CA|CB|CF|CH|CM|CO|CR|CT|CV|CW|DA|DD|DE|DG|DH|DL|DN|DT|DY|E|EC|EH|EN|EX|FK|FY|G|GL|GU|"
    "HA|HD|HG|HP|HR|HS|HU|HX|IG|IP|IV|KA|KT|KW|KY|L|LA|LD|LE|LL|LN|LS|LU|M|ME|MK|ML|N|NE|NG|NN|NP|NR|NW|OL|OX|PA|PE|PH|PL|PO|"
    "PR|RG|RH|RM|S|SA|SE|SG|SK|SL|SM|SN|SO|SP|SR|SS|ST|SW|SY|TA|TD|TF|TN|TQ|TR|TS|TW|UB|W|WA|WC|WD|WF|WN|WR|WS|WV|YO|ZE"
)
# Found from the digit clusters FastPII has already listed (a five-digit one; one right after an
# upper-case letter), then checked where they stand: one pattern tried at every position of the
# text cost ~150 us per KB.
_FIVE = re.compile(r"\d{5}(?:-\d{4})?(?![\w-])")
_US_BEFORE = re.compile(r"(?<![\w-])" + _CITY + r",[ \t]*(?:" + _STATES + r")[ \t]+$")
_UK_AT = re.compile(r"(?:" + _UK_AREAS + r")\d[A-Z\d]?[ \t]\d[ABD-HJLNP-UW-Z]{2}(?![\w-])")
_CA_AT = re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \t]\d[ABCEGHJ-NPRSTV-Z]\d(?![\w-])")


def postal_spans(text: str, clusters: list[tuple[int, int]]) -> list[Span]:
    """``clusters``: the start and end of each run of digits (``pii._digit_windows``)."""
    out = []
    end = -1
    for a, _ in clusters:
        if a < end or not a:
            continue
        before = text[a - 1]
        if before in " \t":  # "Chicago, IL 60614"
            m = _FIVE.match(text, a)
            if m is not None and a >= 4 and _US_BEFORE.search(text, max(0, a - 60), a):
                out.append(Span("STREET_ADDRESS", a, m.end(), 0.8, "pattern"))  # above a phone: "MA 01105-1234"
        elif before.isupper():  # "SW1A 1AA", "M5V 3L9"
            st = a - 2 if a >= 2 and text[a - 2].isupper() else a - 1
            if st and (text[st - 1].isalnum() or text[st - 1] == "-"):
                continue
            found = _UK_AT.match(text, st) or _CA_AT.match(text, st)
            if found is not None:
                out.append(Span("STREET_ADDRESS", found.start(), found.end(), 0.8, "pattern"))
                end = found.end()
    return out
