"""Judge a pickle by what loading it would do with each global: called, rebuilt or only referenced.

The rules are data (``knowledge/security.yaml``, section ``pickle``); the symbolic walk
(``catalog/pickles.py``) records how each global is used (``CallRecord``) and what no allowlist can
vouch for (``notes``). Order of judgement for one global (docs/security-rules.md):

1. an attribute walk to a dunder that no data needs (``__subclasses__``, ``__globals__``...): critical;
2. a known dangerous global (``dangerous``, each group with its reason): critical, unless a framework
   lists the name more specifically (``torch.serialization._get_layout`` beats ``torch.serialization.*``);
3. a framework's global: classes rebuild data, listed (or restorer-named) functions may be called,
   anything may be referenced; an unlisted function called: high;
4. the standard library outside the listed data classes: high (gadgets live there);
5. other code (``__main__``, a user's package): called -> high; rebuilt or referenced -> medium (that
   code must be installed to load the file: review it).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ...catalog import pickles
from .report import rules

STRENGTH = {pickles.CALLED: 3, pickles.RECONSTRUCTED: 2, pickles.REFERENCED: 1}
RESOLVED = pickles.RESOLVED
VERB = {pickles.CALLED: "calls", pickles.RECONSTRUCTED: "rebuilds an instance of", pickles.REFERENCED: "imports"}


class Patterns:
    """Names and fnmatch-style patterns ("*" crosses dots); ``match`` gives how specific the best match
    is (exact: a large number; a pattern: the length of its literal prefix), or -1."""

    EXACT = 10_000

    def __init__(self, items: list[str]) -> None:
        self.exact = {p for p in items if "*" not in p and "?" not in p and "[" not in p}
        self.patterns = [
            (p.split("*", 1)[0], re.compile(re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") + r"\Z"))
            for p in items
            if p not in self.exact
        ]

    def match(self, name: str) -> int:
        if name in self.exact:
            return self.EXACT
        best = -1
        for prefix, rx in self.patterns:
            if len(prefix) > best and name.startswith(prefix) and rx.match(name):
                best = len(prefix)
        return best


@dataclass(frozen=True)
class Framework:
    name: str
    modules: tuple[str, ...]
    strict: bool
    classes: Patterns
    calls: Patterns


@dataclass(frozen=True)
class Verdict:
    severity: str
    rule: str
    message: str  # the part after "<what> ": e.g. "calls posix.system, which runs shell commands"
    how: str
    framework: str | None
    why: str


class Judge:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.dangerous = [(g["why"], Patterns(g["match"])) for g in doc["dangerous"]]
        self.escape = frozenset(doc["dunder_escape"])
        self.dunder_state = frozenset(doc["dunder_state"])
        self.passes = {k: {i: h for i, h in enumerate(v) if h} for k, v in doc["passes"].items()}
        self.callable_results = frozenset(doc["callable_results"])
        self.loads_payload = frozenset(doc["loads_payload"])
        self.restorers = Patterns(doc["restorers"])
        self.frameworks = [
            Framework(
                name,
                tuple(fw["modules"]),
                bool(fw.get("strict")),
                Patterns(fw.get("classes", [])),
                Patterns(fw.get("calls", [])),
            )
            for name, fw in doc["frameworks"].items()
        ]
        self.by_module: dict[str, Framework] = {m: fw for fw in self.frameworks for m in fw.modules}
        self.user_severity = doc.get("user_class_severity", "medium")
        self.reexported = frozenset(doc["reexported_modules"])

    def framework_of(self, dotted: str) -> Framework | None:
        # modules listed are top-level packages, or (python) top-level stdlib modules
        return self.by_module.get(dotted.split(".", 1)[0])

    def hows(self, summary: pickles.PickleSummary) -> dict[str, set[str]]:
        """Every global with the uses the pickle makes of it (directly, or through a callable that
        passes it on: copyreg._reconstructor rebuilds its first argument, functools.partial calls it)."""
        out: dict[str, set[str]] = {g: set() for g in summary.globals}
        for func, how, arg_globals in summary.uses:
            if func in self.loads_payload and (0, pickles.WALKED_ARG) in arg_globals:
                how = RESOLVED  # it unpickles a payload the walk read whole: judged as a nested pickle
            out.setdefault(func, set()).add(how)
            passing = self.passes.get(func)
            if passing:
                for idx, g in arg_globals:
                    if idx in passing:
                        out.setdefault(g, set()).add(passing[idx])
        return out

    def verdict(self, g: str, uses: set[str], unknown: str) -> Verdict | None:
        """The worst of what ``g`` is as written, as the loader resolves it (Python 2 names, which
        protocol 0-2 loads map: ``__builtin__``, ``commands``), and as a re-exported module's attribute
        (``pathlib.os.system`` is ``os.system``)."""
        if uses == {RESOLVED}:
            return None  # getattr(G, "n"), followed: G.n is judged in its own right
        how = max((u for u in uses if u in STRENGTH), key=STRENGTH.__getitem__, default=pickles.REFERENCED)
        best = self._verdict(g, how, unknown)
        alias = loaded_as(g)
        if alias is not None:
            # Python 2 modules do not exist in Python 3: the loader imports the alias, so the alias is
            # judged instead (unless the name as written is itself known dangerous)
            v = self._verdict(alias, how, unknown)
            if best is None or best.severity != "critical" or (v is not None and _worse(v, best)):
                best = _renamed(v, alias, g)
        segs = g.split(".")
        for i in range(1, len(segs) - 1):
            if segs[i] in self.reexported:
                v = self._verdict(".".join(segs[i:]), how, unknown)
                if v is not None and v.severity == "critical":  # its reason is the one that matters
                    best = _renamed(v, ".".join(segs[i:]), g)
        return best

    def _verdict(self, g: str, how: str, unknown: str) -> Verdict | None:
        verb = VERB[how]
        fw = self.framework_of(g)
        fwname = fw.name if fw else None
        for seg in g.split(".")[1:]:
            if seg in self.escape:
                why = f"reaches {seg}, an attribute walk that escapes to arbitrary code"
                return Verdict("critical", "pickle.dangerous-global", f"{verb} {g}, which {why}", how, fwname, why)
        allowed = -1
        if fw is not None:
            allowed = max(fw.classes.match(g), fw.calls.match(g))
        for why, pats in self.dangerous:
            spec = pats.match(g)
            if spec >= 0 and not allowed > spec:
                return Verdict("critical", "pickle.dangerous-global", f"{verb} {g}, which {why}", how, fwname, why)
        if fw is None:
            top = g.split(".", 1)[0]
            if top in sys.stdlib_module_names:
                why = "a standard-library global on no allowlist: aitrail cannot vouch for what it does"
                return Verdict(unknown, "pickle.unknown-global", f"{verb} {g}, {why}", how, "python", why)
            if how == pickles.CALLED:
                why = "code aitrail does not know: loading the file runs it with the pickle's arguments"
                return Verdict(unknown, "pickle.unknown-global", f"{verb} {g}, {why}", how, None, why)
            why = "code that must be installed to load the file: review that code before loading it"
            return Verdict(self.user_severity, "pickle.user-class", f"{verb} {g}, {why}", how, None, why)
        listed_class = fw.classes.match(g) >= 0
        listed_call = fw.calls.match(g) >= 0 or (not fw.strict and self.restorers.match(g) >= 0)
        class_shaped = listed_class or (not fw.strict and _camel(g.rsplit(".", 1)[-1]))
        if how == pickles.CALLED and (listed_call or class_shaped):
            return None
        if how == pickles.RECONSTRUCTED and (class_shaped or listed_call):
            return None
        if how == pickles.REFERENCED and (not fw.strict or listed_class or listed_call):
            return None
        if fw.strict:
            why = f"a {fw.name} global on no allowlist: aitrail cannot vouch for what it does"
        else:
            why = f"a {fw.name} function not known to only rebuild data"
        return Verdict(unknown, "pickle.unknown-global", f"{verb} {g}, {why}", how, fw.name, why)

    def note_verdicts(self, summary: pickles.PickleSummary) -> list[Verdict]:
        out = []
        for kind, detail in summary.notes:
            if kind == "indirect-call" and detail not in self.callable_results:
                why = "what runs depends on what that call returned, which aitrail cannot know"
                out.append(Verdict("high", "pickle.indirect-call", f"calls the result of {detail}(...): {why}",
                                   pickles.CALLED, None, why))
            elif kind == "build-on-global":
                why = "it sets attributes of a module-level object, changing code everything else runs"
                out.append(Verdict("critical", "pickle.build-on-global", f"applies BUILD to {detail} itself: {why}",
                                   pickles.REFERENCED, None, why))
            elif kind == "dunder-state" and detail in self.dunder_state:
                why = "the next BUILD or use of the object runs what was stored there"
                out.append(Verdict("critical", "pickle.dunder-state", f"sets {detail} on an object in its state: {why}",
                                   pickles.REFERENCED, None, why))
            elif kind == "frame-straddle":
                why = "loaders read what follows differently (judged as pickle.loads reads it)"
                out.append(Verdict("high", "pickle.frame-straddle", f"has an opcode that {detail.split(', ', 1)[-1]}",
                                   pickles.REFERENCED, None, why))
            elif kind == "sibling-outside":
                why = ("joblib reads that file with np.load(allow_pickle=True), "  # safe: message text, nothing loaded
                       "and it is not among the files judged")
                out.append(Verdict("high", "pickle.sibling-outside", f"names the array file {detail} outside its "
                                   f"folder: {why}", pickles.REFERENCED, None, why))
            elif kind == "nested-not-walked":
                why = "a pickle inside a bytes value that was not walked: what it would run is not judged"
                out.append(Verdict("high", "pickle.nested-not-walked", f"holds {why} ({detail})",
                                   pickles.REFERENCED, None, why))
        return out

    def judge(self, summary: pickles.PickleSummary, unknown: str) -> list[tuple[str, Verdict]]:
        """(global or "", verdict) for everything in the pickle that is not plain data rebuilding."""
        out: list[tuple[str, Verdict]] = []
        for g, uses in sorted(self.hows(summary).items()):
            v = self.verdict(g, uses, unknown)
            if v is not None:
                out.append((g, v))
        out.extend(("", v) for v in self.note_verdicts(summary))
        return out


def loaded_as(g: str) -> str | None:
    """The name a protocol 0-2 load resolves ``g`` to (the C unpickler's fix_imports, from the standard
    library's own table), or None when it is unchanged."""
    import _compat_pickle

    segs = g.split(".")
    for i in range(1, len(segs)):
        mod, name = ".".join(segs[:i]), ".".join(segs[i:])
        if (mod, name) in _compat_pickle.NAME_MAPPING:
            m, n = _compat_pickle.NAME_MAPPING[(mod, name)]
            return f"{m}.{n}"
        if mod in _compat_pickle.IMPORT_MAPPING:
            return f"{_compat_pickle.IMPORT_MAPPING[mod]}.{name}"
    return None


_ORDER = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def _worse(v: Verdict, than: Verdict | None) -> bool:
    return than is None or _ORDER.get(v.severity, 3) > _ORDER.get(than.severity, 3)


def _renamed(v: Verdict | None, alias: str, g: str) -> Verdict | None:
    if v is None:
        return None
    message = v.message.replace(alias, f"{g} (that is, {alias})", 1)
    return Verdict(v.severity, v.rule, message, v.how, v.framework, v.why)


def _camel(name: str) -> bool:
    """Shaped like a class name (Linear, _Loss, LSTM), not a function (relu, _rebuild)."""
    s = name.lstrip("_")
    return bool(s) and s[0].isupper()


@lru_cache(maxsize=1)
def judge() -> Judge:
    return Judge(rules()["pickle"])
