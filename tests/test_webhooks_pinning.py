"""Webhook deliveries connect to the address the SSRF check vetted (net/webhooks.py), over real
HTTP to local receivers: a resolver that turns to 127.0.0.1 after the check gains nothing, the
Host header and TLS verification stay on the URL's host name, redirects are not followed, bad
URLs are refused, and every attempt is recorded as codes without the URL's query or secret."""
from __future__ import annotations

import base64
import datetime
import logging
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from seawall.actions.approvals import Approvals
from seawall.actions.config import ApprovalsWebhook
from seawall.actions.notify import Notifier
from seawall.net import webhooks
from seawall.net.webhooks import TargetRefused, check_url, post
from seawall.store.sql import make_engine, migrate

SECRET = "whsec_" + base64.b64encode(b"pinning-webhook-test-key-0123456").decode()
PUBLIC = "93.184.216.34"  # a public address: the check lets it through; nothing answers here offline


class Receiver(BaseHTTPRequestHandler):
    """Records each request; answers `answer` (status, extra headers)."""

    answer: tuple = (204, {})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.got.append((self.path, self.headers.get("host")))
        status, extra = self.answer
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


def serve(answer=(204, {}), tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    handler = type("R", (Receiver,), {"answer": answer})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.got = []
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.handle_error = lambda *a: None  # a client that rejects our cert is expected here
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def dns(monkeypatch):
    """A scripted DNS server: name -> list of answers, one used per lookup (the last repeats)."""
    answers: dict[str, list[list[str]]] = {}
    asked: list[str] = []

    async def resolve(host):
        asked.append(host)
        seq = answers[host]
        return seq.pop(0) if len(seq) > 1 else seq[0]

    monkeypatch.setattr(webhooks, "resolve", resolve)
    return answers, asked


async def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_the_receiver(dns, tmp_path, caplog):
    answers, asked = dns
    local = serve()
    port = local.server_address[1]
    answers["hooks.example"] = [[PUBLIC], ["127.0.0.1"]]  # public to the check, loopback afterwards
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    await migrate(engine)
    approvals = Approvals(engine)
    cfg = ApprovalsWebhook(url=f"http://hooks.example:{port}/hook?token=sekrit-query-value", secret=SECRET,
                           max_attempts=2, backoff_s=0.01, timeout_s=1)
    notifier = Notifier(cfg, approvals)
    try:
        made = await approvals.create(tool="crm.drop", bound="b", policy_version="v1", tenant="t",
                                      request={"ids": [1]}, decision={}, ttl_s=60, webhook=True)
        with caplog.at_level(logging.DEBUG):
            await notifier._deliver(await approvals.get(made["id"]))
        view = await approvals.get(made["id"])
        errors = [a.get("error") for a in view["webhook"]["attempts"]]
        # attempt 1 went to the public address it checked (unreachable here), not to a second
        # lookup's answer; attempt 2's own check saw the loopback answer and refused it
        assert errors[0] in ("connect_error", "timeout") and errors[1:] == ["target_refused"]
        assert view["webhook"]["state"] == "failed" and asked == ["hooks.example", "hooks.example"]
        assert local.got == []
        assert "sekrit" not in str(view["webhook"]) and "sekrit" not in caplog.text
    finally:
        await engine.dispose()
        local.shutdown()


async def test_the_vetted_address_is_dialled_with_the_urls_host_header(dns):
    answers, _ = dns
    local = serve()
    port = local.server_address[1]
    answers["hooks.example"] = [["127.0.0.1"]]
    sent = await post(f"http://hooks.example:{port}/hook?x=1", b"{}", {"content-type": "application/json"},
                      timeout_s=5, allow_private=True)
    assert sent.ok and sent.record() == {"status": 204}
    assert local.got == [("/hook?x=1", f"hooks.example:{port}")]
    refused = await post(f"http://hooks.example:{port}/hook", b"{}", {}, timeout_s=5)  # private not allowed
    assert refused.record() == {"error": "target_refused"} and not refused.retry and len(local.got) == 1
    local.shutdown()


async def test_a_redirect_to_loopback_is_not_followed(dns):
    inside = serve()
    hop = serve((307, {"location": f"http://127.0.0.1:{inside.server_address[1]}/admin"}))
    sent = await post(f"http://127.0.0.1:{hop.server_address[1]}/hook", b"{}", {}, timeout_s=5, allow_private=True)
    assert sent.record() == {"status": 307, "error": "redirect_refused"} and not sent.retry and not sent.ok
    assert len(hop.got) == 1 and inside.got == []
    hop.shutdown()
    inside.shutdown()


@pytest.mark.parametrize("url", ["http://user:pw@hooks.example/x", "http://:tok@hooks.example/x",
                                 "ftp://hooks.example/x", "file:///etc/passwd", "http://hooks.example/a b",
                                 "http://hooks.example:99999/x", "gopher://127.0.0.1:6379/_INFO"])
async def test_urls_with_credentials_or_other_schemes_are_refused(dns, url):
    with pytest.raises(TargetRefused) as e:
        check_url(url)
    assert e.value.code == "url_refused" and "pw" not in str(e.value) and "tok" not in str(e.value)
    sent = await post(url, b"{}", {}, timeout_s=5, allow_private=True)
    assert sent.record() == {"error": "url_refused"} and not sent.retry and dns[1] == []


def _cert_for(name: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


async def test_https_is_verified_against_the_host_name_not_the_dialled_address(dns, tmp_path):
    answers, _ = dns
    cert, key = _cert_for("hooks.example")
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    local = serve(tls=server_ctx)
    port = local.server_address[1]
    answers["hooks.example"] = answers["other.example"] = [["127.0.0.1"]]
    trust = ssl.create_default_context(cafile=str(tmp_path / "c.pem"))
    sent = await post(f"https://hooks.example:{port}/hook", b"{}", {}, timeout_s=5, allow_private=True, ssl=trust)
    assert sent.record() == {"status": 204} and local.got == [("/hook", f"hooks.example:{port}")]
    # same address, a name the certificate does not cover: refused by the TLS check
    wrong = await post(f"https://other.example:{port}/hook", b"{}", {}, timeout_s=5, allow_private=True, ssl=trust)
    assert wrong.record() == {"error": "tls_error"} and len(local.got) == 1
    # the dialled IP is not what is verified: the system trust store does not know this cert either
    untrusted = await post(f"https://hooks.example:{port}/hook", b"{}", {}, timeout_s=5, allow_private=True)
    assert untrusted.record() == {"error": "tls_error"} and len(local.got) == 1
    local.shutdown()
