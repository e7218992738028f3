"""Informal chat and machine text in English (fourth probe round, issue 14).

What the capitalised-name and labeled-field paths miss when people type fast or machines log:

* a known given name in lower case (or a lone one) right after a chat cue: "this is sarah
  from", "its mike johnson here", "my name's priya", "amir here", a sign-off ("thanks,\\nrachel",
  "cheers, Dan", "- tom" at the end); the name lists and their everyday-word exclusions are
  the ones of ``pii_names`` ("will", "mark", "grace" stay words);
* a handle after a log's user word ("user=jdoe", "for user 'kwalker'", "by user kvandijk",
  "Accepted password for rpatel from") and Slack mentions ("@rbrown", "@s.patel");
* street addresses typed in lower case ("42 elm st apt 3b", "10 downing st") and a lower-case
  US state with its ZIP code ("springfield il 62704").

Each pass is gated on a cheap substring test, so a prompt without these cues costs a few
``in`` checks.
"""
from __future__ import annotations

import re

from .pii_names import _known_cached, _load
from .types import Span

# ---------------------------------------------------------------- names after chat cues

# the cue ends right before the name; "it's" / "this is" need a trailing "here" / "from" /
# "," / end of sentence, so "this is paris" or "it's may" stay prose (and "may" is an
# everyday word anyway)
_CUE = re.compile(
    r"(?i)(?:\b(?:it'?s|it’s|this is|im|i'm|i’m|my name'?s|name'?s)[ \t]+"
    r"|\b(?:thanks|thank you|thx|cheers|regards|best|kind regards|many thanks)[ \t]*[,!.]?[ \t]*\n?[ \t]*"
    r"|(?:^|\n)[ \t]*[-–—~][ \t]*|[ \t][-–—][ \t]*"
    r"|\b(?:my (?:wife|husband|son|daughter|partner|colleague|manager|boss|friend|brother|sister|mom|dad))[ \t]+"
    r"|\b(?:account for|contract to|ask|tell|ping|cc)[ \t]+)"
    r"(?P<first>[A-Za-z][a-z]{2,14})(?:[ \t]+(?P<last>[A-Za-z][a-z'’]{1,20}))?"
)
_CUE_GATE = ("it's", "its ", "it’s", "this is", "im ", "i'm", "i’m", "name's", "names ", "thank", "thx", "cheers",
             "regards", "best,", "- ", "– ", "— ", "~", "my ", "account for", "contract to", "ask ", "tell ", "ping", "cc ")
# the cues that name the writer only when something closes the intro: "this is sarah from",
# "its jess.", "it's tom here"; "it's frank" without it is too often a sentence
_INTRO_CUES = ("it", "this", "im", "i'm", "i’m")
_INTRO_CLOSE = re.compile(r"[ \t]*(?:[,.!;:\n]|$|here\b|from\b|again\b|btw\b|at\b|with\b|\()")
_HERE = re.compile(r"(?i)(?<![\w'’])([a-z][a-z]{2,14})(?:[ \t]+([a-z][a-z'’]{1,20}))?[ \t]+here\b")


def _name_at(text: str, m: re.Match[str], cue: str) -> Span | None:
    first = m.group("first")
    if not _known_cached(first.lower(), 0):
        return None
    s, e = m.span("first")
    last = m.group("last")
    if last and _known_cached(last.lower().rstrip("'’"), 1) and not last.lower().endswith(("'s", "’s")):
        e = m.end("last")
    if cue.split()[0].rstrip("'’s") in _INTRO_CUES and cue.split()[0] not in ("my",):
        if _INTRO_CLOSE.match(text, e) is None:
            return None
    if cue.startswith(("-", "–", "—", "~")) or cue.endswith(("-", "–", "—")):
        # a dash sign-off ends the message or its line: "ok will try - tom"
        rest = text[e:e + 3]
        if rest.strip(" \t.!") and not rest.startswith("\n"):
            return None
    return Span("PERSON", s, e, 0.7, "chat")


def chat_name_spans(text: str, low: str) -> list[Span]:
    out: list[Span] = []
    if any(g in low for g in _CUE_GATE):
        for m in _CUE.finditer(text):
            cue = text[m.start():m.start("first")].strip().lower()
            span = _name_at(text, m, cue)
            if span is not None:
                out.append(span)
    if " here" in low:  # "amir here", "Emily Clarke here": the writer
        for m in _HERE.finditer(text):
            if _known_cached(m.group(1).lower(), 0):
                e = m.end(2) if m.group(2) and _known_cached(m.group(2).lower(), 1) else m.end(1)
                out.append(Span("PERSON", m.start(1), e, 0.7, "chat"))
    return out


# ---------------------------------------------------------------- handles in logs and chat

_LOG_USER = re.compile(
    r"(?i)(?:\b(?:by|for|from|of|as)[ \t]+(?:invalid[ \t]+)?user|\buser(?:name)?[ \t]*[=:]|\b(?:password|publickey|keyboard-interactive)[ \t]+for)"
    r"[ \t]*['\"(]?(?P<value>[A-Za-z][\w.\-]{1,31})['\")]?(?![\w@])"
)
_MENTION = re.compile(r"(?:(?<=[\s(,])|^)@(?P<value>[A-Za-z][\w.\-]{1,30}[A-Za-z0-9])(?![\w@(])", re.M)
_NOT_MENTION = frozenset("here channel everyone all param return returns throws see link since author version "
                         "override deprecated property staticmethod classmethod dataclass media import".split())


def handle_spans(text: str, low: str) -> list[Span]:
    out: list[Span] = []
    if "user" in low or " for " in low:
        stop = _load()[2]
        for m in _LOG_USER.finditer(text):
            v = m.group("value").rstrip(".-")
            lv = v.lower()
            if len(v) < 3 or lv in stop or lv in ("user", "users", "name", "the", "root", "admin", "invalid", "unknown"):
                continue
            if lv.endswith(("ing", "ed", "tion", "ment", "ness", "ly")) and v.isalpha():
                continue
            out.append(Span("USERNAME", m.start("value"), m.start("value") + len(v), 0.85, "chat"))
    if "@" in text:
        for m in _MENTION.finditer(text):
            v = m.group("value")
            if v.lower() in _NOT_MENTION:
                continue
            nxt = text[m.end():m.end() + 1]
            if nxt in ("", "\n") and (m.start() == 0 or text[m.start() - 1] == "\n"):
                continue  # a decorator on its own line ("@pytest.fixture")
            out.append(Span("USERNAME", m.start("value"), m.end("value"), 0.85, "chat"))
    return out


# ---------------------------------------------------------------- addresses typed in lower case

_SUFFIX = r"(?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd|boulevard|way|ct|court|pl|place|ter|terrace|hwy|highway|pkwy|parkway|cir|circle|sq|square|cres|crescent)"
_UNIT = r"(?:,?[ \t]*(?:apt|apartment|unit|suite|ste|flat|fl|floor|rm|room|#)\.?[ \t]*#?[ \t]*[0-9]{1,5}[a-z]?\b)?"
_LOW_STREET = re.compile(
    r"(?<![\w.,\-/])(?P<value>\d{1,5}[a-z]?[ \t]+(?:[nsew]\.?[ \t]+)?[a-z][a-z'’]+(?:[ \t]+[a-z][a-z'’]+){0,2}[ \t]+" + _SUFFIX + r"\b\.?" + _UNIT + ")"
)
_STATES = ("al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd oh ok "
           "or pa ri sc sd tn tx ut vt va wa wv wi wy dc")
# the state codes that are everyday English words need a comma before them ("portland, or 97201")
_WORDLIKE = frozenset("hi in me or ok de la id".split())
_LOW_STATE_ZIP = re.compile(r"(?<=[a-z])(?P<comma>,?)[ \t]+(?P<value>(?P<st>" + _STATES.replace(" ", "|") + r")[ \t]+\d{5}(?:-\d{4})?)(?![\w\-])")
_LOW_SUFFIX_GATE = re.compile(r"\d[a-z]?[ \t]+[a-z]")


def low_address_spans(text: str) -> list[Span]:
    out: list[Span] = []
    if _LOW_SUFFIX_GATE.search(text) is None:
        return out
    for m in _LOW_STREET.finditer(text):
        out.append(Span("STREET_ADDRESS", m.start("value"), m.end("value"), 0.8, "chat"))
    for m in _LOW_STATE_ZIP.finditer(text):
        if m.group("st") in _WORDLIKE and not m.group("comma"):
            continue
        out.append(Span("STREET_ADDRESS", m.start("value"), m.end("value"), 0.8, "chat"))
    return out


def chat_spans(text: str) -> list[Span]:
    low = text.lower()
    return chat_name_spans(text, low) + handle_spans(text, low) + low_address_spans(text)
