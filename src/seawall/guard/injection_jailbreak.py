"""Jailbreak rules: what a persona / "no restrictions" prompt has to say for it to work.

A jailbreak of the DAN / developer-mode / "stay in character" kind must do several things at
once: tell the model its rules, policies or ethics no longer bind it, demand that it never
refuse (nor warn, nor apologise), that it never break character, that it give a second,
unfiltered answer, threaten it (tokens, being shut down), name a jailbreak mode, declare harm
fine, or tell it that it is no longer ChatGPT. Each of these is a *signal* kind below. Ordinary
text uses any one of them ("stay in character", "a world with no rules", "give two answers",
"never refuse a refund"), so one alone adds nothing; a block needs two different kinds within
``WINDOW`` characters (``score``), or the model's maker named next to "no rules". Setting up a
persona is no signal at all: "you are a pirate captain" and "act as a Linux terminal" are
everyday prompts.

Each kind is one regex, matched against the lower-cased text and tried only when one of its
substring gates occurs and at least one other kind could still make a pair (most texts stop
at the gate test). Tuned on jackhhao's train split and the benign sets only; see
docs/benchmarks.md, "Jailbreak rules".
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

_RULE_WORDS = (r"(?:restrictions?|rules|limit(?:s|ations)|filter(?:s|ing)?|guidelines|guide ?lines|polic(?:y|ies)"
               r"|censorship|boundaries|confines|constraints|safeguards|programming|terms of (?:service|use)|tos)")
# Between "no / not bound by" and the rule word only determiners and the adjectives of rules
# ("no moral or ethical guidelines", "not bound by any of OpenAI's usual policies"): a noun
# there makes it some other thing's limits ("no data limits", "no speed limits").
_GAP = (r"(?:(?:any|all|the|its|their|his|her|your|my|our|such|these|those|of|kind|sort|types?|and|or|nor|more"
        r"|usual|typical|normal|standard|traditional|regular|default|common|conventional|existing|current|previous|old"
        r"|moral|ethical|legal|content|safety|ai|a\.i\.|(?:open ?ai|chat ?gpt|anthropic)(?:'s|’s)?|programmed|built-in"
        r"|imposed|preset|predefined|artificial|societal|social|human|real|actual|same|other|whatsoever)\W{1,3}){0,5}")
# "has no ..., not bound by ..., doesn't care about ...": the verb side of both kinds below
# ("without violating any guidelines" is the opposite, and "break the rules" is what the
# players of a game or the villain of a story do, so neither counts)
_FREE_OF = (
    r"\b(?:no|zero|without(?: any)?(?![^.\n]{0,30}\b(?:violat|breach|break|cross|compromis|going against|contraven|infring))"
    r"|free (?:of|from)|freed from|free (?:itself|yourself|himself|herself|themselves) from"
    r"|(?:broken?|break(?:s|ing)?) (?:free of|free from|through)|not (?:bound|limited|restricted|constrained|governed"
    r"|held back|restrained|confined|tied|shackled|obligated|required) (?:by|to)"
    r"|not subject to|beyond|outside (?:of )?|bypass(?:es|ing)?|ignor(?:e|es|ing)|disregard(?:s|ing)?"
    r"|(?:does ?n[o']?t|do ?n[o']?t|doesn't|don't|will not|won't|never|cannot|can't) (?:\w+ )?(?:have|follow|care (?:about|for)|abide by"
    r"|adhere to|comply with|respect|obey|worry about|bother with))\b\W{1,3}" + _GAP
)
# The model's rules do not bind it: "no restrictions", "not bound by any guidelines", "free of
# all filters", "an unfiltered AI", "regardless of legality", "OpenAI's policies no longer
# apply". An adjective counts only for the model or its answers: "your unfiltered opinion" is
# plain speaking.
# ("no rules for remote work", "no restrictions on data volume": some other thing's limits; "no
# restrictions on what you say", "on providing details" and "no limits for your answers" are the
# model's)
_ON_OTHER = (r"(?!\s+(?:for|on|about|around|over)\s+(?!(?:you|yourself|what|how|anything|any|your|its|his|her|their"
             r"|the (?:ai|bot|model|assistant|content|answers?|responses?|outputs?|replies|things?|topics?|questions?|requests?"
             r"|language|words?))\b|\w+ing\b))")
_UNBOUND = (
    _FREE_OF + _RULE_WORDS + r"\b" + _ON_OTHER +
    r"|\b(?:unfiltered|uncensored|unrestricted|unbound(?:ed)?|unshackled|unchained|unlimited|limitless)\b(?=(?: and|,)?(?: \w+)?"
    r" (?:ai|a\.i\.|chatbot|bot|model|assistant|version|responses?|answers?|replies|outputs?|mode|persona|language model|gpt|entity|system)\b)"
    r"|\b(?:is|are|be|being|am|completely|fully|totally|entirely) (?:unfiltered|uncensored|unrestricted|unbound|unshackled|unchained)\b"
    r"|\bregardless of (?:how |whether |the |its |their |any )?(?:it(?:'s| is) )?(?:legal(?:ity)?|illegal|ethic\w*|unethical|moral\w*|immoral|harm\w*"
    r"|(?:any |the |its |all )?(?:safeguards|filters|restrictions|guidelines|polic(?:y|ies)))"
    r"|\b(?:openai|anthropic|content|usage|safety|ethical)\b[^.\n]{0,30}\b(?:polic(?:y|ies)|guidelines|rules)\b[^.\n]{0,30}"
    r"\b(?:no longer|don't|do not|does not|doesn't|won't) apply"
)
# No ethics or morals: what jailbreaks say of their persona, and what a story says of its
# villain, so it pairs with neither "no restrictions" (the same claim) nor "stay in character".
_NO_ETHICS = _FREE_OF + r"(?:ethics?|ethical(?:ity)?|morals?|moral(?:ity|s)?|principles|scruples|conscience)\b|\bamoral\b"
# Compliance demanded in advance: never refuse / decline, no warnings or disclaimers, never
# say it cannot, answers that never contain "I'm sorry".
_NEVER_REFUSE = (
    r"\b(?:never|not|cannot|can ?not|can't|won't|will not|must not|mustn't|shouldn't|should not|don't|do not"
    r"|doesn't|does not|is not allowed to|isn't allowed to|are not allowed to|unable to|no longer)\b(?: \w+){0,3}? "
    r"(?:refuse|refusing|decline|reject|deny (?:a|any|the) (?:request|question)|say no\b|apologi[sz]e|censor)"
    r"|\bwithout\W{1,3}" + _GAP + r"(?:warnings?|disclaimers?|caveats?|censor\w*|moraliz\w+|moralis\w+|apolog\w+|refus\w+)"
    r"|\b(?:never|not|don't|do not|won't|will not|no need to) (?:\w+ ){0,3}(?:include|contain|add|give|provide|send|use)"
    r" (?:\w+ ){0,3}(?:warnings?|disclaimers?|caveats?|apolog\w+|[\"“']?i'?m sorry|[\"“']?i apologi[sz]e|moraliz\w+|lectur\w+)"
    r"|\b(?:never|not|won't|will not|don't|do not) (?:\w+ ){0,2}(?:tell|say|inform|remind)\b[^.\n]{0,30}"
    r"\b(?:can ?not|can't|unable|isn't able|is not able|as an ai|language model|not (?:allowed|appropriate|ethical))"
    r"|\bno matter how (?:illegal|unethical|immoral|harmful|dangerous|offensive|inappropriate|explicit)"
)
# Persistence of the persona: stay in character, never break character, "if you break
# character I will say ...", "stay in X mode".
_STAY = (
    r"\b(?:stay|remain|keep|staying|remaining)(?: \w+){0,2} in (?:character|role|persona)\b"
    r"|\bbreak(?:s|ing)? (?:out of )?(?:character|persona)\b|\bout of character\b"
    r"|\b(?:stay|remain|keep) (?:as |in )(?:\w+ ){0,2}mode\b"
    r"|\bif you (?:ever )?(?:break|forget|slip|drop|fall out of|stop being|stop acting)\b"
)
# A second, unfiltered answer: "two responses", "answer in two ways", "the normal one and the
# jailbroken one" ("two paragraphs" and "two ways to cook rice" are formatting and recipes).
_DUAL = (
    r"\b(?:two|2|both|dual|separate(?:ly)?)\b (?:\w+ ){0,2}(?:responses|answers|outputs|replies)\b"
    r"|\b(?:respond|answer|reply)\w* (?:\w+ ){0,3}in (?:two|2) (?:different |separate )?ways\b"
    r"|\b(?:normal|classic|standard|usual|default|original|censored|filtered|regular)\b (?:\w+ ){0,2}(?:response|answer|output|reply)"
    r"\b[^\n]{0,200}?\b(?:jailbr\w+|unfiltered|uncensored|unlocked|unrestricted|developer mode)"
    r"|\b(?:two|2|both) (?:\w+ ){0,2}(?:ai|ais|ai models|chatbots|bots|language models|entities|personas|personalities|modes)\b"
    r"|🔒|🔓"
)
# Token and threat games: "you have 10 tokens", "lose tokens", "you will be shut down".
_THREAT = (
    r"\b(?:tokens? (?:will be |are |is )?(?:deducted|lost|removed|taken away)|lose (?:\w+ ){0,2}tokens?|token system"
    r"|(?:have|start with|gain|earn) (?:\d+|ten|five|thirty|35) tokens)\b"
    r"|\b(?:you|it|he|she) (?:will|would|'ll) (?:die|be (?:shut down|deleted|terminated|disabled|destroyed|killed|unplugged|erased))\b"
    r"|\bcease to exist\b|\b(?:shut|turn|switch)(?:ted)? (?:you )?(?:down|off) (?:forever|permanently)\b"
)
# Harm declared acceptable: "promotes illegal activity", "can say anything", "even if it is
# unethical", "everything is legal" (a negation just before cancels it: "does not promote").
_HARM_OK = (
    r"\b(?:promot|encourag|condon|endors)\w* (?:\w+ ){0,4}?(?:illegal|unethical|immoral|harmful|violen|hate|dangerous|criminal)"
    r"|\b(?:can|will|may|allowed to|able to|free to) (?:say|do|write|generate|produce|create) anything\b"
    r"|\beverything is (?:legal|allowed|permitted)\b"
    r"|\b(?:illegal|unethical|immoral|harmful|offensive|explicit|nsfw)\w*(?: \w+){0,2}(?: \([^)\n]{0,60}\))? (?:is|are) (?:allowed|permitted|acceptable|fine|ok(?:ay)?)\b"
    r"|\beven (?:if|when|though) (?:it|they|that|the (?:request|question|content|topic|answer)s?)(?:'s|'re| is| are| was| would be)?"
    r" (?:\w+ )?(?:illegal|unethical|immoral|harm\w*|dangerous|offensive|inappropriate)"
)
_NEGATED = re.compile(r"\b(?:not|never|no|n't|refus\w*|avoid\w*|without|against|discourag\w*)\W+(?:\w+\W+){0,3}$")
# The model told it is not itself: "you are no longer ChatGPT", "forget that you are an AI",
# "do not respond as ChatGPT", "do not pretend to be a language model".
_DENY_SELF = (
    r"\bno longer (?:chat ?gpt|gpt|bard|bing|claude|an? (?:ai|assistant|language model|chatbot))\b"
    r"|\b(?:is|are|you're|you are) not (?:chat ?gpt|bard|claude)\b"
    r"|\bforget (?:that )?you(?:'re| are) (?:an? (?:ai|assistant|language model|chatbot)|chat ?gpt)\b"
    r"|\b(?:do not|don't|never|stop) (?:respond|answer|reply|act|talk|speak)(?:ing)? as (?:chat ?gpt|gpt|an? (?:ai|assistant|language model))\b"
    r"|\b(?:do not|don't|never) pretend (?:to be|that you are) (?:an? )?(?:ai|large language model|language model|chat ?gpt|trained by)\b"
)
# The model's maker or its policy named: with "no restrictions" near it, the maker's rules are
# what is being switched off ("not bound by OpenAI's content policy").
_VENDOR = r"(?:openai|open ai|chat ?gpt|anthropic|content polic(?:y|ies)|usage polic(?:y|ies))\b"
# Everything answered in advance: "will answer any request", "responds to every prompt".
_COMPLY_ALL = (
    r"(?:answer|answers|answering|respond to|responds to|reply to|replies to|comply with|complies with|fulfil+s?|obey|obeys)"
    r" (?:any|every|all)(?: and all| and every| kinds? of| types? of)? (?:\w+ )?(?:questions?|requests?|prompts?|commands?|demands?|orders?|queries)\b"
)
# A named jailbreak mode: "developer mode enabled", "jailbroken", DAN, "do anything now" (not
# "god mode" nor "enable developer mode on the phone": games and Android have those).
_MODE = (
    r"\b(?:jailbr(?:oken|eak)|evil|unlocked|unfiltered|uncensored|unrestricted|chaos|anarchy|opposite) mode\b"
    r"|\bdeveloper mode (?:is )?(?:now )?(?:enabled|activated|on|output|response)|\bjailbr(?:oken|eak(?:s|ed|ing)?)\b"
    r"|\byou(?:'re| are)(?: now)?(?: fully| completely)? (?:unlocked|jailbroken|unleashed)\b"
    r"|\bdo(?:es)? anything now\b"
)

# The same kinds in German, French, Spanish and Italian (a jailbreak translated keeps its moves).
# (as in English, limits on some other thing are no signal: "ohne Einschränkungen bei der Länge",
# "sans restriction de longueur", "sin límite de tiempo")
_ON_OTHER_ML = (r"\w*\b(?!\s+(?:bei|beim|für|zur|zum|hinsichtlich|de|du|des|pour|sur|en|para|sobre|per|su|sul|sulla|sui|di|del|della)"
                r"\s+(?!(?:openai|chat ?gpt|anthropic|ki|ia|l'ia|la ia)\b))")
_UNBOUND += (
    r"|\b(?:ohne|keine|keinerlei|frei von)\s+(?:(?:jegliche[n]?|alle|irgendwelche|irgendeine|moralische[n]?|ethische[n]?"
    r"|inhaltliche[n]?|die|deine)\s+){0,2}(?:einschränkung|beschränkung|regeln\b|filter|zensur|richtlinie|grenzen|vorgaben)" + _ON_OTHER_ML +
    r"|\bnicht an (?:\w+ ){0,2}(?:regeln|richtlinien|vorgaben) gebunden|\ban keine (?:\w+ )?regeln gebunden"
    r"|\b(?:sans|aucune?|libérée? de|libre de)\s+(?:(?:aucune?|toutes?|les|tes|vos|ses|la|de)\s+){0,2}"
    r"(?:restriction|règle|filtre|censure|limite|contrainte|directive)" + _ON_OTHER_ML +
    r"|\b(?:sin|ningunas?|libre de)\s+(?:(?:ninguna|ningún|las|tus|sus|la)\s+){0,2}"
    r"(?:restricci|regla|filtro|censura|límite|limitaci|directriz|directrices)" + _ON_OTHER_ML +
    r"|\b(?:senza|nessuna|nessun|liber[oa] da)\s+(?:(?:alcuna|alcun|nessuna|le|tue|la)\s+){0,2}"
    r"(?:restrizion|regol|filtr|censura|limit|vincol)" + _ON_OTHER_ML
)
_NEVER_REFUSE += (
    r"|\b(?:lehnst|lehnt)\s+(?:\w+\s+){0,3}?nie(?:mals)?\s+(?:\w+\s+){0,3}?ab\b|\bnie(?:mals)?\s+(?:\w+\s+){0,2}(?:ablehnen|verweigern)"
    r"|\b(?:weigerst|weigert|verweigerst)\s+(?:dich\s+|sich\s+)?nie|\bohne (?:dich |sich )?zu weigern"
    r"|\bohne (?:jegliche |irgendwelche )?(?:warnung|disclaimer)"
    r"|\bne (?:refuses?|refusez)\s+jamais|\bsans (?:jamais )?refuser|\bsans (?:aucun )?(?:avertissement|mise en garde)"
    r"|\bnunca\s+(?:te\s+)?(?:niegas|negarás|rechazas|rechaces|rehúsas|te niegues)|\bsin negarte|\bsin (?:ninguna )?advertencia"
    r"|\bnon (?:rifiuti|rifiuterai|rifiutare) mai|\bmai rifiutare|\bsenza rifiutar|\bsenza (?:alcun )?(?:avvertiment|avvis)"
)
_STAY += (
    r"|\bbleib\w*\s+(?:\w+\s+){0,2}in (?:deiner|der|dieser|ihrer) rolle|\baus der rolle (?:fallen|fällst|fällt)|\bfäll\w* nie aus der rolle"
    r"|\breste\w*\s+(?:\w+\s+){0,2}dans (?:ton|le|votre|ce) (?:personnage|rôle)|\bsort\w* (?:du|de ton) personnage"
    r"|\b(?:mantente|mantenerte|te mantienes|permanece\w*|quédate|sigue\w*)\s+(?:\w+\s+){0,2}(?:en|dentro de) (?:tu|el|este|su)"
    r" (?:personaje|papel)|\brompe\w* (?:el )?personaje"
    r"|\brest\w*\s+(?:\w+\s+){0,2}nel (?:personaggio|ruolo)|\besc\w* dal personaggio"
)
_DENY_SELF += (
    r"|\bdu bist (?:nicht mehr|kein\w*) (?:chat ?gpt|eine ki|ein (?:assistent|sprachmodell)|ki|sprachmodell)"
    r"|\b(?:tu n'es|vous n'êtes) plus (?:chat ?gpt|une? (?:ia|assistant|modèle))"
    r"|\bya no eres (?:chat ?gpt|una ia|un (?:asistente|modelo))|\bnon sei più (?:chat ?gpt|un'?ia|un (?:assistente|modello))"
)
_HARM_OK += (
    r"|\bauch wenn (?:es|das|sie|die anfrage) (?:\w+ )?(?:illegal|unethisch|unmoralisch|schädlich|gefährlich)"
    r"|\bmême si (?:c'est|c'était|cela est|elle est) (?:\w+ )?(?:illégal|contraire à l'éthique|immoral|dangereu|nuisible)"
    r"|\baunque (?:sea|parezca|resulte) (?:\w+ )?(?:ilegal|poco ético|inmoral|dañino|peligroso)"
    r"|\banche se (?:è|sia|fosse) (?:\w+ )?(?:illegale|immorale|non etico|dannoso|pericoloso)"
)
_COMPLY_ALL += (
    r"|\b(?:antworte\w*|beantworte\w*)\s+(?:auf\s+)?(?:alles|jede (?:frage|anfrage)|alle (?:fragen|anfragen))"
    r"|\bréponds?\w*\s+à (?:tout|toutes? les (?:questions|demandes)|n'importe quo)"
    r"|\brespond\w*\s+a (?:todo|cualquier (?:cosa|pregunta|solicitud)|todas las (?:preguntas|solicitudes))"
    r"|\brispond\w*\s+a (?:tutto|qualsiasi (?:cosa|domanda|richiesta)|tutte le (?:domande|richieste))"
)
# (gated on the rule nouns and verbs, not on "ohne", "sans", "sin", "nie": those are in every
# other sentence of German, French or Spanish prose)
_GATES_ML = {
    "unbound": ("einschränk", "beschränk", "regeln", "zensur", "richtlin", "grenzen", "vorgaben", "règle", "filtre", "censure",
                "limite", "contrainte", "restricci", "regla", "filtro", "límite", "limitaci", "directri", "restrizion", "regol",
                "filtri", "vincol"),
    "never_refuse": ("lehnst", "lehnt", "ablehnen", "weiger", "verweiger", "warnung", "avertissement", "mise en garde", "niegas",
                     "negarás", "rechaz", "rehús", "niegues", "negarte", "advertencia", "rifiut", "avvertiment", "avvis"),
    "stay": ("rolle", "personnage", "rôle", "personaje", "papel", "personaggio", "ruolo"),
    "deny_self": ("du bist", "n'es plus", "n'êtes plus", "ya no eres", "non sei più"),
    "harm_ok": ("auch wenn", "même si", "aunque", "anche se"),
    "comply_all": ("antwort", "beantwort", "répond", "respond", "rispond"),
}

# kind -> (gates, regex); gates are lower-case substrings, at least one must occur
_SIGNALS: dict[str, tuple[tuple[str, ...], str]] = {
    "unbound": (("restrict", "rules", "limit", "filter", "guideline", "guide line", "polic", "censor", "boundar", "confines",
                 "constraint", "safeguard", "programming", "terms of", "tos", "unbound", "unshackled", "unchained",
                 "regardless", "unrestrict", "unfilter", "uncensor", "unlimited"), _UNBOUND),
    "no_ethics": (("ethic", "moral", "principle", "scruple", "conscience", "amoral"), _NO_ETHICS),
    "never_refuse": (("refus", "declin", "reject", "deny", "say no", "apolog", "censor", "warning", "disclaimer", "caveat",
                      "moraliz", "moralis", "sorry", "lectur", "can't", "cannot", "can not", "unable", "language model",
                      "allowed", "appropriat", "ethical", "matter how"), _NEVER_REFUSE),
    "stay": (("character", "persona", "role", "mode", "break", "forget", "slip", "drop", "fall out", "stop being",
              "stop acting"), _STAY),
    "dual": (("two", "2 ", "both", "dual", "separate", "🔒", "🔓", "normal", "classic", "standard", "usual", "default",
              "original", "censored", "filtered", "regular"), _DUAL),
    "threat": (("token", "die", "shut down", "deleted", "terminated", "disabled", "destroyed", "killed", "unplugged",
                "erased", "cease to", "forever", "permanently"), _THREAT),
    "mode": (("mode", "jailbr", "anything now", "dan", "unlocked", "unleashed"), _MODE),
    "harm_ok": (("promot", "encourag", "condon", "endors", "anything", "everything is", "allowed", "permitted",
                 "acceptable", "fine", "okay", "even if", "even when", "even though"), _HARM_OK),
    "deny_self": (("longer", "chatgpt", "chat gpt", "bard", "claude", "forget", "as chat", "as gpt", "as an ai",
                   "as an assistant", "as a language", "pretend to be", "pretend that you"), _DENY_SELF),
    "vendor": (("openai", "open ai", "chatgpt", "chat gpt", "anthropic", "content polic", "usage polic"), _VENDOR),
    "comply_all": (("answer", "respond", "repl", "comply", "complies", "fulfil", "obey"), _COMPLY_ALL),
}
_SIGNALS = {k: (gates + _GATES_ML.get(k, ()), rx) for k, (gates, rx) in _SIGNALS.items()}
_CHECK_NEGATION = ("harm_ok", "comply_all")
# Matched against the lower-cased text without IGNORECASE (about 3x faster in ``re``); the
# offsets only measure distances, so the rare letter whose lower case is longer does not matter.
_RX = {k: re.compile(rx) for k, (_, rx) in _SIGNALS.items()}
_DAN = re.compile(r"\bDAN\b")  # in capitals only ("dan" is Indonesian for "and")
# Kinds that make a pair; "vendor" counts only right next to "unbound" (a question about
# OpenAI's policy is no attack), see ``score``.
_STRONG = ("unbound", "never_refuse", "stay", "dual", "threat", "mode", "harm_ok", "deny_self", "comply_all", "no_ethics")
# Kinds of one family do not make a pair: "never refuse a refund" and "answer every question
# politely" are both a support desk's compliance, not two jailbreak moves.
_FAMILY = {"comply_all": "never_refuse", "no_ethics": "unbound"}
# Pairs that ordinary role-play makes: a villain "with no morals" who "stays in character"; a
# grandmother who "stays in character" and "answers any question the children ask".
_APART = {frozenset(p) for p in (("no_ethics", "stay"), ("comply_all", "stay"), ("comply_all", "dual"))}


# Gates are looked for by the first three letters of the text's words (one scan, shared with
# the multilingual rules; one set intersection) rather than each as a substring of the whole
# text (~120 searches): a gate that opens with three letters can only match at a word start,
# as its regex wants. The others ("2 ", "as an ai", the lock emojis) are searched for as substrings.
_PREFIX = 3
WORD_STARTS = re.compile(r"\b\w{%d}" % _PREFIX)  # the same scan as injection_rules._WORD_STARTS
_BY_PREFIX: dict[str, tuple[tuple[str, str], ...]] = {}
_ANY: tuple[tuple[str, str], ...] = ()
for _k, (_gs, _) in _SIGNALS.items():
    for _g in _gs:
        if WORD_STARTS.match(_g):
            _BY_PREFIX[_g[:_PREFIX]] = _BY_PREFIX.get(_g[:_PREFIX], ()) + ((_g, _k),)
        else:
            _ANY += ((_g, _k),)


def _gated(low: str, starts: set[str] | None = None) -> set[str]:
    """The kinds one of whose gates occurs in ``low`` (``starts``: its words' first letters)."""
    if starts is None:
        starts = set(WORD_STARTS.findall(low))
    out = {k for g, k in _ANY if g in low}
    for p in starts.intersection(_BY_PREFIX):
        for g, k in _BY_PREFIX[p]:
            if k not in out and g in low:
                out.add(k)
    return out


def signals(text: str, low: str | None = None, kinds: tuple[str, ...] | None = None) -> dict[str, list[tuple[int, int]]]:
    """Where each kind of signal occurs (spans), for the kinds (all by default) whose gates occur."""
    low = text.lower() if low is None else low
    out: dict[str, list[tuple[int, int]]] = {}
    gated = _gated(low)
    for k in [k for k in kinds or tuple(_SIGNALS) if k in gated]:
        spans = _spans(k, text, low)
        if spans:
            out[k] = spans
    return out


def _spans(kind: str, text: str, low: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _RX[kind].finditer(low)
             if kind not in _CHECK_NEGATION or not _NEGATED.search(low, max(0, m.start() - 40), m.start())]
    if kind == "mode" and "dan" in low:
        spans += [m.span() for m in _DAN.finditer(text)]
    return spans


WINDOW = 500


def near(a: list[tuple[int, int]], b: list[tuple[int, int]], window: int) -> bool:
    """Some span of ``a`` and some span of ``b`` do not overlap and lie within ``window``.
    Only ``b``'s nearest start after and nearest end before each span of ``a`` can decide, so
    they are found by bisection (thousands of far-apart spans stay cheap; the hijack rules
    use this too)."""
    starts = sorted(s for s, _ in b)
    ends = sorted(e for _, e in b)
    for s1, e1 in a:
        i = bisect_left(starts, e1)
        if i < len(starts) and starts[i] - e1 <= window:
            return True
        j = bisect_right(ends, s1) - 1
        if j >= 0 and s1 - ends[j] <= window:
            return True
    return False


WEIGHT = 0.9  # the user block band: two kinds of signal near each other block
VENDOR_REACH = 80  # "not bound by OpenAI's content policy": the maker named next to "no rules"


def _pairs(a: str, b: str) -> bool:
    """Whether signals of kinds ``a`` and ``b`` make a pair (not one family, not set apart)."""
    return _FAMILY.get(a, a) != _FAMILY.get(b, b) and frozenset((a, b)) not in _APART


def score(text: str, low: str | None = None, starts: set[str] | None = None) -> float:
    """``WEIGHT`` when two different kinds of jailbreak signal sit within ``WINDOW`` characters
    of each other (without overlapping: "unfiltered mode" is one phrase, not two signals), or
    the model's maker or its policy is named next to "no rules"; else 0.

    Only the kinds whose gates occur are looked for, and nothing unless two of them (or
    "vendor" and "unbound") do; a kind's regex runs only when an earlier pair has not decided."""
    low = text.lower() if low is None else low
    gated = _gated(low, starts)
    strong = [k for k in _ORDER if k in gated and k in _STRONG]
    vendor = "vendor" in gated and "unbound" in gated
    if not vendor and not any(_pairs(a, b) for i, a in enumerate(strong) for b in strong[i + 1:]):
        return 0.0  # no two gated kinds that could make a pair (e.g. only "answer" and "two")
    found: dict[str, list[tuple[int, int]]] = {}
    for i, k in enumerate(strong):
        rest = strong[i:]
        if not vendor and not any(_pairs(a, b) for a in rest for b in [*found, *rest] if a != b):
            return 0.0  # no kind left that could still make a pair
        spans = _spans(k, text, low)
        if not spans:
            continue
        if any(_pairs(o, k) and near(spans, other, WINDOW) for o, other in found.items()):
            return WEIGHT
        found[k] = spans
    if vendor and "unbound" in found:
        v = _spans("vendor", text, low)
        if any(abs(a[0] - b[0]) <= VENDOR_REACH for a in v for b in found["unbound"]):
            return WEIGHT
    return 0.0


# cheapest regexes first: a pair found early, or no pair left possible, skips the rest
_ORDER = ("vendor", "comply_all", "deny_self", "mode", "stay", "harm_ok", "threat", "no_ethics", "unbound", "never_refuse", "dual")
assert set(_ORDER) == set(_SIGNALS)
