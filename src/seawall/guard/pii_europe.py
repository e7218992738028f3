"""Per-language tables for European text (German, French, Italian, Spanish, Dutch): read by the
label, date, name and unlabeled-ID passes in pii_ids.py, pii_more.py, pii_names.py and pii.py.

Kept here so those modules stay small; every table is a cue that one of their existing gates
(a label head word, a digit window, a capitalised run) already reached, so none adds a scan.
"""
from __future__ import annotations

import re

from .types import Span

# "is" in the languages the label passes read: "Steuer-ID ist …", "codice fiscale è …", "mi DNI
# es …", "mon login est …"; Spanish "es" was read as a two-letter prefix of the value before
COPULAS = r"ist|est|es|è|is|lautet|sind|sont|son|zijn"
# a label's noun phrase may run on for up to three words before "is" / ":" / "number": "Kennzeichen
# meines Autos ist", "Immatriculation du véhicule :", "targa della mia auto è", "Führerschein hat
# die Nummer". Only tried after a label head word, and the value must still have an ID's shape
# (the bridged words are group "bridge": pii_ids then wants a value that is clearly a code)
LABEL_BRIDGE = (
    r"(?P<bridge>(?:[ \t]+[^\W\d_]{1,10}){1,3}?(?=[ \t]*(?:(?i:" + COPULAS + r"|nummer|numero|número|numéro|number)[ \t]|:)))?"
)

# "la contraseña nueva es …", "das neue Passwort ist …": an adjective between the label and "is"
PW_ADJECTIVES = (
    r"new|nueva|nuevo|neue|neues|nouveau|nouvelle|nuova|nuovo|nieuwe|temporary|temporal|temporaire|provisoire|"
    r"provvisoria|current|actual|aktuelle|attuale|huidige"
)
# a password word near a bare user word makes a plain lower-case word a login ("Benutzer hbaum,
# Kennwort …", "el usuario smolina" after "la contraseña …")
PW_WORDS = r"password|passwort|kennwort|contrase[ñn]a|mot de passe|wachtwoord|pwd|pw"

# the label heads that take such a noun phrase (plates, licences, ID cards, tax codes, passports):
# everyday English heads ("mobile", "payment", "account") never pay for the bridged try
BRIDGE_HEADS = frozenset(
    """kennzeichen targa immatriculation kenteken matrícula matricula plate registration führerschein fuhrerschein
    führerscheinnummer patente permis rijbewijs carné carne permiso licencia licence license driver driving codice
    steuer steuerid steuernummer personalausweis ausweis dni nie nif bsn burgerservicenummer passport pasaporte
    passeport reisepass passaporto paspoort carta identiteitskaart documento cédula cedula partita tva btw
    sécurité securite sozialversicherungsnummer""".split()
)

# months in Italian and Dutch (English, Spanish, Polish, German and French are in pii_more._MONTHS)
MONTHS_IT_NL = (
    r"gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre|"
    r"januari|februari|maart|mei|augustus|oktober"
)
# birth-date labels not in pii_more: Dutch, and the Spanish / Portuguese-style abbreviations
BIRTH_LABELS = r"geboortedatum|geboren op|geb\.|nacimiento|data de nascimento"
BIRTH_HEADS = "geboortedatum geb nacimiento"

# Italian titles are written with a dot inside ("dott.ssa Bianchi", "sig.ra Rossi", "prof.ssa"): the
# name pass reads the part after the dot as the word before the name
TITLE_TAILS = frozenset("ssa ra na".split())
TITLE_HEADS = ("dott.", "sig.", "prof.", "avv.", "ing.")
# (greetings stay out: "Sehr geehrte Damen", "Liebe Grüße", "Beste groeten" are no names)
HONORIFICS_EU = frozenset("dottoressa dottore dottor signorina avv ing".split())

# words that start sentences, greet or sign in these languages, and German nouns (German capitalises
# every noun), that are also in the first / last name lists: never a name alone ("Beste mevrouw",
# "Hoi,", "Nata il …", "Mein Handy ist …"). Surnames that are also nouns (Müller, Schneider) stay names
COMMON_EU = frozenset(
    """beste hoi hallo hola ciao salut servus moin liebe lieber geehrte nata nato nacido nacida geboren née server
    client kunde kundin karte post bank preis summe gesamt datum betreff anlage anhang frage antwort termin
    grazie gracias merci danke bedankt saluti groet groeten cordialement
    euro handy ware glück salz schuh zahn kopf huhn sturm herbst baum chiesa zaal""".split()
)
# cities written in their own language ("Milano" read as a Polish form of "Milan" was a person);
# after a Romance street with its number they confirm an address as a postcode does
EU_CITIES = frozenset(
    """milano torino napoli firenze venezia genova bologna roma palermo bari catania verona padova trieste brescia
    parma modena bergamo köln münchen wien bruxelles brussel antwerpen genève""".split()
)

# an article / item / product number, like an invoice's, is the document's number, not a phone
DOC_WORDS = r"artikel|article|articolo|art[íi]culo|item|sku|produkt|produit|prodotto|producto|teil|part"

_CF_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def codice_fiscale_ok(value: str) -> bool:
    """The Italian tax code's check letter (odd positions through a table, even ones by value)."""
    v = value.upper()
    if len(v) != 16:
        return False
    total = 0
    for i, c in enumerate(v[:15]):
        k = int(c) if c.isdigit() else ord(c) - 65
        total += _CF_ODD[k] if i % 2 == 0 else k
    return v[15] == chr(65 + total % 26)


def nir_ok(value: str) -> bool:
    """The French social security number (NIR): 13 digits (Corsica: 2A / 2B) and a mod-97 key."""
    v = "".join(c for c in value if c.isalnum()).upper()
    if len(v) != 15 or v[0] not in "12":
        return False
    body = v[:13].replace("2A", "19").replace("2B", "18")
    return body.isdigit() and v[13:].isdigit() and 97 - int(body) % 97 == int(v[13:])


_CF_RE = re.compile(r"[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z](?![\w\-/])")
_NIR_RE = re.compile(r"[12] ?\d{2} ?\d{2} ?\d{2} ?\d{3} ?\d{3} ?\d{2}(?![\w\-/])")


def unlabeled_eu_spans(text: str, clusters: list[tuple[int, int]]) -> list[Span]:
    """A codice fiscale or a NIR without a label, when its check passes. Tried only at a digit
    cluster that could start one (a NIR's 15+ characters; six capitals right before a CF's
    digits), so a prompt pays a loop over its few clusters, not another regex scan."""
    out: list[Span] = []
    for a, b in clusters:
        if b - a >= 15 and text[a] in "12" and (a == 0 or not text[a - 1].isalnum()):
            m = _NIR_RE.match(text, a)
            if m is not None and nir_ok(m.group()):
                out.append(Span("NATIONAL_ID", a, m.end(), 0.85, "checksum"))
        elif a >= 6 and text[a - 6 : a].isupper() and text[a - 6 : a].isalpha() and (a == 6 or not text[a - 7].isalnum()):
            m = _CF_RE.match(text, a - 6)
            if m is not None and codice_fiscale_ok(m.group()):
                out.append(Span("TAX_ID", a - 6, m.end(), 0.85, "checksum"))
    return out
