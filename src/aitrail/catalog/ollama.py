"""Ollama Modelfiles: FROM (base model or weights file), ADAPTER, TEMPLATE, SYSTEM, LICENSE."""

from __future__ import annotations

import hashlib

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind
from .base import MODEL, FileRef, Found
from .lineage import model_component

INSTRUCTIONS = {"FROM", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE", "MESSAGE", "REQUIRES"}


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1]
    if name == "Modelfile" or name.endswith(".modelfile"):
        return True
    # Ollama's own test fixtures name Modelfiles "*.model"; accept them only if they read like one.
    return name.endswith(".model") and f.size < 1 << 20 and f.head.lstrip()[:5].upper() == b"FROM "


def _parse(text: str) -> list[tuple[str, str, int]]:
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        start = i
        rest = rest.strip()
        if rest.startswith('"""'):
            body = rest[3:]
            while '"""' not in body and i < len(lines):
                body += "\n" + lines[i]
                i += 1
            rest = body.split('"""', 1)[0]
        out.append((word.upper(), rest, start))
    return out


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.CONFIG, format="ollama-modelfile")
    params = {}
    for word, arg, line in _parse(f.read_text()):
        if word not in INSTRUCTIONS:
            continue
        ev = f.ev(key=word, line=line, value=arg)
        if word == "FROM":
            out.properties["from"] = arg
            local = arg.startswith((".", "/")) or arg.endswith((".gguf", ".bin", ".safetensors"))
            if not local:
                c = model_component(arg, ev)
                out.components.append(c)
                out.relationships.append(
                    Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.UNKNOWN, [ev])
                )
        elif word == "ADAPTER":
            out.properties["adapter"] = arg
            out.fact("adapter", arg, ev)
        elif word == "PARAMETER":
            k, _, v = arg.partition(" ")
            params[k] = v.strip()
        elif word == "TEMPLATE":
            digest = hashlib.sha256(arg.encode()).hexdigest()
            out.properties["template_sha256"] = digest
            out.fact("chat_template_sha256", digest, ev)
        elif word == "SYSTEM":
            out.properties["system_prompt"] = arg[:500]
        elif word == "LICENSE":
            out.licenses.append(DeclaredLicense(arg.strip().splitlines()[0][:200] if arg.strip() else "", ev))
    if params:
        out.properties["parameters"] = params
    return out
