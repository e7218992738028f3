"""What a request asks to *do*, for the verifier: action verbs grouped into families.

"delete duplicate rows" and "find duplicate rows" embed close together (0.85 with MiniLM):
the objects are the same, the operation differs, and so does the answer. Each verb below
belongs to a family of near-synonyms (delete = remove = erase = purge ...); two prompts whose
families differ in a swap (each side has a family the other lacks) ask for different
operations. Synonyms within a family match, and an operation added on one side ("find and
delete" vs "delete") is a detail, not a swap.

A verb with two senses sits in both families ("drop" a table / prices "drop"; "start" a
company / a server; "add" a row / to the total), so it is never one side of a swap against
either sense. Words that are mostly something else in
running text (close = near, change = a noun, get/make/set = everything) were left out.
The families and their word lists were written for this project.
"""
from __future__ import annotations

# family: base forms (inflections are derived below); a phrase is written with "_"
_FAMILIES = """
delete: delete remove erase purge wipe destroy discard truncate drop get_rid_of
find: find search locate look_up lookup list fetch retrieve select display show look_for
create: create add insert register generate sign_up start
update: update modify edit rename alter
copy: copy clone
move: move relocate transfer
cancel: cancel abort revoke terminate call_off
approve: approve accept confirm authorize authorise allow
reject: reject decline deny refuse disallow
enable: enable activate turn_on switch_on
disable: disable deactivate turn_off switch_off
start: start launch begin open
stop: stop halt
pause: pause suspend
resume: resume unpause renew reactivate
buy: buy purchase
sell: sell
send: send transmit transfer
receive: receive
import: import
export: export
upload: upload
download: download
lock: lock
unlock: unlock
open: open reopen
close: shut
install: install
uninstall: uninstall
subscribe: subscribe
unsubscribe: unsubscribe
connect: connect
disconnect: disconnect
login: log_in login sign_in signin log_on
logout: log_out logout sign_out signout log_off
encrypt: encrypt
decrypt: decrypt
encode: encode
decode: decode
compress: compress
decompress: decompress unzip
increase: increase boost add
decrease: decrease reduce drop
sort: sort
merge: merge combine
split: split
hide: hide
multiply: multiply
divide: divide
subtract: subtract
deposit: deposit
withdraw: withdraw
borrow: borrow
lend: lend
"""

_IRREGULAR = {
    "find": "found", "buy": "bought", "sell": "sold", "send": "sent", "begin": "began begun",
    "withdraw": "withdrew withdrawn", "lend": "lent", "show": "shown",
    "hide": "hid hidden", "get_rid_of": "got_rid_of", "drop": "dropped dropping",
    "stop": "stopped stopping", "unzip": "unzipped unzipping",
    "cancel": "cancelled canceled cancelling canceling", "look_for": "looked_for",
    "look_up": "looked_up", "sign_up": "signed_up", "turn_on": "turned_on",
    "turn_off": "turned_off", "switch_on": "switched_on", "switch_off": "switched_off",
    "call_off": "called_off", "log_in": "logged_in", "log_out": "logged_out",
    "sign_in": "signed_in", "sign_out": "signed_out", "log_on": "logged_on", "log_off": "logged_off",
}
# the base form only: the other forms mean something else too often ("listed" companies;
# "shut" and "split" are the same in every tense)
_BASE_ONLY = frozenset({"list", "shut", "split"})


def _forms(verb: str) -> set[str]:
    out = {verb}
    out.update(_IRREGULAR.get(verb, "").split())
    if verb in _BASE_ONLY or "_" in verb:
        return out
    if verb.endswith(("s", "x", "ch", "sh")):
        out.add(verb + "es")
    elif verb.endswith("y") and verb[-2:-1] not in "aeiou":
        out.add(verb[:-1] + "ies")
    else:
        out.add(verb + "s")
    if verb.endswith("e"):
        out.update({verb + "d", verb[:-1] + "ing"})
    elif verb.endswith("y") and verb[-2:-1] not in "aeiou":
        out.update({verb[:-1] + "ied", verb + "ing"})
    else:
        out.update({verb + "ed", verb + "ing"})
    return out


ACTIONS: dict[str, frozenset[str]] = {}   # word -> families
PHRASES: dict[tuple[str, ...], frozenset[str]] = {}  # ("turn", "on") -> families
for _line in _FAMILIES.strip().splitlines():
    _family, _verbs = _line.split(":")
    for _verb in _verbs.split():
        for _form in _forms(_verb):
            parts = tuple(_form.split("_"))
            table, key = (ACTIONS, parts[0]) if len(parts) == 1 else (PHRASES, parts)
            table[key] = table.get(key, frozenset()) | {_family}  # type: ignore[index]
_PHRASE_STARTS = frozenset(p[0] for p in PHRASES)


def actions(words: list[str] | tuple[str, ...]) -> frozenset[str]:
    """The action families a prompt's (lower-case) words name."""
    out: set[str] = set()
    n = len(words)
    for i, w in enumerate(words):
        if w in _PHRASE_STARTS:
            for k in (4, 3, 2):
                fam = PHRASES.get(tuple(words[i:i + k])) if i + k <= n else None
                if fam:
                    out |= fam
                    break
        fam = ACTIONS.get(w)
        if fam:
            out |= fam
    return frozenset(out)


def swapped(a: frozenset[str], b: frozenset[str]) -> bool:
    """Each side names an operation the other does not: a different request."""
    return bool(a - b) and bool(b - a)
