"""The web UI, from the same process: model list with filters and search, a model page (summary,
files, licences and obligations, openness, findings, lineage graph, history, deployments, card),
a dashboard with charts, and policy violations.

Pages are built from escaped strings (no template engine over uploaded text); cards are Markdown
rendered by markdown-it with raw HTML off, images off and unsafe link schemes refused, and every
page is served under a strict Content-Security-Policy: no inline or third-party script can run even
if something slipped through. Charts and the lineage graph are server-drawn SVG (no script at all).
"""

from __future__ import annotations

from html import escape
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...core.security import SCOPES, allows, token_hash
from ...crud import lifecycle, queries
from ...models import Label, Lineage, Token, Version
from ..deps import Caller, state
from ..problems import COOKIE, LoginRequired, Problem
from .manage import stats

router = APIRouter(include_in_schema=False)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
FILTERS = ("q", "license", "dataset", "base_model", "environment", "rule")


def _page(title: str, body: str, request: Request | None = None, status: int = 200) -> HTMLResponse:
    session = ""
    if request is not None and request.cookies.get(COOKIE):
        session = "<form class=session method=post action='/ui/logout'><button type=submit>Log out</button></form>"
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · aitrail registry</title><link rel=stylesheet href='/static/app.css'></head><body>"
        "<header><a href='/'>aitrail registry</a><a href='/ui/dashboard'>Dashboard</a>"
        f"<a href='/ui/violations'>Policy violations</a>{session}</header>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    headers = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=status, headers=headers)


# --- login: when the server requires read tokens, a browser holds one in an HttpOnly, SameSite=Strict
# cookie set by a POSTed form (never in a URL). Only these UI pages accept the cookie: the API takes
# tokens from headers alone, so a cookie can never make a cross-site request act with its rights.

SESSION_SECONDS = 8 * 3600


def _token(request: Request, presented: str) -> Caller | None:
    with state(request).db.read() as s:
        tok = s.scalar(select(Token).where(Token.hash == token_hash(presented), Token.revoked.is_(False)))
    if tok is None or tok.scope not in SCOPES or not allows(tok.scope, "read"):
        return None
    return Caller(tok.id, tok.scope)


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _safe_next(value: Any) -> str:
    """Only a path on this server (no scheme, host or protocol-relative //host): no open redirect."""
    v = str(value or "/")
    return v if v.startswith("/") and not v.startswith("//") and "\\" not in v and len(v) <= 2000 else "/"


def ui_reader(request: Request) -> Caller:
    """The UI's reader: a token in the headers (as the API), else the login cookie, else the login form."""
    from ..deps import caller

    headers = request.headers
    if request.cookies.get(COOKIE) and not headers.get("authorization") and not headers.get("x-api-key"):
        c = _token(request, request.cookies[COOKIE])
        if c is None:  # revoked (or forged): forget it and ask again
            raise LoginRequired(_here(request), clear=True)
        return c
    try:
        return caller(request, "read")
    except Problem as e:
        if e.status == 401 and not headers.get("authorization") and not headers.get("x-api-key"):
            raise LoginRequired(_here(request)) from None
        raise


UIReader = Annotated[Caller, Depends(ui_reader)]


def _login_form(request: Request, next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    why = "This registry requires a token to read." if state(request).settings.read_token_required else ""
    body = (
        (f"<p class=error id=login-error>{escape(error)}</p>" if error else "")
        + f"<p>{escape(why)} Paste an API token (<code>aitrail token create --scope read</code>).</p>"
        "<form id=login method=post action='/ui/login'>"
        f"<input type=hidden name=next value='{escape(_safe_next(next_path), quote=True)}'>"
        "<input type=password name=token autocomplete=off placeholder='ait_…' required>"
        "<button type=submit>Log in</button></form>"
    )
    return _page("Log in", body, status=status)


def _same_origin(request: Request) -> None:
    """A login or logout form posted from another site is refused (login CSRF)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise Problem(403, "cross-site form", "the form was posted from another origin", "forbidden")


@router.get("/ui/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the form field's name
    return _login_form(request, next)


@router.post("/ui/login")
async def login(request: Request) -> Response:
    from ..deps import body

    _same_origin(request)
    await body(request)  # bounded by the upload limit before the form is parsed
    form = await request.form(max_files=0, max_fields=4)
    next_path = _safe_next(form.get("next"))
    presented = str(form.get("token") or "").strip()
    c = _token(request, presented) if presented else None
    if c is None:
        return _login_form(request, next_path, "That token is not known, was revoked, or cannot read.", 401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        presented,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/ui/logout")
def logout(request: Request) -> Response:
    _same_origin(request)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("js-default")  # raw HTML off; javascript:/vbscript:/data: links refused
    md.disable("image")  # an image would make the reader's browser fetch the uploader's URL
    return md.render(text)


def _badge(passed: bool | None) -> str:
    cls, word = {True: ("pass", "passes"), False: ("fail", "fails"), None: ("unknown", "not judged")}[passed]
    return f"<span class='badge {cls}'>{word}</span>"


@router.get("/static/app.css")
def css() -> Response:
    text = resources.files("aitrail.registry").joinpath("static/app.css").read_text("utf-8")
    return Response(text, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/", response_class=HTMLResponse)
def index(request: Request, _c: UIReader) -> HTMLResponse:
    p = request.query_params
    g = {k: (p.get(k) or None) for k in FILTERS}
    f = queries.Filters(
        license=g["license"],
        dataset=g["dataset"],
        base_model=g["base_model"],
        rule=g["rule"],
        q=g["q"],
        environment=g["environment"],
    )
    try:
        offset = max(0, int(p.get("offset", "0")))
    except ValueError:
        offset = 0
    with state(request).db.read() as s:
        items, total = queries.list_models(s, f, 50, offset)
    form = "<form class=filters method=get action='/'>" + "".join(
        f"<input name={k} placeholder='{k.replace('_', ' ')}' value='{escape(p.get(k, ''), quote=True)}'>"
        for k in FILTERS
    )
    form += "<button type=submit>Search</button></form>"
    rows = "".join(
        f"<tr><td><a href='/ui/models/{it['id']}'>{escape(it['name'])}</a></td>"
        f"<td>{escape(', '.join(it['labels'][:4]))}</td><td>{escape(str(it['verdict'] or ''))}</td>"
        f"<td>{escape(str(it['mof_class'] if it['mof_class'] is not None else ''))}</td>"
        f"<td>{escape(str(it['max_severity'] or ''))}</td><td>{_badge(it['policy_passed'])}</td></tr>"
        for it in items
    )
    table = (
        f"<p id=total>{total} model version(s)</p><table id=models><tr><th>Model</th><th>Labels</th>"
        f"<th>Licence verdict</th><th>MOF class</th><th>Worst finding</th><th>Policy</th></tr>{rows}</table>"
    )
    nav = ""
    if offset + 50 < total:
        q = {k: p[k] for k in FILTERS if p.get(k)}
        nav = f"<a href='/?{escape(urlencode({**q, 'offset': offset + 50}), quote=True)}'>next</a>"
    return _page("Models", form + table + nav, request)


def _graph(s: Session, vid: int, name: str, labels: list[str]) -> str:
    """Ancestors (through stored versions, up to 4 hops) left, this version, descendants right."""
    cols: list[list[tuple[str, int | None]]] = [[(name, vid)]]
    edges: list[tuple[str, str]] = []
    seen = {name.lower()}
    frontier = [(vid, name)]
    for _ in range(4):
        nxt: list[tuple[str, int | None]] = []
        for fv, fname in frontier:
            for base in s.scalars(select(Lineage.base).where(Lineage.version_id == fv)).all()[:12]:
                edges.append((base, fname))
                if base.lower() in seen:
                    continue
                seen.add(base.lower())
                known = s.scalar(
                    select(Label.version_id).where(Label.key == base.lower()).order_by(Label.id.desc()).limit(1)
                )
                nxt.append((base, known))
        if not nxt:
            break
        cols.insert(0, nxt)
        frontier = [(v, n) for n, v in nxt if v is not None]
    keys = [lab.lower() for lab in labels] or [name.lower()]
    kids = s.execute(
        select(Label.name, Label.version_id)
        .join(Lineage, Lineage.version_id == Label.version_id)
        .where(Lineage.key.in_(keys))
        .limit(12)
    ).all()
    kid_nodes: list[tuple[str, int | None]] = []
    for kname, kvid in kids:
        if kname.lower() not in seen:
            seen.add(kname.lower())
            kid_nodes.append((kname, kvid))
            edges.append((name, kname))
    if kid_nodes:
        cols.append(kid_nodes)
    w, h, gap_x, gap_y = 220, 34, 60, 16
    pos: dict[str, tuple[int, int]] = {}
    parts = []
    for ci, col in enumerate(cols):
        for ri, (label, v) in enumerate(col):
            x, y = 10 + ci * (w + gap_x), 10 + ri * (h + gap_y)
            pos.setdefault(label, (x, y))
            text = escape(label if len(label) <= 32 else label[:31] + "…")
            cls = "node self" if v == vid else "node"
            box = (
                f"<rect x='{x}' y='{y}' width='{w}' height='{h}' rx='6' fill='{'#dbe7ff' if v == vid else '#fff'}' "
                f"stroke='#1f2a44'/><text x='{x + 8}' y='{y + 21}'>{text}</text>"
            )
            parts.append(f"<g class='{cls}'>" + (f"<a href='/ui/models/{v}'>{box}</a>" if v else box) + "</g>")
    lines = []
    for a, b in edges:
        if a in pos and b in pos:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            lines.append(f"<line x1='{x1 + w}' y1='{y1 + h // 2}' x2='{x2}' y2='{y2 + h // 2}' stroke='#6b7280'/>")
    width = 20 + len(cols) * (w + gap_x)
    height = 20 + max(len(c) for c in cols) * (h + gap_y)
    return (
        f"<svg class=lineage role=img aria-label='lineage graph' width='{width}' height='{height}' "
        f"xmlns='http://www.w3.org/2000/svg'>{''.join(lines)}{''.join(parts)}</svg>"
    )


def _support(life: dict[str, Any]) -> str:
    dates = [(k.replace("_", " "), life.get(k)) for k in ("end_of_development", "end_of_support", "end_of_life")]
    return "; ".join([str(life["support_status"]), *(f"{k} {v[:10]}" for k, v in dates if v)])


def _table(rows: list[dict[str, Any]], cols: tuple[str, ...], empty: str) -> str:
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c) or ''))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


@router.get("/ui/models/{vid}", response_class=HTMLResponse)
def model_page(request: Request, vid: int, _c: UIReader) -> HTMLResponse:
    with state(request).db.read() as s:
        d = queries.detail(s, vid)
        if d is None:
            raise Problem(404, "no such version", f"version {vid} is not in the registry", "not-found")
        labels = [x["name"] for x in d["labels"]]
        graph = _graph(s, vid, d["name"], labels)
        v = s.get(Version, vid)
        life = lifecycle.summary(s, v) if v is not None else {"support_status": "unknown"}
        history = []
        for lab in labels[:5]:
            for h in queries.history(s, lab):
                history.append({"label": lab, "version": h["id"], "identity": h["identity"], "at": h["labelled_at"]})
    mof = [o.get("mof", {}).get("label", "") for o in d["openness"] if isinstance(o, dict)]
    ident = f"<code>{escape(d['identity'])}</code> ({escape(d['identity_kind'])})"
    use, verdict = escape(str(d["use"] or "")), escape(str(d["verdict"] or "unknown"))
    summary = (
        f"<table id=summary><tr><th>Identity</th><td>{ident}</td></tr>"
        f"<tr><th>Labels</th><td>{escape(', '.join(labels))}</td></tr>"
        f"<tr><th>Licence verdict ({use})</th><td>{verdict}</td></tr>"
        f"<tr><th>Openness</th><td>{escape(', '.join(mof) or 'not graded')}</td></tr>"
        f"<tr><th>Policy</th><td>{_badge(d['policy_passed'])}</td></tr>"
        f"<tr><th>Support</th><td id=support>{escape(_support(life))}</td></tr>"
        f"<tr><th>Knowledge</th><td>{escape(d['knowledge_version'])}</td></tr></table>"
    )
    obligations = [
        {"obligation": o.get("text"), "license": o.get("license"), "clause": o.get("clause")} for o in d["obligations"]
    ]
    card = f"<div class=card id=card>{markdown(d['card'])}</div>" if d["card"] else "<p>No model card.</p>"
    dep_cols = ("environment", "service", "owner", "since", "support_status", "end_of_life", "policy_passed")
    lic_cols = ("component", "role", "license", "verdict", "evidence")
    body = (
        f"<section>{summary}</section>"
        f"<section><h2>Lineage</h2>{graph}</section>"
        f"<section><h2>Deployments</h2>{_table(d['deployments'], dep_cols, 'Not deployed.')}</section>"
        f"<section><h2>Licences</h2>{_table(d['licenses'], lic_cols, 'No licence evidence.')}"
        f"<h3>Obligations</h3>{_table(obligations, ('obligation', 'license', 'clause'), 'None.')}</section>"
        f"<section><h2>Findings</h2>{_table(d['findings'], ('severity', 'rule', 'path', 'message'), 'None.')}</section>"
        f"<section><h2>Datasets</h2>{_table(d['datasets'], ('name', 'relation'), 'None declared.')}</section>"
        f"<section><h2>Files</h2>{_table(d['files'], ('path', 'sha256', 'size', 'format'), 'No files.')}</section>"
        f"<section><h2>History</h2>{_table(history, ('label', 'version', 'identity', 'at'), 'No history.')}</section>"
        f"<section><h2>Model card</h2>{card}</section>"
    )
    return _page(d["name"], body, request)


def _bars(title: str, counts: dict[str, int], cls: str) -> str:
    if not counts:
        return f"<h2>{escape(title)}</h2><p>No data.</p>"
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    biggest = max(n for _, n in top) or 1
    rows = []
    for i, (k, n) in enumerate(top):
        y = i * 24
        width = int(300 * n / biggest)
        rows.append(
            f"<text x='0' y='{y + 15}'>{escape(k[:40])}</text><rect class=bar x='260' y='{y + 3}' width='{width}' "
            f"height='16' fill='#3b82f6'/><text x='{266 + width}' y='{y + 15}'>{n}</text>"
        )
    return (
        f"<h2>{escape(title)}</h2><svg class='chart {cls}' width='640' height='{len(top) * 24 + 6}' "
        f"xmlns='http://www.w3.org/2000/svg'>{''.join(rows)}</svg>"
    )


@router.get("/ui/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, c: UIReader) -> HTMLResponse:
    st = stats(request, c)
    mof = {f"class {k}" if k != "None" else "not graded": n for k, n in st["mof_classes"].items()}
    body = (
        f"<p>{st['versions']} model version(s).</p>"
        + _bars("Licences (models)", st["licenses"], "licenses")
        + _bars("Openness (MOF class)", mof, "openness")
        + _bars("Findings by severity", st["findings_by_severity"], "findings")
        + _bars("Versions registered per day", st["versions_by_day"], "timeline")
    )
    return _page("Dashboard", body, request)


@router.get("/ui/violations", response_class=HTMLResponse)
def violations_page(request: Request, c: UIReader) -> HTMLResponse:
    from .manage import violations

    v = violations(request, c)
    vers = [
        {
            "version": x["id"],
            "name": x["name"],
            "violations": "; ".join(str(y.get("message", y)) for y in x["violations"]),
        }
        for x in v["versions"]
    ]
    deps = [{**x, "violations": "; ".join(str(y.get("message", y)) for y in x["violations"])} for x in v["deployments"]]
    body = (
        "<h2>Model versions</h2>"
        + _table(vers, ("version", "name", "violations"), "None.")
        + "<h2>Deployments</h2>"
        + _table(deps, ("version", "environment", "service", "owner", "violations"), "None.")
    )
    return _page("Policy violations", body, request)
