"""What the simulator says: reply text, tool arguments, JSON answers and embeddings.

Everything here is a pure function of its inputs (and the simulator seed), so a prompt always
gets the same answer, whatever order requests arrive in.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import sys
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

# Our own small corpus: plausible assistant prose, varied enough to look real in a demo.
_CORPUS = (
    "Here is a short answer to your question.",
    "The key point is that every request should have a clear deadline.",
    "A gateway sits between applications and model providers and keeps traffic healthy.",
    "Retries help with transient failures, but they need a budget so they do not amplify load.",
    "Caching identical prompts saves both latency and money.",
    "When a provider is overloaded, shifting traffic to a healthy deployment keeps users served.",
    "Circuit breakers stop sending requests to an upstream that keeps failing.",
    "In practice, most latency comes from the first token rather than the rest of the stream.",
    "You can measure this by recording the time to first byte for each request.",
    "Budgets per team make spending predictable at the end of the month.",
    "Personal data should be removed before a prompt leaves your network.",
    "A good first step is to define which models each application may use.",
    "Streaming responses feel faster because the reader sees words right away.",
    "Rate limits protect shared capacity from a single noisy client.",
    "Let me summarise the main options and their trade-offs.",
    "The first option is simple and works well for small workloads.",
    "The second option scales further but needs a shared store such as Redis.",
    "Both approaches benefit from structured logs and request identifiers.",
    "If you need stronger guarantees, write the audit record before acknowledging the request.",
    "Testing against a simulated provider makes failure handling easy to reproduce.",
    "Timeouts should be shorter than the client's own patience.",
    "Hedged requests trade a little extra load for a shorter tail latency.",
    "It also helps to keep connections to each upstream warm and pooled.",
    "A fallback model can answer when the preferred one is unavailable.",
    "Semantic caching works best for questions that are asked often in slightly different words.",
    "Always verify that a cached answer belongs to the same tenant.",
    "For most teams, the default settings are a reasonable place to start.",
    "Let me know if you would like a more detailed example.",
    "In summary, reliability comes from many small, boring safeguards.",
    "This should give you a solid foundation to build on.",
)
_CORPUS_WORDS = tuple(tuple(s.split(" ")) for s in _CORPUS)

MIN_TOKENS = 20
MAX_TOKENS = 120


def estimate_tokens(chars: int) -> int:
    """The usual rough rule: a token is about four characters of English."""
    return max(1, (chars + 3) // 4)


def prompt_digest(seed: int, text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16,
                           key=seed.to_bytes(8, "little", signed=True)).digest()


@lru_cache(maxsize=4096)
def reply_pieces(digest: bytes) -> tuple[str, ...]:
    """Reply text as tokens (words carrying their leading space): join them to get the text.

    Cached because load tests send the same prompts over and over.
    """
    rng = random.Random(digest)
    target = rng.randint(MIN_TOKENS, MAX_TOKENS)
    words: list[str] = []
    while len(words) < target:
        words.extend(_CORPUS_WORDS[rng.randrange(len(_CORPUS_WORDS))])
    return tuple(w if i == 0 else " " + w for i, w in enumerate(words))


def split_text(text: str, size: int = 4) -> list[str]:
    """Cut a string (e.g. JSON) into pieces of ``size`` characters, standing in for tokens."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


# ---------------------------------------------------------------------------------------------
# Values for JSON schemas (tool arguments, structured output)

_NAMED_STRINGS = (
    (("email",), "ada@example.com"),
    (("city", "location", "place"), "Paris"),
    (("country",), "France"),
    (("date", "day"), "2024-05-01"),
    (("time",), "12:00"),
    (("url", "link", "uri"), "https://example.com"),
    (("unit",), "celsius"),
    (("lang",), "en"),
    (("currency",), "EUR"),
    (("phone",), "+33 1 23 45 67 89"),
    (("name", "user", "author"), "Ada Lovelace"),
    (("id",), "id-1234"),
    (("query", "search", "question", "q"), "quarterly revenue"),
    (("title", "subject"), "Status update"),
)
_FORMATS = {"date": "2024-05-01", "date-time": "2024-05-01T12:00:00Z", "email": "ada@example.com",
            "uri": "https://example.com", "uuid": "123e4567-e89b-12d3-a456-426614174000",
            "time": "12:00:00"}


def value_for_schema(schema: Any, name: str = "", depth: int = 0) -> Any:
    """A plausible value that satisfies the common parts of a JSON schema."""
    if not isinstance(schema, dict) or depth > 6:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return value_for_schema((non_null or options)[0], name, depth + 1)
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ is None:
        typ = "object" if "properties" in schema else "string"
    if typ == "object":
        props = schema.get("properties") or {}
        required = schema.get("required")
        keys = [k for k in required if k in props] if isinstance(required, list) and required \
            else list(props)
        return {k: value_for_schema(props[k], k, depth + 1) for k in keys}
    if typ == "array":
        n = max(1, int(schema.get("minItems", 1) or 1))
        return [value_for_schema(schema.get("items", {}), name, depth + 1) for _ in range(n)]
    if typ == "integer":
        return _number(schema, 3)
    if typ == "number":
        return float(_number(schema, 1.5))
    if typ == "boolean":
        return True
    if typ == "null":
        return None
    return _string(schema, name)


def _number(schema: dict, default: float) -> float:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if isinstance(lo, (int, float)) and default < lo:
        return lo
    if isinstance(hi, (int, float)) and default > hi:
        return hi
    return default


def _string(schema: dict, name: str) -> str:
    fmt = schema.get("format")
    if fmt in _FORMATS:
        return _FORMATS[fmt]
    lname = name.lower()
    for keys, value in _NAMED_STRINGS:
        if any(k in lname for k in keys):
            return value
    text = "example"
    if isinstance(schema.get("minLength"), int) and len(text) < schema["minLength"]:
        text = text.ljust(schema["minLength"], "x")
    return text


def json_answer(digest: bytes, schema: Any | None) -> dict | Any:
    """Structured output: schema-shaped when a schema is given, else a small generic object."""
    if isinstance(schema, dict):
        return value_for_schema(schema)
    return {"answer": "".join(reply_pieces(digest)[:24])}


def mentioned_tool(names: list[str], text: str) -> str | None:
    """The first tool whose name (or name with spaces for underscores) the text mentions."""
    low = text.lower()
    for n in names:
        ln = n.lower()
        if ln and (ln in low or ln.replace("_", " ") in low):
            return n
    return None


# ---------------------------------------------------------------------------------------------
# Embeddings: each word (and, at half weight, each pair of neighbouring words) has a fixed
# pseudo-random direction; a text's vector is their normalised sum. Identical texts get
# identical vectors, texts sharing words get similar ones (what semantic-cache demos need),
# and unrelated texts are near-orthogonal. Not a language model, just stable geometry.

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def _term_vector(term: str, dim: int) -> tuple[float, ...]:
    raw = array("h", hashlib.shake_256(term.encode("utf-8", "surrogatepass")).digest(2 * dim))
    if sys.byteorder != "little":  # pragma: no cover - same vectors on every platform
        raw.byteswap()
    return tuple(x / 32768.0 for x in raw)


def embed(text: str, dim: int) -> list[float]:
    words = _WORD.findall(text.lower())
    terms = [(w, 1.0) for w in words] + [(a + " " + b, 0.5) for a, b in zip(words, words[1:])]
    if not terms:  # empty or punctuation only: still a stable unit vector
        terms = [("\x00" + text, 1.0)]
    vec = [0.0] * dim
    for term, weight in terms:
        vec = [v + weight * t for v, t in zip(vec, _term_vector(term, dim))]
    norm = sum(v * v for v in vec) ** 0.5 or 1.0
    return [v / norm for v in vec]


def embedding_base64(vec: list[float]) -> str:
    """OpenAI's base64 encoding: little-endian float32 (the openai SDK asks for it by default)."""
    arr = array("f", vec)
    if arr.itemsize != 4:  # pragma: no cover - every CPython platform has 4-byte float
        raise RuntimeError("float32 array expected")
    if sys.byteorder != "little":  # pragma: no cover
        arr.byteswap()
    return base64.b64encode(arr.tobytes()).decode("ascii")


# ---------------------------------------------------------------------------------------------
# The reply a request gets, independent of the wire format it is sent in.

@dataclass(slots=True)
class Reply:
    prompt_tokens: int
    pieces: tuple[str, ...] | list[str]  # content tokens (empty for a tool call)
    finish: str  # "stop" | "length" | "tool_calls" (dialects translate)
    tool_name: str | None = None
    tool_args: str = ""  # JSON text of the arguments

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def completion_tokens(self) -> int:
        return estimate_tokens(len(self.tool_args)) if self.tool_name else max(1, len(self.pieces))


ECHO_PIECE = 4  # characters per echoed "token": placeholders and keys get split across chunks


def is_echo_model(model: str) -> bool:
    """Model `echo` (or `echo-<anything>`) repeats the last user message instead of prose."""
    return model == "echo" or model.startswith("echo-")


def _echo_strings(value: Any, text: str) -> Any:
    if isinstance(value, str):
        return text
    if isinstance(value, dict):
        return {k: _echo_strings(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [_echo_strings(v, text) for v in value]
    return value


def plan_reply(seed: int, prompt: str, max_tokens: int | None, *,
               tool: tuple[str, Any] | None = None, json_mode: bool = False,
               json_schema: Any = None, echo: str | None = None) -> Reply:
    """Decide the answer: a tool call, a JSON document, or prose; capped at max_tokens.
    With ``echo`` (the last user message), prose and every string argument of a tool call
    repeat it."""
    prompt_tokens = estimate_tokens(len(prompt))
    if tool is not None:
        name, schema = tool
        args = value_for_schema(schema if isinstance(schema, dict) else {"type": "object"})
        if echo is not None:
            args = _echo_strings(args, echo)
        return Reply(prompt_tokens, (), "tool_calls", name,
                     orjson.dumps(args if isinstance(args, dict) else {}).decode())
    digest = prompt_digest(seed, prompt)
    if echo is not None and not json_mode:
        pieces: tuple[str, ...] | list[str] = split_text(echo, ECHO_PIECE)
    elif json_mode:
        pieces = split_text(
            orjson.dumps(json_answer(digest, json_schema)).decode())
    else:
        pieces = reply_pieces(digest)
    if max_tokens is not None and len(pieces) > max_tokens:
        return Reply(prompt_tokens, pieces[:max_tokens], "length")
    return Reply(prompt_tokens, pieces, "stop")
