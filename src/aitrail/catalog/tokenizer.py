"""Tokenizer files: kind, vocabulary size, chat template and its digest."""

from __future__ import annotations

import hashlib

from ..model import ComponentType
from .base import FileRef, Found, read_json

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
    texts = []
    if isinstance(tmpl, str):
        texts = [tmpl]
    elif isinstance(tmpl, list):  # [{"name": ..., "template": ...}]
        texts = [t.get("template", "") for t in tmpl if isinstance(t, dict)]
    if texts:
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
        out.properties["chat_template_sha256"] = digest
        out.properties["chat_template_chars"] = sum(map(len, texts))
        out.fact("chat_template_sha256", digest, f.ev(key=key))


def catalog(f: FileRef) -> Found:
    name = f.rel.rsplit("/", 1)[-1]
    out = Found(file_type=ComponentType.TOKENIZER, format=name.rsplit(".", 1)[-1])
    if name == "tokenizer.json":
        doc = read_json(f)
        m = doc.get("model") if isinstance(doc, dict) else None
        if isinstance(m, dict):
            out.properties["kind"] = m.get("type")
            vocab = m.get("vocab")
            n = len(vocab) if isinstance(vocab, (dict, list)) else 0
            added = doc.get("added_tokens") if isinstance(doc.get("added_tokens"), list) else []
            out.properties["vocab_size"] = n
            out.properties["added_tokens"] = len(added)
            out.fact("tokenizer", m.get("type"), f.ev(key="model.type", value=m.get("type")))
    elif name == "tokenizer_config.json":
        doc = read_json(f)
        if isinstance(doc, dict):
            for k in ("tokenizer_class", "model_max_length", "do_lower_case"):
                if k in doc and isinstance(doc[k], (str, int, float, bool)):
                    out.properties[k] = doc[k]
            _template(out, f, doc.get("chat_template"), "chat_template")
    elif name == "chat_template.json":
        doc = read_json(f)
        _template(out, f, doc.get("chat_template") if isinstance(doc, dict) else None, "chat_template")
    elif name == "chat_template.jinja":
        _template(out, f, f.read_text(), "(file)")
    elif name in ("vocab.txt", "merges.txt"):
        with open(f.path, "rb") as fh:
            out.properties["lines"] = sum(1 for _ in fh)
        if name == "vocab.txt":
            out.properties["vocab_size"] = out.properties["lines"]
    elif name.endswith(".model"):
        out.properties["kind"] = "sentencepiece"
    return out
