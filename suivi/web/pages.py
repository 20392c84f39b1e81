"""Server-rendered pages. The `pages` side of issue 10 grows this into the agenda, case
list, case page, resident page, dashboard and messages; here: the frame and the home page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from processes import registry
from processes.errors import NotFound
from processes.read_policy import Viewer, readable_case
from suivi.web.deps import current_viewer, get_session

router = APIRouter(include_in_schema=False)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status_code: int = 200,
) -> Response:
    values = {"viewer": viewer, "lang": viewer.language if viewer else "fr", **(context or {})}
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, values, status_code=status_code)


def error_page(
    request: Request, status_code: int, detail: str, *, viewer: Viewer | None = None
) -> Response:
    """A case one may not see answers as one that does not exist: the same 404 page."""
    return render(request, "error.html.j2", {"status": status_code, "detail": detail},
                  viewer=viewer, status_code=status_code)


@router.get("/")
def home(request: Request, viewer: Viewer = Depends(current_viewer)) -> Response:
    return render(request, "home.html.j2", viewer=viewer)


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: int,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    """The page the links in messages point to (`base_url/cases/{id}`)."""
    try:
        case = readable_case(session, viewer, case_id)
    except NotFound as missing:
        return error_page(request, 404, missing.full_message(), viewer=viewer)
    definition = registry.get(case.process, case.process_version).definition
    context = {"case": case, "definition": definition,
               "state": definition.state(case.state)}
    return render(request, "case.html.j2", context, viewer=viewer)
