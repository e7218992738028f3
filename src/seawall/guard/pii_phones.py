"""Phone numbers that the validated pattern in pii.py cannot confirm on its own.

libphonenumber only says yes for the regions FastPII tries, and many real numbers are written
in a national form from elsewhere ("082 490 1693", "(37) 788-063") or without any separator
("918823884"). Accepting every digit group as a phone would flag order numbers, so these two
recognizers need the text to say it is a phone:

* **a phone word next to the number**, in the way contact blocks and prose write it: after it
  ("082 490 1693-Office", "416 60 039 office", "(555) 010-2030 (mobile)") or before it ("call me
  at", "they're not answering at", "Desk: ", "office: "). Words that only label a phone when
  they sit right against the number ("office", "home", "work", "desk") are safe there, and
  nowhere else.
* **a list after a phone label**: "Tlf.: 917277336 / 606409021", "tel. 22 123 45 67 lub
  601 234 567": the labeled recognizer (pii_ids) takes the first value; the others follow it.

The number itself must still look like one: 7-15 digits in at most six groups, not a date, a
range or a time, and not glued to a letter prefix ("ZAM-0603202021", "FV/2026/61231").
"""
from __future__ import annotations

import re

from .types import Span

# the number: optional +country and (area), then digit groups with single separators
_NUM = r"(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?\d{1,11}(?:[ .\-]\d{2,11}){0,5}"
# words that mean "a phone" when they touch a number; several languages
_AFTER_WORDS = (
    r"office|fax|mobile|cell|home|work|desk|landline|direct|tel|phone|whatsapp|"
    r"oficina|m[óo]vil|casa|trabajo|fijo|biuro|dom|praca|kom[óo]rka|komórkowy|b[üu]ro|mobil|privat|bureau|domicile|portable"
)
# verbs: "call me at", "not answering at"; nouns only as a field label: "Desk: ", "office number: "
_VERBS = r"call|text|ring|reach|dial|answering|contact|llame|llamar|ll[áa]mame|zadzwo[ńn]|anrufen|appelez|appeler"
_NOUNS = r"office|home|work|desk|landline|direct|oficina|casa|trabajo|fijo|biuro|dom|praca|b[üu]ro|bureau|domicile"
_AFTER_RE = re.compile(r"(?<![\w+\-/.])(?<!\d,)(" + _NUM + r")[ \t]*[\-–(]?[ \t]*(?i:" + _AFTER_WORDS + r")(?![^\W\d_])")
_BEFORE_RE = re.compile(
    r"(?:(?i:" + _VERBS + r")(?![^\W\d_])[ \t]*(?:(?:me|us|him|her|them|mi|mnie|mich|moi)[ \t]+)?"
    r"(?:(?:at|on|is|number|no\.?|nr\.?|al|en|pod|unter|au)[ \t]+)*[:#]?"
    r"|(?i:" + _NOUNS + r")(?![^\W\d_])[ \t]*(?:(?:phone|tel|number|no|nr|n[úu]mero|numer)\.?[ \t]*)?[:#])"
    r"[ \t]*(" + _NUM + r")(?![\w/]|[.,]\d|-\d)"
)
CUE_HEADS = frozenset(
    """office fax mobile cell home work desk landline direct tel phone whatsapp oficina móvil movil casa trabajo
    fijo biuro dom praca komórka komorka komórkowy büro buro mobil privat bureau domicile portable call text ring
    reach dial answering contact llame llamar llámame llamame zadzwoń zadzwon anrufen appelez appeler""".split()
)
_AFTER_HEADS = frozenset(h.lower() for h in CUE_HEADS) - {"call", "text", "ring", "reach", "dial", "answering", "contact",
                                                          "llame", "llamar", "llámame", "llamame", "zadzwoń", "zadzwon",
                                                          "anrufen", "appelez", "appeler"}
# a date (day and month no larger than 31 and 12, either order), a time, or a range
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE_OR_TIME = re.compile(
    rf"^(?:\d{{4}}[\-/. ]{_MONTH}[\-/. ]{_DAY}|{_DAY}[\-/. ]{_MONTH}[\-/. ](?:\d\d)?\d\d|{_MONTH}[\-/. ]{_DAY}[\-/. ](?:\d\d)?\d\d)"
    r"(?![\d])|^\d{1,2}[:.]\d{2}(?:\D|$)|^\d{1,4}-\d{1,4}$"
)
# more phones after a labeled one: "/ 606409021", "- 606409021", ", 601 234 567", "lub 601 234 567"
_MORE_RE = re.compile(
    r"[ \t]*(?:[/,;]|[\-–]|(?i:or|o|y|and|lub|albo|oder|ou|et|e)(?![^\W\d_]))[ \t]*"
    r"(?:(?i:fax|tel|tlf|telf|m[óo]vil|mobile|cell|kom)\.?:?[ \t]*)?(" + _NUM + r")(?![\w/]|[.,]\d|-\d)"
)


_DIGIT = re.compile(r"\d")


def number_ok(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    if not 7 <= digits <= 15 or _DATE_OR_TIME.match(value):
        return False
    groups = re.split(r"[ .\-()+]+", value.strip("+()"))
    # an amount or a decimal ("41755,35", "4.300.000") is not a number someone dials
    return not (len(groups) > 1 and all(len(g) == 3 for g in groups[1:]) and "." in value and " " not in value)


def cue_spans(text: str, hits: list[tuple[int, str]]) -> list[Span]:
    """Numbers touching a phone word (see the module doc); ``hits`` are head_hits() results."""
    out: list[Span] = []
    n = len(text)
    for pos, word in hits:
        if word not in CUE_HEADS:
            continue
        # a number touches the word: a digit just before it, or soon after it
        if word in _AFTER_HEADS and text[max(0, pos - 6) : pos].rstrip(" \t-–(")[-1:].isdigit():
            a = max(0, pos - 40)
            for m in _AFTER_RE.finditer(text, a, min(n, pos + len(word) + 1)):
                if m.end() >= pos + len(word) and number_ok(m.group(1)):
                    out.append(Span("PHONE_NUMBER", m.start(1), m.end(1), 0.7, "context"))
        after = pos + len(word)
        if not _DIGIT.search(text, after, min(n, after + 24)):
            continue
        m = _BEFORE_RE.match(text, pos, min(n, pos + 60))
        if m is not None and number_ok(m.group(1)):
            out.append(Span("PHONE_NUMBER", m.start(1), m.end(1), 0.7, "context"))
    return out


def more_phones(text: str, end: int) -> list[Span]:
    """Further numbers in a list that starts with a labeled phone ending at ``end``."""
    out: list[Span] = []
    for _ in range(4):
        m = _MORE_RE.match(text, end, min(len(text), end + 60))
        if m is None or not number_ok(m.group(1)):
            break
        out.append(Span("PHONE_NUMBER", m.start(1), m.end(1), 0.85, "labeled"))
        end = m.end()
    return out
