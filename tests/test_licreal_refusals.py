"""What a licence refuses stays refused when the rest of it is unknown (session 6).

The LocalAI gallery (a real inventory) declares licences aitrail has no text for: insightface-non-commercial,
flux-1-dev-non-commercial-license, webai-non-commercial-license-ver.-1.0, ideogram-non-commercial-model-agreement.
They were "unknown" for commercial use; the licence's own name refuses it. Unverified knowledge entries whose
recorded grant says "no" (Qwen RESEARCH, Mistral MNPL, FAIR noncommercial) were "unknown" too.
"""

from __future__ import annotations

import pytest
from conftest import SHARED

import aitrail
from aitrail import yamlsafe
from aitrail.analyze import licenses as L

GALLERY = SHARED / "data" / "hub-metadata" / "localai-gallery" / "index.yaml"


def test_every_gallery_licence_named_non_commercial_refuses_commercial_use():
    names = {str(e.get("license")) for e in yamlsafe.load(GALLERY.read_text("utf-8")) if e.get("license")}
    nc = sorted(n for n in names if "non-commercial" in n.lower() or n.lower().startswith("cc-by-nc"))
    assert len(nc) >= 6
    for n in nc:
        for use in ("commercial", "internal", "host"):
            verdict, _, why = L.licence_verdict(L.resolve(n), use)
            assert verdict == "not_allowed", (n, use)
            assert why
        # what else the licence allows is not known from its name
        if not L.resolve(n).known:
            assert L.licence_verdict(L.resolve(n), "research")[0] == "unknown"


@pytest.mark.parametrize("tag", ["qwen-research", "mnpl", "fair-noncommercial-research-license"])
def test_unverified_entries_keep_their_recorded_refusal(tag):
    r = L.resolve(tag)
    assert r.facts is not None and not r.facts.verified
    verdict, _, why = L.licence_verdict(r, "commercial")
    assert verdict == "not_allowed" and "not yet checked" in why
    assert L.licence_verdict(r, "research")[0] == "unknown"


@pytest.mark.parametrize("name", ["Foo Inc. Model License", "my-company-eula", "lfm1.0", "sync-license"])
def test_names_that_do_not_say_non_commercial_stay_unknown(name):
    assert L.licence_verdict(L.resolve(name), "commercial")[0] == "unknown"


def test_a_fine_tune_of_a_qwen_research_base_is_not_allowed(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\nbase_model: Qwen/Qwen2.5-3B-Instruct\n---\n# ft\n")
    inv = aitrail.scan(tmp_path, hash_files=False)
    rep = L.report(inv, "commercial")
    assert rep["verdict"] == "not_allowed"
    assert any(f.rule == "license.laundering" for f in inv.findings)


@pytest.mark.parametrize(
    "tag", ["apple-amlr", "h-research", "intel-research", "deepfloyd-if-license", "fish-audio-research-license"]
)
def test_a_research_licence_by_its_own_title_refuses_commercial_use(tag):
    """Hub ids whose texts aitrail has not checked, and a gallery licence it has no text for: each title says
    research (Apple Model License for Research, Intel Research Use License...)."""
    verdict, _, why = L.licence_verdict(L.resolve(tag), "commercial")
    assert verdict == "not_allowed" and "research use only" in why
    assert L.licence_verdict(L.resolve(tag), "research")[0] == "unknown"


@pytest.mark.parametrize("name", ["grok2-community", "nous-research", "research-and-development-kit-eula"])
def test_research_elsewhere_in_a_name_is_no_refusal(name):
    assert L.licence_verdict(L.resolve(name), "commercial")[0] == "unknown"


def test_identity_only_spdx_entries_named_non_commercial_refuse_commercial_use():
    """The SPDX list's other CC NC versions (2.5, 1.0, the ports) are identity-only entries: unknown before."""
    kb = L.knowledge()
    nc = [f for f in kb.licenses.values() if not f.verified and f.id.startswith("CC-BY-NC")]
    assert len(nc) >= 10
    for f in nc:
        assert L.licence_verdict(L.resolve(f.id), "commercial")[0] == "not_allowed", f.id
    # and nothing named so by accident: NCSA (Illinois) is a permissive licence
    assert L.licence_verdict(L.resolve("NCSA"), "commercial")[0] in ("allowed", "allowed_with_obligations")
