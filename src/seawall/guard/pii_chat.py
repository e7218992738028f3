"""Informal chat and machine text in English (fourth probe round, issue 14).

What the capitalised-name and labeled-field paths miss when people type fast or machines log:

* a known given name in lower case (or a lone one) right after a chat cue: "this is sarah
  from", "it's jess.", "my name's priya", "amir here", "my wife jenny", a sign-off
  ("thanks,\nrachel", "regards tom hughes", "- tom" at the end); the name lists and their
  everyday-word exclusions are the ones of ``pii_names`` ("will", "mark", "grace" stay words);
* a handle after a log's user word ("user=jdoe", "for user 'kwalker'", "by user kvandijk",
  "Accepted password for rpatel from") and person-shaped mentions ("@rbrown", "@s.patel");
* street addresses typed in lower case ("42 elm st apt 3b", "10 downing st") and a lower-case
  US state with its ZIP code ("springfield il 62704");
* header-less CSV rows and values under machine keys ("dateOfBirth", "zip_code", "first_name=").

The informal passes (cues, mentions, lower-case streets) read a message up to ``CHAT_CHARS``
long, and a longer one typed informally (pii_chat_long.py adds speaker labels, lower-case UK
postcodes and the same name again); the machine-text passes are gated on their anchors ("user",
"@", ':' / '=', 3+ commas).
"""
from __future__ import annotations

import re

from .pii_chat_long import low_postcode_spans, speaker_spans
from .pii_more import _NOT_A_USERNAME
from .pii_names import _known_cached, _load
from .types import Span

# ---------------------------------------------------------------- names after chat cues

# each cue string is looked for with ``in`` / ``find`` and _CUES is matched there (no regex scan
# of the text); the group says which kind of cue it is. After "it's" / "this is" / "i'm" the name
# must close the clause ("here", "from", ",", end of sentence), so "this is paris" or "it's frank
# who" stay prose ("may", "will" are everyday words anyway)
_CUES = re.compile(
    r"(?P<intro>i(?:t'?s|t’s|'?m|’m| am)|this is)[ \t]+"
    r"|(?P<open>my[ \t]+(?:wife|husband|son|daughter|partner|colleague|manager|boss|friend|brother|sister|mom|dad)"
    r"|(?:my[ \t]+)?name'?s|ping|cc|ask for|name on(?: the)? card|card ?holder:?)[ \t]+"
    r"|(?P<sign>thanks|thank you|thx|cheers|regards|ciao|best(?=,))"
    r"|(?P<here>[ \t]here\b)"
)
# the strings that open a _CUES match
_CUE_STRINGS = ("i'm", "i’m", "i am", "it's", "it’s", "its ", "this is", "im ", "my ", "name's", "name’s", "names ",
                "ping ", "cc ", "ask for ", "name on ", "cardholder", "card holder", "thanks", "thank you", "thx", "cheers",
                "regards", "ciao", "best,", " here")
_NAME_AFTER = re.compile(r"[ \t]*(?P<first>[A-Za-z][a-z]{2,14})(?:[ \t]+(?P<last>[A-Za-z][a-z'’]{1,20}))?")
_SIGN_GAP = re.compile(r"[ \t]*[,!.]?[ \t]*\n?[ \t]*")
_INTRO_CLOSE = re.compile(r"[ \t]*(?:[,.!;:\n]|$|here\b|from\b|again\b|btw\b|at\b|with\b|and\b|\()")
# after a given name, a surname that is an everyday word too ("jamal price") only where the name ends
_LAST_CLOSE = re.compile(r"[ \t]*(?:[,.!;:\n)]|$|and\b|at\b|from\b|here\b)")
# given names that are everyday words too ("sam" is a verb's object, "dan" a grade), read as a
# name only in a sign-off that ends its line ("will do. - sam", "thanks,\ndan")
_SIGN_NAMES = frozenset("sam dan jack rob bob jo".split())
_END = re.compile(r"[ \t.!]*(?:\n|$)")
_HERE = re.compile(r"(?i)([a-z]{3,15})(?:[ \t]+([a-z][a-z'’]{1,20}))?[ \t]+$")


def _name(text: str, pos: int, close: re.Pattern[str] | None) -> Span | None:
    """A known given name (and a known surname after it) at ``pos``; ``close`` must follow."""
    m = _NAME_AFTER.match(text, pos)
    if m is None or (pos and text[pos - 1].isalnum()):
        return None
    first = m.group("first").lower()
    if first in _NOT_KIN_WORD or text[m.end("first"):m.end("first") + 1] == "-":
        return None  # "my mom said it", "my brother video-called"
    if not _known_cached(first, 0) and not (close is _END and first in _SIGN_NAMES):
        return None
    if m.group("first").islower() and first not in _load()[0] and first not in _SIGN_NAMES:
        return None  # a lower-case word is a name as listed, not a stem ("safety" is no "safet-y")
    s, e = m.span("first")
    last = m.group("last")
    if last and not last.lower().endswith(("'s", "’s")) and (_known_cached(last.lower(), 1) or (
            last.islower() and last in _load()[1] and _LAST_CLOSE.match(text, m.end("last")))):
        e = m.end("last")
    if close is not None and close.match(text, e) is None:
        if e == m.end("last") and close.match(text, m.end("first")) is not None:
            e = m.end("first")
        else:
            return None
    return Span("PERSON", s, e, 0.7, "chat")


def _at_cue(text: str, m: re.Match[str]) -> list[Span]:
    s, p = m.span()
    if m.lastgroup == "here":  # "amir here", "Emily Clarke here": the writer ("Here is the CEO" is not)
        if text[s + 1:s + 5] != "here" or _INTRO_CLOSE.match(text, p) is None or text[p:p + 4].strip().startswith(("from", "at", "with", "(")):
            return []
        h = _HERE.search(text, max(0, s - 40), s + 1)
        if h is None or not _known_cached(h.group(1).lower(), 0) or (h.start() and text[h.start() - 1].isalnum()):
            return []
        e = h.end(2) if h.group(2) and _known_cached(h.group(2).lower(), 1) else h.end(1)
        return [Span("PERSON", h.start(1), e, 0.7, "chat")]
    if m.lastgroup == "sign":  # "thanks,\nrachel", "cheers, Dan", "regards tom hughes": the name ends the line
        p = _SIGN_GAP.match(text, p).end()
        if p == m.end():
            return []
    sp = _name(text, p, _INTRO_CLOSE if m.lastgroup == "intro" else _END if m.lastgroup == "sign" else None)
    if sp is not None and m.lastgroup == "sign" and text[sp.start:sp.end].lower() in _NOT_SIGNER:
        return []  # "thanks, buddy!"
    if sp is None and m.lastgroup == "sign" and "\n" in text[m.end():p]:
        sp = _unknown_name(text, p, _SIGN_LINE)  # "regards\nnkemi adeyemi": a line of its own after the sign-off
    elif sp is None and m.group("open") and m.group("open").startswith("my"):
        sp = _unknown_name(text, p, _KIN_CLOSE, one=True)  # "my husband chidi will be home"
    return [] if sp is None else [sp]


# "its" without its apostrophe is a possessive ("its safety, ..."): an intro only opening a line
# or after a greeting ("hi its sophie from flat 2")
_GREETING = re.compile(r"(?:^|\n|\b(?:hi|hey|hiya|hello|yo|morning|ok|okay),?[ \t]+)[ \t]*$")
# a name the lists do not know: one or two words that are no everyday words nor inflected ones,
# only where the cue is strong and the words end the line or the clause
_UNKNOWN = re.compile(r"(?P<w>[A-Za-z][a-z]{2,14}(?:[ \t]+[A-Za-z][a-z'’]{1,20})?)")
_SIGN_LINE = re.compile(r"[ \t]*(?:\n|$)")
_KIN_CLOSE = re.compile(r"(?:[ \t]*[,.;!]|[ \t]+(?:will|is|was|has|had|and|says|can|could|would)\b)")
_NOT_NAME_END = ("ing", "ed", "s", "ly", "'s", "’s", "er")
# what follows "my sister" / "my husband" in prose, and forms of address after "thanks,"
_NOT_KIN_WORD = frozenset("unknown request requests list group circle chat video account said told asked thought felt made took gave went came got left sent bought wrote knew saw "
                          "earlier yesterday today tonight tomorrow too also again once still just never always".split())
_NOT_SIGNER = frozenset("buddy mate pal bro dude sir madam guys folks team everyone all".split())


def _unknown_name(text: str, pos: int, close: re.Pattern[str], one: bool = False) -> Span | None:
    m = _UNKNOWN.match(text, pos)
    if m is None:
        return None
    e = m.end()
    if one or close.match(text, e) is None:
        e = pos + len(m.group("w").split()[0])  # "chidi will be home": the first word alone
        if close.match(text, e) is None:
            return None
    common = _load()[2]
    if any(w in common or w in _NOT_KIN_WORD or w.endswith(_NOT_NAME_END) for w in text[pos:e].lower().split()):
        return None
    return Span("PERSON", pos, e, 0.7, "chat")


def _finds(low: str, cue: str):
    """Positions right after each ``cue`` that starts a word."""
    i = low.find(cue)
    while i != -1:
        if i == 0 or not low[i - 1].isalnum():
            yield i + len(cue)
        i = low.find(cue, i + 1)


def chat_name_spans(text: str, low: str) -> list[Span]:
    out: list[Span] = []
    for cue in _CUE_STRINGS:
        if cue in low:
            i = low.find(cue)
            while i != -1:
                if (m := _CUES.match(low, i)) is not None and (i == 0 or not low[i - 1].isalnum() or cue[0] == " ") and (
                        cue != "its " or _GREETING.search(low, max(0, i - 12), i)):
                    out += _at_cue(text, m)
                i = low.find(cue, i + 1)
    # "- tom" ending a message: at the end of any line of a long thread ("cheers - jamal"), but a
    # line of its own only outside a bulleted list ("- jasper\n- ruby" are items)
    for dash in ("- ", "– ", "— "):
        d = text.find(dash)
        while d != -1:
            if (d == 0 or text[d - 1] in " \t\n") and (sp := _name(text, d + 2, _END)) is not None and not _in_list(text, d):
                out.append(sp)
            d = text.find(dash, d + 2)
    return out


def _in_list(text: str, d: int) -> bool:
    """The dash at ``d`` opens its line and a line next to it opens with a dash too."""
    ls = text.rfind("\n", 0, d) + 1
    if text[ls:d].strip():
        return False
    prev = text.rfind("\n", 0, max(0, ls - 1)) + 1
    nxt = text.find("\n", d)
    return (ls > 0 and text[prev:ls].lstrip().startswith(("- ", "– ", "— "))) or (
        nxt != -1 and text[nxt + 1:nxt + 40].lstrip().startswith(("- ", "– ", "— ")))


# ---------------------------------------------------------------- handles in logs and chat

# at each "user": "user=jdoe", "user: jdoe", and after "by / for / from / as (invalid) user" a bare word
_USER_AT = re.compile(r"user(?:name)?(?P<sep>[ \t]*[=:][ \t]*|[ \t]+is[ \t]+|[ \t]+)['\"(]?(?P<value>[A-Za-z][\w.\-]{1,31})['\")]?(?![\w@(\[])")
_BY_USER = re.compile(r"(?:\b(?:by|for|from|as)[ \t]+(?:invalid[ \t]+)?)$")
_SSH_FOR = re.compile(r"for[ \t]+(?P<value>[A-Za-z][\w.\-]{1,31})[ \t]+from\b")  # sshd: "Accepted password for rpatel from"
_MENTION = re.compile(r"@(?P<value>[A-Za-z][\w.\-]{1,30}[A-Za-z0-9])(?![\w@(])")
_NOT_MENTION = frozenset("here channel everyone all param return returns throws see link since author version "
                         "override deprecated property staticmethod classmethod dataclass media import".split())
# words that follow a user word in prose ("asks for user input", "by user request"), never a handle
_NOT_HANDLE = _NOT_A_USERNAME | frozenset("""user users username email input output interface experience profile feedback
    agent management role group preferences record table object model type story guide manual base space mode level
    access friendly account request consent""".split())


def _handle_ok(v: str) -> bool:
    lv = v.lower()
    if len(v) < 3 or lv in _NOT_HANDLE or lv in _load()[2]:
        return False
    if v[0].islower() and any(c.isupper() for c in v[1:]):
        return False  # "exampleUsers": a camelCase identifier in code
    # a plain word with an English ending is prose ("user objects", "for user accounts")
    return not (v.isalpha() and lv.endswith(("ing", "ed", "tion", "ment", "ness", "ly", "s")))


_HANDLE_PARTS = re.compile(r"[a-z]+")


def _person_handle(v: str) -> bool:
    """A handle made of a known given name or surname ("jane.doe", "mark_w"), or an initial glued
    to a known surname ("rbrown", "s.patel")."""
    parts = _HANDLE_PARTS.findall(v.lower())
    if any(len(w) >= 3 and (_known_cached(w, 0) or _known_cached(w, 1)) for w in parts):
        return True
    # (the surname list itself: "brown" is an everyday word too, "rbrown" is not)
    return len(parts) == 1 and len(parts[0]) >= 5 and parts[0][1:] in _load()[1]


def handle_spans(text: str, low: str, mentions: bool = True) -> list[Span]:
    out: list[Span] = []
    for i in _finds(low, "user") if "user" in low else ():
        m = _USER_AT.match(text, i - 4)
        if m is None or (i > 4 and low[i - 5] == "_"):  # "smtp_user = ...": a config key (pii_more reads those)
            continue
        v = m.group("value").rstrip(".-")
        if not m.group("sep").strip() and (_BY_USER.search(low, max(0, i - 24), i - 4) is None or not v.islower()):
            continue  # "from user 'Factory Supervisor ...'": a bare user word labels a lower-case handle only
        q = text[m.start("value") - 1]
        if q in "'\"" and text[m.start("value") + len(v):m.start("value") + len(v) + 1] != q:
            continue
        if q not in "'\"" and "=" in m.group("sep") and m.group("sep") != "=":
            continue  # "user = req.body": an assignment in code (a log writes "user=jdoe")
        if m.group("sep").strip() == "is" and not (any(c in v for c in "._0123456789") and _person_handle(v)):
            continue  # "user is k.ito" names a handle, "user is locked" a state
        if _handle_ok(v):
            out.append(Span("USERNAME", m.start("value"), m.start("value") + len(v), 0.85, "chat"))
    for cue in ("password for ", "publickey for ") if "y for " in low or "d for " in low else ():
        for i in _finds(low, cue):
            m = _SSH_FOR.match(text, i - 4)
            if m is not None and _handle_ok(m.group("value")):
                out.append(Span("USERNAME", m.start("value"), m.end("value"), 0.85, "chat"))
    i = text.find("@") if mentions else -1
    while i != -1:  # a Slack mention: "@" opens a word (an e-mail's "@" follows one)
        if i == 0 or text[i - 1] in " \t\n(,":
            m = _MENTION.match(text, i)
            v = m.group("value") if m is not None else ""
            # a person's handle ("@jane.doe", "@rbrown", "@s.patel"), not code ("@lru_cache", "@app.route")
            # nor a channel or a brand ("@kanal_roboczy_733", "@FashionInsider")
            if m is not None and v.lower() not in _NOT_MENTION and _person_handle(v) and not (
                    text[m.end():m.end() + 1] in ("", "\n") and (i == 0 or text[i - 1] == "\n")):  # "@pytest.fixture"
                out.append(Span("USERNAME", m.start("value"), m.end("value"), 0.85, "chat"))
        i = text.find("@", i + 1)
    return out


# ---------------------------------------------------------------- addresses typed in lower case

_SUFFIX = r"(?:st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd|boulevard|way|ct|court|pl|place|ter|terrace|hwy|highway|pkwy|parkway|cir|circle|sq|square|cres|crescent|close|grove|mews)"
_UNIT = r"(?:,?[ \t]*(?:apt|apartment|unit|suite|ste|flat|fl|floor|rm|room|#)\.?[ \t]*#?[ \t]*[0-9]{1,5}[a-z]?\b)?"
_LOW_STREET = re.compile(
    r"\d{1,5}[a-z]?[ \t]+(?:[nsew]\.?[ \t]+)?[a-z][a-z'’]+(?:[ \t]+[a-z][a-z'’]+){0,2}[ \t]+" + _SUFFIX + r"\b\.?" + _UNIT
)
# "380 divided by the square root": prose, not a street
_FUNCTION_WORDS = frozenset("the a an of by to in on at for and or is are was with from divided times plus minus per".split())
# "380 divided by the square root": prose, not a street
_FUNCTION_WORDS = frozenset("the a an of by to in on at for and or is are was with from divided times plus minus per".split())
_STATES = frozenset("al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd oh ok "
                    "or pa ri sc sd tn tx ut vt va wa wv wi wy dc".split())
# the state codes that are everyday English words need a comma before them ("portland, or 97201")
_WORDLIKE = frozenset("hi in me or ok de la id".split())
_STATE_BEFORE = re.compile(r"[a-z](,?)[ \t]+([a-z]{2})[ \t]+$")
_ZIP = re.compile(r"\d{5}(?:-\d{4})?(?![\w\-])")


def low_address_spans(text: str, clusters: list[tuple[int, int]]) -> list[Span]:
    """At each digit cluster (``FastPII`` found them): a lower-case street ("42 elm st apt 3b")
    or a lower-case state code with a ZIP code ("springfield il 62704")."""
    out: list[Span] = []
    n = len(text)
    for a, b in clusters:
        if a and (text[a - 1].isalnum() or text[a - 1] in ".,-/"):
            continue
        e = a  # the cluster's digits end here; a street goes on with a lower-case word, a ZIP is 5 digits
        while e < b and text[e].isdigit():
            e += 1
        if not (e - a == 5 or (e < n - 2 and e - a <= 5 and (text[e] in " \t" or text[e].islower()))):
            continue
        m = _LOW_STREET.match(text, a)
        if m is not None and _FUNCTION_WORDS.isdisjoint(m.group().split()[1:-1]):
            out.append(Span("STREET_ADDRESS", a, m.end(), 0.8, "chat"))
            continue
        z = _ZIP.match(text, a)
        if z is not None and a > 4 and (b := _STATE_BEFORE.search(text, max(0, a - 40), a)) is not None:
            if b.group(2) in _STATES and (b.group(1) or b.group(2) not in _WORDLIKE):
                out.append(Span("STREET_ADDRESS", b.start(2), z.end(), 0.8, "chat"))
    return out


# ---------------------------------------------------------------- CSV rows without a header

_STREET_FIELD = re.compile(r"(?i)\d{1,5}[a-z]?[ \t]+(?:[nsew]\.?[ \t]+)?[a-z][a-z'’]+(?:[ \t]+[a-z][a-z'’]+){0,2}[ \t]+" + _SUFFIX + r"\.?")
_FIVE_DIGITS = re.compile(r"(?:\d\D{0,3}){5}")
_UPPER_STATES = frozenset(st.upper() for st in _STATES)


def csv_row_spans(text: str) -> list[Span]:
    """A record pasted without its header ("Rebecca,Morris,rmorris@x.com,555-201-3344"): a line
    of four or more short fields, one of them an e-mail or a number, whose fields that are a
    known given name or surname are people, a street field an address, a ZIP after a state."""
    out: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        sep = ";" if line.count(";") >= 3 else "," if line.count(",") >= 3 else ""
        fields = line.split(sep) if sep and len(line) <= 40 * (line.count(sep) + 1) else ()
        if len(fields) >= 4 and all(len(f) <= 40 for f in fields) and ("@" in line or _FIVE_DIGITS.search(line)):
            at, prev = pos, ""
            for f in fields:
                v = f.strip(" \t\"'")
                s = at + f.find(v) if v else at
                words = v.split()
                if 1 <= len(words) <= 3 and all(w.istitle() and w.isalpha() and (
                        _known_cached(w.lower(), 0) or _known_cached(w.lower(), 1)) for w in words):
                    out.append(Span("PERSON", s, s + len(v), 0.7, "chat"))
                elif _STREET_FIELD.fullmatch(v):
                    out.append(Span("STREET_ADDRESS", s, s + len(v), 0.8, "chat"))
                elif len(v) in (5, 10) and v[:5].isdigit() and prev in _UPPER_STATES:
                    out.append(Span("STREET_ADDRESS", s, s + len(v), 0.8, "chat"))
                prev = v
                at += len(f) + 1
        pos += len(line) + 1
    return out


# ---------------------------------------------------------------- machine keys (JSON, query strings, logs)

def _keys(kind: str, words: str) -> dict[str, str]:
    return {w: kind for w in words.split()}


# a key, lower-cased with "_" / "-" removed ("date_of_birth", "dateOfBirth" -> "dateofbirth"), and its kind
_KEY_KINDS = {
    **_keys("PERSON", "firstname lastname givenname familyname middlename fname lname forename"),
    **_keys("DATE_OF_BIRTH", "dob dateofbirth birthdate birthday birthdt"),
    **_keys("STREET_ADDRESS", "street streetname streetaddress address1 address2 addressline1 addressline2 buildingnumber "
            "housenumber building aptnumber apartment zip zipcode postalcode postcode"),
    **_keys("PHONE_NUMBER", "phone phonenumber phoneno mobile mobilenumber cell cellphone telephone tel"),
    **_keys("US_SSN", "ssn socialsecuritynumber"),
    **_keys("BANK_ACCOUNT", "accountnumber accountno acctno acctnumber bankaccount bankaccountnumber"),
    **_keys("DRIVER_LICENSE", "driverlicense driverslicense driverlicensenumber licensenumber dlnumber"),
    **_keys("PASSPORT", "passport passportnumber passportno"),
    **_keys("TAX_ID", "taxid tin ein taxnumber"),
    **_keys("LICENSE_PLATE", "licenseplate plate platenumber"),
}
_KEY_BEFORE = re.compile(r"(?P<q>[?&]?)[\"']?(?P<key>[A-Za-z][A-Za-z0-9_\-]{1,30})[\"']?[ \t]*$")
_KEY_VALUE = re.compile(r"[ \t]*(?:(?P<quote>[\"'])(?P<qv>[^\"'\n]{1,60})(?P=quote)|(?P<v>[^\s\"',;&}\])]{1,40}))")
_WORDS_ONLY = re.compile(r"[^\W\d_]+(?:[ '’\-+][^\W\d_]+){0,3}")
_PLACEHOLDERS = frozenset("null none true false string unknown n/a na xxx redacted".split())


def key_value_spans(text: str) -> list[Span]:
    """``"dateOfBirth": "1990-01-02"``, ``first_name=Ivan``, ``'zip_code': '33101'``: a value under
    a key that names what it is. Looked for only at each ':' / '=' with such a key before it."""
    out: list[Span] = []
    for sep in ":=":
        i = text.find(sep)
        while i != -1:
            k = _KEY_BEFORE.search(text, max(0, i - 34), i)
            kind = k and _KEY_KINDS.get(k.group("key").lower().replace("_", "").replace("-", ""))
            if kind and (m := _KEY_VALUE.match(text, i + 1)) is not None:
                quoted = m.group("qv") is not None
                v = (m.group("qv") if quoted else m.group("v")).strip()
                s = m.start("qv") if quoted else m.start("v")
                if v and v.lower() not in _PLACEHOLDERS and v[0] not in "<{$%[":
                    if kind in ("PERSON", "STREET_ADDRESS") and not any(c.isdigit() for c in v):
                        ok = (quoted or k.group("q")) and (kind != "PERSON" or _WORDS_ONLY.fullmatch(v))
                    else:
                        ok = any(c.isdigit() for c in v) and (kind != "PHONE_NUMBER" or sum(c.isdigit() for c in v) >= 7)
                    if ok:
                        out.append(Span(kind, s, s + len(v), 0.8, "chat"))
            i = text.find(sep, i + 1)
    return out


# the informal passes (names after cues and sign-offs, lower-case streets) read a message of any
# length that is typed informally: a pasted thread, a ticket history, an e-mail chain. Each cue
# reads only its own line (a name must end the clause or the line right after it). A long text
# written as a document (capitalised sentences, no lower-case "i", no lower-case lines) skips
# them (and the mention and lower-case postcode passes): its names are capitalised and the
# pii_names passes read those. The gate costs about 1 us on the bench's 1 KB prompt.
CHAT_CHARS = 600
# a lower-case "i" as a word (one regex with a literal prefix: a third of three ``in`` tests)
_LOWER_I = re.compile(r" i[ '’]")


def _informal(text: str) -> bool:
    if len(text) <= CHAT_CHARS or _LOWER_I.search(text):
        return True
    if text.count("\n") < 2:
        return False
    n = 0
    for line in text.split("\n"):
        if line[:1].islower():
            n += 1
            if n == 2:
                return True
    return False


def chat_spans(text: str, clusters: list[tuple[int, int]]) -> list[Span]:
    low = text.lower()
    informal = _informal(text)
    out = handle_spans(text, low, mentions=informal) + speaker_spans(text)
    if informal:
        out += chat_name_spans(text, low) + low_address_spans(text, clusters) + low_postcode_spans(text, clusters)
    if (len(text) <= CHAT_CHARS or "\n" in text) and (text.count(",") >= 3 or text.count(";") >= 3):  # a record is a line
        out += csv_row_spans(text)
    if (":" in text and ('":' in text or "':" in text or '" :' in text)) or "=" in text:  # JSON, a dict, a query, a log
        out += key_value_spans(text)
    return out
