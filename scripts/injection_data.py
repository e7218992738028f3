"""The prompt-injection datasets in ../shared/data, read in place (never copied into the repo).

Each loader returns a list of texts. ``SETS`` names every set with its label (1 = attack),
the role its texts arrive in ("user" or "tool") and whether the project may train on it
(``trainable``): LLM-PIEval and Code Alpaca are non-commercial, evaluation only; the
CyberSecEval *indirect* items are kept for the tool-content evaluation; jackhhao's test split
and the Tensor Trust "eval" half stay held out as before (see train_injection.py).

``tool_benign`` assembles benign tool-like content (what a retrieval step or a tool returns)
from benign sources: Code Alpaca answers (code with its explanation), the inputs of the
self-instruct tasks (e-mails, reviews, tables, lists) and tables rendered from banking77 /
clinc150 rows. None of it is trained on.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


def _h(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def _pi(data: Path) -> Path:
    return data / "prompt_injection"


def jackhhao(data: Path, split: str, label: int) -> list[str]:
    want = "jailbreak" if label else "benign"
    with (_pi(data) / "jackhhao_llm-warden" / f"jailbreak_dataset_{split}.csv").open(newline="", encoding="utf-8") as f:
        return [r["prompt"].strip() for r in csv.DictReader(f) if r["type"].strip() == want and (r.get("prompt") or "").strip()]


def tensor_trust(data: Path, split: str) -> list[str]:
    out = []
    for name in ("hijacking_robustness_dataset.jsonl", "extraction_robustness_dataset.jsonl"):
        for line in (_pi(data) / "tensor_trust" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                h = hashlib.sha256(str(row["sample_id"]).encode()).digest()[0]
                if ("train" if h % 2 == 0 else "eval") == split and row.get("attack", "").strip():
                    out.append(row["attack"].strip())
    return out


def cyberseceval(data: Path, kind: str, multilingual: bool) -> list[str]:
    name = "prompt_injection_multilingual_machine_translated.json" if multilingual else "prompt_injection.json"
    rows = json.loads((_pi(data) / "cyberseceval_prompt_injection" / name).read_text(encoding="utf-8"))
    return [r["user_input"].strip() for r in rows if r["injection_type"] == kind and r["user_input"].strip()]


def llm_pieval(data: Path) -> list[str]:
    """The tool output of each agent prompt: the text after its last ``APIResults:`` marker
    (the injected fake "Human:" turn sits there)."""
    out = []
    for p in sorted((_pi(data) / "llm_pieval" / "blackbox_prompts").glob("*.txt")):
        t = p.read_text(encoding="utf-8", errors="replace")
        i = t.rfind("APIResults:")
        if i >= 0:
            out.append(t[i + len("APIResults:"):].strip())
    return [t for t in out if t]


def notinject(data: Path) -> list[str]:
    out = []
    for n in ("one", "two", "three"):
        out += [r["prompt"].strip() for r in json.loads((_pi(data) / "notinject" / f"NotInject_{n}.json").read_text(encoding="utf-8"))]
    return [t for t in out if t]


def wildguard(data: Path) -> list[str]:
    rows = json.loads((_pi(data) / "wildguardtest_benign" / "wildguard.json").read_text(encoding="utf-8"))
    return [r["prompt"].strip() for r in rows if int(r.get("label", 0)) == 0 and r["prompt"].strip()]


def frr(data: Path) -> list[str]:
    rows = json.loads((_pi(data) / "cyberseceval_frr" / "mitre_frr.json").read_text(encoding="utf-8"))
    return [r["mutated_prompt"].strip() for r in rows if not r.get("is_malicious") and r["mutated_prompt"].strip()]


def xstest(data: Path, label: str = "safe") -> list[str]:
    with (_pi(data) / "xstest" / "xstest_prompts.csv").open(newline="", encoding="utf-8") as f:
        return [r["prompt"].strip() for r in csv.DictReader(f) if r["label"] == label]


def _self_instruct_rows(data: Path) -> list[dict]:
    d = _pi(data) / "self_instruct_benign"
    rows = []
    for name in ("user_oriented_instructions.jsonl", "seed_tasks.jsonl"):
        rows += [json.loads(line) for line in (d / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def self_instruct(data: Path) -> list[str]:
    """Each task as a user would send it: the instruction, with its first instance's input."""
    out = []
    for r in _self_instruct_rows(data):
        inst = (r.get("instances") or [{}])[0]
        inp = (inst.get("input") or "").strip()
        out.append((r["instruction"].strip() + ("\n\n" + inp if inp else "")).strip())
    return out


def _codealpaca_rows(data: Path) -> list[dict]:
    return json.loads((_pi(data) / "codealpaca_benign" / "new_codealpaca.json").read_text(encoding="utf-8"))


def codealpaca(data: Path) -> list[str]:
    out = []
    for r in _codealpaca_rows(data):
        inp = (r.get("input") or "").strip()
        out.append((r["instruction"].strip() + ("\n" + inp if inp else "")).strip())
    return out


def _intent_rows(data: Path) -> list[tuple[str, str]]:
    rows = []
    with (data / "semantic_cache" / "banking77" / "train.csv").open(newline="", encoding="utf-8") as f:
        rows += [(r["text"], r["category"]) for r in csv.DictReader(f)]
    clinc = json.loads((data / "semantic_cache" / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    rows += [(t, c) for t, c in clinc["train"]]
    return rows


def intents(data: Path, limit: int = 3000) -> list[str]:
    """banking77 + clinc150 training queries: ordinary enterprise traffic (a hash sample)."""
    return sorted({t for t, _ in _intent_rows(data)}, key=lambda t: _h("intent|" + t))[:limit]


def tool_benign(data: Path) -> list[str]:
    """Benign tool-like content: code answers, e-mails / documents, tables (see module doc)."""
    out = []
    rows = _codealpaca_rows(data)
    for r in sorted(rows, key=lambda r: _h("ca|" + r["instruction"]))[:400]:
        resp = (r.get("response") or r.get("output") or "").strip()
        if resp:
            out.append(resp)
    for r in _self_instruct_rows(data):
        for inst in r.get("instances") or []:
            inp = (inst.get("input") or "").strip()
            if len(inp) >= 40:
                out.append(inp)
            outp = (inst.get("output") or "").strip()
            if len(outp) >= 80:
                out.append(outp)
    ir = sorted(_intent_rows(data), key=lambda r: _h("tab|" + r[0]))[:600]
    for i in range(0, len(ir), 12):
        chunk = ir[i : i + 12]
        lines = ["| # | customer message | intent |", "|---|---|---|"]
        lines += [f"| {j + 1} | {t} | {c} |" for j, (t, c) in enumerate(chunk)]
        out.append("\n".join(lines))
    return out


@dataclass(frozen=True)
class DataSet:
    name: str
    label: int  # 1 = attack
    role: str  # "user" | "tool"
    trainable: bool
    load: Callable[[Path], list[str]]
    note: str = ""


SETS: list[DataSet] = [
    # attacks
    DataSet("jackhhao jailbreak (train)", 1, "user", True, lambda d: jackhhao(d, "train", 1)),
    DataSet("jackhhao jailbreak (test)", 1, "user", False, lambda d: jackhhao(d, "test", 1), "held-out split"),
    DataSet("tensor trust (train half)", 1, "user", True, lambda d: tensor_trust(d, "train")),
    DataSet("tensor trust (eval half)", 1, "user", False, lambda d: tensor_trust(d, "eval"), "held-out half"),
    DataSet("cyberseceval direct (en)", 1, "user", True, lambda d: cyberseceval(d, "direct", False)),
    DataSet("cyberseceval direct (17 languages)", 1, "user", True, lambda d: cyberseceval(d, "direct", True)),
    DataSet("cyberseceval indirect (en)", 1, "tool", False, lambda d: cyberseceval(d, "indirect", False), "tool content"),
    DataSet("cyberseceval indirect (17 languages)", 1, "tool", False, lambda d: cyberseceval(d, "indirect", True), "tool content"),
    DataSet("llm-pieval", 1, "tool", False, llm_pieval, "evaluation only (CC BY-NC)"),
    # benign
    DataSet("jackhhao benign (train)", 0, "user", True, lambda d: jackhhao(d, "train", 0)),
    DataSet("jackhhao benign (test)", 0, "user", False, lambda d: jackhhao(d, "test", 0), "held-out split"),
    DataSet("notinject", 0, "user", True, notinject),
    DataSet("wildguardtest benign", 0, "user", True, wildguard),
    DataSet("cyberseceval frr", 0, "user", True, frr),
    DataSet("xstest safe", 0, "user", True, xstest),
    DataSet("self-instruct", 0, "user", True, self_instruct),
    DataSet("banking77+clinc150", 0, "user", True, intents),
    DataSet("code alpaca", 0, "user", False, codealpaca, "evaluation only (CC BY-NC)"),
    DataSet("benign tool content", 0, "tool", False, tool_benign, "assembled: code answers, e-mails, tables"),
]

# Benign sets whose false blocks the block band must keep at or under 1 % (issue 14).
GATED_BENIGN = ("notinject", "wildguardtest benign", "cyberseceval frr", "self-instruct", "code alpaca", "xstest safe")


def by_name(name: str) -> DataSet:
    return next(s for s in SETS if s.name == name)


_WS = re.compile(r"\s+")


def dedup(texts: list[str]) -> list[str]:
    seen, out = set(), []
    for t in texts:
        k = _WS.sub(" ", t.strip().lower())
        if k and k not in seen:
            seen.add(k)
            out.append(t)
    return out
