"""Dependency manifests: requirements*.txt, pyproject.toml, environment.yml."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from ..model import ComponentType, Relationship, RelationshipKind, Severity
from .base import MODEL, CatalogError, FileRef, Found, read_yaml
from .lineage import check_size, library_component, text

MAX_DEPS = 5_000  # dependencies read from one manifest (real ones: tens to a few hundred)
MAX_NAME = 200  # longer "package names" are not names
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
    m = _REQ.match(line[:2000])
    if not m or len(m.group(1)) > MAX_NAME:
        return None
    spec = text(m.group(3).strip(), 200) or None
    return m.group(1), spec


def catalog(f: FileRef) -> Found:
    name = f.rel.rsplit("/", 1)[-1].lower()
    out = Found(file_type=ComponentType.CONFIG, format="dependency-manifest")
    deps: list[tuple[str, str | None, int | None, str]] = []  # name, spec, line, ecosystem
    check_size(f, "a dependency manifest", (8 << 20) if name.startswith("requirements") else (1 << 20))
    if name == "pyproject.toml":
        try:
            doc = tomllib.loads(f.read_text())
        except tomllib.TOMLDecodeError as e:
            raise CatalogError(f"{f.rel}: malformed TOML: {text(e, 300)}", rule="scan.toml") from None
        except RecursionError:  # tomllib recurses once per nested array or inline table
            raise CatalogError(f"{f.rel}: TOML nested too deeply; not read", rule="scan.limit-exceeded") from None
        except ValueError as e:  # e.g. an integer too long to convert
            raise CatalogError(f"{f.rel}: malformed TOML: {text(e, 300)}", rule="scan.toml") from None
        proj: dict[str, Any] = doc["project"] if isinstance(doc.get("project"), dict) else {}
        listed = proj.get("dependencies")
        for d in listed[: MAX_DEPS + 1] if isinstance(listed, list) else []:
            r = _req(d) if isinstance(d, str) else None
            if r:
                deps.append((r[0], r[1], None, "pypi"))
        if isinstance(proj.get("name"), str):
            out.properties["project"] = text(proj["name"], 100)
    elif name.startswith("requirements"):
        for i, row in enumerate(f.read_text().splitlines(), 1):
            r = _req(row)
            if r:
                deps.append((r[0], r[1], i, "pypi"))
                if len(deps) > MAX_DEPS:
                    break
    else:
        doc = read_yaml(f)
        listed = doc.get("dependencies") if isinstance(doc, dict) else None
        for d in listed[: MAX_DEPS + 1] if isinstance(listed, list) else []:
            if isinstance(d, str) and len(d) <= 1000:
                m = re.match(r"^([A-Za-z0-9][\w.\-]{0,199})\s*([=<>!~].{0,200})?$", d.split("::")[-1].strip())
                if m:
                    spec = text(m.group(2)) if m.group(2) else None
                    if spec and not spec.startswith(("==", ">", "<", "!", "~")):
                        spec = spec.replace("=", "==", 1)  # conda's "=1.2" pins like pip's "==1.2"
                    deps.append((m.group(1), spec, None, "conda"))
            elif isinstance(d, dict) and isinstance(d.get("pip"), list):
                for p in d["pip"][:MAX_DEPS]:
                    r = _req(p) if isinstance(p, str) else None
                    if r:
                        deps.append((r[0], r[1], None, "pypi"))
    if len(deps) > MAX_DEPS:
        out.finding(
            Severity.LOW,
            "scan.limit-exceeded",
            f"{f.rel}: more than {MAX_DEPS} dependencies; the first {MAX_DEPS} read",
            f.ev(),
        )
        deps = deps[:MAX_DEPS]
    # A dependency listed twice is one dependency (the first line that names it is the evidence).
    seen: set[tuple[str, str | None, str]] = set()
    unique = []
    for d in deps:
        key = (re.sub(r"[-_.]+", "-", d[0]).lower(), d[1], d[3])
        if key not in seen:
            seen.add(key)
            unique.append(d)
    deps = unique
    out.properties["dependency_count"] = len(deps)
    for dep, spec, line, eco in deps:
        ev = f.ev(key=dep, line=line, value=f"{dep}{spec or ''}")
        c = library_component(dep, spec, ev, eco)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DEPENDS_ON, evidence=[ev]))
    return out
