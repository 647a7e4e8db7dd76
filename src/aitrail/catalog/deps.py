"""Dependency manifests: requirements*.txt, pyproject.toml, environment.yml."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from ..model import ComponentType, Relationship, RelationshipKind
from .base import MODEL, CatalogError, FileRef, Found, read_yaml
from .lineage import library_component

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(\[[^\]]*\])?\s*([^;#]*)")


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    return (name.startswith("requirements") and name.endswith((".txt", ".in"))) or name in (
        "pyproject.toml",
        "environment.yml",
        "environment.yaml",
        "conda.yaml",
    )


def _req(line: str) -> tuple[str, str | None] | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith(("-", "git+", "http:", "https:", "file:")):
        return None
    m = _REQ.match(line)
    if not m:
        return None
    spec = m.group(3).strip() or None
    return m.group(1), spec


def catalog(f: FileRef) -> Found:
    name = f.rel.rsplit("/", 1)[-1].lower()
    out = Found(file_type=ComponentType.CONFIG, format="dependency-manifest")
    deps: list[tuple[str, str | None, int | None, str]] = []  # name, spec, line, ecosystem
    if name == "pyproject.toml":
        try:
            doc = tomllib.loads(f.read_text())
        except tomllib.TOMLDecodeError as e:
            raise CatalogError(f"{f.rel}: malformed TOML: {e}", rule="scan.toml") from None
        proj: dict[str, Any] = doc["project"] if isinstance(doc.get("project"), dict) else {}
        for d in proj.get("dependencies") or []:
            r = _req(str(d))
            if r:
                deps.append((r[0], r[1], None, "pypi"))
        if proj.get("name"):
            out.properties["project"] = proj.get("name")
    elif name.startswith("requirements"):
        for i, text in enumerate(f.read_text().splitlines(), 1):
            r = _req(text)
            if r:
                deps.append((r[0], r[1], i, "pypi"))
    else:
        doc = read_yaml(f)
        for d in (doc or {}).get("dependencies") or [] if isinstance(doc, dict) else []:
            if isinstance(d, str):
                m = re.match(r"^([A-Za-z0-9][\w.\-]*)\s*([=<>!~].*)?$", d.split("::")[-1].strip())
                if m:
                    deps.append(
                        (
                            m.group(1),
                            (m.group(2) or "").replace("=", "==", 1)
                            if m.group(2) and not m.group(2).startswith(("==", ">", "<", "!", "~"))
                            else m.group(2),
                            None,
                            "conda",
                        )
                    )
            elif isinstance(d, dict):
                for p in d.get("pip") or []:
                    r = _req(str(p))
                    if r:
                        deps.append((r[0], r[1], None, "pypi"))
    out.properties["dependency_count"] = len(deps)
    for dep, spec, line, eco in deps:
        ev = f.ev(key=dep, line=line, value=f"{dep}{spec or ''}")
        c = library_component(dep, spec, ev, eco)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    return out
