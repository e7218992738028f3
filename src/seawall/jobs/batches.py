"""The OpenAI Files and Batch APIs on the job queue.

A batch is one job per input line (kind chat or embeddings, the line's `custom_id` and number
on the job). Each line's answer and cost are written by the one UPDATE that finishes its job,
under its lease: a restart re-runs only lines whose job was not finished, and a line is never
recorded twice. The output and error files hold no bytes of their own: they are rendered from
the batch's finished jobs when read, in input order, so partial output is readable while the
batch runs and nothing has to be assembled at the end.
"""
from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
import sqlalchemy as sa

from ..core.errors import GatewayError
from ..core.types import Principal
from .queue import batches, files, jobs
from .service import JobsService, tenant_of

ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/embeddings": "embeddings"}
WINDOWS = {"24h": 86400.0}


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def _file_public(r) -> dict:
    return {"id": r.id, "object": "file", "bytes": r.bytes, "created_at": int(r.created_at),
            "filename": r.filename, "purpose": r.purpose, "status": "processed", "status_details": None}


class Batches:
    def __init__(self, service: JobsService) -> None:
        self.service = service
        self.engine = service.queue.engine
        self.policy = service.config.batch

    # ---- files --------------------------------------------------------------------------

    async def upload(self, principal: Principal | None, filename: str, purpose: str, content: bytes) -> dict:
        self.service._check()
        if purpose != "batch":
            raise GatewayError("invalid_request", "only purpose 'batch' is accepted", param="purpose")
        if len(content) > self.policy.max_file_bytes:
            raise GatewayError("request_too_large", f"files are limited to {self.policy.max_file_bytes} bytes")
        lines = [ln for ln in content.splitlines() if ln.strip()]
        if not lines:
            raise GatewayError("invalid_request", "the file is empty; send JSONL, one request per line", param="file")
        if len(lines) > self.policy.max_lines:
            raise GatewayError("invalid_request", f"a batch file holds at most {self.policy.max_lines} lines",
                               param="file")
        for n, ln in enumerate(lines, 1):
            try:
                obj = orjson.loads(ln)
            except orjson.JSONDecodeError:
                raise GatewayError("invalid_request", f"line {n} is not valid JSON", param="file") from None
            if not isinstance(obj, dict):
                raise GatewayError("invalid_request", f"line {n} is not a JSON object", param="file")
        row = dict(id=_id("file-"), tenant=tenant_of(principal), purpose=purpose, filename=filename[:512] or "input.jsonl",
                   bytes=len(content), content=content, created_at=time.time())
        async with self.engine.begin() as conn:
            await conn.execute(files.insert().values(**row))
        return _file_public(_Obj(row))

    async def _file(self, file_id: str, principal) -> Any:
        async with self.engine.connect() as conn:
            r = (await conn.execute(sa.select(files).where(files.c.id == file_id,
                                                           files.c.tenant == tenant_of(principal)))).first()
        if r is None:
            raise GatewayError("not_found", f"no file {file_id}")
        return r

    async def get_file(self, file_id: str, principal) -> dict:
        r = await self._file(file_id, principal)
        out = _file_public(r)
        if r.content is None:
            out["bytes"] = len(await self._render(r.batch_id, r.role))
        return out

    async def list_files(self, principal, limit: int = 100) -> dict:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(files).where(files.c.tenant == tenant_of(principal))
                                       .order_by(files.c.created_at.desc()).limit(limit))).all()
        return {"object": "list", "data": [_file_public(r) for r in rows], "has_more": False}

    async def delete_file(self, file_id: str, principal) -> dict:
        await self._file(file_id, principal)
        async with self.engine.begin() as conn:
            await conn.execute(files.delete().where(files.c.id == file_id))
        return {"id": file_id, "object": "file", "deleted": True}

    async def content(self, file_id: str, principal) -> bytes:
        r = await self._file(file_id, principal)
        return r.content if r.content is not None else await self._render(r.batch_id, r.role)

    async def _render(self, batch_id: str, role: str) -> bytes:
        """The output (completed lines) or error file (failed and expired lines), in input order."""
        states = ("completed",) if role == "output" else ("failed", "expired")
        q = (sa.select(jobs.c.id, jobs.c.custom_id, jobs.c.status, jobs.c.http_status, jobs.c.result, jobs.c.error,
                       jobs.c.attempts)
             .where(jobs.c.batch_id == batch_id, jobs.c.status.in_(states)).order_by(jobs.c.line))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        out = []
        for r in rows:
            rid = f"{r.id}-{r.attempts}"
            if r.status == "completed":
                line = {"id": "batch_req_" + r.id[4:], "custom_id": r.custom_id, "error": None,
                        "response": {"status_code": r.http_status or 200, "request_id": rid,
                                     "body": orjson.loads(r.result)}}
            elif r.status == "expired":
                line = {"id": "batch_req_" + r.id[4:], "custom_id": r.custom_id, "response": None,
                        "error": {"code": "batch_expired", "message": "not run within the completion window"}}
            else:
                err = orjson.loads(r.error) if r.error else {"code": "internal_error", "status": 500, "message": ""}
                line = {"id": "batch_req_" + r.id[4:], "custom_id": r.custom_id, "error": None,
                        "response": {"status_code": err.get("status", 500), "request_id": rid,
                                     "body": {"error": {"message": err.get("message"), "code": err.get("code"),
                                                        "type": "invalid_request_error"
                                                        if err.get("status", 500) < 500 else "server_error"}}}}
            out.append(orjson.dumps(line))
        return b"".join(x + b"\n" for x in out)

    # ---- batches ------------------------------------------------------------------------

    async def create(self, principal: Principal | None, body: dict) -> dict:
        svc = self.service
        svc._check()
        endpoint, window = body.get("endpoint"), body.get("completion_window", "24h")
        if endpoint not in ENDPOINTS:
            raise GatewayError("invalid_request", f"endpoint must be one of {sorted(ENDPOINTS)}", param="endpoint")
        if window not in WINDOWS:
            raise GatewayError("invalid_request", "completion_window must be '24h'", param="completion_window")
        meta = body.get("metadata")
        if meta is not None and (not isinstance(meta, dict) or len(meta) > 16
                                 or not all(isinstance(v, str) and len(v) <= 512 for v in meta.values())):
            raise GatewayError("invalid_request", "metadata: at most 16 string values", param="metadata")
        fid = body.get("input_file_id")
        if not isinstance(fid, str):
            raise GatewayError("invalid_request", "input_file_id is required", param="input_file_id")
        f = await self._file(fid, principal)
        if f.purpose != "batch" or f.content is None:
            raise GatewayError("invalid_request", "input_file_id must be a file uploaded with purpose 'batch'",
                               param="input_file_id")
        kind = ENDPOINTS[endpoint]
        now = time.time()
        bid = _id("batch_")
        seen: set[str] = set()
        rows = []
        for n, ln in enumerate((x for x in f.content.splitlines() if x.strip()), 1):
            obj = orjson.loads(ln)
            cid = obj.get("custom_id")
            if not isinstance(cid, str) or not cid or len(cid) > 512:
                raise GatewayError("invalid_request", f"line {n}: custom_id must be a non-empty string",
                                   param="input_file_id")
            if cid in seen:
                raise GatewayError("invalid_request", f"line {n}: custom_id {cid!r} is used twice", param="input_file_id")
            seen.add(cid)
            if obj.get("method", "POST") != "POST" or obj.get("url") != endpoint:
                raise GatewayError("invalid_request", f"line {n}: method must be POST and url {endpoint}",
                                   param="input_file_id")
            if not isinstance(obj.get("body"), dict):
                raise GatewayError("invalid_request", f"line {n}: body must be an object", param="input_file_id")
            try:
                row = svc.build_row(kind, obj["body"], principal, priority=self.policy.priority,
                                    batch_id=bid, custom_id=cid, line=n)
            except GatewayError as e:
                raise GatewayError("invalid_request", f"line {n}: {e.message}", param="input_file_id") from None
            row["expires_at"] = now + WINDOWS[window]
            rows.append(row)
        tenant = tenant_of(principal)
        out_id, err_id = _id("file-"), _id("file-")
        async with self.engine.begin() as conn:  # the batch, its files and every line, or nothing
            await conn.execute(batches.insert().values(
                id=bid, tenant=tenant, endpoint=endpoint, input_file_id=fid, output_file_id=out_id,
                error_file_id=err_id, completion_window=window, metadata=orjson.dumps(meta).decode() if meta else None,
                status="in_progress", total=len(rows), created_at=now, in_progress_at=now,
                expires_at=now + WINDOWS[window]))
            await conn.execute(files.insert(), [
                dict(id=out_id, tenant=tenant, purpose="batch_output", filename=f"{bid}_output.jsonl", bytes=0,
                     content=None, batch_id=bid, role="output", created_at=now),
                dict(id=err_id, tenant=tenant, purpose="batch_output", filename=f"{bid}_error.jsonl", bytes=0,
                     content=None, batch_id=bid, role="error", created_at=now)])
            for i in range(0, len(rows), 1000):
                await conn.execute(jobs.insert(), rows[i:i + 1000])
        svc.wake()
        return await self.get(bid, principal)

    async def _batch(self, batch_id: str, principal) -> Any:
        async with self.engine.connect() as conn:
            r = (await conn.execute(sa.select(batches).where(batches.c.id == batch_id,
                                                             batches.c.tenant == tenant_of(principal)))).first()
        if r is None:
            raise GatewayError("not_found", f"no batch {batch_id}")
        return r

    async def _counts(self, batch_id: str) -> dict[str, int]:
        q = sa.select(jobs.c.status, sa.func.count()).where(jobs.c.batch_id == batch_id).group_by(jobs.c.status)
        async with self.engine.connect() as conn:
            return {s: n for s, n in (await conn.execute(q)).all()}

    async def get(self, batch_id: str, principal) -> dict:
        b = await self._batch(batch_id, principal)
        counts = await self._counts(batch_id)
        status = b.status
        if status == "in_progress" and not counts.get("queued") and not counts.get("running"):
            now = time.time()  # every line is finished: the batch is
            async with self.engine.begin() as conn:
                await conn.execute(batches.update().where(batches.c.id == batch_id, batches.c.status == "in_progress")
                                   .values(status="completed", finalizing_at=now, completed_at=now))
            b = await self._batch(batch_id, principal)
        return self._public(b, counts)

    def _public(self, b, counts: dict[str, int]) -> dict:
        done, failed = counts.get("completed", 0), counts.get("failed", 0) + counts.get("expired", 0)
        ts = lambda v: None if v is None else int(v)  # noqa: E731
        return {
            "id": b.id, "object": "batch", "endpoint": b.endpoint, "errors": None, "input_file_id": b.input_file_id,
            "completion_window": b.completion_window, "status": b.status,
            "output_file_id": b.output_file_id if done else None,
            "error_file_id": b.error_file_id if failed else None,
            "created_at": int(b.created_at), "in_progress_at": ts(b.in_progress_at), "expires_at": ts(b.expires_at),
            "finalizing_at": ts(b.finalizing_at), "completed_at": ts(b.completed_at), "failed_at": None,
            "expired_at": None, "cancelling_at": ts(b.cancelling_at), "cancelled_at": ts(b.cancelled_at),
            "request_counts": {"total": b.total, "completed": done, "failed": failed},
            "metadata": orjson.loads(b.metadata) if b.metadata else None,
        }

    async def list(self, principal, limit: int = 20, after: str | None = None) -> dict:
        q = sa.select(batches).where(batches.c.tenant == tenant_of(principal))
        if after:
            pivot = await self._batch(after, principal)
            q = q.where(batches.c.created_at < pivot.created_at)
        q = q.order_by(batches.c.created_at.desc()).limit(limit + 1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(q)).all()
        data = [self._public(b, await self._counts(b.id)) for b in rows[:limit]]
        return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None, "has_more": len(rows) > limit}

    async def cancel(self, batch_id: str, principal) -> dict:
        b = await self._batch(batch_id, principal)
        if b.status in ("in_progress", "validating"):
            now = time.time()
            async with self.engine.begin() as conn:  # lines not finished are cancelled; running ones are
                await conn.execute(jobs.update().where(  # dropped at their worker's next renewal
                    jobs.c.batch_id == batch_id, jobs.c.status.in_(("queued", "running")))
                    .values(status="cancelled", finished_at=now, lease_owner=None, lease_until=None))
                await conn.execute(batches.update().where(batches.c.id == batch_id)
                                   .values(status="cancelled", cancelling_at=now, cancelled_at=now))
        return await self.get(batch_id, principal)


class _Obj:
    def __init__(self, d: dict) -> None:
        self.__dict__.update(d)
