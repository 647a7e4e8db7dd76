"""Security reports: one per file, its findings, and the versioned rules they apply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ...model import Severity

SEVERITIES = [s.value for s in Severity]


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    """knowledge/security.yaml, as generated into security.json (read without importing PyYAML)."""
    doc = json.loads(resources.files("aitrail.knowledge").joinpath("security.json").read_text("utf-8"))
    doc.pop("_generated_from", None)
    return doc  # type: ignore[no-any-return]


@dataclass
class SecurityFinding:
    severity: str
    rule: str
    message: str
    location: str  # file, and member or key inside it

    def to_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "rule": self.rule, "message": self.message, "location": self.location}


@dataclass
class FileReport:
    path: str
    sha256: str | None
    format: str | None
    findings: list[SecurityFinding] = field(default_factory=list)

    def add(self, severity: str, rule: str, message: str, location: str | None = None) -> None:
        self.findings.append(SecurityFinding(severity, rule, f"{self.path}: {message}", location or self.path))

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "findings": [f.to_dict() for f in self.findings],
        }
