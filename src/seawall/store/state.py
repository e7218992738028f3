"""The state store: counters, TTL keys, atomic scripts and pub/sub.

Two backends behind one small interface: `MemoryState` (one process, the default) and
`RedisState` (any number of instances). Scripts are written twice, as Lua for Redis and as a
Python function for memory, and run atomically on either (the memory one runs without an
await, so nothing interleaves). `GuardedState` puts a timeout and a circuit breaker around
a remote store and, per call, either fails (closed) or falls back to a local memory store
(open).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from .breaker import Breaker, StoreUnavailable

log = logging.getLogger("seawall.store")

Listener = Callable[[str], Awaitable[None] | None]


@dataclass(frozen=True)
class Script:
    """An atomic operation: `lua` runs in Redis, `local(state, keys, args)` in memory."""

    name: str
    lua: str
    local: Callable[["MemoryState", list[str], list[Any]], Any]


class StateStore:
    kind = "abstract"
    prefix = ""

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def incr(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int: ...
    async def run(self, script: Script, keys: list[str], args: list[Any]) -> Any: ...
    async def publish(self, channel: str, message: str) -> None: ...
    def subscribe(self, channel: str, listener: Listener) -> None: ...
    async def ping(self) -> bool: ...
    async def aclose(self) -> None: ...

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)


class MemoryState(StateStore):
    """Dicts in this process. Values are str, int or dict (a hash); expiry is lazy."""

    kind = "memory"

    def __init__(self, prefix: str = "seawall:") -> None:
        self.prefix = prefix
        self.data: dict[str, Any] = {}
        self.expiry: dict[str, float] = {}
        self.listeners: dict[str, list[Listener]] = {}
        self._sweep_at = time.monotonic() + 30.0

    # -- helpers scripts use directly (synchronous, so atomic) --
    def live(self, key: str) -> Any:
        exp = self.expiry.get(key)
        if exp is not None and exp <= time.monotonic():
            self.data.pop(key, None)
            self.expiry.pop(key, None)
            return None
        return self.data.get(key)

    def expire(self, key: str, ttl_s: float | None) -> None:
        if ttl_s:
            self.expiry[key] = time.monotonic() + ttl_s

    def maybe_sweep(self) -> None:
        now = time.monotonic()
        if now < self._sweep_at:
            return
        self._sweep_at = now + 30.0
        for k in [k for k, e in self.expiry.items() if e <= now]:
            self.data.pop(k, None)
            self.expiry.pop(k, None)

    def incr_now(self, key: str, amount: int = 1, ttl_s: float | None = None) -> int:
        value = int(self.live(key) or 0) + amount
        self.data[key] = value
        if ttl_s and key not in self.expiry:
            self.expire(key, ttl_s)
        return value

    # -- interface --
    async def get(self, key):
        v = self.live(key)
        return None if v is None else str(v)

    async def set(self, key, value, ttl_s=None):
        self.data[key] = value
        self.expiry.pop(key, None)
        self.expire(key, ttl_s)

    async def delete(self, key):
        self.data.pop(key, None)
        self.expiry.pop(key, None)

    async def incr(self, key, amount=1, ttl_s=None):
        return self.incr_now(key, amount, ttl_s)

    async def run(self, script, keys, args):
        self.maybe_sweep()
        return script.local(self, keys, args)

    def run_now(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """The same as `run` without an await: for the hot path on the memory backend."""
        self.maybe_sweep()
        return script.local(self, keys, args)

    async def publish(self, channel, message):
        for fn in list(self.listeners.get(channel, ())):
            res = fn(message)
            if asyncio.iscoroutine(res):
                await res

    def subscribe(self, channel, listener):
        self.listeners.setdefault(channel, []).append(listener)

    async def ping(self):
        return True

    async def aclose(self):
        pass


class RedisState(StateStore):
    """Redis through one pooled redis-py asyncio client per process."""

    kind = "redis"

    def __init__(self, url: str, prefix: str = "seawall:", timeout_s: float = 0.05,
                 max_connections: int = 64) -> None:
        import redis.asyncio as aredis

        self.url = url
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.client = aredis.Redis.from_url(
            url, socket_timeout=max(timeout_s, 0.5), socket_connect_timeout=max(timeout_s, 0.5),
            max_connections=max_connections, decode_responses=True, health_check_interval=0,
        )
        self._scripts: dict[str, Any] = {}
        self._channels: dict[str, list[Listener]] = {}
        self._pubsub_task: asyncio.Task | None = None
        self._closing = False

    async def get(self, key):
        return await self.client.get(key)

    async def set(self, key, value, ttl_s=None):
        await self.client.set(key, value, px=int(ttl_s * 1000) if ttl_s else None)

    async def delete(self, key):
        await self.client.delete(key)

    async def incr(self, key, amount=1, ttl_s=None):
        if not ttl_s:
            return await self.client.incrby(key, amount)
        async with self.client.pipeline(transaction=True) as p:
            p.incrby(key, amount)
            p.expire(key, int(ttl_s) + 1, nx=True)
            value, _ = await p.execute()
        return value

    async def run(self, script, keys, args):
        s = self._scripts.get(script.name)
        if s is None:
            s = self._scripts[script.name] = self.client.register_script(script.lua)
        return await s(keys=keys, args=args)

    async def publish(self, channel, message):
        await self.client.publish(self.prefix + channel, message)

    def subscribe(self, channel, listener):
        self._channels.setdefault(self.prefix + channel, []).append(listener)
        if self._pubsub_task is None:
            self._pubsub_task = asyncio.get_running_loop().create_task(self._listen())

    async def _listen(self) -> None:
        """Keep a subscription alive across Redis restarts; deliver messages to listeners."""
        delay = 0.1
        while not self._closing:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                subscribed = set(self._channels)
                await pubsub.subscribe(*subscribed)
                delay = 0.1
                for fn_list in list(self._channels.values()):  # we may have missed changes: resync
                    for fn in fn_list:
                        await _call(fn, "resync")
                while not self._closing:
                    late = set(self._channels) - subscribed  # subscribed after this loop started
                    if late:
                        await pubsub.subscribe(*late)
                        subscribed |= late
                        for ch in late:
                            for fn in self._channels[ch]:
                                await _call(fn, "resync")
                    # a short wait: a late subscriber is listening within a quarter second
                    msg = await pubsub.get_message(timeout=0.25)
                    if msg and msg.get("type") == "message":
                        for fn in self._channels.get(msg["channel"], ()):
                            await _call(fn, msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - reconnect on anything
                log.debug("pubsub reconnecting: %s", type(e).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001
                    pass

    async def ping(self):
        return bool(await self.client.ping())

    async def aclose(self):
        self._closing = True
        if self._pubsub_task is not None:
            self._pubsub_task.cancel()
            try:
                await self._pubsub_task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.client.aclose()


async def _call(fn: Listener, message: str) -> None:
    try:
        res = fn(message)
        if asyncio.iscoroutine(res):
            await res
    except Exception:  # noqa: BLE001 - a listener's bug must not kill the subscription
        log.exception("state listener failed")


class GuardedState:
    """A remote store behind a timeout and a breaker, with a local fallback for fail-open
    callers. `run(..., fail_open=...)` returns (result, degraded)."""

    def __init__(self, store: StateStore, timeout_s: float = 0.05, failures: int = 3,
                 reset_s: float = 1.0) -> None:
        self.store = store
        self.timeout_s = timeout_s
        self.breaker = Breaker(f"state:{store.kind}", failures, reset_s)
        self.local = store if isinstance(store, MemoryState) else MemoryState(store.prefix)

    @property
    def remote(self) -> bool:
        return not isinstance(self.store, MemoryState)

    async def call(self, op: str, *args: Any) -> Any:
        """One store call within the timeout and breaker; StoreUnavailable otherwise."""
        if not self.remote:
            return await getattr(self.store, op)(*args)
        return await self.guarded(lambda: getattr(self.store, op)(*args))

    async def guarded(self, fn, timeout_s: float | None = None) -> Any:
        """Await `fn()` (one or several store operations) within the timeout and the
        breaker; StoreUnavailable otherwise."""
        if not self.breaker.allow():
            raise StoreUnavailable(f"state store {self.store.kind} unavailable (breaker open)")
        try:
            async with asyncio.timeout(timeout_s or self.timeout_s):
                res = await fn()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self.breaker.failure()
            raise StoreUnavailable(f"state store {self.store.kind} failed: {type(e).__name__}") from None
        self.breaker.success()
        return res

    async def run(self, script: Script, keys: list[str], args: list[Any], fail_open: bool) -> tuple[Any, bool]:
        if not self.remote:
            return self.store.run_now(script, keys, args), False  # type: ignore[attr-defined]
        try:
            return await self.call("run", script, keys, args), False
        except StoreUnavailable:
            if not fail_open:
                raise
            return self.local.run_now(script, keys, args), True


def open_state(url: str, prefix: str = "seawall:", timeout_s: float = 0.05) -> StateStore:
    if url in ("memory", "memory://", ""):
        return MemoryState(prefix)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisState(url, prefix, timeout_s)
    raise ValueError(f"unknown state store {url!r}: use memory or redis://host:port/db")
