"""LICENSE / LICENCE / COPYING / NOTICE files and use policies.

Each file is recorded with its digest and identified from its text against the licence knowledge
base (see ``analyze/license_text.py``): known licences become declarations of the model; an
unknown text says which licence it is closest to.
"""

from __future__ import annotations

import hashlib
import re

from ..analyze.license_text import MAX_TEXT, decode_license, identify_text
from ..model import ComponentType, DeclaredLicense, Severity
from .base import CatalogError, FileRef, Found
from .lineage import text as bounded

TEXT_SUFFIXES = {"", "txt", "md", "rst", "markdown", "text"}
PREFIXES = ("license", "licence", "copying", "notice", "use_policy", "acceptable_use_policy")


# A licence word as a token anywhere in a text file's name: MODEL_LICENSE (THUDM's ChatGLM repos keep the
# code's Apache-2.0 in LICENSE and the weights' licence there), LICENSE-MODEL, llama2_license.txt,
# weights.license, terms_of_use.md.
_PREFIXED = re.compile(r"^(?:%s)s?(?![a-z])" % "|".join(PREFIXES))
_WORDS = {"license", "licence", "licenses", "licences", "eula"}
_PHRASES = ("terms_of_use", "terms-of-use", "termsofuse", "use_policy", "use-policy", "acceptable_use")


def _named_like_licence(name: str) -> bool:
    stem, _, suffix = name.rpartition(".") if "." in name else (name, "", "")
    if suffix in _WORDS:  # weights.license
        return True
    if suffix not in TEXT_SUFFIXES:
        return False
    return bool(_WORDS & set(re.split(r"[-_. ]+", stem))) or any(p in stem for p in _PHRASES)


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    if f.format is not None:  # "license_plate.onnx" is a model
        return False
    if not _PREFIXED.match(name):  # "licensed_tool.py" is no licence
        return _named_like_licence(name) and f.size < (4 << 20)
    # LICENSE, LICENSE.md, COPYING.txt of any size (read from the start, up to a limit); other
    # suffixes (LICENSE.APACHE2, NOTICE.lib) only when small enough to be a text.
    return name.rsplit("/", 1)[-1].partition(".")[2] in TEXT_SUFFIXES or f.size < (4 << 20)


def catalog(f: FileRef) -> Found:
    with open(f.path, "rb") as fh:
        raw = fh.read(MAX_TEXT)  # a licence is read from its start, whatever the file's size
    text = decode_license(raw)
    if text is None:
        raise CatalogError(
            f"{f.rel}: expected a licence text, found binary content (NUL bytes)", "scan.binary-text-file"
        )
    out = Found(file_type=ComponentType.LICENSE, format="text")
    if f.size > MAX_TEXT:
        out.finding(
            Severity.MEDIUM,
            "scan.limit-exceeded",
            f"{f.rel}: {f.size} bytes; the licence was identified from its first {MAX_TEXT} bytes only (terms "
            "further on were not read)",
            f.ev(),
        )
    else:
        out.properties["text_sha256"] = hashlib.sha256(raw).hexdigest()
    out.properties["first_line"] = bounded(next((ln.strip() for ln in text.splitlines() if ln.strip()), ""))
    ident = identify_text(text, f.rel)
    result = ident.to_dict()
    out.properties["identification"] = {
        k: result[k] for k in ("known", "id", "confidence", "licenses", "closest") if k in result
    }
    if ident.known:
        ids = [m.license_id for m in ident.licenses]
        out.properties["identified"] = ids[0] if len(ids) == 1 else ids
        for lid in ids:
            out.licenses.append(DeclaredLicense(lid, f.ev(key="text", value=out.properties["first_line"])))
    return out
