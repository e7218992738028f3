"""The verifier's vocabularies, written for this project: negations, antonyms, number and
date words (and the reading of relative periods such as "last week"), units, output formats,
words that are never entities, and stop-word profiles for telling languages apart."""
from __future__ import annotations

NEGATIONS = frozenset(
    "not no never none nothing nobody nowhere neither nor without cannot cant dont doesnt didnt "
    "isnt arent wasnt werent wont wouldnt shouldnt couldnt hasnt havent hadnt mustnt neednt "
    "n't non unable unsure".split()  # "non": what is left of "non-refundable" once the hyphen splits it;
)  # "unable" / "unsure" say "not able" / "not sure": "I can't use my card" = "I'm unable to use my card"

# A word made of one of these and a word the other prompt has, alone, is its opposite:
# undamaged/damaged, unpaid/paid, inactive/active, disconnect/connect. Where the pair is not
# an opposite (inform/form) the words still differ, so refusing costs one miss at most.
NEGATING_PREFIXES = ("un", "non", "in", "im", "il", "ir", "dis")
NEGATED_STEM_MIN = 4  # shorter stems are too often a plain word's ending (undo/do, index/dex)

# Opposites that are not operations (those are action families: verifier_actions.py).
_ANTONYM_PAIRS = """
on off|open close|opened closed|before after|above below|more less|max min|maximum minimum|
up down|win lose|won lost|include exclude|rise fall|true false|yes no|largest smallest|
biggest smallest|highest lowest|longest shortest|fastest slowest|cheapest expensive|cheaper expensive|
best worst|first last|oldest newest|hot cold|warm cool|high low|higher lower|larger smaller|
bigger smaller|longer shorter|faster slower|cheaper dearer|older younger|north south|east west|
left right|inside outside|input output|join leave|forward backward|positive negative|plus minus|
visible hidden|public private|ascending descending|asc desc|light dark|male female|men women|
boy girl|he she|his her|morning evening|sunrise sunset|arrival departure|arrive depart|
love hate|like dislike|push pull|agree disagree|legal illegal|possible impossible|safe unsafe|
valid invalid|gain loss|profit loss|credit debit|inbound outbound|incoming outgoing|
top bottom|near far|into out|to from|my your|onto off|towards away|toward away|wet dry|full empty|big small|
large small|huge tiny|huge small|thick thin|heavy light|early late|day night|young old|sitting standing|
sit stand|entrance exit|enter exit|domestic international|domestic overseas|local remote|
better worse|easier harder|easiest hardest|stronger weaker|strongest weakest|richer poorer|
richest poorest|safer riskier|safest riskiest|cheap expensive|easy hard|easy difficult|
popular unpopular|most least|advantages disadvantages|pros cons|benefits drawbacks|benefits risks
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
