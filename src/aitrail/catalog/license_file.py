"""LICENSE / LICENCE / COPYING / NOTICE files and use policies.

Each file is recorded with its digest and identified from its text against the licence knowledge
base (see ``analyze/license_text.py``): known licences become declarations of the model; an
unknown text says which licence it is closest to.
"""

from __future__ import annotations

import hashlib

from ..analyze.license_text import identify_text
from ..model import ComponentType, DeclaredLicense
from .base import FileRef, Found

PREFIXES = ("license", "licence", "copying", "notice", "use_policy", "acceptable_use_policy")


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    return name.startswith(PREFIXES) and f.size < (4 << 20)


def catalog(f: FileRef) -> Found:
    text = f.read_text()
    out = Found(file_type=ComponentType.LICENSE, format="text")
    out.properties["text_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    out.properties["first_line"] = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:200]
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
