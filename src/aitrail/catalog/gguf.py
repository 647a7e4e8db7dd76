"""GGUF: header key-values (general.*, tokenizer chat template) and the tensor-info table.

Read by hand, streaming, with every count and length checked against the file size before
anything is allocated: ``gguf.GGUFReader`` maps the whole file and trusts the counts in the
header, so a hostile file with absurd counts makes it loop or allocate without bound.
Large arrays (token lists) are skipped, not read.
"""

from __future__ import annotations

import hashlib
import struct
from collections import Counter
from typing import Any, BinaryIO

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, CatalogError, FileRef, Found
from .lineage import model_component

SPEC = "GGUF specification (ggml-org/ggml docs/gguf.md)"
MAX_KV = 1_000_000
MAX_TENSORS = 10_000_000
MAX_STRING_KEEP = 1 << 20  # strings longer than this are skipped, with their length recorded

# llama_ftype (general.file_type) -> name, from llama.cpp
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
}
# ggml_type -> name
TENSOR_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    6: "Q5_0",
    7: "Q5_1",
    8: "Q8_0",
    9: "Q8_1",
    10: "Q2_K",
    11: "Q3_K",
    12: "Q4_K",
    13: "Q5_K",
    14: "Q6_K",
    15: "Q8_K",
    16: "IQ2_XXS",
    17: "IQ2_XS",
    18: "IQ3_XXS",
    19: "IQ1_S",
    20: "IQ4_NL",
    21: "IQ3_S",
    22: "IQ2_S",
    23: "IQ4_XS",
    24: "I8",
    25: "I16",
    26: "I32",
    27: "I64",
    28: "F64",
    29: "IQ1_M",
    30: "BF16",
    34: "TQ1_0",
    35: "TQ2_0",
    39: "MXFP4",
}
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, rel: str, v1: bool) -> None:
        self.fh, self.size, self.rel, self.v1 = fh, size, rel, v1

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.fh.tell() + n > self.size:
            raise CatalogError(
                f"{self.rel}: {what} needs {n} bytes at offset {self.fh.tell()}, past the end of the "
                f"file ({self.size} bytes): truncated or corrupt",
                rule="scan.gguf.truncated",
                offset=self.fh.tell(),
            )

    def unpack(self, fmt: str, what: str) -> Any:
        n = struct.calcsize(fmt)
        self.need(n, what)
        return struct.unpack(fmt, self.fh.read(n))[0]

    def count(self, what: str) -> int:
        return self.unpack("<I" if self.v1 else "<Q", what)

    def string(self, what: str) -> str | None:
        n = self.count(f"{what} length")
        self.need(n, what)
        if n > MAX_STRING_KEEP:
            self.fh.seek(n, 1)
            return None
        return self.fh.read(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, what: str, depth: int = 0) -> Any:
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype], what)
        if vtype == 8:
            return self.string(what)
        if vtype == 9:
            if depth > 2:
                raise CatalogError(f"{self.rel}: {what}: arrays nested too deeply", rule="scan.gguf.bad-header")
            itype = self.unpack("<I", f"{what} item type")
            n = self.count(f"{what} array length")
            if itype in _SCALAR:
                size = struct.calcsize(_SCALAR[itype]) * n
                self.need(size, what)
                if n <= 64:
                    return [self.value(itype, what) for _ in range(n)]
                self.fh.seek(size, 1)
                return {"array_of": itype, "length": n}
            if itype == 8 or itype == 9:
                # each element is at least 8 bytes (its length), which bounds n by the file size
                self.need(n * (4 if self.v1 else 8), what)
                items = [self.value(itype, what, depth + 1) for _ in range(n)]
                return items if n <= 64 else {"array_of": itype, "length": n}
            raise CatalogError(f"{self.rel}: {what}: unknown array item type {itype}", rule="scan.gguf.bad-header")
        raise CatalogError(
            f"{self.rel}: {what}: unknown value type {vtype}", rule="scan.gguf.bad-header", offset=self.fh.tell()
        )


def matches(f: FileRef) -> bool:
    return f.format == "gguf"


Tensor = tuple[str, list[int], int, int]  # name, dims, ggml type, offset in the data section
# Bytes per element of the unquantized types; quantized blocks are not sized here (offsets only).
PLAIN_SIZES = {0: 4, 1: 2, 24: 1, 25: 2, 26: 4, 27: 8, 28: 8, 30: 2}


def read_header(f: FileRef) -> tuple[int, dict[str, Any], list[Tensor], int]:
    with open(f.path, "rb") as fh:
        fh.seek(4)
        r = _Reader(fh, f.size, f.rel, v1=False)
        version = r.unpack("<I", "version")
        if version not in (1, 2, 3):
            raise CatalogError(f"{f.rel}: unsupported GGUF version {version}", rule="scan.gguf.bad-header", offset=4)
        r.v1 = version == 1
        n_tensors = r.count("tensor count")
        n_kv = r.count("key-value count")
        # Every key-value takes at least 8+4 bytes and every tensor info 8+4+4+8: counts above
        # what the file could hold are lies, caught before we loop on them.
        if n_kv > MAX_KV or n_kv * 12 > f.size:
            raise CatalogError(
                f"{f.rel}: absurd GGUF key-value count {n_kv} for a {f.size}-byte file",
                rule="scan.gguf.absurd-count",
                offset=16,
            )
        if n_tensors > MAX_TENSORS or n_tensors * 24 > f.size:
            raise CatalogError(
                f"{f.rel}: absurd GGUF tensor count {n_tensors} for a {f.size}-byte file",
                rule="scan.gguf.absurd-count",
                offset=8,
            )
        kv: dict[str, Any] = {}
        for i in range(n_kv):
            key = r.string(f"key #{i}") or f"#{i}"
            vtype = r.unpack("<I", f"type of {key}")
            kv[key] = r.value(vtype, key)
        tensors = []
        for i in range(n_tensors):
            name = r.string(f"tensor #{i} name") or f"#{i}"
            nd = r.unpack("<I", f"dims of {name}")
            if nd > 8:
                raise CatalogError(
                    f"{f.rel}: tensor {name!r} claims {nd} dimensions (GGML allows 4)",
                    rule="scan.gguf.bad-header",
                    offset=fh.tell(),
                )
            dims = [r.unpack("<Q", f"dim of {name}") for _ in range(nd)]
            ttype = r.unpack("<I", f"type of {name}")
            offset = r.unpack("<Q", f"offset of {name}")
            tensors.append((name, dims, ttype, offset))
        header_end = fh.tell()
    return version, kv, tensors, header_end


def catalog(f: FileRef) -> Found:
    version, kv, tensors, header_end = read_header(f)
    out = Found(file_type=ComponentType.WEIGHTS if tensors else ComponentType.TOKENIZER, format="gguf")
    _check_data_section(f, kv, tensors, header_end, out)
    params = 0
    types: Counter[str] = Counter()
    for _name, dims, ttype, _offset in tensors:
        n = 1
        for d in dims:
            n *= d
        params += n
        types[TENSOR_TYPES.get(ttype, str(ttype))] += 1
    general = {k: v for k, v in kv.items() if k.startswith("general.") and not isinstance(v, dict)}
    out.properties.update(
        {
            "gguf_version": version,
            "tensor_count": len(tensors),
            "parameter_count": params,
            "tensor_types": dict(sorted(types.items())),
            "general": general,
            "kv_count": len(kv),
        }
    )
    if not tensors:
        out.properties["vocab_only"] = True
    arch = kv.get("general.architecture")
    ev = f.ev
    out.fact("architecture", arch, ev(key="general.architecture", value=arch))
    out.fact("name", kv.get("general.name"), ev(key="general.name", value=kv.get("general.name")))
    out.fact("version", kv.get("general.version"), ev(key="general.version"))
    out.fact("supplier", kv.get("general.organization") or kv.get("general.author"), ev(key="general.organization"))
    out.fact("description", kv.get("general.description"), ev(key="general.description"))
    if tensors:
        out.fact("parameter_count", params, ev(key="tensor_info"))
    ft = kv.get("general.file_type")
    if isinstance(ft, int):
        out.properties["file_type"] = FILE_TYPES.get(ft, str(ft))
        out.fact("quantization", FILE_TYPES.get(ft, str(ft)), ev(key="general.file_type", value=ft))
    lic = kv.get("general.license")
    if isinstance(lic, str) and lic.strip():
        out.licenses.append(
            DeclaredLicense(
                lic.strip(),
                ev(key="general.license", value=lic),
                name=kv.get("general.license.name"),
                link=kv.get("general.license.link"),
            )
        )
    tmpl = kv.get("tokenizer.chat_template")
    if isinstance(tmpl, str):
        digest = hashlib.sha256(tmpl.encode()).hexdigest()
        out.properties["chat_template_sha256"] = digest
        out.fact("chat_template_sha256", digest, ev(key="tokenizer.chat_template"))
    tok = kv.get("tokenizer.ggml.model")
    if tok:
        out.properties["tokenizer_model"] = tok
        toks = kv.get("tokenizer.ggml.tokens")
        if isinstance(toks, dict):
            out.properties["vocab_size"] = toks["length"]
        elif isinstance(toks, list):
            out.properties["vocab_size"] = len(toks)
    # Lineage: general.base_model.{i}.* (GGUF naming convention).
    n_base = kv.get("general.base_model.count")
    quantized = isinstance(ft, int) and ft not in (0, 1, 32)
    for i in range(n_base if isinstance(n_base, int) and 0 < n_base < 100 else 0):
        p = f"general.base_model.{i}."
        org, name = kv.get(p + "organization"), kv.get(p + "name")
        repo = kv.get(p + "repo_url")
        ident = _repo_from_url(repo) or (f"{org}/{name}" if org and name else name)
        if not ident:
            continue
        base = model_component(str(ident), ev(key=p + "name", value=ident))
        if repo:
            base.properties["url"] = repo
        out.components.append(base)
        out.relationships.append(
            Relationship(
                MODEL,
                base.id,
                RelationshipKind.DERIVED_FROM,
                Derivation.QUANTIZATION if quantized else Derivation.UNKNOWN,
                [ev(key=p + "name", value=ident)],
            )
        )
    return out


def _check_data_section(f: FileRef, kv: dict[str, Any], tensors: list[Tensor], header_end: int, out: Found) -> None:
    """Every tensor must start (and, for plain types, end) inside the file: else it is truncated."""
    align = kv.get("general.alignment", 32)
    align = align if isinstance(align, int) and 0 < align <= 1 << 20 else 32
    data_start = -(-header_end // align) * align
    room = f.size - data_start
    for name, dims, ttype, offset in tensors:
        n = 1
        for d in dims:
            n *= d
        end = offset + n * PLAIN_SIZES[ttype] if ttype in PLAIN_SIZES else offset + 1
        if end > room:
            out.finding(
                Severity.HIGH,
                "scan.gguf.tensor-out-of-range",
                f"{f.rel}: tensor {name!r} lies at data offset {offset}..{end}, beyond the end of the file "
                f"({room} bytes of tensor data): truncated or corrupt",
                f.ev(key=name, offset=data_start + offset),
                SPEC,
            )
            return  # one is enough to say the file is truncated


def _repo_from_url(url: Any) -> str | None:
    if isinstance(url, str) and "huggingface.co/" in url:
        parts = url.split("huggingface.co/", 1)[1].strip("/").split("/")
        if len(parts) >= 2:
            return f"{parts[0]}/{parts[1]}"
    return None
