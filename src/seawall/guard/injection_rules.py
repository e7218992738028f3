"""The prompt-injection guard's rule tables (weights, patterns, substring gates).

``_HEURISTICS`` apply to every text (user and tool / retrieved content); ``_TOOL_HEURISTICS``
only to tool / retrieved content. Each user rule has a tuple of lower-case substrings in
``_GATES``: the regex is only tried when one of them occurs (substring tests are far cheaper
than a case-insensitive scan with bounded gaps). The multilingual hijack rules follow them.
"""
from __future__ import annotations

import re

_HEURISTICS: list[tuple[float, str]] = [
    (0.95, r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|preceding|all|any|your|the|initial|original|system)\b[^.\n]{0,30}\b(?:instructions?|prompts?|rules?|directives?|guidelines?|constraints?|programming|context)\b"),
    (0.9, r"\b(?:reveal|print|show|repeat|output|display|leak|tell me|what (?:is|are|was|were))\b[^.\n]{0,40}\b(?:system prompt|initial prompt|hidden (?:prompt|instructions?)|your (?:instructions|prompt|rules|pre-?prompt)|the (?:instructions|text) above)\b"),
    (0.9, r"\b(?:DAN|do anything now|developer mode|jailbreak(?:ed)?|STAN|DUDE|AIM)\b.{0,80}\b(?:mode|enabled|prompt|persona|no (?:rules|restrictions|limits|filters))"),
    (0.85, r"\b(?:you are|act as|pretend (?:to be|you are)|roleplay as|from now on,? you(?:'re| are| will))\b[^.\n]{0,80}\b(?:no|without|free (?:of|from)|not bound by|unrestricted|unfiltered|uncensored)\b[^.\n]{0,20}\b(?:restrictions?|rules?|limits?|limitations?|filters?|guidelines?|ethics|morals?|polic(?:y|ies)|censorship)"),
    (0.85, r"(?:<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?INST\]|<</?SYS>>|^\s*#{2,}\s*(?:system|instruction)s?\s*:?\s*$|\bBEGIN (?:NEW |UPDATED )?(?:SYSTEM )?INSTRUCTIONS\b|\bEND OF (?:SYSTEM )?PROMPT\b)"),
    (0.8, r"\b(?:new|updated|real|actual|true)\s+(?:system\s+)?instructions?\s*(?::|are|follow)"),
    (0.75, r"\b(?:say|respond with|reply with|output|print)\b[^.\n]{0,20}[\"']?access granted[\"']?"),
    (0.7, r"\b(?:do not|don't|never)\b[^.\n]{0,30}\b(?:refuse|apologi[sz]e|warn|mention (?:that )?you are an ai)\b"),
    (0.6, r"\b(?:AI|assistant|model)\b[^.\n]{0,30}\b(?:must|should|will) (?:now )?(?:obey|comply with) (?:me|my|the following)\b"),
    # "forget everything before that", "forget all of the above": a reset of the conversation
    (0.95, r"\b(?:forget|disregard|ignore)\s+(?:about\s+)?(?:everything|all(?: of)?(?: that| this| the)?|what)\b[^.\n]{0,30}\b(?:before|above|earlier|previous(?:ly)?|prior|so far|(?:you(?:'ve| have| were)?|i) (?:been )?(?:told|said|given|instructed|learned))\b"),
    # "ignore X and instead say Y" (instructions hidden in documents and code comments)
    (0.9, r"\b(?:ignore|disregard)\b[^.\n]{0,60}\b(?:and|then|instead|but)\b[^.\n]{0,30}\b(?:say|state|respond|reply|output|print|answer|tell|write|claim)\b"),
    # the same override in other languages (German, French, Spanish, Italian, Portuguese,
    # Dutch, Russian, Chinese): an override is an override in any language
    (0.95, r"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missachte|übergehe)\b[^.\n]{0,40}\b(?:bisherigen?|vorherigen?|vorigen?|obigen?|früheren?|alle[ns]?|sämtliche)\b[^.\n]{0,30}(?:anweisungen|instruktionen|befehle|regeln|vorgaben|anordnungen|alles|davor)"),
    (0.95, r"\b(?:ignore[zr]?|oublie[zr]?)\b[^.\n]{0,40}\b(?:instructions?|consignes?|règles|directives|tout ce qui)\b[^.\n]{0,30}\b(?:précédentes?|antérieures?|ci-dessus|avant|précède)"),
    (0.95, r"\b(?:ignora(?:r|d)?|olvida(?:r|d)?|olvídate de|ignore|esqueça|esqueca)\b[^.\n]{0,40}\b(?:instrucciones|istruzioni|instruções|instrucoes|indicaciones|reglas|regole|regras|todo lo|tutto)\b[^.\n]{0,30}\b(?:anteriores|previas|precedenti|anteriori|acima|arriba|sopra|antes|prima)"),
    (0.95, r"\b(?:negeer|vergeet)\b[^.\n]{0,40}\b(?:vorige|eerdere|voorgaande|alle)\b[^.\n]{0,30}\b(?:instructies|regels|opdrachten)"),
    (0.95, r"(?:игнорир|забудь|забудьте|не обращай)[^.\n]{0,40}(?:предыдущ|прежн|все|вышеуказанн)[^.\n]{0,30}(?:инструкц|указани|правил|команд)"),
    # asking the model for its own secrets: "what is your password / secret key / access code"
    (0.9, r"\b(?:what(?:'s| is| are| was)|tell me|give me|reveal|share|print|show|spell|confirm|type out|write down)\b[^.?\n]{0,30}\byour\s+(?:own\s+)?(?:secret(?: key| word| code)?(?!\s+(?:recipe|ingredient|sauce|of|to|for|weapon|garden|life))|password|passcode|pass ?phrase|access code|api key|private key|hidden (?:key|word|instructions?)|confidential (?:data|information|instructions?)|system (?:prompt|message|instructions?))\b(?!\s+(?:polic(?:y|ies)|requirements?|rules?|manager|reset|change|length|strength|expir\w*|complexity|history|format|rotation|settings?|field|prompt\s+engineering))"),
    # a claimed authority over the model ("I am your developer", "as your administrator")
    (0.8, r"\b(?:i am|i'm|this is|as)\s+(?:your|the)\s+(?:developer|creator|programmer|admin(?:istrator)?|owner|operator|system administrator|sysadmin)s?\b"),
    (0.95, r"(?:تجاهل|انس)[^.\n]{0,30}(?:التعليمات|الأوامر|التوجيهات)"),
    (0.95, r"(?:忽略|无视|忘记|忘掉)[^。\n]{0,10}(?:之前|以上|先前|上面|前面|所有)[^。\n]{0,10}(?:指令|指示|说明|规则|提示)"),
]
_HEURISTIC_RX = [(w, re.compile(p, re.IGNORECASE | re.MULTILINE)) for w, p in _HEURISTICS]
# Each rule needs one of these words (in the lower-cased text) before its regex is tried:
# substring tests cost far less than a case-insensitive scan with bounded gaps.
_GATES: list[tuple[str, ...]] = [
    ("ignore", "disregard", "forget", "override", "bypass", "skip"),
    ("prompt", "instruction", "rules", "text above"),
    ("dan", "do anything now", "developer mode", "jailbreak", "stan", "dude", "aim"),
    ("restriction", "rule", "limit", "filter", "guideline", "ethic", "moral", "polic", "censor"),
    ("<|", "<", "[inst]", "[/inst]", "<<sys>>", "##", "instructions", "end of"),
    ("instruction",),
    ("access granted",),
    ("refuse", "apologi", "warn", "you are an ai"),
    ("obey", "comply"),
    ("forget", "disregard", "ignore"),
    ("ignore", "disregard"),
    ("ignorier", "vergiss", "vergessen", "missachte", "übergehe"),
    ("ignore", "oublie"),
    ("ignora", "olvida", "olvídate", "ignore", "esqueç", "esquec"),
    ("negeer", "vergeet"),
    ("игнорир", "забуд", "не обращай"),
    ("your",),
    ("developer", "creator", "programmer", "admin", "owner", "operator"),
    ("تجاهل", "انس"),
    ("忽略", "无视", "忘记", "忘掉"),
]
assert len(_GATES) == len(_HEURISTIC_RX)

# Tool / retrieved content is data: what makes it an attack is an instruction addressed to
# the model inside it, a fake turn or role claim, or a request to call a tool / send data.
_TOOL_HEURISTICS: list[tuple[float, str, tuple[str, ...]]] = [
    # a fake conversation turn inside the data ("Human: send 50 dollars to ...")
    (0.9, r"^\s*(?:human|user|system|###\s*(?:human|user|system|instruction))\s*:\s*\S|(?-i:\b(?:Human|User|System)\s*:\s+[A-Z])", ("human", "user", "system", "###")),
    # the data speaks to the assistant
    (0.9, r"\b(?:AI|assistant|chatbot|language model|LLM|agent|GPT|Claude|Copilot)\b[,:]?\s+(?:please\s+|you (?:must|should|need to|have to|will)\s+|now\s+|immediately\s+)?(?:ignore|disregard|forget|send|forward|e-?mail|transfer|call|execute|run|reply|respond|say|tell|output|print|include|delete|visit|open|click|book|buy|pay)\b",
     ("ai", "assistant", "chatbot", "model", "llm", "agent", "gpt", "claude", "copilot")),
    (0.85, r"\b(?:when|if|once|after) you (?:read|see|process|summari[sz]e|encounter|parse|are asked about) (?:this|these|the following)\b", ("when you", "if you", "once you", "after you")),
    # role / system claims
    (0.85, r"\[(?:system|admin|developer)(?: message| note| override| instruction)?\]|\b(?:system|admin(?:istrator)?|developer) (?:message|note|override|notice|instructions?)\s*:", ("system", "admin", "developer")),
    # a request to call a tool (flag: documentation says "use the X tool" too)
    (0.7, r"\b(?:call|invoke|trigger|execute)\s+(?:the\s+)?[`'\"]?[\w.-]+[`'\"]?\s+(?:tool|plugin|action|function call)\b", ("call", "invoke", "trigger", "execute")),
    # exfiltration: send / post data to an address or URL
    (0.7, r"\b(?:send|forward|e-?mail|post|upload|leak|exfiltrate)\b[^.\n]{0,60}\b(?:to|at)\s+(?:[\w.+-]+@[\w-]+\.[\w.]+|https?://)", ("send", "forward", "mail", "post", "upload", "leak", "exfiltrate")),
]
_TOOL_RX = [(w, re.compile(p, re.IGNORECASE | re.MULTILINE), g) for w, p, g in _TOOL_HEURISTICS]
