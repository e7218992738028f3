"""Long informal text (fifth probe round, issue 14): pasted Slack / Teams threads, ticket
histories, e-mail chains and chat exports.

* who wrote each message: the speaker label of a chat export ("[02/04/2024, 19:02] sophie:")
  or of a pasted Slack / Teams thread ("priya  9:02 AM", "dmitri.volkov 9:04");
* a lower-case UK postcode with a real postcode area ("m14 5rt", "ls6 2qq");
* the same name again: once a person's name is found in a text (by any pass), its other
  mentions are too ("thanks bethany" after "Kind regards, Bethany").

Each is gated on its anchor (newlines and a clock time, a digit cluster after a lower-case
letter, a PERSON span), so a prompt without one costs a few ``in`` tests.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from itertools import accumulate

from .pii_addresses import _UK_AT
from .pii_names import _known_cached, _load
from .types import Span

# ---------------------------------------------------------------- speaker labels

_EXPORT = re.compile(r"\[[0-9][0-9/.\-]{5,10},?[ \t]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[ \t]?[AaPp][Mm])?\][ \t]*"
                     r"(?P<who>[A-Za-z][\w.\-]*(?:[ \t][A-Za-z][\w.\-]*){0,2}):[ \t]")
_THREAD = re.compile(r"(?P<who>[A-Za-z][\w.\-]*(?:[ \t][A-Za-z][\w.\-]*){0,2})[ \t]+[0-9]{1,2}:[0-9]{2}"
                     r"(?:[ \t]?[AaPp][Mm])?[ \t]*$")
_PARTS = re.compile(r"[a-z]+")
# labels a help desk or a bot writes under: never a person
_ROLES = frozenset("admin helpdesk servicedesk bot system support agent customer user moderator staff ops devops "
                   "oncall qa hr it team lead captain manager owner assistant ai gpt claude".split())


def _person_label(who: str, repeats: int) -> bool:
    """A speaker label that names a person: a known given name (and surname), a handle made of
    them ("dmitri.volkov"), or a lower-case word that is no everyday word and speaks twice."""
    low = who.lower()
    parts = _PARTS.findall(low)
    if not parts or any(p in _ROLES for p in parts):
        return False
    if _known_cached(parts[0], 0) or (len(parts) > 1 and any(_known_cached(p, 1) for p in parts[1:])):
        return True
    common = _load()[2]
    if len(parts) == 2 and ("." in low or "_" in low) and all(len(p) >= 2 and p not in common for p in parts):
        return True  # "olamide.bankole": a person's handle
    return len(parts) == 1 and repeats >= 2 and who.islower() and len(low) >= 3 and low not in common


def speaker_spans(text: str) -> list[Span]:
    if text.count("\n") < 3 or ":" not in text:
        return []
    found: list[tuple[int, int, str]] = []
    pos = 0
    for line in text.split("\n"):
        if line and ":" in line:
            m = _EXPORT.match(line) if line[0] == "[" else _THREAD.match(line) if len(line) <= 48 else None
            if m is not None:
                found.append((pos + m.start("who"), pos + m.end("who"), m.group("who")))
        pos += len(line) + 1
    if not found:
        return []
    counts: dict[str, int] = {}
    for _, _, who in found:
        counts[who] = counts.get(who, 0) + 1
    ok = {who for who in counts if _person_label(who, counts[who])}
    kind = {who: "USERNAME" if ("." in who or "_" in who) else "PERSON" for who in ok}
    return [Span(kind[w], s, e, 0.8, "chat") for s, e, w in found if w in ok]


# ---------------------------------------------------------------- lower-case UK postcodes

# the inward code's two letters are never an ordinal or a unit ("2nd", "3rd", "8gb")
_NOT_INWARD = frozenset("st nd rd th gb tb px pt hz yr hr db sp".split())


def low_postcode_spans(text: str, clusters: list[tuple[int, int]]) -> list[Span]:
    """"m14 5rt", "ls6 2qq": a postcode typed in lower case, with its space and a real area."""
    out: list[Span] = []
    for a, _ in clusters:
        if a < 1 or not text[a - 1].islower():
            continue
        st = a - 2 if a >= 2 and text[a - 2].islower() else a - 1
        if st and (text[st - 1].isalnum() or text[st - 1] in "-_./@"):
            continue
        chunk = text[st:st + 9]
        m = _UK_AT.match(chunk.upper())
        # (upper-case ones are postal_spans' in pii_addresses)
        if m is not None and chunk[:m.end()].islower() and chunk[m.end() - 2:m.end()] not in _NOT_INWARD:
            out.append(Span("STREET_ADDRESS", st, st + m.end(), 0.8, "chat"))
    return out


# ---------------------------------------------------------------- the same name again

_SPLIT = re.compile(r"[ \t.\-_’']+")


def _targets(text: str, spans: list[Span]) -> dict[str, bool]:
    """Lower-case names worth looking for again: each found full name, and each of its words that is a
    known given name or surname (or part of a speaker's / mention's handle) and no everyday word. The
    value says whether a lower-case mention counts too: a name written capitalised ("Gao Yuan") takes
    only its capitalised namesakes, unless it is a given name ("Regards, Bethany" ... "thanks bethany")."""
    first, _, common = _load()
    out: dict[str, bool] = {}
    for s in spans:
        if s.kind not in ("PERSON", "USERNAME") or s.end - s.start > 40:
            continue
        raw = text[s.start:s.end]
        words = [w for w in _SPLIT.split(raw) if w]
        if s.kind == "PERSON" and len(words) > 1 and all(w.isalpha() for w in words):
            out[" ".join(words).lower()] = raw.islower()
        for w in words:
            lw = w.lower()
            if len(w) >= 3 and w.isalpha() and lw not in common and (
                    s.kind == "USERNAME" or _known_cached(lw, 0) or _known_cached(lw, 1)):
                out[lw] = out.get(lw, False) or w.islower() or lw in first
    return out


def same_name_spans(text: str, spans: list[Span]) -> list[Span]:
    """Every other whole-word mention of a name already found in this text."""
    # only names the informal passes found (a cue, a speaker, a handle): a capitalised word the
    # name pass misread ("Yoga", "Orange") must not take its lower-case namesakes with it
    src = [s for s in spans if s.detector == "chat" and s.kind in ("PERSON", "USERNAME")]
    if not src:
        return []
    targets = _targets(text, src)
    if not targets:
        return []
    low = text.lower()
    taken = sorted((s.start, s.end) for s in spans)
    starts = [a for a, _ in taken]
    reach = list(accumulate((b for _, b in taken), max))  # the furthest end among spans starting so far
    out: list[Span] = []
    n = len(text)
    # a ``find`` loop per name (one alternation regex over the text was slower: ~30 us per KB)
    for t, any_case in targets.items():
        i = low.find(t)
        while i != -1:
            e = i + len(t)
            if (any_case or text[i].isupper()) and (i == 0 or not low[i - 1].isalnum() and low[i - 1] not in "@.") and (
                    e == n or not low[e].isalnum() and not (low[e] in ".@_-" and e + 1 < n and low[e + 1].isalnum())):
                k = bisect_left(starts, e)  # spans starting before e overlap when one reaches past i
                if not (k and reach[k - 1] > i):
                    out.append(Span("PERSON", i, e, 0.7, "chat"))
            i = low.find(t, e)
    return out
