"""Security reports: one per file, its findings, and the versioned rules they apply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ...model import Severity

SEVERITIES = [s.value for s in Severity]
MAX_MESSAGE = 1_000  # characters of one finding's message or location (the last net: rules bound theirs)
MAX_FINDINGS = 1_000  # findings kept per file; the rest are counted in one finding at their worst severity


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    """knowledge/security.yaml, as generated into security.json (read without importing PyYAML)."""
    doc = json.loads(resources.files("aitrail.knowledge").joinpath("security.json").read_text("utf-8"))
    doc.pop("_generated_from", None)
    return doc  # type: ignore[no-any-return]


def _bounded(text: str) -> str:
    """At most MAX_MESSAGE characters, always encodable (lone surrogates from file or member names escaped)."""
    text = text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class SecurityFinding:
    severity: str
    rule: str
    message: str
    location: str  # file, and member or key inside it
    evidence: dict[str, str] | None = None  # how the global is used, its framework, why the rule fires

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"severity": self.severity, "rule": self.rule, "message": self.message}
        d["location"] = self.location
        if self.evidence:
            d["evidence"] = self.evidence
        return d


@dataclass
class FileReport:
    path: str
    sha256: str | None
    format: str | None
    findings: list[SecurityFinding] = field(default_factory=list)
    dropped: int = 0  # findings past MAX_FINDINGS, counted in the last one

    def add(
        self,
        severity: str,
        rule: str,
        message: str,
        location: str | None = None,
        evidence: dict[str, str] | None = None,
    ) -> None:
        text = _bounded(f"{self.path}: {message}")
        where = _bounded(location or self.path)
        if len(self.findings) < MAX_FINDINGS:
            ev = {k: _bounded(v) for k, v in evidence.items() if v} if evidence else None
            self.findings.append(SecurityFinding(severity, rule, text, where, ev))
            return
        # Past the cap one summary finding stands for the rest, at the worst severity among them, so
        # that output stays bounded and the verdict does not change.
        self.dropped += 1
        if self.dropped == 1:
            self.findings.append(SecurityFinding(severity, "report.findings-limit", "", self.path))
        last = self.findings[-1]
        if SEVERITIES.index(severity) > SEVERITIES.index(last.severity):
            last.severity = severity
        last.message = (
            f"{self.path}: {self.dropped} more findings not listed (at most {MAX_FINDINGS} per file); "
            f"the worst of them is {last.severity}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "findings": [f.to_dict() for f in self.findings],
        }
