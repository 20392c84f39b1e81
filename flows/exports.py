"""`monthly_exports`: on the 1st, each landlord's audit trail of the past month, kept and sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.db import get_engine
from notifications.audit_dispatch import monthly_exports as make_monthly_exports
from processes.signing import signer_from


# A retry is safe: a landlord whose export of that month exists is skipped.
@task(name="exports-bailleurs", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30)
def exports(now: datetime) -> list[dict[str, Any]]:
    return make_monthly_exports(get_engine(), signer_from(), now=now)


@flow(name="monthly-exports", log_prints=True)
def monthly_exports(now: datetime | None = None) -> list[dict[str, Any]]:
    """Export signé du mois écoulé pour chaque bailleur, rangé et annoncé à ses utilisateurs."""
    return exports(now or datetime.now(UTC))
