"""Server-rendered pages: agenda, case list, case page and its forms, resident, direction
dashboard, my messages.

Each route only translates: the read policy says what the person may see, a view function
(suivi/web/views/) gathers it, a template shows it; a form is one `engine.fire` with the
logged-in person as actor and the server's time. No rule lives here.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from models.directory import Staff
from notifications.letters import letter_for
from processes import engine, registry
from processes.definition import ProcessDefinition
from processes.errors import Conflict, Forbidden, NotFound, Refusal
from processes.portal_reads import CASE, MESSAGES, PORTAL, RESIDENT
from processes.read_policy import (
    Viewer,
    readable_case,
    readable_resident,
    redact,
    visible_cases,
)
from suivi.web.deps import check_csrf, current_viewer, get_session, note_read
from suivi.web.views.agenda import agenda_page
from suivi.web.views.case_list import Filters, case_list
from suivi.web.views.case_page import case_page
from suivi.web.views.forms import payload_from_form
from suivi.web.views.others import dashboard, my_messages, resident_page
from suivi.web.views.words import english, field_label, label_of, use_language

router = APIRouter(include_in_schema=False)
DIRECTION_ROLES = ("dgls", "rgls")


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


def _page(
    request: Request, session: Session, viewer: Viewer, template: str, nav: str,
    context: dict[str, Any], status_code: int = 200,
) -> Response:
    staff = session.get(Staff, viewer.staff_id)
    values = {"nav": nav, "viewer_name": staff.name if staff else viewer.staff_id, **context}
    return render(request, template, values, viewer=viewer, status_code=status_code)


@router.get("/")
def agenda(
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    if viewer.is_landlord:  # a landlord's users have no agenda: their portal is home
        return RedirectResponse("/bailleur", status_code=303)
    use_language(viewer.language)
    staff = session.get(Staff, viewer.staff_id)
    assert staff is not None  # current_viewer found them active
    page = agenda_page(session, staff, request.app.state.clock(), visible_cases(viewer))
    return _page(request, session, viewer, "agenda.html.j2", "agenda", {"agenda": page})


@router.get("/cases")
def cases(
    request: Request,
    process: str = "",
    state: str = "",
    site: str = "",
    q: str = "",
    closed: str = "",
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    use_language(viewer.language)
    filters = Filters(process=process, state=state, site=site, q=q.strip()[:100],
                      closed=bool(closed))
    found = case_list(session, visible_cases(viewer), filters, request.app.state.clock())
    note_read(request, session, viewer, PORTAL)
    return _page(request, session, viewer, "cases.html.j2", "cases", {"list": found})


def _show_case(
    request: Request,
    session: Session,
    viewer: Viewer,
    case_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    use_language(viewer.language)
    try:
        case = readable_case(session, viewer, case_id)
    except NotFound as missing:
        return error_page(request, 404, missing.message, viewer=viewer)
    page = case_page(
        session,
        case,
        role=viewer.role,
        covers_site=viewer.covers(case.site_id),
        now=request.app.state.clock(),
        answers=extra.pop("answers", None),
        redact=lambda data: redact(viewer, data),
        show_messages=not viewer.is_landlord,
        outsider=viewer.is_landlord,
    )
    note_read(request, session, viewer, CASE, case_id=page.id)
    context = {"page": page, "notice": None, "conflict": None, "refusal": None,
               "open_form": None, **extra}
    return _page(request, session, viewer, "case.html.j2", "cases", context, status_code)


@router.get("/cases/{case_id}")
def case(
    request: Request,
    case_id: int,
    done: str = "",
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    use_language(viewer.language)
    notice = None
    if done:
        try:
            label = label_of(_definition_of_case(session, case_id).trigger(done))
            notice = f"“{label}” recorded." if english() else f"« {label} » est enregistré."
        except (KeyError, NotFound):
            notice = None
    return _show_case(request, session, viewer, case_id, notice=notice)


def _definition_of_case(session: Session, case_id: int) -> ProcessDefinition:
    case = engine.load_case(session, case_id)
    return registry.get(case.process, case.process_version).definition


def _in_words(refusal: Refusal, definition: ProcessDefinition, trigger: str) -> str:
    """The engine's French message with its codes said in words: trigger and field names,
    the state's label, the triggers allowed by their labels."""
    message = refusal.message
    for known in definition.triggers:
        # The engine names a trigger by its label, its code beside it for the command line.
        message = message.replace(f"« {known.label} » ({known.name})", f"« {label_of(known)} »")
        message = message.replace(f"« {known.name} »", f"« {label_of(known)} »")
        message = message.replace(f"({known.name})", f"(« {label_of(known)} »)")
    try:
        fields = definition.trigger(trigger).payload.model_fields
    except KeyError:
        fields = {}
    for name in sorted(fields, key=len, reverse=True):
        message = re.sub(rf"(?<![\w.]){re.escape(name)} :", f"{field_label(name)} :", message)
    if refusal.state:
        try:
            where = label_of(definition.state(refusal.state))
        except KeyError:
            where = refusal.state
        prefix = "Refused" if english() else "Refusé"
        message = f"{prefix} (dossier C-{refusal.case_id}, « {where} ») : {message}."
    return message


@router.post("/cases/{case_id}/fire", dependencies=[Depends(check_csrf)])
async def fire(
    request: Request,
    case_id: int,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    use_language(viewer.language)
    try:
        case = readable_case(session, viewer, case_id)
    except NotFound as missing:
        return error_page(request, 404, missing.message, viewer=viewer)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    trigger = form.get("trigger", "")
    definition = registry.get(case.process, case.process_version).definition
    try:
        payload_type = definition.trigger(trigger).payload
    except KeyError:
        payload_type = None
    version_text = form.get("expected_version", "")
    expected = int(version_text) if version_text.isdigit() else None
    try:
        engine.fire(
            session,
            case_id,
            trigger,
            payload=payload_from_form(payload_type, form) if payload_type else {},
            actor_id=viewer.staff_id,
            now=request.app.state.clock(),
            expected_version=expected,
        )
        session.commit()
    except Conflict:
        session.rollback()
        session.expire_all()
        current = readable_case(session, viewer, case_id)
        label = label_of(registry.get(current.process, current.process_version).definition
                         .state(current.state))
        message = (
            "Someone else changed the case meanwhile: nothing was recorded. It is now in "
            f"“{label}”; read it again before acting."
        ) if english() else (
            f"Le dossier a été modifié par quelqu'un d'autre entre-temps : rien n'a été "
            f"enregistré. Il est maintenant à l'état « {label} » ; relisez-le avant d'agir."
        )
        return _show_case(request, session, viewer, case_id, status_code=409, conflict=message)
    except Refusal as refusal:
        session.rollback()
        status = 403 if isinstance(refusal, Forbidden) else 422
        if isinstance(refusal, NotFound):
            status = 404
        return _show_case(
            request, session, viewer, case_id, status_code=status,
            refusal=_in_words(refusal, definition, trigger), open_form=trigger,
            answers={trigger: form},
        )
    return RedirectResponse(f"/cases/{case_id}?done={trigger}", status_code=303)


@router.get("/cases/{case_id}/letters/{name}")
def letter(
    request: Request,
    case_id: int,
    name: str,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    try:
        case = readable_case(session, viewer, case_id)
    except NotFound as missing:
        return error_page(request, 404, missing.message, viewer=viewer)
    kind, _, extension = name.rpartition(".")
    if not viewer.covers(case.site_id) or extension not in ("pdf", "html"):
        raise HTTPException(status_code=404, detail=f"courrier inconnu : {name}")
    try:
        written = letter_for(session, case_id, kind, now=request.app.state.clock())
    except Refusal as refusal:
        raise HTTPException(status_code=404, detail=refusal.message) from None
    if extension == "html":
        return HTMLResponse(written.html)
    filename = f"C-{case_id}-{kind}.pdf"
    return Response(
        written.pdf(),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/residents/{resident_id}")
def resident(
    request: Request,
    resident_id: str,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    use_language(viewer.language)
    try:
        readable_resident(session, viewer, resident_id)
    except NotFound as missing:
        return error_page(request, 404, missing.message, viewer=viewer)
    page = resident_page(session, resident_id, visible_cases(viewer), request.app.state.clock())
    if page is None:
        raise HTTPException(status_code=404, detail=f"résident inconnu : « {resident_id} »")
    note_read(request, session, viewer, RESIDENT)
    return _page(request, session, viewer, "resident.html.j2", "cases", {"page": page})


@router.get("/direction")
def direction(
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    use_language(viewer.language)
    if viewer.role not in DIRECTION_ROLES:
        raise HTTPException(status_code=403, detail="le tableau de bord est réservé à la direction")
    board = dashboard(session, visible_cases(viewer), request.app.state.clock())
    return _page(request, session, viewer, "direction.html.j2", "direction", {"board": board})


@router.get("/messages")
def messages(
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    use_language(viewer.language)
    rows = my_messages(session, viewer.staff_id)
    note_read(request, session, viewer, MESSAGES)
    return _page(request, session, viewer, "messages.html.j2", "messages", {"messages": rows})
