"""Names in the columns of a CSV / TSV export: a header row names the column ("last_name",
"Nachname", "nazwisko"), so its cells are names even when they stand alone without a given name
and the run-of-capitals pass cannot see them ("1,Fiona,MacAllister,...").

Cost: a lower-cased copy and a few substring finds when the text holds a delimiter and a line
break; lines are split only around a header hit."""
from __future__ import annotations

import re

from .pii_names import _known_cached, _load
from .types import Span

# columns that hold only a person's name: any capitalised word in them is a name
_PERSON_COLS = frozenset(
    """first_name firstname first last_name lastname last surname given_name givenname given_names family_name
    familyname full_name fullname middle_name customer_name client_name employee_name patient_name contact_name
    passenger_name holder_name account_holder cardholder vorname nachname prenom prénom apellido apellidos
    voornaam achternaam imie imię nazwisko cognome nome_cognome""".split()
)
# columns that often hold a person but may hold a product or a company: a cell needs a known name
_MAYBE_COLS = frozenset("name nom nombre naam contact customer client employee patient passenger owner mitarbeiter".split())
_HEADS = ("name", "nom", "naam", "first", "last", "surname", "given", "family", "imi", "nazwisk", "apellid",
          "cognome", "mitarbeiter", "customer", "client", "employee", "patient", "passenger", "holder", "contact", "owner")
_CELL = re.compile(r"[^\W\d_][^\W\d_'’.\- ]*(?:[ '’.\-]+[^\W\d_]+){0,3}\.?")
_DELIMS = ("\t", ";", "|", ",")


def _norm(cell: str) -> str:
    return cell.strip().strip("\"'").strip().lower().replace(" ", "_").replace("-", "_")


def table_name_spans(text: str) -> list[Span]:
    if "\n" not in text or not any(d in text for d in _DELIMS):
        return []
    low = text.lower()
    starts: set[int] = set()
    for h in _HEADS:
        i = low.find(h)
        while i >= 0:
            starts.add(low.rfind("\n", 0, i) + 1)
            i = low.find(h, i + len(h))
    out: list[Span] = []
    done = -1
    for ls in sorted(starts):
        if ls < done:
            continue
        le = text.find("\n", ls)
        if le < 0:
            continue
        header = text[ls:le]
        delim = next((d for d in _DELIMS if header.count(d) >= 1), None)
        if delim is None:
            continue
        cols = [_norm(c) for c in header.split(delim)]
        sure = {i for i, c in enumerate(cols) if c in _PERSON_COLS}
        maybe = {i for i, c in enumerate(cols) if c in _MAYBE_COLS}
        if not sure and not maybe:
            continue
        pos = le + 1
        while pos < len(text):  # the rows below, while they keep the header's shape
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            cells = text[pos:end].split(delim)
            if len(cells) != len(cols):
                break
            at = pos
            for i, cell in enumerate(cells):
                if i in sure or i in maybe:
                    span = _cell_name(cell, at, i in sure)
                    if span is not None:
                        out.append(span)
                at += len(cell) + 1
            pos = end + 1
        done = pos
    return out


def _cell_name(cell: str, at: int, sure: bool) -> Span | None:
    lead = len(cell) - len(cell.lstrip(" \"'"))
    value = cell.strip(" \"'\r")
    if not value or not value[0].isupper() or _CELL.fullmatch(value) is None:
        return None
    words = [w for w in re.split(r"[ '’.\-]+", value.lower()) if w]
    common = _load()[2]
    if all(w in common for w in words):
        return None  # "Admin", "Unknown", "N/A"
    if not sure and not any(_known_cached(w, 0) or _known_cached(w, 1) for w in words):
        return None
    return Span("PERSON", at + lead, at + lead + len(value), 0.85 if sure else 0.8, "names")
