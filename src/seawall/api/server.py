"""Run the HTTP surface: one process, or N forked workers sharing one listening socket."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import tempfile


log = logging.getLogger("seawall.server")


def _event_loop_policy() -> None:
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        pass


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def start_in_process(gateway, host: str = "127.0.0.1", port: int = 0,
                           sock: socket.socket | None = None):
    """Serve `gateway` on this event loop; returns an async `stop()` that drains and closes.
    The CLI server and the demo both start through here."""
    from ..net.server import Server
    from .app import App

    await gateway.start()  # stores and the key directory are ready before the first request
    app = App(gateway)
    # the request being handled is cancelled when its client disconnects (net.server)
    server = Server(app, max_body=max(gateway.config.server.max_body_bytes, 1 << 20),
                    **gateway.config.server.limits.server_kwargs())
    loop = asyncio.get_running_loop()
    if sock is not None:
        srv = await loop.create_server(server, sock=sock, backlog=2048)
    else:
        srv = await loop.create_server(server, host, port, backlog=2048)
    app.ready = True

    async def stop() -> None:
        app.ready = False
        srv.close()
        await server.shutdown(timeout=10.0)  # lets in-flight requests finish
        await gateway.aclose()

    return stop


async def _serve(config, sock: socket.socket, ready_note: str | None) -> None:
    from ..gateway import Gateway

    stop_server = await start_in_process(Gateway(config), sock=sock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if ready_note:
        log.info(ready_note)
    await stop.wait()
    await stop_server()


def serve(config, host: str, port: int, workers: int = 1) -> int:
    from ..observe import logging as slog

    slog.setup(config.server.log_level)
    if not config.server.api_keys and host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("no server.api_keys configured: anyone who can reach %s:%s can use the gateway", host, port)
    sock = _listen(host, port)
    actual_port = sock.getsockname()[1]
    note = f"seawall listening on http://{host}:{actual_port} ({workers} worker{'s' if workers > 1 else ''})"
    _event_loop_policy()
    if workers <= 1:
        asyncio.run(_serve(config, sock, note))
        return 0
    # Several workers: metrics from every process are merged through prometheus_client's
    # multiprocess directory, which has to exist before any metric is created.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="seawall-metrics-"))
    children = []
    for i in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                asyncio.run(_serve(config, sock, note if i == 0 else None))
            finally:
                os._exit(0)
        children.append(pid)

    def forward(signum, _frame):
        for pid in children:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    for pid in children:
        while True:
            try:
                _, st = os.waitpid(pid, 0)
                status = status or os.waitstatus_to_exitcode(st)
                break
            except InterruptedError:
                continue
    sys.stdout.flush()
    return status
