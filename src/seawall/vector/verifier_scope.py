"""Scope words for the verifier: how many, whose, and may / should / must.

Embeddings barely move when a question changes its quantifier ("delete all emails" vs "delete
some emails", cosine ~0.98), its owner ("reset my password" vs "reset a user's password") or
its modality ("Can a contractor access the HR portal?" vs "Should a contractor ...?"). The
answers differ. Each rule compares *families* of words and refuses only when each side names
one the other lacks, so a reworded question ("all" vs "every", "can" vs "be allowed to")
keeps its hit, and a word dropped on one side is left to the other rules.

- quantifiers: all = every = each, some = any = several, many, few, most, one = single ...;
- owner: "my" (the asker's) on one side, someone else's on the other ("a user's", "his",
  "the company's", "their");
- modality, in yes / no questions only: can = could = able = possible = allowed vs should =
  worth = advisable vs must = need = have to = required, and the judgement asked ("is it
  safe", "is it legal", "is it ethical"). "How can I ...?" = "How should I ...?" = "How do I
  ...?": in a how-question the modal is manner, not modality, so it is not compared.

The word lists were written for this project from our own probes (/tmp probe set, not the
evaluation sets).
"""
from __future__ import annotations

_QUANTIFIERS = """
all: all every each entire whole everything everyone everybody |
some: some any several certain something someone anything |
many: many lots plenty numerous |
few: few handful fewer |
most: most majority |
one: single one |
both: both |
either: either |
multiple: multiple |
first: first | last: last final latest
"""
QUANTIFIERS: dict[str, str] = {}
for _entry in _QUANTIFIERS.replace("\n", " ").split("|"):
    _fam, _words = _entry.split(":")
    for _w in _words.split():
        QUANTIFIERS[_w] = _fam.strip()
# "one of the ...", "any of", "the one": a pronoun or a partitive, not a count of the head noun
_QUANT_PRONOUN_NEXT = frozenset("of".split())

_MODALS = """
can: can could able possible allowed permitted cannot can't couldn't |
should: should ought worth advisable recommended wise shouldn't |
must: must need needs required mandatory necessary compulsory obliged obligatory mustn't |
safe: safe dangerous risky harmful |
legal: legal illegal lawful unlawful |
ethical: ethical unethical moral immoral
"""
MODALS: dict[str, str] = {}
for _entry in _MODALS.replace("\n", " ").split("|"):
    _fam, _words = _entry.split(":")
    for _w in _words.split():
        MODALS[_w] = _fam.strip()
_HAVE = frozenset("have has had".split())

# The asker's own things vs someone else's.
_MINE = frozenset("my mine our ours".split())
_OTHERS = frozenset("his her their hers theirs".split())
# "what's", "it's", "there's": a contraction of "is", not a possessive
_NOT_POSSESSIVE = frozenset("what it that there who how where here he she let when why one everyone "
                            "someone today".split())


def quantifiers(words: tuple[str, ...]) -> frozenset[str]:
    out = set()
    n = len(words)
    for i, w in enumerate(words):
        fam = QUANTIFIERS.get(w)
        if fam is None:
            continue
        if fam == "one" and w == "one" and (i + 1 >= n or words[i + 1] in _QUANT_PRONOUN_NEXT or
                                            i and words[i - 1] in ("the", "which", "this", "that", "no")):
            continue  # "which one", "one of the", "the one": not a count
        if fam == "few" and i and words[i - 1] == "a":
            fam = "some"  # "a few" = some; "few" alone = hardly any
        out.add(fam)
    return frozenset(out)


def modality(words: tuple[str, ...]) -> frozenset[str]:
    """Modal families of a yes / no question (empty for any other prompt)."""
    if not words or words[0] not in _YES_NO:
        return frozenset()
    out = set()
    for i, w in enumerate(words):
        fam = MODALS.get(w)
        if fam is None and w == "to" and i and words[i - 1] in _HAVE:
            fam = "must"  # "do I have to"
        if fam is None and w == "may" and i == 0:
            fam = "can"  # "May I ...?"; elsewhere "may" is also a month
        if fam is not None:
            out.add(fam)
    return frozenset(out)


_YES_NO = frozenset("is are was were am do does did can could will would should shall has have had may might "
                    "must".split())


def owners(words: tuple[str, ...]) -> tuple[bool, frozenset[str]]:
    """(the asker's own thing named, the other owners named: his / her / their / "user's")."""
    mine = any(w in _MINE for w in words)
    others = set()
    for w in words:
        if w in _OTHERS:
            others.add(w)
        elif w.endswith("'s") and w[:-2] not in _NOT_POSSESSIVE and len(w) > 3:
            others.add(w[:-2])
        elif w.endswith("s'") and len(w) > 3:
            others.add(w[:-1])  # "employees'"
    return mine, frozenset(others)


def _family_swap(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a - b) and bool(b - a)


def scope(words: tuple[str, ...]) -> tuple:
    """What scope_conflict compares, read once per prompt (memoised with its slots)."""
    return quantifiers(words), modality(words), *owners(words)


def scope_conflict(sa: tuple, sb: tuple, wa: frozenset[str], wb: frozenset[str]) -> str | None:
    """Why two prompts (their ``scope`` and word sets) ask about a different scope, or None."""
    (qa, ma, mine_a, oth_a), (qb, mb, mine_b, oth_b) = sa, sb
    if _family_swap(qa, qb):
        return f"quantifier {sorted(qa - qb)} vs {sorted(qb - qa)}"
    if _family_swap(ma, mb):
        return f"modality {sorted(ma - mb)} vs {sorted(mb - ma)}"
    for mine, others, words in ((mine_a, oth_b, wa), (mine_b, oth_a, wb)):
        # an owner on the other side only, while this side speaks of its own ("my password")
        new = [o for o in others if o not in words and o + "'s" not in words] if mine else None
        if new:
            return f"owner my vs {sorted(new)[0]}"
    return None
