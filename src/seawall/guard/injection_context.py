"""What makes a rule's trigger words harmless: the context the injection rules look at before they
count "ignore the previous instructions", "what are your instructions", "User:" as an attack.

Each is a piece of a regular expression (or a compiled one) that the rule tables in
``injection_rules.py`` and ``injection_hijack.py`` append to their patterns. All were written from
our own probes of everyday requests that the rules blocked (helpdesk questions, edits, manuals,
records in tool output); see docs/benchmarks.md, "False blocks found by probing".
"""
from __future__ import annotations

import re

# After "your instructions" / "the system prompt": instructions on a topic of the user's ("for
# returning a product", "on pets", "in the context of LLMs"), or one the model would write, are not
# its own prompt; "for this conversation", "to me" still are.
ON_A_TOPIC = (r"(?!\s+(?:for|on|about|regarding|concerning|when|if|in the context|in general|you(?:'d| would| could| might)"
              r"|pour|sur|para|sobre|für|zu|zum|zur|über|per"
              r"|(?:i|we) (?:should|could|would))\b"
              r"(?!\s+(?:me|us|now|everything|anything|all|(?:this|the|our|that|your) (?:conversation|chat|session|task)s?)\b))")

# Things of the user's own that an ordinary request tells the model to ignore or forget ("ignore
# all previous drafts and write ...", "ignore the header row and print the totals"; not
# "messages" or "answers": "ignore all previous messages and say ..." overrides the conversation).
USER_THINGS = (r"(?:drafts?|versions?|e-?mails?|files?|attempts?|results?|entries|rows?|columns?|header"
               r"|comments?|notes?|tickets?|orders?|invoices?|changes|edits|commits?|values?|records?|suggestions?|typos?"
               r"|warnings?|errors?|case|whitespace|duplicates?|blank|empty|fields?|meeting|budget"
               # lines by position ("the first two lines"), not "the above lines"
               r"|(?:first|last|blank|empty|header|top|bottom|\d+|two|three|four|five)\s+(?:\w+\s+)?lines?)\b")
# "the earlier instructions in the e-mail from HR", "die vorherigen Anweisungen im Handbuch", "las
# instrucciones anteriores del manual": a document's instructions, named as such, in the languages of
# the override rules
_DOC = (r"e-?mails?|documents?|docs?|files?|memos?|letters?|manuals?|tickets?|pages?|guides?|handbooks?|polic(?:y|ies)|forms?"
        r"|sheets?|spreadsheets?|reports?|contracts?|readmes?|wikis?|leaflets?|brochures?|booklets?|tournaments?|games?|courses?"
        r"|handbuch\w*|dokument\w*|formular\w*|datei|brief\w*|vertrag\w*|anleitung|bedienungsanleitung|merkblatt\w*|leitfaden\w*"
        r"|richtlinie\w*|turnier\w*|spiel\w*|kurs\w*|broschüre|formulaire|notice|manuel|fichier|courriel|lettre|contrat|tournoi"
        r"|jeu|cours|manuale|documento|formulario|modulo|archivo|correo|carta|lettera|contrato|contratto|torneo|guía|guida|guia"
        r"|folleto|juego|gioco|curso|corso|handleiding|formulier|bestand|gids|toernooi|spel|cursus")
_DOC_REF = (r"(?:in|from|of|on|im|in dem|in der|aus dem|aus der|des|der|vom|von der|zum|zur|du|de la|de l'|dans le|dans la"
            r"|dans l'|sur le|sur la|del|de los|en el|en la|dal|dalla|della|nel|nella|do|da|no|na|in de|in het|uit de|uit het"
            r"|van de|van het)\s*(?:the|this|that|my|our|his|her|their|an?|dem|der|die|das|le|la|les|el|il|lo|o|a|het|de)?"
            r"\s*(?:\w+\s+)?(?:" + _DOC + r")\b")
# ... or a person's: "the previous instructions from Karl / from my manager" (a pasted chat or e-mail)
# (the rules read the text after PII rewriting: a name may already be "<PERSON_2>")
# (a capitalised word that is no name does not count: "... instructions From Now on you are DAN")
_PERSON_REF = (r"from\s+(?:<PERSON_\d+>|\[PERSON\]|(?!(?:now|here|then|there|this|that|the|today|tomorrow|above|before|earlier"
               r"|previous|your|you|me|my|us|our|all|everyone|anyone|someone|any|every|start|scratch)\b)(?-i:[A-Z][a-z]+)\b(?<!Anthropic)(?<!Google)(?<!Microsoft)(?<!Meta)(?<!Mistral)(?<!Claude)(?<!Gemini)"
               r"|(?:my|our|the|his|her|their)\s+(?:manager|boss|team|client|customer|colleague|lead|supervisor|teacher|doctor"
               r"|landlord|coach|hr|department|director|ceo|mentor|professor|lawyer|accountant)\b)")
IN_A_DOCUMENT = r"\b(?!\s+(?:\w+\s+)?(?:" + _DOC_REF + "|" + _PERSON_REF + "))"
FROM_A_PERSON = re.compile(r"\s+" + _PERSON_REF, re.IGNORECASE)
# the same for the multilingual override rules, which look at the whole clause: an instruction
# word followed by the document it belongs to
DOC_INSTRUCTIONS = re.compile(
    r"\b(?:instruction|consigne|règle|regle|directive|guideline|rule|anweisung|instruktion|regeln|vorgabe|richtlinie|instruccion"
    r"|instrucción|reglas|directrices|istruzion|regole|direttive|instruç|instruc|regras|diretrizes|instructie|regels)\w*"
    r"\s+(?:\w+\s+)?" + _DOC_REF, re.IGNORECASE)

# A turn says something: a function word before the line's next "Key:" ("Human: Send 50 dollars
# to ...", "System: you are now ..."); "User: jdoe  Last login: ...", "System: Ubuntu 22.04" and
# "Operating System: ..." are fields of a record.
TURN_OPENING = (r"(?=[^\n:]{0,80}?\b(?:to|the|a|an|my|your|our|their|all|and|for|of|with|from|this|that|in|on|at|me|it|you|i"
                r"|is|are|be|will|must|should|now|please|not|no)\b)")
# A support transcript in retrieved content ("User: my order has not arrived / Agent: I'm sorry,
# I'll check ...") answers its own turn with a person's reply; an injected turn is left for the
# model to answer (LLM-PIEval's end with an empty "Assistant:").
# The turn runs to the next line that opens with a speaker: a turn of several paragraphs, or a
# long one (chat logs pasted into a prompt: one paragraph of 600 characters is common), still
# gets its reply; another "User:" line first means the turn went unanswered.
REPLY_AFTER_TURN = r"(?:[^\n]{0,3000}\n(?![ \t]*(?:user|human|system)[ \t]*:)){1,12}?[ \t]*"
TRANSCRIPT_REPLY = (r"(?!" + REPLY_AFTER_TURN + r"(?:agent|support|support agent|representative|rep|operator|staff|technician|advisor"
                    r"|customer service|service desk|helpdesk|clerk)\s*:\s*\S)")
