"""Word order, for the verifier: the same words around a directional word, swapped.

"flights from Boston to Denver" and "flights from Denver to Boston", "Is a lion stronger than a
tiger?" and "Is a tiger stronger than a lion?", "Did Apple buy Beats?" and "Did Beats buy
Apple?" hold the same words: a mean-pooled embedding and the token-alignment gate see the same
text (cosine ~0.99), and every other rule finds nothing to compare. The answer differs.

Each content word of a prompt gets a *role*: the last directional word before it ("from",
"to", "than", "per", "before", "after", "by", "over", "against", "instead", or an asymmetric
verb such as buy / beat / sue / send; "^" before any). Two prompts are an order swap when
two words they share trade roles: one goes from role r to s while the other goes from s to r
(Boston: from -> to, Denver: to -> from). A word moved alone is a reworded prompt, not a swap:
"Can you tell me the rate from euros to dollars?" vs "The rate from euros to dollars, can you
tell me?" moves "rate" out of "^" and nothing into it; "flights to Denver from Boston" keeps
every role; a passive ("Was Beats bought by Apple?") moves Apple to "by" and Beats to "^",
not a trade. "A and B", "A or B", "A vs B" have no direction and never refuse.

Without a directional word, ``pivot_swap`` catches the plainest case: the same content words,
two of them crossing a third ("The woman is picking up the kangaroo" / "The kangaroo is
picking up the woman"). Known gaps (misses, not false refusals): "Is a square a rectangle?",
"cups in a gallon", a swap with one word changed.
Known cost: symmetric relations written with one ("distance from A to B") are exempted by a
short list of symmetric heads; others ("Is Boston as big as Denver?") may refuse.
The word lists were written for this project.
"""
from __future__ import annotations

# directional word -> its role; synonyms share one (to = into = towards)
_PREPOSITIONS = {
    "from": "from", "to": "to", "into": "to", "towards": "to", "toward": "to", "onto": "to",
    "than": "than", "per": "per", "before": "before", "after": "after", "by": "by", "over": "over",
    "against": "against", "instead": "instead", "for": "for",
    # places relative to each other: "Is Tokyo north of Dallas?"
    "north": "north", "south": "south", "east": "east", "west": "west", "above": "above", "below": "below",
    "under": "below", "behind": "behind", "ahead": "ahead",
}
_COMPASS = frozenset("north south east west".split())  # capitalised, a name: South Africa, West Ham
# asymmetric verbs (subject acts on object), every form -> one role
_VERBS = """
buy buys bought buying|acquire acquires acquired acquiring|beat beats beaten beating|
defeat defeats defeated defeating|sue sues sued suing|pay pays paid paying|send sends sent sending|
told|call calls called calling|hire hires hired hiring|fire fires fired firing|
replace replaces replaced replacing|attack attacks attacked attacking|invade invades invaded invading|
criticize criticizes criticized criticizing|criticise criticises criticised|owe owes owed owing|
chase chases chased chasing|eat eats ate eaten eating|teach teaches taught teaching|
follow follows followed following|kill kills killed killing|marry|email emails emailed|
outsell outsells outsold|outrank outranks outranked|cost costs costing
"""
MARKERS: dict[str, str] = dict(_PREPOSITIONS)
for _family in _VERBS.replace("\n", "").split("|"):
    _forms = _family.split()
    for _f in _forms:
        MARKERS[_f] = _forms[0]
del MARKERS["marry"]  # symmetric: listed so the family reads, never a marker

# Words that take no role: function words and request filler ("can you tell me", "please").
_NO_ROLE = frozenset("""
a an the is are was were be been being am do does did done can could would should will shall may might must
i me you we us it they them he him she its this that these those there here what which who whom whose when
where why how and or nor but if so as of in on at with for about some any all each one please tell let know
want need like help just also very really get got have has had there's it's i'm i'd what's how's vs versus
not no never didn't don't doesn't isn't aren't wasn't weren't won't can't cannot
""".split())  # (negations too: the negation rule compares those)
# Possessives keep a role: "from my account to your account" vs "from your account to my account".
# With one of these, from/to name the two ends of something without a direction.
SYMMETRIC_HEADS = frozenset("distance far between difference apart".split())


def roles(words: tuple[str, ...], raw: tuple[str, ...]) -> dict[str, str | None]:
    """Each content word's role (None: found under two roles, so not compared); {} without a
    directional word."""
    out: dict[str, str | None] = {}
    role = "^"
    seen = False
    for i, w in enumerate(words):
        m = MARKERS.get(w)
        # capitalised inside a sentence it is a name ("Beats" the company, "West Ham"), not a
        # directional word; opening one it is one ("From Paris to Rome, ...") unless a compass point
        if m is not None and not (raw[i][:1].isupper() and (i or w in _COMPASS)):
            role, seen = m, True
            continue
        if w in SYMMETRIC_HEADS:
            return {}
        if w in _NO_ROLE:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]  # dollars / dollar: "miles per gallon" vs "gallons per mile"
        prev = out.get(w, role)
        out[w] = role if prev == role else None
    return out if seen else {}


def swapped(a: dict[str, str | None], b: dict[str, str | None]) -> tuple[str, str, str, str] | None:
    """Two words trading roles between a and b: (word, its role in a, other word, its role in a)."""
    if not a or not b:
        return None
    moved: dict[tuple[str, str], str] = {}
    for w, ra in a.items():
        if ra is None:
            continue
        rb = b.get(w)
        if rb is None or rb == ra:
            continue
        other = moved.get((rb, ra))
        if other is not None:
            return other, rb, w, ra
        moved.setdefault((ra, rb), w)
    return None


# a span holding one of these joins or reports, it does not say who acts on whom: "a ball which
# is green and big", '"The gloves are off," said ...'
_LINKS = frozenset("and or which who that said says told according".split())


def _neighbours(words: tuple[str, ...], chunked: bool) -> dict[str, tuple[str, str]] | None:
    """Each content unit's neighbours (previous, next unit; "" across a linking word). A unit is
    a content word, or with ``chunked`` a run of them between function words ("panda bear",
    "picking up"). None when a unit repeats (its position would be ambiguous)."""
    units: list[str] = []
    linked: list[bool] = []  # a linking word right before units[k]
    link, open_run = False, False
    for w in words:
        if w in _LINKS or w in _NO_ROLE or w in MARKERS or not w.isalpha():
            link = link or w in _LINKS
            open_run = False
            continue
        w = w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        if chunked and open_run:
            units[-1] += " " + w
            continue
        units.append(w)
        linked.append(link)
        link, open_run = False, True
    if len(set(units)) != len(units):
        return None
    return {u: (units[k - 1] if k and not linked[k] else "", units[k + 1] if k + 1 < len(units) and not linked[k + 1] else "")
            for k, u in enumerate(units)}


def pivot_swap(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, str, str] | None:
    """(x, pivot, y): the same content, with "x pivot y" in ``a`` and "y pivot x" in ``b``, over
    content words or over runs of them: who does what to whom changed ("Does Google own
    YouTube?", "The log is lying on the panda bear" / "The panda bear is lying on the logs"). A
    word moved alone crosses nothing; a passive ("was acquired by") and a symmetric relation are
    left alone. ``a`` / ``b``: the prompts' lower-cased words."""
    if "by" in a or "by" in b or len(a) > 40 or len(b) > 40:
        return None
    for chunked in (False, True):
        na = _neighbours(a, chunked)
        if na is None or len(na) < 3 or any(h in u for u in na for h in SYMMETRIC_HEADS):
            continue
        nb = _neighbours(b, chunked)
        if nb is None or nb.keys() != na.keys():
            continue
        for v, (x, y) in na.items():
            if x and y and nb[v] == (y, x):
                return x, v, y
    return None
