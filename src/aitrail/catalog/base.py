"""What every cataloger shares: the file it is handed and what it hands back.

A cataloger is a pure function ``catalog(f: FileRef) -> Found``: it reads one file's headers
or metadata (never weights, never unpickling, never importing code) and reports
- how to describe the file itself (type, format, properties),
- facts about the model the file belongs to (architecture, licence, task...),
- other components it names (datasets, base models, libraries) and relationships to them,
- findings.
``scan.py`` merges what all catalogers found into one :class:`~aitrail.model.Inventory`.
Relationships whose source is :data:`MODEL` are attached to the model the file belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Component, ComponentType, DeclaredLicense, Evidence, Finding, Relationship, Severity

MODEL = "@model"  # placeholder source/target: the model the scanned file belongs to

# Files are never read whole unless they are small metadata; this is the cap for those.
MAX_METADATA_BYTES = 64 * 1024 * 1024


class CatalogError(Exception):
    """The file is not what it claims to be, or is malformed. The message names the problem."""

    def __init__(
        self,
        message: str,
        rule: str = "scan.malformed",
        severity: Severity = Severity.MEDIUM,
        offset: int | None = None,
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.severity = severity
        self.offset = offset


@dataclass
class FileRef:
    path: Path  # absolute
    rel: str  # POSIX path relative to the unit's root (what users see)
    size: int
    head: bytes  # the first bytes of the file (up to 4 KiB)
    format: str | None = None  # sniffed by content (see sniff.py)
    local: str = ""  # path inside the model's folder ("../x" for files outside it)
    # The security rules' walk of this pickle, when they ran first: (summary, how it ended) or
    # "data-only". The pickle cataloger uses it instead of walking the same bytes again.
    pickle_walk: Any = None

    def read_text(self, limit: int = MAX_METADATA_BYTES) -> str:
        """Read a small text file, refusing binaries and anything larger than ``limit``."""
        if self.size > limit:
            raise CatalogError(
                f"{self.rel}: {self.size} bytes is too large for a metadata file (limit {limit})", rule="scan.too-large"
            )
        data = self.path.read_bytes()
        if b"\x00" in data[:8192]:
            raise CatalogError(
                f"{self.rel}: expected text, found binary content (NUL bytes)", rule="scan.binary-text-file"
            )
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CatalogError(
                f"{self.rel}: not valid UTF-8 at byte {e.start}", rule="scan.encoding", offset=e.start
            ) from None

    def ev(
        self, key: str | None = None, line: int | None = None, value: Any = None, offset: int | None = None
    ) -> Evidence:
        v = None if value is None else _short(value)
        return Evidence(path=self.rel, key=key, line=line, value=v, offset=offset)


def _short(value: Any, n: int = 200) -> str:
    """A value quoted in evidence: at most ``n`` characters, always encodable (lone surrogates escaped);
    containers through reprlib, so a huge value is never rendered whole."""
    import reprlib

    s = value if isinstance(value, str) else reprlib.repr(value)
    s = s if len(s) <= n else s[: n - 1] + "…"
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class Fact:
    """A statement about the model the file belongs to, with where it was read."""

    key: str  # e.g. "architecture", "task", "name", "license"
    value: Any
    evidence: Evidence


@dataclass
class Found:
    file_type: ComponentType = ComponentType.FILE
    format: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    licenses: list[DeclaredLicense] = field(default_factory=list)  # licences of the model
    components: list[Component] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def fact(self, key: str, value: Any, evidence: Evidence) -> None:
        if value not in (None, "", [], {}):
            self.facts.append(Fact(key, value, evidence))

    def finding(
        self, severity: Severity, rule: str, message: str, evidence: Evidence, source: str | None = None
    ) -> None:
        self.findings.append(Finding(severity, rule, message, evidence.path, evidence, source))


def read_json(f: FileRef) -> Any:
    import json

    from .. import jsonsafe

    try:
        return jsonsafe.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise CatalogError(
            f"{f.rel}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}", rule="scan.json"
        ) from None
    except jsonsafe.ShapeError as e:
        raise CatalogError(f"{f.rel}: {e}; not read", rule="scan.limit-exceeded") from None
    except ValueError as e:  # e.g. an integer past Python's 4,300-digit limit: not a JSONDecodeError
        raise CatalogError(f"{f.rel}: not valid JSON ({_short(str(e))})", rule="scan.json") from None


def read_yaml(f: FileRef, text: str | None = None) -> Any:
    """YAML with the safe loader only: untrusted YAML must never construct Python objects."""
    from .. import jsonsafe, yamlsafe

    try:
        return yamlsafe.load_bounded(f.read_text() if text is None else text)
    except jsonsafe.ShapeError as e:
        raise CatalogError(f"{f.rel}: YAML {e}; not read", rule="scan.limit-exceeded") from None
    except yamlsafe.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise CatalogError(f"{f.rel}: malformed YAML{where}: {getattr(e, 'problem', e)}", rule="scan.yaml") from None
