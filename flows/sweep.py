"""`followup_sweep`: fire every due clock, one Prefect task per batch (never one per clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.db import get_engine
from processes import sweep

BATCH_SIZE = 1000


@task(name="ouvrir-et-liberer", cache_policy=NO_CACHE)
def prepare(now: datetime, worker: str) -> sweep.SweepSummary:
    return sweep.prepare_sweep(get_engine(), now, worker=worker)


# Each batch is its own transaction; a retry re-claims only what is still pending.
@task(name="lot-d-horloges", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def fire_batch(now: datetime, batch_size: int, worker: str, number: int) -> sweep.SweepSummary:
    return sweep.sweep_batch(
        get_engine(), now, batch_size=batch_size, worker=worker, number=number
    )


@flow(name="followup-sweep", log_prints=True)
def followup_sweep(now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """Relances, escalades et échéances dues à `now` (défaut : l'heure réelle)."""
    now = now or datetime.now(UTC)
    worker = sweep.new_worker()
    summary = prepare(now, worker)
    while summary.wants_more(batch_size):
        summary = summary.plus(fire_batch(now, batch_size, worker, summary.batches + 1))
    return summary.model_dump(mode="json")
