"""Evaluating only the policies that can apply to a request (policy.py), with only the context
fields they read, must give exactly the answer of the whole set with the whole context: the
same decision, the same determining policies and the same errors, over random policy sets and
random requests, including policies whose conditions raise errors (Cedar reports them;
Seawall then denies), scopes on principals, systems and records, and policies that use the
context whole."""
from __future__ import annotations

import random

from seawall.actions.policy import PolicyEngine
from seawall.actions.service import Action, _entities, _uids

TOOLS = ["crm.read", "crm.refund", "crm.delete", "erp.read", "erp.pay", "hr.update"]
SERVERS = ["crm", "erp", "hr", "ops"]
TEAMS = ["t0", "t1", "t2"]
BIG = 4611686018427387904  # amount * BIG overflows a Cedar Long for any amount >= 2: an error


def _condition(rng: random.Random) -> str:
    tool, server = rng.choice(TOOLS + ["nowhere.none"]), rng.choice(SERVERS)
    tests = [f'context.tool == "{tool}"', f'"{tool}" == context.tool', f'context.server == "{server}"',
             f"context.amount > {rng.randint(0, 500)}", f"context.amount * {BIG} > 1",
             f'context.effect == "{rng.choice(["read", "write", "delete"])}"', f"context.risk > {rng.randint(0, 90)}",
             f'principal in Team::"{rng.choice(TEAMS)}"', 'context.arguments.contains("force=true")',
             f"context.hour < {rng.randint(0, 24)}", 'context has sensitivity && context.sensitivity == "none"',
             "context == context", f'context["weekday"] == {rng.randint(0, 1)}']
    parts = rng.sample(tests, rng.randint(1, 3))
    return " && ".join(parts) if rng.random() < 0.8 else " || ".join(parts)


def _policy(i: int, rng: random.Random) -> str:
    effect = "forbid" if rng.random() < 0.3 else "permit"
    who = rng.choice(["principal", f'principal in Team::"{rng.choice(TEAMS)}"', 'principal == Key::"k1"',
                      'principal in Department::"d1"', 'principal is Key in User::"u2"', 'principal in Key::"k2"'])
    what = rng.choice(["resource", f'resource in System::"{rng.choice(SERVERS)}"',
                       f'resource == System::"{rng.choice(SERVERS)}"', 'resource == Record::"crm/7"',
                       f'resource is Record in System::"{rng.choice(SERVERS)}"', "resource is System"])
    clauses = "".join(f" {rng.choice(['when', 'when', 'unless'])} {{ {_condition(rng)} }}"
                      for _ in range(rng.choice([0, 1, 1, 2])))
    return f'@id("p{i}") {effect} ({who}, action, {what}){clauses};'


def _request(rng: random.Random):
    tool = rng.choice(TOOLS + ["ops.other"])
    server, _, op = tool.partition(".")
    action = Action(server, op, {}, record=rng.choice([None, None, "7", "8"]))
    who = {"key": rng.choice(["k1", "k2", "k3"]), "user": rng.choice(["u1", "u2", None]),
           "team": rng.choice(TEAMS + [None]), "department": rng.choice(["d1", "d2", None])}
    context = {"tool": tool, "server": server, "operation": op, "effect": rng.choice(["read", "write", "delete"]),
               "arguments": rng.choice([[], ["force=true"], ["id=1"]]), "argument_names": [],
               "amount": rng.choice([0, 1, 2, 50, 300, 10**6]), "count": 0, "wildcard": False, "dry_run": False,
               "risk": rng.randint(0, 100), "hour": rng.randint(0, 23), "weekday": 0, "sensitivity": "none",
               "injection": 0}
    return who, action, context


def test_the_sliced_set_decides_exactly_as_the_whole_set():
    rng = random.Random(16)
    compared = smaller = 0
    outcomes = set()
    for round_ in range(12):
        engine = PolicyEngine("\n".join(_policy(i, rng) for i in range(rng.randint(5, 60))))
        for _ in range(150):
            who, action, context = _request(rng)
            principal, resource, within = _uids(who, action)
            full = engine.decide(principal, resource, context, _entities(who, action)[2], sliced=False)
            part = engine.decide(principal, resource, context, lambda: _entities(who, action)[2], within=within,
                                 cache_key=(*who.values(), action.server, action.record))
            assert (part.decision, sorted(part.policies), sorted(part.errors)) == \
                   (full.decision, sorted(full.policies), sorted(full.errors)), (engine.text, who, action, context)
            assert part.rewrites == full.rewrites
            outcomes.add((full.decision, bool(full.errors)))
            compared += 1
            kept = str(engine._slice(context["tool"], context["server"], within)).count(";")
            smaller += kept < len(engine._static)
    assert compared == 1800
    # the random sets exercised allow, deny and evaluation errors, and slicing really left policies out
    assert {("allow", False), ("deny", False), ("deny", True)} <= outcomes
    assert smaller > 1000


def test_a_policy_whose_first_test_can_raise_is_never_left_out():
    """`amount * BIG > 1 && context.tool == "x"` errors before its tool test is reached: it must
    be evaluated (and its error reported) for every tool, not only for "x"."""
    engine = PolicyEngine('@id("r") permit (principal, action, resource);\n'
                          f'@id("f") forbid (principal, action, resource) when {{ context.amount * {BIG} > 1 && '
                          'context.tool == "crm.refund" };')
    who = {"key": "k1", "user": None, "team": None, "department": None}
    action = Action("erp", "pay", {})
    _, _, context = _request(random.Random(1))
    context.update(tool="erp.pay", server="erp", operation="pay", amount=5)
    principal, resource, within = _uids(who, action)
    v = engine.decide(principal, resource, context, lambda: _entities(who, action)[2], within=within,
                      cache_key=(*who.values(), "erp", None))
    assert v.decision == "deny" and v.errors


def test_a_context_that_does_not_match_the_schema_is_denied():
    engine = PolicyEngine('@id("r") permit (principal, action, resource);')
    who = {"key": "k1", "user": None, "team": None, "department": None}
    action = Action("erp", "pay", {})
    _, _, context = _request(random.Random(2))
    principal, resource, within = _uids(who, action)
    for bad in ({"amount": "5"}, {"dry_run": 1}, {"arguments": [1]}, {"extra": 1}, {"amount": 2**63}):
        ctx = {**context, **bad}
        v = engine.decide(principal, resource, ctx, lambda: _entities(who, action)[2], within=within,
                          cache_key=(*who.values(), "erp", None))
        assert v.decision == "deny" and v.errors == ["the request does not match the policy schema"], bad
        assert engine.decide(principal, resource, ctx, _entities(who, action)[2], sliced=False).decision == "deny"


def test_a_request_seen_before_gets_the_answer_cedar_gave_it():
    """The engine remembers Cedar's verdict per exact request (slice, principal, resource,
    context, entities): asked again, the same request gets the whole set's answer, a field the
    policies read still changes it, and a caller that edits a verdict changes no other."""
    rng = random.Random(7)
    engine = PolicyEngine("\n".join(_policy(i, rng) for i in range(40)))
    requests = [_request(rng) for _ in range(60)]
    first = {}
    for _ in range(3):  # the 2nd and 3rd passes are answered from memory
        for i, (who, action, context) in enumerate(requests):
            principal, resource, within = _uids(who, action)
            full = engine.decide(principal, resource, context, _entities(who, action)[2], sliced=False)
            got = engine.decide(principal, resource, context, lambda: _entities(who, action)[2], within=within,
                                cache_key=(*who.values(), action.server, action.record))
            assert (got.decision, sorted(got.policies), sorted(got.errors)) == \
                   (full.decision, sorted(full.policies), sorted(full.errors))
            assert got.rewrites == full.rewrites
            if not got.errors:  # remembered: exactly the first answer (Cedar's order of reasons included)
                assert (got.decision, got.policies) == first.setdefault(i, (got.decision, got.policies))
    assert engine._answers  # it did remember

    capped = PolicyEngine('@id("small") permit (principal, action, resource) when { context.amount < 100 };')
    who = {"key": "k1", "user": None, "team": None, "department": None}
    action = Action("erp", "pay", {})
    _, _, context = _request(random.Random(3))
    principal, resource, within = _uids(who, action)

    def decide(amount):
        return capped.decide(principal, resource, {**context, "tool": "erp.pay", "server": "erp", "amount": amount},
                             lambda: _entities(who, action)[2], within=within, cache_key=(*who.values(), "erp", None))

    first = decide(50)
    assert first.decision == "allow" and first.policies == ["small"]
    first.policies.append("edited by a caller")
    assert decide(50).policies == ["small"]
    assert decide(500).decision == "deny"
    assert decide(50).decision == "allow"

    # a context longer than the memo keeps (many arguments a policy reads) is decided, not kept
    reads_args = PolicyEngine('@id("a") permit (principal, action, resource) when '
                              '{ context.arguments.contains("ok=1") };')
    many = ["ok=1"] + [f"a{i}={'x' * 200}" for i in range(20)]
    for _ in range(2):
        v = reads_args.decide(principal, resource, {**context, "tool": "erp.pay", "server": "erp", "arguments": many},
                              lambda: _entities(who, action)[2], within=within, cache_key=(*who.values(), "erp", None))
        assert v.decision == "allow"
    assert not reads_args._answers
