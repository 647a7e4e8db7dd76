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
from .lineage import model_component, text

SPEC = "GGUF specification (ggml-org/ggml docs/gguf.md)"
# Real files hold tens of key-values and at most a few thousand tensors; far above that is a lie
# (reported as scan.gguf.absurd-count before anything is read or allocated).
MAX_KV = 65_536
MAX_TENSORS = 262_144
MAX_STRING_KEEP = 1 << 20  # general.* and chat-template strings longer than this are skipped (length kept)
MAX_OTHER_KEEP = 1 << 10  # other strings (token lists aside): only their start is ever shown
MAX_ARRAY_KEEP = 64  # longer arrays are summarised as {"array_of", "length"}, their items skipped
MAX_ARRAY_ITEMS = 4_000_000  # string-array items walked (real vocabularies and merges hold < 1M)
MAX_NAME = 200  # characters of a name quoted in a message


class Skipped:
    """A string value longer than aitrail keeps: its length, never its text."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __repr__(self) -> str:
        return f"<{self.length} bytes, not read>"


def _keep(key: str) -> int:
    return MAX_STRING_KEEP if key.startswith(("general.", "tokenizer.chat_template")) else MAX_OTHER_KEEP


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
                f"{self.rel}: {_name(what)} needs {n} bytes at offset {self.fh.tell()}, past the end of the "
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

    def string(self, what: str, keep: int = MAX_STRING_KEEP) -> str | Skipped:
        n = self.count(f"{what} length")
        self.need(n, what)
        if n > keep:
            self.fh.seek(n, 1)
            return Skipped(n)
        return self.fh.read(n).decode("utf-8", errors="replace")

    def skip_strings(self, n: int, what: str) -> None:
        """Skip ``n`` length-prefixed strings (a vocabulary), reading lengths in blocks."""
        width = 4 if self.v1 else 8
        fmt = "<I" if self.v1 else "<Q"
        pos = self.fh.tell()
        buf, base = b"", pos  # buf holds the file's bytes from offset base
        for _ in range(n):
            if pos + width > base + len(buf):
                self.fh.seek(pos)
                self.need(width, f"{what} item length")
                buf, base = self.fh.read(1 << 20), pos
            pos += width + struct.unpack_from(fmt, buf, pos - base)[0]
            if pos > self.size:
                raise CatalogError(
                    f"{self.rel}: {_name(what)}: a string runs past the end of the file ({self.size} bytes): "
                    "truncated or corrupt",
                    rule="scan.gguf.truncated",
                    offset=base,
                )
        self.fh.seek(pos)

    def value(self, vtype: int, what: str, depth: int = 0) -> Any:
        if vtype in _SCALAR:
            return self.unpack(_SCALAR[vtype], what)
        if vtype == 8:
            return self.string(what, _keep(what))
        if vtype == 9:
            if depth > 2:
                raise CatalogError(f"{self.rel}: {_name(what)}: arrays nested too deeply", rule="scan.gguf.bad-header")
            itype = self.unpack("<I", f"{what} item type")
            n = self.count(f"{what} array length")
            if itype in _SCALAR:
                size = struct.calcsize(_SCALAR[itype]) * n
                self.need(size, what)
                if n <= MAX_ARRAY_KEEP:
                    return [self.value(itype, what) for _ in range(n)]
                self.fh.seek(size, 1)
                return {"array_of": itype, "length": n}
            if itype == 8 or itype == 9:
                # each element is at least 8 bytes (its length), which bounds n by the file size
                self.need(n * (4 if self.v1 else 8), what)
                if n <= MAX_ARRAY_KEEP:
                    return [self.value(itype, what, depth + 1) for _ in range(n)]
                if n > MAX_ARRAY_ITEMS:
                    raise CatalogError(
                        f"{self.rel}: {_name(what)}: array of {n} items, more than the {MAX_ARRAY_ITEMS} aitrail "
                        "reads; the rest of the header not read",
                        rule="scan.limit-exceeded",
                        offset=self.fh.tell(),
                    )
                if itype == 8:
                    self.skip_strings(n, what)
                else:
                    for _ in range(n):
                        self.value(itype, what, depth + 1)
                return {"array_of": itype, "length": n}
            raise CatalogError(
                f"{self.rel}: {_name(what)}: unknown array item type {itype}", rule="scan.gguf.bad-header"
            )
        raise CatalogError(
            f"{self.rel}: {_name(what)}: unknown value type {vtype}", rule="scan.gguf.bad-header", offset=self.fh.tell()
        )


def _name(s: Any) -> str:
    """A key or tensor name as quoted in a message: bounded and printable."""
    return text(s, MAX_NAME)


def matches(f: FileRef) -> bool:
    return f.format == "gguf"


Tensor = tuple[str, list[int], int, int]  # name, dims, ggml type, offset in the data section
# Bytes per element of the unquantized types; quantized blocks are not sized here (offsets only).
PLAIN_SIZES = {0: 4, 1: 2, 24: 1, 25: 2, 26: 4, 27: 8, 28: 8, 30: 2}


def read_header(f: FileRef, kv_only: bool = False) -> tuple[int, dict[str, Any], list[Tensor], int]:
    """Version, key-values, tensor infos and where the header ends. ``kv_only`` stops after the
    key-values (what the security rules judge). String values too long to keep are :class:`Skipped`."""
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
                f"{f.rel}: absurd GGUF key-value count {n_kv} for a {f.size}-byte file (aitrail reads at most "
                f"{MAX_KV})",
                rule="scan.gguf.absurd-count",
                offset=16,
            )
        if n_tensors > MAX_TENSORS or n_tensors * 24 > f.size:
            raise CatalogError(
                f"{f.rel}: absurd GGUF tensor count {n_tensors} for a {f.size}-byte file (aitrail reads at most "
                f"{MAX_TENSORS})",
                rule="scan.gguf.absurd-count",
                offset=8,
            )
        kv: dict[str, Any] = {}
        for i in range(n_kv):
            key = r.string(f"key #{i}", 1 << 16)  # the specification caps keys at 65,535 bytes
            key = key if isinstance(key, str) else f"#{i}"
            vtype = r.unpack("<I", f"type of {key}")
            value = r.value(vtype, key)
            if key in kv:
                # Readers disagree on which value wins (gguf-py and current llama.cpp refuse the file, older
                # llama.cpp loaders took the first): every value is kept, each under its own name, and judged.
                key = f"{key}{DUPLICATE}{i}"
            kv[key] = value
        if kv_only:
            return version, kv, [], fh.tell()
        tensors = []
        for i in range(n_tensors):
            name = r.string(f"tensor #{i} name", 1 << 16)
            name = name if isinstance(name, str) else f"#{i}"
            nd = r.unpack("<I", f"dims of {name}")
            if nd > 8:
                raise CatalogError(
                    f"{f.rel}: tensor {_name(name)!r} claims {nd} dimensions (GGML allows 4)",
                    rule="scan.gguf.bad-header",
                    offset=fh.tell(),
                )
            dims = [r.unpack("<Q", f"dim of {name}") for _ in range(nd)]
            ttype = r.unpack("<I", f"type of {name}")
            offset = r.unpack("<Q", f"offset of {name}")
            tensors.append((name, dims, ttype, offset))
        header_end = fh.tell()
    return version, kv, tensors, header_end


DUPLICATE = " (duplicate) #"  # a repeated key's later values are kept as "<key> (duplicate) #<index>"


def _duplicates(out: Found, f: FileRef, kv: dict[str, Any]) -> None:
    for key in kv:
        if DUPLICATE not in key:
            continue
        name = key.split(DUPLICATE, 1)[0]
        template = name.startswith("tokenizer.chat_template")
        out.finding(
            Severity.HIGH if template else Severity.MEDIUM,
            "scan.gguf.duplicate-key",
            f"{f.rel}: key {_name(name)!r} appears more than once; readers disagree on which value they use "
            "(gguf-py and llama.cpp refuse the file, older llama.cpp loaders take the first)"
            + ("; every value of this chat template is judged" if template else "; the first is reported"),
            f.ev(key=_name(name)),
            SPEC,
        )


def _general(kv: dict[str, Any]) -> dict[str, Any]:
    """general.* for the inventory: at most 200 keys, strings and lists bounded."""
    out: dict[str, Any] = {}
    for k, v in kv.items():
        if not k.startswith("general.") or isinstance(v, dict):
            continue
        if len(out) >= 200:
            out["…"] = "more general.* keys not listed"
            break
        if isinstance(v, str):
            v = text(v, 500)
        elif isinstance(v, list):
            v = [text(x, 200) if isinstance(x, (str, Skipped)) else x for x in v[:16]]
        elif isinstance(v, Skipped):
            v = repr(v)
        out[text(k, 100)] = v
    return out


def _str(kv: dict[str, Any], key: str, n: int = MAX_NAME) -> str | None:
    v = kv.get(key)
    return text(v, n) if isinstance(v, str) and v.strip() else None


def catalog(f: FileRef) -> Found:
    version, kv, tensors, header_end = read_header(f)
    out = Found(file_type=ComponentType.WEIGHTS if tensors else ComponentType.TOKENIZER, format="gguf")
    _check_data_section(f, kv, tensors, header_end, out)
    params = 0
    types: Counter[str] = Counter()
    for _tensor, dims, ttype, _offset in tensors:
        n = 1
        for d in dims:
            n *= d
        params += n
        types[TENSOR_TYPES.get(ttype, str(ttype))] += 1
    out.properties.update(
        {
            "gguf_version": version,
            "tensor_count": len(tensors),
            "parameter_count": params,
            "tensor_types": dict(sorted(types.items())),
            "general": _general(kv),
            "kv_count": len(kv),
        }
    )
    if not tensors:
        out.properties["vocab_only"] = True
    ev = f.ev
    arch = _str(kv, "general.architecture", 100)
    out.fact("architecture", arch, ev(key="general.architecture", value=arch))
    out.fact("name", _str(kv, "general.name"), ev(key="general.name", value=_str(kv, "general.name")))
    out.fact("version", _str(kv, "general.version", 100), ev(key="general.version"))
    supplier = _str(kv, "general.organization") or _str(kv, "general.author")
    out.fact("supplier", supplier, ev(key="general.organization"))
    out.fact("description", _str(kv, "general.description", 2000), ev(key="general.description"))
    if tensors:
        out.fact("parameter_count", params, ev(key="tensor_info"))
    ft = kv.get("general.file_type")
    if isinstance(ft, int):
        out.properties["file_type"] = FILE_TYPES.get(ft, str(ft))
        out.fact("quantization", FILE_TYPES.get(ft, str(ft)), ev(key="general.file_type", value=ft))
    _license(out, f, kv)
    for key, tmpl in kv.items():
        if not key.startswith("tokenizer.chat_template"):
            continue
        if isinstance(tmpl, Skipped):
            out.finding(
                Severity.MEDIUM,
                "scan.limit-exceeded",
                f"{f.rel}: chat template {_name(key)} is {tmpl.length} bytes, more than the {MAX_STRING_KEEP} "
                "aitrail reads: not read",
                ev(key=_name(key)),
            )
        elif key == "tokenizer.chat_template" and isinstance(tmpl, str):
            digest = hashlib.sha256(tmpl.encode()).hexdigest()
            out.properties["chat_template_sha256"] = digest
            out.fact("chat_template_sha256", digest, ev(key="tokenizer.chat_template"))
    tok = _str(kv, "tokenizer.ggml.model", 100)
    if tok:
        out.properties["tokenizer_model"] = tok
        toks = kv.get("tokenizer.ggml.tokens")
        if isinstance(toks, dict):
            out.properties["vocab_size"] = toks["length"]
        elif isinstance(toks, list):
            out.properties["vocab_size"] = len(toks)
    _lineage(out, f, kv)
    _duplicates(out, f, kv)
    return out


def _license(out: Found, f: FileRef, kv: dict[str, Any]) -> None:
    lic = kv.get("general.license")
    if not (isinstance(lic, str) and lic.strip()):
        return
    value = lic.strip()
    if len(value) > 200 or "\n" in value:
        # A whole licence text pasted into the field: identified from its text (bounded there).
        from ..analyze.license_text import identify_text

        ident = identify_text(value, f"{f.rel} [general.license]")
        first = text(next((ln.strip() for ln in value.splitlines() if ln.strip()), ""), 120)
        for m in ident.licenses if ident.known else []:
            out.licenses.append(DeclaredLicense(m.license_id, f.ev(key="general.license", value=first)))
        if not ident.known:
            out.properties["license_text_unidentified"] = text(ident.to_dict().get("message") or first, 300)
        return
    # gguf-py writes a card's list of licences joined by commas ("mit,apache-2.0"); a name with a comma
    # ("Apache License, Version 2.0") has spaces in its parts and stays whole
    parts = [p.strip() for p in value.split(",")]
    ids = parts if len(parts) > 1 and all(p and " " not in p for p in parts) else [value]
    for one in ids:
        out.licenses.append(
            DeclaredLicense(
                text(one),
                f.ev(key="general.license", value=text(value)),
                name=_str(kv, "general.license.name"),
                link=_str(kv, "general.license.link", 500),
            )
        )


def _lineage(out: Found, f: FileRef, kv: dict[str, Any]) -> None:
    """general.base_model.{i}.* (GGUF naming convention).

    They are the parents of the model named by general.name, as gguf-py's converter writes them: the
    ``base_model`` of the card of the model being converted (gguf-py ``Metadata.load``). A quantized
    GGUF of Qwen2.5-0.5B-Instruct names Qwen2.5-0.5B: Instruct is a fine-tune of it, this file a
    quantization of Instruct. So the file says *that* the model derives from these bases, not *how*
    (the kind is the base card's business): unknown. A base that is the model itself is no base."""
    n_base = kv.get("general.base_model.count")
    ev = f.ev
    own = {_norm_name(_str(kv, "general.name", 200)), _norm_name(_repo_from_url(kv.get("general.source.repo_url")))}
    for i in range(n_base if isinstance(n_base, int) and 0 < n_base < 100 else 0):
        p = f"general.base_model.{i}."
        org, name = _str(kv, p + "organization", 100), _str(kv, p + "name", 100)
        repo = _str(kv, p + "repo_url", 500)
        ident = _repo_from_url(repo) or (f"{org}/{name}" if org and name else name)
        if not ident or ({_norm_name(ident), _norm_name(name)} & own) - {""}:
            continue
        base = model_component(text(ident), ev(key=p + "name", value=ident))
        if repo:
            base.properties["url"] = repo
        out.components.append(base)
        out.relationships.append(
            Relationship(
                MODEL, base.id, RelationshipKind.DERIVED_FROM, Derivation.UNKNOWN, [ev(key=p + "name", value=ident)]
            )
        )


def _norm_name(name: str | None) -> str:
    """A model name as gguf-py may retitle it ("Qwen/Qwen2.5-0.5B", "Qwen2.5 0.5B"): the last part,
    lower case, without separators."""
    if not name:
        return ""
    return "".join(ch for ch in name.rsplit("/", 1)[-1].lower() if ch.isalnum())


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
                f"{f.rel}: tensor {_name(name)!r} lies at data offset {offset}..{end}, beyond the end of the file "
                f"({room} bytes of tensor data): truncated or corrupt",
                f.ev(key=_name(name), offset=data_start + offset),
                SPEC,
            )
            return  # one is enough to say the file is truncated


def _repo_from_url(url: Any) -> str | None:
    if isinstance(url, str) and "huggingface.co/" in url:
        parts = url.split("huggingface.co/", 1)[1].strip("/").split("/")
        if len(parts) >= 2:
            return f"{parts[0]}/{parts[1]}"
    return None
