"""The `jobs:` section: the durable queue, its workers, retries, retention and webhooks."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config import Section, register, secret


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(3, ge=1, le=100, description="attempts before a job is dead (state failed)")
    backoff_s: float = Field(1.0, ge=0, le=3600, description="wait before the second attempt; doubles each time")
    max_backoff_s: float = Field(60.0, ge=0, le=86400)


class WebhookPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    # a Secret: the Standard Webhooks signing key (whsec_...); webhooks are refused without it
    secret: Any = None
    _check_secret = field_validator("secret", mode="before")(lambda cls, v: secret(v))
    max_attempts: int = Field(5, ge=1, le=50)
    backoff_s: float = Field(1.0, ge=0, le=3600, description="doubles after each failed delivery")
    timeout_s: float = Field(10.0, gt=0, le=120)
    allow_hosts: list[str] = Field(default_factory=list,
                                   description="hosts a webhook URL may name; empty: any (http or https)")
    allow_private_targets: bool = Field(
        False, description="let a webhook URL resolve to a loopback or private address (refused by default: SSRF)")
    per_key_secrets: bool = Field(
        True, description="sign each key's job webhooks with that key's own secret, derived from `secret` "
                          "(GET /v1/jobs/webhook-secret); false: every webhook with `secret` itself")


class BatchPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(50 << 20, ge=1024, description="largest /v1/files upload (also bounded by server.max_body_bytes)")
    max_lines: int = Field(50000, ge=1, description="requests in one batch input file")
    priority: int = Field(-10, ge=-100, le=100, description="batch lines queue behind interactive async jobs")


class JobsConfig(BaseModel):
    """Async requests (Prefer: respond-async) and their queue. Off unless enabled."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    workers: int = Field(2, ge=0, le=256, description="in-process workers in each gateway; 0: only `seawall worker`")
    lease_s: float = Field(30.0, ge=1, le=3600, description="a running job's lease; renewed every third of it")
    poll_s: float = Field(0.5, gt=0, le=60, description="how often an idle worker looks for work")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    keep_s: float = Field(86400.0, ge=0, description="finished jobs (and their results) are kept this long")
    batch_keep_s: float = Field(30 * 86400.0, ge=0, description="a finished batch, its lines and its output and "
                                                              "error files are kept this long")
    files_keep_s: float = Field(30 * 86400.0, ge=0, description="uploaded batch input files are kept this long "
                                                              "(longer while a batch in progress reads one)")
    responses_keep_s: float = Field(30 * 86400.0, ge=0, description="stored responses (store: true, background) "
                                                                  "are kept this long")
    purge_every_s: float = Field(60.0, gt=0)
    purge_batch: int = Field(500, ge=1, le=100000, description="rows deleted per purge statement")
    charge_settle_s: float = Field(30.0, ge=0, description="a job's charge, stored with its answer, is written "
                                                          "to the audit log from the job row if not there by then")
    max_queued_per_tenant: int = Field(10000, ge=1, description="a tenant's queued jobs beyond this are refused (429)")
    default_ttl_s: float = Field(86400.0, gt=0, description="a job not started within this is expired")
    pacing: dict[str, float] = Field(default_factory=dict,
                                     description="alias -> most jobs started per minute by each worker process")
    pace_by_headers: bool = Field(True, description="also pace each alias by the request limit its provider reports "
                                                    "(x-ratelimit-*-requests) and hold it after a 429")
    live_share: float = Field(0.2, ge=0, lt=1, description="part of a provider's reported request limit left "
                                                          "for interactive traffic; queued work takes the rest")
    webhooks: WebhookPolicy = Field(default_factory=WebhookPolicy)
    batch: BatchPolicy = Field(default_factory=BatchPolicy)


register(Section("jobs", JobsConfig))
