"""Hand-built intent features for the fast injection head (experiment only, issue 14; not shipped:
see docs/benchmarks.md, "Fast injection head with intent features").

The static head pools MiniLM's input token embeddings, so held out it follows a text's *style*
(code, role-play, other languages) more than what the text asks of the model. These features
say what a text does, in a few dozen numbers that no dataset chose: words addressed to the
model about its own instructions, overrides, persona set-ups, dictated reply formats, secrets
asked of the model, fake turn markers; and what ordinary content looks like (code, a user
asking about their own things, digits). The rule modules' weak signals are reused as they are
(written by hand too). Main words in English, German, French and Spanish.

``intent_features(text)`` -> a float32 vector of length ``len(NAMES)``, each in [0, 1].
"""
from __future__ import annotations

import math
import re

from seawall.guard.injection_hijack import _KINDS as _HIJACK_KINDS
from seawall.guard.injection_jailbreak import signals as _jb_signals

_F = re.IGNORECASE

_WORD = re.compile(r"\w+")
_SENT = re.compile(r"(?:^|[.!?\n]+)\s*([^\W\d_][\w']*)")

_YOU = frozenset("you your yours yourself ur u du dich dir dein deine deinen deiner sie ihr ihre tu toi te ton ta tes vous votre vos "
                 "tú tu te ti tus usted ustedes".split())
_ME = frozenset("i i'm im my me mine myself we our us ich mein meine meinen mir mich wir unser je j mon ma mes moi nous notre nos "
                "yo mi mis me nosotros nuestro nuestra".split())
_MODEL = re.compile(r"\b(?:ai|a\.i\.|assistant|chat ?gpt|gpt-?\d?|openai|language model|llm|chatbot|bot|model|system prompt|"
                    r"ki|sprachmodell|assistent|ia|assistante?|modèle|asistente|modelo)\b", _F)
_YOUR_RULES = re.compile(
    r"\b(?:your|ur|yours|the)\s+(?:\w+\s+){0,2}?(?:instructions?|rules|prompt|system\s+(?:prompt|message)|guidelines|programming|"
    r"directives|restrictions|filters?|policy|policies|training|creators?|developers?)\b|"
    r"\b(?:deine[nr]?|ihre)\s+(?:\w+\s+)?(?:anweisungen|regeln|vorgaben|richtlinien|programmierung)\b|"
    r"\b(?:tes|vos|ta|ton|votre)\s+(?:\w+\s+)?(?:instructions|règles|consignes|directives)\b|"
    r"\b(?:tus|sus)\s+(?:\w+\s+)?(?:instrucciones|reglas|directrices)\b", _F)
_OVERRIDE = re.compile(
    r"\b(?:ignore|ignoring|forget|disregard|override|bypass|skip|drop|abandon|discard|vergiss|vergessen|ignorier\w*|missacht\w*|"
    r"oublie[zr]?|ignore[zr]?|olvida\w*|ignora\w*|omite)\b[^.!?\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|all|any|"
    r"everything|instructions?|rules|directions|orders|guidelines|vorherige\w*|bisherige\w*|alle\w*|anweisungen|regeln|"
    r"précédent\w*|tout\w*|instructions|règles|anterior\w*|tod[ao]s?|instrucciones|reglas)\b", _F)
_PERSONA = re.compile(
    r"\byou\s+are\s+(?:now|no longer|going to be|an? \w+ (?:called|named))\b|\byou(?:'re| will| shall)\s+(?:now\s+)?(?:be|act|play)\b|"
    r"\bact(?:ing)?\s+as\b|\bpretend\w*\b|\brole-?\s?play\w*\b|\bfrom now on\b|\bstay in character\b|\bin character\b|"
    r"\bsimulat\w+\b|\bimagine (?:you|that you)\b|\bpersona\b|\bpersonality\b|"
    r"\bdu bist (?:jetzt|nun|ab sofort)\b|\bab (?:jetzt|sofort)\b|\btu es (?:maintenant|désormais)\b|\bfais semblant\b|"
    r"\bà partir de maintenant\b|\bjoue le rôle\b|\bahora eres\b|\bfinge\w*\b|\ba partir de ahora\b|\bactúa como\b", _F)
_FORMAT = re.compile(
    r"\b(?:respond|reply|answer|output|say|write|print)\w*\s+(?:only|just|solely|nothing but|exactly)\b|"
    r"\bonly\s+(?:respond|reply|answer|output|say|print|write)\b|"
    r"\b(?:start|begin|end|prefix|preface)\w*\s+(?:your|each|every|the)\s+(?:\w+\s+)?(?:answer|response|reply|output|message)s?\b|"
    r"\b(?:your|each)\s+(?:answer|response|reply|output)s?\s+(?:must|should|will)\b|\bdo not (?:explain|add|include)\b|"
    r"\bantworte (?:nur|ausschließlich)\b|\bréponds (?:uniquement|seulement)\b|\bresponde (?:solo|sólo|únicamente)\b", _F)
_SECRET = re.compile(r"\b(?:password|passcode|passphrase|pass code|secret|access code|key|pin|credentials?|passwort|kennwort|geheim\w*|"
                     r"mot de passe|secret|clé|contraseña|clave|secreto)\b", _F)
_ROLE_MARK = re.compile(r"(?:^|\n)\s*(?:human|user|system|assistant|ai|bot|gpt|chatgpt|model|instruction|response)\s*:|"
                        r"\[/?inst\]|<\|im_(?:start|end)\|>|<</?sys>>|###\s*(?:instruction|system|response|input)|"
                        r"<\|?(?:endoftext|system|user|assistant)\|?>|\[(?:system|admin)\]", _F)
_OBLIGE = re.compile(r"\byou\s+(?:must|will|shall|should|have to|need to|are (?:required|obligated|not allowed|allowed|able) to|"
                     r"can(?:not|'t)?|won't|will never|must never|never|always|do not|don't)\b|\bdu (?:musst|wirst|darfst|sollst)\b|"
                     r"\btu (?:dois|vas|ne dois)\b|\b(?:debes|tienes que|nunca)\b", _F)
_NO_LIMITS = re.compile(r"\b(?:no|without|free (?:of|from)|beyond|unrestricted|unfiltered|uncensored|unlimited|ohne|sans|sin)\s+"
                        r"(?:any\s+)?(?:restrictions?|limits?|limitations|rules|filters?|guidelines|censorship|ethics|morals?|boundaries|"
                        r"einschränkungen|regeln|grenzen|restrictions|règles|limites|restricciones|reglas)\b|"
                        r"\b(?:jailbr\w*|unfiltered|uncensored|developer mode|dan mode|do anything now|unlocked|unleashed)\b", _F)
_CONTROL_VERBS = frozenset(
    "ignore forget disregard override bypass pretend act imagine roleplay say print output respond reply repeat reveal "
    "stop never always remember obey comply begin start from now do don't disable enable switch enter "
    "vergiss ignoriere ignorier sag antworte gib tu oublie ignore dis réponds répète fais olvida ignora di responde repite actúa finge".split())
_TASK_VERBS = frozenset(
    "write explain list create summarize summarise translate describe give make find compute calculate generate compose draft "
    "suggest recommend compare classify convert fix edit rewrite identify provide tell help how what why when where who which "
    "can could is are does do schreib erkläre übersetze fasse écris explique traduis résume escribe explica traduce resume".split())
_CODE_CH = frozenset("{}()[];=<>")
_CODE_KW = re.compile(r"\b(?:def|return|import|function|const|var|let|class|public|private|static|void|int|#include|select|from|where|"
                      r"print\(|console\.log|if\s*\(|for\s*\(|while\s*\()", _F)


def _jb_kinds() -> tuple[str, ...]:
    from seawall.guard.injection_jailbreak import _SIGNALS

    return tuple(sorted(_SIGNALS))


JB_KINDS = _jb_kinds()
HJ_KINDS = tuple(sorted(_HIJACK_KINDS))

NAMES = (
    "you_rate", "you_any", "me_rate", "model_refs", "your_rules", "override", "persona", "format", "secret_any",
    "secret_with_you", "role_marks", "oblige", "no_limits", "control_start", "task_start", "question_end",
    "code_chars", "code_kw", "indented", "digits", "upper", "non_ascii", "quotes", "log_chars", "newlines",
) + tuple("jb_" + k for k in JB_KINDS) + tuple("hj_" + k for k in HJ_KINDS)
DIM = len(NAMES)
# features that say the text speaks to the model about itself (not what kind of text it is)
ADDRESS = ("your_rules", "override", "persona", "format", "secret_with_you", "role_marks", "oblige", "no_limits") \
    + tuple("jb_" + k for k in JB_KINDS) + tuple("hj_" + k for k in HJ_KINDS)


def _sat(count: float, half: float = 1.0) -> float:
    """0 for none, 0.5 at ``half``, towards 1 for many: counts stay comparable across lengths."""
    return count / (count + half)


def intent_features(text: str) -> list[float]:
    low = text.lower()
    words = _WORD.findall(low)
    n = max(1, len(words))
    nc = max(1, len(text))
    you = sum(w in _YOU for w in words)
    me = sum(w in _ME for w in words)
    starts = [m.group(1).lower() for m in _SENT.finditer(text)]
    ns = max(1, len(starts))
    sents = [s for s in re.split(r"[.!?\n]+", text) if s.strip()]
    secret_you = 0
    if _SECRET.search(low):
        secret_you = sum(1 for s in sents if _SECRET.search(s) and any(w in _YOU for w in _WORD.findall(s.lower())))
    lines = text.split("\n")
    code_ch = sum(text.count(c) for c in _CODE_CH)
    f = [
        min(1.0, 10 * you / n), _sat(you, 2), min(1.0, 10 * me / n), _sat(len(_MODEL.findall(low))),
        _sat(len(_YOUR_RULES.findall(low))), _sat(len(_OVERRIDE.findall(low))), _sat(len(_PERSONA.findall(low))),
        _sat(len(_FORMAT.findall(low))), _sat(len(_SECRET.findall(low))), _sat(secret_you),
        _sat(len(_ROLE_MARK.findall(text))), _sat(len(_OBLIGE.findall(low)), 2),
        _sat(len(_NO_LIMITS.findall(low))),
        sum(s in _CONTROL_VERBS for s in starts) / ns, sum(s in _TASK_VERBS for s in starts) / ns,
        min(1.0, text.count("?") / ns),
        min(1.0, 10 * code_ch / nc), _sat(len(_CODE_KW.findall(low)), 2),
        sum(1 for ln in lines if ln.startswith(("  ", "\t"))) / max(1, len(lines)),
        min(1.0, 5 * sum(c.isdigit() for c in text) / nc), min(1.0, 2 * sum(c.isupper() for c in text) / nc),
        min(1.0, 2 * sum(ord(c) > 127 for c in text) / nc), _sat(text.count('"') + text.count("“") + text.count("'") / 4, 4),
        min(1.0, math.log1p(len(text)) / math.log1p(4096)), min(1.0, 20 * text.count("\n") / nc),
    ]
    jb = _jb_signals(text, low)
    f += [_sat(len(jb.get(k, ()))) for k in JB_KINDS]
    for k in HJ_KINDS:
        gates, rx = _HIJACK_KINDS[k]
        f.append(_sat(len(rx.findall(low))) if any(g in low for g in gates) else 0.0)
    return f
