"""`audit_checkpoint`: each night, sign every case head and send the digest out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.db import get_engine
from notifications.audit_dispatch import checkpoint_and_send
from processes.signing import signer_from


# No retry: a second run would write a second checkpoint, harmless but noisy.
@task(name="point-de-controle", cache_policy=NO_CACHE)
def checkpoint(now: datetime) -> dict[str, Any]:
    return checkpoint_and_send(get_engine(), signer_from(), now=now).as_dict()


@flow(name="audit-checkpoint", log_prints=True)
def audit_checkpoint(now: datetime | None = None) -> dict[str, Any]:
    """Point de contrôle signé de la piste d'audit (têtes de tous les dossiers)."""
    return checkpoint(now or datetime.now(UTC))
