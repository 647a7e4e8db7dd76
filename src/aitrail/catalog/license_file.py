"""LICENSE / LICENCE / COPYING / NOTICE files.

The scanner records each licence file with its digest and, when one of a few unmistakable
markers is present, the licence it names; full identification against a knowledge base of
licence texts (AI licences included) is the job of ``aitrail license``.
"""

from __future__ import annotations

import hashlib
import re

from ..model import ComponentType, DeclaredLicense
from .base import FileRef, Found

PREFIXES = ("license", "licence", "copying", "notice", "use_policy", "acceptable_use_policy")
# (regex over normalised text, SPDX id or LicenseRef) — title lines that name exactly one licence.
MARKERS = [
    (r"permission is hereby granted, free of charge, to any person obtaining a copy", "MIT"),
    (r"apache license,? version 2\.0", "Apache-2.0"),
    (r"gnu general public license version 3", "GPL-3.0"),
    (r"gnu lesser general public license version 3", "LGPL-3.0"),
    (r"mozilla public license,? version 2\.0", "MPL-2.0"),
    (r"redistribution and use in source and binary forms.*neither the name", "BSD-3-Clause"),
    (r"creative commons attribution 4\.0 international", "CC-BY-4.0"),
    (r"llama 2 community license agreement", "LicenseRef-llama2"),
    (r"meta llama 3 community license agreement", "LicenseRef-llama3"),
    (r"gemma terms of use", "LicenseRef-gemma"),
]


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    return name.startswith(PREFIXES) and f.size < (4 << 20)


def catalog(f: FileRef) -> Found:
    text = f.read_text()
    out = Found(file_type=ComponentType.LICENSE, format="text")
    norm = re.sub(r"\s+", " ", text.lower())
    out.properties["text_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    out.properties["first_line"] = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:200]
    name = f.rel.rsplit("/", 1)[-1].lower()
    if name.startswith(("license", "licence", "copying")):
        for pattern, ident in MARKERS:
            if re.search(pattern, norm[:20000]):
                out.properties["identified"] = ident
                out.licenses.append(
                    DeclaredLicense(
                        ident,
                        f.ev(key="text", value=out.properties["first_line"]),
                        spdx=None if ident.startswith("LicenseRef-") else ident,
                    )
                )
                break
    return out
