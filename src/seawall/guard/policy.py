"""What a guard is told to do: one pydantic model per alias / per key.

A policy is plain data so it can come from YAML config. Defaults are the safe ones:
secrets block, PII tokenizes, injection blocks at a high score, errors fail closed.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PiiAction = Literal["allow", "mask", "redact", "tokenize", "block"]
BandAction = Literal["allow", "flag", "block"]

# Entity types the fast path recognises (pii.py, pii_ids.py, pii_names.py, pii_more.py, pii_places.py); NER adds more
DEFAULT_PII_ACTIONS: dict[str, PiiAction] = {
    "EMAIL_ADDRESS": "tokenize",
    "PHONE_NUMBER": "tokenize",
    "CREDIT_CARD": "redact",
    "IBAN_CODE": "redact",
    "US_SSN": "redact",
    "IP_ADDRESS": "tokenize",  # public (personal data under GDPR) and private (internal topology): pii_private_ips
    "STREET_ADDRESS": "tokenize",
    "PERSON": "tokenize",  # the fast name detector (pii_names.py) is on by default; NER adds more
    # pii_places.py: reported (findings, eval) but forwarded as written: most requests need a city
    # or a date; an operator who wants them out sets "tokenize"
    "LOCATION": "allow",
    "DATE_TIME": "allow",
    "ORGANIZATION": "allow",
    # identifiers found by label or checksum (pii_ids.py)
    "PASSPORT": "redact",
    "DRIVER_LICENSE": "redact",
    "NATIONAL_ID": "redact",  # PESEL, DNI / NIE, UK NINO, Polish ID card, labeled national IDs
    "TAX_ID": "redact",  # NIP, REGON, EIN / TIN, VAT numbers
    "BANK_ACCOUNT": "redact",
    "ROUTING_NUMBER": "redact",
    "ID_NUMBER": "redact",  # labeled patient / insurance / member numbers
    "VEHICLE_ID": "redact",
    "LICENSE_PLATE": "tokenize",  # names a car's keeper; the model may still refer to it
    "PASSWORD": "redact",  # "my password is ..." in prose: redact, not block, so the question still goes through
    "CREDENTIAL": "redact",
    # pii_more.py: the model may need to refer to an account or a device, so those tokenize
    # (restored in the answer); what lets someone pay with a card or move money is redacted
    "USERNAME": "tokenize",
    "MAC_ADDRESS": "tokenize",
    "IMEI": "tokenize",
    "DATE_OF_BIRTH": "tokenize",
    "SWIFT_CODE": "tokenize",  # names a bank, not a person: tokenized only because it sits next to an account
    "CRYPTO_WALLET": "redact",  # like an IBAN
    "CARD_CVV": "redact",
    "CARD_EXPIRY": "redact",
    "GPS_COORDINATES": "tokenize",  # where someone is, to ~10 m
    # a labeled age ("Age: 58", "a 67-year-old patient"): reported, forwarded as written like dates
    # and places; alone it names no one, and the model needs it ("toys for a 5 year old", a dose)
    "AGE": "allow",
}


class InjectionBands(BaseModel):
    """Score thresholds for one content source. score >= block -> block; >= flag -> flag."""

    model_config = ConfigDict(extra="forbid")
    flag: float = Field(0.5, ge=0.0, le=1.0)
    block: float = Field(0.9, ge=0.0, le=1.0)

    def action(self, score: float) -> BandAction:
        if score >= self.block:
            return "block"
        if score >= self.flag:
            return "flag"
        return "allow"


class GuardPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    fail_open: bool = False

    # --- PII
    pii_enabled: bool = True
    pii_actions: dict[str, PiiAction] = Field(default_factory=lambda: dict(DEFAULT_PII_ACTIONS))
    pii_default_action: PiiAction = "allow"  # for entity types not listed in pii_actions
    pii_ner: bool = False  # Presidio + spaCy NER (PERSON, LOCATION, ...): slow, off by default
    pii_min_score: float = 0.5
    # private IPv4 / IPv6 addresses (10.0.0.0/8, 192.168.0.0/16, fd00::/8 ...) count as IP_ADDRESS:
    # sent upstream they map the internal network; False forwards them (public ones still count)
    pii_private_ips: bool = True
    mask_char: str = "*"
    mask_keep_last: int = 4

    # --- secrets
    secrets_enabled: bool = True
    secrets_action: Literal["allow", "redact", "block"] = "block"
    secrets_extended: bool = False  # every detect-secrets plugin incl. keyword + entropy (~3 ms/KB)

    # --- prompt injection
    injection_enabled: bool = True
    injection_classifier: bool = True  # MiniLM classifier; False = heuristics only
    # fast: static MiniLM token embeddings (~1-2 ms/KB, meets the 5 ms budget); full: the MiniLM
    # transformer (~50-170 ms/KB on one busy CPU thread); cascade: fast clears clearly benign
    # text, the transformer scores the rest (best TPR, for high-risk aliases or tool content)
    injection_model: Literal["fast", "cascade", "full"] = "fast"
    injection_user: InjectionBands = Field(default_factory=lambda: InjectionBands(flag=0.5, block=0.9))
    injection_tool: InjectionBands = Field(default_factory=lambda: InjectionBands(flag=0.4, block=0.8))
    # The fast head alone reaches a score only up to just below the block band unless this is
    # on: held out of training, no head keeps false blocks <= 1 % on every benign set
    # (docs/benchmarks.md), so by default the classifier flags and the rules block.
    injection_classifier_blocks: bool = False
    injection_allowlist: list[str] = Field(default_factory=list)  # regexes; a matching text is not scored
    injection_scan_system: bool = False

    # --- size limits (0 = unlimited)
    max_input_chars: int = 0
    max_input_tokens: int = 0  # estimated at ~4 chars per token
    max_messages: int = 0
    # what the guard reads at most (characters of all scanned text together); a longer request
    # is blocked (request_too_large) before any scan: too long to check in bounded time.
    # 0 = no cap (the pattern budget still bounds the scan: guard_error). docs/guardrails.md
    max_scan_chars: int = Field(262_144, ge=0)

    # --- output
    output_enabled: bool = True
    output_secrets_action: Literal["allow", "redact", "block"] = "block"
    output_pii_actions: dict[str, PiiAction] = Field(default_factory=dict)  # default: no output PII action
    output_holdback_chars: int = Field(64, ge=0)
    output_max_hold_chars: int = Field(8192, ge=256)
    validate_json_schema: bool = True
    on_invalid_json: Literal["error", "allow"] = "error"

    # --- sensitivity routing: kind -> tags the deployment must carry (e.g. {"US_SSN": ["self_hosted"]})
    sensitive_kinds_route_to_tags: dict[str, list[str]] = Field(default_factory=dict)
    sensitive_unroutable_action: Literal["block", "allow"] = "block"

    # --- time budgets (seconds) per detector group; exceeding one is a guard_error
    pattern_budget_s: float = Field(0.25, gt=0)
    classifier_budget_s: float = Field(2.0, gt=0)
    ner_budget_s: float = Field(2.0, gt=0)
    # extra time allowed while a model is still loading (first request; call Guard.warm_up at start-up)
    model_load_budget_s: float = Field(60.0, ge=0)

    def pii_action(self, entity: str) -> PiiAction:
        return self.pii_actions.get(entity, self.pii_default_action)
