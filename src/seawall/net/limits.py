"""Timeouts and connection caps of the HTTP server (`server.limits` in the config).

Every client-controlled wait has a bound, so a slow or silent client holds a connection (and
its file descriptor) for seconds, not forever; see docs/configuration.md.
"""
from __future__ import annotations

import resource

from pydantic import BaseModel, ConfigDict, Field


class ServerLimits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    head_timeout_s: float = Field(10.0, gt=0)  # a new connection's or a started request's head
    body_idle_timeout_s: float = Field(15.0, gt=0)  # silence while a request body is arriving
    body_timeout_s: float = Field(60.0, gt=0)  # a whole request body, from the end of its head
    idle_timeout_s: float = Field(75.0, gt=0)  # keep-alive: no request in progress
    send_timeout_s: float = Field(60.0, gt=0)  # a client that does not read what we send
    drain_timeout_s: float = Field(10.0, gt=0)  # on stop, what requests in flight get to finish
    max_connections: int | None = Field(None, ge=1)  # None: 3/4 of the file-descriptor limit
    max_connections_per_client: int = Field(512, ge=0)  # per client IP address; 0: no cap

    def server_kwargs(self) -> dict:
        """Keyword arguments for net.server.Server."""
        return {"head_timeout_s": self.head_timeout_s, "body_idle_timeout_s": self.body_idle_timeout_s,
                "body_timeout_s": self.body_timeout_s, "keepalive_s": self.idle_timeout_s,
                "send_timeout_s": self.send_timeout_s, "max_connections": self.max_connections,
                "max_connections_per_client": self.max_connections_per_client}


def default_max_connections() -> int:
    """3/4 of the soft file-descriptor limit: the rest is left for upstream connections, the
    stores and log files, so accept() never fails for want of a descriptor."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 100_000
    return max(16, soft * 3 // 4)
