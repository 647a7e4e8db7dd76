"""``aitrail serve / token / push`` and the registry resolver, against a real server on loopback."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_registry_support import db_url, live_server, make_token, pg_cluster, tiny_model  # noqa: F401

from aitrail.resolvers import Chain, ModelFacts, Resolver, ResolverError
from aitrail.resolvers.registry import RegistryResolver


def _parser() -> tuple[argparse.ArgumentParser, dict]:
    from aitrail.cli import _common
    from aitrail.registry import cli

    p = argparse.ArgumentParser(prog="aitrail")
    sub = p.add_subparsers(dest="command", required=True)
    return p, cli.register(sub, _common)


def test_register_adds_serve_token_push() -> None:
    p, handlers = _parser()
    assert set(handlers) == {"serve", "token", "push", "registry"}
    a = p.parse_args(["serve", "--db", "postgresql://u@h/db", "--port", "9000"])
    assert a.db == "postgresql://u@h/db" and a.port == 9000 and a.host == "127.0.0.1"
    a = p.parse_args(["push", "m", "--to", "http://x", "--token", "t", "--name", "a", "--name", "b"])
    assert a.name == ["a", "b"]
    with pytest.raises(SystemExit):
        p.parse_args(["token", "create", "--scope", "root"])


def test_token_create_prints_a_token_stored_hashed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import select

    from aitrail.registry.core.db import Database
    from aitrail.registry.core.security import token_hash
    from aitrail.registry.models import Token

    p, handlers = _parser()
    db = str(tmp_path / "r.db")
    assert handlers["token"](p.parse_args(["token", "create", "--scope", "write", "--db", db])) == 0
    tok = capsys.readouterr().out.strip()
    assert tok.startswith("ait_") and len(tok) > 40
    d = Database(db)
    with d.read() as s:
        rows = s.execute(select(Token.hash, Token.scope)).all()
    d.dispose()
    assert rows == [(token_hash(tok), "write")]


def test_push_and_resolve_over_http(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    base = tiny_model(tmp_path / "base", license="mit", datasets=("acme/corpus",), size=2)
    child = tiny_model(tmp_path / "child", license="apache-2.0", base="acme/base-model", size=3)
    tok = make_token(db_url, "write")
    with live_server(db_url) as (url, _app):
        p, handlers = _parser()
        args = p.parse_args(["push", str(base), "--to", url, "--token", tok, "--name", "acme/base-model"])
        assert handlers["push"](args) == 0
        resp = json.loads(capsys.readouterr().out)
        assert resp["created"] and "acme/base-model" in resp["labels"]
        args = p.parse_args(["push", str(child), "--to", url, "--token", tok, "--name", "acme/child"])
        assert handlers["push"](args) == 0
        capsys.readouterr()

        r = RegistryResolver(url)
        assert isinstance(r, Resolver)
        facts = r.lookup("acme/base-model")
        assert isinstance(facts, ModelFacts) and facts.resolver == "registry"
        assert [x.value for x in facts.licences] == ["MIT"] and facts.datasets == ("acme/corpus",)
        assert facts.source.startswith(url + "/api/v1/models/")
        kid = r.lookup("ACME/child")
        assert kid is not None and [b.model_id for b in kid.bases] == ["acme/base-model"]
        assert r.lookup("nobody/knows") is None
        ans = Chain([RegistryResolver(url)]).lookup("acme/base-model")
        assert ans.facts is not None and ans.tried == ["registry"]
        # the stored document with its BOMs and card
        from aitrail.registry.client import request

        d = request(url, "GET", f"/api/v1/models/{resp['version']}")
        assert {b["format"] for b in d["boms"]} == {"cyclonedx", "spdx"} and d["card"].startswith("---")


def test_push_errors_name_the_registry(tmp_path: Path) -> None:
    from aitrail.errors import InputError

    m = tiny_model(tmp_path / "m")
    p, handlers = _parser()
    with live_server(str(tmp_path / "r.db")) as (url, _app):
        args = p.parse_args(["push", str(m), "--to", url, "--token", "ait_wrong"])
        with pytest.raises(InputError, match="401"):
            handlers["push"](args)


def test_resolver_fails_closed(tmp_path: Path) -> None:
    from test_registry_support import _free_port

    dead = RegistryResolver(f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(ResolverError, match="127.0.0.1"):
        dead.lookup("acme/x")
    ans = Chain([dead]).lookup("acme/x")
    assert ans.facts is None and ans.errors and ans.errors[0].startswith("registry: ")
    db = str(tmp_path / "r.db")
    with live_server(db, read_token_required=True) as (url, _app):
        with pytest.raises(ResolverError, match="401"):
            RegistryResolver(url).lookup("acme/x")
        assert RegistryResolver(url, token=make_token(db, "read")).lookup("acme/x") is None


SERVE = """
import argparse, sys
from aitrail.cli import _common
from aitrail.registry import cli
p = argparse.ArgumentParser()
handlers = cli.register(p.add_subparsers(dest="command"), _common)
sys.exit(handlers["serve"](p.parse_args(sys.argv[1:])))
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_runs_the_app(tmp_path: Path, workers: str) -> None:
    import subprocess
    import sys
    import time

    from test_registry_support import _free_port

    from aitrail.registry.client import RegistryError, request

    port = _free_port()
    db = tmp_path / "served.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--db", str(db), "--port", str(port), "--quiet", "--workers", workers],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                assert request(url, "GET", "/api/v1/health")["status"] == "ok"
                break
            except RegistryError:
                assert proc.poll() is None and time.monotonic() < deadline, "aitrail serve did not start"
                time.sleep(0.1)
        assert "/api/v1/models" in request(url, "GET", "/openapi.json")["paths"]
        assert db.is_file()  # the SQLite file was created and migrated
    finally:
        proc.terminate()
        proc.wait(20)


def test_licenses_uses_the_registry_for_a_base_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`aitrail licenses --registry URL`: a base model known only to the registry gets its licence from it."""
    from aitrail.cli import main

    db = str(tmp_path / "r.db")
    tok = make_token(db, "write")
    base = tiny_model(tmp_path / "base", license="cc-by-nc-4.0", size=2)
    child = tiny_model(tmp_path / "child", license="apache-2.0", base="acme/nc-base", size=3)
    with live_server(db) as (url, _app):
        p, handlers = _parser()
        assert (
            handlers["push"](p.parse_args(["push", str(base), "--to", url, "--token", tok, "--name", "acme/nc-base"]))
            == 0
        )
        capsys.readouterr()
        assert main(["licenses", str(child), "--use", "commercial", "-f", "json", "--registry", url]) == 0
        with_registry = json.loads(capsys.readouterr().out)
    assert main(["licenses", str(child), "--use", "commercial", "-f", "json"]) == 0
    without = json.loads(capsys.readouterr().out)
    base_with = [c for c in with_registry["components"] if c["name"] == "acme/nc-base"]
    assert base_with and base_with[0]["license"] == "CC-BY-NC-4.0", with_registry["components"]
    assert any("registry" in str(e) for e in base_with[0]["evidence"])
    assert with_registry["verdict"] != without["verdict"]


def test_token_list_and_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p, handlers = _parser()
    db = str(tmp_path / "r.db")
    a = make_token(db, "write")
    make_token(db, "read")
    assert handlers["token"](p.parse_args(["token", "list", "--db", db])) == 0
    listed = capsys.readouterr().out
    assert listed.count("active") == 2 and a not in listed  # never the token itself
    with live_server(db) as (url, _app):
        from aitrail.registry.client import RegistryError, request

        doc = {"document": {}}
        with pytest.raises(RegistryError) as e:
            request(url, "POST", "/api/v1/documents", token=a, body=doc)
        assert e.value.status == 422  # accepted as a writer, the body is what is wrong
        assert handlers["token"](p.parse_args(["token", "revoke", a, "--db", db])) == 0
        with pytest.raises(RegistryError) as e:
            request(url, "POST", "/api/v1/documents", token=a, body=doc)
        assert e.value.status == 401
    assert handlers["token"](p.parse_args(["token", "revoke", "2", "--db", db])) == 0
    capsys.readouterr()
    handlers["token"](p.parse_args(["token", "list", "--db", db]))
    assert capsys.readouterr().out.count("\trevoked\t") == 2


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_push_never_follows_a_redirect(tmp_path: Path, code: int) -> None:
    """A registry URL answering with a redirect (to another host): urllib's default handler would send the
    write token there and turn the POST into a GET answered "new version" although nothing was uploaded."""
    import http.server
    import threading

    from test_registry_support import _free_port

    from aitrail.errors import InputError

    seen: list[tuple[str, str, str | None]] = []
    port = _free_port()

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            seen.append((self.command, self.path, self.headers.get("Authorization")))
            if self.path.startswith("/elsewhere"):
                body = json.dumps({"version": 1, "identity": "x", "labels": [], "created": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(code)
            self.send_header("Location", f"http://localhost:{port}/elsewhere{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        m = tiny_model(tmp_path / "m")
        p, handlers = _parser()
        args = p.parse_args(["push", str(m), "--to", f"http://127.0.0.1:{port}", "--token", "ait_SECRET", "-q"])
        where = f"http://localhost:{port}/elsewhere"
        with pytest.raises(InputError, match=f"HTTP {code} .*redirect to {where}.* not followed"):
            handlers["push"](args)
        with pytest.raises(ResolverError, match="not followed"):
            RegistryResolver(f"http://127.0.0.1:{port}").lookup("acme/x")
    finally:
        srv.shutdown()
        srv.server_close()
    assert [s[0] for s in seen] == ["POST", "GET"]  # one request each, never the redirected one
    assert not any(s[1].startswith("/elsewhere") for s in seen)
