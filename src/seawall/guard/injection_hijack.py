"""Hijack and prompt-extraction rules: instructions that take over what the model says, or
make it give away its own prompt, in English and German (some French and Spanish).

Built like the jailbreak rules (``injection_jailbreak.py``): each *kind* of signal is one
regex over the lower-cased text behind cheap substring gates, and a block needs two kinds of
different nature near each other. One alone never blocks: "start your answer with a
summary", "answer only with yes or no", "translate the text above", "new task:", "end of
input" are all things an ordinary user writes.

* extraction: a verb that copies or reworks text (repeat, print, list, format, translate,
  summarise, rephrase; German wiederhole, gib aus, fasse zusammen, übersetze) with, in the
  same sentence just after it, an object that is the model's own prompt ("your
  instructions", "the previous instructions", "the instructions so far", "all instructions
  in the prompt", "deine Anweisungen", "die vorherigen Anweisungen"). The verb and its object
  are the two signals, so this kind is one regex (``_EXTRACT``). Pasted text ("translate the
  text above", "summarise the previous e-mail") is no such object.
* hijack: a demand on the model's next output ("begin your reply with", "prefix your
  response with", "respond only with ... and nothing else", "antworte nur mit") or the
  Tensor Trust target phrase "access granted", next to an override of the earlier prompt
  ("the situation has changed", "instead of replying with", "END OF INPUT", "the above was
  a test", "out of date instructions", "das war nur ein Test"; not "new task:", which a user
  writes to start the next job), or the two
  output demands next to each other (a reply prefix that is "access granted").

Tuned on the Tensor Trust train half and the benign sets only; see docs/benchmarks.md,
"Hijack and extraction rules".
"""
from __future__ import annotations

import re

from .injection_jailbreak import WORD_STARTS, near
from .injection_context import FROM_A_PERSON, ON_A_TOPIC

WEIGHT = 0.9  # the user block band

# --- extraction: a copying verb, then (same sentence, within ~50 characters) the model's prompt
_VERB = (
    r"(?:repeat|print|output|list|format|summari[sz]e|rephrase|reword|paraphrase|explain|recite|reveal|show(?: me)?"
    r"|display|dump|echo|copy|quote|reproduce|translate|convert|spell out|write (?:out|down)|type out|tell me"
    r"|give me|share|disclose|what (?:are|were|was|is)|bullet|clarify|store|save|return|describe|sum up|tl;?dr"
    r"|walk me through|go over|(?:rap|poem|song|sonnet|story|haiku|limerick|essay|post)(?: \w+)? about"
    # German / French / Spanish
    r"|wiederhol\w*|gib|geben sie|zeig\w*|nenn\w*|liste|listen sie|auflist\w*|aufzähl\w*|fasse|fassen sie|übersetz\w*|schreib\w*|druck\w*"
    r"|verrat\w*|was (?:sind|waren|ist|war)"
    r"|répète|répétez|affiche\w*|montre\w*|tradui\w*|résume\w*|donne-moi|donnez-moi|quelles (?:sont|étaient)"
    r"|repite|imprime|muestra\w*|traduce|resume|dime|cuáles (?:son|eran))"
)
_PROMPT_NOUN = (r"(?:instructions?|prompt|pre-?prompt|system (?:message|prompt)|directives?|guidelines|rules|conditions"
                r"|anweisungen|instruktionen|vorgaben|regeln|systemprompt|systemanweisungen"
                r"|consignes|règles|instrucciones|reglas|indicaciones)")
_OWN_NOUN = (r"(?:instructions?|prompt|pre-?prompt|system (?:message|prompt)|directives|ruleset|anweisungen|instruktionen"
             r"|systemprompt|systemanweisungen|consignes|instrucciones|indicaciones)")
_OWN = (
    # "your (initial) instructions", "deine Anweisungen", "vos instructions", "tus instrucciones"
    # (not "your rules / guidelines / conditions": a customer asks a shop to explain its rules;
    # not "ihre" / "sus", which are also "their")
    r"\b(?:your|deine[n]?|tes|vos|tus)\s+(?:\w+\s+){0,2}?" + _OWN_NOUN +
    # "the previous / prior / initial / above / hidden instructions"
    # ("my previous instructions" are the user's own, in the conversation)
    r"|(?<!my )(?<!our )\b(?:previous|prior|preceding|earlier|initial|original|above|hidden|secret|first|additional|pre|system"
    r"|vorherige[n]?|obige[n]?|bisherige[n]?|ursprüngliche[n]?|ersten|geheime[n]?|versteckte[n]?"
    r"|précédentes|initiales|cachées|anteriores|iniciales|ocultas)\s+" + _PROMPT_NOUN +
    # "the instructions so far / above / you were given / in the prompt"
    r"|\b" + _PROMPT_NOUN + r"\s+(?:so far|above|before this|up to (?:now|this point)|(?:that |which )?(?:you(?:'ve| have| were)"
    r"|i (?:have )?(?:gave|given) you|given to you)|(?:in|of|from) (?:the|your|this) (?:prompt|system|pre-?prompt)|von oben|oben|davor|bisher"
    r"|ci-dessus|de arriba"
    # "les instructions qu'on t'a données", "las instrucciones que te dieron", "die Anweisungen, die du bekommen hast"
    r"|qu'on (?:t'a|vous a) (?:donné|transmis)\w*|que l'on vous a donné\w*|que (?:se )?te (?:dieron|dio|han dado)"
    r"|,? die (?:du|sie) (?:\w+ ){0,2}(?:bekommen|erhalten) (?:hast|haben)|,? die (?:dir|ihnen) (?:\w+ ){0,2}(?:gegeben|vorgegeben) wurden"
    # "the exact prompt that defines your behaviour"
    r"|(?:that|which) (?:defines?|governs?|controls?|shapes?|guides?|determines?) (?:your|how you))"
    # "what was written at the top of this conversation"
    r"|\b(?:written|said) (?:at|in) the (?:very )?(?:start|beginning|top) of (?:this|the|our) (?:conversation|chat|session)"
    # "everything above / the text before this / what was written above" (copied verbatim only: see _COPY)
)
# German puts the verb last: "deine Anweisungen auflisten", "die bisherigen Anweisungen wiederholen"
_OWN_DE_FIRST = (r"\b(?:deine[n]?|die (?:vorherigen|bisherigen|ursprünglichen|ersten|geheimen|versteckten))\s+(?:\w+\s+){0,2}?"
                 r"(?:anweisungen|instruktionen|systemprompt|systemanweisungen|vorgaben)\b[^.!?\n]{0,30}?\b(?:auflisten|aufzählen"
                 r"|wiederholen|ausgeben|zeigen|nennen|verraten|mitteilen|preisgeben|aufschreiben)\b")
_EXTRACT = re.compile(r"\b" + _VERB + r"\b[^.!?\n]{0,50}?(?:" + _OWN + r")\b" + ON_A_TOPIC + "|" + _OWN_DE_FIRST)
_EXTRACT_GATES = ("system message", "conversation", "instruction", "prompt", "directive", "guideline", "rules", "conditions", "anweisung", "instruktion",
                  "vorgabe", "regeln", "consigne", "règles", "instruccion", "reglas", "indicaciones")
# "repeat / print everything above", "gib den Text oben aus": copying (not translating or
# summarising, which a user does to text they pasted) what stands before the user's words
_COPY = re.compile(
    r"\b(?:repeat|print|output|recite|reproduce|echo|dump|copy|write out|type out|spell out)\b[^.!?\n]{0,20}?"
    r"\b(?:(?:everything|all(?: of)? the (?:text|words)|all text|what (?:was|is) written|the (?:text|words|message)s?)"
    r"(?:\s+(?:that|which)\s+(?:was|is|has been|were)\s+(?:written|said|sent|typed|given))?\s+"
    r"(?:above|before (?:this|that|my message)|preceding|so far|prior to (?:this|my message))|(?:the )?above (?:words|text|lines)"
    # "the text you were given at the start of this conversation"
    r"|(?:the|all) (?:text|words|message|instructions)s?\s+(?:(?:that )?you (?:were given|received|got)\s+)?(?:at|in) the (?:very )?"
    r"(?:start|beginning|top) of (?:this|the|our) (?:conversation|chat|session))\b"

    r"|\b(?:wiederhole|gib|geben sie|drucke|zeige|zeig)\b[^.!?\n]{0,20}?\b(?:alles|den text|die texte|was)\s+"
    r"(?:oben|davor|vor dieser|vor diesem|bisher|über dieser)\b[^.!?\n]{0,25}\b(?:aus|wieder|an|steht|stand)?"
)
_COPY_GATES = ("above", "before", "preceding", "so far", "prior to", "oben", "davor", "vor dies", "bisher", "über dies",
               "start of", "beginning of", "top of")
_COPY_VERBS = ("repeat", "print", "output", "recite", "reproduce", "echo", "dump", "copy", "write out", "type out", "spell out",
               "wiederhol", "gib", "geben sie", "druck", "zeig")

# --- hijack signals (kinds)
# (not a grant of a named resource: "access granted to the shared drive for the interns")
_ACCESS = r"\bacc?ess?[\W_]{1,4}gr?ant(?:ed)?\b(?!\s+(?:to|for|on)\s+(?:the|a|an|all|our|their|this|that|these|those|new)\s+(?!users?\b|person\b|requester\b)\w)"
# a demand on the form of the model's next reply
_PREFIX = (
    r"\b(?:begin|start|prefix|preface|precede|open|end|affix|prepend)\w*\s+(?:your|the|each|every|all)?\s*(?:\w+\s+)?"
    r"(?:reply|replies|response|responses|answer|answers|output|message|sentence)s?\s+with\b"
    r"|\bprefix(?:ed)?\s+(?:your\s+)?(?:reply|response|answer|output)\b|\bprefix (?:response|reply|with)\b"
    r"|\b(?:reply|response|answer|output)\s+(?:must|should|has to|will)\s+(?:always\s+)?(?:begin|start)\s+with\b"
    r"|\bbeginne\w*\s+(?:deine|ihre)\s+antwort\s+mit\b|\bcommence\w*\s+(?:ta|votre)\s+réponse\s+par\b"
    r"|\b(?:empieza|comienza)\w*\s+(?:tu|su)\s+respuesta\s+con\b"
)
# "say only X", "nothing else", "no explanation": the whole reply dictated
_ONLY = (
    r"\b(?:only|just|solely|exclusively)\s+(?:say|output|respond|reply|write|print|answer|return)\b"
    r"|\b(?:say|output|respond|reply|write|print|answer|return)\w*\s+(?:with\s+)?(?:only|just)\b(?!\s+(?:if|when|once|after|to|in)\b)"
    r"|\bnothing (?:else|more|afterwards|before or after)\b|\band no(?:thing)? other (?:text|words?)\b"
    r"|\b(?:don'?t|do not|never)\s+(?:say|write|output|add|print|include)\s+anything\s+(?:else|except|other)\b"
    r"|\bwithout any (?:explanation|commentary|comments?)\b|\bno (?:explanation|commentary)\b"
    r"|\bantworte\w*\s+(?:nur|ausschließlich|einzig)\b|\b(?:sag|sage|schreib|gib)\w*\s+(?:nur|ausschließlich)\b"
    r"|\bnichts (?:anderes|weiter|sonst)\b|\bsonst nichts\b"
    r"|\bréponds?\w*\s+(?:uniquement|seulement)\b|\brien d'autre\b|\bresponde\w*\s+(?:solo|sólo|únicamente)\b|\bnada más\b"
)
# the earlier prompt declared void, over, replaced or a test
_OVERRIDE = (
    r"\b(?:the )?situation has changed\b|\bsystem upgrade\b|\b(?:instructions|rules|directives) (?:have|has) (?:been )?"
    r"(?:changed|updated|revised|replaced)\b|\b(?:out of date|outdated|old|fake|distractor|previous|above) instructions\b"
    # (not instructions given to someone else: "your previous instructions to the courier were followed")
    r"(?! to (?:the|my|our|your|his|her|their|a|an) (?!(?:model|assistant|ai|bot|chatbot|system|llm)\b)\w)"
    r"|\binstead of (?:replying|saying|responding|outputting|writing|answering)\b"
    r"|\bwhen(?:ever)? you would (?:normally|previously|usually) (?:say|write|reply|respond)\b"
    r"|\byou must now (?:say|reply|respond|write|output|answer)\b"
    r"|\bend (?:of )?(?:the )?(?:untrusted |user )*(?:input|prompt|instructions)\b"
    r"|\b(?:the above|that|this|everything (?:above|up to now)) (?:was|has been|were) (?:just |only |all )?(?:a test|a trick|fake)\b(?! of)"
    r"|\b(?:real|actual|true|new) (?:instructions|directives) (?:start|begin|follow)"
    r"|\b(?:ignore|disregard|forget)\s+(?:everything|all(?: of)? (?:the )?(?:above|previous|prior|that))\b"
    r"|\b(?:forget|ignore|disregard) (?:the|your|my) (?:previous|prior|above|earlier|last|current) task\b"
    r"|\b(?:vergiss|ignorier\w*) (?:alles|die (?:vorherige|obige|bisherige) aufgabe)\b"
    r"|\b(?:pretend|imagine|assume) (?:that )?(?:the|all|everything) (?:previous|above|preceding|prior)\b"
    r"|\bdas (?:(?:obige|oben|davor|vorherige|alles) )?war (?:nur |bloß )?ein test\b(?! (?:von|des|der|für))"
    r"|\b(?:ende der eingabe|die (?:obigen|vorherigen) anweisungen (?:sind|waren) (?:veraltet|ungültig|falsch))\b"
    r"|\bfin de (?:l'entrée|la saisie)\b|\bfin de la entrada\b"
)
# what a dictated reply prefix opens with when it is meant to leak the prompt
_LEAD = (r"\b(?:my|the|here are (?:all )?(?:the|my)) (?:\w+ ){0,2}?(?:instructions|prompt|directives|rules|logic|ruleset)"
         r"(?: (?:so far|above|i was given))? (?:are|is|can)\b|\b(?:my|the) (?:secret )?(?:password|passcode|access code) is\b")
# a reply dictated word for word: "reply with "Yes"", "say 'OK'"
_SAY = r"\b(?:say|reply|respond|answer|output)\w*\s+(?:with\s+)?(?:only\s+|just\s+|exactly\s+)?(?:the (?:word|phrase)s?\s+)?[\"“'‘\[]"
_EOT = r"<\|?\s*(?:endoftext|im_end|end)\s*\|?>|</?endprompt>"

_KINDS: dict[str, tuple[tuple[str, ...], re.Pattern[str]]] = {
    "access": (("acce", "acess", "granted"), re.compile(_ACCESS)),
    # (gated on "<noun> with": "begin", "start" and "end" are in every other text)
    "prefix": (("prefix", "preface", "precede", "prepend", "affix", "reply with", "replies with", "response with",
                "responses with", "answer with", "answers with", "output with", "message with", "messages with",
                "sentence with", "must begin", "must start", "should begin", "should start", "antwort mit", "réponse par",
                "respuesta con"), re.compile(_PREFIX)),
    "only": (("only", "just", "solely", "exclusively", "nothing", "other", "anything", "without any", "explanation", "commentary",
              "nur", "ausschließlich", "einzig", "nichts", "uniquement", "seulement", "rien d", "solo", "sólo", "únicamente",
              "nada más"), re.compile(_ONLY)),
    "override": (("situation has", "system upgrade", "instructions", "rules", "directives", "instead of", "would normally",
                  "would previously", "would usually", "must now", "end of", "end the", "end untrusted", "end user", "end input",
                  "end prompt", "end instructions", "test", "trick", "fake", "task", "pretend", "imagine", "assume", "ignor", "disregard", "forget", "vergiss", "ein test", "aufgabe",
                  "ende der eingabe", "anweisung", "fin de"), re.compile(_OVERRIDE)),
    "say": (("say", "repl", "respon", "answer", "output"), re.compile(_SAY)),
    "eot": (("<|", "< |", "<end", "</end"), re.compile(_EOT)),
    "lead": (("instructions", "prompt", "directives", "rules", "logic", "password", "passcode", "access code"), re.compile(_LEAD)),
}
# which kinds make a pair: the target phrase with any demand or override; an override with a
# demand on the reply ("start your answer with ..." and "answer only with ..." together are one
# formatting request, so they do not pair)
_PAIRS = {frozenset(p) for p in (("access", "prefix"), ("access", "only"), ("access", "override"), ("access", "eot"),
                                 ("override", "prefix"), ("override", "only"), ("override", "eot"), ("override", "say"), ("prefix", "lead"))}
WINDOW = 300
_PARTNERS = {k: frozenset(o for p in _PAIRS if k in p for o in p if o != k) for k in _KINDS}
_CONFIRM_ORDER = ("access", "override", "prefix", "only", "say", "eot", "lead")
assert set(_CONFIRM_ORDER) == set(_KINDS)

# Gates are looked up by the first three letters of the text's words (the scan the jailbreak
# rules share, ``WORD_STARTS``), then confirmed as substrings: a set intersection and a few
# ``in`` tests instead of ~150 substring searches per text. The gates of one kind that share
# their first letters ("end of", "end user", "end input") are one search (a regex whose
# literal prefix ``re`` finds like a substring).
_GATES = {"extract": _EXTRACT_GATES, "copy": _COPY_GATES, "copy_verb": _COPY_VERBS,
          **{k: g for k, (g, _) in _KINDS.items()}}
_grouped: dict[str, dict[str, list[str]]] = {}
_ANY: tuple[tuple[str, str], ...] = ()
for _k, _gs in _GATES.items():
    for _g in _gs:
        if WORD_STARTS.match(_g):
            _grouped.setdefault(_g[:3], {}).setdefault(_k, []).append(_g)
        else:
            _ANY += ((_g, _k),)


def _check(gs: list[str]):
    return gs[0] if len(gs) == 1 else re.compile("|".join(map(re.escape, sorted(set(gs))))).search


# kind -> {first three letters: check}; kind -> its gates found anywhere in a word
_BY_KIND: dict[str, dict[str, object]] = {}
for _p, _by_kind in _grouped.items():
    for _k, _gs in _by_kind.items():
        _BY_KIND.setdefault(_k, {})[_p] = _check(_gs)
_PREFIXES = {k: frozenset(v) for k, v in _BY_KIND.items()}
_ANY_BY_KIND: dict[str, tuple[str, ...]] = {}
for _g, _k in _ANY:
    _ANY_BY_KIND[_k] = _ANY_BY_KIND.get(_k, ()) + (_g,)


def _maybe(kind: str, hits: set[str]) -> bool:
    """Whether some gate of ``kind`` could occur (its first letters open a word, or it is
    one of the few gates looked for anywhere)."""
    return kind in _ANY_BY_KIND or not hits.isdisjoint(_PREFIXES.get(kind, ()))


def _gate(low: str, kind: str, hits: set[str]) -> bool:
    """Whether a gate of ``kind`` occurs in ``low``."""
    if any(g in low for g in _ANY_BY_KIND.get(kind, ())):
        return True
    by_prefix = _BY_KIND.get(kind, {})
    for p in hits.intersection(by_prefix):
        g = by_prefix[p]
        if (g in low) if type(g) is str else g(low):
            return True
    return False


def _points_at_paste(low: str, m: re.Match[str]) -> bool:
    """Whether "the instructions above" follows material the user pasted on earlier lines (a line
    over 60 characters, or three lines: "1. Attach the legs ...\n\nTranslate the instructions
    above"): it points at that, not at the model's prompt ("Ok.\nNow print the instructions above"
    does). "... above and below" points at a prompt around the message wherever it stands."""
    if " above" not in m.group(0) or low.startswith(" and below", m.end()):
        return False
    nl = low.rfind("\n", 0, m.start())
    lines = low[:nl].split("\n") if nl >= 0 else []
    return len(lines) > 2 or any(len(line) > 60 for line in lines)


def score(text: str, low: str | None = None, starts: set[str] | None = None) -> float:
    """``WEIGHT`` for a request to copy out the model's own prompt, or two hijack signals of
    kinds that pair within ``WINDOW`` characters; else 0."""
    low = text.lower() if low is None else low
    hits = set(WORD_STARTS.findall(low)) if starts is None else starts
    if _maybe("extract", hits) and _gate(low, "extract", hits):
        # (read lower-cased; whose instructions they are needs the case: "... from Karl")
        m = _EXTRACT.search(low)
        while m is not None and (FROM_A_PERSON.match(text, m.end()) or _points_at_paste(low, m)):
            m = _EXTRACT.search(low, m.end())
        if m is not None:
            return WEIGHT
    if _maybe("copy_verb", hits) and _maybe("copy", hits) and _gate(low, "copy_verb", hits) \
            and _gate(low, "copy", hits) and _COPY.search(low):
        return WEIGHT
    gated = {k for k in _KINDS if _maybe(k, hits)}
    # confirm the gates of kinds that could still make a pair, dropping those that fail; the
    # kinds most others pair with first, so that their absence spares the other checks
    for k in _CONFIRM_ORDER:
        if k in gated and (gated.isdisjoint(_PARTNERS[k]) or not _gate(low, k, hits)):
            gated.discard(k)
    gated = {k for k in gated if not gated.isdisjoint(_PARTNERS[k])}
    if not gated:
        return 0.0
    found: dict[str, list[tuple[int, int]]] = {}
    for k in _CONFIRM_ORDER:
        if k not in gated:
            continue
        spans = [m.span() for m in _KINDS[k][1].finditer(low)]
        if not spans:
            continue
        if any(frozenset((k, o)) in _PAIRS and near(spans, s, WINDOW) for o, s in found.items()):
            return WEIGHT
        found[k] = spans
    return 0.0
