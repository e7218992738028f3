"""Typed bodies and answers of the governance admin routes (govern/routes.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from ..web.router import FieldProblem
from ..web.schema import Body, Id, LongId, ModelName, Name, Out, Query

DAY = 30 * 86400.0
YEAR = 365 * 86400.0
Models = Annotated[list[ModelName], Field(max_length=1000)]
Rate = Annotated[int, Field(ge=1, le=2**31 - 1)]  # the SQL column is a 32-bit integer
Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class DepartmentIn(Body):
    id: Id
    name: Name = ""


Departments = Annotated[list[Id], Field(max_length=1000)]
WebhookUrl = Annotated[str, Field(min_length=1, max_length=2048)]  # checked further by the admin (net/webhooks)


class TeamIn(Body):
    id: Id
    department: Id | None = None
    name: Name = ""
    allowed_models: Models | None = None
    # what x-seawall-department may name for the team's keys that have allow_department_header
    allowed_departments: Departments | None = None


class KeyIn(Body):
    user: LongId | None = None
    team: Id | None = None
    department: Id | None = None
    name: Name = ""
    allowed_models: Models | None = None
    expires_in_s: Annotated[float, Field(gt=0, le=10 * YEAR)] | None = None
    allow_department_header: bool = False
    allowed_departments: Departments | None = None  # else the team's list
    create_missing: bool = False  # create the team and department if they do not exist
    webhook_url: WebhookUrl | None = None  # for this key's async jobs that name none (docs/jobs.md)


# Updates (PATCH): only the fields sent change; null clears a nullable one.

class DepartmentUpdate(Body):
    name: Name | None = None


class TeamUpdate(Body):
    name: Name | None = None
    department: Id | None = None
    allowed_models: Models | None = None
    allowed_departments: Departments | None = None


class KeyUpdate(Body):
    name: Name | None = None
    allowed_models: Models | None = None
    expires_in_s: Annotated[float, Field(gt=0, le=10 * YEAR)] | None = None  # from now; null: never
    allow_department_header: bool | None = None
    allowed_departments: Departments | None = None
    webhook_url: WebhookUrl | None = None  # null: none


class LimitUpdate(Body):
    rpm: Rate | None = None
    tpm: Rate | None = None


class BudgetUpdate(Body):
    amount_usd: Annotated[float, Field(ge=0, le=1e12)] | None = None
    hard: bool | None = None


class RotateIn(Body):
    grace_s: Annotated[float, Field(ge=0, le=DAY)] = 3600.0


class Empty(Body):
    """No fields: a body, if one is sent, must be {}."""


class LimitIn(Body):
    scope: Literal["key", "team", "department", "model"]
    scope_id: LongId
    model: ModelName = "*"
    rpm: Rate | None = None
    tpm: Rate | None = None

    @model_validator(mode="after")
    def _some_rate(self):
        if self.rpm is None and self.tpm is None:
            raise FieldProblem("set rpm, tpm or both", "rpm")
        return self


class BudgetIn(Body):
    scope: Literal["key", "team", "department"]
    scope_id: LongId
    amount_usd: Annotated[float, Field(ge=0, le=1e12)]
    period: Literal["daily", "monthly", "total"] = "monthly"
    hard: bool = True


class UsageQuery(Query):
    group_by: Annotated[str, Field(max_length=200)] = "department"
    from_: Date | None = Field(None, alias="from")
    to: Date | None = None
    department: LongId | None = None
    team: LongId | None = None
    key: LongId | None = None
    model: LongId | None = None
    day: Date | None = None
    user: LongId | None = None
    limit: Annotated[int, Field(ge=1, le=10000)] = 100
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class AuditQuery(Query):
    key: LongId | None = None
    team: LongId | None = None
    department: LongId | None = None
    user: LongId | None = None
    outcome: LongId | None = None
    kind: LongId | None = None
    model: LongId | None = None
    request_id: LongId | None = None
    since: datetime | None = Field(None, description="ISO 8601 or Unix seconds, inclusive (no zone: UTC)")
    until: datetime | None = Field(None, description="ISO 8601 or Unix seconds, exclusive")
    before: Annotated[int, Field(ge=1)] | None = Field(None, description="cursor: the previous page's next_cursor")
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    content: bool = False  # include prompt and response as the audit stored them


# ---- answers ------------------------------------------------------------------------------

class Department(Out):
    id: str
    name: str
    created_at: float | None = None


class Team(Out):
    id: str
    name: str | None = None
    department: str | None = None
    department_id: str | None = None
    allowed_models: list[str] | None = None
    allowed_departments: list[str] | None = None
    created_at: float | None = None


class KeyCreated(Out):
    id: str
    key: str = Field(description="the key in plaintext: shown this once, never again")
    hint: str
    user: str | None
    team: str | None
    department: str | None
    allowed_models: list[str] | None
    allow_department_header: bool = False
    allowed_departments: list[str] | None = None
    expires_at: float | None
    webhook_url: str | None = None  # its query, if any, hidden


class KeyView(Out):
    id: str
    hint: str
    name: str
    user: str | None
    team: str | None
    department: str | None
    allowed_models: list[str] | None
    allow_department_header: bool
    allowed_departments: list[str] | None = None
    expires_at: float | None
    revoked_at: float | None
    rotation_grace_until: float | None
    created_at: float
    webhook_url: str | None = None  # its query, if any, hidden


class KeyRotated(Out):
    id: str
    key: str
    hint: str
    previous_valid_until: float


class KeyRevoked(Out):
    id: str
    revoked: bool


class Limit(Out):
    id: str
    scope: str
    scope_id: str
    model: str
    rpm: int | None
    tpm: int | None


class Budget(Out):
    id: str
    scope: str
    scope_id: str
    period: str
    amount_usd: float
    hard: bool
    spent_usd: float | None = Field(None, description="settled spend plus open reservations (lists only)")


class Deleted(Out):
    id: str
    deleted: bool


class UsageRow(Out):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class Usage(Out):
    object: Literal["list"]
    group_by: list[str]
    data: list[UsageRow]
    next_offset: int | None


class AuditRecord(Out):
    seq: int
    id: str
    ts: float
    kind: str
    outcome: str
    status: int
    key_id: str | None
    team_id: str | None
    cost_usd: float


class AuditPage(Out):
    object: Literal["list"]
    data: list[AuditRecord]
    next_cursor: int | None = Field(description="pass as `before` for the next (older) page; null at the end")


def listing(item: type[Out], name: str) -> type[Out]:
    """{"object": "list", "data": [item, ...]}"""
    from pydantic import create_model

    return create_model(name, __base__=Out, object=(Literal["list"], ...), data=(list[item], ...))


Departments = listing(Department, "Departments")
Teams = listing(Team, "Teams")
Keys = listing(KeyView, "Keys")
Limits = listing(Limit, "Limits")
Budgets = listing(Budget, "Budgets")
