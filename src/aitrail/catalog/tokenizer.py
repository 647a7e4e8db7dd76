"""Tokenizer files: kind, vocabulary size, chat template and its digest."""

from __future__ import annotations

import hashlib
import re

from ..model import ComponentType, Severity
from .base import FileRef, Found
from .lineage import MAX_PARSED, read_json, text

MAX_LINES_COUNTED = 256 << 20  # bytes of vocab.txt / merges.txt whose lines are counted
# JSON files parsed: parsed JSON takes ~12 bytes of memory per byte of text, so this keeps a parse
# near 200 MB; larger tokenizer.json files (a 262k vocabulary with merges is ~33 MB) are named from
# their text and their vocabulary size left to config.json.
MAX_JSON = MAX_PARSED
_MODEL_TYPE = re.compile(rb'"model"\s*:\s*\{[^{}]{0,200}?"type"\s*:\s*"([A-Za-z]{1,40})"')

NAMES = {
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.json",
    "chat_template.jinja",
}


def matches(f: FileRef) -> bool:
    return f.rel.rsplit("/", 1)[-1] in NAMES


def _template(out: Found, f: FileRef, tmpl: object, key: str) -> None:
    texts: list[str] = []
    if isinstance(tmpl, str):
        texts = [tmpl]
    elif isinstance(tmpl, list):  # [{"name": ..., "template": ...}]
        texts = [t["template"] for t in tmpl if isinstance(t, dict) and isinstance(t.get("template"), str)]
    if texts:
        # surrogatepass: a JSON string may hold lone surrogates ("\\ud800"); hashed as they are
        digest = hashlib.sha256("\n".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
        out.properties["chat_template_sha256"] = digest
        out.properties["chat_template_chars"] = sum(map(len, texts))
        out.fact("chat_template_sha256", digest, f.ev(key=key))


def catalog(f: FileRef) -> Found:
    name = f.rel.rsplit("/", 1)[-1]
    out = Found(file_type=ComponentType.TOKENIZER, format=name.rsplit(".", 1)[-1])
    if name.endswith(".json") and f.size > MAX_JSON:
        out.finding(
            Severity.LOW,
            "scan.limit-exceeded",
            f"{f.rel}: {f.size} bytes, more than the {MAX_JSON} bytes of JSON aitrail parses: not parsed",
            f.ev(),
        )
        if name == "tokenizer.json":
            with open(f.path, "rb") as fh:
                m = _MODEL_TYPE.search(fh.read(4 << 20))
            if m:
                out.properties["kind"] = m.group(1).decode()
                out.fact("tokenizer", out.properties["kind"], f.ev(key="model.type", value=out.properties["kind"]))
        return out
    if name == "tokenizer.json":
        doc = read_json(f)
        m = doc.get("model") if isinstance(doc, dict) else None
        if isinstance(m, dict):
            kind = text(m["type"], 40) if isinstance(m.get("type"), str) else None
            out.properties["kind"] = kind
            vocab = m.get("vocab")
            n = len(vocab) if isinstance(vocab, (dict, list)) else 0
            added = doc.get("added_tokens") if isinstance(doc.get("added_tokens"), list) else []
            out.properties["vocab_size"] = n
            out.properties["added_tokens"] = len(added)
            out.fact("tokenizer", kind, f.ev(key="model.type", value=kind))
    elif name == "tokenizer_config.json":
        doc = read_json(f)
        if isinstance(doc, dict):
            if isinstance(doc.get("auto_map"), dict):  # AutoTokenizer: [slow, fast] classes in this repo
                from .hf_config import _auto_map

                _auto_map(out, f, doc["auto_map"])
            for k in ("tokenizer_class", "model_max_length", "do_lower_case"):
                if k in doc and isinstance(doc[k], (str, int, float, bool)):
                    v = doc[k]
                    out.properties[k] = text(v, 100) if isinstance(v, str) or abs(v) >= 1 << 63 else v
            _template(out, f, doc.get("chat_template"), "chat_template")
    elif name == "chat_template.json":
        doc = read_json(f)
        _template(out, f, doc.get("chat_template") if isinstance(doc, dict) else None, "chat_template")
    elif name == "chat_template.jinja":
        _template(out, f, f.read_text(), "(file)")
    elif name in ("vocab.txt", "merges.txt"):
        lines, read = 0, 0
        with open(f.path, "rb") as fh:
            while read < MAX_LINES_COUNTED and (block := fh.read(1 << 20)):  # blocks: one "line" may be huge
                lines += block.count(b"\n")
                read += len(block)
        if read >= MAX_LINES_COUNTED and f.size > read:
            out.finding(
                Severity.LOW,
                "scan.limit-exceeded",
                f"{f.rel}: {f.size} bytes; lines counted in the first {MAX_LINES_COUNTED} only",
                f.ev(),
            )
        else:
            lines += 1 if read and not _ends_with_newline(f) else 0
        out.properties["lines"] = lines
        if name == "vocab.txt":
            out.properties["vocab_size"] = lines
    elif name.endswith(".model"):
        out.properties["kind"] = "sentencepiece"
    return out


def _ends_with_newline(f: FileRef) -> bool:
    """Whether the file ends with a newline (else its last line has none and still counts)."""
    with open(f.path, "rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"
