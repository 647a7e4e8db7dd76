"""Every chat template transformers may render from a tokenizer or processor config is judged (review R12, R13)."""

from __future__ import annotations

import json

import pytest

import aitrail.analyze.security as S
from aitrail.analyze.security.formats import chat_template_file

ESCAPE = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
CHATML = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] }}{% endfor %}"


def _judge(tmp_path, doc_text: str, name: str = "tokenizer_config.json") -> list[tuple[str, str, str]]:
    (tmp_path / name).write_text(doc_text)
    rep = S.FileReport(name, None, None)
    chat_template_file(rep, tmp_path / name, name)
    return [(f.rule, f.severity, f.location or "") for f in rep.findings]


def test_the_65th_named_template_is_judged(tmp_path):
    """transformers renders the entry named 'default' when none is chosen: here it is the 65th."""
    entries = [{"name": f"t{i}", "template": CHATML + " " * i} for i in range(64)]
    entries.append({"name": "default", "template": ESCAPE})
    found = _judge(tmp_path, json.dumps({"chat_template": entries}))
    assert ("chat-template.injection", "critical", "tokenizer_config.json:chat_template[default]") in found


@pytest.mark.parametrize(
    "value",
    [{"default": CHATML, "tool_use": ESCAPE}, [{"name": "default", "template": CHATML}, ["nested", ESCAPE]]],
    ids=["name-to-template-map", "odd-nesting"],
)
def test_templates_in_any_shape_are_judged(tmp_path, value):
    """A {name: template} map is what transformers keeps after loading (tokenizer.chat_template): stored as such
    it is rendered as such."""
    found = _judge(tmp_path, json.dumps({"chat_template": value}), "chat_template.json")
    assert any(r == "chat-template.injection" and s == "critical" for r, s, _ in found), found


@pytest.mark.parametrize("deep", [200, 600])
def test_a_config_too_deep_for_the_json_reader_still_has_its_template_judged(tmp_path, deep):
    """R13: json.load (transformers) reads it; aitrail's bounded reader refuses it: the template is read from
    the text, not skipped."""
    doc = '{"tokenizer_class": "X", "x": ' + "[" * deep + "]" * deep + ', "chat_template": ' + json.dumps(ESCAPE) + "}"
    assert ("chat-template.injection", "critical", "tokenizer_config.json:chat_template") in _judge(tmp_path, doc)


def test_a_chat_template_value_too_deep_to_read_is_high(tmp_path):
    doc = '{"x": ' + "[" * 200 + "]" * 200 + ', "chat_template": ' + "[" * 200 + json.dumps(CHATML) + "]" * 200 + "}"
    assert ("chat-template.limit-exceeded", "high", "tokenizer_config.json") in _judge(tmp_path, doc)


def test_templates_past_the_per_file_budget_are_counted_high(tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("aitrail.analyze.security.formats"), "MAX_TEMPLATES_JUDGED", 1000)
    entries = [{"name": f"t{i}", "template": CHATML + " " * i} for i in range(20)]
    found = _judge(tmp_path, json.dumps({"chat_template": entries}))
    assert [(r, s) for r, s, _ in found] == [("chat-template.limit-exceeded", "high")]


def test_real_templates_stay_quiet_and_identical_ones_are_judged_once(tmp_path):
    entries = [{"name": "default", "template": CHATML}, {"name": "rag", "template": CHATML}]
    assert _judge(tmp_path, json.dumps({"chat_template": entries, "x": [[[1]]]})) == []


@pytest.mark.parametrize(
    "tmpl",
    [
        "{{ ''[('_'*2)+'class'+('_'*2)] }}",
        "{% set x = '_' * 2 %}{{ ''[x ~ 'class' ~ x] }}",
        "{% for c in ''[('_'*2)+'class'+('_'*2)][('_'*2)+'mro'+('_'*2)][1][('_'*2)+'subclasses'+('_'*2)]() %}"
        "{{ c[('_'*2)+'init'+('_'*2)][('_'*2)+'globals'+('_'*2)]['sys'+'tem']('id') }}{% endfor %}",
        "{{ ''[2 * '_' + 'class' + '_' * 2] }}",
    ],
)
def test_item_keys_built_by_arithmetic_are_folded(tmp_path, tmpl):
    """R24: a plain jinja2.Environment renders these (the engines without a sandbox run the payload)."""
    found = _judge(tmp_path, json.dumps({"chat_template": tmpl}))
    assert any(r == "chat-template.injection" and s == "critical" for r, s, _ in found), found


@pytest.mark.parametrize(
    "tmpl",
    [
        "{% set k = messages[0]['role'] ~ '_x' %}{{ obj[k] }}",
        "{{ obj[name ~ suffix] }}",
        "{{ obj[(a|string) + b] }}",
    ],
)
def test_item_keys_built_from_strings_when_rendered_are_high(tmp_path, tmpl):
    found = _judge(tmp_path, json.dumps({"chat_template": tmpl}))
    assert ("chat-template.injection", "high") in {(r, s) for r, s, _ in found}, found


def test_numeric_and_plain_item_access_stays_quiet(tmp_path):
    tmpl = (
        "{% for m in messages %}{{ messages[loop.index0 - 1]['role'] }}{{ m[key] }}{{ m['content'][0:10] }}"
        "{{ tools[i * 2 + 1] }}{% set ns = namespace(x='') %}{{ m['tool_calls'][0]['function']['name'] }}{% endfor %}"
    )
    assert _judge(tmp_path, json.dumps({"chat_template": tmpl})) == []


@pytest.mark.parametrize(
    "tmpl",
    [
        "{{ [''] | map(attribute=('_' * 2) ~ 'class' ~ ('_' * 2)) | list }}",
        "{{ [''] | map('attr', '_' * 2 + 'class' + '_' * 2) | list }}",
        "{{ [''] | selectattr('_' * 2 + 'class' + '_' * 2 + '.' + '_' * 2 + 'mro' + '_' * 2) | list }}",
        "{{ [''] | sort(attribute='x.' ~ '_' * 2 ~ 'class' ~ '_' * 2) }}",
        "{{ [''] | groupby(name) }}",
    ],
)
def test_filters_that_read_attributes_by_name_are_judged(tmp_path, tmpl):
    found = _judge(tmp_path, json.dumps({"chat_template": tmpl}))
    assert any(r == "chat-template.injection" and s in ("critical", "high") for r, s, _ in found), found


def test_filters_reading_ordinary_attributes_stay_quiet(tmp_path):
    tmpl = (
        "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('\\n') }}"
        "{{ tools | sort(attribute='function.name') | map('tojson') | join }}{{ messages | groupby('role') }}"
    )
    assert _judge(tmp_path, json.dumps({"chat_template": tmpl})) == []


@pytest.mark.parametrize(
    "tmpl",
    [
        "{% set x %}{{ '_' * 2 }}class{{ '_' * 2 }}{% endset %}{{ ''[x] }}",
        "{% for k in ['_' * 2 ~ 'class' ~ '_' * 2] %}{{ ''[k] }}{% endfor %}",
        "{% macro m(a) %}{{ ''[a] }}{% endmacro %}{{ m('_' * 2 ~ 'class' ~ '_' * 2) }}",
        "{% macro m(a='_' * 2 ~ 'class' ~ '_' * 2) %}{{ ''[a] }}{% endmacro %}{{ m() }}",
        "{% set y = ['_' * 2 ~ 'class' ~ '_' * 2] %}{{ ''[y[0]] }}{{ ''[y.pop()] }}",
        "{% set u = (() | select | string)[24] %}{{ ''|attr(u ~ u ~ 'class' ~ u ~ u) }}",
    ],
)
def test_names_set_by_blocks_and_loops_over_built_strings_are_followed(tmp_path, tmpl):
    found = _judge(tmp_path, json.dumps({"chat_template": tmpl}))
    assert any(r == "chat-template.injection" and s in ("critical", "high") for r, s, _ in found), found


def test_set_blocks_and_loops_of_plain_text_stay_quiet(tmp_path):
    tmpl = (
        "{% set sys %}You are a helpful assistant.{% endset %}{{ sys }}"
        "{% for role in ['user', 'assistant'] %}{{ roles[role] }}{% endfor %}"
        "{% for m in messages %}{{ m[k] }}{% endfor %}"
        "{% macro render(msg, key='content') %}{{ msg[key] }}{% endmacro %}{{ render(messages[0], 'role') }}"
    )
    assert _judge(tmp_path, json.dumps({"chat_template": tmpl})) == []


def test_a_config_larger_than_the_read_limit_still_has_its_template_judged(tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("aitrail.analyze.security.formats"), "MAX_SCAN_BYTES", 1 << 20)
    doc = json.dumps({"added_tokens_decoder": "x" * (2 << 20), "chat_template": ESCAPE})
    assert ("chat-template.injection", "critical", "tokenizer_config.json:chat_template") in _judge(tmp_path, doc)
    doc = json.dumps({"pad": "x" * (2 << 20), "chat_template": "y" * (2 << 20)})
    assert ("chat-template.limit-exceeded", "high", "tokenizer_config.json") in _judge(tmp_path, doc)


def test_an_empty_template_config_is_no_error(tmp_path):
    assert _judge(tmp_path, "") == []


def test_a_long_sum_is_judged_not_a_crash(tmp_path):
    """Jinja's own find_all recurses once per level: a 20,000-term sum raised RecursionError (security.incomplete)."""
    tmpl = "{{ x[" + " + ".join(["'_'"] * 20_000) + "] }}"
    found = _judge(tmp_path, json.dumps({"chat_template": tmpl}))
    assert found and all(s in ("high", "critical") for _, s, _ in found), found
