"""The actions service: decide (risk, then Cedar), then run, rewrite, refuse or hold the action,
and audit every decision with its reasons.

The executor that really performs an action is handed in by the caller (an HTTP connector,
an MCP upstream): this service never holds a credential itself.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from ..core.errors import GatewayError
from ..core.types import AuditLog, Principal
from . import risk
from .approvals import Approvals, Refused, binding, bump_policy_generation, policy_generation
from .config import ActionsConfig
from .notify import Notifier
from .connectors import Connectors
from .policy import PolicyEngine, PolicyError, Verdict, apply, load_text

log = logging.getLogger("seawall.actions")
Executor = Callable[[str, dict], Awaitable[Any]]  # (tool, arguments) -> result


@dataclass(slots=True)
class Action:
    """One operation an agent attempts. `tool` is `server.operation`; `hints` are the upstream's
    own (untrusted) annotations; `injection` and `sensitivity` come from the guard."""

    server: str
    operation: str
    arguments: dict = field(default_factory=dict)
    record: str | None = None
    hints: dict | None = None
    injection: float = 0.0
    sensitivity: str = "none"
    effect: str | None = None  # what the caller's kind implies (an HTTP method); the config's declaration wins

    @property
    def tool(self) -> str:
        return f"{self.server}.{self.operation}"


@dataclass(slots=True)
class Decision:
    decision: str  # allow | deny | degrade | escalate
    tool: str  # after a rewrite, the tool that runs
    arguments: dict
    policies: list[str]
    risk: int
    factors: list[dict]
    effect: str
    diff: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    policy_version: str = ""

    def reasons(self) -> dict:
        return {"decision": self.decision, "policies": self.policies, "risk": self.risk, "factors": self.factors,
                "effect": self.effect, "diff": self.diff, "errors": self.errors, "policy_version": self.policy_version}


def principal_of(p: Principal | None) -> dict:
    p = p or Principal(kind="anonymous")
    return {"key": p.key_id or p.tenant, "user": p.user_id, "team": p.team_id, "department": p.department_id}


def _entities(who: dict, action: Action) -> tuple[dict, dict, list[dict]]:
    parents = []
    ents = []
    for kind, value in (("User", who["user"]), ("Team", who["team"]), ("Department", who["department"])):
        if value:
            parents.append({"type": kind, "id": value})
            ents.append({"uid": {"type": kind, "id": value}, "attrs": {}, "parents": []})
    principal = {"type": "Key", "id": who["key"]}
    ents.append({"uid": principal, "attrs": {}, "parents": parents})
    system = {"type": "System", "id": action.server}
    ents.append({"uid": system, "attrs": {}, "parents": []})
    resource = system
    if action.record:
        resource = {"type": "Record", "id": f"{action.server}/{action.record}"}
        ents.append({"uid": resource, "attrs": {}, "parents": [system]})
    return principal, resource, ents


def _uids(who: dict, action: Action) -> tuple[dict, dict, frozenset]:
    """The principal and resource uids, and the principal with its ancestors (what `in` can
    reach in the graph `_entities` builds: a Key's parents have no parents of their own)."""
    within = {("Key", who["key"])}
    within.update((kind, who[k]) for kind, k in (("User", "user"), ("Team", "team"), ("Department", "department"))
                  if who[k])
    resource = {"type": "System", "id": action.server}
    if action.record:
        resource = {"type": "Record", "id": f"{action.server}/{action.record}"}
    return {"type": "Key", "id": who["key"]}, resource, frozenset(within)


def _scalars(arguments: dict) -> list[str]:
    out = []
    for k, v in arguments.items():
        if isinstance(v, bool):
            out.append(f"{k}={'true' if v else 'false'}")
        elif isinstance(v, (int, float, str)) and len(str(v)) <= 256:
            out.append(f"{k}={v}")
    return out


def principal_from(who: dict) -> Principal:
    """The principal an approval row names (for re-checking an approver's edited arguments)."""
    return Principal(key_id=who.get("key"), user_id=who.get("user"), team_id=who.get("team"),
                     department_id=who.get("department"))


class ActionsService:
    def __init__(self, config, engine, audit: AuditLog | None = None, *, counts: bool = False,
                 registry=None) -> None:
        self.cfg: ActionsConfig = config.actions
        self.approvals = Approvals(engine)
        self.audit = audit  # governance's log, handed over by the assembly
        self.engine: PolicyEngine | None = None
        self.load_error: str | None = "not started"
        self.connectors = Connectors(self.cfg.connectors)
        self.rates = risk.RateTracker(self.cfg.risk.rate_window_s)
        self._waiters: dict[str, asyncio.Event] = {}
        self._started = False
        self.mcp = None  # the MCP gateway, when the HTTP face serves /mcp (routes.py)
        self.notifier = Notifier(self.cfg.approvals_webhook, self.approvals) if self.cfg.approvals_webhook else None
        # the human-override rate: verdicts by kind. Only a gateway (`counts`) counts and sweeps;
        # verdicts given by the CLI are counted by the next sweep. `registry` None: the default
        # one (prometheus_client's multiprocess mode, `serve --workers N`)
        self.verdicts = None
        if counts:
            from prometheus_client import Counter

            self.verdicts = Counter("seawall_action_approval_decisions_total",
                                    "Approval verdicts by decision (approve, deny, edit, expire): the override rate",
                                    ["decision"], **({"registry": registry} if registry is not None else {}))
            for v in ("approve", "deny", "edit", "expire"):
                self.verdicts.labels(v)
        self._sweeper: asyncio.Task | None = None
        self._generation: int | None = None  # the policy generation this process has loaded
        # job id -> made runnable now: the jobs queue's release, handed over by the assembly when
        # actions can be async jobs (actions/deferred.py); None where no queue is wired (the CLI)
        self.wake_job: Callable[[str], Awaitable[bool]] | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the policies once; a policy that does not validate stops the gateway's start."""
        if self._started:
            return
        self._started = True
        if self.cfg.enabled:
            self.reload()
            if self.verdicts is not None:
                try:
                    self._generation = await policy_generation(self.approvals.engine)
                except Exception:  # the sweep reads it again; a reload elsewhere then applies here too
                    log.warning("actions: the policy generation could not be read at start")
                self._sweeper = asyncio.get_running_loop().create_task(self._sweep_loop(), name="approvals-sweep")

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        if self.notifier is not None:
            await self.notifier.aclose()
        for ev in self._waiters.values():
            ev.set()
        if self.mcp is not None:
            await self.mcp.aclose()
        await self.connectors.close()

    def reload(self) -> str:
        """Read and validate the policies; on any error the old set stays (or, with none, all is denied)."""
        try:
            self.engine = PolicyEngine(load_text(self.cfg.policies, self.cfg.policy_text))
        except PolicyError as exc:
            self.load_error = str(exc)
            log.error("actions policies not loaded: %s", exc)
            raise
        self.load_error = None
        return self.engine.version

    def reload_policies(self, actor: str, via: str, policies: list[str] | None = None,
                        policy_text: str | None = None, audit: bool = True) -> dict:
        """Reload without a restart (admin route, SIGHUP), from new sources if given. A set that
        fails to read or validate is refused and the running one stays; both are audited."""
        old = (self.cfg.policies, self.cfg.policy_text, self.engine.version if self.engine else None)
        if policies is not None:
            self.cfg.policies = list(policies)
        if policy_text is not None:
            self.cfg.policy_text = policy_text
        try:
            self.engine = PolicyEngine(load_text(self.cfg.policies, self.cfg.policy_text))
        except PolicyError as exc:
            self.cfg.policies, self.cfg.policy_text = old[0], old[1]
            log.error("actions policies reload refused, the running set is kept: %s", exc)
            if self.audit is not None and audit:
                self.audit.record("action_policy_reload", "refused", 400, user_id=actor,
                           detail={"via": via, "error": str(exc), "kept": old[2]})
            raise
        self.load_error = None
        out = {"status": "applied" if self.engine.version != old[2] else "unchanged",
               "policy_version": self.engine.version, "previous": old[2]}
        if self.audit is not None and audit:
            self.audit.record("action_policy_reload", out["status"], 200, user_id=actor, detail={"via": via, **out})
        log.info("actions policies reloaded: %s", out["status"], extra=out)
        return out

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.approvals_sweep_s)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: the next sweep catches up
                log.exception("approvals sweep failed")

    async def announce_reload(self) -> None:
        """Tell the other workers and instances (they poll in their sweep) to reload too."""
        self._generation = await bump_policy_generation(self.approvals.engine)

    async def sweep(self) -> None:
        """Follow a policy reload made elsewhere, close approvals past expiry (verdict `expire`)
        and count verdicts given elsewhere."""
        gen = await policy_generation(self.approvals.engine)
        if gen != self._generation:
            self._generation = gen
            try:
                self.reload_policies("admin", "peer", audit=False)  # the reload that asked is audited
            except PolicyError:
                pass  # logged; this process keeps its running set
        expired = await self.approvals.expire()
        if expired and self.verdicts is not None:
            self.verdicts.labels("expire").inc(expired)
        for verdict in await self.approvals.uncounted():
            if self.verdicts is not None:
                self.verdicts.labels(verdict).inc()
        if self.wake_job is not None:  # verdicts given where no queue is wired, expiries, wakes cut short
            for id, job_id in await self.approvals.to_wake():
                await self._wake(id, job_id)

    async def _wake(self, id: str, job_id: str) -> None:
        """Make the job that waits for approval `id` runnable now (a job no longer queued, say
        cancelled, is left as it is), then note it was woken."""
        if self.wake_job is None:
            return
        try:
            await self.wake_job(job_id)
            await self.approvals.woken(id)
        except Exception:  # the sweep tries again; the job wakes at its deadline at the latest
            log.exception("actions: waking job %s for approval %s failed", job_id, id)

    # ---- deciding --------------------------------------------------------------------------

    def decide(self, principal: Principal | None, action: Action, now: float | None = None,
               track_rate: bool = True) -> Decision:
        """The decision for one action; `track_rate` False (a tools/list preview) leaves the rate alone."""
        who = principal_of(principal)
        effect, why = risk.effect_of(self.cfg.effects.get(action.tool) or action.effect, action.tool, action.hints)
        amount, count, wildcard = risk.numbers(action.arguments)
        recent = self.rates.hit(who["key"], action.tool) if track_rate else 0
        score, factors = risk.score(self.cfg.risk, effect, amount, count, wildcard, recent, action.injection)
        if why:
            factors[0]["why"] = why
        t = time.gmtime(now if now is not None else time.time())
        context = {"tool": action.tool, "server": action.server, "operation": action.operation, "effect": effect,
                   "arguments": _scalars(action.arguments), "argument_names": [str(k) for k in action.arguments],
                   "amount": int(min(amount, 2**62)), "count": count, "wildcard": wildcard,
                   "dry_run": action.arguments.get("dry_run") is True, "risk": score, "hour": t.tm_hour,
                   "weekday": t.tm_wday, "sensitivity": action.sensitivity or "none",
                   "injection": int(round(100 * min(1.0, max(0.0, action.injection))))}
        engine = self.engine
        if engine is None:
            verdict = Verdict("deny", errors=[self.load_error or "no policy is loaded"])
        else:
            principal_uid, resource, within = _uids(who, action)
            verdict = engine.decide(principal_uid, resource, context, lambda: _entities(who, action)[2],
                                    within=within, cache_key=(*who.values(), action.server, action.record))
        tool, args, diff = action.tool, action.arguments, []
        if verdict.decision == "degrade":
            tool, args, diff = apply(verdict.rewrites, action.tool, action.arguments)
        return Decision(verdict.decision, tool, args, verdict.policies, score, factors, effect, diff,
                        verdict.errors, engine.version if engine else "")

    def redacted(self, arguments: dict) -> dict:
        secret = {n.lower() for n in self.cfg.redact_arguments}

        def walk(v, key=""):
            if key.lower() in secret:
                return "[REDACTED]"
            if isinstance(v, dict):
                return {k: walk(x, str(k)) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x) for x in v]
            return v

        return walk(arguments)

    # ---- performing ------------------------------------------------------------------------

    def gate(self, server: str, operation: str, effect: str = "write"):
        """Another capability's operation as a tool under policy (the sandbox's `run_code`):
        `await gate(principal, arguments, run, approval_id, request_id)` decides, then runs
        `run()` (allowed or approved), answers pending (escalated) or raises (denied)."""

        async def gated(principal, arguments: dict, run, approval_id: str | None, request_id: str) -> dict:
            await self.start()
            action = Action(server=server, operation=operation, arguments=arguments, effect=effect)

            async def execute(tool: str, args: dict):
                if tool != action.tool or args != arguments:
                    raise GatewayError("action_denied", f"{action.tool} has no rewritten variant")
                return await run()

            return await self.perform(principal, action, execute, approval_id=approval_id, request_id=request_id)

        return gated

    async def perform(self, principal: Principal | None, action: Action, execute: Executor, *,
                      approval_id: str | None = None, wait_s: float = 0.0, request_id: str | None = None) -> dict:
        """Decide and act. Returns {"status": "done", "result", "decision"} or, escalated,
        {"status": "pending", "approval_id", ...}; a denial raises GatewayError(action_denied)."""
        d = self.decide(principal, action)
        if d.decision == "deny":
            self.refuse(principal, action, d, request_id)
        if d.decision == "escalate":
            bound = binding(action.tool, action.arguments, principal_of(principal), d.policy_version)
            if approval_id is None:
                made = await self.escalate(principal, action, d, request_id)
                approval_id = made["id"]
                status = await self._wait(approval_id, wait_s) if wait_s > 0 else "pending"
                if status == "denied":
                    raise GatewayError("action_denied", f"the action {action.tool} was denied by an approver")
                if status == "expired":
                    raise GatewayError("approval_refused", f"approval {approval_id} expired before a person decided")
                if status != "approved":
                    return {"status": "pending", "approval_id": approval_id, "expires_at": made["expires_at"],
                            "decision": d.reasons()}
            try:
                d = await self.claim(principal, action, d, approval_id, bound, request_id)
            except Refused as exc:
                raise GatewayError("approval_refused", str(exc), param="approval_id") from None
            result = await self._run(principal, action, d, execute, request_id, approval_id=approval_id)
            await self.approvals.record_result(approval_id, {"ok": True})
            return result
        return await self._run(principal, action, d, execute, request_id)

    def refuse(self, principal: Principal | None, action: Action, d: Decision, request_id: str | None,
               **extra) -> None:
        """A denial: audited, then raised as action_denied (403)."""
        self.record(principal, action, d, "denied", 403, request_id, **extra)
        why = "; ".join(d.errors) if d.errors and not d.policies else ", ".join(d.policies) or "no policy permits it"
        raise GatewayError("action_denied", f"the action {action.tool} is not permitted ({why})")

    def approval_ttl(self, d: Decision) -> float:
        """How long an approval for this decision may wait: the config's, or the policy's `@ttl`."""
        policy_ttl = self.engine.escalation_ttl(d) if self.engine else None
        return min(self.cfg.approval_ttl_s, policy_ttl) if policy_ttl else self.cfg.approval_ttl_s

    async def escalate(self, principal: Principal | None, action: Action, d: Decision, request_id: str | None,
                       conversation: str | None = None, via: str | None = None, *, approval_id: str | None = None,
                       job_id: str | None = None, expires_at: float | None = None) -> dict:
        """Make the approval an escalated action waits for (audited, approvers notified); with
        `job_id`, the one that queued job waits for (its id and expiry chosen when it was queued)."""
        who = principal_of(principal)
        made = await self.approvals.create(
            tool=action.tool, bound=binding(action.tool, action.arguments, who, d.policy_version),
            policy_version=d.policy_version, tenant=(principal or Principal(kind="anonymous")).tenant,
            request={"tool": action.tool, "arguments": self.redacted(action.arguments), "principal": who},
            decision=d.reasons(), ttl_s=self.approval_ttl(d), conversation=conversation,
            webhook=self.notifier is not None, id=approval_id, job_id=job_id, expires_at=expires_at)
        extra = {"via": via} if via else {}
        if job_id:
            extra["job_id"] = job_id
        self.record(principal, action, d, "escalated", 202, request_id, approval_id=made["id"], **extra)
        if self.notifier is not None:
            view = await self.approvals.get(made["id"])
            if view is not None:
                self.notifier.created(view)
        return made

    async def claim(self, principal: Principal | None, action: Action, d: Decision, approval_id: str, bound: str,
                    request_id: str | None, *, job: bool = False, **extra) -> Decision:
        """Use an approval once (raises Refused, audited); the decision to run, with the
        approver's edited arguments in place of the agent's when they edited. `job`: the claim
        of the async job the approval was made for (no request may use that one)."""
        try:
            await self.approvals.claim(approval_id, bound, job=job)
        except Refused as exc:
            self.record(principal, action, d, "approval_refused", 409, request_id, approval_id=approval_id,
                        refused=exc.code, **extra)
            raise
        edited = await self.approvals.edited_arguments(approval_id)
        if edited is None:
            return d
        diff = [{"field": k, "from": action.arguments.get(k), "to": edited.get(k), "by": "approver"}
                for k in sorted(set(action.arguments) | set(edited)) if action.arguments.get(k) != edited.get(k)]
        return Decision(d.decision, d.tool, edited, d.policies, d.risk, d.factors, d.effect, d.diff + diff,
                        d.errors, d.policy_version)

    async def _run(self, principal, action: Action, d: Decision, execute: Executor, request_id, **extra) -> dict:
        # The success record is made before the result is returned (so before any answer is
        # written), but its costly part is prepared in the loop step after the executor starts
        # waiting (an MCP upstream working on the call), off the call's critical path.
        ahead = _Ahead(lambda: self.prepare_record(principal, action, d, request_id, **extra))
        try:
            result = await execute(d.tool, d.arguments)
        except GatewayError as exc:
            ahead.cancel()
            self.record(principal, action, d, "failed", exc.status, request_id, error=exc.code, **extra)
            raise
        except Exception as exc:
            ahead.cancel()
            self.record(principal, action, d, "failed", 502, request_id, error=type(exc).__name__, **extra)
            raise GatewayError("upstream_error", f"the action {d.tool} failed") from None
        ahead.get()(d.decision if d.decision != "escalate" else "approved", 200)
        return {"status": "done", "result": result, "decision": d.reasons()}

    async def _wait(self, approval_id: str, wait_s: float, poll_s: float = 0.5) -> str:
        """Wait for a person's decision: woken at once by an approval in this process, and
        polling the table for one made elsewhere (another instance, the CLI)."""
        ev = self._waiters.setdefault(approval_id, asyncio.Event())
        deadline = time.monotonic() + wait_s
        status = "pending"
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return status
                try:
                    await asyncio.wait_for(ev.wait(), min(poll_s, left))
                except asyncio.TimeoutError:
                    pass
                got = await self.approvals.get(approval_id)
                status = got["status"] if got else "pending"
                if status != "pending":
                    return status
        finally:
            self._waiters.pop(approval_id, None)

    async def decide_approval(self, id: str, approve: bool, approver: str, reason: str, *,
                              arguments: dict | None = None, via: str = "http") -> dict:
        """An approver's verdict. With `arguments` (an edit) the action runs with those instead,
        once they pass the policies again for the same caller and tool (a denial refuses the edit)."""
        if arguments is not None:
            if not approve:
                raise GatewayError("invalid_request", "only an approval can carry edited arguments", param="arguments")
            arguments = await self._checked_edit(id, arguments)
        try:
            view = await self.approvals.decide(id, approve, approver, reason, edited=arguments,
                                               counted=self.verdicts is not None)
        except Refused as exc:
            code = "not_found" if exc.code == "not_found" else "approval_refused"
            raise GatewayError(code, str(exc), param="id") from None
        if self.verdicts is not None:
            self.verdicts.labels(view["verdict"]).inc()
        if self.audit is not None:
            detail = {"approval_id": id, "approver": approver, "reason": reason, "tool": view["tool"],
                      "verdict": view["verdict"], "via": via}
            if arguments is not None:
                detail["arguments"] = self.redacted(arguments)
            outcome = {"approve": "approved", "deny": "denied", "edit": "edited"}[view["verdict"]]
            self.audit.record("action_approval", outcome, 200, user_id=approver, detail=detail)
        ev = self._waiters.get(id)
        if ev is not None:
            ev.set()
        if view.get("job_id"):  # the job waiting for this verdict runs now, not at its deadline
            await self._wake(id, view["job_id"])
        return view

    async def _checked_edit(self, id: str, arguments: dict) -> dict:
        row = await self.approvals.get(id)
        if row is None:
            raise GatewayError("not_found", f"no approval {id!r}", param="id")
        server, _, operation = row["tool"].partition(".")
        action = Action(server, operation, arguments, effect=row["decision"].get("effect"))
        d = self.decide(principal_from(row["request"]["principal"]), action, track_rate=False)
        if d.decision == "deny" or d.tool != action.tool:
            raise GatewayError("invalid_request", f"the edited arguments are not permitted for {row['tool']} "
                               f"({', '.join(d.policies) or 'no policy permits them'})", param="arguments")
        return d.arguments  # a degrade's caps apply to an approver's numbers as to an agent's

    # ---- audit -----------------------------------------------------------------------------

    def record(self, principal: Principal | None, action: Action, d: Decision, outcome: str, status: int,
               request_id: str | None, **extra) -> None:
        if self.audit is not None:
            self.prepare_record(principal, action, d, request_id, **extra)(outcome, status)

    def prepare_record(self, principal: Principal | None, action: Action, d: Decision, request_id: str | None,
                       **extra) -> Callable[[str, int], None]:
        """`record` in two steps: the detail (and its stored form) now, the record itself, with
        its outcome and time, when the returned function is called."""
        if self.audit is None:
            return _nothing
        p = principal or Principal(kind="anonymous")
        detail = {"tool": action.tool, "arguments": self.redacted(action.arguments), **d.reasons(), **extra}
        if d.tool != action.tool:
            detail["ran"] = d.tool
        fields = {"request_id": request_id, "key_id": p.key_id, "user_id": p.user_id, "team_id": p.team_id,
                  "department_id": p.department_id, "detail": detail}
        audit, finish = self.audit, None
        try:
            finish = audit.draft("action", **fields)
        except Exception:  # noqa: BLE001 - made whole below, where a failure is logged as ever
            finish = None

        def made(outcome: str, status: int) -> None:
            try:
                if finish is not None:
                    finish(outcome, status)
                else:
                    audit.record("action", outcome, status, **fields)
            except Exception:  # the audit writer spools on its own; never lose the decision silently
                log.exception("actions audit record not queued")
        return made


def _nothing(outcome: str, status: int) -> None:
    return None


class _Ahead:
    """A value made in the event loop's next step, while the caller awaits I/O, or at once if
    it is asked for before that step ran (the caller never waited)."""

    __slots__ = ("handle", "make", "value")

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make
        self.value = None
        self.handle = asyncio.get_running_loop().call_soon(self._fill)

    def _fill(self) -> None:
        if self.value is None:
            try:
                self.value = self.make()
            except Exception:  # noqa: BLE001, S110 - get() makes it again, where the caller sees the error
                pass

    def get(self) -> Any:
        self.handle.cancel()
        if self.value is None:
            self.value = self.make()
        return self.value

    def cancel(self) -> None:
        self.handle.cancel()
