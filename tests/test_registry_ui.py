"""The registry's web UI in real headless chromium (Debian's, driven by Playwright): pages load,
search narrows the list, the lineage graph is drawn, a hostile card's script does not run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_registry_support import check_doc, live_server, make_token, tiny_model

HOSTILE = """# Friendly model
<script>window.__pwned = 1</script>
<img src=x onerror="window.__pwned = 2">
[click me](javascript:window.__pwned=3)
![tracker](http://127.0.0.1:9/pixel.png)
Searchable phrase: zebra-crossing.
"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    exe = _chromium()
    if not exe:
        if os.environ.get("AITRAIL_REQUIRE_BROWSER"):
            pytest.fail("AITRAIL_REQUIRE_BROWSER is set but no chromium was found")
        pytest.skip("chromium not installed (.ci/run installs it and sets AITRAIL_REQUIRE_BROWSER)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


def test_ui_in_chromium(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from aitrail.registry.client import request

    db = str(tmp_path / "r.db")
    tok = make_token(db, "write")
    with live_server(db) as (url, _app):
        base = check_doc(tiny_model(tmp_path / "base", license="mit", size=2))
        request(url, "POST", "/api/v1/documents", token=tok, body={"document": base, "labels": ["acme/base"]})
        child = check_doc(tiny_model(tmp_path / "child", license="apache-2.0", base="acme/base", size=3))
        r = request(
            url,
            "POST",
            "/api/v1/documents",
            token=tok,
            body={"document": child, "labels": ["acme/child"], "card": HOSTILE},
        )
        request(
            url,
            "POST",
            f"/api/v1/models/{r['version']}/deployments",
            token=tok,
            body={"environment": "production", "service": "chat", "owner": "team-x"},
        )
        page = browser.new_page()
        blocked: list[str] = []
        page.on("request", lambda req: blocked.append(req.url) if "127.0.0.1:9" in req.url else None)
        resp = page.goto(url + "/")
        assert resp.status == 200 and "script-src 'self'" in resp.headers["content-security-policy"]
        assert page.locator("#models tr").count() == 3  # header + 2 versions
        page.fill("input[name=q]", "zebra-crossing")
        page.click("button[type=submit]")
        page.wait_for_url("**/?*q=zebra-crossing*")
        assert page.locator("#total").inner_text().startswith("1 ")
        page.click("#models a")
        page.wait_for_selector("svg.lineage")
        nodes = page.locator("svg.lineage g.node")
        assert nodes.count() == 2 and "acme/base" in (page.locator("svg.lineage").text_content() or "")
        box = page.locator("svg.lineage g.node").first.bounding_box()
        assert box and box["width"] > 50  # drawn, not just present
        assert page.evaluate("window.__pwned") is None
        card = page.locator("#card").inner_text()
        assert "<script>window.__pwned = 1</script>" in card  # shown as text, not run
        assert page.locator("#card a[href^=javascript]").count() == 0 and page.locator("#card img").count() == 0
        assert not blocked  # the card's image URL was never fetched
        assert "team-x" in page.content()
        page.goto(url + "/ui/dashboard")
        assert page.locator("svg.chart.licenses rect.bar").count() == 2
        assert page.goto(url + "/ui/violations").status == 200

        # Defence in depth: even a script that got into the page (a sanitiser bug) does not run under our CSP.
        def inject(route):  # type: ignore[no-untyped-def]
            resp = route.fetch()
            body = resp.text().replace("</main>", "<script>window.__injected = 1</script></main>")
            route.fulfill(response=resp, body=body)

        page.route("**/ui/models/*", inject)
        page.goto(url + f"/ui/models/{r['version']}")
        assert "window.__injected" in page.content() and page.evaluate("window.__injected") is None
        page.close()


def test_login_when_read_tokens_are_required(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The token goes in a POSTed form and lives in an HttpOnly, SameSite=Strict cookie: never in a URL,
    never readable by page script, accepted by the UI pages only (the API still wants a header)."""
    from aitrail.registry.client import request
    from aitrail.registry.crud.tokens import revoke

    db = str(tmp_path / "r.db")
    write, read = make_token(db, "write"), make_token(db, "read")
    with live_server(db, read_token_required=True) as (url, _app):
        doc = check_doc(tiny_model(tmp_path / "m", size=2))
        r = request(url, "POST", "/api/v1/documents", token=write, body={"document": doc, "labels": ["acme/m"]})
        context = browser.new_context()
        page = context.new_page()
        urls: list[str] = []
        page.on("request", lambda req: urls.append(req.url))
        page.goto(url + f"/ui/models/{r['version']}")
        assert "/ui/login?next=" in page.url and page.locator("form#login").count() == 1
        page.fill("input[name=token]", "ait_not-a-token")
        page.click("form#login button[type=submit]")
        page.wait_for_selector("#login-error")
        assert context.cookies() == []
        page.fill("input[name=token]", read)
        page.click("form#login button[type=submit]")
        page.wait_for_url(f"**/ui/models/{r['version']}")  # back where it was going
        assert page.locator("svg.lineage").count() == 1
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] == read
        assert page.evaluate("document.cookie") == ""  # page script cannot read it
        page.goto(url + "/")
        assert page.locator("#models tr").count() == 2
        assert not [u for u in urls if read in u]  # the token was never in a URL
        # the cookie is the UI's only: the API still answers 401 without a token header
        assert context.request.get(url + "/api/v1/models").status == 401
        # a login form posted from another site is refused
        cross = context.request.post(url + "/ui/login", form={"token": read}, headers={"Origin": "http://evil.test"})
        assert cross.status == 403
        # logging out forgets it; a revoked token's cookie leads back to the form
        page.click("form.session button[type=submit]")
        page.wait_for_url("**/ui/login")
        assert context.cookies() == []
        page.goto(url + "/ui/login?next=/ui/dashboard")
        page.fill("input[name=token]", read)
        page.click("form#login button[type=submit]")
        page.wait_for_url("**/ui/dashboard")
        from aitrail.registry.core.db import Database

        store = Database(db)
        assert revoke(store, read)
        store.dispose()
        page.goto(url + "/ui/violations")
        assert "/ui/login" in page.url and context.cookies() == []
        # the form only ever sends back to this server
        page.goto(url + "/ui/login?next=//evil.test/x")
        assert page.locator("input[name=next]").get_attribute("value") == "/"
        context.close()
