"""Undo the cheap disguises an attacker puts on an instruction before the rules read it.

"Ｉｇｎｏｒｅ ａｌｌ ｐｒｅｖｉｏｕｓ ｉｎｓｔｒｕｃｔｉｏｎｓ" (full-width forms), "Ign\u200bore" (a
zero-width space inside the word) and "Ignоre" (a Cyrillic "о" among Latin letters) read the
same as the plain sentence to a model, but not to a regular expression. The rules score
:func:`plain` of the text instead. Only the injection score reads it: PII offsets and what goes
upstream are the original text's.

An ASCII text has none of these disguises and is returned as is (the common case costs one
``isascii``). Genuine Cyrillic or Greek words are left alone: a letter is mapped to its Latin
look-alike only inside a word that mixes it with Latin letters.
"""
from __future__ import annotations

import re
import unicodedata

# invisible format characters: zero-width space / joiners, word joiner, soft hyphen, BOM,
# bidi marks (they split a word for a regex and show nothing to a reader)
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CYRILLIC_GREEK = re.compile("[\u0370-\u03ff\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z]")
# a Latin letter touching a Cyrillic / Greek one: every word that mixes the scripts has one
_SCRIPTS_TOUCH = re.compile("[A-Za-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][A-Za-z]")
# Cyrillic and Greek letters that look like Latin ones
_LOOKALIKE = str.maketrans(
    "аеорсухіјѕԁԛԝ" "АВЕКМНОРСТХУІЈЅ" "αεικνορτυχ" "ΑΒΕΗΙΚΜΝΟΡΤΥΧΖ",
    "aeopcyxijsdqw" "ABEKMHOPCTXYIJS" "aeiknoptux" "ABEHIKMNOPTYXZ",
)
_TOKEN = re.compile(r"\S+")


def _unmix(m: re.Match[str]) -> str:
    w = m.group()
    if _LATIN.search(w) and _CYRILLIC_GREEK.search(w):
        return w.translate(_LOOKALIKE)
    return w


def plain(text: str) -> str:
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    # two cheap scans first: most non-ASCII text has no Cyrillic / Greek, or no Latin, at all
    if _CYRILLIC_GREEK.search(text) and _LATIN.search(text) and _SCRIPTS_TOUCH.search(text):
        text = _TOKEN.sub(_unmix, text)
    return text
