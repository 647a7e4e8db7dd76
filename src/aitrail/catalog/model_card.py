"""The model card: ``README.md`` YAML front matter and its prose sections.

Front matter keys follow the Hugging Face model card spec (huggingface_hub's
``modelcard.md`` template and ``ModelCardData``); the YAML is read with the safe loader.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from ..model import ComponentType, DeclaredLicense, Derivation, Relationship, RelationshipKind, Severity
from .base import MODEL, CatalogError, FileRef, Found, read_yaml
from .lineage import dataset_component, generated_base, model_component, text

CARD_SPEC = "Hugging Face model card metadata (hub docs, 'Model Cards')"

# Canonical section -> words that name it in headings (lower case, matched as substrings).
SECTIONS = {
    "license": ("license", "licence", "licensing"),
    # "Usage"/"How to use" sections hold code snippets, not a statement of intended use: not matched.
    "intended_uses": ("intended use", "uses", "direct use", "downstream use", "use cases"),
    "out_of_scope_uses": ("out-of-scope", "out of scope", "misuse"),
    "limitations": ("limitation", "risks", "caveat"),
    "bias": ("bias", "fairness"),
    "training_data": ("training data", "dataset", "data"),
    "training_procedure": ("training procedure", "training", "fine-tuning", "pre-training", "hyperparameter"),
    "evaluation": ("evaluation", "results", "benchmark", "performance"),
    "environmental_impact": ("environmental impact", "carbon", "emissions", "compute infrastructure", "hardware"),
    "citation": ("citation", "bibtex", "cite", "reference"),
}


@functools.cache
def _section_words(found: tuple[str, ...]) -> re.Pattern[str]:
    words = [re.escape(w) for k, ws in SECTIONS.items() if k not in found for w in ws]
    return re.compile("|".join(words) or "(?!)")


DERIVATIONS = {
    "finetune": Derivation.FINE_TUNE,
    "fine-tune": Derivation.FINE_TUNE,
    "adapter": Derivation.ADAPTER,
    "quantized": Derivation.QUANTIZATION,
    "quantization": Derivation.QUANTIZATION,
    "merge": Derivation.MERGE,
}
HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*)$")


CARD_NAMES = ("readme.md", "model_card.md", "modelcard.md")
# Another name for the card, read only when the folder has none of CARD_NAMES: a packager keeping the
# upstream card beside its own files (README.upstream.md, MODEL_CARD.upstream.md), or a card only in one
# language (README_en.md, README.zh.md). With a README.md beside them they are translations or copies.
_OTHER_CARD = re.compile(r"^(?:readme|model_?card)[._-][\w.-]{1,40}\.md$")


def matches(f: FileRef) -> bool:
    name = f.rel.rsplit("/", 1)[-1].lower()
    if "/" in (f.local or f.rel):
        return False
    if name in CARD_NAMES:
        return True
    if not _OTHER_CARD.match(name):
        return False
    try:
        present = {p.name.lower() for p in f.path.parent.iterdir()}
    except OSError:
        return False
    return not present & set(CARD_NAMES)


# The hub server's own front-matter regex (huggingface_hub repocard.REGEX_YAML_BLOCK, "exact same regex as in
# the Hub server"): blank lines may come before the opening ---, and the block runs to the first line that
# is --- (spaces after it allowed). A card opening "---\n---\nlicense: agpl-3.0 ..." is read as the hub reads
# it (the YAML then starts with a document marker), not as an empty front matter.
_YAML_BLOCK = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return (yaml text or None, body, line number where the body starts), as the hub splits a card."""
    m = _YAML_BLOCK.match(text)
    if m:
        return m.group(2), text[m.end() :], text.count("\n", 0, m.end()) + 1
    if text.lstrip().split("\n", 1)[0].strip() == "---":
        raise CatalogError("front matter opened with '---' is never closed", rule="scan.card.front-matter")
    return None, text, 1


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every Markdown (ATX) heading outside code fences."""
    heads = []
    in_code = False
    for i, line in enumerate(lines):
        first = line[:1]
        if first == "#" and not in_code and len(line) <= MAX_LINE:  # a heading is one short line
            m = HEADING.match(line)
            if m:
                title = m.group(2).strip()
                bare = title.rstrip("#")  # a closing sequence of '#' follows a space ("# C#" keeps its '#')
                if bare != title and (not bare or bare[-1] in " \t"):
                    title = bare.rstrip()
                if title:
                    heads.append((i, len(m.group(1)), title))
        elif "`" in line[:8] and line.lstrip().startswith("```"):
            in_code = not in_code
    return heads


def sections(body: str, first_line: int, heads: list[tuple[int, int, str]] | None = None) -> dict[str, dict[str, Any]]:
    """Map canonical sections to their heading, line and opening text."""
    found: dict[str, dict[str, Any]] = {}
    lines = body.split("\n")
    heads = headings(lines) if heads is None else heads
    wanted = _section_words(())
    for n, (i, level, title) in enumerate(heads):
        low = title.lower()
        if not wanted.search(low):  # one regex for the sections still missing: linear in the headings
            continue
        key = next((k for k, words in SECTIONS.items() if k not in found and any(w in low for w in words)), None)
        if key is None:
            continue
        wanted = _section_words(tuple(sorted([*found, key])))
        # only matched headings (at most one per section) look for their end: linear in the card's size
        end = next((j for j, lv, _ in heads[n + 1 :] if lv <= level), len(lines))
        text = "\n".join(lines[i + 1 : end]).strip()
        found[key] = {"heading": title, "line": first_line + i, "chars": len(text), "excerpt": text[:300], "text": text}
    return found


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.DOCUMENTATION, format="model-card")
    text = f.read_text()
    try:
        yml, body, body_line = split_front_matter(text)
    except CatalogError as e:
        out.finding(Severity.MEDIUM, e.rule, f"{f.rel}: {e}", f.ev(line=1), CARD_SPEC)
        yml, body, body_line = None, text, 1
    meta: dict[str, Any] = {}
    if yml is not None:
        try:
            loaded = read_yaml(f, yml)
        except CatalogError as e:
            out.finding(
                Severity.MEDIUM, "scan.card.front-matter", f"{e} (in the front matter)", f.ev(line=1), CARD_SPEC
            )
            loaded = None
        if isinstance(loaded, dict):
            meta = loaded
        elif loaded is not None:
            out.finding(
                Severity.LOW,
                "scan.card.front-matter",
                f"{f.rel}: front matter is not a mapping of keys",
                f.ev(line=1),
                CARD_SPEC,
            )
    out.properties["has_front_matter"] = bool(meta)
    _front_matter(f, meta, out)
    heads = headings(body.split("\n"))
    secs = sections(body, body_line, heads)
    out.properties["sections"] = {
        k: {"heading": v["heading"], "line": v["line"], "chars": v["chars"]} for k, v in secs.items()
    }
    for k, v in secs.items():
        out.fact(f"card.{k}", v["excerpt"] or v["heading"], f.ev(key=v["heading"], line=v["line"]))
    if "license" in secs:
        _license_section(f, secs["license"], out)
    if BODY_LINEAGE:
        body_lineage(f, body, body_line, out)
    # only the first level-1 heading: a later one is a section ("# Usage"), not the title
    title = next((t for _i, level, t in heads if level == 1), "")
    named = title_name(title) if title else None
    if named:
        out.fact("card_title", named, f.ev(key="# title", value=title[:200]))
    desc = first_paragraph(body)
    out.fact("description", desc, f.ev(key="(first paragraph)"))
    if desc is None and body.count("\n") >= MAX_DESCRIPTION_LINES:
        out.finding(
            Severity.LOW,
            "scan.limit-exceeded",
            f"{f.rel}: no prose paragraph in the first {MAX_DESCRIPTION_LINES:,} lines; the rest was not searched "
            "for a description",
            f.ev(line=body_line + MAX_DESCRIPTION_LINES),
        )
    return out


# -- what a heading names ---------------------------------------------------------------------------

# Bounded, bracket-free repeats: a line of 200,000 "[" or "[a](" must cost linear time, not quadratic.
_TAG = re.compile(r"<!--.{0,5000}?-->|<[^<>]{0,2000}>", re.S)
_IMAGE = re.compile(r"!\[[^\[\]]{0,500}\]\([^()\s]{0,2000}\)")
_LINK = re.compile(r"\[([^\[\]]{0,500})\]\([^()\s]{0,2000}\)")
_BADGE = re.compile(r"\[!\[[^\[\]]{0,500}\]\([^()\s]{0,2000}\)\]\([^()\s]{0,2000}\)|https?://\S{1,2000}")
MAX_LINE = 2000  # characters of a card line looked at for a title or description
MAX_DESCRIPTION_LINES = 20_000  # lines of a card searched for its first prose paragraph
_SETEXT = re.compile(r"=+|-{2,}|\*{3,}|_{3,}")
_CARD_FOR = re.compile(r"^(?:model\s*card|modelcard)\s*(?:for|of|:|-|–|—)\s*(.+)$", re.I)
_CARD_SUFFIX = re.compile(r"^(.+?)\s*(?:[-:–—]\s*)?(?:model\s*card|modelcard)$", re.I)
_PLACEHOLDER = re.compile(r"[{}]|^\s*todo\b|\bmore information needed\b", re.I)
MAX_TITLE_WORDS = 12  # longer headings are sentences or paper titles, not names


@functools.cache
def generic_headings() -> tuple[frozenset[str], frozenset[str]]:
    """(generic headings, generic words), from knowledge/generic_headings.json (derived from real cards)."""
    data = json.loads(resources.files("aitrail.knowledge").joinpath("generic_headings.json").read_text("utf-8"))
    return frozenset(data["sections"]) | frozenset(data["headings"]), frozenset(data["words"])


def _plain(text: str) -> str:
    text = _LINK.sub(r"\1", _IMAGE.sub(" ", _TAG.sub(" ", text)))
    return " ".join(text.replace("**", " ").replace("__", " ").replace("`", " ").split()).strip(" *_#:-–—|")


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s&-]", " ", text.lower()).split())


def is_generic(name: str) -> bool:
    """A section, template or placeholder heading ("Model Details", "Model Card for Model ID")."""
    exact, words = generic_headings()
    n = _norm(name)
    return not n or n in exact or all(w in words or w.isdigit() for w in n.split()) or bool(_PLACEHOLDER.search(name))


def title_name(heading: str) -> str | None:
    """The name a card's title heading gives, or None when it names nothing.

    "Model Card for X" and "X Model Card" give X; generic headings, template placeholders and
    sentences (a full stop, or more than MAX_TITLE_WORDS words) give None.
    """
    heading = heading[:MAX_LINE]
    if _PLACEHOLDER.search(heading):
        return None
    text = _plain(heading)
    if is_generic(text):
        return None
    m = _CARD_FOR.match(text) or _CARD_SUFFIX.match(text)
    if m:
        text = m.group(1).strip(" *_#:-–—|")
        if is_generic(text):
            return None
    words = text.split()
    if len(words) > MAX_TITLE_WORDS or (len(words) > 5 and text[-1:] in ".!?"):
        return None
    if _CLASS_BASED_ON.match(text):
        return None
    return text[:200]


# The default name sentence-transformers' card templates give an unnamed model: its class, "based on"
# its base ("SentenceTransformer based on BAAI/bge-small-en-v1.5", "CrossEncoder based on ..."): it
# names the code and the base, not the model.
_CLASS_BASED_ON = re.compile(r"^[A-Z][a-z]+(?:[A-Z][a-z]+)+ based on \S+$")


# -- the first real paragraph -----------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
_TOC_HEADING = re.compile(r"^\W*(?:table\s+of\s+contents?|contents|toc|index)\W*$", re.I)
# Template text that describes no model (huggingface_hub's model card template and transformers' push_to_hub)
_BOILERPLATE = re.compile(
    r"^(?:\[?more information needed\]?|this model ?card has been automatically generated|"
    r"this is the model card of a .{0,20}transformers model that has been pushed on the hub|"
    r"this model ?card aims to be a base template for new models|"
    r"users \(both direct and downstream\) should be made aware of the risks|"
    r"use the code below to get started with the model|carbon emissions can be estimated using the)",
    re.I,
)
_NEEDED = re.compile(r"\[more information needed\]", re.I)
_LABELLED = re.compile(r"^(?:[-*+]|\d+[.)])\s+(?:\*\*|__)?[^:*_\n]{1,40}:(?!//)")  # "- **Label:**", not "https:"


# HTML blocks as CommonMark reads them: <script>, <pre>, <style>, <textarea> run to their closing tag;
# a block-level tag (or a tag left open on its line) runs to the next blank line. Their lines (a bot
# card's <div\n style="display:inherit; ...">, a <style> sheet) are markup, never the description.
_HTML_RAW = re.compile(r"^<(script|pre|style|textarea)(?=[\s>]|$)", re.I)
_HTML_BLOCK = re.compile(
    r"^</?(?:address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|"
    r"dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|"
    r"legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|"
    r"tbody|td|tfoot|th|thead|title|tr|track|ul)(?=[\s/>]|$)",
    re.I,
)


def _is_prose(para: str) -> bool:
    """Words outside links, images and markup: a line of links or badges is navigation, not prose."""
    rest = _LINK.sub(" ", _IMAGE.sub(" ", _TAG.sub(" ", para)))
    rest = _NEEDED.sub(" ", _BADGE.sub(" ", rest))
    return len(re.findall(r"[^\W\d_]{2,}", rest)) >= 3 and not _BOILERPLATE.match(_plain(para))


def first_paragraph(body: str) -> str | None:
    """The first prose paragraph: not a table of contents, badge row, image, table, code, comment or heading."""
    para: list[str] = []
    size = 0
    listed: str | None = None
    fence = in_comment = skip_section = html_block = False
    raw_end = ""  # the closing tag that ends the <script>/<pre>/<style>/<textarea> being skipped
    for n, line in enumerate(body.split("\n", MAX_DESCRIPTION_LINES)):
        if n == MAX_DESCRIPTION_LINES:
            break  # the rest of the card is not searched (catalog() reports it)
        s = line.strip()[:MAX_LINE]
        ends = False  # this line closes the paragraph being read
        if in_comment:
            in_comment = "-->" not in s
            continue
        if raw_end:
            raw_end = "" if raw_end in s.lower() else raw_end
            continue
        if html_block:
            html_block = bool(s)
            continue
        if not fence and s.startswith("<") and not s.startswith("<!--"):
            raw = _HTML_RAW.match(s)
            if raw:
                close = f"</{raw.group(1).lower()}>"
                raw_end = "" if close in s.lower() else close
            else:
                html_block = bool(_HTML_BLOCK.match(s)) or s.rfind("<") > s.rfind(">")
        if s.startswith(("```", "~~~")):
            fence, ends = not fence, True
        elif fence:
            continue
        elif s.startswith("<!--"):
            in_comment, ends = "-->" not in s, True
        elif s.startswith("#") and (heading := HEADING.match(s)):
            skip_section, ends = _is_toc(heading.group(2)), True
        elif s.startswith(("**", "__")) and _is_toc(s):
            skip_section, ends = True, True
        elif s[:1] in ("=", "-", "*", "_") and _SETEXT.fullmatch(s):  # the lines above were a heading
            para, size = [], 0
            continue
        elif not s or s.startswith(("|", "<", "!", "[!")) or _LIST_ITEM.match(s) and not _is_prose(s):
            ends = True
        elif skip_section and (_LIST_ITEM.match(s) or not _is_prose(s)):
            continue  # still the table of contents; a prose line ends it even without a heading
        else:
            skip_section = False
            para.append(s)
            size += len(s)
            ends = size > 4000
        if ends and para:
            text = " ".join(para)
            if _is_prose(text):
                if not _LIST_ITEM.match(text):
                    return text[:1000]
                if not _LABELLED.match(text):  # "- **Developed by:** …" is metadata, not a description
                    listed = listed or text[:1000]  # a bulleted description, used only when no paragraph is prose
            para, size = [], 0
    text = " ".join(para)
    if para and _is_prose(text) and not _LIST_ITEM.match(text):
        return text[:1000]
    return listed or (text[:1000] if para and _is_prose(text) else None)


def _is_toc(title: str) -> bool:
    low = title.lower()
    return ("content" in low or "toc" in low or "index" in low) and bool(_TOC_HEADING.match(_plain(title)))


def _front_matter(f: FileRef, meta: dict[str, Any], out: Found) -> None:
    ev = lambda key, value=None: f.ev(key=key, value=value)  # noqa: E731
    out.properties["front_matter_keys"] = sorted(map(str, meta))
    for lic in _as_list(meta.get("license")):
        if not isinstance(lic, str):
            _unreadable(f, out, "license", lic)
            # kept as written: a declaration nobody can read resolves to no licence, so the verdict is unknown
            out.licenses.append(DeclaredLicense(text(lic, 100), ev("license", lic)))
        elif lic.strip():
            out.licenses.append(
                DeclaredLicense(
                    lic.strip(),
                    ev("license", lic),
                    name=_s(meta.get("license_name")),
                    link=_s(meta.get("license_link")),
                )
            )
    for key in ("pipeline_tag", "library_name"):
        out.fact({"pipeline_tag": "task", "library_name": "library"}[key], _s(meta.get(key)), ev(key, meta.get(key)))
    out.fact("language", [str(x) for x in _as_list(meta.get("language"))], ev("language"))
    out.fact("tags", [str(x) for x in _as_list(meta.get("tags"))], ev("tags"))
    for key in ("model_name", "model_creator", "author", "co2_eq_emissions", "inference", "thumbnail"):
        if key in meta:
            out.fact(f"card.{key}", meta[key], ev(key))
    # the author's own name for the model beats any heading (model-index names come next, in _model_index)
    named = _s(meta.get("model_name"))
    if named and not is_generic(named):
        out.fact("name", named[:200], ev("model_name", named))
    if "model_creator" in meta or "author" in meta:
        out.fact("supplier", _s(meta.get("model_creator") or meta.get("author")), ev("model_creator"))

    for d in _as_list(meta.get("datasets")):
        if isinstance(d, str) and d.strip():
            c = dataset_component(d.strip(), ev("datasets", d))
            out.components.append(c)
            out.relationships.append(
                Relationship(MODEL, c.id, RelationshipKind.TRAINED_ON, evidence=[ev("datasets", d)])
            )

    relation = _s(meta.get("base_model_relation"))
    kind = DERIVATIONS.get((relation or "").lower(), Derivation.FINE_TUNE if relation is None else Derivation.UNKNOWN)
    bases = []
    for b in _as_list(meta.get("base_model")):
        if isinstance(b, str):
            bases.extend([_hub_id(b)] if b.strip() else [])
        else:  # a mapping, a nested list, a number: a base is declared, and which one cannot be read
            _unreadable(f, out, "base_model", b)
            bases.append(text(b, 100))  # named as written: it resolves to no known model (unknown lineage)
    if len(bases) > 1 and relation is None:
        kind = Derivation.MERGE  # the hub's rule: several bases without a relation is a merge
    for b in bases:
        e = ev("base_model", b)
        c = model_component(b.strip(), e)
        out.components.append(c)
        out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.DERIVED_FROM, kind, [e]))
    # Without this key the kind above is the hub's default guess, which the scanner corrects from the
    # folder's files as the hub does (an adapter_config.json: adapter; GGUF weights: quantized).
    out.fact("base_model_relation", relation, ev("base_model_relation", relation))

    results = _model_index(meta.get("model-index"), f, out)
    if results:
        out.fact("evaluation_results", results, ev("model-index"))


# The hub's batch reader calls body_lineage too when this is set (its rows must equal a folder scan's).
BODY_LINEAGE = True


def body_lineage(f: FileRef, body: str, body_line: int, out: Found) -> None:
    """The base the card's prose names when its front matter names none: before 2023 the trainers'
    generated sentence ("is a fine-tuned version of [X](https://huggingface.co/X)") was a card's only
    statement of its base (catalog.lineage.generated_base)."""
    if any(r.kind == RelationshipKind.DERIVED_FROM for r in out.relationships):
        return
    g = generated_base(body, body_line)
    if g:
        said = f.ev(key="card: fine-tuned version of", line=g[1], value=g[2])
        base = model_component(g[0], said)
        out.components.append(base)
        edge = Relationship(MODEL, base.id, RelationshipKind.DERIVED_FROM, Derivation.FINE_TUNE, [said])
        out.relationships.append(edge)


def relation_from_files(names: list[str]) -> Derivation | None:
    """The kind the hub gives a card's single base when the card has no ``base_model_relation``, read from
    the repository's file names: an adapter_config.json makes it an adapter, a GGUF file a quantization
    (otherwise the card's default, a fine-tune, stands). The folder scan applies the same rule
    (scanner._settle_kinds); a hub table of repos and their siblings can call this."""
    base = [n.rsplit("/", 1)[-1].lower() for n in names]
    if "adapter_config.json" in base:
        return Derivation.ADAPTER
    if any(n.endswith(".gguf") for n in base):
        return Derivation.QUANTIZATION
    return None


def _unreadable(f: FileRef, out: Found, key: str, value: Any) -> None:
    out.finding(
        Severity.MEDIUM,
        "scan.card.front-matter",
        f"{f.rel}: {key} is a {type(value).__name__}, not a {'licence id' if key == 'license' else 'model id'} "
        f"({text(value, 100)}): what it declares is not known",
        f.ev(key=key, value=text(value, 100)),
        CARD_SPEC,
    )


# A model's hub page, also as a link into it (/tree/main, /blob/main/README.md, ?library=...); datasets/ and
# spaces/ pages are no model
_HUB_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?!datasets/|spaces/)([\w.\-]+/[\w.\-]+)"
    r"(?:/(?:tree|blob|resolve)/[^?#]*)?/?(?:[?#].*)?$"
)


def _hub_id(value: str) -> str:
    """A base written as its hub page ("https://huggingface.co/org/name") is that repo id."""
    m = _HUB_URL.match(value.strip())
    return m.group(1) if m else value.strip()


def _s(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def _model_index(mi: Any, f: FileRef, out: Found) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for entry in _as_list(mi):
        if not isinstance(entry, dict):
            continue
        name = _s(entry.get("name"))
        if name and not is_generic(name) and not any(x.key == "name" for x in out.facts):
            out.fact("name", name[:200], f.ev(key="model-index.name", value=name))
        for r in _as_list(entry.get("results")):
            if not isinstance(r, dict):
                continue
            task: dict[str, Any] = r["task"] if isinstance(r.get("task"), dict) else {}
            ds: dict[str, Any] = r["dataset"] if isinstance(r.get("dataset"), dict) else {}
            ds_id = _s(ds.get("type")) or _s(ds.get("name"))
            if ds_id:
                e = f.ev(key="model-index.results.dataset", value=ds_id)
                c = dataset_component(ds_id, e)
                if ds.get("name"):
                    c.properties["title"] = str(ds["name"])
                out.components.append(c)
                out.relationships.append(Relationship(MODEL, c.id, RelationshipKind.TESTED_ON, evidence=[e]))
            for m in _as_list(r.get("metrics")):
                if isinstance(m, dict) and "value" in m:
                    results.append(
                        {
                            "task": _s(task.get("type")),
                            "dataset": ds_id,
                            "split": _s(ds.get("split")),
                            "config": _s(ds.get("config")),
                            "metric": _s(m.get("type")) or _s(m.get("name")),
                            "name": _s(m.get("name")),
                            "value": m.get("value"),
                        }
                    )
    return results


MIN_SECTION_WORDS = 120  # shorter sections name a licence ("Apache 2.0"): too little text to identify
_RELEASED_UNDER = re.compile(
    r"(?:licen[sc]ed|released|distributed|available|provided|published|made available)\s+under\s+(?:the\s+)?"
    r"(?P<name>[^;:\n(\[]{2,80}?)\s*(?:\.\s|\.$|[;:\n(\[]|$)",
    re.IGNORECASE,
)


def _named_licence(text: str) -> str | None:
    """The licence a short License section names: "Released under CC BY-NC 4.0.", "MIT", or
    "Apache 2.0, see LICENSE."; None for anything longer or vaguer (a sentence about licences)."""
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).strip()  # Markdown links keep their text
    m = _RELEASED_UNDER.search(plain)
    if m:
        return m.group("name").strip(" ,*_`")
    # A bare short section ("MIT", "Apache 2.0, see LICENSE.") counts only when it is a licence name the
    # knowledge base knows: "See LICENSE." or "Same as the base model" is a pointer, not a declaration.
    from ..analyze.licenses import resolve

    first = re.split(r",|\.\s|\n", plain, maxsplit=1)[0].strip(" .*_`")
    if not first or len(first.split()) > 8:
        return None
    return first if resolve(first).matched_by != "unknown" else None


def _license_section(f: FileRef, sec: dict[str, Any], out: Found) -> None:
    """A licence pasted into the card's "License" section is identified like a LICENSE file."""
    from ..analyze.license_text import identify_text, tokens

    text = sec["text"]
    if len(tokens(text)) < MIN_SECTION_WORDS:
        named = _named_licence(text)
        if named:
            # the name a License section gives is the card's declaration as much as the front matter's id
            # (often the template's default): both are kept, and the licence verdicts judge a conflict
            ev = f.ev(key=f"section: {sec['heading']}", line=sec["line"], value=text.strip()[:200])
            out.licenses.append(DeclaredLicense(named, ev))
        return
    ident = identify_text(text, f"{f.rel} [{sec['heading']}]")
    result = ident.to_dict()
    out.properties["license_section"] = {
        k: result[k] for k in ("known", "id", "confidence", "licenses", "closest") if k in result
    }
    for m in ident.licenses if ident.known else []:
        out.licenses.append(DeclaredLicense(m.license_id, f.ev(key=f"section: {sec['heading']}", line=sec["line"])))
