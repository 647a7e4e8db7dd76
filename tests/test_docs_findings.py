"""docs/findings.md lists every finding rule aitrail can raise, with its severity, and no rule it cannot.

Rules were added faster than the page was updated (issue 10), so the page is checked against the
source both ways. Rule ids are read from src/aitrail with ``ast`` (nothing is imported or run):

- string literals in the rule slot of the calls that raise findings (``Finding(severity, rule, ...)``,
  ``SecurityFinding(...)``, ``FileReport.add(severity, rule, ...)``, ``Found.finding(severity, rule, ...)``,
  ``CatalogError(message, rule)`` or ``rule=``) and of ``(severity, rule, message)`` tuples;
- any other literal shaped like a rule id in one of those rules' namespaces (``scan.``, ``keras.``...):
  rules handed to a helper in a variable (``_problem(found, sev, "scan.safetensors.bad-tensor")``) or a
  default argument (``CatalogError``'s ``scan.malformed``);
- f-strings in the rule slot: expanded when the placeholder is a parameter whose values are literals
  (``f"{prefix}.limit-exceeded"``), otherwise the page must document the pattern (``security.<rule>``);
- ``fail(key, ...)`` in the policy: the policy keys reported as violations.
"""

from __future__ import annotations

import ast
import html
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "aitrail"
DOC = ROOT / "docs" / "findings.md"

RULE_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+")
SEVERITIES = ("info", "low", "medium", "high", "critical")
# Call name -> index of its rule argument, and the fewest positional arguments such a call has
# (``set.add(x)`` has one: not a finding).
RULE_CALLS = {"Finding": (1, 3), "SecurityFinding": (1, 3), "add": (1, 3), "finding": (1, 3), "CatalogError": (1, 2)}
# Literals shaped like rule ids in a rule namespace that are not rules.
NOT_RULES = {
    # minimum-element ids of the completeness report (knowledge/minimum_elements.yaml), not findings
    "dataset.training",
    "dataset.license",
    "dataset.location",
    "dataset.digest",
}
FILE_SUFFIXES = (".json", ".yaml", ".yml", ".py", ".md", ".txt", ".pb", ".h5", ".toml", ".jinja", ".sig")
# Rules rewritten in the rule slot: how each is spelt on the page (so that a new rewrite is documented).
REWRITES = {"replace('scan.', '')": "without the `scan.` prefix"}
PLACEHOLDER = re.compile(r"<[^<>\n]*>")


@dataclass
class Extracted:
    rules: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # id -> where
    severities: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # id -> known severities
    unsure: set[str] = field(default_factory=set)  # ids raised somewhere with a severity not known statically
    patterns: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # "security.<rule>" -> where
    rewrites: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    policy_keys: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _strings(node: ast.expr | None) -> list[str]:
    """The literal strings an expression can be (through ``a if c else b`` and ``a or b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [s for v in node.values for s in _strings(v)]
    return []


Narrowing = dict[str, tuple[bool, str]]  # parameter -> (equal?, literal) from ``a if p == "x" else b``


def _fstrings(node: ast.expr | None, narrow: Narrowing | None = None) -> list[tuple[ast.JoinedStr, Narrowing]]:
    """The f-strings an expression can be, each with what its branch's condition says of a parameter."""
    narrow = narrow or {}
    if isinstance(node, ast.JoinedStr):
        return [(node, narrow)]
    if isinstance(node, ast.IfExp):
        t = node.test
        if (
            isinstance(t, ast.Compare)
            and isinstance(t.left, ast.Name)
            and len(t.ops) == 1
            and isinstance(t.ops[0], (ast.Eq, ast.NotEq))
            and _strings(t.comparators[0])
        ):
            eq, lit = isinstance(t.ops[0], ast.Eq), _strings(t.comparators[0])[0]
            return _fstrings(node.body, {**narrow, t.left.id: (eq, lit)}) + _fstrings(
                node.orelse, {**narrow, t.left.id: (not eq, lit)}
            )
        return _fstrings(node.body, narrow) + _fstrings(node.orelse, narrow)
    return []


def _trees() -> list[tuple[str, ast.Module]]:
    return [(p.relative_to(ROOT).as_posix(), ast.parse(p.read_text("utf-8"))) for p in sorted(SRC.rglob("*.py"))]


def _constants(trees: list[tuple[str, ast.Module]]) -> dict[str, set[str]]:
    """Module-level ``NAME = "literal"`` (e.g. guard.SECURITY_INCOMPLETE = "high")."""
    out: dict[str, set[str]] = defaultdict(set)
    for _, tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for t in node.targets:
                    if isinstance(t, ast.Name) and isinstance(node.value.value, str):
                        out[t.id].add(node.value.value)
    return out


def _severity(node: ast.expr | None, consts: dict[str, set[str]]) -> set[str] | None:
    """The severities an expression can be, or None when that is not known from the source alone."""
    if node is None:
        return None
    if isinstance(node, ast.Call) and _name(node.func) == "Severity" and len(node.args) == 1:
        return _severity(node.args[0], consts)
    if isinstance(node, ast.IfExp):
        a, b = _severity(node.body, consts), _severity(node.orelse, consts)
        return a | b if a is not None and b is not None else None
    if isinstance(node, ast.Constant) and node.value in SEVERITIES:
        return {node.value}
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Severity":
        return {node.attr.lower()} if node.attr.lower() in SEVERITIES else None
    name = _name(node)
    if name and name.isupper() and consts.get(name) and consts[name] <= set(SEVERITIES):
        return set(consts[name])
    return None


def _param_values(trees: list[tuple[str, ast.Module]]) -> dict[tuple[str, str], set[str] | None]:
    """(function, parameter) -> the literal strings it is ever given (its default and every call's
    argument); None when some call passes something else."""
    params: dict[str, list[str]] = {}
    values: dict[tuple[str, str], set[str] | None] = {}
    for _, tree in trees:
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
                params[fn.name] = names
                for pname, default in zip(names[len(names) - len(fn.args.defaults) :], fn.args.defaults):
                    values[(fn.name, pname)] = set(_strings(default)) or None
                for kwarg, kwdefault in zip(fn.args.kwonlyargs, fn.args.kw_defaults):
                    if kwdefault is not None:
                        values[(fn.name, kwarg.arg)] = set(_strings(kwdefault)) or None
    for _, tree in trees:
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or _name(call.func) not in params:
                continue
            fname = _name(call.func)
            assert fname is not None
            given = {k.arg: k.value for k in call.keywords if k.arg}
            given.update({p: a for p, a in zip(params[fname], call.args)})
            for p, arg in given.items():
                key = (fname, p)
                if key in values and values[key] is not None:
                    lits = _strings(arg)
                    values[key] = values[key] | set(lits) if lits else None  # type: ignore[operator]
    return values


def _pattern(fs: ast.JoinedStr) -> str:
    parts = []
    for v in fs.values:
        if isinstance(v, ast.Constant):
            parts.append(str(v.value))
        else:
            expr = v.value  # type: ignore[attr-defined]
            parts.append(f"<{_name(expr) or 'x'}>")
    return "".join(parts)


def _expand(
    fs: ast.JoinedStr, narrow: Narrowing, function: str | None, values: dict[tuple[str, str], set[str] | None]
) -> set[str] | None:
    """The ids an f-string can spell when each placeholder is a parameter given only literals."""
    out = {""}
    for v in fs.values:
        if isinstance(v, ast.Constant):
            out = {o + str(v.value) for o in out}
            continue
        expr = v.value  # type: ignore[attr-defined]
        vals = values.get((function or "", expr.id)) if isinstance(expr, ast.Name) else None
        if not vals:
            return None
        if isinstance(expr, ast.Name) and expr.id in narrow:
            eq, lit = narrow[expr.id]
            vals = {x for x in vals if (x == lit) == eq}
        out = {o + x for o in out for x in vals}
    return out


@lru_cache(maxsize=1)
def extract() -> Extracted:
    trees = _trees()
    consts = _constants(trees)
    values = _param_values(trees)
    ex = Extracted()

    def rule(value: str, where: str, sev: set[str] | None) -> None:
        if not RULE_ID.fullmatch(value):
            return  # e.g. licences.py's add(component, role, ...) calls: no dotted id, not a finding
        ex.rules[value].append(where)
        if sev is None:
            ex.unsure.add(value)
        else:
            ex.severities[value] |= sev

    def slot(
        node: ast.expr, sev_node: ast.expr | None, where: str, function: str | None, default_sev: str = ""
    ) -> None:
        sev = _severity(sev_node, consts) if sev_node is not None else ({default_sev} if default_sev else None)
        for s in _strings(node):
            rule(s, where, sev)
        for fs, narrow in _fstrings(node):
            ids = _expand(fs, narrow, function, values)
            if ids is None:
                ex.patterns[_pattern(fs)].append(where)
            else:
                for i in ids:
                    rule(i, where, sev)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            ex.rewrites[ast.unparse(node)[len(ast.unparse(node.func.value)) + 1 :]].append(where)

    for rel, tree in trees:
        functions: dict[ast.AST, str] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(fn):  # ast.walk is breadth-first: the innermost function is set last
                    functions[inner] = fn.name
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = _name(node.func)
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                if name in RULE_CALLS:
                    index, least = RULE_CALLS[name]
                    if len(node.args) >= least or (name == "CatalogError" and "rule" in kw):
                        r = node.args[index] if len(node.args) > index else kw.get("rule")
                        if name == "CatalogError":
                            sev_node = node.args[2] if len(node.args) > 2 else kw.get("severity")
                            if r is not None:
                                slot(r, sev_node, where, functions.get(node), "" if sev_node else "medium")
                        elif r is not None:
                            slot(r, node.args[0], where, functions.get(node))
                elif "rule" in kw:
                    slot(kw["rule"], kw.get("severity"), where, functions.get(node))
                if name == "fail" and node.args:
                    for s in _strings(node.args[0]):
                        ex.policy_keys[s].append(where)
                    for fs, _ in _fstrings(node.args[0]):
                        ex.policy_keys[_pattern(fs)].append(where)
            elif isinstance(node, ast.Dict):
                # records that carry a rule id as data ({"rule": "hub.row.malformed", ...}: the hub run's
                # error rows, written to its summary rather than raised as findings)
                items = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
                if isinstance(items.get("rule"), (ast.Constant, ast.JoinedStr)):
                    slot(items["rule"], items.get("severity"), where, functions.get(node))
            elif isinstance(node, ast.Tuple) and len(node.elts) == 3 and _strings(node.elts[0]):
                if _strings(node.elts[0])[0] in SEVERITIES:
                    slot(node.elts[1], node.elts[0], where, functions.get(node))
    namespaces = {r.split(".", 1)[0] for r in ex.rules}
    for rel, tree in trees:
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            v = node.value
            if (
                v not in ex.rules
                and RULE_ID.fullmatch(v)
                and v.split(".", 1)[0] in namespaces
                and not v.endswith(FILE_SUFFIXES)
                and v not in NOT_RULES
            ):
                ex.rules[v].append(f"{rel}:{node.lineno}")
                ex.unsure.add(v)
    return ex


# -- the page ----------------------------------------------------------------------------------------


@dataclass
class Row:
    ids: list[str]
    severity: str
    when: str


def _norm(text: str) -> str:
    return PLACEHOLDER.sub("<>", html.unescape(text).replace("`", ""))


@lru_cache(maxsize=1)
def doc_rows() -> list[Row]:
    rows = []
    for line in DOC.read_text("utf-8").splitlines():
        if not line.startswith("|") or set(line) <= set("|- ") or line.startswith("| rule |"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 3, f"docs/findings.md: a table row needs rule | severity | when: {line}"
        ids: list[str] = []
        prefix = ""
        for item in html.unescape(cells[0]).replace("`", "").split(" / "):
            item = item.strip()
            if "." not in item and "<" not in item and prefix:
                item = f"{prefix}.{item}"  # "scan.gguf.truncated / absurd-count": the first one's prefix
            elif "<" not in item:
                prefix = item.rsplit(".", 1)[0]
            ids.append(item)
        rows.append(Row(ids, cells[1], cells[2]))
    return rows


def documented() -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in doc_rows():
        for i in row.ids:
            out[i].append(row)
    return out


def _policy_section() -> str:
    text = DOC.read_text("utf-8")
    head = text.find("policy violations")
    assert head >= 0, "docs/findings.md: the `aitrail check` policy violations section is missing"
    return text[head:]


# -- tests -------------------------------------------------------------------------------------------


def test_extraction_finds_the_rules() -> None:
    """The extraction itself works: rules raised in each of the ways above are found."""
    ex = extract()
    for known in (
        "scan.unreadable",  # Finding(Severity.HIGH, "scan.unreadable", ...)
        "scan.json",  # CatalogError(..., rule="scan.json")
        "scan.malformed",  # CatalogError's default rule
        "scan.safetensors.bad-tensor",  # handed to a helper in a variable
        "pickle.dangerous-global",  # rep.add("critical", ...)
        "integrity.signature-invalid",  # ("critical", rule, message) tuples
        "security.incomplete",
        "gguf.limit-exceeded",
        "chat-template.limit-exceeded",  # f"{prefix}.limit-exceeded", prefix="chat-template" by default
    ):
        assert known in ex.rules, known
    assert "security.<rule>" in ex.patterns  # f"security.{f.rule}"
    assert ex.severities["scan.unreadable"] >= {"high"}
    assert ex.severities["security.incomplete"] == {"high"}  # guard.SECURITY_INCOMPLETE
    assert "security.fail_on" in ex.policy_keys
    assert "gguf.chat-template-injection" in ex.rules and "chat-template.injection" in ex.rules
    assert "gguf.injection" not in ex.rules  # f"{prefix}.chat-template-injection" if prefix == "gguf" else ...
    assert "security.json" not in ex.rules and "dataset.training" not in ex.rules  # a file name, an element id


def test_every_rule_in_the_source_is_documented() -> None:
    doc = documented()
    missing = {r: where[:2] for r, where in sorted(extract().rules.items()) if r not in doc}
    assert not missing, (
        "rules aitrail raises that docs/findings.md does not list (add a row: rule | severity | when):\n"
        + "\n".join(f"  {r}  (raised at {', '.join(w)})" for r, w in missing.items())
    )


def test_every_documented_rule_exists() -> None:
    ex = extract()
    stripped = {r.removeprefix("scan.") for r in ex.rules if r.startswith("scan.")} if ex.rewrites else set()
    unknown = [i for i in documented() if "<" not in i and i not in ex.rules and i not in stripped]
    assert not unknown, f"docs/findings.md lists rules that aitrail never raises (renamed or removed?): {unknown}"


def test_documented_severities_match_the_source() -> None:
    """Each severity a rule is raised at (where the source says it literally) is named in its row."""
    ex = extract()
    doc = documented()
    wrong = []
    for r, sevs in sorted(ex.severities.items()):
        rows = doc.get(r)
        if not rows:
            continue  # reported by test_every_rule_in_the_source_is_documented
        text = " ".join(f"{row.severity} {row.when}" for row in rows).lower()
        absent = sorted(s for s in sevs if not re.search(rf"\b{s}\b", text))
        if absent:
            wrong.append(f"  {r}: raised at {', '.join(sorted(sevs))}; the page says {rows[0].severity!r}")
    assert not wrong, "docs/findings.md gives the wrong severity:\n" + "\n".join(wrong)


def test_dynamic_rules_are_documented_as_patterns() -> None:
    text = _norm(DOC.read_text("utf-8"))
    ex = extract()
    undocumented = [p for p in ex.patterns if _norm(p) not in text]
    assert not undocumented, (
        f"rules built at run time whose pattern docs/findings.md does not show: {undocumented} "
        f"(raised at {[ex.patterns[p][:2] for p in undocumented]})"
    )
    for rewrite, where in ex.rewrites.items():
        assert rewrite in REWRITES, f"a rule rewritten by .{rewrite} at {where[:2]}: document it and add it to REWRITES"
        assert REWRITES[rewrite] in DOC.read_text("utf-8"), (
            f"docs/findings.md should say rules appear {REWRITES[rewrite]}"
        )


def test_policy_violation_keys_are_documented_both_ways() -> None:
    section = _policy_section()
    listed = {_norm(k) for k in re.findall(r"`([a-z_]+\.[a-z_]+(?:\[[^\]]*\])?)`", section)}
    keys = {_norm(k) for k in extract().policy_keys}
    assert keys, "no policy violations found in src/aitrail/policy.py: has fail(key, ...) changed?"
    assert not keys - listed, f"policy keys reported as violations but not listed in docs/findings.md: {keys - listed}"
    assert not listed - keys, f"docs/findings.md lists policy keys that are never violations: {listed - keys}"
