"""The hub report: self-contained HTML, looked at in headless chromium."""

from __future__ import annotations

import base64
import re
import shutil

import pyarrow.parquet as pq
import pytest
from test_hub import EDGES, hub_main, real_rows

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("hubrep")
    pq.write_table(real_rows(600), d / "m.parquet")
    edges = d / "e.csv"
    edges.write_text("\n".join(EDGES.read_text("utf-8").splitlines()[:3000]) + "\n", "utf-8")
    assert hub_main(["hub", "run", str(d / "m.parquet"), "--out", str(d / "run"), "--lineage", str(edges), "-q"]) == 0
    assert hub_main(["hub", "report", str(d / "run"), "-o", str(d / "r.html"), "-q"]) == 0
    return d / "r.html"


def test_report_is_self_contained_with_the_csv_behind_each_plot(report):
    text = report.read_text("utf-8")
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", text)  # nothing fetched from anywhere
    assert "<script" not in text
    links = re.findall(r'download="([\w-]+\.csv)" href="data:text/csv;base64,([^"]+)"', text)
    names = {n for n, _ in links}
    assert {"licences.csv", "openness-years.csv", "openness-orgs.csv", "completeness.csv", "lineage-depth.csv",
            "licence-drift.csv", "laundering.csv", "bases-beyond-run.csv"} <= names
    beyond = base64.b64decode(dict(links)["bases-beyond-run.csv"]).decode().splitlines()
    assert beyond[0] == "resolved_by,bases,examples" and beyond[-1].startswith("unresolved,")
    lic = base64.b64decode(dict(links)["licences.csv"]).decode()
    assert lic.splitlines()[0] == "licence,models" and "Apache-2.0" in lic


def test_report_renders_in_headless_chromium(report):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])  # None: playwright's own
        page = browser.new_page()
        messages: list[str] = []
        page.on("console", lambda m: messages.append(m.text))
        page.on("requestfailed", lambda r: messages.append(f"failed {r.url}"))
        page.goto(report.as_uri())
        assert page.locator("svg.chart").count() >= 8
        assert page.locator("svg.chart rect").count() > 20  # bars drawn, not empty charts
        assert "models judged" in page.locator("#summary").inner_text()
        box = page.locator("#licences svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        browser.close()
    assert messages == []
