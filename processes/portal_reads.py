"""Every read by a landlord's user is kept: who, when, what (issue 11, the landlord portal).

Staff reads are not recorded here: this is the landlord's own trail of what it consulted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models.portal import LandlordRead
from processes.read_policy import Viewer

# What was read, as the `what` column says it.
PORTAL, CASE, EXPORT, RESIDENT, MESSAGES, API = (
    "portail", "dossier", "export", "resident", "messages", "api",
)


def record_landlord_read(
    session: Session,
    viewer: Viewer,
    what: str,
    *,
    now: datetime,
    target: str,
    case_id: int | None = None,
    export_id: int | None = None,
) -> LandlordRead | None:
    """Adds the row for a landlord user's read (the caller commits); nothing for staff."""
    if not viewer.is_landlord:
        return None
    row = LandlordRead(
        at=now, staff_id=viewer.staff_id, landlord_id=viewer.landlord_id, what=what,
        case_id=case_id, export_id=export_id, target=target[:2000],
    )
    session.add(row)
    session.flush()
    return row
