"""Polish declension for the fast name detector (runs only on text that looks Polish).

Polish names change their ending with the grammatical case: Anna -> Anny, Annie, Annę, Anną;
Jan -> Jana, Janowi, Janem, Janie; Marek -> Marka (the "e" drops out); Małgorzata ->
Małgorzacie (t -> ci); Kowalski -> Kowalskiego, Kowalskiemu, Kowalskim; Kowalska ->
Kowalskiej, Kowalską. ``polish_names`` adds, on top of what ``name_spans`` found:

* a capitalised word whose ending, undone by the rules below, gives a common Polish given
  name (a hand list: the general lists hold few Polish names and their thousands of foreign
  names would turn inflected Polish nouns into "names");
* a word of the -ski / -cki / -dzki surname family in any case, unless it is an adjective of
  a place or a nation ("Polska", "Uniwersytet Warszawski", "Miasta Gdańska");
* any capitalised word right after such a given name ("Annie Pietrzyk").

It also drops a name found right after "w", "we", "pod", "nad" (or "na" with a locative
ending): "w Krakowie", "pod Warszawą", "na Śląsku" are places. Street names after "ul.",
months after a day number ("3 Maja") and words after an institution ("Politechnika Gdańska")
are left alone. The whole pass is skipped unless the text has Polish letters or a Polish
function word, so English or Spanish text pays one scan and nothing else.
"""
from __future__ import annotations

import functools
import gzip
import re
import unicodedata

from .pii_names import _DATA, _NOT_PERSON_TAIL, _joins, _known_cached, _load, cap_tokens
from .types import Span

_PL_LETTERS = "ąćęłńśźżĄĆĘŁŃŚŹŻ"
# Polish written without its letters ("Spotkanie z Pawlem") still has these words
_PL_WORDS = re.compile(r" (?:nie|jest|oraz|dla|przez|sie|pan|pani|dnia) ")

# common Polish given names (and everyday short forms), nominative
_GIVEN = frozenset(
    """anna maria katarzyna małgorzata agnieszka barbara ewa krystyna elżbieta magdalena joanna zofia
    aleksandra monika teresa danuta natalia julia karolina marta beata dorota halina jadwiga janina alicja
    jolanta irena grażyna iwona paulina justyna bożena zuzanna urszula agata hanna renata sylwia helena
    patrycja wiktoria izabela emilia weronika aneta wanda dominika stanisława edyta oliwia ewelina gabriela
    martyna kamila marianna lena amelia maja marzena genowefa wiesława bogumiła lucyna kinga mirosława
    ilona anita klaudia lidia bogusława kazimiera regina łucja lucja sandra angelika czesława leokadia jagoda
    olga laura nikola milena roksana adrianna daria wioletta violetta marlena celina eugenia józefa
    apolonia antonina franciszka rozalia stefania władysława henryka ryszarda tamara sabina aldona
    bernadeta dagmara diana elwira felicja gertruda honorata irmina jowita judyta kornelia ludwika
    malwina marcelina michalina nadia nina tatiana teodora tekla zenona zyta żaneta iga ada alina ania
    kasia gosia basia ola magda asia zosia hania julka marysia bogna blanka klara liliana lilianna luiza
    pamela paula aurelia cecylia dobromiła eliza ernestyna filomena jarosława karina konstancja matylda
    melania mirella otylia petronela seweryna zdzisława bronisława kamila wiktoria emilka ula iza ela
    jan piotr krzysztof andrzej tomasz paweł michał marcin stanisław jakub adam marek łukasz grzegorz
    mateusz wojciech mariusz dariusz zbigniew jerzy maciej józef ryszard tadeusz janusz kamil rafał robert
    kacper jacek artur szymon kazimierz sebastian damian daniel sławomir jarosław przemysław henryk
    mirosław zdzisław bartosz patryk karol arkadiusz wiesław dawid leszek adrian filip ireneusz hubert
    krystian czesław edward bogdan eugeniusz waldemar antoni władysław zygmunt mikołaj franciszek wiktor
    aleksander igor oskar konrad norbert bogusław radosław wacław leon ludwik emil bartłomiej
    mieczysław bolesław julian stefan witold zenon marian lucjan alfred alojzy benedykt bronisław
    cezary dominik edmund eryk feliks florian gabriel gustaw hieronim ignacy jędrzej joachim konstanty
    kornel kuba lesław maksymilian marcel miłosz nikodem olaf oliwer remigiusz seweryn sylwester teodor
    tymon tymoteusz walenty wawrzyniec wincenty włodzimierz zbyszek staszek tadek wojtek jurek romek
    franek antek bartek maciek tomek janek piotrek borys fabian gracjan ksawery natan oktawian przemek
    radek rysiek sławek szczepan tobiasz ernest eustachy leonard longin marceli olgierd rajmund rudolf
    tytus walery zygfryd bogumił grzesiek jarek mirek darek heniek józek kazik krzysiek""".split()
)
# forms of given names that are everyday words too: a name only next to a surname
_GIVEN_COMMON = frozenset(
    """marka marki marce markę marką róża róży różę różą maja maju wiktoria wiktorii kuba kubie""".split()
)
_MONTHS = frozenset(
    """stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia
    styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień""".split()
)


def _fold(w: str) -> str:
    """Polish letters to ASCII ("Paweł" -> "pawel"): names typed without diacritics."""
    return unicodedata.normalize("NFKD", w.replace("ł", "l").replace("Ł", "L")).encode("ascii", "ignore").decode()


_GIVEN_ALL = _GIVEN | frozenset(_fold(w) for w in _GIVEN)

# a case ending and what the nominative ends with instead, longest ending first; "" means the bare
# stem (Jan-a, Jan-owi, Jan-em, Jan-ie); the stem may also have lost an "e" (Mar-k-a -> Marek)
_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("owi", ("",)), ("iem", ("",)), ("em", ("",)), ("iego", ("i",)), ("iemu", ("i",)), ("ego", ("y",)),
    ("emu", ("y",)),
    ("ście", ("st", "sta")), ("scie", ("st", "sta")), ("cie", ("t", "ta")), ("dzie", ("d", "da")),
    ("dze", ("ga",)), ("rze", ("r", "ra")), ("le", ("ł", "ła", "l")), ("ce", ("ka",)), ("ie", ("", "a")),
    ("iu", ("ia", "")), ("ii", ("ia",)), ("ji", ("ja",)), ("ym", ("y",)), ("im", ("i",)),
    ("ą", ("a",)), ("ę", ("a",)), ("y", ("a",)), ("i", ("a", "ia")), ("o", ("a",)), ("a", ("",)),
    ("u", ("",)), ("e", ("a",)),
)
_VOWELS = frozenset("aeiouyąęó")


def _lemmas(w: str):
    """Nominative candidates for a lower-case word (the word itself first)."""
    yield w
    for end, subs in _ENDINGS:
        if not w.endswith(end) or len(w) - len(end) < 2 or (end == "e" and not w.isascii()):
            continue  # (the bare "e" stands for "ę" only in text typed without Polish letters)
        stem = w[: -len(end)]
        for sub in subs:
            yield stem + sub
            # the "e" that drops out in the other cases: Marka -> Marek, Pawła -> Paweł, Kacpra -> Kacper
            if not sub and stem[-1] in "kłlcr" and stem[-2] not in _VOWELS:
                yield stem[:-1] + "e" + stem[-1]


@functools.lru_cache(maxsize=1 << 14)
def given_name(w: str) -> bool:
    """``w`` (lower case) is a Polish given name in some case. Endings no other language of the
    general list uses ("Wiesławą", "Bogumiłowi") may also lead to a name of that list."""
    if any(c in _GIVEN_ALL for c in _lemmas(w)):
        return True
    if w.endswith(_PL_ONLY_ENDINGS):
        first, _, common = _load()
        return w not in common and any(len(c) >= 4 and c in first and c not in common for c in _lemmas(w))
    return False


_PL_ONLY_ENDINGS = ("owi", "ą", "ę", "iem")


# -ski / -cki / -dzki in every case and number: Kowalski, Kowalskiego, Kowalskiej, Kowalską, Kowalscy;
# and -wicz (Mickiewicz, Mickiewicza, Mickiewiczem), a family no Polish common noun shares
_SKI = re.compile(r"(?:sk|ck|dzk)(?:i|a|iego|iemu|im|iej|ą|ich|imi)$|(?:sc|cc|dzc)y$|wicz(?:a|owi|em|u|owie|ów|owa)?$")
# stems of adjectives of places, nations and institutions that end the same way ("Polska",
# "Gdańska", "Województwo Mazowieckie" is not matched at all: -ie is no surname ending)
_SKI_NOT = frozenset(
    """pol gdań ślą warszaw krakow pozna wrocław lubel szczeciń białosto katowi gdyń toruń kiele rzeszow
    olsztyń opol małopol wielkopol pomor podkarpa podla kujaw warmiń lubu świętokrzy dolnoślą europej
    angiel niemie francu hiszpań wło rosyj ukraiń cze słowa amerykań chiń japoń litew białoru miej wojewó
    akademi uniwersyte jagielloń gnieźnień pło słup smoleń miń rzym królew dam wiej mor ojcow brater
    sąsie przyjaciel gre ture ludz mę ni bli wą pła śli bo żeń szwedz duń norwe fiń węgier austriac
    niderland belgij szwajcar portugal irland szkoc brytyj kanadyj meksykań brazylij argentyń austral
    indyj arab turec izrael egip afrykań azjatyc bałtyc słowiań łaciń grec żydow katolic ewangelic
    prawosław islam chrześcijań muzułmań""".split()
)


@functools.lru_cache(maxsize=1 << 14)
def ski_surname(w: str) -> bool:
    """``w`` (lower case) is a -ski / -cki / -dzki surname in some case, not a place adjective."""
    m = _SKI.search(w)
    if m is None:
        return False
    stem = w[: m.start()]
    return len(stem) >= 3 and stem not in _SKI_NOT and _fold(stem) not in _SKI_NOT_ASCII


_SKI_NOT_ASCII = frozenset(_fold(s) for s in _SKI_NOT)

# the capitalised word before (or after) the name makes it a place or an institution's name
_INSTITUTION = (
    "uniwersyt", "urząd", "urzęd", "urzad", "sąd", "sad", "bank", "szpital", "instytut", "politechni",
    "akademi", "miast", "mieście", "gmin", "powiat", "wojew", "teatr", "muze", "bibliotek", "kości",
    "katedr", "dworz", "dworc", "lotnisk", "stadion", "zamk", "pałac", "klub", "związ", "stowarzysz",
    "fundacj", "spółdziel", "izb", "minister", "sejm", "senat", "komend", "prokurat", "trybunał",
    "kancelar", "wydział", "zakład", "przedsiębior", "szkoł", "szkol", "liceum", "centrum", "ośrod",
    "hotel", "restaurac", "galeri", "kino", "telewiz", "gazet", "kurier", "dziennik", "region", "ziemi",
    "morz", "jezior", "puszcz", "zatok", "wybrzeż", "park", "plac", "rynek", "rynk", "most", "ulic", "alej",
    "osiedl", "dzielnic", "prezydent", "marszał", "starost", "burmistrz", "rzeczpospolit", "poczt",
    "narodow", "państwow", "okręg", "rejon", "apelac", "skarbow", "oddział", "filharmon", "oper",
    "festiwal", "konkurs", "nagrod", "order", "krzyż", "medal", "wojsk", "komisj", "agencj", "inspekc",
    "polsk", "spółk", "grup", "firm", "biur", "sklep", "hurtowni", "apteka", "aptek", "przychodni",
    "kliniк", "klinik", "ośrodek", "parafi", "diecezj", "województw", "kolej", "dom", "hal", "rondo",
)
# after these a name is a place: "w Krakowie", "pod Warszawą", "nad Wisłą"
_PLACE_PREP = frozenset("w we pod nad".split())
# after these the word must be genitive or instrumental: a -ski / -ska in the nominative is then a
# place's genitive ("z Gdańska", "do Płocka"), never a surname
_GEN_PREP = frozenset("z ze do od u dla koło obok spod sprzed znad około".split())
_STREET = frozenset("ul al pl os ulica ulicy ulicę aleja alei aleję placu plac osiedle osiedlu rondo ronda skwer im imienia".split())
_LOCATIVE_END = ("ie", "u", "iu", "ach", "ech", "i", "y")


def looks_polish(text: str) -> bool:
    if not text.isascii() and any(c in text for c in _PL_LETTERS):
        return True
    return _PL_WORDS.search(text) is not None


_PREV = re.compile(r"(?<![^\W\d_])([^\W\d_]+)[.:,?]?[ \t]*\Z")


def _prev_word(text: str, s: int) -> str:
    """The short word before ``s`` (across spaces and one '.', ':', ',' or '?'), lower case; every
    word this module asks about is a preposition, a title or a street label of at most 9 letters."""
    a = max(0, s - 14)
    m = _PREV.search(text, a, s)
    return m.group(1).lower() if m and (m.start() > a or a == 0) else ""


def _place_context(text: str, s: int, word: str, prev: str) -> bool:
    """Is the name starting at ``s`` (first word ``word``, lower case; ``prev`` the word before it)
    a place by its preposition?"""
    if prev in _STREET:
        return True
    if text[s - 2 : s - 1] in (".", ":") and prev not in _STREET:
        prev = ""  # "ul. " is handled above; another word before a '.' is a sentence's end
    if prev in _PLACE_PREP:
        return True
    return prev == "na" and word.endswith(_LOCATIVE_END)


def polish_names(text: str, found: list[Span]) -> list[Span]:
    """``found`` (the language-blind name spans) revised for Polish text: see the module doc."""
    common = _load()[2]
    keep = [sp for sp in found if not _drop(text, sp)]
    toks = [t for t in cap_tokens(text) if t[2][1:].islower()]
    new: list[Span] = []
    i = 0
    while i < len(toks):
        s, e, w = toks[i]
        lw = w.lower()
        given, ski = given_name(lw) and lw not in _MONTHS, ski_surname(lw)
        # a known surname in some case right after a role noun: "dyrektor Nowak", "z mecenasem Wójcikiem"
        role = not (given or ski) and pl_surname(lw) and _role_before(text, s)
        if not (given or ski or role):
            i += 1
            continue
        # the previous word of the same run: an institution makes this its name ("Uniwersytet Adama")
        if i > 0 and _joins(text[toks[i - 1][1] : s]) and toks[i - 1][2].lower().startswith(_INSTITUTION):
            i += 1
            continue
        j, end, has_given, has_ski = i + 1, e, given, ski
        while j < len(toks) and j - i < 4 and _joins(text[toks[j - 1][1] : toks[j][0]]):
            nw = toks[j][2].lower()
            g2 = given_name(nw) and nw not in _MONTHS and nw not in _GIVEN_COMMON
            k2 = ski_surname(nw)
            # any capitalised word right after a given name is its surname ("Annie Pietrzyk"), unless
            # it names a place or an institution ("Anna Street", "Jana Pawła Szpital")
            weak = has_given and j == i + 1 and text[toks[j - 1][1] : toks[j][0]] == " " and nw not in common and (
                nw not in _NOT_PERSON_TAIL and not nw.startswith(_INSTITUTION) and nw not in _MONTHS)
            if not (g2 or k2 or weak):
                break
            has_given, has_ski = has_given or g2, has_ski or k2
            end = toks[j][1]
            j += 1
        n = j - i
        i = j
        prev = _prev_word(text, s)
        if _place_context(text, s, lw, prev) or (s >= 2 and text[s - 2].isdigit() and text[s - 1] == " "):
            continue  # "w Krakowie", "ul. Kościuszki", "3 Maja"
        if j < len(toks) and text[end : toks[j][0]] == " " and _org_word(toks[j][2].lower()):
            continue  # "Kowalska Consulting", "Nowak Transport": a firm named after its owner
        if n == 1:
            if given and (lw in _GIVEN_COMMON or lw in common or len(lw) < 3):
                continue  # "Marka" (a brand), "Róża" (a rose) alone
            if ski and not given:
                if prev in _GEN_PREP and lw.endswith(("ski", "ska", "cki", "cka", "dzki", "dzka")):
                    continue  # "z Gdańska", "do Płocka": a town's genitive
                if _sentence_start(text, s) and m_stem_len(lw) < 5:
                    continue  # "Wnioski", "Troska", "Deska": nouns that open a sentence
        score = 0.8 if n >= 2 else (0.7 if has_ski or role else 0.6)
        new.append(Span("PERSON", s, end, score, "names"))
    if any(" " in text[sp.start : sp.end] for sp in new):
        new += _surnames_again(text, toks, new + keep)
    return _merge(keep, new)


@functools.lru_cache(maxsize=1 << 14)
def _bases(w: str) -> frozenset[str]:
    """The nominative candidates of a lower-case word of 4+ letters (cached: words recur)."""
    return frozenset(c for c in _lemmas(w) if len(c) >= 4)


def _surnames_again(text: str, toks, spans: list[Span]) -> list[Span]:
    """A surname met after a given name, used alone in another case elsewhere ("Pawłem Sikorą …
    Sikora said"): the words share a nominative candidate. Only words of many-word names count."""
    bases: set[str] = set()
    for sp in spans:
        words = text[sp.start : sp.end].split()
        for w in words[1:]:
            lw = w.lower()
            if len(lw) >= 4 and lw.isalpha() and not given_name(lw):
                bases.update(_bases(lw))
    if not bases:
        return []
    out = []
    for s, e, w in toks:
        lw = w.lower()
        if len(lw) >= 4 and not bases.isdisjoint(_bases(lw)) and not given_name(lw):
            if not any(sp.start <= s < sp.end for sp in spans):
                out.append(Span("PERSON", s, e, 0.7, "names"))
    return out


_ORG_WORDS = frozenset(
    """consulting design studio media trans transport bud budownictwo invest inwestycje serwis service
    software soft tech technologies logistics logistyka partners partnerzy holding group grupa handel
    usługi uslugi sp spółka spolka company firma systems system development energy energia auto""".split()
)


# role nouns (any case: the stem) that Polish puts before a surname: "prezes Kowalski",
# "pacjentki Nowak", "z adwokatem Wójcikiem", "mgr inż. Zając"
_ROLES = (
    "mgr", "inż", "dr", "prof", "hab", "mec", "adw", "ks", "lek", "red", "dyrektor", "prezes", "kierownik",
    "minister", "premier", "prezydent", "posł", "poseł", "senator", "burmistrz", "wójt", "starost", "sędzi",
    "prokurator", "adwokat", "mecenas", "radc", "notariusz", "komornik", "doktor", "profesor", "inżynier",
    "magister", "ksiądz", "księd", "księż", "pacjent", "pełnomocni", "koleg", "koleżank", "świad",
    "wnioskodaw", "powod", "powód", "pozwan", "oskarżon", "najemc", "zleceniobiorc",
    "zleceniodaw", "pracodaw", "mąż", "męż", "żon", "syn", "córk", "brat", "siostr", "wuj", "ciot", "cioc",
    "babci", "babk", "dziad", "kuzyn", "sąsiad", "sąsiedz", "asystent", "sekretar", "księgow", "kierowc",
    "nauczyciel", "wychowawc", "trener", "redaktor", "referent", "inspektor", "specjalist",
)


@functools.lru_cache(maxsize=1)
def _pl_surnames() -> frozenset[str]:
    """Faker's Polish surnames (scripts/build_name_lists.py), with ASCII spellings; read on first use."""
    with gzip.open(_DATA / "pl_last_names.txt.gz", "rt", encoding="utf-8") as f:
        names = frozenset(line.strip() for line in f if line.strip())
    return names | frozenset(_fold(w) for w in names)


@functools.lru_cache(maxsize=1 << 14)
def pl_surname(w: str) -> bool:
    """``w`` (lower case) is a surname in some case ("Wójcikiem", "Zająca"): from the Polish list, or
    the general one (which undoes case endings itself and skips everyday words)."""
    names = _pl_surnames()
    return any(c in names for c in _lemmas(w)) or _known_cached(w, 1)


def _role_before(text: str, s: int) -> bool:
    """Is the word before ``s`` a lower-case role noun (or its abbreviation)?"""
    k = s - 1
    if k < 1 or text[k] != " ":
        return False
    if text[k - 1] == ".":
        k -= 1
    b = k
    while b > 0 and text[b - 1].isalpha():
        b -= 1
    word = text[b:k]
    return 2 <= len(word) <= 14 and word[1:].islower() and word.lower().startswith(_ROLES)


def _org_word(w: str) -> bool:
    return w in _ORG_WORDS or w in _NOT_PERSON_TAIL or w.startswith(_INSTITUTION)


def _sentence_start(text: str, s: int) -> bool:
    k = s
    while k > 0 and text[k - 1] in " \t\"'„“”«»(":
        k -= 1
    return k == 0 or text[k - 1] in ".!?\n:;-•*"


def m_stem_len(w: str) -> int:
    m = _SKI.search(w)
    return m.start() if m else len(w)


def _drop(text: str, sp: Span) -> bool:
    """A name the language-blind pass found that is a place in Polish ("w Krakowie")."""
    if sp.kind != "PERSON":
        return False
    word = text[sp.start : sp.end].split(None, 1)[0].lower()
    s = sp.start
    if s >= 2 and text[s - 1] == " " and text[s - 2].isdigit() and word in _MONTHS:
        return True  # "3 Maja": a date (or the street named after it)
    k = s - 1
    while k > 0 and text[k - 1].isalpha():
        k -= 1
    if k < s - 1 and text[s - 1] == " " and text[k].isupper() and text[k : s - 1].lower().startswith(_INSTITUTION):
        return True  # "Uniwersytet Adama Mickiewicza": the name of an institution
    prev = _prev_word(text, s)
    if prev in ("pan", "pani", "panu", "panem", "panią", "panie", "pana"):
        return False
    return _place_context(text, s, word, prev)


def _merge(keep: list[Span], new: list[Span]) -> list[Span]:
    """Overlapping PERSON spans become one (the union); the others are kept as they are."""
    if not new:
        return keep
    people = sorted([s for s in keep if s.kind == "PERSON"] + new, key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for sp in people:
        if merged and sp.start < merged[-1].end:
            last = merged[-1]
            if sp.end > last.end:
                merged[-1] = Span("PERSON", last.start, sp.end, max(last.score, sp.score), "names")
            continue
        merged.append(sp)
    return [s for s in keep if s.kind != "PERSON"] + merged
