"""FastAPI dependencies: one database session per request, the person logged in, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import session_factory
from models.directory import Organisation, Staff
from processes.authentication import staff_for_token
from processes.portal_reads import record_landlord_read
from processes.read_policy import Viewer

SESSION_STAFF = "staff_id"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
API_PREFIX = "/api"


class LoginRequired(Exception):
    """A page asked for by someone not logged in: answered by a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def server_now() -> datetime:
    """The web's time is the server's: nobody chooses it (DESIGN.md, rule 3)."""
    return datetime.now(UTC)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; a route that writes commits itself (its unit of work)."""
    session = session_factory(request.app.state.engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _viewer_of(session: Session, staff: Staff) -> Viewer:
    org = session.scalars(select(Organisation).limit(1)).first()
    return Viewer.of(staff, (org.language if org else None) or "fr")


def optional_viewer(request: Request, session: Session = Depends(get_session)) -> Viewer | None:
    """The person behind this request, or None. A staff member deactivated since logging in
    (removed from the directory) is nobody from the next request on."""
    if request.url.path.startswith(API_PREFIX):
        token = _bearer(request)
        if token is not None:
            staff = staff_for_token(session, token)
            return _viewer_of(session, staff) if staff is not None else None
    staff_id = request.session.get(SESSION_STAFF)
    if not staff_id:
        return None
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        request.session.pop(SESSION_STAFF, None)
        return None
    return _viewer_of(session, staff)


def current_viewer(
    request: Request, viewer: Viewer | None = Depends(optional_viewer)
) -> Viewer:
    """The logged-in person: pages send strangers to /login?next=…, the API answers 401."""
    if viewer is not None:
        return viewer
    if request.url.path.startswith(API_PREFIX):
        raise HTTPException(
            status_code=401,
            detail="authentification requise : jeton personnel (Authorization: Bearer …) ou "
            "session ouverte",
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise LoginRequired(target)


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use; templates put it in every form."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return str(token)


def check_csrf(request: Request, csrf_token: str = Form("", alias=CSRF_FIELD)) -> None:
    """Every form POST carries the session's token; a missing or wrong one changes nothing."""
    expected = request.session.get(SESSION_CSRF)
    if not expected or not secrets.compare_digest(str(expected), csrf_token or ""):
        raise HTTPException(
            status_code=403,
            detail="formulaire expiré ou venu d'ailleurs (jeton CSRF) : rechargez la page",
        )


def safe_next(next_url: str | None) -> str:
    """Only a path of this site: /login?next=https://elsewhere must not send people away."""
    if not next_url or not next_url.startswith("/") or next_url.startswith("//"):
        return "/"
    if "\\" in next_url:
        return "/"
    return next_url


def note_read(
    request: Request,
    session: Session,
    viewer: Viewer,
    what: str,
    *,
    case_id: int | None = None,
    export_id: int | None = None,
) -> None:
    """Keeps a landlord user's read (committed before the answer leaves); staff: nothing."""
    if not viewer.is_landlord:
        return
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    record_landlord_read(session, viewer, what, now=request.app.state.clock(), target=target,
                         case_id=case_id, export_id=export_id)
    session.commit()
