"""A wheel's ``*.dist-info``: the installed Python package that carries a model."""

from __future__ import annotations

import email.parser

from ..analyze.license_text import identify_text
from ..model import Component, ComponentType, DeclaredLicense, Severity
from .base import FileRef, Found
from .lineage import text

MAX_HEADERS = 1 << 20  # characters of headers read (a whole licence text in License: ~30 KB)
LONG_TEXT = 200  # longer than any licence name or expression: a pasted licence text


def matches(f: FileRef) -> bool:
    parts = f.rel.split("/")
    return len(parts) >= 2 and parts[-2].endswith(".dist-info") and parts[-1] == "METADATA"


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.CONFIG, format="python-metadata")
    # Only the headers are read (the body is the package's long description); the email parser
    # would still split a body into lines, so it is cut off first, and the headers are bounded.
    headers = f.read_text(8 << 20).replace("\r\n", "\n").partition("\n\n")[0]
    if len(headers) > MAX_HEADERS:
        cut = headers.rfind("\n", 0, MAX_HEADERS)
        headers = headers[: cut if cut > 0 else MAX_HEADERS]
        out.finding(
            Severity.LOW,
            "scan.limit-exceeded",
            f"{f.rel}: metadata headers longer than {MAX_HEADERS} characters; the rest not read",
            f.ev(),
        )
    msg = email.parser.Parser().parsestr(headers, headersonly=True)
    name, version = msg.get("Name"), msg.get("Version")
    if not isinstance(name, str) or not name.strip():
        return out
    name = text(name.strip(), 100)
    version = text(version.strip(), 60) if isinstance(version, str) and version.strip() else None
    norm = name.replace("_", "-").replace(".", "-").replace(" ", "-").lower()
    pkg = Component(
        id=f"library:pypi:{norm}",
        type=ComponentType.LIBRARY,
        name=norm,
        version=version,
        purl=f"pkg:pypi/{norm}" + (f"@{version}" if version else ""),
        evidence=[f.ev(key="Name")],
    )
    pkg.properties["role"] = "carrier"  # the package that ships the model
    for k, key in (
        ("summary", "Summary"),
        ("home_page", "Home-page"),
        ("author", "Author"),
        ("author_email", "Author-email"),
    ):
        if msg.get(key):
            pkg.properties[k] = text(str(msg.get(key)), 500)
    lic = msg.get("License-Expression") or msg.get("License")
    if lic and lic.strip().upper() == "UNKNOWN" and not msg.get("License-Expression"):
        # setuptools < 69 wrote "License: UNKNOWN" when the author gave none: a placeholder, not a
        # licence (the classifiers and licence files still speak; without them the verdict is unknown)
        lic = None
    if lic and lic.strip():
        key = "License-Expression" if msg.get("License-Expression") else "License"
        value = lic.strip()
        if key == "License" and (len(value) > LONG_TEXT or "\n" in value):
            # Many packages paste the whole licence text into the License field: identify it.
            ident = identify_text(value, f"{f.rel} [License]")
            first = text(next((ln.strip() for ln in value.splitlines() if ln.strip()), ""), 120)
            if ident.known:
                for m in ident.licenses:
                    pkg.licenses.append(DeclaredLicense(m.license_id, f.ev(key=key, value=first)))
            else:
                pkg.properties["license_text_unidentified"] = text(ident.to_dict().get("message") or first, 300)
        else:
            pkg.licenses.append(DeclaredLicense(text(value), f.ev(key=key, value=lic)))
    classifiers = [text(str(c)) for c in msg.get_all("Classifier") or [] if str(c).startswith("License ::")]
    if classifiers:
        pkg.properties["license_classifiers"] = classifiers[:50]
    reqs = [text(str(r)) for r in (msg.get_all("Requires-Dist") or [])[:500]]
    if reqs:
        pkg.properties["requires_dist"] = reqs
    out.components.append(pkg)
    out.properties["package"] = f"{norm}=={version}"
    return out
