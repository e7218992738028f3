"""The false-hit guard of the semantic cache.

Embeddings place "cancel my order" and "do not cancel my order" side by side, and "weather in
Paris" next to "weather in London": they are about the same thing, and they ask something
different. A similarity threshold alone cannot tell them apart without also refusing most
true paraphrases. The verifier looks at what an embedding blurs, the *slots* of a request,
and refuses a candidate whose slots differ from the new prompt's:

- polarity: a negation on one side only (not, never, don't, no ..., cancel vs do not cancel);
- operations: verbs grouped in families of synonyms (delete = remove = erase, find = list =
  look up ...); each side naming a family the other lacks refuses ("delete duplicate rows" vs
  "find duplicate rows"; verifier_actions);
- antonyms that are not operations: on/off, before/after, north/south ...;
- numbers (digits and number words, "5" == "five", "1,000" == "1000"), so 5 km != 50 km;
- dates and times: months, weekdays, today/tomorrow, and relative periods read as one date
  ("last week" = "the previous week" != "this week"; "the last 7 days" != "the last week");
  a relative period on one side of an undated prompt refuses too;
- units and currencies (km vs miles, USD vs EUR), canonicalised (km == kilometres);
- named entities: capitalised words not opening a sentence, acronyms, a small gazetteer of
  places and languages that also catches lower-case "paris", and programming languages and
  well-known software named wherever they stand ("Python function ..."); the same entity
  named two ways matches (UC / University of California, Mexican / Mexico: verifier_entities);
- output format and programming language (JSON vs YAML, Python vs Go, table vs list);
- the language of the prompt itself (script, then stop-word profile for Latin scripts);
- an added clause: one side is the other plus a span of words the other does not have.

Each check returns a reason; the first failing one is reported. It is rule-based on purpose:
no model, explainable in a log line, ~50 µs of CPU to extract a news-length sentence's slots
(memoised per prompt) and ~15 µs to compare two. Its switches (e.g. whether an entity
present on one side only refuses) were tuned on the train/dev splits of STS and MRPC and
reported on held-out test splits by scripts/cache_eval.py (docs/caching.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .verifier_actions import actions as _actions
from .verifier_actions import swapped
from .verifier_entities import (ALIASES, GAZETTEER, LOWER_CASE_DEMONYMS, TECH, TECH_CAPITALISED,
                                abbreviations, entity_key, match_acronyms)

# --- vocabularies (written for this project) ---------------------------------------------------

NEGATIONS = frozenset(
    "not no never none nothing nobody nowhere neither nor without cannot cant dont doesnt didnt "
    "isnt arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt neednt "
    "n't".split()
)

# Opposites that are not operations (those are action families: verifier_actions.py).
_ANTONYM_PAIRS = """
on off|open close|opened closed|before after|above below|more less|max min|maximum minimum|
up down|win lose|won lost|include exclude|rise fall|true false|yes no|largest smallest|
biggest smallest|highest lowest|longest shortest|fastest slowest|cheapest most_expensive|
best worst|first last|oldest newest|hot cold|warm cool|high low|higher lower|larger smaller|
bigger smaller|longer shorter|faster slower|cheaper dearer|older younger|north south|east west|
left right|inside outside|input output|join leave|forward backward|positive negative|plus minus|
visible hidden|public private|ascending descending|asc desc|light dark|male female|men women|
boy girl|he she|his her|morning evening|sunrise sunset|arrival departure|arrive depart|
love hate|like dislike|push pull|agree disagree|legal illegal|possible impossible|safe unsafe|
valid invalid|gain loss|profit loss|credit debit|inbound outbound|incoming outgoing
"""
ANTONYMS: dict[str, frozenset[str]] = {}
for _pair in _ANTONYM_PAIRS.replace("\n", "").split("|"):
    _a, _b = _pair.split()
    ANTONYMS.setdefault(_a, frozenset())
    ANTONYMS.setdefault(_b, frozenset())
    ANTONYMS[_a] = ANTONYMS[_a] | {_b}
    ANTONYMS[_b] = ANTONYMS[_b] | {_a}

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "million": 1_000_000, "billion": 1_000_000_000, "dozen": 12, "half": 0.5,
    "twice": 2, "double": 2, "triple": 3, "single": 1, "once": 1,
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
}
SCALE = {"hundred": 100, "thousand": 1000, "k": 1000, "million": 1_000_000, "m": 1_000_000,
         "mn": 1_000_000, "bn": 1_000_000_000, "billion": 1_000_000_000, "trillion": 10**12}

DATE_WORDS = {
    **{m: m[:3] for m in "january february march april may june july august september october "
       "november december".split()},
    **{m: m for m in "jan feb mar apr jun jul aug sep sept oct nov dec".split()},
    **{d: d[:3] for d in "monday tuesday wednesday thursday friday saturday sunday".split()},
    **{d: d for d in "mon tue tues wed thu thur thurs fri sat sun".split()},
    "today": "today", "tonight": "today", "tomorrow": "tomorrow", "yesterday": "yesterday",
    "now": "now", "currently": "now", "weekend": "weekend", "weekday": "weekday",
    "morning": "morning", "afternoon": "afternoon", "evening": "evening", "night": "night",
    "noon": "noon", "midnight": "midnight", "daily": "daily", "weekly": "weekly",
    "monthly": "monthly", "yearly": "yearly", "annually": "yearly", "hourly": "hourly",
    "next": "next", "last": "last", "previous": "last", "past": "last", "ago": "ago",
    "spring": "spring", "summer": "summer", "autumn": "autumn", "fall": "autumn", "winter": "winter",
    "am": "am", "pm": "pm", "utc": "utc", "gmt": "utc",
}
# May, March, Sun, Sat, Wed are also ordinary words; only count them capitalised.
AMBIGUOUS_DATES = frozenset({"may", "march", "sun", "sat", "wed", "mar", "jan", "fall", "last",
                              "next", "past", "second", "now", "mon", "fri", "tue", "thu"})

# Relative time: a modifier and a period make one date ("last week" -> "last:week"), so that
# last / this / next week differ while last = previous = past, this = current and
# next = coming = upcoming match. A count or "few" makes the period plural: "the last 7 days"
# is "last:days" (the count itself is compared as a number: 7 vs 30 days refuses) and differs
# from "last:day" / "last:week".
REL_MODIFIERS = {"last": "last", "previous": "last", "past": "last", "prior": "last",
                 "this": "this", "current": "this", "next": "next", "coming": "next",
                 "upcoming": "next", "following": "next"}
REL_PERIODS = {
    **dict.fromkeys(["day", "days"], "day"), **dict.fromkeys(["week", "weeks"], "week"),
    **dict.fromkeys(["weekend", "weekends"], "weekend"), **dict.fromkeys(["month", "months"], "month"),
    **dict.fromkeys(["quarter", "quarters", "qtr"], "quarter"), **dict.fromkeys(["year", "years"], "year"),
    **dict.fromkeys(["fortnight"], "fortnight"), **dict.fromkeys(["decade", "decades"], "decade"),
    **dict.fromkeys(["hour", "hours"], "hour"), **dict.fromkeys(["semester", "term"], "term"),
    **{d: d[:3] for d in "monday tuesday wednesday thursday friday saturday sunday".split()},
    **{m: m for m in "spring summer autumn fall winter".split()},
}
_REL_FILLERS = frozenset("few several couple of fiscal financial calendar business full whole "
                         "entire".split())
_REL_SINGULAR = frozenset("of fiscal financial calendar business full whole entire one single".split())
_DAY_PARTS = frozenset({"morning", "afternoon", "evening", "night"})
# "year to date" / "YTD", "month to date" ...
_TO_DATE = {"year": "ytd", "month": "mtd", "quarter": "qtd", "week": "wtd"}
_TO_DATE_ABBR = {"ytd": "ytd", "mtd": "mtd", "qtd": "qtd", "wtd": "wtd"}
# The dates that name a period relative to now ("last:week", "yesterday", "ytd"): on one side
# only, while the other side has no date, they refuse (relative_dates_one_sided). "today",
# "now" and a vague "ago" do not: an undated question is already about now.
RELATIVE_DATES = frozenset({"tomorrow", "yesterday", "ytd", "mtd", "qtd", "wtd"})


def _relative_dates(words: list[str], dates: set[str]) -> set[int]:
    """Add relative-time dates to ``dates``; return the indices of the modifiers read."""
    used: set[int] = set()
    n = len(words)
    for i, w in enumerate(words):
        if w in _TO_DATE_ABBR:
            dates.add(_TO_DATE_ABBR[w])
            continue
        if w in _TO_DATE and i + 2 < n and words[i + 1] == "to" and words[i + 2] == "date":
            dates.add(_TO_DATE[w])
            continue
        mod = REL_MODIFIERS.get(w)
        if mod is None:
            continue
        plural = False  # "the last 7 days", "the past few weeks"
        j = i + 1
        while j < n and j <= i + 3 and (words[j] in _REL_FILLERS or words[j] in NUMBER_WORDS
                                        or words[j][:1].isdigit()):
            plural = plural or words[j] not in _REL_SINGULAR
            j += 1
        if j >= n:
            continue
        nxt = words[j].removesuffix("'s")  # "last week's sales"
        if j == i + 1 and mod == "this" and nxt in _DAY_PARTS:  # "this morning" is today
            dates.add("today")
            used.add(i)
            continue
        if j == i + 1 and mod == "last" and nxt == "night":
            dates.update(("yesterday", "night"))
            used.add(i)
            continue
        period = REL_PERIODS.get(nxt)
        if period is None:
            continue
        plural = plural or (nxt.endswith("s") and nxt[:-1] in REL_PERIODS)
        dates.add(f"{mod}:{period}{'s' if plural else ''}")
        used.add(i)
    return used


def _is_relative(d: str) -> bool:
    return d in RELATIVE_DATES or ":" in d

UNITS = {
    **dict.fromkeys(["km", "kms", "kilometer", "kilometers", "kilometre", "kilometres"], "km"),
    **dict.fromkeys(["m", "meter", "meters", "metre", "metres"], "m"),
    **dict.fromkeys(["cm", "centimeter", "centimeters", "centimetre", "centimetres"], "cm"),
    **dict.fromkeys(["mm", "millimeter", "millimeters", "millimetre", "millimetres"], "mm"),
    **dict.fromkeys(["mi", "mile", "miles"], "mile"),
    **dict.fromkeys(["ft", "foot", "feet"], "ft"),
    **dict.fromkeys(["in", "inch", "inches"], "inch"),
    **dict.fromkeys(["yd", "yard", "yards"], "yard"),
    **dict.fromkeys(["kg", "kgs", "kilogram", "kilograms", "kilo", "kilos"], "kg"),
    **dict.fromkeys(["g", "gram", "grams", "gramme", "grammes"], "g"),
    **dict.fromkeys(["mg", "milligram", "milligrams"], "mg"),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds"], "lb"),
    **dict.fromkeys(["oz", "ounce", "ounces"], "oz"),
    **dict.fromkeys(["t", "ton", "tons", "tonne", "tonnes"], "ton"),
    **dict.fromkeys(["l", "liter", "liters", "litre", "litres"], "l"),
    **dict.fromkeys(["ml", "milliliter", "milliliters", "millilitre", "millilitres"], "ml"),
    **dict.fromkeys(["gal", "gallon", "gallons"], "gallon"),
    **dict.fromkeys(["c", "celsius", "centigrade", "°c"], "celsius"),
    **dict.fromkeys(["f", "fahrenheit", "°f"], "fahrenheit"),
    **dict.fromkeys(["kelvin"], "kelvin"),
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], "s"),
    **dict.fromkeys(["min", "mins", "minute", "minutes"], "min"),
    **dict.fromkeys(["h", "hr", "hrs", "hour", "hours"], "h"),
    **dict.fromkeys(["day", "days"], "day"),
    **dict.fromkeys(["week", "weeks"], "week"),
    **dict.fromkeys(["month", "months"], "month"),
    **dict.fromkeys(["year", "years", "yr", "yrs"], "year"),
    **dict.fromkeys(["mph"], "mph"), **dict.fromkeys(["kph", "km/h", "kmh"], "kmh"),
    **dict.fromkeys(["kb", "kilobyte", "kilobytes"], "kb"),
    **dict.fromkeys(["mb", "megabyte", "megabytes"], "mb"),
    **dict.fromkeys(["gb", "gigabyte", "gigabytes"], "gb"),
    **dict.fromkeys(["tb", "terabyte", "terabytes"], "tb"),
    **dict.fromkeys(["%", "percent", "per cent", "percentage"], "%"),
    **dict.fromkeys(["$", "usd", "dollar", "dollars", "us$"], "usd"),
    **dict.fromkeys(["€", "eur", "euro", "euros"], "eur"),
    **dict.fromkeys(["£", "gbp", "sterling"], "gbp"),
    **dict.fromkeys(["¥", "jpy", "yen"], "jpy"),
    **dict.fromkeys(["chf", "franc", "francs"], "chf"),
    **dict.fromkeys(["inr", "rupee", "rupees"], "inr"),
    **dict.fromkeys(["btc", "bitcoin", "bitcoins"], "btc"),
    **dict.fromkeys(["w", "watt", "watts"], "w"), **dict.fromkeys(["kw", "kilowatt", "kilowatts"], "kw"),
    **dict.fromkeys(["kwh"], "kwh"), **dict.fromkeys(["v", "volt", "volts"], "v"),
    **dict.fromkeys(["hz", "hertz"], "hz"), **dict.fromkeys(["ghz"], "ghz"), **dict.fromkeys(["mhz"], "mhz"),
    **dict.fromkeys(["acre", "acres"], "acre"), **dict.fromkeys(["hectare", "hectares", "ha"], "ha"),
    **dict.fromkeys(["calorie", "calories", "kcal", "cal"], "kcal"),
}
# Single letters and ordinary words count as units only right after a number ("5 m", "3 in").
WEAK_UNITS = frozenset({"m", "s", "h", "g", "c", "f", "t", "l", "w", "v", "in", "min", "second",
                        "day", "days", "week", "weeks", "month", "months", "year", "years", "ha",
                        "cal", "pound", "pounds", "franc", "francs", "mi", "ft"})

FORMATS = {
    **dict.fromkeys(["json", "jsonl"], "json"), "yaml": "yaml", "yml": "yaml", "xml": "xml",
    "csv": "csv", "tsv": "tsv", "html": "html", "markdown": "markdown", "md": "markdown",
    "table": "table", "tabular": "table", "bullet": "list", "bullets": "list", "bulleted": "list",
    "list": "list", "numbered": "list", "paragraph": "prose", "essay": "prose", "poem": "poem",
    "haiku": "haiku", "limerick": "poem", "sonnet": "poem", "tweet": "tweet", "email": "email",
    "letter": "letter", "summary": "summary", "summarize": "summary", "summarise": "summary",
    "tldr": "summary", "outline": "outline", "diagram": "diagram", "chart": "chart", "graph": "chart",
    "sql": "sql", "regex": "regex", "latex": "latex", "pdf": "pdf", "slides": "slides",
    "python": "python", "java": "java", "javascript": "javascript", "js": "javascript",
    "typescript": "typescript", "ts": "typescript", "go": "go", "golang": "go", "rust": "rust",
    "ruby": "ruby", "php": "php", "c++": "cpp", "cpp": "cpp", "c#": "csharp", "csharp": "csharp",
    "kotlin": "kotlin", "swift": "swift", "scala": "scala", "bash": "bash", "shell": "bash",
    "powershell": "powershell", "r": "r", "matlab": "matlab", "perl": "perl", "haskell": "haskell",
    "lua": "lua", "dart": "dart", "elixir": "elixir", "julia": "julia", "zig": "zig",
    "short": "short", "brief": "short", "concise": "short", "detailed": "long", "long": "long",
    "formal": "formal", "informal": "casual", "casual": "casual",
}
# "go", "r", "list", "table", "letter", "long", "short", "swift", "rust", "graph", "chart" and a
# few more are everyday words: they only count as a format near a format verb or preposition.
WEAK_FORMATS = frozenset({"go", "r", "list", "table", "letter", "long", "short", "swift", "rust",
                          "graph", "chart", "shell", "julia", "dart", "ruby", "java", "summary",
                          "brief", "outline", "formal", "casual", "informal", "detailed", "email",
                          "paragraph", "numbered", "ts", "js", "md", "scala", "lua", "perl",
                          "python", "slides", "pdf", "concise", "tweet", "diagram", "essay",
                          "poem", "elixir", "zig"})
_VERB_FORMATS = frozenset({"go", "long", "short", "brief"})
_FORMAT_CUES = frozenset("in as into to using with write code program script format output "
                         "return give generate produce respond answer convert translate "
                         "implement make create".split())

# Capitalised words that are not entities in a request.
NOT_ENTITIES = frozenset("""
i i'm i've i'd i'll a an the what which who whom whose when where why how is are was were
do does did can could would should will shall may might must please tell give show list
explain describe write make create find get let help hi hello hey thanks thank yes no ok
okay mr mrs ms dr prof sir madam president minister senator governor mayor king queen prince
st saint chief ceo the and or but if then so also in on at of for to from by with about
it its this that these those my your our their his her we you they he she there here
""".split())

STOPWORDS = {
    "en": frozenset("the a an and is are of to in that it for with on as was be this have what how "
                    "by at from".split()),
    "fr": frozenset("le la les et est des un une du que qui dans pour pas sur au avec ce je vous "
                    "comment quelle quel où c'est nous très mais".split()),
    "de": frozenset("der die das und ist nicht ein eine zu den mit von sich ich sie es wie auf fur".split()),
    "es": frozenset("el la los las y es de que en un una por con para no se lo como mi al del "
                    "qué cuál cómo dónde está".split()),
    "it": frozenset("il lo la gli le e di che un una per non con sono come mi del della".split()),
    "pt": frozenset("o a os as e de que em um uma para com nao se do da como meu por".split()),
    "nl": frozenset("de het een en is van dat niet ik je met op te zijn voor hoe wat".split()),
}

_STOP_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _sw in STOPWORDS.items():
    for _w in _sw:
        _STOP_LANGS[_w] = _STOP_LANGS.get(_w, ()) + (_lang,)

_WORD = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W_]+(?:['’][^\W_]+)*|[$€£¥%°]|c\+\+|c#", re.UNICODE)
_NUM = re.compile(
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:st|nd|rd|th)?(?![\w])"
    r"|(?<![\w.])[-+]?\.\d+(?![\w])"
    r"|(?<![A-Za-z])\d+(?:[.,]\d+)?(?=[A-Za-z%°$€£]{1,5}\b)",  # 5km, 10%, 3pm
    re.UNICODE,
)
_SCALED = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)[\s-]?(hundred|thousand|million|billion|trillion|bn|mn|k|m)\b",
    re.IGNORECASE,
)
_PER_CENT = re.compile(r"\bper\s+cent\b", re.IGNORECASE)
_DIGITS = re.compile(r"[-+]?[\d.,]+")
_NUM_START = frozenset("0123456789+-.,")
_NUM_UNIT = re.compile(r"\d(?:[\d.,]*)\s?([a-zA-Z°%$€£]{1,5})\b")
_WORD_NEXT = re.compile(r"\s+[A-Za-z]")  # "in Alabama": a word follows, so "in" is not inches
_CAP = re.compile(r"\b([A-Z][\w'’&.-]*[\w]|[A-Z])\b")


def _fold(tok: str) -> str:
    return tok.lower().replace("’", "'")


@dataclass(frozen=True, slots=True)
class Verdict:
    accept: bool
    reason: str = "ok"

    def __bool__(self) -> bool:
        return self.accept


@dataclass(frozen=True)
class Slots:
    """What the verifier extracts from one prompt."""

    words: tuple[str, ...]
    negations: int
    numbers: frozenset[str]
    dates: frozenset[str]
    units: frozenset[str]
    entities: frozenset[str]
    weak_entities: frozenset[str]  # capitalised sentence openers that are not common words
    raw_tokens: tuple[str, ...]  # as written: acronym expansions are read from them when needed
    abbreviations: frozenset[str]  # "rep" for "Rep."
    formats: frozenset[str]
    language: str
    wordset: frozenset[str]
    actions: frozenset[str]  # operation families: delete, find, create ... (verifier_actions)


def _canon_number(raw: str) -> str:
    s = raw.replace(",", "").lstrip("+")
    m = re.match(r"^(-?[\d.]+)(st|nd|rd|th)?$", s)
    if not m:
        return s
    num, suffix = m.groups()
    try:
        v = float(num)
    except ValueError:
        return s
    out = str(int(v)) if v.is_integer() else repr(v)
    return out + ("th" if suffix else "")


def _canon_ordinal(v: str) -> str:
    return v[:-2] + "th" if v[-2:] in ("st", "nd", "rd", "th") else v


_SCRIPTS = (("cyrillic", re.compile("[\u0400-\u04ff]")),
            ("cjk", re.compile("[\u4e00-\u9fff\u3040-\u30ff]")),
            ("hangul", re.compile("[\uac00-\ud7af]")),
            ("arabic", re.compile("[\u0600-\u06ff]")),
            ("hebrew", re.compile("[\u0590-\u05ff]")),
            ("devanagari", re.compile("[\u0900-\u097f]")),
            ("greek", re.compile("[\u0370-\u03ff]")))


def _language(words: list[str], text: str) -> str:
    if not text.isascii():
        for name, script in _SCRIPTS:
            if script.search(text):
                return name
    counts = dict.fromkeys(STOPWORDS, 0)
    for w in words:
        for lang in _STOP_LANGS.get(w, ()):
            counts[lang] += 1
    best = max(counts, key=counts.__getitem__)
    second = max(v for k, v in counts.items() if k != best)
    if counts[best] >= 2 and counts[best] > 1.25 * second:
        return best
    return "?"


@lru_cache(maxsize=4096)
def extract(text: str) -> Slots:
    """The slots of one prompt (memoised: a cached prompt is verified many times)."""
    text = _PER_CENT.sub("percent", text)  # two words for one unit
    raw_tokens = _WORD.findall(text.replace("’", "'"))
    words = [t.lower() for t in raw_tokens]
    # negation: explicit words and n't contractions
    neg = 0
    for w in words:
        if w in NEGATIONS or w.endswith("n't"):
            neg += 1
    # numbers: digits, then number words (with a scale word: "5 million" -> 5000000)
    numbers: set[str] = set()
    for m in _NUM.finditer(text):
        numbers.add(_canon_ordinal(_canon_number(m.group(0))))
    for i, w in enumerate(words):
        v = NUMBER_WORDS.get(w)
        if v is None:
            continue
        if w in SCALE and i > 0 and _DIGITS.fullmatch(words[i - 1]):
            continue  # "5 million": the product is recorded below
        if i + 1 < len(words) and words[i + 1] in SCALE and w not in SCALE and isinstance(v, int):
            numbers.add(_canon_number(str(v * SCALE[words[i + 1]])))  # "four million"
            continue
        if w in SCALE and i > 0 and words[i - 1] in NUMBER_WORDS and words[i - 1] not in SCALE:
            continue
        if w in ("second", "once", "single", "half", "double") and not (
            i + 1 < len(words) and words[i + 1] in UNITS
        ):
            continue  # "a second opinion", "at once": not numbers
        numbers.add(v if isinstance(v, str) else _canon_number(str(v)))
    # "5 million", "4.4 billion", "38-million": also record the product, so it matches
    # "5,000,000" (read from the text: the word tokens split "43.63" into "43" and "63")
    for m in _SCALED.finditer(text):
        base = m.group(1).replace(",", "")
        try:
            numbers.add(_canon_number(str(float(base) * SCALE[m.group(2).lower()])))
        except (ValueError, KeyError):
            continue
        numbers.discard(_canon_number(base))
    numbers.discard(_canon_number(str(SCALE.get("hundred"))))  # "hundreds" of ... is vague
    # dates
    dates: set[str] = set()
    rel_used = _relative_dates(words, dates)
    for i, (raw, w) in enumerate(zip(raw_tokens, words)):
        d = DATE_WORDS.get(w.removesuffix("'s"))  # "tomorrow's weather"
        if d is None or i in rel_used:
            continue
        if w in AMBIGUOUS_DATES and not raw[:1].isupper():
            continue
        dates.add(d)
    # units: strong unit words anywhere; weak ones only right after a number
    units: set[str] = set()
    prev_num = False
    for raw, w in zip(raw_tokens, words):
        u = UNITS.get(w)
        if u is not None and (w not in WEAK_UNITS or prev_num) and w != "in":
            units.add(u)
        prev_num = w in NUMBER_WORDS or (raw[0] in _NUM_START and bool(_DIGITS.fullmatch(raw)))
    for m in _NUM_UNIT.finditer(text):
        u = UNITS.get(m.group(1).lower())
        if u and not (u == "inch" and _WORD_NEXT.match(text, m.end())):  # "in 2000, in which"
            units.add(u)
    for sym in "$€£¥%":
        if sym in text:
            units.add(UNITS[sym])
    # formats
    formats: set[str] = set()
    for i, w in enumerate(words):
        f = FORMATS.get(w)
        if f is None:
            continue
        if w in WEAK_FORMATS:
            ctx = set(words[max(0, i - 3):i])
            if w in _VERB_FORMATS:  # "to go on trial", "as long as"
                ctx -= {"to", "as"}
                if i + 1 < len(words) and words[i + 1] in ("as", "on", "ahead", "back", "out"):
                    continue
            if not ctx & _FORMAT_CUES:
                continue
        formats.add(f)
    # entities: capitalised words not opening a sentence, acronyms, gazetteer hits
    entities: set[str] = set()
    weak: set[str] = set()
    sentence_start = True
    for raw, w in zip(raw_tokens, words):
        if w in TECH or (w in TECH_CAPITALISED and raw[:1].isupper()):
            entities.add(w)  # "Python function ...": a name wherever it stands
            if w in FORMATS:
                formats.add(FORMATS[w])
            sentence_start = False
            continue
        if raw[:1].isupper() and sentence_start and w not in NOT_ENTITIES and w not in DATE_WORDS \
                and w not in GAZETTEER and w not in LOWER_CASE_DEMONYMS and w not in NEGATIONS:
            weak.add(w.removesuffix("'s"))
        if raw[:1].isupper() and not sentence_start and w not in NOT_ENTITIES and w not in DATE_WORDS:
            entities.add(entity_key(w.removesuffix("'s")))
        elif raw.isupper() and len(raw) >= 2 and w not in NOT_ENTITIES and w not in UNITS:
            entities.add(w)
        elif (w in GAZETTEER or w in LOWER_CASE_DEMONYMS) and w not in DATE_WORDS:
            entities.add(entity_key(w))
        sentence_start = raw in (".", "!", "?") or False
    for m in re.finditer(r"(?:^|[.!?:;]\s+|\n)[\"'“(]*([A-Z][\w'’]*)(?!\.[A-Za-z])", text):
        w = _fold(m.group(1)).removesuffix("'s")
        if w not in NOT_ENTITIES and w not in DATE_WORDS and w not in NEGATIONS and w not in entities:
            weak.add(w)
    weak -= entities
    lang = _language(words, text)
    return Slots(tuple(words), neg, frozenset(numbers), frozenset(dates), frozenset(units),
                 frozenset(entities), frozenset(weak), tuple(raw_tokens), abbreviations(text),
                 frozenset(formats), lang,
                 frozenset(words) | {ALIASES.get(w, w) for w in words}, _actions(words))


def _unmatched(xs: frozenset[str], other: Slots, abbrevs: frozenset[str] = frozenset()) -> set[str]:
    """Entities of one side the other side does not mention (a 3+ letter prefix match counts:
    Tim / Timothy; so does an abbreviation written with a dot opening any word: Rep. /
    representative)."""
    other_words, other_ents = other.wordset, other.entities | other.weak_entities
    out = set()
    for e in xs:
        if e in other_words:
            continue
        if len(e) >= 3 and any(o.startswith(e) or e.startswith(o) for o in other_ents if len(o) >= 3):
            continue
        if e in abbrevs and any(len(o) > len(e) + 1 and o.startswith(e) for o in other_words):
            continue
        out.add(e)
    return out


@dataclass
class VerifierConfig:
    """Switches tuned on train/dev splits (scripts/cache_eval.py --tune)."""

    negation: bool = True
    antonyms: bool = True
    numbers: bool = True
    numbers_one_sided: bool = False  # a number on one side only refuses
    # A number added on one side while every number of the other side is matched is a
    # dropped detail (as a one-sided number is), not a substitution: 5 km vs 50 km still
    # refuses (each side has a number the other lacks).
    numbers_added_ok: bool = True
    dates: bool = True
    dates_one_sided: bool = False    # a date on one side only refuses
    # A date added to a matched one ("Sunday" vs "Sunday night") is a detail; "today" vs
    # "Monday" still refuses (each side has a date the other lacks).
    dates_added_ok: bool = True
    # A relative time ("last week", "yesterday", "year to date") on one side while the other
    # side has no date at all refuses: the undated prompt's answer may cover any period.
    relative_dates_one_sided: bool = True
    units: bool = True
    # Units of one side all found on the other (a unit dropped with its number, "25 miles
    # north of" vs "north of"); km vs kg still refuses.
    units_added_ok: bool = True
    entities: bool = True
    entities_one_sided: bool = False  # an extra entity on one side only refuses
    sentence_initial_entities: bool = True  # count capitalised openers against a real entity
    acronyms: bool = True  # an acronym matches the initials of capitalised words opposite
    actions: bool = True  # operations of different families (delete vs find) refuse
    formats: bool = True
    language: bool = True
    # Above this similarity, one-sided entity additions are tolerated (the embedding has
    # already seen that both texts name the same things); below it they refuse.
    entity_addition_ok_above: float = 0.0
    # Refuse when more than this share of the two texts' content words appear on one side
    # only (1.0 = off): a request that adds or swaps a clause asks for more or other things.
    max_novel_ratio: float = 1.0
    # Refuse when one side holds a run of more than this many content words the other side
    # does not have (0 = off): an added clause ("... and the spending limits that come with
    # it") asks for more than the cached prompt answered. Function words neither count nor
    # break a run; a content word both sides share ends it.
    max_added_run: int = 0
    # Refuse when one side is the other plus a clause: it holds a span of more than
    # ``max_added_span`` words (any words; a shared content word ends the span, a shared
    # function word is skipped) while at least ``added_span_coverage`` of the other side's
    # content words are found in it ("... in the latest incident to embarrass the academy").
    # 0 = off. Without the coverage condition a reworded paraphrase would refuse too.
    max_added_span: int = 5
    added_span_coverage: float = 0.8


class Verifier:
    """accept / refuse a cached prompt for a new one, with a reason."""

    def __init__(self, config: VerifierConfig | None = None) -> None:
        self.config = config or VerifierConfig()

    def verify(self, new: str, cached: str, similarity: float | None = None) -> Verdict:
        if new == cached:
            return Verdict(True, "identical")
        c = self.config
        a, b = extract(new), extract(cached)
        if c.language and a.language != b.language and "?" not in (a.language, b.language):
            return Verdict(False, f"language {a.language} != {b.language}")
        if c.negation and (a.negations % 2) != (b.negations % 2):
            return Verdict(False, "negation")
        if c.antonyms:
            for w in a.wordset - b.wordset:
                opp = ANTONYMS.get(w)
                if opp and (opp & b.wordset) - a.wordset:
                    return Verdict(False, f"antonym {w}/{next(iter(opp & b.wordset))}")
        if c.actions and a.actions != b.actions and swapped(a.actions, b.actions):
            return Verdict(False, "action " + _diff(a.actions, b.actions))
        if c.numbers and a.numbers != b.numbers:
            if c.numbers_one_sided or (a.numbers and b.numbers and not (
                    c.numbers_added_ok and (a.numbers <= b.numbers or b.numbers <= a.numbers))):
                return Verdict(False, "numbers " + _diff(a.numbers, b.numbers))
        if c.dates and a.dates != b.dates and (c.dates_one_sided or (a.dates and b.dates)):
            if not (c.dates_added_ok and a.dates and b.dates and (a.dates <= b.dates or b.dates <= a.dates)):
                return Verdict(False, "dates " + _diff(a.dates, b.dates))
        if c.dates and c.relative_dates_one_sided and not (a.dates and b.dates) and (
                any(map(_is_relative, a.dates | b.dates))):
            return Verdict(False, "relative date " + _diff(a.dates, b.dates))
        if c.units and a.units != b.units:
            if not (c.units_added_ok and (a.units <= b.units or b.units <= a.units)):
                return Verdict(False, "units " + _diff(a.units, b.units))
        if c.formats and a.formats != b.formats:
            return Verdict(False, "format " + _diff(a.formats, b.formats))
        if c.entities and (a.entities != b.entities or c.sentence_initial_entities):
            only_a = _unmatched(a.entities, b, a.abbreviations)
            only_b = _unmatched(b.entities, a, b.abbreviations)
            if c.acronyms:  # UC / University of California
                if only_a:
                    match_acronyms(only_a, only_b, b.raw_tokens)
                if only_b:
                    match_acronyms(only_b, only_a, a.raw_tokens)
            if c.sentence_initial_entities and (only_a or only_b) and not (only_a and only_b):
                # "Bush gets zero credit" vs "And, Obama gets zero credit"
                if only_a:
                    only_b = _unmatched(b.weak_entities, a, b.abbreviations)
                else:
                    only_a = _unmatched(a.weak_entities, b, a.abbreviations)
            if only_a and only_b:
                return Verdict(False, "entities " + _diff(frozenset(only_a), frozenset(only_b)))
            if (only_a or only_b) and c.entities_one_sided and not (
                similarity is not None and similarity >= c.entity_addition_ok_above > 0
            ):
                return Verdict(False, "entities " + _diff(frozenset(only_a), frozenset(only_b)))
        if c.max_added_run > 0:
            run = max(_added_run(a.words, b.wordset), _added_run(b.words, a.wordset))
            if run > c.max_added_run:
                return Verdict(False, f"added clause of {run} words")
        if c.max_added_span > 0:
            for x, y in ((a, b), (b, a)):  # x = y + a clause?
                span = _added_span(x.words, y.wordset)
                if span > c.max_added_span and _coverage(y, x) >= c.added_span_coverage:
                    return Verdict(False, f"added clause of {span} words")
        if c.max_novel_ratio < 1.0:
            ca, cb = _content(a.wordset), _content(b.wordset)
            union = ca | cb
            if union and len(ca ^ cb) / len(union) > c.max_novel_ratio:
                return Verdict(False, f"content {len(ca ^ cb)}/{len(union)} words differ")
        return Verdict(True)


_FUNCTION_WORDS = frozenset().union(*STOPWORDS.values(), NOT_ENTITIES, {
    "would", "could", "has", "had", "have", "been", "being", "into", "than", "over", "after",
    "said", "says", "also", "just", "very", "really", "some", "any", "all", "each", "such"})


def _content(words: frozenset[str]) -> frozenset[str]:
    out = set()
    for w in words:
        if w in _FUNCTION_WORDS or len(w) < 3 or w in NEGATIONS:
            continue
        out.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)
    return frozenset(out)


def _added_run(words: tuple[str, ...], other: frozenset[str]) -> int:
    """Longest run of content words absent from ``other`` (function words skipped)."""
    best = cur = 0
    for w in words:
        if w in _FUNCTION_WORDS or w in NEGATIONS or len(w) < 3:
            continue
        if w in other or (w.endswith("s") and w[:-1] in other) or (w + "s") in other:
            cur = 0
            continue
        cur += 1
        best = max(best, cur)
    return best


_REQUEST_FILLER = frozenset("please kindly could would can will you me tell i i'd i'm want need like "
                            "know help let just quick question hi hello hey thanks thank to "
                            "wondering wonder".split())


def _coverage(y: Slots, x: Slots) -> float:
    """Share of y's content words that x has too."""
    cy = _content(y.wordset)
    return len(cy & _content(x.wordset)) / len(cy) if cy else 1.0


def _added_span(words: tuple[str, ...], other: frozenset[str]) -> int:
    """Longest span of words adding nothing the other side has: a shared content word ends it,
    a shared function word neither counts nor ends it."""
    best = cur = 0
    for w in words:
        if w in _REQUEST_FILLER:
            continue  # "could you please tell me" adds no question
        shared = w in other or (w.endswith("s") and w[:-1] in other) or (w + "s") in other
        if shared:
            if not (w in _FUNCTION_WORDS or w in NEGATIONS or len(w) < 3):
                cur = 0
            continue
        cur += 1
        best = max(best, cur)
    return best


def _diff(x: frozenset[str], y: frozenset[str]) -> str:
    return f"{sorted(x - y)} vs {sorted(y - x)}"
