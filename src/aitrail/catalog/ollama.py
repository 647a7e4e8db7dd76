"""Ollama Modelfiles: FROM (base model or weights file), ADAPTER, TEMPLATE, SYSTEM, LICENSE."""

from __future__ import annotations

import hashlib
import io

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, FileRef, Found
from .lineage import is_repo_id, model_component, text

MAX_INSTRUCTIONS = 1_000  # instructions read from one Modelfile (real ones: tens)
MAX_MODELFILE = 4 << 20  # bytes (real Modelfiles are a few KB; templates a few hundred lines)

INSTRUCTIONS = {"FROM", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE", "MESSAGE", "REQUIRES"}


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1]
    if name == "Modelfile" or name.endswith(".modelfile"):
        return True
    # Ollama's own test fixtures name Modelfiles "*.model"; accept them only if they read like one.
    return name.endswith(".model") and f.size < 1 << 20 and f.head.lstrip()[:5].upper() == b"FROM "


def _parse(text: str) -> list[tuple[str, str, int]]:
    """(INSTRUCTION, argument, line) in order. Lines are read one at a time (no list of every line),
    and a triple-quoted block is collected in one buffer, only its newest line searched for the
    closing quotes: linear in the file, whatever its shape."""
    out = []
    lines = io.StringIO(text)
    i = 0
    for raw in lines:
        i += 1
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        start = i
        rest = rest.strip()
        if rest.startswith('"""'):
            body = io.StringIO()
            body.write(rest[3:])
            last = rest[3:]
            while '"""' not in last:
                nxt = lines.readline()
                if not nxt:
                    break
                i += 1
                last = nxt.rstrip("\r\n")
                body.write("\n" + last)
            rest = body.getvalue().split('"""', 1)[0]
        out.append((word.upper(), rest, start))
        if len(out) > MAX_INSTRUCTIONS:
            break
    return out


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.CONFIG, format="ollama-modelfile")
    params: dict[str, str] = {}
    parsed = _parse(f.read_text(MAX_MODELFILE))
    if len(parsed) > MAX_INSTRUCTIONS:
        out.finding(
            Severity.MEDIUM,
            "scan.limit-exceeded",
            f"{f.rel}: more than {MAX_INSTRUCTIONS} instructions; the first {MAX_INSTRUCTIONS} read",
            f.ev(line=parsed[MAX_INSTRUCTIONS][2]),
        )
    instructions = [x for x in parsed[:MAX_INSTRUCTIONS] if x[0] in INSTRUCTIONS]
    for word, arg, line in instructions:
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
