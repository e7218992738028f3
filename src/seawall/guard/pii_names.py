"""A fast person-name detector: capitalised tokens + honorifics + first-name / surname lists.

No model: one regex pass over runs of capitalised words, then set look-ups. A run is a name
when

* an honorific or a name field label stands before it ("Mr.", "Dr", "Sra.", "Pan", "Nombre:",
  "Patient:"), or
* it holds a known first name (Polish case endings are stripped before the look-up) and the
  run is not a place or an organisation ("Art Museum", "Bank Polski", "Maria Street"), or
* it is two or three known surnames / given names ("Zhang Wei"), or
* two words around a middle initial ("Faina D. Yefremova"), or it follows "call me" /
  "name?", or it is one word in a list joined by a conjunction ("Kónya, Becker and Vasquez")
  where one item is a known name and none is an everyday word.

Text written without capitals gets one more pass: a known given name followed by a known
surname ("follow up with eva kleist").

A lone first name counts too, unless it is also an everyday word or a place ("May", "Will",
"Say", "France"): Faker's lorem word lists, its country and US state names, and a short hand
list of words that are names too. The lists come from the Faker package (built by scripts/build_name_lists.py); they are
loaded once, lazily, on the first call (~30 ms).
"""
from __future__ import annotations

import functools
import gzip
import re
import threading
from pathlib import Path

from .pii_europe import COMMON_EU, EU_CITIES, HONORIFICS_EU, TITLE_HEADS, TITLE_TAILS
from .types import Span

_DATA = Path(__file__).parent / "data"
_lock = threading.Lock()
_lists: tuple[frozenset[str], frozenset[str], frozenset[str]] | None = None


HONORIFICS = frozenset(
    """mr mrs ms miss mx dr prof sir dame madam mister doctor professor sr sra srta don doña dña dra
    pan pana panem panu pani panią panie państwo herr frau mme mlle monsieur madame m signor signora sig dott
    rev fr sister brother uncle aunt aunty grandma grandpa mom dad mum meneer mevrouw dhr mevr heer""".split()
) | HONORIFICS_EU
# a field label or a greeting right before the run makes it a name ("Nombre: Ernesto.", "Dear Ana")
_FIELD_WORDS = frozenset(
    """name surname patient nombre apellido apellidos paciente médico medico doctor dr enfermero enfermera
    imię imie nazwisko pacjent pacjentka lekarz nom prénom prenom vorname nachname cc attn contact signed
    sincerely regards dear hi hello thanks wystawił wystawil odebrał odebral podpis called named llamado
    llamada says said lastname firstname fullname givenname familyname contractor candidate applicant colleague intern tenant supervisor technician passenger
    cardholder beneficiary""".split()
)
# words that name a person only as a header field, right before a colon ("To: ", "Assigned to: ")
_HEADER_WORDS = frozenset(
    """to from by owner assignee reporter requester requestor author sender recipient employee applicant candidate
    holder cardholder beneficiary approver agent technician von an de para à""".split()
)


_SHIP_WORDS = ("bill to", "ship to", "sold to", "deliver to", "remit to", "invoice to")  # a company more often


def _after_colon(text: str, start: int) -> bool:
    i = start
    while i > 0 and text[i - 1] in " \t\n":
        i -= 1
    return i > 0 and text[i - 1] == ":" and not text[max(0, i - 12) : i - 1].lower().endswith(_SHIP_WORDS)


# the run is a place / organisation when it ends with one of these
_NOT_PERSON_TAIL = frozenset(
    """street st road rd avenue ave lane boulevard drive way place square park museum gallery bank hospital
    clinic university college school institute center centre city district province county state river
    lake mountain island airport station hotel restaurant cafe café bar company inc ltd llc corp group
    office building hall church mall plaza tower bridge port beach valley street team club foundation
    ministry department agency council court services service systems solutions technologies sp spółka
    calle avenida plaza paseo hospital universidad ulica aleja osiedle plac plan project program programme
    srl spa gmbh plc sarl sas llp pty bv nv ag kg
    system app report festival conference award prize cup series show""".split()
)
_NOT_PERSON_HEAD = frozenset(
    """the a an this that these our your my his her their in on at of for from to with and or but if
    when while after before during since until by""".split()
)
# a run that starts with one of these is a place or an institution ("New York", "San Jose")
_PLACE_HEAD = frozenset(
    """new north south east west central upper lower saint san santa st port fort mount lake cape
    university bank hospital ministry department calle avenida plaza ul al os pl""".split()
)
# names that are also everyday words: never a name on their own
_COMMON = frozenset(
    """will may mark bill sue pat rob jack frank grant rich don art guy van else per case chance
    trust hope joy faith grace rose lily dawn june april august summer autumn winter sky star river stone
    brook hunter chase page lane wade miles rod drew gene job amber crystal ivy holly iris violet olive
    ruby pearl jewel honey sunny dusty rusty sandy penny buck cash price young king royal major prince
    duke earl baron noble justice liberty constance patience prudence charity trinity destiny harmony
    melody serenity paris london sydney austin dallas houston florence georgia virginia carolina india
    china jordan israel kenya asia africa sierra dakota montana nevada phoenix madison brooklyn aurora
    diamond berlin love man north south east west park tea tuesday monday friday sunday saturday january
    march christmas easter may long young black white brown green gray grey gold silver bell hill wood
    field ford lee le la de del van von da di al bin an so no in on is it be me we he she ok hi
    dear thanks thank please sorry hello hey yes sure good great best happy nice sun moon day night morning
    evening today tomorrow tonight english spanish french german chinese polish american european
    god jesus christ lord amen angel bishop pope cardinal king queen sergeant captain general colonel
    paz luz sol mar cruz dolores rosa pilar consuelo amparo rocío nieves mercedes soledad angeles santos
    victoria lima sofia florencia santiago vienna roma sion adelaide charlotte louis beau lorem ipsum""".split()
) | COMMON_EU | EU_CITIES
# Polish case endings: Jana, Janowi, Janem, Janie; Anny, Annę, Anną; Kowalskiego, Kowalskiemu, Kowalską
_PL_ENDINGS = ("o", "owie", "owi", "iemu", "emu", "iem", "em", "iego", "ego", "iej", "ej", "im", "ie", "ze", "ą", "ę", "y", "a", "u", "i")


def _load() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    global _lists
    if _lists is None:
        with _lock:
            if _lists is None:
                def read(name: str) -> frozenset[str]:
                    with gzip.open(_DATA / f"{name}.txt.gz", "rt", encoding="utf-8") as f:
                        return frozenset(line.strip() for line in f if line.strip())

                _lists = (read("first_names"), read("last_names"), read("common_words") | _COMMON)
    return _lists


@functools.lru_cache(maxsize=1 << 15)
def _known_cached(w: str, which: int) -> bool:
    """Look-ups in the global lists are cached: the same words recur across requests."""
    lists = _load()
    return w not in lists[2] and _known(w, lists[which])


def _known(w: str, names: frozenset[str]) -> bool:
    """``w`` is lower-case."""
    if w in names:
        return True
    for end in _PL_ENDINGS:  # Jana -> Jan, Annę -> Anna, Kowalskiego -> Kowalski
        if w.endswith(end) and len(w) - len(end) >= 2:
            stem = w[: -len(end)]
            if (len(stem) >= 3 and stem in names) or stem + "a" in names or stem + "i" in names or stem + "y" in names:
                return True
    return False


_PINYIN_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w", "")
_PINYIN_FINALS = frozenset(
    "a o e i u v ai ei ao ou an en ang eng ong er ia ie iao iu ian in iang ing iong ua uo uai ui uan un uang ue".split()
)
_PINYIN = frozenset(i + f for i in _PINYIN_INITIALS for f in _PINYIN_FINALS if i + f)


def _is_pinyin(word: str) -> bool:
    """True when the word splits into 1-3 Mandarin syllables ("Haoran", "Xinyi", "Wei")."""
    w = word.lower()
    ok = [True] + [False] * len(w)
    parts = [0] + [9] * len(w)
    for i in range(1, len(w) + 1):
        for j in range(max(0, i - 6), i):
            if ok[j] and w[j:i] in _PINYIN and parts[j] + 1 < parts[i]:
                ok[i], parts[i] = True, parts[j] + 1
    return ok[-1] and parts[-1] <= 3


def _prev_word(text: str, start: int) -> str:
    """The word before ``start``, across spaces and one '.', ':', ',' or '?' ("Dr. ", "Nombre: ",
    "What's your name? Ana")."""
    i = start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    if i > 1 and text[i - 1] == "\n":  # a sign-off or a field on the line above ("Thanks,\nRaj", "To:\nAna")
        k = i - 1
        while k > 0 and text[k - 1] in " \t\r":
            k -= 1
        if k > 0 and text[k - 1] in ",:":
            i = k
    if i > 0 and text[i - 1] in "\"'":  # a JSON / form value: '"last_name": "Sørensen"' (not 'said "Hope Cafe"')
        k = i - 1
        while k > 0 and text[k - 1] in " \t":
            k -= 1
        if k == 0 or text[k - 1] not in ":=":
            return ""
        i = k
    j = i
    if j > 0 and text[j - 1] in ".:,?=":
        j -= 1
        if j > 0 and text[j - 1] in "\"'":
            j -= 1
    k = j
    while k > 0 and (text[k - 1].isalpha()):
        k -= 1
    return text[k:j].lower()


_PARTICLES = frozenset("de del la las los van der von da di du dos le y bin al".split())
# a line break may split a name ("Anna\nKowalska" in extracted PDF text)
_JOIN_GAPS = frozenset((" ", "\t", "-", "'", "’", "\n", " \n", "\n "))
# capitalised words only (a C-level scan: ~15 matches in a typical KB, not ~170 words)
# a middle initial between two words: "Ella H. Snider", "Ravil G Yefimov"
_INITIAL_GAP = re.compile(r" [A-Z]\.? ")
# a speaker introducing themself right before a capitalised word: "I'm Sofia" ("this is" and
# "it is" are left out: "This is Paris", "It is May")
_INTRO = re.compile(r"(?i:\b(?:i'm|i’m|i am|soy|je suis|ich bin|jestem))\s+$")


def _introduced(text: str, start: int, word: str) -> bool:
    """A known first name right after "I'm" / "I am": "I'm Sofia" (Sofia is a city too)."""
    return word in _load()[0] and _INTRO.search(text, max(0, start - 10), start) is not None


def _self_named(text: str, start: int, prev: str) -> bool:
    """"my name is Will", "call me Sofia": after these even an everyday word is a name."""
    if prev in ("is", "es", "jest", "ist", "est") and start > 5:
        return _prev_word(text, start - len(prev) - 1) in ("name", "nombre", "nom", "imię", "surname")
    if prev == "me" and start > 5:  # "call me Csanád", "llámame"
        return _prev_word(text, start - 3) in ("call", "calls", "called", "llaman", "nazywaj")
    return False


def _dotted_title(text: str, start: int) -> bool:
    """An Italian title with a dot inside: "dott.ssa Bianchi", "sig.ra Rossi"."""
    head = text[max(0, start - 12) : start].rstrip().lower()
    i = head.rfind(".")
    return i > 0 and head[: i + 1].endswith(TITLE_HEADS)


CAP_RE = re.compile(r"(?<!\w)[A-ZÀ-ÖØ-ÞĀ-ſ][^\W\d_]+")
_LAST_CAPS: tuple[str, list[tuple[int, int, str]]] = ("", [])


def cap_tokens(text: str) -> list[tuple[int, int, str]]:
    """Capitalised words as (start, end, word). One regex scan costs ~10 µs per KB, and the name,
    Polish-name and place passes (pii_places.py) all need it, so the last text's list is kept."""
    global _LAST_CAPS
    last = _LAST_CAPS  # one read: another thread may replace it, never half-way
    if last[0] is text:
        return last[1]
    toks = [(m.start(), m.end(), m.group()) for m in CAP_RE.finditer(text)]
    _LAST_CAPS = (text, toks)
    return toks


def _joins(gap: str) -> bool:
    """May two capitalised words with this text between them be one name?"""
    if gap in _JOIN_GAPS or (len(gap) in (3, 4) and gap[1].isupper() and _INITIAL_GAP.fullmatch(gap)):
        return True
    if len(gap) > 9 or gap[:1] != " " or gap[-1:] != " ":
        return False
    parts = gap.split()
    return 0 < len(parts) <= 2 and all(p in _PARTICLES for p in parts)  # "Juan de la Cruz"


# Scottish / Irish surnames keep a capital inside ("MacAllister", "McKenzie"); other mixed-case
# words are products or code ("PayPal", "iPhone") and still break a run
_MC = re.compile(r"Ma?c[A-Z][a-z]{2,}")


def _field_line(text: str, s: int, e: int) -> bool:
    """The next line of a form starts a new field ("Name: Ann Lee\nDate of birth: ...",
    "Guest: Ann Lee\nCheck-in: ..."): its first word does not continue the name."""
    if text[e : e + 1] == "-":
        return True
    c = text.find(":", e, e + 30)
    return c >= 0 and "\n" not in text[e:c]


def _runs(text: str):
    """Runs of capitalised words (particles allowed inside): lists of (start, end, word)."""
    cur: list[tuple[int, int, str]] = []
    last_end = -1
    for s, e, w in cap_tokens(text):
        if (not w[1:].islower() or not w[0].isupper()) and not _MC.fullmatch(w):
            if cur:
                yield cur
            cur = []
            continue
        gap = text[last_end:s]
        if cur and _joins(gap) and not ("\n" in gap and _field_line(text, s, e)):
            cur.append((s, e, w))
        else:
            if cur:
                yield cur
            cur = [(s, e, w)]
        last_end = e
    if cur:
        yield cur


def name_spans(text: str) -> list[Span]:
    if not text:
        return []
    common = _load()[2]
    out: list[Span] = []
    seen: set[str] = set()  # parts of multi-word names, lower-case
    n_caps = 0
    n_text = len(text)
    singles: list[tuple[int, int, str]] = []  # one-word runs, for lists of surnames
    near = False  # two of them joined by "and" (or "i", "und", ...)
    for run in _runs(text):
        if len(run) > 5:
            continue  # a title or a heading, not a name
        lowered = [w.lower() for _, _, w in run]
        n_caps += len(run)
        titled = False
        lead = -1
        if len(run) == 1:
            if singles and run[0][0] - singles[-1][1] <= 6 and text[singles[-1][1] : run[0][0]] in _CONJ_GAPS:
                near = True
            singles.append(run[0])
            if lowered[0] in common:
                # "Ms. Austin": a title makes even an everyday word a name ("1 M. Asimismo": not "M.");
                # a title without its dot joins the run instead ("Mr Austin"), so only ". " needs a look;
                # so do "my name is Will" and a known first name in "I'm Sofia" (Sofia is a city too)
                st = run[0][0]
                pw = _prev_word(text, st)
                titled = (st >= 4 and text[st - 2] == "." and len(pw) >= 2 and pw in HONORIFICS) or _self_named(text, st, pw) or (
                    _introduced(text, st, lowered[0]))
                if not titled:
                    continue  # one everyday word ("Please", "Revenue")
        if lowered[-1] in _NOT_PERSON_TAIL:
            continue  # a place / organisation
        # leading words that cannot start a name ("The", "In") are dropped
        while len(run) > 1 and lowered[0] in _NOT_PERSON_HEAD:
            run, lowered = run[1:], lowered[1:]
        if lowered[0] in _NOT_PERSON_HEAD or lowered[0] in _PLACE_HEAD:
            continue
        prev = _prev_word(text, run[0][0])
        # "Dr. Ana", "my name is Ana", "I'm Ana"
        cued = prev in HONORIFICS or (prev in TITLE_TAILS and _dotted_title(text, run[0][0])) or _self_named(text, run[0][0], prev) or _introduced(text, run[0][0], lowered[0])
        if lowered[0] in HONORIFICS:  # "Panią Katarzyną Zielińską": the title is inside the run
            while len(run) > 1 and lowered[0] in HONORIFICS:  # "Herr Dr Weber": every title goes
                run, lowered, cued = run[1:], lowered[1:], True
            if lowered[0] in HONORIFICS:
                continue
        elif lowered[0] in _FIELD_WORDS and len(run) > 1 and _INITIAL_GAP.fullmatch(text[run[0][1] : run[1][0]]):
            # "Patient H. Vogelsang": the field word is no part of the name, the initial is
            lead = run[0][1] + 1
            run, lowered, cued = run[1:], lowered[1:], True
        elif len(run) > 2:  # a greeting before the title: "Bonjour Mme Lefèvre", "Hallo Herr Dr Weber"
            t = next((i for i in range(1, len(run) - 1) if lowered[i] in HONORIFICS), 0)
            if t:
                run, lowered, cued = run[t + 1:], lowered[t + 1:], True
        # a header field: "Assigned to: Harpreet Gill", "From: ...", "Owner: ..." (the colon is required)
        cued = cued or prev in _FIELD_WORDS or (prev in _HEADER_WORDS and _after_colon(text, run[0][0]))
        is_first = [_known_cached(lt, 0) for lt in lowered]
        is_last = [_known_cached(lt, 1) for lt in lowered]
        # a capitalised word before the name ("Wniosek Anny Kowalskiej", "Yesterday John Smith")
        while len(run) > 1 and not cued and not is_first[0] and not is_last[0] and any(is_first[1:]):
            run, lowered, is_first, is_last = run[1:], lowered[1:], is_first[1:], is_last[1:]
        start, end = run[0][0], run[-1][1]
        n = len(run)
        if n == 1 and end < n_text - 1 and text[end] == " " and text[end + 1].isdigit():
            continue  # "Jan 5", "May 2024": a month, not a person
        initial = n == 2 and min(len(lt) for lt in lowered) >= 3 and any(_INITIAL_GAP.fullmatch(text[a[1] : b[0]]) for a, b in zip(run, run[1:]))
        if cued and n <= 4 and (titled or not all(lt in common for lt in lowered)):
            score = 0.85
        elif initial and lowered[0] not in common and lowered[-1] not in common and (
            is_first[0] or is_last[-1] or "." in text[run[0][1] : run[-1][0]]
        ):
            score = 0.8  # given name, middle initial, surname ("Vitamin D Deficiency" has neither known)
        elif n >= 2 and is_first[0] and n <= 4:
            score = 0.8  # "Maria Kowalska", "Jan Nowak"
        elif n >= 2 and sum(a or b for a, b in zip(is_first, is_last)) >= 2 and n <= 3:
            score = 0.75  # surname first: "Zhang Wei", "Rivera Bueno"
        elif n in (2, 3) and is_last[0] and all(_is_pinyin(t) for t in lowered):
            score = 0.75  # romanized Chinese: surname + given name ("Feng Haoran", "Yu Qing")
        elif n == 1 and is_first[0] and len(lowered[0]) >= 3:
            score = 0.6  # a lone first name that is no everyday word ("Say", "Will" are excluded)
        elif n == 1 and is_last[0] and prev in HONORIFICS:
            score = 0.85
        else:
            continue
        if lead >= 0:
            start = lead
        elif start >= 2 and text[start - 1] in "'’" and text[start - 2] == "O" and (start == 2 or not text[start - 3].isalnum()):
            start -= 2  # "O'Sullivan": the "O'" is too short to be a capitalised token of its own
        out.append(Span("PERSON", start, end, score, "names"))
        if n >= 2:
            seen.update(lt for lt in lowered if len(lt) >= 3 and lt not in common)
    if near:
        out += _coordinated(text, singles, out)
    # written all in lower case ("follow up with eva kleist"), or a short chat message with a
    # capital or two ("Can you pull up chris evans?")
    if (n_caps * 300 <= n_text or (n_text <= 400 and n_caps <= 2)) and n_text >= 8:
        out += _lowercase_names(text)
    if seen:
        seen_names = frozenset(seen)
        # a part of a name found above, used alone elsewhere ("Bonifacy Kaczmarek ... Kaczmarek said")
        taken = {(s.start, s.end) for s in out}
        covered = [(s.start, s.end) for s in out]
        # every name kept has 3+ letters, so a word and each stem looked up below share their
        # first three letters with it: one set look-up skips the other capitalised words
        heads = {w[:3] for w in seen_names}
        for s, e, w in cap_tokens(text):
            lw = w.lower()
            if lw[:3] not in heads:
                continue
            # the word or its stem without a 1-4 letter case ending ("Nowaka" -> "nowak")
            if (s, e) not in taken and (lw in seen_names or any(lw[:-k] in seen_names for k in (1, 2, 3, 4) if len(lw) - k >= 3)):
                if not any(a <= s < b for a, b in covered):
                    out.append(Span("PERSON", s, e, 0.7, "names"))
    from .pii_names_pl import looks_polish, polish_names  # (here: that module reads this one's helpers)

    if looks_polish(text):  # Polish case endings and places ("Małgorzacie", "w Krakowie")
        out = polish_names(text, out)
    if ":" in text or "=" in text:
        out += _capitals_after_label(text)
    if "\n" in text:
        out += _capitals_on_own_line(text)
    out += _shorthand_names(text)
    return out


# Forms, bookings and statements write names in capitals after their label ("Customer name: JANE
# DOE", "Passenger: SMITH JOHN"); the capitalised-run pass above reads only Title Case. A run of
# 1-4 capitalised words after a name label counts when one of them is a known first or last name
# and not all of them are everyday words ("Name: ADMIN USER" stays).
_CAPS_AFTER_LABEL = re.compile(
    r"(?i:\b(?:(?:full|customer|client|account|card ?holder(?:'s)?|patient|employee|passenger|guest|contact|applicant"
    r"|beneficiary|recipient|sender|holder)[ _]?)?(?:name|passenger|patient|employee|applicant|beneficiary|cardholder"
    r"|card holder|account holder|name\(s\) of account holder\(s\)|recipient|guest|nombre(?: completo)?|nom(?: complet)?|vorname|nachname|imię i nazwisko"
    r"|nazwisko|cognome|naam))\s*[:=]\s*"
    r"(?P<v>[A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ][A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ'\-]+(?:(?:,? |/)[A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ][A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ'\-]+){0,3})(?![\w])")


# a name alone on its line in capitals: a CV's header, the parties of a claim ("BETWEEN:\nJOHN
# DOE\nClaimant"); a known given name first, and a last word that is no everyday word
# (a literal "\n" first lets the regex engine jump between line breaks instead of trying each position)
_CAPS_LINE = re.compile(r"\n[ \t]*([A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+(?: [A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+){1,2}),?[ \t]*(?=\r?\n|$)")


def _capitals_on_own_line(text: str) -> list[Span]:
    out = []
    for m in _CAPS_LINE.finditer("\n" + text):  # the first line too; offsets shift by one
        words = m.group(1).lower().split()
        if _known_cached(words[0], 0) and (words[-1] not in _load()[2] or _known_cached(words[-1], 1)):
            out.append(Span("PERSON", m.start(1) - 1, m.end(1) - 1, 0.8, "names"))
    return out


# clinical shorthand and travel records: "Pt J. Doe", "SURNAME DOE GIVEN NAMES JANE" (APIS data has
# no colon); case-sensitive, so "5 pt Arial" and a lower-case "surname" in prose stay
_PT = re.compile(r"\bPt\.? (?:[A-Z]\. ?)?([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")
_CAPS_FIELD = re.compile(r"\b(?:SURNAME|LAST NAME|FAMILY NAME|GIVEN NAMES?|FIRST NAMES?|FORENAMES?)[ :=/]+"
                         r"([A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+(?: (?!(?:GIVEN|FIRST|LAST|FAMILY|NAMES?|FORENAMES?|DOB|SEX"
                         r"|NATIONALITY|PASSPORT|PNR|DATE|BIRTH)\b)[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+)?)")
# (the second word stops before the next label: "SURNAME DOE GIVEN NAMES JANE")
# an airline record's name line: SURNAME/GIVEN then a title ("1. O'SULLIVAN/SAOIRSE MRS")
_PNR_NAME = re.compile(r"\b([A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+/[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+(?: [A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'\-]+)?)"
                       r" (?:MRS|MR|MS|MISS|MSTR|DR|PROF)\b")
# an airline's travel-document line (SSR DOCS): P/country/number/nationality/birth/sex/expiry/SURNAME/GIVEN
_DOCS = re.compile(r"\bP/[A-Z]{3}/([A-Z0-9]{6,9})/[A-Z]{3}/\d{2}[A-Z]{3}\d{2}/[MFX]/\d{2}[A-Z]{3}\d{2}/"
                   r"([A-ZÀ-ÖØ-Þ'\-]+)/([A-ZÀ-ÖØ-Þ'\-]+(?: [A-ZÀ-ÖØ-Þ'\-]+)?)")
_FIELD_STOP = frozenset("given first last family name names forename forenames dob sex nationality passport pnr date birth".split())


_PT_TOKENS = frozenset(("Pt",))
_TITLE_TOKENS = frozenset("MR MRS MS MISS MSTR DR PROF".split())
_FIELD_TOKENS = frozenset("SURNAME NAME NAMES FORENAME FORENAMES".split())


def _shorthand_names(text: str) -> list[Span]:
    # gates read the capitalised tokens the run pass already split (cached): a substring test
    # per trigger would cost ~1 us per KB each
    pt = title = field = docs = False
    for s, _e, w in cap_tokens(text):
        if w in _PT_TOKENS:
            pt = True
        elif w in _TITLE_TOKENS:
            title = True
        elif w in _FIELD_TOKENS:
            field = True
        elif len(w) == 3 and s >= 2 and text[s - 2 : s] == "P/":
            docs = True
    if not (pt or title or field or docs):
        return []
    common = _load()[2]
    out = []
    if pt:
        for m in _PT.finditer(text):
            if m.group(1).lower() not in common:
                out.append(Span("PERSON", m.start(1), m.end(1), 0.8, "names"))
    if title:
        for m in _PNR_NAME.finditer(text):
            words = re.split(r"[ /]", m.group(1).lower())
            if any(w in common for w in words):
                continue  # "AND/OR MS Word"
            # airport pairs ("LHR/JFK MR ...") are short and no one's name
            if min(len(w) for w in words) >= 4 or any(_known_cached(w, 0) or _known_cached(w, 1) for w in words):
                out.append(Span("PERSON", m.start(1), m.end(1), 0.85, "names"))
    if docs:
        for m in _DOCS.finditer(text):
            out += [Span("PASSPORT", m.start(1), m.end(1), 0.9, "names"), Span("PERSON", m.start(2), m.end(2), 0.9, "names"),
                    Span("PERSON", m.start(3), m.end(3), 0.9, "names")]
    if field:
        for m in _CAPS_FIELD.finditer(text):
            words = m.group(1).lower().split(" ")
            if words[0] in _FIELD_STOP or all(w in common for w in words):
                continue
            out.append(Span("PERSON", m.start(1), m.end(1), 0.85, "names"))
    return out


_GIVEN_AFTER = re.compile(r", ?([A-Z][a-z]+)\b")


def _capitals_after_label(text: str) -> list[Span]:
    first, last, common = _load()
    out = []
    for m in _CAPS_AFTER_LABEL.finditer(text):
        words = [w.lower() for w in re.split(r"[ ,/]+", m.group("v")) if w]
        # "Patient: DOE, Jane": a known given name in Title Case after the comma vouches for it
        after = _GIVEN_AFTER.match(text, m.end("v"))
        if all(w in common for w in words) or not (
                any(_known(w, first) or _known(w, last) for w in words)
                or (after is not None and _known(after.group(1).lower(), first))):
            continue
        out.append(Span("PERSON", m.start("v"), m.end("v"), 0.85, "names"))
    return out


_WORD_RE = re.compile(r"[^\W\d_]+")
_TITLE_JOINERS = _PARTICLES | frozenset("of for the con para en por sur pour für fur und dla".split())
_LIST_GAPS = frozenset((", ",))
_CONJ_GAPS = frozenset(f"{p} {c} " for p in ("", ",") for c in ("and", "&", "i", "und", "et", "e", "oraz"))


def _coordinated(text: str, singles: list[tuple[int, int, str]], found: list[Span]) -> list[Span]:
    """One-word names in a list ("founders: Kónya, Becker and Vasquez", "Marrero and Murphy"):
    when one is a known name and none is an everyday word or a place, they all are names."""
    common = _load()[2]
    out: list[Span] = []
    i = 0
    last = len(singles) - 1
    while i < last:
        j = i  # extend the list while items are joined by ", " and closed by a conjunction
        while j < len(singles) - 1 and text[singles[j][1] : singles[j + 1][0]] in _LIST_GAPS:
            j += 1
        if j == len(singles) - 1 or text[singles[j][1] : singles[j + 1][0]] not in _CONJ_GAPS:
            i = j + 1
            continue
        items = singles[i : j + 2]
        i = j + 2
        # after a capitalised word or "de" / "of" the list is part of a title ("Cirugía Oral i Szczękowa")
        k = b = items[0][0] - 1
        while k > 0 and text[k - 1].isalpha():
            k -= 1
        if b > 0 and text[b] == " " and (text[k:b][:1].isupper() or text[k:b] in _TITLE_JOINERS):
            continue
        words = [w.lower() for _, _, w in items]
        if any(w in common or w in _NOT_PERSON_HEAD or w in _PLACE_HEAD or w in _NOT_PERSON_TAIL or len(w) < 3 for w in words):
            continue
        if not any(_known_cached(w, 1) or _known_cached(w, 0) for w in words):
            continue
        for a, e, _ in items:
            if not any(sp.start <= a < sp.end for sp in found):
                out.append(Span("PERSON", a, e, 0.7, "names"))
    return out


_LOWER_CUES = frozenset("name is me named called nombre".split())


def _lowercase_names(text: str) -> list[Span]:
    """In text written without capitals: a known given name followed by a known surname
    (an initial may sit between), or a known name right after "my name is" / "call me"."""
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD_RE.finditer(text)]
    out: list[Span] = []
    i = 0
    while i < len(words):
        s, e, w = words[i]
        if len(w) >= 3 and _known_cached(w, 0):
            j = i + 1
            if j < len(words) - 1 and len(words[j][2]) == 1 and words[j][0] - e <= 1:
                j += 1  # "benjamin a seiler"
            if j < len(words) and len(words[j][2]) >= 3 and words[j][0] - words[j - 1][1] <= 2 and _known_cached(words[j][2], 1):
                out.append(Span("PERSON", s, words[j][1], 0.75, "names"))
                i = j + 1
                continue
            if i > 0 and words[i - 1][2] in _LOWER_CUES and (i < 2 or words[i - 2][2] in ("my", "is", "call", "her", "his", "maiden", "last", "first")):
                out.append(Span("PERSON", s, e, 0.7, "names"))
        i += 1
    return out
