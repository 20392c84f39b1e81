"""The JSON API under /api: the same engine and read policy as the pages and the CLI.

The actor is the person behind the token or the session, the time is the server's; a case
one may not see is 404 as a missing one; a refusal is 403 (authority) or 422 with the
engine's French line, a stale `expected_version` 409, and nothing is written.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from processes import engine, registry
from processes.errors import Conflict, Forbidden, NotFound, Refusal
from processes.read_policy import Viewer, readable_case, readable_resident
from suivi.web import reading
from suivi.web.deps import current_viewer, get_session
from suivi.web.portal import note_api_read
from suivi.web.schemas import (
    AgendaOut,
    CaseDetail,
    CaseSummary,
    ErrorOut,
    FireIn,
    OpenCaseIn,
    ResidentOut,
)

ERRORS = {
    401: {"model": ErrorOut, "description": "Non authentifié"},
    403: {"model": ErrorOut, "description": "Refusé : rôle ou site"},
    404: {"model": ErrorOut, "description": "Inconnu (ou non visible)"},
    409: {"model": ErrorOut, "description": "Modifié entre-temps"},
    422: {"model": ErrorOut, "description": "Refusé par les règles ou données invalides"},
}


def _errors(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: ERRORS[code] for code in (401, *codes)}


router = APIRouter(prefix="/api", tags=["api"])


def refused(refusal: Refusal) -> HTTPException:
    """The engine's refusal as an HTTP answer, its French line as `detail`."""
    if isinstance(refusal, Conflict):
        status = 409
    elif isinstance(refusal, Forbidden):
        status = 403
    elif isinstance(refusal, NotFound):
        status = 404
    else:
        status = 422
    return HTTPException(status_code=status, detail=refusal.full_message())


@router.get("/cases", response_model=list[CaseSummary], responses=_errors(422),
            dependencies=[Depends(note_api_read)])
def list_cases(
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
    process: str | None = Query(None, max_length=64),
    state: str | None = Query(None, max_length=64),
    site: str | None = Query(None, max_length=64),
    closed: bool = Query(False, description="Inclure les dossiers clos."),
    q: str | None = Query(None, max_length=200, description="Nom du résident ou C-12."),
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10**9),
) -> list[CaseSummary]:
    """Les dossiers que je peux voir (ouverts par défaut), avec la prochaine échéance."""
    query = reading.case_query(viewer, process=process, state=state, site=site,
                               closed=closed, search=q)
    cases = session.scalars(query.limit(limit).offset(offset)).all()
    return reading.summaries(session, cases)


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=_errors(404, 422),
            dependencies=[Depends(note_api_read)])
def get_case(
    case_id: int,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> CaseDetail:
    """Un dossier : état, libellés, historique, échéances, déclencheurs que je peux utiliser."""
    try:
        case = readable_case(session, viewer, case_id)
    except Refusal as refusal:
        raise refused(refusal) from None
    return reading.detail(session, viewer, case)


@router.post("/cases", status_code=201, response_model=CaseDetail,
             responses=_errors(403, 404, 422))
def open_case(
    body: OpenCaseIn,
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> CaseDetail:
    """Ouvre un dossier pour un résident, au nom de la personne connectée, à l'heure du
    serveur."""
    if body.process not in registry.names():
        raise HTTPException(422, f"processus inconnu « {body.process} » ; connus : "
                                 f"{', '.join(registry.names())}")
    try:
        readable_resident(session, viewer, body.resident)
        case = engine.open_case(
            session, body.process, resident_id=body.resident, actor_id=viewer.staff_id,
            payload=body.payload, now=request.app.state.clock(),
        )
        out = reading.detail(session, viewer, case)
        session.commit()
    except Refusal as refusal:
        session.rollback()
        raise refused(refusal) from None
    return out


@router.post("/cases/{case_id}/fire", response_model=CaseDetail,
             responses=_errors(403, 404, 409, 422))
def fire(
    case_id: int,
    body: FireIn,
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> CaseDetail:
    """Déclenche une transition au nom de la personne connectée, à l'heure du serveur."""
    try:
        readable_case(session, viewer, case_id)
        case = engine.fire(
            session, case_id, body.trigger, payload=body.payload, actor_id=viewer.staff_id,
            now=request.app.state.clock(), expected_version=body.expected_version,
        )
        session.commit()
    except Refusal as refusal:
        session.rollback()
        raise refused(refusal) from None
    return reading.detail(session, viewer, case)


@router.get("/residents/{resident_id}", response_model=ResidentOut,
            responses=_errors(404, 422), dependencies=[Depends(note_api_read)])
def get_resident(
    resident_id: str,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> ResidentOut:
    """Un résident et ceux de ses dossiers que je peux voir, avec leur prochaine échéance."""
    try:
        resident = readable_resident(session, viewer, resident_id)
    except Refusal as refusal:
        raise refused(refusal) from None
    return reading.resident_out(session, viewer, resident)


@router.get("/agenda", response_model=AgendaOut, responses=_errors(),
            dependencies=[Depends(note_api_read)])
def get_agenda(
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> AgendaOut:
    """Mon agenda : en retard, aujourd'hui, visites du jour, échéances des 7 jours."""
    return reading.agenda(session, viewer, request.app.state.clock())
