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

Speed (docs/benchmarks.md, "Action proxy"; docs/actions.md, "How a decision is evaluated"):
each request is evaluated against the slice of the set that can apply to it. A policy is left
out only when Cedar could not even start its conditions for the request: its principal scope
names an entity the caller is not (in), its resource scope names another System, or the first
test of its first `when` is `context.tool == "..."` (or `context.server`) with another value.
`&&` stops at a false left side and scopes never error, so a left-out policy could neither
match nor raise an error: the answer (forbid wins, deny by default, reasons, errors) is the
full set's. Most of Cedar's cost is parsing the request, so the slice gets only the context
fields its policies read, after a check against Ctx in Python. Slices are built once per
(tool, server, caller's scopes) the policies name; the entity graph is parsed once per
principal and resource.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy
import orjson

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
MEMO_ANSWERS, MEMO_CONTEXT_CHARS = 8192, 2048  # remembered verdicts: how many, and their longest context
# Ctx above as Python types, for the cheap per-request check that stands in for Cedar's
# (Cedar's schema-directed parse of a request cost more than the evaluation itself)
_STR, _INT, _BOOL, _STRS = "str", "int", "bool", "strs"
CTX_TYPES = {"tool": _STR, "server": _STR, "operation": _STR, "effect": _STR, "arguments": _STRS,
             "argument_names": _STRS, "amount": _INT, "count": _INT, "wildcard": _BOOL, "dry_run": _BOOL,
             "risk": _INT, "hour": _INT, "weekday": _INT, "sensitivity": _STR, "injection": _INT}
_LONG = 2**63


def _conforms(context: dict) -> bool:
    """The context has exactly Ctx's fields with Ctx's types (what the schema would check)."""
    if context.keys() != CTX_TYPES.keys():
        return False
    for name, kind in CTX_TYPES.items():
        v = context[name]
        if kind == _STR:
            ok = type(v) is str
        elif kind == _INT:
            ok = type(v) is int and -_LONG <= v < _LONG
        elif kind == _BOOL:
            ok = type(v) is bool
        else:
            ok = isinstance(v, list) and all(type(x) is str for x in v)
        if not ok:
            return False
    return True


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
        self._static: dict[str, dict] = {}  # policyN -> its JSON form (what slices are built from)
        self._guards: list[tuple] = []  # (policyN, tool, server, principal scope)
        self._tools: set[str] = set()
        self._servers: set[str] = set()
        self._members: dict[tuple, set] = {}  # (type, id) -> the principal scopes naming it
        self._slices: dict[tuple, Any] = {}
        self._entities: dict[tuple, Any] = {}
        # (policy slice, schema used, principal, resource, context JSON, entities key) -> the
        # verdict Cedar gave: Cedar is a pure function of exactly these, so a request seen
        # before gets the same answer without the call (its cost is mostly parsing the request)
        self._answers: dict[tuple, Verdict] = {}
        self._read_annotations(text)

    def _read_annotations(self, text: str) -> None:
        if not text.strip():
            return
        doc = orjson.loads(cedarpy.policies_to_json_str(text))
        self._static = doc.get("staticPolicies", {})
        if not doc.get("templates") and not doc.get("templateLinks"):  # templates: always the full set
            self._guards = [(pid, *_guard(pol)) for pid, pol in self._static.items()]
        self._tools = {g[1] for g in self._guards if g[1] is not None}
        self._servers = {g[2] for g in self._guards if g[2] is not None}
        for g in self._guards:
            if g[3] is not None:
                self._members.setdefault((g[3][1], g[3][2]), set()).add(g[3])
        for pid, pol in self._static.items():
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

    def _slice(self, tool: str, server: str, within: frozenset | None):
        """The policies that can apply to a request for this tool on this server, by a principal
        that is (or is in) each entity of `within` (None: unknown, keep every principal scope),
        and the context fields they read (None: they use the context whole)."""
        scopes = None
        if within is not None:  # the principal scopes this caller satisfies (`==` only on the Key itself)
            scopes = frozenset(m for uid in within for m in self._members.get(uid, ())
                               if m[0] == "in" or m[1] == "Key")
        key = (tool if tool in self._tools else None, server if server in self._servers else None, scopes)
        got = self._slices.get(key)
        if got is None:
            keep = {pid: self._static[pid] for pid, t, s, m in self._guards
                    if (t is None or t == key[0]) and (s is None or s == key[1])
                    and (m is None or scopes is None or m in scopes)}
            fields: set | None = set()
            for pol in keep.values():
                used = _context_fields(pol)
                fields = None if used is None or fields is None else fields | used
            got = (cedarpy.PolicySet.from_json_str(orjson.dumps(
                {"staticPolicies": keep, "templates": {}, "templateLinks": []}).decode()),
                None if fields is None else sorted(fields))
            if len(self._slices) >= 4096:  # bounded by the policy text anyway; never unbounded
                self._slices.clear()
                self._answers.clear()  # its keys hold the slices: let them go too
            self._slices[key] = got
        return got

    def _parsed(self, key: tuple, build) -> Any:
        """The parsed entity graph for one principal and resource (`build()` -> list of entities)."""
        got = self._entities.get(key)
        if got is None:
            got = cedarpy.Entities.from_json_str(orjson.dumps(build()).decode(), self.schema)
            if len(self._entities) >= 4096:
                self._entities.clear()
            self._entities[key] = got
        return got

    def decide(self, principal: dict, resource: dict, context: dict, entities, sliced: bool = True,
               within: frozenset | None = None, cache_key: tuple | None = None) -> Verdict:
        """Cedar's answer read as allow, deny, degrade or escalate. Never raises: an error denies.
        `entities`: a list of entities, or with `cache_key` (what determines them) a function
        that builds it, parsed once per key; `within`: the principal's own uid and every
        ancestor in `entities`, as (type, id) pairs; `sliced` False evaluates the whole set
        (the tests compare both)."""
        if self.policies is None:
            return Verdict("deny", errors=["no policy is loaded (deny by default)"])
        try:
            if cache_key is not None:
                entities = self._parsed(cache_key, entities)
            policies, schema = self.policies, self.schema
            if sliced and self._guards:
                # The slice reads only some context fields; Cedar's cost is mostly parsing the
                # request, so it gets only those, checked here against Ctx instead of by Cedar
                # (the same check, the same values: Ctx holds no entity or extension types).
                if not _conforms(context):
                    return Verdict("deny", errors=["the request does not match the policy schema"])
                policies, fields = self._slice(context["tool"], context["server"], within)
                if fields is not None:
                    context, schema = {f: context[f] for f in fields}, None
            # the context as JSON text: cedarpy would otherwise encode it with the slower json module
            ctx_json = orjson.dumps(context).decode()
            memo = None
            # the entities are determined by cache_key (else: no memo); a long context (many
            # arguments a policy reads) is not kept: the memory stays bounded (8,192 x 2 KB)
            if cache_key is not None and len(ctx_json) <= MEMO_CONTEXT_CHARS:
                memo = (policies, schema is not None, principal["type"], principal["id"], resource["type"],
                        resource["id"], ctx_json, cache_key)
                known = self._answers.get(memo)
                if known is not None:  # a copy: callers own the lists they get
                    return Verdict(known.decision, list(known.policies), list(known.rewrites))
            request = {"principal": principal, "action": {"type": "Action", "id": "call"},
                       "resource": resource, "context": ctx_json}
            result = cedarpy.is_authorized(request, policies, entities, schema)
        except Exception as exc:  # noqa: BLE001 - any failure of the engine denies
            return Verdict("deny", errors=[f"policy engine error: {type(exc).__name__}"])
        verdict = self._verdict(result)
        if memo is not None and not verdict.errors:  # errors are evaluated every time
            if len(self._answers) >= MEMO_ANSWERS:
                self._answers.clear()
            self._answers[memo] = Verdict(verdict.decision, list(verdict.policies), list(verdict.rewrites))
        return verdict

    def _verdict(self, result) -> Verdict:
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


def _context_test(expr: dict) -> tuple[str, str] | None:
    """`context.tool == "x"` (either way round) as ("tool", "x"); anything else None."""
    eq = expr.get("==") if isinstance(expr, dict) else None
    if not isinstance(eq, dict):
        return None
    for a, b in ((eq.get("left"), eq.get("right")), (eq.get("right"), eq.get("left"))):
        attr = a.get(".") if isinstance(a, dict) else None
        value = b.get("Value") if isinstance(b, dict) else None
        if (isinstance(attr, dict) and attr.get("left") == {"Var": "context"}
                and attr.get("attr") in ("tool", "server") and isinstance(value, str)):
            return attr["attr"], value
    return None


def _context_fields(node) -> set | None:
    """The context attributes a policy reads (`context.x`, `context has x`); None when it uses
    the context some other way (then it gets all of it)."""
    out: set = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, list):
            stack.extend(n)
        elif isinstance(n, dict):
            for op in (".", "has"):
                inner = n.get(op)
                if isinstance(inner, dict) and inner.get("left") == {"Var": "context"} and len(n) == 1:
                    out.add(inner.get("attr"))
                    break
            else:
                if n.get("Var") == "context":
                    return None
                stack.extend(n.values())
    return out


def _guard(pol: dict) -> tuple:
    """What a request must have for Cedar to reach this policy's conditions: (tool, server,
    principal scope), None where anything goes. Only the scopes and the leftmost test of the
    first `when` count: they are evaluated before anything that could raise an error."""
    tool = server = None
    scope = pol.get("resource") or {}
    target = scope.get("entity") if scope.get("op") in ("==", "in") else (scope.get("in") or {}).get("entity")
    if isinstance(target, dict) and target.get("type") == "System" and isinstance(target.get("id"), str):
        server = target["id"]
    conditions = pol.get("conditions") or []
    if conditions and conditions[0].get("kind") == "when":
        first = conditions[0].get("body")
        while isinstance(first, dict) and "&&" in first:
            first = first["&&"].get("left")
        test = _context_test(first)
        if test is not None:
            if test[0] == "tool":
                tool = test[1]
            elif server is None:
                server = test[1]
    who = pol.get("principal") or {}
    member = who.get("entity") if who.get("op") in ("==", "in") else (who.get("in") or {}).get("entity")
    principal = None
    if who.get("op") in ("==", "in", "is") and isinstance(member, dict):
        principal = ("==" if who["op"] == "==" else "in", member.get("type"), member.get("id"))
    return tool, server, principal


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
