"""`deliver_notifications`: send the outbox, one Prefect task per batch (never one per message)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.db import get_engine
from notifications import delivery

BATCH_SIZE = delivery.DEFAULT_BATCH


@task(name="envois-interrompus", cache_policy=NO_CACHE)
def prepare(now: datetime) -> delivery.DeliveryReport:
    return delivery.prepare_delivery(get_engine(), now)


# No task retries: a claimed batch is committed as `sending`, and sending it again from here
# could send twice; the outbox's own back-off retries what failed.
@task(name="lot-de-notifications", cache_policy=NO_CACHE)
def send_batch(now: datetime, batch_size: int) -> delivery.DeliveryReport:
    return delivery.deliver_batch(get_engine(), now, batch_size=batch_size)


@flow(name="deliver-notifications", log_prints=True)
def deliver_notifications(
    now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> dict[str, Any]:
    """Envoie les notifications dues à `now` (défaut : l'heure réelle)."""
    now = now or datetime.now(UTC)
    report = prepare(now)
    while report.wants_more():
        report = report.plus(send_batch(now, batch_size))
    return report.model_dump(mode="json")
