"""Cedar policies for actions: parsed and validated against Seawall's schema once per load,
evaluated per action, failing closed.

Cedar decides permit or deny (deny by default; any matching `forbid` wins). Degrade and
escalate are annotations on the `permit` policies that matched:

    @id("cap-refunds") @degrade("cap") @field("amount") @max("100")
    permit (principal, action == Action::"call", resource) when { context.tool == "crm.refund" };

    @id("deletes-need-approval") @escalate("approval")
    permit (principal, action, resource) when { context.effect == "delete" };

If any matching permit escalates, the action waits for a human; otherwise every matching
degrade is applied, in policy id order. A policy engine that errors, a request the schema
rejects, or an unreadable annotation all deny.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy

# The fixed vocabulary policies are written in; a policy that names anything else fails at load.
SCHEMA = """
entity Department;
entity Team in [Department];
entity User in [Team, Department];
entity Key in [User, Team, Department];
entity System;
entity Record in [System];
type Ctx = {
  tool: String, server: String, operation: String, effect: String,
  arguments: Set<String>, argument_names: Set<String>,
  amount: Long, count: Long, wildcard: Bool, dry_run: Bool,
  risk: Long, hour: Long, weekday: Long, sensitivity: String, injection: Long,
};
action call appliesTo { principal: [Key], resource: [System, Record], context: Ctx };
"""

DEGRADES = {"dry_run", "cap", "read_only"}


class PolicyError(Exception):
    """The policies do not parse, do not validate against the schema, or carry a bad annotation."""


@dataclass(frozen=True, slots=True)
class Rewrite:
    kind: str  # dry_run | cap | read_only
    policy: str
    field: str = ""
    max: float = 0.0
    tool: str = ""


@dataclass(slots=True)
class Verdict:
    decision: str  # allow | deny | degrade | escalate
    policies: list[str] = field(default_factory=list)  # the policy ids that determined it
    rewrites: list[Rewrite] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _number(value: str, where: str) -> float:
    try:
        out = float(value)
    except ValueError:
        raise PolicyError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(out) or out < 0:
        raise PolicyError(f"{where}: {value!r} must be a finite number >= 0")
    return out


class PolicyEngine:
    """One loaded policy set. `version` is a hash of its text: approvals are bound to it, so a
    policy change voids what was approved under the old rules."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.version = hashlib.sha256(text.encode()).hexdigest()[:16]
        try:
            self.schema = cedarpy.Schema.from_str(SCHEMA)
            self.policies = cedarpy.PolicySet.from_str(text) if text.strip() else None
        except ValueError as exc:
            raise PolicyError(f"the policies do not parse: {exc}") from None
        if self.policies is not None:
            result = cedarpy.validate_policies(text, self.schema)
            if not result.validation_passed:
                raise PolicyError("the policies do not validate against the schema: "
                                  + "; ".join(str(e) for e in result.errors))
        self.names: dict[str, str] = {}  # cedar's policyN -> the @id (or policyN)
        self.escalate: dict[str, dict] = {}
        self.degrade: dict[str, Rewrite] = {}
        self._read_annotations(text)

    def _read_annotations(self, text: str) -> None:
        import orjson

        if not text.strip():
            return
        doc = orjson.loads(cedarpy.policies_to_json_str(text))
        for pid, pol in doc.get("staticPolicies", {}).items():
            ann = pol.get("annotations") or {}
            name = ann.get("id") or pid
            self.names[pid] = name
            if ("escalate" in ann or "degrade" in ann) and pol.get("effect") != "permit":
                raise PolicyError(f"policy {name}: degrade and escalate belong on permit policies")
            if "escalate" in ann:
                self.escalate[pid] = {"kind": ann["escalate"] or "approval",
                                      "ttl_s": _number(ann["ttl"], f"policy {name} @ttl") if "ttl" in ann else None}
            if "degrade" in ann:
                kind = ann["degrade"]
                if kind not in DEGRADES:
                    raise PolicyError(f"policy {name}: @degrade must be one of {sorted(DEGRADES)}, not {kind!r}")
                if kind == "cap":
                    if not ann.get("field") or "max" not in ann:
                        raise PolicyError(f"policy {name}: @degrade(\"cap\") needs @field and @max")
                    self.degrade[pid] = Rewrite("cap", name, field=ann["field"],
                                                max=_number(ann["max"], f"policy {name} @max"))
                elif kind == "read_only":
                    if not ann.get("tool"):
                        raise PolicyError(f"policy {name}: @degrade(\"read_only\") needs @tool (the read-only variant)")
                    self.degrade[pid] = Rewrite("read_only", name, tool=ann["tool"])
                else:
                    self.degrade[pid] = Rewrite("dry_run", name, field=ann.get("field") or "dry_run")

    def decide(self, principal: dict, resource: dict, context: dict, entities: list[dict]) -> Verdict:
        """Cedar's answer read as allow, deny, degrade or escalate. Never raises: an error denies."""
        if self.policies is None:
            return Verdict("deny", errors=["no policy is loaded (deny by default)"])
        request = {"principal": principal, "action": {"type": "Action", "id": "call"},
                   "resource": resource, "context": context}
        try:
            result = cedarpy.is_authorized(request, self.policies, entities, self.schema)
        except Exception as exc:  # noqa: BLE001 - any failure of the engine denies
            return Verdict("deny", errors=[f"policy engine error: {type(exc).__name__}"])
        reasons = list(result.diagnostics.reasons)
        errors = [str(e) for e in result.diagnostics.errors]
        named = [self.names.get(p, p) for p in reasons]
        if result.decision != cedarpy.Decision.Allow:
            return Verdict("deny", named, errors=errors)
        if errors:  # a policy that failed to evaluate might have been a forbid: fail closed
            return Verdict("deny", named, errors=errors)
        if any(p in self.escalate for p in reasons):
            return Verdict("escalate", named)
        rewrites = sorted((self.degrade[p] for p in reasons if p in self.degrade), key=lambda r: r.policy)
        return Verdict("degrade" if rewrites else "allow", named, rewrites)

    def escalation_ttl(self, verdict: Verdict) -> float | None:
        ttls = [e["ttl_s"] for pid, e in self.escalate.items()
                if self.names.get(pid) in verdict.policies and e["ttl_s"]]
        return min(ttls) if ttls else None


def load_text(paths: list[str], inline: str = "") -> str:
    parts = []
    for p in paths:
        try:
            parts.append(Path(p).read_text())
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {p}: {exc.strerror}") from None
    if inline:
        parts.append(inline)
    return "\n".join(parts)


def apply(rewrites: list[Rewrite], tool: str, arguments: dict) -> tuple[str, dict, list[dict]]:
    """The deterministic rewrite and its difference, one entry per changed field."""
    args = dict(arguments)
    diff: list[dict] = []
    for r in rewrites:
        if r.kind == "dry_run":
            if args.get(r.field) is not True:
                diff.append({"policy": r.policy, "field": r.field, "from": args.get(r.field), "to": True})
                args[r.field] = True
        elif r.kind == "cap":
            value = args.get(r.field)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > r.max:
                capped = int(r.max) if float(r.max).is_integer() and isinstance(value, int) else r.max
                diff.append({"policy": r.policy, "field": r.field, "from": value, "to": capped})
                args[r.field] = capped
            elif isinstance(value, list) and len(value) > r.max:
                diff.append({"policy": r.policy, "field": r.field, "from": len(value), "to": int(r.max)})
                args[r.field] = value[: int(r.max)]
        elif r.kind == "read_only" and tool != r.tool:
            diff.append({"policy": r.policy, "field": "tool", "from": tool, "to": r.tool})
            tool = r.tool
    return tool, args, diff
