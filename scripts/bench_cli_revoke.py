"""How long a key revoked by the CLI keeps working on a running gateway, on the embedded store
(SQLite + memory state: no pub/sub between the CLI and the gateway), issue 13 item 12.

Starts the simulator and a gateway, then N times: create a key with the CLI, wait until it is
served, revoke it with the CLI, and poll the gateway every 10 ms until it answers 401. Prints
the delay from the CLI's exit to the first 401 (the change counter is read every
governance.poll_s, 0.5 s by default; before it, the full reload every refresh_s, 5 s).

    PYTHONPATH=src python scripts/bench_cli_revoke.py [--n 10] [--poll-s 0.5]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml


def port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url: str, key: str) -> int:
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", data=body, method="POST",
                                 headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def wait_ready(url: str) -> None:
    for _ in range(400):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--poll-s", type=float, default=0.5, help="0: leave it out (a tree without it)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="seawall-revoke-")
    sp, gp = port(), port()
    cfg = {"server": {"access_log": False}, "store": {"sql": f"sqlite:///{work}/g.db"},
           "providers": [{"name": "sim", "base_url": f"http://127.0.0.1:{sp}/v1"}],
           "models": [{"name": "m", "targets": [{"provider": "sim", "model": "m"}]}],
           "governance": {"audit": {"spool_dir": f"{work}/spool"}, **({"poll_s": a.poll_s} if a.poll_s else {})}}
    path = f"{work}/c.yaml"
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    cli = [sys.executable, "-m", "seawall.cli"]
    procs = [subprocess.Popen([sys.executable, "-m", "seawall.sim", "--port", str(sp)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        wait_ready(f"http://127.0.0.1:{sp}")
        subprocess.run([*cli, "db", "upgrade", "-c", path], check=True, capture_output=True)
        procs.append(subprocess.Popen([*cli, "serve", "-c", path, "--port", str(gp)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
        url = f"http://127.0.0.1:{gp}"
        wait_ready(url)
        delays, runs = [], []
        for _ in range(a.n):
            key = json.loads(subprocess.run([*cli, "keys", "create", "-c", path, "--user", "bench"], check=True,
                                            capture_output=True, text=True).stdout)
            while status(url, key["key"]) != 200:
                time.sleep(0.01)
            start = time.monotonic()
            subprocess.run([*cli, "keys", "revoke", key["id"], "-c", path], check=True, capture_output=True)
            done = time.monotonic()
            runs.append(done - start)
            while status(url, key["key"]) != 401:
                time.sleep(0.01)
            delays.append(time.monotonic() - done)
        print(f"poll_s={a.poll_s or 'absent'} n={a.n}: the revoked key still served after the CLI exited: median "
              f"{statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms "
              f"(the CLI itself ran median {statistics.median(runs) * 1000:.0f} ms)")
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=20)


if __name__ == "__main__":
    main()
