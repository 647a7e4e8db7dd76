"""Hub licence tags that name a family, not a licence (session 6: verdicts on data aitrail did not curate).

The Hub's licence list (hf-license-ids.csv, from the Hub docs) has tags whose full name is "... family":
`bsd`, `cc`, `gpl`, `lgpl`, `gfdl`, `openrail`, `odc-by`, `odbl`. `cc` was read as CC BY 4.0, so a model
tagged `cc` (14 in the 2022 hub snapshot) was "allowed" for commercial use although the family includes
the NonCommercial licences.
"""

from __future__ import annotations

import csv

import pytest
from conftest import SHARED

import aitrail
from aitrail.analyze import licenses as L

LICENSES = SHARED / "data" / "licenses"
FAMILIES_OF_ONE = {"odc-by", "odbl"}  # families with a single published version: the tag names it


def _family_tags() -> list[str]:
    rows = csv.DictReader(open(LICENSES / "hf-license-ids.csv"))
    return [r["hf_id"] for r in rows if r["full_name"].lower().endswith("family")]


def test_a_family_tag_never_resolves_to_one_member():
    tags = _family_tags()
    assert {"bsd", "cc", "gpl", "lgpl", "gfdl", "openrail"} <= set(tags)
    for tag in set(tags) - FAMILIES_OF_ONE:
        r = L.resolve(tag)
        assert r.facts is not None, tag
        assert r.facts.spdx is None and r.id.startswith("LicenseRef-aitrail-"), (tag, r.id)
        assert "family" in r.facts.name.lower(), (tag, r.facts.name)


def test_cc_is_unknown_for_every_use_it_does_not_grant_and_says_why():
    r = L.resolve("cc")
    for use in ("commercial", "internal", "host", "redistribute"):
        verdict, _terms, why = L.licence_verdict(r, use)
        assert verdict == "unknown", use
        assert why and ("NonCommercial" in why or "NoDerivatives" in why), use
    # every Creative Commons licence grants non-commercial use
    assert L.licence_verdict(r, "research")[0] == "allowed"
    # spelled out in prose, the family is the same answer
    assert L.resolve("Creative Commons").id == r.id


def test_a_card_tagged_cc_is_not_allowed_to_pass_as_cc_by(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: cc\n---\n# a model\n")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    rep = L.report(aitrail.scan(str(tmp_path)), "commercial")
    assert rep["verdict"] == "unknown"
    [c] = [c for c in rep["components"] if c["role"] == "model"]
    assert c["license"] == "LicenseRef-aitrail-cc-family" and "NonCommercial" in c["deciding_clause"]


def test_gpl_family_keeps_its_copyleft():
    fam = L.resolve("gpl").facts
    assert fam is not None and fam.commercial == "yes"
    assert L.licence_verdict(L.resolve("gpl"), "redistribute")[0] == "allowed_with_obligations"
    # relicensing a GPL work (any version) as MIT is laundering; as GPL-3.0 it is not
    assert not L.carries(L.resolve("mit").facts, fam)
    assert L.carries(L.resolve("gpl-3.0").facts, fam)
    assert not L.carries(L.resolve("mit").facts, L.resolve("lgpl").facts)
    # BSD family: the 4-clause advertising condition is listed, since the tag may mean it
    terms = {t.id for t in L.resolve("bsd").facts.terms}
    assert "advertising" in terms


def test_configured_resolvers_is_a_read_only_view_of_configure():
    assert dict(L.configured_resolvers()) == {}

    class Fake:
        name = "registry"

        def lookup(self, model_id, revision=None):
            return None

    token = L.configure(registry=Fake(), hub_index=None)
    try:
        view = L.configured_resolvers()
        assert list(view) == ["registry"] and view["registry"].name == "registry"
        try:
            view["online"] = Fake()  # type: ignore[index]
        except TypeError:
            pass
        else:  # pragma: no cover
            raise AssertionError("the view must be read-only")
    finally:
        L.reset_resolvers(token)
    assert dict(L.configured_resolvers()) == {}


@pytest.mark.parametrize(
    "link",
    [
        "https://huggingface.co/Qwen/Qwen2.5-3B/blob/main/LICENSE",
        "https://huggingface.co/Qwen/Qwen2.5-3B/resolve/main/LICENSE",
        "https://hf.co/Qwen/Qwen2.5-3B/raw/main/LICENSE?download=true",
    ],
)
def test_a_licence_link_names_the_hub_file_however_it_reaches_it(link):
    # the name alone ("qwen") would be the commercial Qwen licence: the link says research
    r = L.resolve("other", name="qwen", link=link)
    assert r.id == "LicenseRef-aitrail-qwen-research" and r.matched_by == "license_link"


@pytest.mark.parametrize(
    ("tag", "laundered"), [("openrail", False), ("creativeml-openrail-m", False), ("apache-2.0", True)]
)
def test_a_stable_diffusion_fine_tune_tagged_with_the_openrail_family_keeps_its_terms(tmp_path, tag, laundered):
    """Thousands of SD 1.x fine-tunes carry the Hub's generic `openrail` tag: a licence of the family, whose
    use restrictions every member passes on. Flagging them as laundering was a false alarm."""
    (tmp_path / "README.md").write_text(f"---\nlicense: {tag}\nbase_model: runwayml/stable-diffusion-v1-5\n---\n# ft\n")
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert any(f.rule == "license.laundering" for f in inv.findings) is laundered
    # which member's grant applies is not said: the verdict does not guess
    if tag == "openrail":
        assert L.report(inv, "commercial")["verdict"] == "unknown"


def test_every_licence_link_in_the_hub_docs_names_its_licence():
    rows = [r for r in csv.DictReader(open(LICENSES / "hf-license-ids.csv")) if r["license_links_in_hub_docs"]]
    assert len(rows) >= 15
    for r in rows:
        got = L.resolve("other", link=r["license_links_in_hub_docs"])
        assert got.id == L.resolve(r["hf_id"]).id and got.matched_by == "license_link", r


@pytest.mark.parametrize(
    ("link", "licence"),
    [
        ("https://ai.meta.com/llama/license/", "LicenseRef-aitrail-llama-2"),  # hub-docs' suggested link
        ("https://www.llama.com/llama3_1/license/", "LicenseRef-aitrail-llama-3.1"),
        ("https://creativecommons.org/licenses/by-nc/4.0/", "CC-BY-NC-4.0"),
        ("https://creativecommons.org/licenses/by-nc-nd/3.0/legalcode", "CC-BY-NC-ND-3.0"),
        ("https://creativecommons.org/licenses/by/4.0/deed.en", "CC-BY-4.0"),
        ("https://opensource.org/licenses/MIT", "MIT"),
        ("https://spdx.org/licenses/GPL-3.0-only.html", "GPL-3.0"),
        ("http://www.apache.org/licenses/LICENSE-2.0.txt", "Apache-2.0"),
    ],
)
def test_license_link_by_the_licence_sites_own_addresses(link, licence):
    """`license: other` + `license_link` only: the link names the licence (it was unknown)."""
    assert L.resolve("other", link=link).id == licence


def test_the_hub_docs_llama2_suggestions_resolve_by_link_and_name():
    rows = list(csv.DictReader(open(LICENSES / "hf-hub-docs" / "model_license_other.csv")))
    named = [r for r in rows if r["suggested_license_name"] == "llama-2-community-license"]
    assert len(named) > 100
    for r in named:
        assert L.resolve("other", link=r["suggested_license_link"]).id == "LicenseRef-aitrail-llama-2"


def test_a_licence_link_contradicting_the_licence_id_is_a_second_declaration(tmp_path):
    """`license: apache-2.0` linking the CC BY-NC legal code: the link was ignored (a value was given), so the
    model was "allowed". Both are the card's declarations: a conflict, and the stricter decides."""
    (tmp_path / "README.md").write_text(
        "---\nlicense: apache-2.0\nlicense_link: https://creativecommons.org/licenses/by-nc/4.0/\n---\n# m\n"
    )
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    inv = aitrail.scan(tmp_path, hash_files=False)
    rep = L.report(inv, "commercial")
    assert rep["verdict"] == "not_allowed"
    assert {c["license"] for c in rep["components"]} == {"Apache-2.0", "CC-BY-NC-4.0"}
    assert any(f.rule == "license.conflict" for f in inv.findings)


def test_a_licence_link_agreeing_with_the_id_adds_nothing(tmp_path):
    (tmp_path / "README.md").write_text(
        "---\nlicense: llama3.1\nlicense_link: https://llama.meta.com/llama3_1/license/\n---\n# m\n"
    )
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert [c["license"] for c in L.report(inv, "commercial")["components"]] == ["LicenseRef-aitrail-llama-3.1"]
    assert not any(f.rule == "license.conflict" for f in inv.findings)
