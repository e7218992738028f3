"""Map every upstream outcome to one class that says what to do about it.

A class answers three questions for the resilience stages (retry it? fall back? count it
against the deployment's circuit?) and one for the client (which status and stable code).
"""
from __future__ import annotations

import asyncio
import email.utils
import math
import re
import time
from enum import Enum

import aiohttp

from ..core.types import UpstreamLimits
from ..net.errors import ProtocolError


class ErrorClass(Enum):
    #                         retry  fallback breaker client_code               status
    RATE_LIMITED = ("rate_limited", True, True, True, "rate_limited", 429)
    OVERLOADED = ("overloaded", True, True, True, "upstream_unavailable", 503)
    SERVER_ERROR = ("server_error", True, True, True, "upstream_unavailable", 503)
    TIMEOUT = ("timeout", True, True, True, "upstream_timeout", 504)
    CONNECTION = ("connection", True, True, True, "upstream_unavailable", 503)
    MALFORMED = ("malformed_response", True, True, True, "upstream_error", 502)
    AUTH = ("auth", False, True, True, "upstream_error", 502)
    QUOTA_EXCEEDED = ("quota_exceeded", False, True, False, "upstream_unavailable", 503)
    NOT_FOUND = ("not_found", False, True, False, "upstream_error", 502)
    INVALID_REQUEST = ("invalid_request", False, False, False, "invalid_request", 400)
    CONTEXT_LENGTH = ("context_length_exceeded", False, True, False, "context_length_exceeded", 400)
    CONTENT_FILTER = ("content_filter", False, False, False, "content_filter", 400)

    def __init__(self, label: str, retryable: bool, falls_back: bool, counts_for_breaker: bool,
                 client_code: str, status: int) -> None:
        self.label = label
        self.retryable = retryable
        self.falls_back = falls_back
        self.counts_for_breaker = counts_for_breaker
        self.client_code = client_code
        self._status = status

    @property
    def show_upstream_message(self) -> bool:
        """The client's own mistakes are explained in the upstream's words; the gateway's are not."""
        return self in (ErrorClass.INVALID_REQUEST, ErrorClass.CONTEXT_LENGTH, ErrorClass.CONTENT_FILTER)

    def client_status(self, upstream_status: int | None) -> int:
        if self is ErrorClass.INVALID_REQUEST and upstream_status in (400, 413, 415, 422):
            return upstream_status
        return self._status


_BY_CODE = {
    "context_length_exceeded": ErrorClass.CONTEXT_LENGTH,
    "string_above_max_length": ErrorClass.CONTEXT_LENGTH,
    "insufficient_quota": ErrorClass.QUOTA_EXCEEDED,
    "billing_hard_limit_reached": ErrorClass.QUOTA_EXCEEDED,
    "content_filter": ErrorClass.CONTENT_FILTER,
    "content_policy_violation": ErrorClass.CONTENT_FILTER,
    "responsibleaipolicyviolation": ErrorClass.CONTENT_FILTER,
    "model_not_found": ErrorClass.NOT_FOUND,
    "deploymentnotfound": ErrorClass.NOT_FOUND,
    "invalid_api_key": ErrorClass.AUTH,
    "rate_limit_exceeded": ErrorClass.RATE_LIMITED,
    # Anthropic error types
    "overloaded_error": ErrorClass.OVERLOADED,
    "rate_limit_error": ErrorClass.RATE_LIMITED,
    "api_error": ErrorClass.SERVER_ERROR,
    "authentication_error": ErrorClass.AUTH,
    "permission_error": ErrorClass.AUTH,
    "not_found_error": ErrorClass.NOT_FOUND,
    "request_too_large": ErrorClass.INVALID_REQUEST,
    "invalid_request_error": ErrorClass.INVALID_REQUEST,
    "server_error": ErrorClass.SERVER_ERROR,
}

_CONTEXT_WORDS = re.compile(r"context length|context window|maximum context|too many tokens|prompt is too long", re.I)


def _by_status(status: int) -> ErrorClass:
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 404:
        return ErrorClass.NOT_FOUND
    if status == 408:
        return ErrorClass.TIMEOUT
    if status == 429:
        return ErrorClass.RATE_LIMITED
    if status in (503, 529):
        return ErrorClass.OVERLOADED
    if status >= 500 or status < 400:
        return ErrorClass.SERVER_ERROR
    return ErrorClass.INVALID_REQUEST


def classify_response(status: int, headers, body: object) -> tuple[ErrorClass, float | None, str | None]:
    """Class, retry-after seconds and the upstream's message for a failed HTTP answer
    (including a 200 whose body is an error)."""
    err = body.get("error") if isinstance(body, dict) else None
    message = None
    cls = None
    if isinstance(err, dict):
        message = err.get("message") if isinstance(err.get("message"), str) else None
        for key in ("code", "type"):
            v = err.get(key)
            if isinstance(v, str) and v.lower() in _BY_CODE:
                cls = _BY_CODE[v.lower()]
                break
    elif isinstance(err, str):
        message = err  # TGI / Ollama style {"error": "..."}
    if cls is None or cls is ErrorClass.INVALID_REQUEST:
        by_status = _by_status(status) if status >= 300 else ErrorClass.SERVER_ERROR
        cls = by_status if cls is None or by_status is not ErrorClass.INVALID_REQUEST else cls
        if cls is ErrorClass.INVALID_REQUEST and message and _CONTEXT_WORDS.search(message):
            cls = ErrorClass.CONTEXT_LENGTH
    return cls, retry_after_seconds(headers), message


def classify_exception(exc: BaseException) -> ErrorClass:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return ErrorClass.TIMEOUT
    if isinstance(exc, (ProtocolError, aiohttp.ClientPayloadError)):
        return ErrorClass.MALFORMED  # seawall.net's ConnectError / ConnectionClosed are CONNECTION
    return ErrorClass.CONNECTION


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_RETRY_AFTER_S = 300.0  # an upstream's wait is honoured up to this; longer asks are cut to it


def _seconds(v: float) -> float | None:
    """A wait in [0, MAX_RETRY_AFTER_S]; None (ignored) for inf, NaN or a negative value: a
    deployment is never parked for good, and arithmetic on the wait never overflows."""
    if not math.isfinite(v) or v < 0:
        return None
    return min(v, MAX_RETRY_AFTER_S)


def retry_after_seconds(headers) -> float | None:
    """Honour retry-after-ms, Retry-After (seconds or HTTP date) and OpenAI's reset headers,
    clamped to [0, MAX_RETRY_AFTER_S]; a value that is garbage, negative or NaN is ignored."""
    if not headers:
        return None
    v = headers.get("retry-after-ms")
    if v:
        try:
            wait = _seconds(float(v) / 1000.0)
            if wait is not None:
                return wait
        except ValueError:
            pass
    v = headers.get("retry-after")
    if v:
        try:
            wait = _seconds(float(v))
            if wait is not None:
                return wait
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(v).timestamp()
                return _seconds(max(0.0, when - time.time()))
            except (TypeError, ValueError, OverflowError, IndexError):
                pass
    waits = [_duration(headers.get(h)) for h in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")]
    waits = [w for w in waits if w is not None]
    return _seconds(max(waits)) if waits else None


def upstream_limits(headers) -> UpstreamLimits | None:
    """OpenAI's x-ratelimit-{limit,remaining,reset}-requests as a typed value; None when the
    provider sends none. A garbage field is left out, not guessed."""
    if not headers:
        return None
    limit = _count(headers.get("x-ratelimit-limit-requests"))
    remaining = _count(headers.get("x-ratelimit-remaining-requests"))
    reset = _duration(headers.get("x-ratelimit-reset-requests"))
    if limit is None and remaining is None and reset is None:
        return None
    return UpstreamLimits(limit=limit, remaining=remaining,
                          reset_s=_seconds(reset) if reset is not None else None, at=time.monotonic())


def _count(v: str | None) -> int | None:
    try:
        n = int(v) if v else None
    except ValueError:
        return None
    return n if n is not None and n >= 0 else None


def _duration(v: str | None) -> float | None:
    if not v:
        return None
    parts = _DURATION.findall(v)
    if not parts:
        return None
    return sum(float(n) * _UNIT[u] for n, u in parts)
