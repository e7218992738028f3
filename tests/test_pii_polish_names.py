"""Polish person names in their case forms (issue 14): found by the always-on fast path, while
places after "w" / "na", street names, months and inflected common nouns are left alone."""
from __future__ import annotations

import pytest

from seawall.guard.pii import FastPII
from seawall.guard.pii_names import name_spans
from seawall.guard.pii_names_pl import given_name, looks_polish, ski_surname


def people(text: str) -> list[str]:
    return [text[s.start : s.end] for s in FastPII().analyze(text) if s.kind == "PERSON"]


@pytest.mark.parametrize(
    "text,name",
    [
        ("Przekaż dokumenty Małgorzacie Wiśniewskiej jutro rano.", "Małgorzacie Wiśniewskiej"),
        ("Spotkanie z Krzysztofem Kowalskim odbędzie się po południu.", "Krzysztofem Kowalskim"),
        ("Rozmawialiśmy wczoraj o Agnieszce i jej nowej pracy.", "Agnieszce"),
        ("Podziękuj proszę Jackowi za szybką odpowiedź.", "Jackowi"),
        ("Wyślij zaproszenie Oldze, ona zajmie się resztą.", "Oldze"),
        ("Ten raport przygotował zespół Pawła, nie mój.", "Pawła"),
        ("Dzwoniłem do Kowalskiego w sprawie faktury.", "Kowalskiego"),
        ("Umowę podpisze z Nowicką dyrektor oddziału.", "Nowicką"),
        ("Rozmawiałam dziś z Małgorzatą Dąbrowską o budżecie.", "Małgorzatą Dąbrowską"),
        ("Decyzję doręczono Barbarze Pietrzyk w poniedziałek.", "Barbarze Pietrzyk"),
        ("Z powództwa Marka Nowaka sąd zasądził kwotę.", "Marka Nowaka"),
        ("Kopię otrzymuje Jadwidze, a oryginał zostaje u nas.", "Jadwidze"),
        ("Zapytaj o to Kacpra albo Jerzego, oni wiedzą.", "Kacpra"),
        ("Zapytaj o to Kacpra albo Jerzego, oni wiedzą.", "Jerzego"),
        # a known surname after a role noun, in any case
        ("Sprawę prowadzi prezes Nowak, a protokół spisał mgr inż. Zając.", "Nowak"),
        ("Sprawę prowadzi prezes Nowak, a protokół spisał mgr inż. Zając.", "Zając"),
        ("Umówiłem się z mecenasem Wójcikiem na wtorek.", "Wójcikiem"),
        ("Pacjentka Kowalczyk została przyjęta na oddział.", "Kowalczyk"),
        # a surname met after a given name, alone again in another case
        ("Z Pawłem Sikorą rozmawiałem rano. Potem zadzwoniłem do Sikory jeszcze raz.", "Sikory"),
        # typed without Polish letters
        ("Spotkanie z Pawlem Sikora nie jest pilne.", "Pawlem Sikora"),
        ("Dokumenty odbierze Malgorzata Wisniewska, nie ja.", "Malgorzata Wisniewska"),
    ],
)
def test_inflected_polish_names_found(text, name):
    assert name in people(text)


@pytest.mark.parametrize(
    "text",
    [
        "Umowa zawarta w Krakowie dnia 5 lutego między stronami.",
        "Mieszkamy w Warszawie od trzech lat, a wcześniej na Śląsku.",
        "Fabryka stoi pod Krakowem, niedaleko autostrady.",
        "Przyjechał z Gdańska do Płocka przez całą Polskę.",
        "Spotkajmy się 3 Maja przy fontannie.",
        "Wnioski przyjmujemy w godzinach pracy urzędu.",
        "Troska o klienta jest dla nas najważniejsza.",
        "Marka samochodu nie ma tu znaczenia.",
        "Uniwersytet Warszawski ogłosił nabór, a Politechnika Gdańska go przedłużyła.",
        "Wojewódzki Sąd Administracyjny oddalił skargę.",
        "Firma działa pod nazwą Kowalska Consulting od 2019 roku.",
        "Pismo od dyrektora Departamentu Finansów i od ministra Sprawiedliwości.",
        "Przyszedł dyrektor Szpitala Miejskiego i prezes Zarządu.",
    ],
)
def test_polish_places_and_common_words_are_not_names(text):
    assert people(text) == []


def test_street_names_after_ul_are_not_people():
    text = "Biuro mieści się przy ul. Marii Konopnickiej 5 w Gdańsku."
    spans = FastPII().analyze(text)
    assert [text[s.start : s.end] for s in spans if s.kind == "PERSON"] == []
    assert any(s.kind == "STREET_ADDRESS" for s in spans)


@pytest.mark.parametrize(
    "word,lemma_is_name",
    [("anny", True), ("annie", True), ("annę", True), ("anną", True), ("janowi", True), ("janem", True),
     ("piotrze", True), ("tomaszu", True), ("markiem", True), ("marii", True), ("alicji", True),
     ("małgorzacie", True), ("elżbiecie", True), ("monice", True), ("kraków", False), ("warszawie", False),
     ("sprawie", False), ("umowy", False), ("stycznia", False)],
)
def test_given_name_case_forms(word, lemma_is_name):
    assert given_name(word) is lemma_is_name


@pytest.mark.parametrize(
    "word,is_surname",
    [("kowalski", True), ("kowalskiego", True), ("kowalskiemu", True), ("kowalskim", True), ("kowalska", True),
     ("kowalskiej", True), ("kowalską", True), ("nowickiego", True), ("kowalscy", True),
     ("polska", False), ("polskiej", False), ("gdańska", False), ("warszawski", False), ("europejskiej", False),
     ("kowalskie", False), ("kowal", False)],
)
def test_ski_family(word, is_surname):
    assert ski_surname(word) is is_surname


@pytest.mark.parametrize(
    "text",
    [
        "Please send the report to Anna Smith before the meeting in Krakow.",
        "Meet Mark and Jackie at the Brown Street office on Tuesday.",
        "El paciente Juan García fue atendido por la doctora Marta Ruiz.",
    ],
)
def test_other_languages_do_not_take_the_polish_path(text, monkeypatch):
    assert not looks_polish(text)
    import seawall.guard.pii_names_pl as pl

    calls = []
    monkeypatch.setattr(pl, "polish_names", lambda t, out: calls.append(t) or out)
    name_spans(text)
    assert calls == []


def test_polish_text_takes_the_polish_path(monkeypatch):
    import seawall.guard.pii_names_pl as pl

    calls = []
    monkeypatch.setattr(pl, "polish_names", lambda t, out: calls.append(t) or out)
    name_spans("Spotkanie z Pawlem nie jest pilne.")  # no Polish letters, but Polish words
    assert len(calls) == 1


def test_polish_path_keeps_names_found_before():
    # a name the language-blind pass finds stays found, and grows to the surname after it
    text = "Wczoraj rozmawiałem z Anną Nowak o projekcie."
    assert people(text) == ["Anną Nowak"]
