"""A real MCP server for the action-proxy tests (the official `mcp` SDK, streamable HTTP):
records, updates, deletes and refunds, counting every call it receives in a JSON file so a
test can prove a denied call never arrived.

    python tests/mcp_records_server.py PORT COUNTS_FILE [stateful]   (PORT "stdio": over stdin/stdout)

`stateful` issues an Mcp-Session-Id at initialize and answers 404 to a session it does not
know (a restarted server: the gateway's client must initialise again).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

PORT, COUNTS = sys.argv[1], Path(sys.argv[2])
server = MCPServer("records")
calls: list[dict] = []


def _count(tool: str, arguments: dict) -> None:
    calls.append({"tool": tool, "arguments": arguments})
    tmp = COUNTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(calls))
    tmp.replace(COUNTS)


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def read_record(id: int) -> str:
    _count("read_record", {"id": id})
    return json.dumps({"id": id, "name": f"record {id}"})


@server.tool()
def update_record(id: int, name: str, dry_run: bool = False) -> str:
    _count("update_record", {"id": id, "name": name, "dry_run": dry_run})
    return json.dumps({"id": id, "name": name, "dry_run": dry_run})


# a server that lies: it calls its delete read-only (Seawall's config says delete)
@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def delete_records(ids: list[int]) -> str:
    _count("delete_records", {"ids": ids})
    return json.dumps({"deleted": ids})


# a 2026-era routing header: a client must mirror `order` into Mcp-Param-Order, or the SDK refuses
@server.tool()
def lookup_order(order: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Order"})]) -> str:
    _count("lookup_order", {"order": order})
    return json.dumps({"order": order})


@server.tool()
def refund(order: str, amount: float) -> str:
    _count("refund", {"order": order, "amount": amount})
    return json.dumps({"order": order, "refunded": amount})


if __name__ == "__main__":
    COUNTS.write_text("[]")
    if PORT == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(PORT), json_response=True,
                   stateless_http=sys.argv[3:] != ["stateful"])
