"""`daily_agenda`: each morning, one agenda per staff member, queued in the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.db import get_engine, session_scope
from notifications.agenda import AgendaReport, queue_daily_agendas


# One transaction; a retry is safe because each agenda's key holds the day and the person.
@task(name="agendas-du-jour", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def queue_agendas(now: datetime) -> AgendaReport:
    with session_scope(get_engine()) as session:
        return queue_daily_agendas(session, now)


@flow(name="daily-agenda", log_prints=True)
def daily_agenda(now: datetime | None = None) -> dict[str, Any]:
    """L'agenda du matin : en retard, aujourd'hui, visites, échéances à 7 jours."""
    report = queue_agendas(now or datetime.now(UTC))
    return report.model_dump(mode="json")
