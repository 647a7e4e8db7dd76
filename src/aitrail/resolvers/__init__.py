"""What is known about a model beyond its folder: one interface, many sources.

A *resolver* answers "what do you know about model X (at revision R)?" with licence evidence,
bases (with their relation), datasets and where the facts came from. Sources, in the order a
:class:`Chain` asks them: models scanned together (siblings, HF cache snapshots), the registry,
a local hub index, curated facts for well-known base families, and the optional online hub API.
The licence verdicts, the hub batch audits, the registry and the lineage graph all go through
this interface, so every hop of a lineage names the resolver that supplied it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, runtime_checkable


@dataclass(frozen=True)
class LicenceEvidence:
    """One piece of licence evidence: the value as found (an SPDX id, a hub id, a name, a URL)."""

    value: str
    source: str  # what kind of evidence: "card license", "LICENSE file", "gguf general.license", ...
    location: str = ""  # file, key or line, or the index row / registry URL it came from
    name: str | None = None  # the card's license_name, when value is "other"
    link: str | None = None  # the card's license_link


@dataclass(frozen=True)
class BaseRef:
    """A model this one derives from, with the relation the evidence states."""

    model_id: str
    relation: str = "unknown"  # finetune | adapter | quantized | merge | distilled | unknown
    evidence: str = ""  # e.g. "README.md base_model", "config.json _name_or_path"


@dataclass(frozen=True)
class ModelFacts:
    model_id: str
    resolver: str  # the name of the resolver that supplied these facts
    source: str  # where exactly: a path, an index table and date, a registry URL, a curated fact's source
    revision: str | None = None
    licences: tuple[LicenceEvidence, ...] = ()
    bases: tuple[BaseRef, ...] = ()
    datasets: tuple[str, ...] = ()
    # A local claim about a published model (a folder merely named like it, a manifest shipped with the
    # scanned files): it does not silence the curated facts on that model, which are asked too.
    local_claim: bool = False


@runtime_checkable
class Resolver(Protocol):
    name: str

    def lookup(self, model_id: str, revision: str | None = None) -> ModelFacts | None:
        """The facts this source holds on ``model_id``, or None when it knows nothing of it.
        Must not raise for an unknown id; may raise ``ResolverError`` when the source itself failed."""
        ...


class ResolverError(Exception):
    """A source could not be asked (a broken index, an unreachable registry): the hop is unresolved,
    and the message says which source failed and why."""


@dataclass
class Answer:
    facts: ModelFacts | None
    tried: list[str] = field(default_factory=list)  # resolvers asked, in order
    errors: list[str] = field(default_factory=list)  # "name: why" for sources that failed


class Chain:
    """Resolvers asked in order; the first that knows the model answers."""

    def __init__(self, resolvers: Iterable[Resolver]) -> None:
        self.resolvers = list(resolvers)

    def lookup(self, model_id: str, revision: str | None = None) -> Answer:
        ans = Answer(None)
        for r in self.resolvers:
            ans.tried.append(r.name)
            try:
                facts = r.lookup(model_id, revision)
            except ResolverError as e:
                ans.errors.append(f"{r.name}: {e}")
                continue
            if facts is not None:
                ans.facts = facts
                return ans
        return ans
