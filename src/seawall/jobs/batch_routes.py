"""/v1/files and /v1/batches, as the OpenAI SDK calls them (jobs/batches.py does the work)."""
from __future__ import annotations

from ..core.errors import GatewayError
from ..net.messages import BodyTooLarge
from ..net.server import Response
from ..web.router import Call, Route
from .batches import Batches

BATCH_REQUEST = {"type": "object", "required": ["input_file_id", "endpoint", "completion_window"],
                 "properties": {"input_file_id": {"type": "string"},
                                "endpoint": {"enum": ["/v1/chat/completions", "/v1/embeddings"]},
                                "completion_window": {"const": "24h"}, "metadata": {"type": "object"}}}


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data -> {field: (filename, bytes)}; 400 when it is not."""
    boundary = None
    for part in content_type.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "boundary":
            boundary = v.strip('"')
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise GatewayError("invalid_request", "send multipart/form-data with fields 'file' and 'purpose'")
    out: dict[str, tuple[str | None, bytes]] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise GatewayError("invalid_request", "malformed multipart body")
        name = filename = None
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for item in line.split(";")[1:]:
                    k, _, v = item.strip().partition("=")
                    if k == "name":
                        name = v.strip('"')
                    elif k == "filename":
                        filename = v.strip('"')
        if name:
            out[name] = (filename, data[:-2] if data.endswith(b"\r\n") else data)
    return out


def routes(batches: Batches, max_file_bytes: int) -> list[Route]:
    async def upload(call: Call):
        req = call.request
        try:  # also bounded by the server's max body (server.max_body_bytes)
            raw = await req.read(max_file_bytes + (64 << 10))
        except BodyTooLarge:
            raise GatewayError("request_too_large", "the upload is larger than this gateway accepts "
                               "(jobs.batch.max_file_bytes, server.max_body_bytes)") from None
        form = parse_multipart(req.headers.get("content-type", ""), raw)
        if "file" not in form:
            raise GatewayError("invalid_request", "the 'file' field is missing", param="file")
        purpose = form.get("purpose", (None, b""))[1].decode("utf-8", "replace")
        return call.json(await batches.upload(call.principal, form["file"][0] or "input.jsonl", purpose,
                                              form["file"][1]))

    async def list_files(call: Call):
        return call.json(await batches.list_files(call.principal))

    async def get_file(call: Call):
        return call.json(await batches.get_file(call.params["id"], call.principal))

    async def delete_file(call: Call):
        return call.json(await batches.delete_file(call.params["id"], call.principal))

    async def file_content(call: Call):
        body = await batches.content(call.params["id"], call.principal)
        return Response(body=body, headers=call.headers, content_type="application/jsonl")

    async def create(call: Call):
        return call.json(await batches.create(call.principal, call.body))

    async def list_batches(call: Call):
        q = call.request.query
        try:
            limit = min(max(int(q.get("limit", 20)), 1), 100)
        except ValueError:
            raise GatewayError("invalid_request", "limit must be an integer", param="limit") from None
        return call.json(await batches.list(call.principal, limit, q.get("after")))

    async def get_batch(call: Call):
        return call.json(await batches.get(call.params["id"], call.principal))

    async def cancel(call: Call):
        return call.json(await batches.cancel(call.params["id"], call.principal))

    t = "batch"
    return [
        Route("POST", "/v1/files", upload, auth="client", summary="Upload a batch input file (JSONL)", tag=t),
        Route("GET", "/v1/files", list_files, auth="client", summary="Your files", tag=t),
        Route("GET", "/v1/files/{id}", get_file, auth="client", summary="A file", tag=t),
        Route("DELETE", "/v1/files/{id}", delete_file, auth="client", summary="Delete a file", tag=t),
        Route("GET", "/v1/files/{id}/content", file_content, auth="client",
              summary="A file's bytes (a batch's output and error files: rendered from its lines)", tag=t),
        Route("POST", "/v1/batches", create, auth="client", body=BATCH_REQUEST, summary="Create a batch", tag=t),
        Route("GET", "/v1/batches", list_batches, auth="client", summary="Your batches", tag=t),
        Route("GET", "/v1/batches/{id}", get_batch, auth="client", summary="A batch and its request counts", tag=t),
        Route("POST", "/v1/batches/{id}/cancel", cancel, auth="client", summary="Cancel a batch", tag=t),
    ]
