"""Log-in and log-out: the only pages a stranger may open."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from processes.authentication import log_in
from suivi.web.deps import (
    SESSION_CSRF,
    SESSION_STAFF,
    check_csrf,
    get_session,
    safe_next,
)
from suivi.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html.j2", {"next": safe_next(next), "error": None,
                                             "staff_id": ""})


@router.post("/login", dependencies=[Depends(check_csrf)])
def login_submit(
    request: Request,
    staff_id: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    session: Session = Depends(get_session),
) -> Response:
    result = log_in(session, staff_id, password, now=request.app.state.clock())
    # The attempt is recorded whether it succeeded or not.
    session.commit()
    if result.staff is None:
        context = {"next": safe_next(next), "error": result.message, "staff_id": staff_id}
        return render(request, "login.html.j2", context, status_code=401)
    # A new session on log-in: whatever a stranger planted in the old one is gone.
    request.session.clear()
    request.session[SESSION_STAFF] = result.staff.id
    request.session.pop(SESSION_CSRF, None)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
