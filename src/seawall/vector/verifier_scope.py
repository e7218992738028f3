"""Scope words for the verifier: how many, whose, and may / should / must.

Embeddings barely move when a question changes its quantifier ("delete all emails" vs "delete
some emails", cosine ~0.98), its owner ("reset my password" vs "reset a user's password") or
its modality ("Can a contractor access the HR portal?" vs "Should a contractor ...?"). The
answers differ. Each rule compares *families* of words and refuses only when the two sides
name different ones, so a reworded question ("all" vs "every", "can" vs "be allowed to") keeps
its hit, and a word dropped on one side is left to the other rules:

- quantifiers, of the same noun on both sides: all = every = each, some = several = many = a
  few, few (alone: hardly any), most, one = single, both, either, first, last ("all emails"
  vs "some emails"; "one moment ... so many are" has no shared noun and is not compared;
  "any" is left out: "any insurer" often means every insurer);
- owner, of the same noun: "my password" vs "a user's password" / "his password";
- modality, in yes / no questions only: can = could = able = possible = allowed vs should =
  worth = advisable vs must = need = have to = required, and the judgement asked ("is it
  safe", "is it legal", "is it ethical"). "How can I ...?" = "How should I ...?" = "How do I
  ...?": in a how-question the modal is manner, not modality, so it is not compared;
- a question opening with "what" / "which" and asking through a noun ("What is the best time
  to visit Japan?" asks when, "... the best way to ..." how, "... the best place to ..."
  where): its question word, for the question-word rule.

The word lists were written for this project from our own probe set (not the evaluation sets).
"""
from __future__ import annotations

_QUANTIFIERS = """
all: all every each entire whole |
some: some several certain multiple many lots plenty numerous various |
few: few handful |
most: most majority |
one: single one |
both: both | either: either | neither: neither |
first: first | last: last final latest
"""


def _families(table: str) -> dict[str, str]:
    """word -> its family, from "family: word word | family: ..." tables."""
    out = {}
    for entry in table.replace("\n", " ").split("|"):
        fam, words = entry.split(":")
        out.update(dict.fromkeys(words.split(), fam.strip()))
    return out


QUANTIFIERS = _families(_QUANTIFIERS)
_PERIODS = frozenset("second minute hour day week month year time".split())
# skipped between a quantifier or an owner and its noun: "all of my chats", "some of the emails"
_TO_NOUN = frozenset("of the a an my your our their his her its these those this that own".split())

_MODALS = """
can: can could able possible allowed permitted cannot can't couldn't |
should: should ought worth advisable recommended wise shouldn't |
must: must need needs required mandatory necessary compulsory obliged obligatory mustn't |
safe: safe dangerous risky harmful |
legal: legal illegal lawful unlawful |
ethical: ethical unethical moral immoral
"""
MODALS = _families(_MODALS)
_HAVE = frozenset("have has had".split())

# The asker's own things vs someone else's.
_MINE = frozenset("my mine our ours".split())
_OTHERS = frozenset("his her their hers theirs".split())
_OWNERS = _MINE | _OTHERS
# "what's", "it's", "there's": a contraction of "is", not a possessive
_NOT_POSSESSIVE = frozenset("what it that there who how where here he she let when why one everyone "
                            "someone today".split())


# "What is the best time / way / place to ...": the noun stands for a question word
_NOUN_ASKS = {**dict.fromkeys("time day date year month".split(), "when"),  # "what age" = "how old"
              **dict.fromkeys("way ways method methods steps".split(), "how"),
              **dict.fromkeys("place places location city country".split(), "where"),
              **dict.fromkeys("reason reasons".split(), "why")}
_NOUN_SKIP = frozenset("is are was were the a an best good right ideal easiest fastest quickest simplest "
                       "cheapest safest most proper correct".split())


def noun_question(words: tuple[str, ...], i: int) -> str | None:
    """The question word a "what" / "which" at ``i`` stands for through the noun after it, if
    one of _NOUN_ASKS follows it within a few filler words ("what is the best time to")."""
    for w in words[i + 1:i + 6]:
        q = _NOUN_ASKS.get(w)
        if q is not None:
            return q
        if w not in _NOUN_SKIP:
            return None
    return None


def _noun(words: tuple[str, ...], i: int, owned: bool = False) -> str | None:
    """The noun a quantifier or owner at ``i`` bears on, singular ("all of my chats" -> chat)."""
    for w in words[i + 1:i + 5]:
        if owned:
            w = w.removesuffix("'s")  # "my team's requests": my team
        elif w.endswith("'s"):
            continue  # "all of my team's requests": all requests
        if w not in _TO_NOUN:
            return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
    return None


def quantifiers(words: tuple[str, ...]) -> dict[str, str]:
    """noun -> quantifier family ("all emails" -> {"email": "all"})."""
    out = {}
    for i, w in enumerate(words):
        fam = QUANTIFIERS.get(w)
        if fam is None or w == "one" and i and (words[i - 1] in ("the", "which", "this", "that", "no", "any")
                                                or words[i - 1] in QUANTIFIERS):
            continue  # "which one", "the one", "every one of": a pronoun, not a count
        if fam == "few" and i and words[i - 1] == "a":
            fam = "some"  # "a few" = some; "few" alone = hardly any
        noun = _noun(words, i)
        if fam == "few" and noun in _PERIODS:
            fam = "some"  # "few hours ago" is written for "a few hours ago"
        if noun is not None:
            out.setdefault(noun, fam)
    return out


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


def owners(words: tuple[str, ...]) -> dict[str, str]:
    """noun -> its owner: "mine" for my / our, else his / her / their or the possessive noun."""
    out = {}
    for i, w in enumerate(words):
        if w in _MINE:
            owner = "mine"
        elif w in _OTHERS:
            owner = w
        elif w.endswith("'s") and w[:-2] not in _NOT_POSSESSIVE and len(w) > 3:
            owner = w[:-2]
        elif w.endswith("s'") and len(w) > 3:
            owner = w[:-1]  # "employees'"
        else:
            continue
        if i + 1 < len(words) and words[i + 1] not in _TO_NOUN:
            noun = _noun(words, i, owned=True)
            if noun is not None and noun not in _NOT_POSSESSIVE:
                out[noun] = owner  # the nearest owner wins: "my manager's calendar" -> manager
    return out


def _family_swap(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a - b) and bool(b - a)


def scope(words: tuple[str, ...]) -> tuple:
    """What scope_conflict compares, read once per prompt (memoised with its slots)."""
    ws = frozenset(words)  # most prompts hold none of these words: skip their loops
    return (quantifiers(words) if not ws.isdisjoint(QUANTIFIERS) else {}, modality(words),
            owners(words) if not ws.isdisjoint(_OWNERS) or "'" in " ".join(words) else {})


def _same_noun_differs(a: dict[str, str], b: dict[str, str]) -> tuple[str, str, str] | None:
    for noun, x in a.items():
        y = b.get(noun)
        if y is not None and y != x:
            return noun, x, y
    return None


def scope_conflict(sa: tuple, sb: tuple) -> str | None:
    """Why two prompts (their ``scope``) ask about a different scope, or None."""
    (qa, ma, oa), (qb, mb, ob) = sa, sb
    if qa and qb and (d := _same_noun_differs(qa, qb)):
        return f"quantifier {d[1]} vs {d[2]} {d[0]}"
    if _family_swap(ma, mb):
        return f"modality {sorted(ma - mb)} vs {sorted(mb - ma)}"
    if oa and ob and (d := _same_noun_differs(oa, ob)) and "mine" in d[1:]:
        return f"owner {d[1]} vs {d[2]} {d[0]}"
    return None
