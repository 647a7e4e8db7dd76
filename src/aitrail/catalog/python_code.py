"""Python source files: what they import and whether they train or run a model.

Parsed with ``ast`` (which builds a syntax tree and never executes anything), within bounds: the
parser's memory grows with the number of tokens (~700 bytes each: 1 MB of ``a,a,a,…`` takes 700 MB)
and deep nesting makes it raise RecursionError, MemoryError or SyntaxError. :func:`parse_bounded`
is the one entry point for every reader of Python source (this cataloger and the remote-code rules).
"""

from __future__ import annotations

import ast
import re

from ..model import ComponentType, Severity
from .base import CatalogError, FileRef, Found

TRAIN_CALLS = {"backward", "Trainer", "SFTTrainer", "fit", "train", "step", "zero_grad"}
INFER_CALLS = {"generate", "pipeline", "predict", "encode", "from_pretrained", "forward", "InferenceSession"}
MAX_SOURCE = 4 << 20  # bytes of source read
# Tokens parsed (counted with a C regex before parsing; an over-estimate: words in strings and
# comments count). Real model code has ~1 token per 5-6 bytes, so this is ~1 MB of real code;
# the parser's peak stays under ~150 MB.
MAX_TOKENS = 200_000
_TOKEN = re.compile(r"[A-Za-z_0-9]+|[^\sA-Za-z_0-9]")


class SourceLimit(Exception):
    """The source is larger or more complex than aitrail parses; the message says which limit."""


def parse_bounded(text: str, name: str) -> ast.Module:
    """``ast.parse`` within the token limit. Raises SyntaxError (with ``msg`` and ``lineno``) for
    source that does not parse, SourceLimit when a limit is reached (the parser's own nesting
    limits included)."""
    tokens = 0
    for _ in _TOKEN.finditer(text):
        tokens += 1
        if tokens > MAX_TOKENS:
            raise SourceLimit(f"more than {MAX_TOKENS:,} tokens (aitrail's limit for parsing Python source)")
    try:
        return ast.parse(text, filename=name)
    except (RecursionError, MemoryError):
        # CPython's parser signals nesting deeper than its C stack allows this way.
        raise SourceLimit("nested too deeply for Python's parser") from None
    except ValueError as e:  # "source code string cannot contain null bytes"
        raise SyntaxError(str(e)) from None


def matches(f: FileRef) -> bool:
    return f.rel.endswith(".py")


def catalog(f: FileRef) -> Found:
    out = Found(file_type=ComponentType.CODE, format="python")
    if f.size > MAX_SOURCE:
        raise CatalogError(
            f"{f.rel}: {f.size} bytes of Python source is more than aitrail parses ({MAX_SOURCE}); not read",
            rule="scan.limit-exceeded",
            severity=Severity.LOW,
        )
    text = f.read_text(MAX_SOURCE)
    try:
        tree = parse_bounded(text, f.rel)
    except SyntaxError as e:
        out.properties["syntax_error"] = f"line {e.lineno}: {str(e.msg)[:200]}"
        return out
    except SourceLimit as e:
        out.properties["lines"] = text.count("\n") + 1
        out.finding(Severity.LOW, "scan.limit-exceeded", f"{f.rel}: {e}; not parsed", f.ev())
        return out
    imports: set[str] = set()
    calls: set[str] = set()
    for node in ast.walk(tree):  # iterative: no recursion whatever the tree's depth
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0][:100] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.add(node.module.split(".")[0][:100])
        elif isinstance(node, ast.Call):
            fn = node.func
            calls.add(fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else "")
    roles = []
    if calls & TRAIN_CALLS and imports & {
        "torch",
        "transformers",
        "trl",
        "tensorflow",
        "keras",
        "jax",
        "sklearn",
        "peft",
        "accelerate",
        "lightning",
        "pytorch_lightning",
    }:
        roles.append("training")
    if calls & INFER_CALLS:
        roles.append("inference")
    name = f.rel.rsplit("/", 1)[-1]
    if name.startswith(("modeling_", "configuration_", "tokenization_")):
        roles.append("model-definition")
    shown = sorted(imports)
    if len(shown) > 200:  # names are bounded by the source; the list in the output need not be
        shown = shown[:200] + [f"… {len(imports) - 200} more"]
    out.properties.update({"imports": shown, "roles": roles, "lines": text.count("\n") + 1})
    if "training" in roles:
        out.fact("training_code", f.rel, f.ev(key="calls", value=sorted(calls & TRAIN_CALLS)))
    if "inference" in roles:
        out.fact("inference_code", f.rel, f.ev(key="calls", value=sorted(calls & INFER_CALLS)))
    return out
