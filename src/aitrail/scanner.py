"""``aitrail.scan(path)``: resolve inputs, run catalogers over every file, merge into an Inventory.

Data flows one way: files -> catalogers (pure) -> merge here -> analyze (completeness)
-> export.  A file that cannot be read or parsed becomes a finding; the scan goes on.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import __version__, digest, guard, inputs, manifest
from .analyze import completeness, licenses, security
from .catalog import CATALOGERS, CatalogError, FileRef, Found
from .catalog.base import MODEL
from .catalog.lineage import dataset_component, hub_purl, model_component
from .catalog.sniff import WEIGHT_FORMATS, read_head, sniff
from .errors import InputError
from .model import (
    Component,
    ComponentType,
    DeclaredLicense,
    Derivation,
    Evidence,
    Finding,
    Inventory,
    Relationship,
    RelationshipKind,
    Severity,
)

Progress = Callable[[int], None]
_GENERIC_DIRS = {"model", "models", "weights", "checkpoint", "checkpoints", "data", "assets", "snapshot", "files"}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CLASS_FACTS = ("architecture", "model_type", "transformers_version", "task_from_architecture")
_OUTSIDE = 1 << 16  # the depth given to files outside the model's folder (a carrier package's)
# What a file's extension promises; content that is none of these is worth a finding (names lie).
EXTENSION_FORMATS = {
    ".safetensors": {"safetensors"},
    ".gguf": {"gguf"},
    ".onnx": {"onnx"},
    ".npy": {"numpy-npy"},
    ".npz": {"numpy-npz", "zip"},
    ".pt": {"pytorch-zip", "pytorch-legacy", "pytorch-tar", "torchscript", "pickle", "tar", "zip"},
    ".pth": {"pytorch-zip", "pytorch-legacy", "pytorch-tar", "torchscript", "pickle", "tar", "zip"},
    ".ckpt": {"pytorch-zip", "pytorch-legacy", "pickle", "zip"},
    ".keras": {"keras", "zip"},
    ".h5": {"hdf5"},
    # joblib.dump(..., "x.joblib", compress=...) and pandas' to_pickle write compressed pickles under these
    # names: every compressor the pickle reader follows is what such a name promises
    ".pkl": {"pickle", "joblib", *(f"joblib-{c}" for c in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4", "zstd"))},
    ".joblib": {"pickle", "joblib", *(f"joblib-{c}" for c in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4", "zstd"))},
}


class NothingToScan(InputError):
    """The target holds files, but none that aitrail recognises as a model or a part of one."""


# Catalogers that match any project's files (licences, requirements, Python, package metadata):
# a folder holding only these is not a model.
_GENERIC_CATALOGERS = {"license-file", "dependencies", "python", "dist-info"}


@dataclass
class ScanResult:
    """What one pass over the files gives: the inventory, and every file's security report."""

    inventory: Inventory
    security: list[security.FileReport] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)  # each file as shown -> where it is on disk

    def security_report(self) -> dict[str, Any]:
        """The ``aitrail security --format json`` document for the same files."""
        worst = max(
            (f.severity for r in self.security for f in r.findings), key=security.SEVERITIES.index, default=None
        )
        return {
            "rules_version": security.rules()["rules_version"],
            "files": [r.to_dict() for r in self.security],
            "max_severity": worst,
        }


def scan(
    path: str | os.PathLike[str],
    *,
    hash_files: bool = True,
    manifest_path: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], Progress] | None = None,
    follow_symlinks: bool = False,
    require_model: bool = True,
) -> Inventory:
    """Inventory a model folder, a single model file, or a Hugging Face cache.

    Raises :class:`aitrail.inputs.InputError` when the target cannot be scanned at all (missing,
    unreadable, or — :class:`NothingToScan`, unless ``require_model`` is false — nothing in it is
    recognisable as a model) and :class:`aitrail.manifest.ManifestError` for a malformed manifest.
    Everything else that goes wrong with a file is recorded as a finding.
    """
    return scan_all(
        path,
        hash_files=hash_files,
        manifest_path=manifest_path,
        progress=progress,
        follow_symlinks=follow_symlinks,
        require_model=require_model,
    ).inventory


def scan_all(
    path: str | os.PathLike[str],
    *,
    hash_files: bool = True,
    manifest_path: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], Progress] | None = None,
    unknown_severity: str = "high",
    dataset_policy: security.DatasetPolicy | None = None,
    follow_symlinks: bool = False,
    require_model: bool = True,
) -> ScanResult:
    """:func:`scan`, keeping each file's security report (``aitrail check`` reports both).

    Each file is read once for its digest (on background threads, largest first) while the
    catalogers and security rules read it: the two readers share the page cache. Whether
    anything is recognisable is decided from names and magic bytes first, before any hashing.
    """
    target = Path(path)
    units = inputs.resolve(target, follow_symlinks=follow_symlinks)
    inv = Inventory(target=str(path), tool_version=__version__, hashed=hash_files)
    explicit = manifest.load(Path(manifest_path)) if manifest_path else None
    per_unit: list[tuple[inputs.Unit, list[tuple[FileRef, Path]]]] = []
    for unit in units:
        files, walk_findings = inputs.walk(unit)
        inv.findings.extend(walk_findings)
        refs = []
        for p in files + unit.extra_files:
            ref = _file_ref(unit, target, p, inv)
            if ref:
                refs.append((ref, p))
        per_unit.append((unit, refs))
    # What could not be read is not judged: it joins the security reports at its severity, so the
    # policy that gates on security fails closed on it (a model may hide in an unreadable folder).
    unread = [
        security.FileReport(
            f.path or ".",
            None,
            None,
            [security.SecurityFinding(str(f.severity), "file.unreadable", f.message, f.path or ".")],
        )
        for f in inv.findings
        if f.rule == "scan.unreadable" and f.severity.rank >= Severity.HIGH.rank
    ]
    if require_model:
        _require_recognisable(target, [ref for _, refs in per_unit for ref, _ in refs])

    digests: digest.Background | None = None
    if hash_files:
        all_paths = [p for _, refs in per_unit for _, p in refs]
        total = sum(r.size for _, refs in per_unit for r, _ in refs)
        tick = progress(total, len(all_paths)) if progress else None
        digests = digest.Background(all_paths, progress=tick)
    result = ScanResult(inv, unread)
    result.paths = {ref.rel: p for _, refs in per_unit for ref, p in refs}
    rules = _SecurityRules(unknown_severity, dataset_policy or security.DatasetPolicy(), result.security)
    try:
        for unit, refs in per_unit:
            man = explicit or _unit_manifest(unit, inv)
            remote = security.auto_map_files(unit.root, [p for _, p in refs]) if not unit.single_file else set()
            _assemble(inv, unit, refs, digests, man, rules, remote)
    finally:
        if digests:
            digests.close()
    _grade_lineage(inv)
    for c in inv.components:
        for lic in c.licenses:
            lic.spdx = lic.spdx or licenses.spdx_of(lic.value)
    licenses.check(inv)
    completeness.assess(inv)
    return result


def _grade_lineage(inv: Inventory) -> None:
    """Grade every derived-from edge: declared, or hash-shared when base and derivative were both
    scanned and hold a weights file with the same SHA-256 (a shared frozen part: the claim is checked
    against the bytes). weight-similar comes from `aitrail lineage --check-weights`."""

    def weights(model_id: str) -> set[str]:
        return {
            c.sha256
            for c in inv.related(model_id, RelationshipKind.CONTAINS)
            if c.type == ComponentType.WEIGHTS and c.sha256
        }

    for r in inv.relationships:
        if r.kind != RelationshipKind.DERIVED_FROM:
            continue
        r.grade = "hash-shared" if weights(r.source) & weights(r.target) else "declared"


@dataclass
class _SecurityRules:
    unknown_severity: str
    dataset_policy: security.DatasetPolicy
    reports: list[security.FileReport]


def _require_recognisable(target: Path, refs: list[FileRef]) -> None:
    """Raise NothingToScan unless some file is a model or a part of one, by its magic bytes or its
    name (a CI gate pointed at the wrong folder must fail, and before hashing gigabytes)."""
    for ref in refs:
        name = ref.rel.rsplit("/", 1)[-1]
        if ref.format is not None or Path(name).suffix.lower() in EXTENSION_FORMATS or name in inputs.MARKER_NAMES:
            return
        if ref.size and _unknown_weights(ref.rel):
            return  # weights in a format no reader knows: judged as such (see _unknown_weights)
        if any(c.name not in _GENERIC_CATALOGERS and _matches(c, ref) for c in CATALOGERS):
            return
    files = sorted(ref.rel for ref in refs)
    listed = ", ".join(files[:8]) + (" …" if len(files) > 8 else "")
    raise NothingToScan(
        f"{target}: nothing here is recognisable as a model: no weights (safetensors, GGUF, ONNX, PyTorch, "
        "pickle/joblib, numpy, Keras, TensorFlow), no config.json, tokenizer or model card"
        + (f" among {len(files)} file(s) ({listed})" if files else " (no files)")
        + ". Point aitrail at the model's folder, a weights file or a Hugging Face cache."
    )


def _matches(cat: Any, ref: FileRef) -> bool:
    try:
        return bool(cat.matches(ref))
    except Exception:  # noqa: BLE001 - a matcher's bug must not decide; the scan will report the file
        return True


def _file_ref(unit: inputs.Unit, target: Path, p: Path, inv: Inventory) -> FileRef | None:
    shown, local = inputs.display_path(unit, target, p)
    try:
        size = p.stat().st_size
        head = read_head(p)
    except OSError as e:
        # Fails the default policy: a file nobody could read may be the one that matters.
        inv.findings.append(
            Finding(
                Severity.HIGH,
                "scan.unreadable",
                f"{shown}: cannot read ({e.strerror or guard.describe(e)}); its content is not judged",
                shown,
                Evidence(shown),
            )
        )
        return None
    ref = FileRef(path=p, rel=shown, size=size, head=head, local=local)
    try:
        ref.format = sniff(p, head)
    except OSError:
        ref.format = None
    return ref


def _unit_manifest(unit: inputs.Unit, inv: Inventory) -> manifest.Manifest | None:
    found = manifest.find(unit.root) if not unit.single_file else None
    if not found:
        return None
    try:
        return manifest.load(found)
    except manifest.ManifestError as e:
        shown = inputs.join_path(unit.prefix, found.name)
        inv.findings.append(Finding(Severity.MEDIUM, "scan.manifest.invalid", str(e), shown, Evidence(shown)))
        return None


def run_catalogers(ref: FileRef) -> list[Found]:
    found: list[Found] = []
    for cat in CATALOGERS:
        try:
            if not cat.matches(ref):
                continue
            found.append(cat.catalog(ref))
        except CatalogError as e:
            f = Found()
            f.findings.append(
                Finding(
                    e.severity, e.rule, str(e), ref.rel, Evidence(ref.rel, offset=e.offset), f"{cat.name} cataloger"
                )
            )
            found.append(f)
        except OSError as e:
            f = Found()
            f.findings.append(
                Finding(
                    Severity.HIGH,
                    "scan.unreadable",
                    f"{ref.rel}: the {cat.name} cataloger could not read it ({e.strerror or guard.describe(e)})",
                    ref.rel,
                    Evidence(ref.rel),
                    f"{cat.name} cataloger",
                )
            )
            found.append(f)
        except Exception as e:  # noqa: BLE001 - the guard: a bug in one cataloger must not end the scan
            if os.environ.get("AITRAIL_DEBUG"):
                raise
            f = Found()
            f.findings.append(
                Finding(
                    Severity(guard.CATALOGER_FAILED),
                    "scan.internal-error",
                    f"{ref.rel}: the {cat.name} cataloger failed ({guard.describe(e)}); its facts are missing; "
                    f"{guard.HOW_TO_REPORT}",
                    ref.rel,
                    Evidence(ref.rel),
                    f"{cat.name} cataloger",
                )
            )
            found.append(f)
    return found


def _model_name(unit: inputs.Unit, facts: dict[str, list[tuple[Any, Evidence]]], man: dict[str, Any]) -> str:
    if unit.repo_id:
        return unit.repo_id
    if man.get("name"):
        return str(man["name"])
    # A title that is a class name the folder itself declares names the code, not the model (the
    # sentence-transformers card template titles an unnamed model "SentenceTransformer").
    classes = {str(v).lower() for k in ("architecture", "class_name") for v, _ in facts.get(k, [])}
    for key in ("name", "card_title"):
        named = next((str(v) for v, _ in facts.get(key, []) if str(v).lower() not in classes), None)
        if named:
            return named
    if unit.single_file:
        return inputs.escape(unit.single_file.stem)
    root = unit.root.resolve()
    if root.name.lower() in _GENERIC_DIRS and root.parent.name:
        return inputs.escape(f"{root.parent.name}/{root.name}")
    return inputs.escape(root.name) or "model"


def _assemble(
    inv: Inventory,
    unit: inputs.Unit,
    refs: list[tuple[FileRef, Path]],
    digests: digest.Background | None,
    man_obj: manifest.Manifest | None,
    rules: _SecurityRules,
    remote: set[Path],
) -> None:
    man = man_obj.data if man_obj else {}
    facts: dict[str, list[tuple[Any, Evidence]]] = defaultdict(list)
    model_licenses: list[DeclaredLicense] = []
    others: list[Component] = []
    rels: list[Relationship] = []
    files: list[Component] = []
    weight_counts: list[tuple[str, str, str, int]] = []  # (folder, format, file name, parameters)
    revision: str | None = None  # the commit a `--local-dir` download came from (huggingface_hub's metadata)
    fact_depth: dict[int, int] = {}

    for ref, p in refs:
        pre = None
        if ref.format not in _CATALOGER_REPORTS:
            # The security rules read first, and hand their pickle walk to the pickle cataloger: the
            # same bytes are walked once (a hostile pickle costs one walk, not two).
            keep: list[Any] = []
            pre = _analyse_guarded(ref, p, rules, keep)
            if keep:
                ref.pickle_walk = keep[0]
        results = run_catalogers(ref)
        ftype = next((r.file_type for r in results if r.file_type != ComponentType.FILE), ComponentType.FILE)
        detected = next((r.format for r in results if r.format), None) or ref.format
        fmt = detected or _ext_format(ref.rel)
        if ftype == ComponentType.FILE and ref.format in WEIGHT_FORMATS:
            ftype = ComponentType.WEIGHTS
        elif ftype == ComponentType.FILE and detected is None and ref.size and _unknown_weights(ref.rel):
            # a weights name over content no reader knows (a package's own binary format): still the
            # model's weights, so the model and its licence are judged; what is not read is a finding
            ftype = ComponentType.WEIGHTS
            if Path(ref.rel).suffix.lower() not in EXTENSION_FORMATS:  # else format-mismatch says it
                inv.findings.append(
                    Finding(
                        Severity.LOW,
                        "scan.unknown-format",
                        f"{ref.rel}: named like weights, but the bytes are no format aitrail reads (no pickle, "
                        "archive or other format whose loading runs code was found in it): its loader is "
                        "someone else's code, and its parameters are not counted",
                        ref.rel,
                        Evidence(ref.rel, offset=0, value=ref.head[:16].hex()),
                        "format detected from magic bytes, not the file name",
                    )
                )
        _check_extension(ref, detected, inv)
        security_max = _security(ref, p, inv, rules, bool(remote) and p.resolve() in remote, results, pre)
        comp = Component(
            id=f"file:{ref.rel}", type=ftype, name=ref.rel.rsplit("/", 1)[-1], path=ref.rel, size=ref.size, format=fmt
        )
        d = digests.get(p) if digests else None
        rules.reports[-1].sha256 = d if isinstance(d, str) else None
        if isinstance(d, str):
            comp.sha256 = d
            _check_blob(ref, p, d, inv)
        elif isinstance(d, OSError):
            inv.findings.append(
                Finding(
                    Severity.HIGH,
                    "scan.unreadable",
                    f"{ref.rel}: cannot hash: {d.strerror or guard.describe(d)}; the content is not tied to a digest",
                    ref.rel,
                    Evidence(ref.rel),
                )
            )
        # A file at the model's root speaks for the model; one in a subfolder for a part of it (a
        # pipeline's text_encoder/config.json), a carrier package's last: facts are ordered so.
        depth = _OUTSIDE if ref.local.startswith("../") or ".dist-info/" in ref.local else ref.local.count("/")
        _check_git_blob(ref, p, inv)
        revision = _check_download(unit, ref, p, d if isinstance(d, str) else None, inv) or revision
        for r in results:
            comp.properties.update(r.properties)
            for fact in r.facts:
                facts[fact.key].append((fact.value, fact.evidence))
                fact_depth[id(fact.evidence)] = depth
            if ftype == ComponentType.LICENSE:
                comp.licenses.extend(r.licenses)
            if not (ref.local.startswith("../") or ".dist-info/" in ref.local):
                model_licenses.extend(r.licenses)  # a carrier package's licence is not the model's
            others.extend(r.components)
            rels.extend(r.relationships)
            inv.findings.extend(r.findings)
            if ftype == ComponentType.WEIGHTS and isinstance(r.properties.get("parameter_count"), int):
                folder, _, name = ref.local.rpartition("/")
                weight_counts.append((folder, fmt or "?", name, r.properties["parameter_count"]))
        if security_max:
            comp.properties["security_max_severity"] = security_max
        files.append(comp)

    _external_weights(files)
    for vals in facts.values():
        vals.sort(key=lambda v: fact_depth.get(id(v[1]), 0))  # stable: file order within one depth
    # What the model is comes from its shallowest config: a pipeline's model_index.json, not the
    # transformers config of its text_encoder/ part (whose model_type is the part's).
    if facts.get("architecture"):
        top = fact_depth.get(id(facts["architecture"][0][1]), 0)
        for key in _CLASS_FACTS:
            kept = [v for v in facts.get(key, []) if fact_depth.get(id(v[1]), 0) <= top]
            if key in facts and not kept:
                del facts[key]
            elif kept:
                facts[key] = kept
    by_class = facts.pop("task_from_architecture", None)
    if by_class and "task" not in facts:
        facts["task"] = by_class  # the class's task only when nothing states one
    if unit.orphan:  # files that belong to no model: inventoried, attached to none
        for c in others + files:
            inv.add_component(c)
        return
    name = _model_name(unit, facts, man)
    mid = f"model:{name}"
    taken = inv.component(mid)
    if taken is not None and taken.properties.get("scanned"):  # two models with one name: tell them apart
        where = inputs.join_path(unit.prefix, unit.single_file.name) if unit.single_file else (unit.prefix or ".")
        mid = f"{mid}@{unit.revision or where}"
    model = Component(
        id=mid,
        type=ComponentType.MODEL,
        name=name,
        version=unit.revision or revision or man.get("version") or _first(facts, "version"),
        purl=hub_purl(unit.repo_id, unit.revision) if unit.repo_id else None,
        description=man.get("description") or _first(facts, "description"),
    )
    model.properties["scanned"] = True
    model.properties["root"] = unit.prefix or "."
    if unit.repo_id:
        model.properties["repo_id"] = unit.repo_id
        model.properties["download_location"] = f"https://huggingface.co/{unit.repo_id}"
    if unit.is_main is not None:
        model.properties["is_main_revision"] = unit.is_main
    provenance: dict[str, list[dict[str, Any]]] = {}
    for key, vals in sorted(facts.items()):
        model.properties[key] = vals[0][0]
        provenance[key] = [e.to_dict() for _, e in vals]
    if weight_counts:
        model.properties["parameter_count"] = _parameter_count(weight_counts, _part_folders(files, unit.prefix))
    model.licenses = _dedupe_licenses(model_licenses)
    _apply_manifest(model, man, man_obj, others, rels)
    if provenance:
        model.properties["provenance"] = provenance
    model.evidence = [Evidence(unit.prefix or ".")]
    inv.add_component(model)

    carrier = None
    for c in others:
        if c.type == ComponentType.LIBRARY and c.properties.get("role") == "carrier":
            carrier = c
        inv.add_component(c)
    for comp in files:
        inv.add_component(comp)
        inv.add_relationship(Relationship(mid, comp.id, RelationshipKind.CONTAINS))
    if carrier:
        inv.add_relationship(Relationship(carrier.id, mid, RelationshipKind.CONTAINS, evidence=carrier.evidence[:1]))
    for rel in _settle_kinds(rels, facts, files):
        src = mid if rel.source == MODEL else rel.source
        dst = mid if rel.target == MODEL else rel.target
        if src != dst:
            inv.add_relationship(Relationship(src, dst, rel.kind, rel.derivation, rel.evidence))
        elif rel.kind == RelationshipKind.DERIVED_FROM and any(e.key != "_name_or_path" for e in rel.evidence):
            # A card naming the model itself as its base (42 of 30,383 real hub edges): the lineage is
            # undocumented, said as such. config.json's _name_or_path names the checkpoint it was saved
            # as, which is the model itself by design, so that alone is no finding.
            ev = next(e for e in rel.evidence if e.key != "_name_or_path")
            inv.findings.append(
                Finding(
                    Severity.LOW,
                    "lineage.self-loop",
                    f"{model.name}: names itself as its own base ({ev.path} {ev.key}): its lineage is undocumented",
                    ev.path,
                    ev,
                    "aitrail lineage",
                )
            )


def _part_folders(files: list[Component], prefix: str) -> set[str]:
    """Folders (inside the model's folder) its own index names as its parts: a diffusers pipeline's
    (model_index.json) and a sentence-transformers model's modules (modules.json: 2_Dense/ holds weights of
    the model itself)."""
    out: set[str] = set()
    for c in files:
        local = c.path[len(prefix) + 1 :] if prefix and c.path and c.path.startswith(prefix + "/") else c.path
        root = local.rsplit("/", 1)[0] + "/" if local and "/" in local else ""
        for key in ("parts", "module_paths"):
            named = c.properties.get(key)
            if isinstance(named, (dict, list)):
                out.update(f"{root}{n}".strip("/") for n in named if isinstance(n, str) and n)
    return out


def _parameter_count(counts: list[tuple[str, str, str, int]], parts: set[str]) -> int:
    """The model's own weights are the shallowest ones, with the parts its index names (a pipeline's
    unet/ vae/ text_encoder/, a sentence-transformers 2_Dense/) adding up; deeper folders hold other exports
    of the same model (a hub repo's onnx/ and openvino/: eight ONNX files of the same 22.7 M parameters).
    Each format at that level is a full copy, and so is a file's variant (model.fp16.safetensors beside
    model.safetensors, as save_pretrained(variant=...) names it); the shards of one variant add up."""
    by: dict[tuple[int, str], dict[tuple[str, str], dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for folder, fmt, name, n in counts:
        depth = 0 if folder in parts else folder.count("/") + 1 if folder else 0
        base, variant = _variant(name)
        by[(depth, fmt)][(folder, base)][variant] += n
    top = min(d for d, _ in by)
    return max(
        sum(max(variants.values()) for variants in per_file.values()) for (d, _), per_file in by.items() if d == top
    )


_VARIANT = re.compile(r"^(?P<base>[^.]+)\.(?P<variant>[A-Za-z0-9_]+)(?P<shard>-\d{5}-of-\d{5})?\.[A-Za-z0-9]+$")


def _variant(name: str) -> tuple[str, str]:
    """(base, variant) of a weights file named as transformers and diffusers save a ``variant``
    ("diffusion_pytorch_model.fp16.safetensors", "model.non_ema-00001-of-00002.safetensors"); the shards of
    one variant share it, so they add up."""
    m = _VARIANT.match(name)
    if m is not None:
        return m.group("base"), m.group("variant")
    stem = _SHARD_SUFFIX.sub("", name).rsplit(".", 1)[0]
    m = _EXPORT_VARIANT.search(stem)
    return (stem[: m.start()], m.group(1)) if m else (stem, "")


# ONNX exports of one model under dtype/optimisation suffixes: transformers.js (model_fp16, model_int8,
# model_uint8, model_quantized, model_q4, model_q4f16, model_bnb4: its dtype suffix mapping) and the
# sentence-transformers/optimum exports on the hub (model_O1..O4, model_qint8_avx512, model_quint8_avx2).
_EXPORT_VARIANT = re.compile(r"_(fp16|fp32|int8|uint8|quantized|q4|q4f16|q8|bnb4|O[1-4]|q?u?int8_[a-z0-9_]+)$")
_SHARD_SUFFIX = re.compile(r"-\d{5}-of-\d{5}(?=\.[A-Za-z0-9]+$)")


def _external_weights(files: list[Component]) -> None:
    """An ONNX model's external data files (model.onnx.data) hold its weights: they are weights, named
    by the ONNX file that reads them (the ONNX external data spec: locations relative to the model file)."""
    by_path = {c.path: c for c in files if c.path}
    for c in files:
        locs = c.properties.get("external_data") if c.format == "onnx" else None
        for loc in locs if isinstance(locs, list) else []:
            folder = c.path.rsplit("/", 1)[0] + "/" if c.path and "/" in c.path else ""
            data = by_path.get(os.path.normpath(folder + str(loc)).replace(os.sep, "/"))
            if data is not None and data is not c and data.type == ComponentType.FILE:
                data.type = ComponentType.WEIGHTS
                data.format = "onnx-external-data"
                data.properties["external_data_of"] = c.path


def _settle_kinds(
    rels: list[Relationship], facts: dict[str, list[tuple[Any, Evidence]]], files: list[Component]
) -> list[Relationship]:
    """A card that names a base without ``base_model_relation`` leaves the kind to the hub, which reads
    it from the repository's files: an adapter_config.json makes an adapter, GGUF weights a
    quantization (huggingface.co/docs/hub/model-cards#specifying-a-base-model). The scanner does the
    same, and a kind another file states (adapter_config.json's base) is applied before that guess."""
    if facts.get("base_model_relation"):
        return rels
    guessed, kind, why = [], None, None
    if facts.get("adapter"):
        kind, why = Derivation.ADAPTER, facts["adapter"][0][1]
    elif any(c.type == ComponentType.WEIGHTS and c.format == "gguf" for c in files):
        kind = Derivation.QUANTIZATION
        why = next(Evidence(c.path or c.name) for c in files if c.format == "gguf")
    out = []
    for r in rels:
        if r.kind == RelationshipKind.DERIVED_FROM and r.evidence and all(e.key == "base_model" for e in r.evidence):
            if kind is not None and r.derivation == Derivation.FINE_TUNE:  # the single-base default
                r = Relationship(r.source, r.target, r.kind, kind, [*r.evidence, why] if why else r.evidence)
            guessed.append(r)
        else:
            out.append(r)
    return out + guessed


def _apply_manifest(
    model: Component,
    man: dict[str, Any],
    man_obj: manifest.Manifest | None,
    others: list[Component],
    rels: list[Relationship],
) -> None:
    if not man_obj:
        return
    where = man_obj.path.name
    ev = lambda key, value=None: Evidence(path=where, key=key, value=None if value is None else str(value))  # noqa: E731
    prov = model.properties.setdefault("provenance", {})
    for key in (
        "supplier",
        "release_time",
        "download_location",
        "intended_use",
        "limitations",
        "training_code",
        "evaluation",
    ):
        if man.get(key):
            model.properties[key] = man[key]
            prov.setdefault(key, []).insert(0, ev(key, man[key]).to_dict())
    if man.get("license"):
        model.licenses.insert(0, DeclaredLicense(man["license"], ev("license", man["license"])))
    for b in man.get("base_models") or []:
        e = ev("base_models", b["id"])
        base = model_component(b["id"], e)
        if b.get("license"):
            base.licenses.append(DeclaredLicense(b["license"], ev("base_models.license", b["license"])))
        others.append(base)
        rels.append(
            Relationship(MODEL, base.id, RelationshipKind.DERIVED_FROM, Derivation(b.get("relation", "unknown")), [e])
        )
    for d in man.get("datasets") or []:
        e = ev("datasets", d["name"])
        c = dataset_component(d["name"], e)
        for k in ("url", "digest", "type", "supplier"):
            if d.get(k):
                c.properties[k] = d[k]
        if d.get("license"):
            c.licenses.append(DeclaredLicense(d["license"], ev("datasets.license", d["license"])))
        c.properties["declared"] = True
        others.append(c)
        kind = (
            RelationshipKind.TRAINED_ON
            if d.get("role", "training") in ("training", "validation")
            else RelationshipKind.TESTED_ON
        )
        rels.append(Relationship(MODEL, c.id, kind, evidence=[e]))


def _dedupe_licenses(lics: list[DeclaredLicense]) -> list[DeclaredLicense]:
    out: list[DeclaredLicense] = []
    for lic in lics:
        if not any(o.value == lic.value and o.evidence == lic.evidence for o in out):
            out.append(lic)
    return out


def _first(facts: dict[str, list[tuple[Any, Evidence]]], key: str) -> Any:
    v = facts.get(key)
    return v[0][0] if v else None


def _unknown_weights(rel: str) -> bool:
    return os.path.splitext(rel)[1].lower() in inputs.WEIGHT_SUFFIXES and "/." not in f"/{rel}"


def _ext_format(rel: str) -> str | None:
    name = rel.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    return name.rsplit(".", 1)[-1].lower()


# The security rules run on every file (the report of `aitrail check` lists them all); their findings
# join the inventory except for formats whose cataloger already reports the same problems.
_CATALOGER_REPORTS = {"onnx", "safetensors"}


def _analyse_guarded(
    ref: FileRef, p: Path, rules: _SecurityRules, keep: list[Any] | None = None
) -> security.FileReport:
    try:
        return security.analyse(
            p, ref.rel, ref.head, ref.format, rules.unknown_severity, rules.dataset_policy, keep=keep
        )
    except Exception as e:  # noqa: BLE001 - the guard: a bug in one rule must not end the scan, nor pass the file
        if os.environ.get("AITRAIL_DEBUG"):
            raise
        rep = security.FileReport(ref.rel, None, ref.format)
        rep.add(
            guard.SECURITY_INCOMPLETE,
            "security.incomplete",
            f"the security rules could not finish ({guard.describe(e)}), so what they look for may be there; "
            f"{guard.HOW_TO_REPORT}",
        )
        return rep


def _security(
    ref: FileRef,
    p: Path,
    inv: Inventory,
    rules: _SecurityRules,
    remote_code: bool,
    found: list[Found],
    pre: security.FileReport | None = None,
) -> str | None:
    """Run the security rules on one file (the same as `aitrail security`), or take their report
    (``pre``) when they ran before the catalogers; return the worst severity."""
    if ref.format in _CATALOGER_REPORTS:  # judged from what the cataloger found: not read a second time
        rep = security.FileReport(ref.rel, None, ref.format)
        for r in found:
            for problem in r.findings:
                if (problem.source or "").endswith(" cataloger"):  # the cataloger could not parse the file
                    security.from_catalog_error(rep, problem.rule, problem.message)
            security.from_catalog(rep, r.findings)
        rules.reports.append(rep)
        return None  # the cataloger's findings are in the inventory already
    rep = pre if pre is not None else _analyse_guarded(ref, p, rules)
    if remote_code:
        try:
            security.remote_code(rep, p)
        except Exception as e:  # noqa: BLE001 - the guard, as above: code that will run was not judged
            if os.environ.get("AITRAIL_DEBUG"):
                raise
            rep.add(
                guard.SECURITY_INCOMPLETE,
                "security.incomplete",
                f"the remote-code rules could not finish ({guard.describe(e)}); {guard.HOW_TO_REPORT}",
            )
    rules.reports.append(rep)
    worst = None
    for f in rep.findings:
        if f.severity == "info" or f.rule == "manifest.invalid":  # the scan reports an invalid manifest itself
            continue
        worst = (
            f.severity
            if worst is None or security.SEVERITIES.index(f.severity) > security.SEVERITIES.index(worst)
            else worst
        )
        inv.findings.append(
            Finding(
                Severity(f.severity),
                f.rule if f.rule.startswith("security.") else f"security.{f.rule}",
                f.message,
                ref.rel,
                Evidence(ref.rel, key=f.location if f.location != ref.rel else None),
                f"aitrail security rules v{security.rules()['rules_version']}",
            )
        )
    if worst is None and ref.format is None and not remote_code:
        return None  # text and other files: no code-running content to vouch for
    return worst or "none"


def _check_extension(ref: FileRef, fmt: str | None, inv: Inventory) -> None:
    suffix = Path(ref.rel).suffix.lower()
    expected = EXTENSION_FORMATS.get(suffix)
    if expected and fmt not in expected:
        what = "empty" if ref.size == 0 else f"content is {fmt}" if fmt else "content is not recognised"
        inv.findings.append(
            Finding(
                Severity.LOW if fmt is None else Severity.MEDIUM,
                "scan.format-mismatch",
                f"{ref.rel}: the name says {suffix[1:]} but the {what}",
                ref.rel,
                Evidence(ref.rel, offset=0, value=ref.head[:16].hex()),
                "format detected from magic bytes, not the file name",
            )
        )


_HEX40 = re.compile(r"^[0-9a-f]{40}$")
MAX_GIT_BLOB = 64 << 20  # the hub stores files over 10 MB in LFS (SHA-256 names): a git blob is small


def _check_git_blob(ref: FileRef, p: Path, inv: Inventory) -> None:
    """Files the hub keeps in git (cards, configs, tokenizers, code) are cached under their git blob id,
    SHA-1 of "blob <size>\\0" + content (huggingface_hub's etag for non-LFS files): an edited card must not
    pass as the downloaded one. Checked with or without --no-hash: these are the files licences read."""
    if not p.is_symlink():
        return
    blob = Path(os.readlink(p)).name
    if not _HEX40.match(blob):
        return
    if ref.size > MAX_GIT_BLOB:
        inv.findings.append(
            Finding(
                Severity.MEDIUM,
                "scan.limit-exceeded",
                f"{ref.rel}: {ref.size} bytes under a git blob name; over {MAX_GIT_BLOB} bytes its git SHA-1 is not "
                "checked, so whether it was modified after download is not known",
                ref.rel,
                Evidence(ref.rel, key="blob", value=blob),
            )
        )
        return
    got = _git_blob(p, ref.size)
    if got is not None and got != blob:
        inv.findings.append(
            Finding(
                Severity.HIGH,
                "integrity.hf-cache-blob-mismatch",
                f"{ref.rel}: content git blob SHA-1 {got} differs from its cache blob name {blob}: the file "
                "was modified after download",
                ref.rel,
                Evidence(ref.rel, key="blob", value=blob),
                "huggingface_hub cache layout (files kept in git are named by their git blob SHA-1)",
            )
        )


_DOWNLOAD_META = (".cache", "huggingface", "download")


def _check_download(unit: inputs.Unit, ref: FileRef, p: Path, sha256: str | None, inv: Inventory) -> str | None:
    """A folder filled by ``hf download --local-dir`` keeps, per file, huggingface_hub's download metadata
    (.cache/huggingface/download/<path>.metadata: commit hash, etag, timestamp). The etag is the file's LFS
    SHA-256 or its git blob SHA-1, as in the cache: a file changed after download is found the same way.
    Returns the commit the file came from."""
    local = ref.local
    if not local or local.startswith(("../", ".cache/")) or "/.cache/" in local:
        return None
    meta = unit.root.joinpath(*_DOWNLOAD_META, *f"{local}.metadata".split("/"))
    try:
        if not meta.is_file() or meta.stat().st_size > 4096:
            return None
        commit, etag = (meta.read_text("utf-8", "replace").splitlines() + ["", ""])[:2]
    except OSError:
        return None
    commit, etag = commit.strip(), etag.strip().strip('"')
    got = None
    if _HEX64.match(etag):
        got = sha256  # known only when files are hashed
    elif _HEX40.match(etag) and ref.size <= MAX_GIT_BLOB:
        got = _git_blob(p, ref.size)
    if got is not None and got != etag:
        shown = inputs.join_path(unit.prefix, "/".join((*_DOWNLOAD_META, f"{local}.metadata")))
        inv.findings.append(
            Finding(
                Severity.HIGH,
                "integrity.hf-cache-blob-mismatch",
                f"{ref.rel}: content hash {got} differs from the etag {etag} huggingface_hub recorded when it "
                f"downloaded it ({shown}): the file was modified after download",
                ref.rel,
                Evidence(shown, key="etag", value=etag),
                "huggingface_hub local-dir download metadata (etag: LFS SHA-256 or git blob SHA-1)",
            )
        )
    return commit if _HEX40.match(commit) else None


def _git_blob(p: Path, size: int) -> str | None:
    import hashlib

    h = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    try:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None  # the hashing and the catalogers report an unreadable file
    return h.hexdigest()


def _check_blob(ref: FileRef, p: Path, sha: str, inv: Inventory) -> None:
    """In a HF cache, LFS files are symlinks to blobs named by their SHA-256: they must agree."""
    if not p.is_symlink():
        return
    blob = Path(os.readlink(p)).name
    if _HEX64.match(blob) and blob != sha:
        inv.findings.append(
            Finding(
                Severity.HIGH,
                "integrity.hf-cache-blob-mismatch",
                f"{ref.rel}: content SHA-256 {sha} differs from its cache blob name {blob}: the file was modified "
                "after download",
                ref.rel,
                Evidence(ref.rel, key="blob", value=blob),
                "huggingface_hub cache layout (blobs are named by their LFS SHA-256)",
            )
        )
