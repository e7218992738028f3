"""Run the HTTP surface: one process, or N forked workers sharing one listening socket."""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time


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
                           sock: socket.socket | None = None, config_path: str | None = None,
                           raw: dict | None = None):
    """Serve `gateway` on this event loop; returns an async `stop()` that drains and closes.
    The CLI server and the demo both start through here. With `config_path`, the app can
    reload that file (SIGHUP, POST /admin/reload; api/reload.py), `raw` being the values the
    gateway's configuration was read from (default: the file now); `stop.app` is the App."""
    from ..net.server import Server
    from .app import App

    await gateway.start()  # stores and the key directory are ready before the first request
    app = App(gateway)
    if config_path:
        from .reload import Reloader

        app.reloader = Reloader(app, config_path, raw)
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
        started = time.monotonic()
        await server.shutdown(timeout=gateway.config.server.limits.drain_timeout_s)  # lets in-flight requests finish
        if (took := time.monotonic() - started) > 1.0:
            log.warning("requests in flight took %.1f s to finish", took)
        await gateway.aclose()

    stop.app = app
    return stop


async def _serve(config, sock: socket.socket, ready_note: str | None, config_path: str | None = None,
                 host: str = "", supervised: bool = False, raw: dict | None = None) -> None:
    from ..gateway import Gateway
    from ..observe import banner

    started = time.monotonic()
    stop_server = await start_in_process(Gateway(config), sock=sock, config_path=config_path, raw=raw)
    app = stop_server.app
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if app.reloader is not None:
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(app.reloader.on_signal()))
        if supervised:  # POST /admin/reload here: the supervisor passes a SIGHUP to every worker
            parent = os.getppid()
            app.reloader.notify_peers = lambda: os.kill(parent, signal.SIGHUP)
        if _hup_during_start:  # it came before the loop handled it: the file may have changed since
            loop.create_task(app.reloader.on_signal())
    if ready_note:  # the first worker speaks for all
        banner.show(app.gw, host)
        log.info(ready_note)
    await stop.wait()
    log.info("seawall stopping: finishing requests in flight")
    await stop_server()
    log.info("seawall stopped after %.0f s", time.monotonic() - started, extra={"pid": os.getpid()})


def serve(config, host: str, port: int, workers: int = 1, config_path: str | None = None) -> int:
    from ..observe import banner
    from ..observe import logging as slog

    slog.setup(config.server.log_level)
    banner.quiet()
    from ..sections import missing_extras

    extras = missing_extras(config)  # before the fork: said once, and a refusal is one line
    for line in extras.notices:
        log.warning(line)
    for line in extras.errors:
        log.error(line)
    if extras.errors:
        return 1
    try:
        sock = _listen(host, port)
    except OSError as e:  # one clear line, no traceback: the port is taken, the address is not ours, ...
        why = "the port is already in use (another seawall or program listens there)" \
            if e.errno == errno.EADDRINUSE else (e.strerror or str(e))
        log.error("cannot listen on %s:%s: %s", host, port, why)
        return 1
    actual_port = sock.getsockname()[1]
    note = f"seawall listening on http://{host}:{actual_port} ({workers} worker{'s' if workers > 1 else ''})"
    if workers <= 1:
        _event_loop_policy()
        asyncio.run(_serve(config, sock, note, config_path, host))
        return 0
    # the supervisor migrates on a plain asyncio loop: no libuv state is made before the fork
    # and shared by the workers, each of which sets up uvloop for itself
    return Supervisor(config, sock, workers, note, config_path, host).run()


class Supervisor:
    """The parent of N workers: migrates once, forks, restarts a worker that dies (with a
    back-off, logging how it died; a worker that keeps dying within seconds of its start
    stops them all, exit 1), forwards SIGTERM/SIGINT, and cleans up after them."""

    BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
    STABLE_S = 30.0  # a worker that lived this long resets the back-off
    CLOSE_GRACE_S = 10.0  # after the drain: a worker still alive then is killed

    def __init__(self, config, sock: socket.socket, workers: int, note: str, config_path: str | None = None,
                 host: str = "") -> None:
        self.config, self.sock, self.workers, self.note = config, sock, workers, note
        self.config_path, self.host = config_path, host
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started at)
        self.failures = [0] * workers  # quick deaths in a row, per slot
        self.stopping = False
        self.killed_stragglers = False
        self.stop_grace_s = config.server.limits.drain_timeout_s + self.CLOSE_GRACE_S
        self.metrics_dir: str | None = None
        self.raw: dict | None = None  # the file's values the workers run (api/reload.py)
        if config_path:
            from .reload import read_raw

            self.raw = read_raw(config_path)

    def run(self) -> int:
        # Metrics from every worker are merged through prometheus_client's multiprocess
        # directory; it must be set before any worker creates a metric (observe/metrics.py).
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            self.metrics_dir = tempfile.mkdtemp(prefix="seawall-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir
        try:
            if self.config.store.migrate:
                try:
                    self._migrate()  # once, here: N workers migrating a fresh SQLite file race
                except Exception as e:  # noqa: BLE001 - one clear line, no traceback
                    log.error("database migrations failed, not starting: %s: %s", type(e).__name__,
                              str(e).splitlines()[0] if str(e) else "")
                    return 1
                self.config.store.migrate = False
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
            signal.signal(signal.SIGHUP, self._reload)  # each worker reloads its configuration
            for slot in range(self.workers):
                self._fork(slot)
            return self._watch()
        finally:
            if self.metrics_dir:
                shutil.rmtree(self.metrics_dir, ignore_errors=True)
                os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            sys.stdout.flush()

    def _migrate(self) -> None:
        from ..store.sql import make_engine, migrate

        async def go():
            engine = make_engine(self.config.store.sql, timeout_s=self.config.store.sql_timeout_s)
            try:
                await migrate(engine)
            finally:
                await engine.dispose()

        asyncio.run(go())

    def _fork(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGHUP, _remember_hup)  # until the worker's loop handles it
                _event_loop_policy()
                asyncio.run(_serve(self.config, self.sock, self.note if slot == 0 else None, self.config_path,
                                   self.host, supervised=True, raw=self.raw))
            except BaseException:  # noqa: BLE001 - say why before the parent restarts us
                log.exception("worker %d stopped with an error", os.getpid())
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = (slot, time.monotonic())

    def _reload(self, signum, frame) -> None:
        """SIGHUP: every worker reloads; a worker forked from now on (after a crash) starts from
        what they run, not from the file as it was when the supervisor started."""
        if self.raw is not None:
            from .reload import read_next

            try:
                nxt = read_next(self.config_path, self.raw)
            except Exception:  # noqa: BLE001 - the workers refuse it too, and say why in their log
                pass
            else:
                self.raw, self.config = nxt.raw, nxt.config
                self.config.store.migrate = False  # migrated once, at the start
        self._forward(signum, frame)

    def _forward(self, signum, _frame) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def _stop(self, signum, _frame) -> None:
        if not self.stopping:  # a stop never hangs: the alarm kills a worker that does not finish
            self.stopping = True
            signal.signal(signal.SIGALRM, self._kill_stragglers)
            signal.setitimer(signal.ITIMER_REAL, self.stop_grace_s)
        self._forward(signum, _frame)

    def _kill_stragglers(self, _signum, _frame) -> None:
        log.error("workers %s did not stop within %.0f s of the signal; killing them",
                  sorted(self.children), self.stop_grace_s)
        self.killed_stragglers = True
        self._forward(signal.SIGKILL, None)

    def _watch(self) -> int:
        status = 0
        while self.children:
            try:
                pid, st = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid not in self.children:
                continue
            slot, started = self.children.pop(pid)
            _mark_metrics_dead(pid)
            code = os.waitstatus_to_exitcode(st)
            if self.stopping:
                status = status or (code if code > 0 else 0)
                continue
            how = f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            lived = time.monotonic() - started
            self.failures[slot] = 0 if lived >= self.STABLE_S else self.failures[slot] + 1
            if self.failures[slot] > len(self.BACKOFF_S):  # it cannot start: stop, do not loop forever
                log.error("worker %d %s after %.1f s (%d quick failures in a row); stopping all workers", pid,
                          how, lived, self.failures[slot])
                self._stop(signal.SIGTERM, None)
                status = 1
                continue
            wait = self.BACKOFF_S[min(self.failures[slot], len(self.BACKOFF_S)) - 1] if self.failures[slot] else 0.0
            log.error("worker %d %s after %.1f s; restarting it in %.1f s", pid, how, lived, wait,
                      extra={"worker_pid": pid, "exit": code})
            deadline = time.monotonic() + wait
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.05)
            if not self.stopping:
                self._fork(slot)
        signal.setitimer(signal.ITIMER_REAL, 0)
        return 1 if self.killed_stragglers else status


_hup_during_start = False


def _remember_hup(_signum, _frame) -> None:
    global _hup_during_start
    _hup_during_start = True


def _mark_metrics_dead(pid: int) -> None:
    """A dead worker's live gauges (in flight) stop counting; its counters stay."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
