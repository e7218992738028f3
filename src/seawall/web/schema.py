"""Building blocks for typed admin bodies: the base models and bounded field types.

Request bodies refuse unknown fields and are validated strictly (a string is not a number);
response models describe what a route answers, for /openapi.json, and allow extra fields so
an answer that grows a field never breaks.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Printable text without control characters: PostgreSQL refuses NUL, and nothing here needs
# a newline. Lengths follow the SQL columns (store/sql.py).
_TEXT = r"^[^\x00-\x1f\x7f]*$"
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=_TEXT)]
LongId = Annotated[str, Field(min_length=1, max_length=128, pattern=_TEXT)]
Name = Annotated[str, Field(max_length=200, pattern=_TEXT)]
ModelName = Annotated[str, Field(min_length=1, max_length=128, pattern=_TEXT)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Query(BaseModel):
    """Query strings are text: numbers are converted, unknown parameters refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(Out):
    message: str
    type: str
    code: str
    param: str | None = None


class ErrorBody(Out):
    """Every error, in OpenAI's shape (Anthropic's on /v1/messages)."""

    error: ErrorDetail
