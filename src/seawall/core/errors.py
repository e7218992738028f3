"""The gateway's error taxonomy: one exception type carrying a stable code.

Every failure that reaches a client is a GatewayError. The HTTP layer renders it in the
caller's wire format (OpenAI or Anthropic); the library raises it as is. Codes are stable
API: clients and dashboards key on them.
"""
from __future__ import annotations

import asyncio

# code -> (HTTP status, OpenAI error type)
CODES: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request_error"),
    "context_length_exceeded": (400, "invalid_request_error"),
    "content_filter": (400, "invalid_request_error"),
    "invalid_api_key": (401, "authentication_error"),
    "permission_denied": (403, "permission_error"),
    "model_not_found": (404, "not_found_error"),
    "not_found": (404, "not_found_error"),
    "request_too_large": (413, "invalid_request_error"),
    "rate_limited": (429, "rate_limit_error"),
    "budget_exceeded": (429, "insufficient_quota"),
    "guard_blocked": (400, "invalid_request_error"),
    "guard_error": (503, "service_unavailable"),
    "internal_error": (500, "server_error"),
    "upstream_error": (502, "upstream_error"),
    "upstream_unavailable": (503, "service_unavailable"),
    "upstream_timeout": (504, "timeout_error"),
    "overloaded": (503, "service_unavailable"),
    "sandbox_unavailable": (503, "service_unavailable"),
    "action_denied": (403, "permission_error"),  # actions/: policy denied an agent's action
    "approval_refused": (409, "invalid_request_error"),  # actions/: used, expired or other arguments
    "approval_expired": (409, "invalid_request_error"),  # actions/: an async action's approval was not given in time
    "action_outcome_unknown": (502, "upstream_error"),  # actions/: a worker stopped mid-action; not run again
}


class GatewayError(Exception):
    """A failure with a stable code, an HTTP status and a message safe to show a client."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        default_status, self.type = CODES.get(code, (500, "server_error"))
        self.code = code
        self.message = message
        self.param = param
        self.status = status or default_status
        self.retry_after = retry_after
        self.headers = headers or {}

    def to_openai(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param}}

    def __repr__(self) -> str:
        return f"GatewayError({self.code!r}, {self.message!r}, status={self.status})"


def invalid(message: str, param: str | None = None) -> GatewayError:
    return GatewayError("invalid_request", message, param=param)


class Outcome:
    """How a request ended, for metrics, logs, audit and settlement: `code` is "ok", a
    GatewayError code, "client_closed" (499) or "internal_error" (500)."""

    __slots__ = ("code", "status", "error")

    def __init__(self, code: str, status: int, error: BaseException | None = None) -> None:
        self.code, self.status, self.error = code, status, error

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        return f"Outcome({self.code!r}, {self.status})"


OK = Outcome("ok", 200)


def outcome_of(exc: BaseException | None) -> Outcome:
    """The one mapping from an exception to an outcome and status."""
    if exc is None:
        return OK
    if isinstance(exc, GatewayError):
        return Outcome(exc.code, exc.status, exc)
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit, ConnectionError)):
        return Outcome("client_closed", 499, exc)
    return Outcome("internal_error", 500, exc)
