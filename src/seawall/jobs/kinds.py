"""Job kinds other features run: the extension point that keeps jobs free of feature imports.

The built-in kinds (chat, embeddings, messages) go through the gateway's pipeline. Another
feature that has work to offer as a job (the sandbox's executions, the action proxy's actions)
describes it as a `JobKind`, and the assembly registers it with `JobsService.register`; jobs
then stores, claims, runs, retries and reports it like any other job, knowing only this contract.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from ..core.types import Principal


@dataclass(frozen=True)
class JobKind:
    name: str  # the job's `kind`, at most 32 characters
    label: str  # shown as the job's `model`; the queue gauges and pacing count the kind under it
    # At submission: the body to store, checked; raises GatewayError (a 400, or 503 when the
    # feature cannot run it at all) before anything is queued.
    prepare: Callable[[dict, Principal | None], dict]
    # On a worker: the JSON-ready result, under the submitter as governance knows them now.
    # A GatewayError with a retryable status (429, 5xx) is tried again later, as for chat.
    run: Callable[[dict, Principal | None], Awaitable[Any]]
    # False: a failure is final, never tried again (work with effects outside Seawall, such as
    # an action on another system, could repeat them).
    retry: bool = True
    # Called instead of `run` on a later attempt of a kind that does not retry, which only a
    # worker that stopped mid-run causes (its lease lapsed and another took the job over): it
    # finds what the stopped attempt recorded rather than doing the work again.
    resume: Callable[[dict, Principal | None], Awaitable[Any]] | None = None
