"""Secret detection: credentials that must never leave (or enter) through the gateway.

* **Fast path (always on)**: one pass of compiled patterns for provider keys and credential
  shapes, including what detect-secrets' plugins miss: AWS *secret* access keys (by their
  assignment context), whole private-key blocks, JWTs, connection strings / URLs carrying a
  password, OpenAI (``sk-``, ``sk-proj-``), Anthropic (``sk-ant-``), GitHub (``ghp_`` ...,
  ``github_pat_``), Slack (``xox?-``), Google, Stripe, GitLab, Hugging Face keys.
* **Extended path (``policy.secrets_extended``)**: every detect-secrets plugin, including the
  keyword and high-entropy detectors (measured ~3 ms per KB here, so off by default).

Spans carry only offsets; callers must never put the matched value in a message.
"""
from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import re
import threading
from collections import Counter

from .types import Span

_PATTERNS: list[tuple[str, str]] = [
    ("PRIVATE_KEY", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,8000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?"),
    ("AWS_ACCESS_KEY_ID", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    (
        "AWS_SECRET_ACCESS_KEY",
        r"(?i:aws.{0,20}?(?:secret|private).{0,20}?|secret_?access_?key.{0,5}?)[\"'\s:=]{1,5}(?:[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
    ),
    ("ANTHROPIC_API_KEY", r"\bsk-ant-[a-z]{2,8}\d{0,3}-[A-Za-z0-9_\-]{20,}"),
    ("OPENAI_API_KEY", r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_\-]{20,}"),
    ("GITHUB_TOKEN", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ("SLACK_TOKEN", r"\bxox[abposr]-(?:\d+-)?[A-Za-z0-9\-]{10,}"),
    ("SLACK_WEBHOOK", r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
    ("GOOGLE_API_KEY", r"\bAIza[0-9A-Za-z\-_]{35}\b"),
    ("STRIPE_KEY", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,}\b"),
    ("GITLAB_TOKEN", r"\bgl(?:pat|dt|ptt|rt)-[0-9A-Za-z_\-]{20,}\b"),
    ("HUGGINGFACE_TOKEN", r"\bhf_[A-Za-z]{34,40}\b"),
    ("JWT", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    (
        "CONNECTION_STRING_PASSWORD",
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,30}://[^\s:/@\"'<>]{1,128}:(?!\*+@|\$\{|<|\{\{|password@|pass@|xxx)[^\s@/\"'<>]{3,256}@[^\s\"'<>]+",
    ),
    (
        "CONNECTION_STRING_PASSWORD",
        r"\b(?i:password|pwd)\s*=\s*(?!\*+;|\$\{|<|\{\{)[^;\s\"']{4,128}\s*;",
    ),
]

# Substrings one of which must occur for a pattern to be tried: `in` is far cheaper than a scan.
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "PRIVATE_KEY": ("PRIVATE KEY",),
    "AWS_ACCESS_KEY_ID": ("AKIA", "ASIA", "A3T", "ABIA", "ACCA"),
    "AWS_SECRET_ACCESS_KEY": ("ecret", "ECRET", "rivate", "RIVATE"),
    "ANTHROPIC_API_KEY": ("sk-ant-",),
    "OPENAI_API_KEY": ("sk-",),
    "GITHUB_TOKEN": ("gh", "github_pat_"),
    "SLACK_TOKEN": ("xox",),
    "SLACK_WEBHOOK": ("hooks.slack",),
    "GOOGLE_API_KEY": ("AIza",),
    "STRIPE_KEY": ("_live_", "_test_"),
    "GITLAB_TOKEN": ("glpat-", "gldt-", "glptt-", "glrt-"),
    "HUGGINGFACE_TOKEN": ("hf_",),
    "JWT": ("eyJ",),
    "CONNECTION_STRING_PASSWORD": ("://", "assword", "ASSWORD", "pwd", "PWD", "Pwd"),
}
_COMPILED: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = [
    (kind, re.compile(pat), _TRIGGERS[kind]) for kind, pat in _PATTERNS
]
KINDS: tuple[str, ...] = tuple(dict.fromkeys(k for k, _ in _PATTERNS))
_AWS_KEY_TAIL = re.compile(r"[A-Za-z0-9/+]{40}$")


class FastSecrets:
    def analyze(self, text: str) -> list[Span]:
        if not text:
            return []
        out: list[Span] = []
        for kind, rx, triggers in _COMPILED:
            if not any(t in text for t in triggers):
                continue
            for m in rx.finditer(text):
                s, e = m.span()
                if kind == "AWS_SECRET_ACCESS_KEY":
                    # report the key itself, not the assignment context
                    key = _AWS_KEY_TAIL.search(m.group(0))
                    if key is None or not _looks_random(key.group(0)):
                        continue
                    s = e - 40
                out.append(Span(kind, s, e, 1.0, "secrets"))
        if len(out) > 1:
            out.sort(key=lambda x: (x.start, -(x.end - x.start)))
            kept: list[Span] = []
            for x in out:
                if kept and x.start < kept[-1].end:
                    continue
                kept.append(x)
            out = kept
        return out


def _looks_random(s: str) -> bool:
    classes = sum((any(c.islower() for c in s), any(c.isupper() for c in s), any(c.isdigit() for c in s)))
    return classes >= 2 and shannon_entropy(s) >= 3.5


def shannon_entropy(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum((c / n) * math.log2(c / n) for c in Counter(s).values())


class DetectSecretsExtended:
    """All detect-secrets plugins, used through ``analyze_string`` only (no verification calls:
    nothing ever goes to the network). High-entropy plugins are filtered by their own limits."""

    def __init__(self) -> None:
        self._plugins = None
        self._lock = threading.Lock()

    def _load(self):
        import detect_secrets.plugins as pkg
        from detect_secrets.plugins.base import BasePlugin
        from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

        plugins = []
        for mod_info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{mod_info.name}")
            for _, cls in inspect.getmembers(mod, inspect.isclass):
                if (
                    issubclass(cls, BasePlugin)
                    and not inspect.isabstract(cls)
                    and cls.__module__ == mod.__name__
                    and cls.__name__ != "IPPublicDetector"  # an IP is PII here, not a secret
                ):
                    p = cls()
                    plugins.append((p, isinstance(p, HighEntropyStringsPlugin)))
        return plugins

    def plugins(self):
        if self._plugins is None:
            with self._lock:
                if self._plugins is None:
                    self._plugins = self._load()
        return self._plugins

    def analyze(self, text: str) -> list[Span]:
        out: list[Span] = []
        offset = 0
        for line in text.split("\n"):
            for plugin, entropy in self.plugins():
                for value in plugin.analyze_string(line):
                    if not value or len(value) < 8:
                        continue
                    if entropy and plugin.calculate_shannon_entropy(value) < plugin.entropy_limit:
                        continue
                    pos = line.find(value)
                    if pos >= 0:
                        kind = "DS_" + re.sub(r"(?<!^)(?=[A-Z])", "_", plugin.__class__.__name__).upper()
                        out.append(Span(kind, offset + pos, offset + pos + len(value), 0.9, "detect-secrets"))
            offset += len(line) + 1
        return out
