"""More personal data on the fast path: accounts, wallets, devices, card extras, birth dates.

Same rules as pii_ids.py: a value its label names ("username: jdoe_82", "CVV 123",
"DOB: 04/12/1987", "BIC: DEUTDEFF") is taken whatever its checksum says; without a label only
shapes whose structure makes a look-alike unlikely are taken:

* crypto wallets: bech32 (``bc1`` / ``ltc1``, checksum verified), ``0x`` + 40 hex (an
  Ethereum address; a bare 40-hex git SHA has no ``0x``), base58check Bitcoin / Litecoin
  addresses (double-SHA-256 checksum verified);
* MAC addresses: six hex pairs joined by ``:`` (or ``-`` when a hex letter is present, so
  a dashed number run is not one) or three dotted hex quads with a letter, and only
  vendor-assigned unicast ones (a locally administered ``02:00:…`` is a lab / config value);
* IMEIs: 15 digits passing Luhn with a GSMA reporting-body prefix, plain or grouped
  ``35-209900-176148-1``.
* GPS coordinates: a latitude, longitude pair with 4+ decimals each, on the globe, not
  inside a longer row of numbers.

Dates, order ids and times stay untouched unless a birth-date / expiry / IMEI label stands
right before them. (Address tails moved to ``pii_addresses.py``.)
"""
from __future__ import annotations

import hashlib
import re

from .pii_europe import BIRTH_HEADS, BIRTH_LABELS, COPULAS, MONTHS_IT_NL, PW_WORDS
from .types import Span

# ---------------------------------------------------------------- checks

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
# version bytes: Bitcoin P2PKH 0x00 / P2SH 0x05, Litecoin P2PKH 0x30 (L) / P2SH 0x32 (M), 0x05 (3)
_B58_VERSIONS = {0x00, 0x05, 0x30, 0x32}


def base58check_ok(value: str) -> bool:
    n = 0
    for c in value:
        i = _B58_INDEX.get(c)
        if i is None:
            return False
        n = n * 58 + i
    pad = len(value) - len(value.lstrip("1"))
    raw = b"\0" * pad + (n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b"")
    if len(raw) != 25 or raw[0] not in _B58_VERSIONS:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= gen[i]
    return chk


def bech32_ok(value: str) -> bool:
    """BIP 173 / BIP 350 checksum (bech32 and bech32m) for bc1 / ltc1 addresses."""
    if value != value.lower() and value != value.upper():
        return False
    v = value.lower()
    hrp, _, data = v.rpartition("1")
    if hrp not in ("bc", "ltc") or not 6 < len(data) <= 87 or any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + [_BECH32.index(c) for c in data]
    return _polymod(values) in (1, 0x2BC830A3)


# GSMA reporting-body prefixes of real IMEIs ("10" left out: a 15-digit UATP card starts so)
_IMEI_RBI = frozenset("01 30 33 35 44 45 49 50 51 52 53 54 86 91 98 99".split())


def imei_ok(value: str, labeled: bool = False) -> bool:
    from .pii import luhn_ok

    d = "".join(c for c in value if c.isdigit())
    if len(d) != 15 or len(set(d)) == 1:
        return False
    return luhn_ok(d) and (labeled or d[:2] in _IMEI_RBI)


# ISO 3166 countries a BIC's letters 5-6 may name (the common ones plus the IBAN countries)
_BIC_COUNTRIES = frozenset(
    """AD AE AL AR AT AU AZ BA BD BE BG BH BR BY CA CH CL CN CO CR CY CZ DE DK DO DZ EC EE EG ES FI FO FR GB GE
    GI GL GR GT HK HR HU ID IE IL IN IQ IR IS IT JO JP KE KR KW KZ LB LI LK LT LU LV MA MC MD ME MK MT MU MX MY
    NG NL NO NZ PE PH PK PL PS PT QA RO RS RU SA SE SG SI SK SM TH TN TR TW UA US UY VE VG VN XK ZA""".split()
)


def bic_ok(value: str) -> bool:
    return len(value) in (8, 11) and value[:4].isalpha() and value[4:6] in _BIC_COUNTRIES


# ---------------------------------------------------------------- labeled values

_SEP = r"[ \t]*(?:(?:number|no|num|nr|code|" + COPULAS + r"|was|:|=|#|-|–)\.?[ \t]*)*"
_MONTHS = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    r"noviembre|diciembre|stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|wrzesnia|"
    r"października|pazdziernika|listopada|grudnia|januar|februar|märz|mai|juni|juli|oktober|dezember|"
    r"janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|" + MONTHS_IT_NL + r")"
)
_DATE = (
    r"(?:\d{4}[./\-]\d{1,2}[./\-]\d{1,2}|\d{1,2}[./\-]\d{1,2}[./\-](?:\d{4}|\d{2})"
    r"|\d{1,2}(?:st|nd|rd|th|\.|º)?[ \t]+(?:of[ \t]+|de[ \t]+)?(?:" + _MONTHS + r")\.?,?[ \t]+(?:de[ \t]+|del[ \t]+)?\d{4}"
    r"|(?:" + _MONTHS + r")\.?[ \t]+\d{1,2}(?:st|nd|rd|th)?,?[ \t]+\d{4})(?:[ \t]?r\.)?"
)
_CRYPTO_VALUE = r"(?:bc1|ltc1|BC1|LTC1)[0-9A-Za-z]{6,87}|0x[0-9a-fA-F]{40}|[13LM][1-9A-HJ-NP-Za-km-z]{25,34}"
_USER_VALUE = r"@?[A-Za-z0-9][A-Za-z0-9._\-@]{1,39}"

# kind, label (case-insensitive), value; tried in order at a label head word
_MORE_LABELS: tuple[tuple[str, str, str], ...] = (
    ("USERNAME", r"user[ _\-]?name|user[ _\-]?id|userid|user(?=[\"']?[ \t]*[:=][ \t]*[\"']?[\w.\-]+[\"']?[ \t]*(?:/|,|;|\|)?[ \t]*(?:\r?\n[ \t]*)?[\"']?(?:pass|pwd|pw)\w*[\"']?[ \t]*[:=])|gebruikersnaam|login(?:[ _\-]?(?:name|id))?|log-?in|logon|sign-?in name|"
                 r"screen name|account name|nick(?:name)?|handle|benutzer(?:name|kennung)?|nazwa użytkownika|"
                 r"login użytkownika|nombre de usuario|usuario|identifiant|nom d'utilisateur|nome utente", _USER_VALUE),
    ("CRYPTO_WALLET", r"(?:bitcoin|btc|litecoin|ltc|ethereum|eth|ether|crypto|wallet)(?:[ \t]+(?:wallet|address|addr))*",
     _CRYPTO_VALUE),
    ("IMEI", r"imei(?:[ \t]?sv)?(?:[ \t]+(?:number|no|nr))?|numer imei", r"\d(?:[ \-]?\d){13,16}"),
    ("MAC_ADDRESS", r"mac(?:[ \t]+address)?|adres mac|hardware address",
     r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}(?:\.[0-9A-Fa-f]{4}){2}|[0-9A-Fa-f]{12}"),
    ("SWIFT_CODE", r"(?:swift|bic)(?:[ \t]*/[ \t]*(?:swift|bic))?(?:[ \t]+(?:code|address))?|kod swift|c[óo]digo (?:swift|bic)",
     r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?"),
    ("DATE_OF_BIRTH", r"d\.?o\.?b\.?|date of birth|birth[ \t]?date|birthday|born(?:[ \t]+on)?|"
                      r"fecha de nacimiento|f\.[ \t]?nac(?:imiento)?\.?|fecha nac\.?|nacid[oa](?:[ \t]+el)?|"
                      r"data urodzenia|ur\.|urodzon[ya](?:[ \t]+dnia)?|geburtsdatum|geboren(?:[ \t]+am)?|"
                      r"date de naissance|n[ée]e? le|data di nascita|nat[oa] il|" + BIRTH_LABELS, _DATE),
    ("CARD_CVV", r"cvv2?|cvc2?|cvn|csc|security code|card verification(?: value| code)?|c[óo]digo de seguridad|kod cvv|(?:karten)?pr[üu]fnummer|"
                 r"kod cvc|kod zabezpieczający", r"\d{3,4}"),
    # a person's age: "Age: 58", "aged 42", "at the age of 29", "Edad: 45", "âgé de 42 ans"; the German
    # and Polish words ("alter" is an English verb, "wiek" a century) only as a field label
    ("AGE", r"age(?:[ \t]+of)?|aged|edad|âge|età|leeftijd|alter(?=[ \t]*:)|wiek(?=[ \t]*:)|âg[ée]e?[ \t]+de|agé[ \t]+de",
     r"\d{1,3}(?![.,]\d)"),
    # a postal code its label names ("ZIP code 60614", "Postcode: SW1A 1AA", "PLZ 80331"): part of an
    # address, so it is tokenized like one
    ("STREET_ADDRESS", r"zip(?:[ \t]?\+[ \t]?4)?(?:[ \t]?code)?|post[ \t]?code|postal[ \t]code|postleitzahl|plz(?:/ort)?|code[ \t]postal|"
                       r"c[óo]digo[ \t]postal|kod[ \t]pocztowy|codice[ \t]postale",
     r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{5}(?:-\d{4})?|\d{4} ?[A-Z]{2}(?![A-Za-z])|\d{2}-\d{3}|[A-Z]\d[A-Z] ?\d[A-Z]\d"),
    ("CARD_EXPIRY", r"exp(?:\.|iry|iration|ires)?(?:[ \t]+date)?|valid (?:thru|through|until)|good thru|"
                    r"fecha de (?:caducidad|vencimiento)|caducidad|caduca|vence|data ważności|ważna do|ablaufdatum|gültig bis|"
                    r"date d'expiration", r"(?:0?[1-9]|1[0-2])[ \t]?[/\-][ \t]?(?:20\d\d|\d\d)"),
)
# a label glued to its value by a hyphen ("IMEI-350012359414358") is a reference code, not a label
# a JSON / form key closes its quote before the colon and opens one before the value ('"user": "mtorres"')
_MORE_RES = tuple(
    re.compile(r"(?<![\w\-])(?i:" + lab + r")(?![A-Za-z0-9])(?!-[^\W_])(?P<sep>(?:[\"'](?=[ \t]*[:=]))?" + _SEP
               + r"(?:(?<=[:=])[ \t]*[\"'])?)(?P<value>" + val + r")(?![\w\-/])")
    for _, lab, val in _MORE_LABELS
)
_KIND_INDEX = {k: i for i, (k, _, _) in enumerate(_MORE_LABELS)}
# first words of the labels above, per kind: head_hits finds them in one word split, and a
# head word is tried only against the kinds whose labels can start with it
_KIND_HEADS = {
    "USERNAME": "user username userid login logon log sign screen account nick nickname handle benutzer benutzername "
                "benutzerkennung nazwa nombre usuario identifiant nom nome gebruikersnaam",
    "CRYPTO_WALLET": "bitcoin btc litecoin ltc ethereum eth ether crypto wallet",
    "IMEI": "imei imeisv numer",
    "MAC_ADDRESS": "mac adres hardware",
    "SWIFT_CODE": "swift bic kod código codigo",
    "DATE_OF_BIRTH": "dob d date birth birthdate birthday born fecha f nacido nacida data ur urodzony urodzona "
                     "geburtsdatum geboren né née nato nata " + BIRTH_HEADS,
    "CARD_CVV": "cvv cvv2 cvc cvc2 cvn csc security card código codigo kod prüfnummer prufnummer kartenprüfnummer",
    "AGE": "age aged edad âge età leeftijd alter wiek âgé âgée agé",
    "STREET_ADDRESS": "zip post postal postcode postleitzahl plz code código codigo kod codice",
    "CARD_EXPIRY": "exp expiry expiration expires valid good fecha caducidad caduca vence data ważna gültig ablaufdatum date",
}
_HEAD_KINDS: dict[str, tuple[int, ...]] = {}
for _kind, _heads in _KIND_HEADS.items():
    for _h in _heads.split():
        _HEAD_KINDS[_h] = _HEAD_KINDS.get(_h, ()) + (_KIND_INDEX[_kind],)
# "42 years old", "a 45-year-old", "6 months old", "45 Jahre alt": the age comes before its words
_AGE_AFTER_RE = re.compile(
    r"(?<![\w.,\-])(?P<value>\d{1,3})(?:[ \-](?:years?|yrs?|months?)[ \-]old|[ \t]+Jahre[ \t]+alt|[ \t]+jaar[ \t]+oud"
    r"|[ \t]+años[ \t]+de[ \t]+edad)(?![\w\-])"
)
_AGE_AFTER_HEADS = frozenset("old alt oud edad".split())
MORE_HEADS = frozenset(_HEAD_KINDS) | _AGE_AFTER_HEADS
# everyday head words are labels only with the right next word: checked with one startswith
# before any regex runs, so prose full of "data", "user", "date" or "card" stays cheap
_NEXT = {
    "user": ("name", "id", " name", " id", "_name", "_id", "-name", "-id", ":", " :", "=", " =", '":', "':"), "log": ("-in", "in"),
    "sign": ("-in name", "in name", " in name"), "screen": (" name",), "account": (" name",),
    "nazwa": (" użytkownika",), "nombre": (" de usuario",), "nom": (" d'utilisateur", " d’utilisateur"),
    "nome": (" utente",), "numer": (" imei",), "adres": (" mac",), "hardware": (" address",),
    "kod": (" swift", " cvv", " cvc", " zabezp", " pocztowy"), "código": (" swift", " bic", " de seguridad", " postal"),
    "codigo": (" swift", " bic", " de seguridad", " postal"), "post": (" code", "code"), "postal": (" code",),
    "code": (" postal",), "codice": (" postale",), "d": (".o", ". o"), "f": (". nac", ".nac"),
    "date": (" of birth", " de naissance", " d'expiration", " d’expiration"), "birth": ("date", " date"),
    "data": (" urodzenia", " ważności", " di nascita"), "fecha": (" de nacimiento", " nac", " de caducidad", " de vencimiento"),
    "security": (" code",), "card": (" verification",), "valid": (" thru", " through", " until"), "good": (" thru",),
    "ur": (".",), "né": (" le",), "née": (" le",), "nato": (" il",), "nata": (" il",),
}
# words that follow a login label in prose ("login page", "user id is required"), never a username
_NOT_A_USERNAME = frozenset(
    """a an the my your his her our their its this that it is was be to for from with without via into using
    and or but if of in on at as by page screen form button link details credentials info information issue
    issues problem problems error errors failed failure fails fail attempt attempts flow process portal system
    session sessions name names field fields request requests data history time times again now first here there
    required works working successful success help support please again process screen prompt window dialog
    id ids number code token key password url api service server method option options settings policy
    not no yes none null true false admin user users root guest anonymous unknown are were has have had will
    can could should would may might must does did done get got been being shall need list update change check
    should also then when where which who what how why once before after each every some any all only just""".split()
)


# "for user mike_r88", "user jdoe87": a bare "user" labels only a handle-shaped word (letters
# joined by "_" or "." to more, or letters then digits), never "user interface" or "user 2";
# a chat log brackets it ("user (jane_doe): ...")
_BARE_USER = re.compile(r"(?i:user|account(?:[ \t]*:)?)[ \t]+['\"(]?(?P<value>[A-Za-z][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+|[A-Za-z]{2,}\d+[A-Za-z0-9]*)(?![\w\-@]|\.\w)")
_PREFIXED_USER = re.compile(r"(?i:user(?:name)?|login)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<value>[A-Za-z0-9][A-Za-z0-9._\-@]{1,39})(?![\w\-/(.])")
_FILE_EXTENSIONS = frozenset("yaml yml json py txt csv log xml cfg conf ini md sh js ts html toml env pem key db sql".split())
_WORD_ENDINGS = ("ly", "ing", "ed", "tion", "ment", "ness", "able", "ible", "ful", "s")  # "s": plurals
_BARE_LOGIN_LABELS = frozenset(("login", "username", "user name", "userid", "user id", "logon", "login name", "login id",
                                 # the same nouns in other languages ("usuario" is left out: "usuario habitual")
                                 "benutzername", "gebruikersnaam", "nome utente", "nom d'utilisateur", "nombre de usuario",
                                 "identifiant"))


_PW_NEAR = re.compile(r"(?i)(?<!\w)(?:" + PW_WORDS + r")(?!\w)")
# "am 28. Februar 1969 geboren": the birth word after the date
_DATE_BEFORE = re.compile(r"(?P<value>" + _DATE + r")[ \t]+$")


def _username_ok(label: str, sep: str, value: str, near: str | None = None) -> bool:
    v = value.rstrip(".-_")
    if len(v) < 3 or v.lower() in _NOT_A_USERNAME:
        return False
    if any(c in ":=#" for c in sep):  # "username: jdoe", "login = admin1": a form field
        return True
    # "login jsmith", "my login is inevitably slow": digits / dots / underscores, or a
    # lower-case word that is no everyday word and has no English word ending
    if any(c in "._@" or c.isdigit() for c in v):
        return any(c.isalpha() for c in v)
    if len(v) < 4 or not v.islower() or v.endswith(_WORD_ENDINGS):
        return False
    from .pii_names import _load

    # ("usuario habitual" is prose: a bare word counts only after an English login label)
    return (label.lower().replace("_", " ").replace("-", " ") in _BARE_LOGIN_LABELS or (
        near is not None and _PW_NEAR.search(near) is not None)) and v not in _load()[2]


def more_labeled_spans(text: str, hits: list[tuple[int, str]]) -> list[Span]:
    out: list[Span] = []
    n = len(text)
    next_free = 0
    for s, lw in hits:
        if s < next_free:
            continue
        if lw in _AGE_AFTER_HEADS:
            e = s + len(lw)
            for m in _AGE_AFTER_RE.finditer(text, max(0, s - 24), e):
                if m.end() == e and int(m.group("value")) <= 120:
                    out.append(Span("AGE", m.start("value"), m.end("value"), 0.85, "labeled"))
            if lw != "edad":
                continue
        if s > 1 and text[s - 1] == "_" and text[s - 2].isalnum() and lw in ("user", "username", "login"):
            # a prefixed config key ("SMTP_USER=jdoe", "DB_USERNAME: app"), not code ("${DB_USER}", "get_user()")
            if (m := _PREFIXED_USER.match(text, s, min(n, s + 60))) is not None:
                out.append(Span("USERNAME", m.start("value"), m.end("value"), 0.85, "labeled"))
                next_free = m.end()
            continue
        if lw == "geboren" and (d := _DATE_BEFORE.search(text, max(0, s - 40), s)) is not None:
            out.append(Span("DATE_OF_BIRTH", d.start("value"), d.end("value"), 0.9, "labeled"))
        kinds = _HEAD_KINDS.get(lw)
        if kinds is None:
            continue
        nxt = _NEXT.get(lw)
        if nxt is not None and not text[s + len(lw) : s + len(lw) + 16].lower().startswith(nxt):
            if lw in ("user", "account") and (m := _BARE_USER.match(text, s, min(n, s + 60))) is not None and (
                    m.group("value").rsplit(".", 1)[-1].lower() not in _FILE_EXTENSIONS):
                out.append(Span("USERNAME", m.start("value"), m.end("value"), 0.85, "labeled"))
                next_free = m.end()
            continue
        for i in kinds:
            m = _MORE_RES[i].match(text, s, min(n, s + 140))
            if m is None:
                continue
            span = _labeled_span(_MORE_LABELS[i][0], m)
            if span is not None:
                out.append(span)
                next_free = span.end
                break
    return out


def _labeled_span(kind: str, m: re.Match[str]) -> Span | None:
    value, sep = m.group("value"), m.group("sep")
    score = 0.9
    # a bare word is a login next to a password word only when it ends its clause ("Benutzer hbaum,
    # Kennwort …"), not "der Benutzer meldet sich an, das Passwort …"
    near = m.string[max(0, m.start() - 60) : m.end() + 60] if m.string[m.end() : m.end() + 1] in ",;/|.\n" else None
    if kind == "USERNAME" and not _username_ok(m.group()[: m.start("sep") - m.start()], sep, value, near):
        return None
    if kind == "CRYPTO_WALLET" and _strong_wallet(value):
        score = 1.0
    elif kind == "IMEI":
        score = 1.0 if imei_ok(value, labeled=True) else 0.8
    elif kind == "SWIFT_CODE" and not bic_ok(value):
        return None  # "SWIFT TRANSFER": an upper-case word, not a bank code
    elif kind == "AGE" and int(value) > 120:
        return None
    vs, ve = m.span("value")
    if kind == "USERNAME":
        ve = vs + len(value.rstrip(".-_"))
    return Span(kind, vs, ve, score, "labeled")


def _strong_wallet(value: str) -> bool:
    if value[:2] == "0x":
        return True
    if value[:3].lower() in ("bc1", "ltc"):
        return bech32_ok(value)
    return base58check_ok(value)


# ---------------------------------------------------------------- unlabeled, structure-backed

# every unlabeled shape is one token of 14+ characters: a whitespace split finds the few such
# tokens (~5 us per KB), and only they are matched against the patterns
_UNLABELED_MORE = re.compile(
    r"(?<![\w\-/.:])(?:(?P<b58>[13LM][1-9A-HJ-NP-Za-km-z]{25,34})|(?P<imei>\d{15}|\d{2}-\d{6}-\d{6}-\d)"
    r"|(?P<macd>[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5})|(?P<maco>[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})"
    r"|(?P<macc>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}))(?![\w\-/:]|\.\w)"
    r"|(?<![\w])(?:(?P<eth>0x[0-9a-fA-F]{40})|(?P<b32>(?:bc1|ltc1|BC1|LTC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{6,87}))(?![\w])"
)
_HEX_LETTER = re.compile(r"[A-Fa-f]")


def _burned_in(mac: str) -> bool:
    """A globally unique unicast MAC (first octet's two low bits clear): a vendor-assigned
    device address. A locally administered one (02:00:…, set by software or a lab config,
    like RFC 5737's example IPs) or a multicast / broadcast group names no device, so without
    a label it is left alone."""
    first = int(mac[:2], 16)
    return first & 0x03 == 0 and len(set(mac.lower()) - {":", "-", "."}) > 1


def more_unlabeled_spans(text: str) -> list[Span]:
    out: list[Span] = []
    pos = 0
    for tok in text.split():
        if len(tok) < 14:
            continue
        # tokens between two long ones are shorter than this one, so the next hit is this token
        i = text.find(tok, pos)
        pos = i + len(tok)
        for m in _UNLABELED_MORE.finditer(text, i, pos):
            g, v = m.lastgroup, m.group()
            if g == "b58":
                ok = any(c.isdigit() for c in v) and base58check_ok(v)
            elif g == "imei":
                ok = imei_ok(v)
            elif g == "eth":
                ok = True
            elif g == "b32":
                ok = bech32_ok(v)
            else:  # a MAC: a dashed or dotted one needs a hex letter (else it is a number run)
                ok = (g == "macc" or _HEX_LETTER.search(v) is not None) and _burned_in(v)
            if ok:
                kind = "IMEI" if g == "imei" else "MAC_ADDRESS" if g.startswith("mac") else "CRYPTO_WALLET"
                mac = kind == "MAC_ADDRESS"
                out.append(Span(kind, m.start(), m.end(), 0.9 if mac else 0.95, "pattern" if mac or g == "eth" else "checksum"))
    return out


# ---------------------------------------------------------------- GPS coordinates

# a latitude, longitude pair with 4+ decimals each (~10 m: where someone is), as maps and
# location apps write it: "40.7128, -74.0060", "[51.5074,-0.1278]", "48.8584° N, 2.2945° E"
_COORDS = re.compile(
    r"(?<![\w.\-])(?P<lat>-?\d{1,2}\.\d{4,12})°?(?:\s?(?P<ns>[NS]))?\s*[,;/]\s*"
    r"(?P<lon>-?\d{1,3}\.\d{4,12})°?(?:\s?(?P<ew>[EW]))?(?![\w.])"
)
# another number right before or after the pair makes it a row of figures, not a place
_NUMBER_BEFORE = re.compile(r"\d\s*[,;/]\s*$")
_NUMBER_AFTER = re.compile(r"\s*[,;/]\s*-?\d")


def _coordinate_matches(text: str):
    """Matches of _COORDS, tried only where a digit, a dot and four digits meet (a regex scan of
    every position costs ~20 us per KB; a prompt has a few dots)."""
    i = text.find(".")
    while i >= 0:
        if i > 0 and text[i - 1].isdigit() and text[i + 1 : i + 5].isdigit():
            start = i - 1
            while start > 0 and text[start - 1].isdigit():
                start -= 1
            if start > 0 and text[start - 1] == "-":
                start -= 1
            m = _COORDS.match(text, start)
            if m is not None:
                yield m
                i = m.end()
        i = text.find(".", i + 1)


def coordinate_spans(text: str) -> list[Span]:
    out: list[Span] = []
    for m in _coordinate_matches(text):
        lat, lon = float(m.group("lat")), float(m.group("lon"))
        if abs(lat) > 90 or abs(lon) > 180 or max(abs(lat), abs(lon)) < 1:
            continue  # off the globe, or two small fractions ("0.9123, 0.8712": scores, not a place)
        if _NUMBER_BEFORE.search(text, max(0, m.start() - 12), m.start()) or _NUMBER_AFTER.match(text, m.end()):
            continue
        out.append(Span("GPS_COORDINATES", m.start(), m.end(), 0.85, "pattern"))
    return out


# ---------------------------------------------------------------- handles and profile links

# A person's handle names them as surely as a username: in a profile link ("linkedin.com/in/anna-k",
# "github.com/jsmith-dev": one path segment, a site's own pages left out) and as an @-mention next to
# a word that says it is one ("on Twitter @sam_okoro", "ping @jdoe42"); without such a word an @word
# is as often code ("@lru_cache", "@media") as a person.
_PROFILE = re.compile(
    r"\bhttps?://(?:www\.|m\.|mobile\.)?(?:linkedin\.com/in|github\.com|gitlab\.com|twitter\.com|x\.com|instagram\.com"
    r"|facebook\.com|tiktok\.com|medium\.com|t\.me|youtube\.com|reddit\.com/u(?:ser)?|threads\.net|bsky\.app/profile)/@?"
    r"(?P<h>[A-Za-z0-9_][A-Za-z0-9_.\-]{1,39})/?(?=[\s)\]>,;\"'?#]|$)")
_SITE_PAGES = frozenset(
    """about login logout signup join settings explore search home features pricing topics marketplace orgs organizations
    enterprise security pulls issues notifications sponsors collections trending events groups pages watch sharer
    share intent i hashtag help legal privacy terms policies jobs careers company business p reel reels stories tv
    channel c results feed messages""".split())
_MENTION = re.compile(r"(?<![\w@.])@(?P<h>[A-Za-z][A-Za-z0-9_]{1,29}(?:\.[A-Za-z0-9_]+)?)(?![\w@]|\.[A-Za-z])")
_MENTION_CUE = re.compile(
    r"(?i)\b(?:twitter|x|instagram|insta|ig|tiktok|telegram|threads|mastodon|bluesky|github|gitlab|slack|discord|handle"
    r"|follow(?:ing)?|dm|ping|mention(?:ed)?|tag(?:ged)?|cc|signal|reach|contact|account|user(?:name)?)\b[^\n]{0,40}$")


def online_spans(text: str) -> list[Span]:
    out: list[Span] = []
    if "://" in text:
        for m in _PROFILE.finditer(text):
            if m.group("h").lower().rstrip(".") not in _SITE_PAGES:
                out.append(Span("USERNAME", m.start("h"), m.end("h"), 0.85, "pattern"))
    i = text.find("@")
    while i >= 0:  # (at each "@": a pattern scan of the whole text cost ~15 us per KB)
        m = _MENTION.match(text, i)
        if m is not None and _MENTION_CUE.search(text, max(0, i - 48), i):
            out.append(Span("USERNAME", m.start("h"), m.end("h"), 0.8, "pattern"))
        i = text.find("@", i + 1)
    return out
