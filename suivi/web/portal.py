"""The landlord portal: its properties' cases and its monthly exports, read-only, every read
kept (`processes.portal_reads`). Staff are answered 404: the page is not theirs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from processes.portal_reads import API, EXPORT, PORTAL
from processes.read_policy import Viewer
from suivi.web.deps import current_viewer, get_session, note_read
from suivi.web.pages import _page
from suivi.web.views.portal import MEDIA_TYPES, SIDECAR, export_file, portal
from suivi.web.views.words import use_language

router = APIRouter(include_in_schema=False)
NOT_HERE = "page inconnue : le portail est réservé aux utilisateurs d'un bailleur"


def _landlord_only(viewer: Viewer) -> None:
    if not viewer.is_landlord:
        raise HTTPException(status_code=404, detail=NOT_HERE)


@router.get("/bailleur")
def landlord_portal(
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    _landlord_only(viewer)
    use_language(viewer.language)
    page = portal(session, viewer)
    note_read(request, session, viewer, PORTAL)
    return _page(request, session, viewer, "portal.html.j2", "portal", {"portal": page})


def _file(
    request: Request, session: Session, viewer: Viewer, export_id: str, *, manifest: bool
) -> Response:
    _landlord_only(viewer)
    unknown = HTTPException(status_code=404, detail=f"export inconnu : {export_id[:40]}")
    if not export_id.isdigit() or len(export_id) > 18:
        raise unknown
    try:
        row, path = export_file(session, viewer, int(export_id))
    except LookupError:
        raise unknown from None
    media = MEDIA_TYPES[row.format]
    if manifest:
        path = path.with_name(path.name + SIDECAR)
        media = MEDIA_TYPES["json"]
        if not path.is_file():
            raise unknown
    note_read(request, session, viewer, EXPORT, export_id=row.id)
    return FileResponse(path, media_type=media, filename=f"{row.landlord_id}-{path.name}")


@router.get("/bailleur/exports/{export_id}")
def export_download(
    request: Request,
    export_id: str,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    return _file(request, session, viewer, export_id, manifest=False)


@router.get("/bailleur/exports/{export_id}/manifest")
def export_manifest(
    request: Request,
    export_id: str,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> Response:
    return _file(request, session, viewer, export_id, manifest=True)


def note_api_read(
    request: Request,
    viewer: Viewer = Depends(current_viewer),
    session: Session = Depends(get_session),
) -> None:
    """On the API's reads: a landlord user's call is kept before it is answered."""
    raw = str(request.path_params.get("case_id", ""))
    note_read(request, session, viewer, API, case_id=int(raw) if raw.isdigit() else None)
