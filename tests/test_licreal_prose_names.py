"""Licence names as real cards write them in their License sections (2022 hub cards, session 6).

Each name below is quoted from a real card in ../shared hub-metadata/hf-hub-2022-snapshot (the words a
card's short License section gives after "released/distributed under"); all were "unknown" before.
"""

from __future__ import annotations

import pytest

from aitrail.analyze import licenses as L


@pytest.mark.parametrize(
    ("name", "licence"),
    [
        ("terms of the Creative Commons Attribution-ShareAlike 3.0", "CC-BY-SA-3.0"),  # cl-tohoku/bert-base-japanese
        ("terms of the Creative Commons Attribution-ShareAlike 4.0", "CC-BY-SA-4.0"),  # izumi-lab/bert-small-japanese
        ("terms of the MIT License", "MIT"),  # megagonlabs/transformers-ud-japanese-electra-base-ginza
        ("Attribution-ShareAlike 3.0 Unported", "CC-BY-SA-3.0"),  # mpariente/ConvTasNet_WHAM_sepclean
        ("Attribution-ShareAlike 3.0 Unported by Gerardo Roa Dabike", "CC-BY-SA-3.0"),  # groadabike/...
        ("Attribution-NonCommercial-ShareAlike 3.0 Unported", "CC-BY-NC-SA-3.0"),  # deutsche-telekom/mt5-...
        ("Creative Commons Attribution 4.0 International", "CC-BY-4.0"),
    ],
)
def test_licence_names_in_card_prose(name, licence):
    assert L.resolve(name).id == licence


@pytest.mark.parametrize(
    "name",
    ["CC BY NC License", "CC BY-NC", "Attribution-NonCommercial 4.0"],  # AmazonScience/qanlu: "CC BY NC License"
)
def test_a_non_commercial_name_never_reads_as_a_commercial_licence(name):
    r = L.resolve(name)
    assert L.licence_verdict(r, "commercial")[0] == "not_allowed", r.id


@pytest.mark.parametrize("name", ["a model by Google", "the terms of the licence", "licensed by Foo"])
def test_words_around_no_known_name_stay_unknown(name):
    assert not L.resolve(name).known


@pytest.mark.parametrize(
    ("name", "licence"),
    [
        # "++" is another licence: read as CreativeML OpenRAIL-M it was the wrong version
        ("creativeml-openrail++-m", "LicenseRef-aitrail-openrail-pp"),
        ("CreativeML Open RAIL++-M License", "LicenseRef-aitrail-openrail-pp"),
        ("creativeml-openrail-m", "LicenseRef-aitrail-creativeml-openrail-m"),
        ("NVIDIA Open Model License", "LicenseRef-aitrail-nvidia-open-model"),
        ("gemma-terms-of-use", "LicenseRef-aitrail-gemma"),
        ("mistral-research-license", "LicenseRef-aitrail-mrl-0.1"),
    ],
)
def test_license_name_spellings_of_model_licences(name, licence):
    assert L.resolve("other", name=name).id == licence


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        # a parenthesis that qualifies the licence makes it another licence, never the permissive one named
        ("Apache 2.0 (non-commercial use only)", "not_allowed"),
        ("CC-BY-4.0 (for non-commercial purposes)", "not_allowed"),
        ("MIT (research only)", "not_allowed"),
        ("Apache 2.0 (with additional restrictions)", "unknown"),
        # a parenthesis that only points or spells the version keeps the licence
        ("MIT (see LICENSE)", "allowed"),
        ("Apache License (Version 2.0)", "allowed"),
        ("AGPL-3.0 License (https://ultralytics.com/license)", "allowed"),
    ],
)
def test_a_qualified_licence_name_is_not_the_licence(name, verdict):
    assert L.licence_verdict(L.resolve(name), "commercial")[0] == verdict


def test_gpl_versions_in_prose():
    assert L.resolve("GNU General Public License v3").id == "GPL-3.0"
    assert L.resolve("GPL (v3)").id == "GPL-3.0"
    assert L.resolve("AGPL v3").id == "AGPL-3.0"


@pytest.mark.parametrize(
    ("name", "licence"),
    [
        ("Creative Commons (CC BY-NC 4.0)", "CC-BY-NC-4.0"),  # a family named with its member is the member
        ("Creative Commons (see LICENSE)", "LicenseRef-aitrail-cc-family"),  # a pointer names no member
        ("BSD (3-clause)", "BSD-3-Clause"),
    ],
)
def test_a_family_named_with_its_member(name, licence):
    assert L.resolve(name).id == licence
