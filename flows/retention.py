"""`retention`: each month, anonymise the cases closed longer than the organisation keeps them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.db import get_engine, session_scope
from processes.retention import apply_retention


# One transaction; a retry finds only the cases not yet anonymised.
@task(name="anonymisation", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30)
def anonymise(now: datetime, dry_run: bool) -> dict[str, Any]:
    with session_scope(get_engine()) as session:
        return apply_retention(session, now=now, dry_run=dry_run).as_dict()


@flow(name="retention", log_prints=True)
def retention(now: datetime | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Anonymisation des dossiers clos au-delà de la durée de conservation (RGPD)."""
    return anonymise(now or datetime.now(UTC), dry_run)
