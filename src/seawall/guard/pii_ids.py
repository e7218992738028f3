"""Identifiers and credentials: national / tax IDs, passports, licences, bank numbers, passwords.

Two ways to find one, both on the fast path:

* **Labeled**: a context word the text puts in front of the value ("SSN", "passport no.",
  "numer konta", "NIF", ...; several languages) followed by a value of a plausible shape. A
  labeled value is kept even when its checksum fails: the checksum only raises the score.
  A label glued to the value by a hyphen ("PESEL-20463348319", "FV/2026/61231") is a
  reference code, not a label, so it does not count.
* **Unlabeled**: only where a checksum (plus a date or prefix rule) makes a random look-alike
  unlikely: PESEL, Spanish DNI / NIE, UK National Insurance numbers, NIP in its dashed forms,
  VINs with a valid check digit. Order ids, invoice numbers and dates have no such structure
  and are left alone.

Passwords and other credentials written in prose ("my password is hunter2", "pwd: x9!k") are
found by their label and a value check that rejects ordinary words ("password is incorrect").
"""
from __future__ import annotations

import functools
import re
import string
from typing import Callable

from .pii_europe import BRIDGE_HEADS, COPULAS, LABEL_BRIDGE, PW_ADJECTIVES
from .pii_more import MORE_HEADS
from .pii_phones import CUE_HEADS, more_phones
from .types import Span

# ---------------------------------------------------------------- checksums


def _d(s: str) -> list[int]:
    return [ord(c) - 48 for c in s if c.isdigit()]


def pesel_ok(digits: str) -> bool:
    d = _d(digits)
    if len(d) != 11:
        return False
    w = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    if (10 - sum(a * b for a, b in zip(w, d)) % 10) % 10 != d[10]:
        return False
    month = (d[2] * 10 + d[3]) % 20
    day = d[4] * 10 + d[5]
    return 1 <= month <= 12 and 1 <= day <= 31


def nip_ok(digits: str) -> bool:
    d = _d(digits)
    if len(d) != 10:
        return False
    c = sum(a * b for a, b in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), d)) % 11
    return c != 10 and c == d[9]


def regon_ok(digits: str) -> bool:
    d = _d(digits)
    if len(d) == 9:
        w = (8, 9, 2, 3, 4, 5, 6, 7)
    elif len(d) == 14:
        w = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)
    else:
        return False
    return sum(a * b for a, b in zip(w, d)) % 11 % 10 == d[-1]


def dowod_ok(value: str) -> bool:
    """Polish ID card: 3 letters + 6 digits, the first digit is the check digit."""
    v = "".join(c for c in value if c.isalnum()).upper()
    if len(v) != 9 or not v[:3].isalpha() or not v[3:].isdigit():
        return False
    vals = [ord(c) - 55 for c in v[:3]] + _d(v[4:])
    w = (7, 3, 1, 7, 3, 1, 7, 3)
    return sum(a * b for a, b in zip(w, vals)) % 10 == int(v[3])


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_ok(value: str) -> bool:
    """Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter)."""
    v = "".join(c for c in value if c.isalnum()).upper()
    if len(v) != 9 or not v[-1].isalpha():
        return False
    head = v[:-1]
    if head[0] in "XYZ":
        head = str("XYZ".index(head[0])) + head[1:]
    if not head.isdigit():
        return False
    return _DNI_LETTERS[int(head) % 23] == v[-1]


_NINO_RE = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")


def nino_ok(value: str) -> bool:
    return bool(_NINO_RE.match("".join(c for c in value if c.isalnum()).upper()))


def aba_ok(digits: str) -> bool:
    d = _d(digits)
    if len(d) != 9:
        return False
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


_VIN_VALUES = {**{str(i): i for i in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
               **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_ok(value: str) -> bool:
    v = value.upper()
    if len(v) != 17 or any(c not in _VIN_VALUES for c in v):
        return False
    check = sum(_VIN_VALUES[c] * w for c, w in zip(v, _VIN_WEIGHTS)) % 11
    return v[8] == ("X" if check == 10 else str(check))


# ---------------------------------------------------------------- labeled values

# label regex (case-insensitive) -> entity kind. Checked in order; the first label that
# ends right before a value wins. Abbreviations that are also common words in some
# language ("NIE" is Polish for "no", "DL", "TIN") live in _CASED_LABELS instead.
_LABELS: tuple[tuple[str, str], ...] = (
    ("US_SSN", r"ssn|social[ -]security(?:[ -](?:number|no|num|#))?|soc\.? ?sec\.?"),
    ("CREDIT_CARD", r"(?:credit|debit|payment|bank)?[ -]?card(?:[ -]?(?:number|no|num|#))?|credit card|debit card|cc ?#|"
                    r"numer karty|karta płatnicza|karty płatniczej|n[úu]mero de (?:la )?tarjeta|tarjeta|"
                    r"num[ée]ro de carte|carte bancaire|kreditkarte|kartennummer|visa|mastercard|amex"),
    ("IBAN_CODE", r"iban|nrb"),
    ("PASSPORT", r"passport|pasaporte|paszport(?:u|em)?|passeport|reisepass(?:nummer)?|passnummer|passaporto|pass-?nr|paspoort(?:nummer)?"),
    ("DRIVER_LICENSE", r"driver(?:'?s'?)? licen[cs]e|driving licen[cs]e|licen[cs]e (?:number|no)|"
                       r"prawo jazdy|prawa jazdy|permis de conduire|f[üu]hrerschein(?:nummer)?|rijbewijs(?:nummer)?|"
                       r"(?:carn[ée]|permiso) de conducir|licencia de conducir|patente(?: di guida)?|permis"),
    ("NATIONAL_ID", r"pesel|dow[óo]d(?:u|em|zie)?(?: osobist(?:y|ego|ym))?|national insurance(?: number| no)?|ni number|nino|"
                    r"national id(?:entity)?(?: number| no| card)?|id card(?: number| no)?|identity card(?: number| no)?|"
                    r"personalausweis(?:nummer)?|carte d'identit[ée]|documento nacional de identidad|"
                    r"documento de identidad|c[ée]dula|burgerservicenummer|personnummer|henkilötunnus|ausweisnummer|"
                    r"num[ée]ro de s[ée]curit[ée] sociale|n° de s[ée]curit[ée] sociale|s[ée]curit[ée] sociale|"
                    r"sozialversicherungsnummer|rentenversicherungsnummer|sofinummer|tessera sanitaria|"
                    r"social insurance number|aadhaar(?: number| no)?|carta d'identit[àa]|carta di identit[àa]|identiteitskaart|"
                    r"identiteitsbewijs|ausweis(?:-?nr)?|identifikationsnummer|carte vitale"),
    ("TAX_ID", r"nip|regon|tax id(?:entification)?(?: number| no)?|taxpayer id|tax number|tax reference|vat (?:number|no|id|reg)|"
               r"steuer-?id|steueridentifikationsnummer|steuer-identifikationsnummer|steuernummer|ust-?idnr|codice fiscale|"
               r"num[ée]ro fiscal|numer identyfikacji podatkowej|partita iva|unique taxpayer reference|"
               r"num[ée]ro de tva|tva intracommunautaire|tva|btw-?nummer|tax file number"),
    ("BANK_ACCOUNT", r"(?:bank )?account(?: number| no| num| #)?|acct(?: no| number| #)?|numer konta|nr konta|konto|"
                     r"numer rachunku|nr rachunku|rachunek(?: bankowy)?|rachunku(?: bankowego)?|kontonummer|"
                     r"n[úu]mero de cuenta|cuenta(?: bancaria)?|num[ée]ro de compte|compte bancaire|conto corrente"),
    ("ROUTING_NUMBER", r"routing(?: number| no| #)?|aba(?: number| no| routing)?|sort code|bankleitzahl|blz|bsb|"
                       r"transit number|rtn"),
    ("ID_NUMBER", r"patient id|mrn|medical record(?: number| no)?|nhs(?: number| no)|nhc|n\.?h\.?c|historia cl[íi]nica|"
                  r"nass|cipa?|n[úu]mero de afiliaci[óo]n|afiliaci[óo]n|seguridad social|tarjeta sanitaria|cip|"
                  r"insurance (?:number|no|id)|member(?:ship)? (?:id|number|no)|student (?:id|number|no)|(?:employee|staff|personnel) (?:id|number|no)|personalnummer|medicare(?: number| no| id)?|medicaid(?: number| no| id)?|n[ºo°]\.? ?col(?:egiado)?|colegiado|"
                  r"numer ubezpieczenia|health insurance number|versichertennummer|"
                  # a hospital's own record number and an insurer's policy number name the patient too
                  r"hospital (?:number|no|id)|unit (?:number|no)(?=\.?\s*[:#])|(?:insurance )?policy (?:number|no|id)|"
                  # a hospital stay / visit is an identifier of the patient's record too
                  r"episodio|n[úu]mero de (?:episodio|ingreso)|episode(?: id| number| no)?|encounter(?: id| number| no)?|"
                  r"(?:visit|admission) (?:id|number|no)|numer (?:wizyty|hospitalizacji)|fallnummer"),
    ("VEHICLE_ID", r"vin|vehicle identification number|numer vin|nr vin"),
    ("LICENSE_PLATE", r"(?:licen[cs]e|number|registration|reg\.?) plate(?: number| no)?|plate(?: number| no)?|"
                      r"vehicle registration(?: number| no| mark)?|registration (?:number|no|mark)|"
                      r"kennzeichen|matr[íi]cula|numer rejestracyjny|tablica rejestracyjna|immatriculation|targa|kenteken"),
    ("PHONE_NUMBER", r"phone(?: number| no)?|telephone|tel|mobile|cell(?: phone)?|fax|call me (?:on|at)|whatsapp|"
                     r"tel[ée]fono|tfno|tlfs?|tlfn|telfs?|telef|m[óo]vil|rufnummer|telefonnummer|telefon(?:u|em)?(?: kontaktow(?:y|ego))?|tel\. kom\.?|kom[óo]rk[ai]|"
                     r"handy|t[ée]l[ée]phone|portable|cellulare"),
)
_CASED_LABELS: tuple[tuple[str, str], ...] = (
    ("NATIONAL_ID", r"DNI|NIE|NIF|NI No|BSN|NIN|DNI/NIE|D\.N\.I\.?|NIR|INSEE|SIN"),
    ("TAX_ID", r"TIN|EIN|ITIN|UTR|CIF|VAT|TFN|PAN"),
    ("DRIVER_LICENSE", r"DL|DLN"),
)

# words that may sit between a label and its value ("passport number is", "nr konta:")
_FILLER = (
    # case-insensitive: forms write "Passport No:", "Account Number:"
    r"(?i:[ \t]*(?:number|numbers|num|no|nr|numer|n[ºo°]|n\.[ºo°]|n(?=\.)|nummer|numero|n[úu]mero|num[ée]ro|#|" + COPULAS + r"|was|of|the|el|le|il|het|holder|de|del|do|pojazdu|"
    r"osobistego|bankowego|klienta|pacjenta|\([A-Za-z]{2,6}\)|[:=|\-–(]|\.)(?![\w-]))*[ \t:=|\-–(]*?"
    r"(?:(?<=:)[ \t]*\n[ \t]*(?=[+(]?\d))?"  # a form field whose value sits on the next line ("Phone:\n0393 ...")
)
# the value: optional letter prefix + digit groups (single separators), optional check letter,
# or a mixed letters-and-digits code (licences, VINs)
# (O / l / I inside a digit run are read as OCR slips of 0 / 1; a line break may split a value)
_VALUE = (
    r"\d{2} ?\d{6} ?[A-Z] ?\d{3}(?!\d)|"  # German pension insurance number: area, birth date, initial, serial
    r"(?-i:[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?![\w-])|"  # an IBAN in groups, letters inside
    r"(?-i:\d{4} ?[BCDFGHJKLMNPRSTVWXYZ]{3})(?![\w-])|"  # a Spanish plate
    r"(?:[A-Za-z]{1,3}[ \-]?|\+\d{1,3}[ \-]?\(?|\()?\d(?:(?:[ \-./]|\n(?=\d))?[\dOlI]){3,33}(?:[ \-]?[A-Z](?![a-z]))?"
    r"|(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{6,20}"
    # letters and digits in dashed groups ("1EG4-TE5-MK73", "S530-4712-9981"), or a plate's two
    # groups ("AB12 CDE", "B-MW 1234")
    r"|(?=[A-Za-z0-9\-]*\d)(?=[A-Za-z0-9\-]*[A-Za-z])[A-Za-z0-9]{1,6}(?:-[A-Za-z0-9]{1,6}){1,4}"
    r"|(?-i:[A-Z]{1,3} ?\d{1,4} ?[A-Z]{1,3}|[A-Z]{1,3}[ \-][A-Z]{1,2} ?\d{1,4})"
)


def _label_regex(bridge: str = "") -> re.Pattern[str]:
    parts = []
    for i, (_, lab) in enumerate(_LABELS):
        parts.append(f"(?P<L{i}>(?i:{lab}))")
    for j, (_, lab) in enumerate(_CASED_LABELS):
        parts.append(f"(?P<C{j}>{lab})")
    # the label must stand alone on its left and not be glued to the value by a hyphen
    return re.compile(
        r"(?<![\w/\-])(?:" + "|".join(parts) + r")\.?(?![\w-])(?!-\w)" + bridge + _FILLER + r"(?P<value>" + _VALUE + r")(?![\w-])"
    )


LABELED_RE = _label_regex()
# the same with a noun phrase before the value ("Kennzeichen meines Autos ist …"): its backtracking
# costs, so it is a second try, only after a head that takes one and where a digit follows
_BRIDGED_RE = _label_regex(LABEL_BRIDGE)
_DIGIT = re.compile(r"\d")
_GROUP_KIND = {f"L{i}": k for i, (k, _) in enumerate(_LABELS)} | {f"C{j}": k for j, (k, _) in enumerate(_CASED_LABELS)}


# punctuation and digits become spaces, so str.split() yields the words (3x faster than a regex)
_WORDS = re.compile(r"[^\W\d_]+")
_TO_SPACE = str.maketrans({c: " " for c in string.punctuation + string.digits + "“”‘’«»„–—…|§"})
_OCR = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})


def _checked(kind: str, value: str) -> bool | None:
    """True / False when a checksum applies to this kind and shape; None when none does."""
    from .pii import card_ok, iban_ok, ssn_ok  # the older validators live in pii.py

    if any(c.isdigit() for c in value[:4]):
        value = value[:1] + value[1:].translate(_OCR)
    digits = "".join(c for c in value if c.isdigit())
    alnum = "".join(c for c in value if c.isalnum()).upper()
    if kind == "US_SSN":
        return ssn_ok(digits) if len(digits) == 9 else False
    if kind == "CREDIT_CARD":
        return card_ok(digits) if len(digits) >= 12 else False
    if kind == "IBAN_CODE":
        return iban_ok(alnum) if alnum[:2].isalpha() else None
    if kind == "NATIONAL_ID":
        if len(alnum) == 11 and alnum.isdigit():
            return pesel_ok(alnum)
        if len(alnum) == 9 and alnum[:3].isalpha():
            return dowod_ok(alnum)
        if len(alnum) == 9 and alnum[-1].isalpha():
            return dni_ok(alnum) or nino_ok(alnum)
    if kind == "TAX_ID" and alnum.isdigit():
        if len(alnum) == 10:
            return nip_ok(alnum)
        if len(alnum) in (9, 14):
            return regon_ok(alnum)
    if kind == "ROUTING_NUMBER" and len(digits) == 9:
        return aba_ok(digits)
    if kind == "VEHICLE_ID":
        return vin_ok(alnum) if len(alnum) == 17 else False
    return None


# first words of the labels above: the label regex is only tried where one of them starts, so
# a prompt without any pays for one word split (shared with the name detector), not a scan
LABEL_HEADS = frozenset(
    """ssn social soc credit debit payment bank card cc numer karta karty numero número tarjeta carte kreditkarte
    kartennummer visa mastercard amex iban nrb passport pasaporte paszport paszportu paszportem passeport
    reisepass passaporto pass driver drivers driving licence license prawo prawa permis führerschein fuhrerschein carné
    carne permiso licencia patente pesel dowód dowod dowodu dowodem dowodzie national ni nino id identity
    personalausweis personalausweisnummer documento cédula cedula burgerservicenummer personnummer
    henkilötunnus nip regon tax taxpayer vat steuer steuerid steuernummer ust ustidnr codice numéro account
    acct konto konta rachunku rachunek nr kontonummer cuenta compte conto routing aba sort bankleitzahl blz
    transit rtn patient mrn medical nhs nhc historia nass cip cipa afiliación afiliacion seguridad cip insurance
    member employee nº nºcol colegiado health versichertennummer vin vehicle phone telephone tel mobile cell
    medicare medicaid plate registration reg kennzeichen matrícula matricula rejestracyjny tablica immatriculation targa
    episodio episode encounter visit admission wizyty hospitalizacji fallnummer tlf tlfs tlfn telf telfs telef
    rufnummer telefonnummer fax call whatsapp teléfono telefono tfno móvil movil telefon telefonu telefonem kom komórka komorka komórki
    handy téléphone portable cellulare dni nie nif bsn nin tin ein itin utr cif dl dln
    reisepassnummer passnummer paspoort paspoortnummer führerscheinnummer fuhrerscheinnummer rijbewijs
    rijbewijsnummer ausweisnummer n° sécurité securite sozialversicherungsnummer rentenversicherungsnummer sofinummer
    tessera steueridentifikationsnummer partita unique membership student nir insee tva btw btwnummer
    aadhaar file bsb hospital policy unit staff personnel personalnummer kenteken sin tfn pan
    permis carta identiteitskaart identiteitsbewijs ausweis identifikationsnummer""".split()
)


# an address field: "Domicilio: Calle del pez, 28." / "Address: 12 High St" (up to the line's end)
_ADDRESS_FIELD = re.compile(
    r"(?i)(?:domicilio|direcci[óo]n|home address|address|adres(?: zamieszkania)?|adresse|anschrift|indirizzo|morada)"
    r"[ \t]*:[ \t]*(?P<value>[^\n]{3,80}?)[ \t]*(?=\.?[ \t]*(?:\n|$))"
)
ADDRESS_HEADS = frozenset("domicilio dirección direccion home address adres adresse anschrift indirizzo morada".split())
# Polish and Spanish street forms: "ul. Długa 5/3", "C/ Mayor, 12", "Calle Miguel Benitez 90", "Avda. de Elvas s/n"
_STREET_PREFIXED = re.compile(r"(?<![\w/])(?:(?:ul|al|os|pl|[Aa]vda|[Aa]v|[Pp]za|[Cc]tra)\.|[Cc]/|(?:ulica|aleja|[Cc]alle|[Aa]vda|[Aa]venida|[Pp]laza|"
            r"[Pp]aseo|[Cc]tra|[Cc]amino|[Rr]úa|[Tt]ravesía|[Rr]onda)\b)\s*(?:de l[ao]s?\s+|del?\s+)?[^\W\d_][\w.'\- ]{1,40}?,?\s*"
            r"(?:(?:n[ºo°]\.?\s*)?\d{1,5}[A-Za-z]?(?:\s?[/\-]\s?\d{1,5}[A-Za-z]?)?(?![\d])(?:,?\s*\d[ºª]?\s*[A-Za-z]\b)?|s/n\b)")
STREET_HEADS = frozenset("c ul al os pl avda av pza ctra ulica aleja calle avenida plaza paseo camino rúa travesía ronda".split())


def head_hits(text: str) -> list[tuple[int, str]]:
    """(position, lower-case word) of every label head word in the text; usually few or none."""
    low = text.lower()
    # translate is fast on ASCII; on other text a word regex is cheaper than its slow path
    words = low.translate(_TO_SPACE).split() if low.isascii() else _WORDS.findall(low)
    present = ALL_HEADS.intersection(words)
    if not present:
        return []
    if len(low) != len(text):  # a character whose lower case is longer ("İ"): offsets differ
        rx = _heads_regex(frozenset(present))
        return [(m.start(), m.group().lower()) for m in rx.finditer(text)]
    hits = []
    n = len(low)
    for h in present:  # usually one to five words: str.find beats compiling a regex per set
        i = low.find(h)
        while i >= 0:
            j = i + len(h)
            if (i == 0 or not low[i - 1].isalpha()) and (j == n or not low[j].isalpha()):
                hits.append((i, h))
            i = low.find(h, j)
    hits.sort()
    return hits


@functools.lru_cache(maxsize=512)
def _heads_regex(heads: frozenset[str]) -> re.Pattern[str]:
    # longest first; the same few head sets recur across requests, so this is compiled rarely
    alts = "|".join(re.escape(h) for h in sorted(heads, key=len, reverse=True))
    return re.compile(r"(?i)(?<![^\W\d_])(?:" + alts + r")(?![^\W\d_])")


def labeled_spans(text: str, hits: list[tuple[int, str]] | None = None) -> list[Span]:
    if hits is None:
        hits = head_hits(text)
    out: list[Span] = []
    n = len(text)
    next_free = 0
    for s, lw in hits:
        if s < next_free:
            continue
        if lw in ADDRESS_HEADS:
            m = _ADDRESS_FIELD.match(text, s, min(n, s + 120))
            if m is not None and (any(c.isdigit() for c in m.group("value")) or "s/n" in m.group("value")):
                out.append(Span("STREET_ADDRESS", m.start("value"), m.end("value"), 0.8, "labeled"))
                next_free = m.end()
            continue
        if lw in STREET_HEADS:
            m = _STREET_PREFIXED.match(text, s, min(n, s + 120))
            if m is not None:
                out.append(Span("STREET_ADDRESS", s, m.end(), 0.7, "pattern"))
                next_free = m.end()
                continue
        if lw not in LABEL_HEADS:
            continue
        if lw in ("ssn", "social") and (p := _SSN_LAST4.search(text, max(0, s - 24), min(n, s + 60))) is not None:
            out.append(Span("US_SSN", p.start("value"), p.end("value"), 0.8, "labeled"))  # "last four of my SSN: 6810"
            next_free = p.end()
            continue
        m = LABELED_RE.match(text, s, min(n, s + 160))
        if m is None and lw in BRIDGE_HEADS and _DIGIT.search(text, s, s + 60) is not None:
            m = _BRIDGED_RE.match(text, s, min(n, s + 160))
        if m is None:
            continue
        group = _which(m)
        kind = _GROUP_KIND[group]
        value = m.group("value")
        digits = sum(c.isdigit() for c in value)
        if m.re is _BRIDGED_RE and m.group("bridge") and digits < 8 and (digits == 0 or not any(c.isalpha() for c in value)):
            continue  # "Kennzeichen meines Autos ist B-MW 1234" but not "phone bill is 58.76"
        if kind == "LICENSE_PLATE":
            if digits == 0 or digits == len(value.replace(" ", "").replace("-", "")) or len(value) < 5:
                # plates mix letters and digits: "7ABC123", "AB12 CDE"
                continue
        elif digits < 4 or (digits < 8 and m.group(group).lower() == "account"):
            continue  # a bare "account" labels an account-length number only, not "account 2024"
        ok = _checked(kind, value)
        if ok is False and kind in ("US_SSN", "CREDIT_CARD", "VEHICLE_ID") and not _shape_ok(kind, value):
            continue  # labeled, but not even the right length: a different number
        score = 1.0 if ok else (0.9 if ok is None else 0.8)
        out.append(Span(kind, m.start("value"), m.end("value"), score, "labeled"))
        next_free = m.end()
        if kind == "PHONE_NUMBER":  # "Tlf.: 917277336 / 606409021": the rest of the list
            more = more_phones(text, m.end())
            out += more
            next_free = more[-1].end if more else next_free
    return out


# the last four digits of an SSN still answer security questions: kept back when so named
_SSN_LAST4 = re.compile(
    r"(?i)\b(?:last (?:four|4)(?: digits)?(?: of)?(?: (?:my|the|your|his|her))? (?:ssn|social security(?: number| no\.?)?)"
    r"|(?:ssn|social security(?: number| no\.?)?) (?:ending|ends) (?:in|with))(?:[ \t]*(?:is|are|was|:|=|-))*[ \t]*(?P<value>\d{4})(?![\d\-])"
)


def _which(m: re.Match[str]) -> str:
    for name, val in m.groupdict().items():
        if val is not None and name not in ("value", "bridge"):
            return name
    raise AssertionError("a label group always matches")


def _shape_ok(kind: str, value: str) -> bool:
    n = sum(c.isdigit() for c in value)
    if kind == "US_SSN":
        return n == 9
    if kind == "CREDIT_CARD":
        return 12 <= n <= 19
    return len("".join(c for c in value if c.isalnum())) == 17


# ---------------------------------------------------------------- unlabeled, checksum-backed

# One pass finds every candidate (a word-start lookbehind makes most positions fail at once);
# each group names the kind and the check that must pass. FastPII runs it near digits only.
_UNLABELED_RE = re.compile(
    r"(?<![\w\-/.])(?:(?P<pesel>\d{11})|(?P<dni>(?:\d{8}|[XYZ]\d{7})-?[A-Z])|(?P<dowod>[A-Z]{3}\d{6})"
    r"|(?P<nino>[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D])|(?P<nip>\d{3}-\d{3}-\d{2}-\d{2}|\d{3}-\d{2}-\d{2}-\d{3}|PL ?\d{10})"
    r"|(?P<nrb>\d{2}(?: ?\d{4}){6})|(?P<vin>[A-HJ-NPR-Z0-9]{17}))(?![\w\-/])"
)
_UNLABELED_CHECKS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "pesel": ("NATIONAL_ID", pesel_ok),
    "dni": ("NATIONAL_ID", dni_ok),  # and NIE
    "dowod": ("NATIONAL_ID", dowod_ok),
    "nino": ("NATIONAL_ID", nino_ok),
    "nip": ("TAX_ID", nip_ok),
    "nrb": ("BANK_ACCOUNT", lambda v: _pl_nrb_ok(v)),  # a Polish NRB: an IBAN without its "PL"
    "vin": ("VEHICLE_ID", vin_ok),
}


def unlabeled_spans(text: str, ranges) -> list[Span]:
    out: list[Span] = []
    for a, b in ranges:
        for m in _UNLABELED_RE.finditer(text, a, b):
            kind, ok = _UNLABELED_CHECKS[m.lastgroup]  # type: ignore[index]
            if ok(m.group()):
                out.append(Span(kind, m.start(), m.end(), 0.85, "checksum"))
    return out


def _pl_nrb_ok(value: str) -> bool:
    from .pii import iban_ok

    return iban_ok("PL" + "".join(c for c in value if c.isdigit()))


# a VIN written in groups ("WVW0 0000 04RZ PEJE C") only counts after its label
_VIN_GROUPED = re.compile(r"(?i)(?<![\w-])VIN\b[^\n:|]{0,24}[:|]\s*([A-Z0-9]{4}(?:[ \-][A-Z0-9]{1,5}){3,5})(?![\w-])")


def grouped_vin_spans(text: str, hits: list[tuple[int, str]]) -> list[Span]:
    out: list[Span] = []
    if any(h == "vin" for _, h in hits):
        for m in _VIN_GROUPED.finditer(text):
            if sum(c.isalnum() for c in m.group(1)) == 17:
                out.append(Span("VEHICLE_ID", m.start(1), m.end(1), 0.9, "labeled"))
    return out


# ---------------------------------------------------------------- credentials in prose

_PW_LABEL = (
    r"password|passwort|passwd|pass ?code|pass ?phrase|pass(?=\s*[:=])|pwd|pw|pin(?: code| number)?|"
    r"contrase[ñn]a|clave(?: de acceso)?|has[łl]o|mot de passe|mdp|kennwort|senha|parola d'ordine|wachtwoord"
)
# one-time and recovery codes: secrets for a few minutes, valid like a PIN (4+ digits)
_OTP_LABEL = (
    r"one[ -]time (?:pass)?(?:code|password|pin)|otp(?: code)?|(?:verification|2fa|mfa|two[ -]factor|sms|login|reset|recovery"
    r"|backup|auth(?:entication)?) code"
)
_CRED_LABEL = (
    r"api[ _-]?key|secret(?:[ _-]?key)?|access[ _-]?(?:key|token)|auth(?:entication)?[ _-]?token|"
    r"client[ _-]?secret|private[ _-]?key|token|credentials?"
)
_PW_RE = re.compile(
    # a config key may prefix the label: "DB_PASSWORD=", "SMTP_PASS=", "smtp_password:"
    r"(?i)(?:(?<![\w-])|(?<=[a-z0-9]_))(?:(?P<otp>" + _OTP_LABEL + r")|(?P<pw>" + _PW_LABEL + r")|(?P<cred>" + _CRED_LABEL + r"))(?![\w-])"
    r"(?P<sep>(?:[\"'](?=\s*[:=]))?(?:\s+(?:" + PW_ADJECTIVES + r")(?=\s+(?:is|es|ist|est|è|[:=])))?(?:\s+(?:is|was|are|will be|has been|is now|now|set to|changed to|es|jest|to jest|ist|lautet|est|é|è|="
    r"|for (?:my |the )?[\w.@-]+(?: account)? is)(?![\w-]))*\s*[:=]?\s*)"
    r"(?P<value>\"[^\"\n]{3,64}\"|'[^'\n]{3,64}'|“[^”\n]{3,64}”|`[^`\n]{3,64}`|[^\s\"'`]{3,64})"
)
_NOT_A_PASSWORD = frozenset(
    """a an the my your his her our their its this that these those it is was be been being not no yes too very so
    also now only still just then than and or but if of in on at to for from by with without about as into
    incorrect wrong invalid expired correct required missing weak strong long short same different case
    set reset changed change locked unlocked empty blank stored saved hashed encrypted protected secure
    safe valid ok okay fine good bad easy hard simple complex sent shared visible hidden known unknown
    forgotten lost needed used managed please manager field policy hint length strength recovery
    reminder rules requirements protection working accepted rejected rotated updated generated
    what how why when where which who whom whose there here again anymore any some same one none
    contraseña incorrecta nie jest hasło haslo falsch richtig faux""".split()
)


def _core(value: str) -> str:
    """The value without quotes and sentence punctuation. A trailing "!" stays: it ends many
    passwords ("P@ss-w0rd!"), and masking one extra "!" costs nothing; ")" stays when "(" is in."""
    v = value.strip("\"'“”`")
    v = v.rstrip(".,;:?)") if "(" not in v else v.rstrip(".,;:?")
    return v


def _value_ok(label_is_pw: bool, sep: str, value: str, pin: bool) -> bool:
    quoted = value[:1] in "\"'“`"
    v = _core(value).rstrip("!")  # "password is incorrect!": the "!" ends the sentence
    if len(v) < 3 or v.lower() in _NOT_A_PASSWORD or v[0] in "([{<":
        return False
    if pin:
        return sum(c.isdigit() for c in v) >= 4
    has_digit = any(c.isdigit() for c in v)
    if not sep.strip():
        # no "is" / ":" between label and value ("password features", "the "token" as"): only a
        # value that mixes letters and digits reads as a credential
        return not quoted and has_digit and any(c.isalpha() for c in v)
    has_symbol = any(not c.isalnum() for c in v)
    mixed = any(c.isupper() for c in v[1:]) and any(c.islower() for c in v)
    # a plain lower-case word ("password is sufficiently complex") is not taken: without a
    # dictionary it cannot be told from prose, and real passwords mostly mix characters
    return (quoted or has_digit or has_symbol or mixed) and (label_is_pw or len(v) >= 8)


CREDENTIAL_HEADS = frozenset(
    """password passwort passwd pass passcode passphrase pwd pw pin contraseña contrasena clave hasło haslo mot
    mdp kennwort senha parola wachtwoord api apikey api_key secret secret_key access access_key access_token auth
    authentication auth_token client client_secret private private_key token credential credentials
    one otp verification mfa two sms login reset recovery backup""".split()
)


def credential_spans(text: str, hits: list[tuple[int, str]] | None = None) -> list[Span]:
    if hits is None:
        hits = head_hits(text)
    out: list[Span] = []
    next_free = 0
    for s, lw in hits:
        if s < next_free or lw not in CREDENTIAL_HEADS:
            continue
        if lw in ("one", "two") and text[s + 4 : s + 10].lower() not in ("time c", "time p", "factor"):
            continue  # "one" and "two" open a label only as "one-time code", "two-factor code"
        m = _PW_RE.match(text, s, min(len(text), s + 200))
        if m is None:
            continue
        next_free = m.end()
        otp = m.group("otp") is not None
        is_pw = otp or m.group("pw") is not None
        label = (m.group("otp") or m.group("pw") or m.group("cred")).lower()
        value = m.group("value")
        if s > 0 and text[s - 1] == "_" and (m.group("sep").strip() not in (":", "=") or any(c in value for c in "([{$<")):
            continue  # a prefixed key in code ("db_password = get_secret()", "${DB_PASS}"): no literal
        if not _value_ok(is_pw, m.group("sep"), value, pin=otp or label.startswith("pin")):
            continue
        s, e = m.span("value")
        core = _core(value)
        lead = value.find(core) if core else 0
        s += lead
        e = s + len(core)
        out.append(Span("PASSWORD" if is_pw else "CREDENTIAL", s, e, 0.9, "prose"))
    return out


# every word that can start a label this module looks for
ALL_HEADS = LABEL_HEADS | ADDRESS_HEADS | STREET_HEADS | CREDENTIAL_HEADS | CUE_HEADS | MORE_HEADS
