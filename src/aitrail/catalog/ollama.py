"""Ollama Modelfiles: FROM (base model or weights file), ADAPTER, TEMPLATE, SYSTEM, LICENSE."""

from __future__ import annotations

import hashlib

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, FileRef, Found
from .lineage import is_repo_id, model_component, text

MAX_INSTRUCTIONS = 1_000  # instructions read from one Modelfile (real ones: tens)

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
            # Lines are collected and joined once, and only the newest line is searched for the
            # closing quotes: linear however long the block (a growing string searched whole was not).
            body = [rest[3:]]
            while '"""' not in body[-1] and i < len(lines):
                body.append(lines[i])
                i += 1
            rest = "\n".join(body).split('"""', 1)[0]
        out.append((word.upper(), rest, start))
    return out


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.CONFIG, format="ollama-modelfile")
    params: dict[str, str] = {}
    instructions = [x for x in _parse(f.read_text()) if x[0] in INSTRUCTIONS]
    if len(instructions) > MAX_INSTRUCTIONS:
        out.finding(
            Severity.MEDIUM,
            "scan.limit-exceeded",
            f"{f.rel}: {len(instructions)} instructions; the first {MAX_INSTRUCTIONS} read",
            f.ev(line=instructions[MAX_INSTRUCTIONS][2]),
        )
    for word, arg, line in instructions[:MAX_INSTRUCTIONS]:
        ev = f.ev(key=word, line=line, value=text(arg))
        if word == "FROM":
            out.properties["from"] = text(arg, 500)
            local = arg.startswith((".", "/")) or arg.endswith((".gguf", ".bin", ".safetensors"))
            if not local:
                c = model_component(arg if is_repo_id(arg.split(":")[0]) else text(arg), ev)
                out.components.append(c)
                out.relationships.append(
                    Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, Derivation.UNKNOWN, [ev])
                )
        elif word == "ADAPTER":
            out.properties["adapter"] = text(arg, 500)
            out.fact("adapter", text(arg, 500), ev)
        elif word == "PARAMETER":
            k, _, v = arg.partition(" ")
            if len(params) < 100:
                params[text(k, 60)] = text(v.strip())
        elif word == "TEMPLATE":
            digest = hashlib.sha256(arg.encode("utf-8", "surrogatepass")).hexdigest()
            out.properties["template_sha256"] = digest
            out.fact("chat_template_sha256", digest, ev)
        elif word == "SYSTEM":
            out.properties["system_prompt"] = text(arg, 500)
        elif word == "LICENSE":
            out.licenses.append(DeclaredLicense(text(arg.strip().splitlines()[0]) if arg.strip() else "", ev))
    if params:
        out.properties["parameters"] = params
    return out
