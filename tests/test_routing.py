"""Who gets a clock's message: a role with nobody in it on the site falls back to the
organisation's admin, and the outbox row says why, so that the gap is seen and filled."""

from __future__ import annotations

import pytest
from conftest import at
from helpers import report
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from models.cases import Notification
from models.db import session_scope
from models.directory import Staff
from processes.sweep import sweep_due_clocks
from suivi.cli import build


def test_a_role_with_nobody_on_the_site_falls_back_to_the_admin_and_says_so(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        case = report(s, "2026-11-02 09:00", actor="rgls-sud")
        case_id = case.id
        staff = s.get(Staff, "gs-viala")
        assert staff is not None
        staff.active = False  # the site's only gs has left, nobody replaced her yet

    # plan_first_visit goes to the site's gs, 5 working days after the report.
    sweep_due_clocks(engine, at("2026-11-10 08:00"))

    with session_scope(engine) as s:
        rows = s.scalars(
            select(Notification).where(
                Notification.case_id == case_id, Notification.kind == "plan_first_visit"
            )
        ).all()
        assert [(r.recipient_staff_id, r.recipient_role) for r in rows] == [("admin", "gs")]
        assert rows[0].note == "aucun « gs » pour le site viala : envoyé à l'administration"


def test_the_fallback_is_listed_with_its_reason(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_a_role_with_nobody_on_the_site_falls_back_to_the_admin_and_says_so(engine)
    monkeypatch.setenv("SUIVI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(build(), ["notifications", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert "aucun « gs » pour le site viala : envoyé à l'administration" in result.output
