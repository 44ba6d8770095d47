"""The IT console: server-rendered pages (Japanese, ``?lang=en`` for English).

Security: Jinja2 autoescaping is on; every POST form carries the session's CSRF token (login uses
a double-submit cookie); cookies are HttpOnly and SameSite=Strict (Secure over HTTPS); the session
token is stored hashed. Nothing here loads from a CDN.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from contracts.usage import USAGE_KINDS
from glossary.schema import Glossary
from server import crud, pack_report, reports, usage_counts
from server.api.deps import MAX_ROW_ID, SessionDep, check_admin_password
from server.api.routes.devices import device_public
from server.console_text import LANGS, TEXT
from server.core.security import new_token, tokens_equal
from server.core.state import server_state
from server.errors import ServerError
from server.glossary_ops import MAX_UPLOAD_BYTES, diff_glossaries, read_upload
from server.schemas import GlossaryVersionPublic
from server.tables import AdminSession, utcnow

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "madoguchi_session"
LOGIN_CSRF_COOKIE = "madoguchi_login_csrf"
LANG_COOKIE = "madoguchi_lang"

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[2] / "templates"))
templates.env.autoescape = True


class LoginRequired(Exception):
    """No valid console session: go to the login page."""


class CsrfFailed(Exception):
    """A console form came without the right CSRF token."""


def install(app: FastAPI) -> None:
    """Register the console's redirects and error pages on the app."""

    async def _to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/console/login", status_code=303)

    async def _csrf(request: Request, exc: Exception) -> Response:
        lang = _lang(request)
        return HTMLResponse(TEXT[lang]["csrf"], status_code=403)

    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(CsrfFailed, _csrf)

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "ja"
    return lang if lang in LANGS else "ja"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    lang = _lang(request)
    response = templates.TemplateResponse(
        request, name, {"t": TEXT[lang], "lang": lang, **context}, status_code=status_code, headers=headers
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(
            LANG_COOKIE, lang, httponly=True, samesite="strict", secure=_secure(request), max_age=365 * 86400
        )
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def console_session(request: Request, session: SessionDep) -> AdminSession:
    """The admin's live console session (redirects to the login page otherwise)."""
    token = request.cookies.get(SESSION_COOKIE)
    row = crud.admin_session_by_token(session=session, token=token) if token else None
    if row is None:
        raise LoginRequired()
    return row


ConsoleDep = Annotated[AdminSession, Depends(console_session)]


def _check_csrf(row: AdminSession, token: str) -> None:
    if not token or not tokens_equal(token, row.csrf_token):
        raise CsrfFailed()


# --- login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form, with a fresh double-submit CSRF cookie."""
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response = _render(request, "login.html", {"csrf": csrf, "failed": False})
    response.set_cookie(
        LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/console"
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the password; on success set the session cookie and go to the fleet page."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not tokens_equal(cookie, csrf_token):
        raise CsrfFailed()
    try:
        admin = check_admin_password(request, session, username, password)
    except HTTPException as exc:
        if exc.status_code not in (429, 503):
            raise
        context = {"csrf": cookie, "failed": False, "throttled": True}
        return _render(request, "login.html", context, status_code=exc.status_code, headers=exc.headers)
    if admin is None:
        return _render(request, "login.html", {"csrf": cookie, "failed": True}, status_code=401)
    hours = server_state(request).settings.session_hours
    _row, token = crud.create_admin_session(session=session, admin=admin, hours=hours)
    session.commit()
    _LOGGER.info("console login: %s", admin.username)
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
        max_age=int(hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(
    session: SessionDep, row: ConsoleDep, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """End the console session."""
    _check_csrf(row, csrf_token)
    crud.end_admin_session(session=session, row=row)
    session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


# --- fleet ---------------------------------------------------------------------------------------


@router.get("/")
def fleet_page(request: Request, session: SessionDep, row: ConsoleDep) -> Response:
    """Every enrolled device with its last report."""
    hours = server_state(request).settings.stale_after_hours
    now = utcnow()
    devices = [device_public(d, stale_after_hours=hours, now=now) for d in crud.list_devices(session=session)]
    return _render(request, "fleet.html", {"row": row, "devices": devices, "page": "fleet"})


# --- packs ---------------------------------------------------------------------------------------


@router.get("/packs")
def packs_page(
    request: Request,
    session: SessionDep,
    row: ConsoleDep,
    pushed: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> Response:
    """Per site and device: installed ASR, MT and voice packs, what its languages lack, licences, and per
    site a form to push a stored pack to its devices (``pushed``: the push just made, to confirm)."""
    devices = [d for d in crud.list_devices(session=session) if d.revoked_at is None]
    rows = [pack_report.device_packs(d.site.name, d.name, d.packs, d.languages) for d in devices]
    releases = crud.list_pack_releases(session=session)
    context = {
        "row": row,
        "page": "packs",
        "devices": rows,
        "credits": pack_report.attributions(releases),
        "states": pack_report.offer_states(releases, crud.site_pushes(session=session)),
        "sites": _site_pushes(session, devices, rows, releases),
        "pushed": crud.site_push(session=session, push_id=pushed) if pushed else None,
    }
    return _render(request, "packs.html", context)


def _site_pushes(
    session: Session, devices: list[Any], rows: list[pack_report.DevicePacks], releases: list[Any]
) -> list[pack_report.SitePush]:
    """Per site, the stored packs whose newest release is not offered to it yet (held, or a held newer
    version of a pack whose older release every site gets) and what each would add there."""
    newest = {release.pack_id: release for release in releases}  # ordered by id: the last one wins
    out = []
    for site in crud.list_sites(session=session):
        mine = [r for d, r in zip(devices, rows, strict=True) if d.site_id == site.id and r.reported]
        here = [d for d in devices if d.site_id == site.id]
        languages = {code for d in here for code in json.loads(d.languages or "[]")}
        offered = {r.pack_id: r.id for r in crud.pack_offers(session=session, site_id=site.id)}
        candidates = [newest[key] for key in sorted(newest) if offered.get(key) != newest[key].id]
        out.append(pack_report.push_choices(site.id, site.name, mine, languages, candidates))
    return out


@router.post("/packs/push")
def packs_push(
    session: SessionDep,
    row: ConsoleDep,
    site_id: Annotated[int, Form(ge=1, le=MAX_ROW_ID)],
    pack_id: Annotated[str, Form(max_length=100)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Offer a stored pack to the devices of one site: they fetch it at their next heartbeat."""
    _check_csrf(row, csrf_token)
    try:
        by = row.admin.username
        push = crud.push_pack_to_site(session=session, site_id=site_id, pack_id=pack_id, by=by)
    except ServerError as exc:
        raise HTTPException(status_code=404, detail="No such site or pack") from exc
    session.commit()
    _LOGGER.info("console: %s pushed pack %s to site %d", row.admin.username, pack_id, site_id)
    return RedirectResponse(f"/console/packs?pushed={push.id}", status_code=303)


# --- glossary ------------------------------------------------------------------------------------


def _versions(session: Session) -> list[GlossaryVersionPublic]:
    return [GlossaryVersionPublic.model_validate(v) for v in crud.list_glossary_versions(session=session)]


@router.get("/glossary")
def glossary_page(
    request: Request,
    session: SessionDep,
    row: ConsoleDep,
    done: Annotated[str, Query(pattern=r"^[a-z_]{0,20}$")] = "",
) -> Response:
    """Published versions, the upload form and rollback buttons."""
    context = {"row": row, "versions": _versions(session), "page": "glossary", "done": done}
    return _render(request, "glossary.html", context)


@router.post("/glossary/upload")
async def glossary_upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check an uploaded glossary file and show its diff against the current version."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    return await run_in_threadpool(_preview, request, file.filename or "upload", data, csrf_token)


def _preview(request: Request, filename: str, data: bytes, csrf_token: str) -> Response:
    state = server_state(request)
    with state.session_factory() as session:
        row = console_session(request, session)
        _check_csrf(row, csrf_token)
        current_row = crud.current_glossary(session=session)
        current = crud.glossary_of(current_row) if current_row else None
        result = read_upload(filename, data, current)
        context: dict[str, Any] = {
            "row": row,
            "page": "glossary",
            "filename": filename,
            "problems": result.problems,
            "warnings": result.warnings,
            "diff": None,
            "pending_id": None,
            "same": False,
        }
        if result.glossary is not None:
            context["diff"] = diff_glossaries(current, result.glossary)
            context["same"] = current is not None and current.content_hash == result.glossary.content_hash
            context["counts"] = (len(result.glossary.terms), len(result.glossary.phrases))
            if not context["same"]:
                pending = crud.save_pending_upload(
                    session=session, admin=row.admin, filename=filename, glossary=result.glossary
                )
                context["pending_id"] = pending.id
                session.commit()
        status_code = 422 if result.problems else 200
        return _render(request, "preview.html", context, status_code=status_code)


@router.post("/glossary/publish")
def glossary_publish(
    request: Request,
    session: SessionDep,
    row: ConsoleDep,
    pending_id: Annotated[int, Form(ge=1, le=MAX_ROW_ID)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Sign and publish a previewed upload of this admin."""
    _check_csrf(row, csrf_token)
    pending = crud.pending_upload(session=session, upload_id=pending_id, admin=row.admin)
    if pending is None:
        return RedirectResponse("/console/glossary", status_code=303)
    crud.publish_glossary(
        session=session,
        glossary=Glossary.from_json(pending.content),
        signing_key=server_state(request).signing_key,
        published_by=row.admin.username,
        note=f"upload {pending.filename}",
    )
    session.delete(pending)
    session.commit()
    return RedirectResponse("/console/glossary?done=published", status_code=303)


@router.post("/glossary/rollback")
def glossary_rollback(
    request: Request,
    session: SessionDep,
    row: ConsoleDep,
    number: Annotated[int, Form(ge=1, le=MAX_ROW_ID)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Publish an earlier version's content again as the newest version."""
    _check_csrf(row, csrf_token)
    crud.rollback_glossary(
        session=session,
        number=number,
        signing_key=server_state(request).signing_key,
        published_by=row.admin.username,
    )
    session.commit()
    return RedirectResponse("/console/glossary?done=rolled_back", status_code=303)


# --- usage ---------------------------------------------------------------------------------------

#: Counters shown per week as a quality table (fleet-wide, suppressed like everything else).
QUALITY_KINDS = ("term_fallback", "duration", "langid_mismatch", "flagged")

#: How many weeks back a usage view reaches (0: all); ten years at most, else 422.
WeeksQuery = Annotated[int, Query(ge=0, le=520)]


def _since(weeks: int) -> dt.date | None:
    return (utcnow() - dt.timedelta(weeks=weeks)).date() if weeks > 0 else None


def _bars(cells: list[reports.Cell]) -> list[dict[str, Any]]:
    top = max((c.turns or 0 for c in cells), default=0) or 1
    return [{"cell": c, "pct": round(100 * (c.turns or 0) / top, 1)} for c in cells]


@router.get("/usage")
def usage_page(request: Request, session: SessionDep, row: ConsoleDep, weeks: WeeksQuery = 12) -> Response:
    """Usage charts of the last ``weeks`` weeks, small cells suppressed."""
    threshold = server_state(request).settings.suppress_below_turns
    rows = usage_counts.turn_rows(session=session, since=_since(weeks))
    items = usage_counts.item_rows(session=session, kinds=USAGE_KINDS, since=_since(weeks))
    quality = [item for item in items if item[2] in QUALITY_KINDS]
    context = {
        "row": row,
        "page": "usage",
        "weeks": weeks,
        "week_bars": _bars(reports.week_cells(rows, threshold)),
        "site_bars": _bars(reports.site_cells(rows, threshold)),
        "site_week": reports.site_week_cells(rows, threshold),
        "top_terms": reports.top_items(items, "term", threshold),
        "top_phrases": reports.top_items(items, "phrase", threshold),
        "quality": reports.totals([], quality, threshold, by_week=True),
        "empty": not rows,
    }
    return _render(request, "usage.html", context)


@router.get("/usage.csv")
def usage_csv(request: Request, session: SessionDep, row: ConsoleDep, weeks: WeeksQuery = 0) -> Response:
    """Site × week turn counts as CSV (``weeks=0``: all), small cells suppressed."""
    threshold = server_state(request).settings.suppress_below_turns
    cells = reports.site_week_cells(usage_counts.turn_rows(session=session, since=_since(weeks)), threshold)
    return Response(
        reports.cells_csv(cells).encode("utf-8-sig"),  # BOM: Excel opens UTF-8 CSV correctly
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="madoguchi-usage.csv"'},
    )
