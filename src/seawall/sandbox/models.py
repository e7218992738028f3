"""What a caller sends and gets back. The result's field names are a contract with clients."""
from __future__ import annotations

import base64
import binascii
import posixpath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LIMIT_VALUES = ("wall_time", "cpu_time", "memory", "processes", "output", "file_size")
RESULT_FIELDS = ("id", "stdout", "stderr", "truncated", "exit_code", "signal", "limit",
                 "duration_ms", "peak_memory_mb", "files")


class InputFile(BaseModel):
    """A file placed in /work before the code starts."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    content: str = ""
    encoding: Literal["utf-8", "base64"] = "utf-8"

    @field_validator("name")
    @classmethod
    def _relative_inside_work(cls, v: str) -> str:
        if "\x00" in v or "\\" in v:
            raise ValueError("must not contain NUL or backslash")
        if v.startswith("/"):
            raise ValueError("must be relative to /work")
        norm = posixpath.normpath(v)
        if norm in (".", "") or norm.startswith("..") or any(p in ("..", ".") for p in v.split("/")):
            raise ValueError("must name a file inside /work (no '.' or '..' parts)")
        if norm != v:
            raise ValueError("must be a normalised path (no '//' or trailing '/')")
        return v

    def data(self) -> bytes:
        if self.encoding == "utf-8":
            return self.content.encode()
        try:
            return base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("content is not valid base64") from None


class RequestLimits(BaseModel):
    """Per-request limits; each unset one takes the configured default, none may pass the maximum."""

    model_config = ConfigDict(extra="forbid")

    wall_time_s: float | None = Field(None, gt=0)
    cpu_time_s: float | None = Field(None, gt=0)
    memory_mb: int | None = Field(None, gt=0)
    processes: int | None = Field(None, gt=0)
    output_bytes: int | None = Field(None, gt=0)
    file_size_bytes: int | None = Field(None, gt=0)


class ExecutionRequest(BaseModel):
    """The body of POST /v1/sandbox/executions."""

    model_config = ConfigDict(extra="forbid")

    language: str
    code: str
    files: list[InputFile] = Field(default_factory=list, max_length=256)
    limits: RequestLimits = Field(default_factory=RequestLimits)
    network: Literal["none"] = "none"
    # With the action proxy on, an execution its policy escalated runs once approved: the
    # same request again with the approval's id.
    approval_id: str | None = Field(None, max_length=128)


class OutputFile(BaseModel):
    name: str
    size: int
    truncated: bool
    content: str
    encoding: Literal["base64"] = "base64"


class ExecutionResult(BaseModel):
    id: str
    stdout: str
    stderr: str
    truncated: bool
    exit_code: int | None
    signal: str | None
    limit: Literal["wall_time", "cpu_time", "memory", "processes", "output", "file_size"] | None
    duration_ms: float
    peak_memory_mb: float
    files: list[OutputFile]

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")
