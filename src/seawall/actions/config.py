"""The `actions:` section: where the Cedar policies are, how risk is scored, how long an
approval lives, and what each tool or operation declares it does."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config import Section, register, secret

Effect = Literal["read", "write", "delete", "unknown"]


class RiskConfig(BaseModel):
    """Points added to an action's risk (0-100) and the thresholds that trigger them."""

    model_config = ConfigDict(extra="forbid")

    base: dict[str, int] = Field(
        default_factory=lambda: {"read": 5, "write": 30, "delete": 60, "unknown": 40},
        description="points by declared effect")
    amount_over: float = Field(1000.0, ge=0, description="an amount argument above this adds `amount_points`")
    amount_points: int = Field(20, ge=0, le=100)
    count_over: int = Field(10, ge=0, description="a record count (or list length) above this adds `count_points`")
    count_points: int = Field(20, ge=0, le=100)
    wildcard_points: int = Field(25, ge=0, le=100, description="an argument that is `*` or contains `%`/`*`")
    rate_window_s: float = Field(60.0, gt=0, description="window for the rate of similar actions")
    rate_over: int = Field(10, ge=0, description="more similar actions than this by one principal in the window...")
    rate_points: int = Field(15, ge=0, le=100, description="...adds these points")
    injection_points: int = Field(30, ge=0, le=100, description="times the conversation's injection score (0-1)")


class Connector(BaseModel):
    """An internal HTTP system Seawall calls on an agent's behalf (POST /v1/actions). The
    credential is read from the environment when the call is made and never leaves Seawall."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(..., pattern=r"^https?://", description="scheme, host, port and an optional base path")
    credential_env: str | None = Field(None, description="environment variable holding the credential")
    credential_header: str = Field("authorization", description="header the credential goes in")
    credential_prefix: str = Field("Bearer ", description="put before the credential in that header")
    methods: list[Literal["GET", "POST", "PUT", "PATCH", "DELETE"]] = Field(default_factory=lambda: ["GET"])
    paths: list[str] = Field(default_factory=lambda: ["/*"],
                             description="allowed path patterns (fnmatch; `*` spans segments)")
    timeout_s: float = Field(10.0, gt=0, le=300)
    max_response_bytes: int = Field(1 << 20, ge=1024, le=64 << 20)


class McpUpstream(BaseModel):
    """An MCP server Seawall fronts at /mcp: streamable HTTP (`url`) or stdio (`command`,
    started by Seawall and stopped with it)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, pattern=r"^https?://")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="environment for a stdio server")
    timeout_s: float = Field(30.0, gt=0, le=3600,
                             description="bound on each exchange with the server (connect, list, call)")

    @model_validator(mode="after")
    def _one_transport(self) -> "McpUpstream":
        if (self.url is None) == (self.command is None):
            raise ValueError("give exactly one of url (streamable HTTP) or command (stdio)")
        return self


class ApprovalsWebhook(BaseModel):
    """Tell approvers an approval is waiting: a POST signed per Standard Webhooks, retried."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    url: str = Field(..., pattern=r"^https?://", max_length=2048)
    # a Secret: the Standard Webhooks signing key (whsec_...), e.g. "${APPROVALS_WEBHOOK_SECRET}"
    secret: Any = None
    _check_secret = field_validator("secret", mode="before")(lambda cls, v: secret(v))
    max_attempts: int = Field(5, ge=1, le=50)
    backoff_s: float = Field(1.0, ge=0, le=3600, description="doubles after each failed delivery")
    timeout_s: float = Field(10.0, gt=0, le=120)
    allow_private_targets: bool = Field(
        False, description="let the URL resolve to a loopback or private address (refused by default: SSRF)")

    @model_validator(mode="after")
    def _has_secret(self) -> "ApprovalsWebhook":
        if not self.secret:
            raise ValueError("secret is required (a whsec_... key, e.g. from ${APPROVALS_WEBHOOK_SECRET})")
        # the URL's form is checked now (a bad one refuses the config, not the first delivery);
        # where it resolves to is checked at each delivery, since DNS can change
        from ..net.webhooks import TargetRefused, check_url  # only when a webhook is configured

        try:
            check_url(self.url)
        except TargetRefused as e:
            raise ValueError(str(e)) from None
        return self


class ActionsConfig(BaseModel):
    """Off unless enabled. With it on and no policy that permits, every action is denied."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    policies: list[str] = Field(default_factory=list,
                                description="Cedar policy files (.cedar), read and validated at start and on reload")
    policy_text: str = Field("", description="policies inline, after the files")
    effects: dict[str, Effect] = Field(
        default_factory=dict,
        description="declared effect per tool or operation (`server.tool`); trusted, unlike an MCP server's hints")
    risk: RiskConfig = Field(default_factory=RiskConfig)
    approval_ttl_s: float = Field(900.0, gt=0, le=7 * 86400, description="how long an approval may wait and be used")
    connectors: dict[str, Connector] = Field(default_factory=dict, description="POST /v1/actions targets, by name")
    mcp_servers: dict[str, McpUpstream] = Field(
        default_factory=dict, description="upstream MCP servers served at /mcp, tools named `server.tool`")
    mcp_wait_s: float = Field(0.0, ge=0, le=3600,
                              description="how long an escalated MCP call waits for approval before answering pending")
    approvals_webhook: ApprovalsWebhook | None = Field(None, description="notify approvers of each new approval")
    approvals_sweep_s: float = Field(5.0, gt=0, le=3600,
                                     description="how often approvals past expiry are closed and verdicts counted")
    redact_arguments: list[str] = Field(
        default_factory=lambda: ["password", "secret", "token", "api_key", "authorization"],
        description="argument names whose values the audit never holds")


class AliasActions(BaseModel):
    """Per alias (`models[].actions`): check the tool calls in the model's answers."""

    model_config = ConfigDict(extra="forbid")

    tool_calls: bool = Field(False, description="run the action policies on tool calls before the client sees them")
    server: str = Field("model", min_length=1, max_length=128,
                        description="the system name policies see for these tools (`server.function`)")


OFF = AliasActions()


def _compile(config, alias) -> AliasActions:
    own = getattr(alias, "actions", None)
    return own if own is not None and config.actions.enabled else OFF


register(Section("actions", ActionsConfig, alias_fields={"actions": (AliasActions | None, Field(None))},
                 compile=_compile))
