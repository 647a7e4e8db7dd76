"""``aitrail check``: scan, licences, openness and security in one pass, judged by a policy.

One read of the files (:func:`aitrail.scanner.scan_all` hashes and runs the security rules while the
catalogers read), then the judgements over the inventory, then the policy over the whole
document. The document is deterministic: same files, same knowledge, same bytes out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import policy as policy_mod
from .analyze import licenses, openness, security
from .errors import InputError
from .model import ComponentType, Evidence, Finding, Inventory, RelationshipKind, Severity
from .scanner import NothingToScan, Progress, ScanResult, scan_all

SCHEMA_VERSION = "1.0"
# Files that carry a signature over the model (OpenSSF model-signing bundles, detached signatures).
SIGNATURE_NAMES = ("model.sig", "model.sigstore", "model.sigstore.json")
SIGNATURE_SUFFIXES = (".sig", ".sigstore", ".sigstore.json", ".asc")


class NothingToCheck(NothingToScan):
    """The target holds files, but nothing aitrail recognises as a model or model part."""


@dataclass
class CheckResult:
    scan: ScanResult
    use: str
    licenses: dict[str, Any]
    openness: list[dict[str, Any]]
    signatures: list[dict[str, Any]]
    policy: dict[str, Any]

    @property
    def inventory(self) -> Inventory:
        return self.scan.inventory

    def to_dict(self) -> dict[str, Any]:
        return document(self.scan, self.licenses, self.openness, self.signatures, self.policy)


def document(
    scan: ScanResult,
    lic: dict[str, Any],
    opn: list[dict[str, Any]],
    signatures: list[dict[str, Any]],
    pol: dict[str, Any] | None,
) -> dict[str, Any]:
    sec = scan.security_report()
    sec["signatures"] = signatures
    from . import knowledge

    inv = scan.inventory.to_dict()
    inv["tool"]["knowledge_version"] = knowledge.version()  # what the verdicts were judged with
    doc = {
        "schema_version": SCHEMA_VERSION,
        "inventory": inv,
        "licenses": lic,
        "openness": opn,
        "security": sec,
    }
    if pol is not None:
        doc["policy"] = pol
    return doc


def check(
    path: str | os.PathLike[str],
    *,
    policy: policy_mod.Policy | None = None,
    use: str | None = None,
    manifest_path: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], Progress] | None = None,
    dataset_policy: security.DatasetPolicy | None = None,
    signature_key: bytes | None = None,
    follow_symlinks: bool = False,
) -> CheckResult:
    """Everything aitrail knows about a model, judged by ``policy`` (the default one when None).

    Raises :class:`aitrail.inputs.InputError` (or :class:`NothingToCheck`) when the target cannot
    be checked and :class:`aitrail.manifest.ManifestError` for a malformed manifest.
    """
    pol = policy or policy_mod.DEFAULT
    if signature_key is not None:
        from .provenance import oms

        try:
            oms.load_public_key(signature_key)  # an unusable key is a usage error, before any work
        except oms.BundleError as e:
            raise InputError(f"--signature-key: {e}") from None
        # a key given means "verify with it": no verified signature fails, whatever the policy says
        pol = policy_mod.Policy({**pol.data, "signatures": {**(pol.data.get("signatures") or {}), "required": True}},
                                pol.source + " + --signature-key")
    use = use or pol.use
    result = scan_all(
        path,
        hash_files=True,
        manifest_path=manifest_path,
        progress=progress,
        unknown_severity=pol.unknown_globals,
        dataset_policy=dataset_policy,
        follow_symlinks=follow_symlinks,
    )
    inv = result.inventory
    _require_something(inv, Path(path))
    lic = licenses.report(inv, use)
    opn = [openness.assess(d) for d in openness.declarations(inv, Path(path))]
    sigs = signatures(result, signature_key)
    doc = document(result, lic, opn, sigs, None)
    verdict = policy_mod.evaluate(pol, doc)
    return CheckResult(result, use, lic, opn, sigs, verdict)


def _require_something(inv: Inventory, target: Path) -> None:
    # Every folder becomes a model in the inventory; a check needs something that says it is one.
    recognised = {
        ComponentType.WEIGHTS,
        ComponentType.CONFIG,
        ComponentType.DOCUMENTATION,
        ComponentType.TOKENIZER,
        ComponentType.DATA,
    }
    declared = any(r.kind != RelationshipKind.CONTAINS for r in inv.relationships)
    if declared or any(c.type in recognised for c in inv.components):
        return
    files = [c.path for c in inv.components if c.path]
    listed = ", ".join(sorted(files)[:8]) + (" …" if len(files) > 8 else "")
    raise NothingToCheck(
        f"{target}: nothing here is recognisable as a model: no weights (safetensors, GGUF, ONNX, PyTorch, "
        "pickle/joblib, numpy, Keras, TensorFlow), no config.json and no model card"
        + (f" among {len(files)} file(s) ({listed})" if files else " (no files)")
        + ". Point aitrail at the model's folder, a weights file or a Hugging Face cache."
    )


def signatures(result: ScanResult, public_key_pem: bytes | None = None) -> list[dict[str, Any]]:
    """Signature files beside the model, verified when they are model-signing bundles and a public
    key is given (analyze/signatures.py); what they find joins the signature file's security report."""
    from .analyze import signatures as sig

    inv = result.inventory
    digests = {c.path: c.sha256 for c in inv.components if c.path}
    reports = {r.path: r for r in result.security}
    checks = []
    for c in inv.components:
        name = (c.path or "").rsplit("/", 1)[-1]
        if not c.path or not (name in SIGNATURE_NAMES or name.endswith(SIGNATURE_SUFFIXES)):
            continue
        checked = sig.check(result.paths[c.path], c.path, c.sha256, digests, public_key_pem)
        checks.append(checked)
        for severity, rule, message in checked.findings:
            rep = reports.get(c.path)
            if rep is not None:
                rep.findings.append(security.SecurityFinding(severity, rule, message, c.path))
            inv.findings.append(Finding(Severity(severity), rule, message, c.path, Evidence(c.path), sig.SPEC))
        if checked.verified:
            _signed_lineage(inv, checked.as_signed)
    for p in sig.cover(checks, digests):
        message = f"{p}: in the model but not covered by any verified signature (a signature covers its own folder)"
        inv.findings.append(Finding(Severity.MEDIUM, "integrity.unsigned-file", message, p, Evidence(p), sig.SPEC))
    return [c.to_dict() for c in checks]


def _signed_lineage(inv: Inventory, signed: set[str]) -> None:
    """A derived-from claim whose every piece of evidence (the card or config that names the base) is
    in a verified signature is signed by its key holder: grade "signed" (the strongest, model.py)."""
    for r in inv.relationships:
        if r.kind == RelationshipKind.DERIVED_FROM and r.evidence and all(e.path in signed for e in r.evidence):
            r.grade = "signed"


def validate(doc: dict[str, Any]) -> list[str]:
    """Errors of a check document against schemas/check.schema.json (empty when valid)."""
    import json
    from importlib import resources

    import jsonschema
    from referencing import Registry, Resource

    from .export import json_inventory

    schema = json.loads(resources.files("aitrail.schemas").joinpath("check.schema.json").read_text("utf-8"))
    inv = json_inventory.schema()
    registry = Registry().with_resource(inv["$id"], Resource.from_contents(inv))
    v = jsonschema.Draft202012Validator(schema, registry=registry)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in v.iter_errors(doc)]
