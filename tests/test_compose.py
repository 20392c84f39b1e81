"""A clock's notification is written by delivery, from its clock, and kept as it was sent."""

from __future__ import annotations

import json

import pytest
from conftest import at
from helpers import report, schedule
from receivers import HttpReceiver, http_receiver, import_channels  # noqa: F401
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from models.cases import Clock, Notification, NotificationAttempt
from models.db import session_scope
from notifications.delivery import deliver_pending
from processes.sweep import sweep_due_clocks
from suivi.cli import build


def first_reminder(engine: Engine, url: str) -> tuple[int, int]:
    """(case, notification): reported Monday 23 November, reminded Monday 30 at 09:00."""
    import_channels(engine, {"gs-viala": [url]})
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
    assert sweep_due_clocks(engine, at("2026-11-30 09:00")).fired == 1
    with session_scope(engine) as s:
        notice = s.scalars(
            select(Notification).where(
                Notification.case_id == case_id, Notification.kind == "plan_first_visit"
            )
        ).one()
        assert (notice.subject, notice.body) == (None, None)
        return case_id, notice.id


def test_delivery_writes_the_reminder_sends_it_and_keeps_what_it_sent(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    case_id, notice = first_reminder(engine, http_receiver.url("gs-viala"))

    report_ = deliver_pending(engine, at("2026-11-30 09:05"))

    assert (report_.sent, report_.failed, report_.retried) == (1, 0, 0)
    [post] = http_receiver.posts
    with session_scope(engine) as s:
        row = s.get(Notification, notice)
        assert row is not None and row.status == "sent"
        assert (post.payload["title"], post.payload["message"]) == (row.subject, row.body)
        # A webhook is a third-party channel: the short form, reference, due date and link.
        assert row.subject == f"[C-{case_id}] Planifier la 1re visite"
        assert row.body == (
            f"Dossier C-{case_id} : 1re visite à planifier, échéance 30/11/2026 09:00. "
            f"https://suivi.example.org/cases/{case_id}"
        )


def test_a_reminder_delivered_after_the_case_moved_on_still_says_what_fell_due(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    case_id, notice = first_reminder(engine, http_receiver.url("gs-viala"))
    with session_scope(engine) as s:
        schedule(s, case_id, "2026-11-30 09:02", "2026-12-03 14:00")

    deliver_pending(engine, at("2026-11-30 09:05"))

    [post] = http_receiver.posts
    assert post.payload["title"] == f"[C-{case_id}] Planifier la 1re visite"
    assert "1re visite à planifier, échéance 30/11/2026 09:00." in post.payload["message"]
    with session_scope(engine) as s:
        clock = s.scalars(select(Clock).where(Clock.name == "plan_first_visit")).one()
        assert clock.status == "fired"  # planning the visit cancels nothing already sent


def test_a_row_that_cannot_be_written_is_a_failed_attempt_and_nothing_leaves(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    _, notice = first_reminder(engine, http_receiver.url("gs-viala"))
    with session_scope(engine) as s:
        row = s.get(Notification, notice)
        assert row is not None
        row.clock_id = None  # as if its clock were lost: no text, nothing to write it from

    report_ = deliver_pending(engine, at("2026-11-30 09:05"))

    assert (report_.sent, report_.retried) == (0, 1)
    assert http_receiver.posts == [] and http_receiver.refused == []
    with session_scope(engine) as s:
        row = s.get(Notification, notice)
        assert row is not None
        assert (row.status, row.attempts, row.subject, row.body) == ("retry", 1, None, None)
        assert row.next_attempt_at == at("2026-11-30 09:06")
        [attempt] = s.scalars(
            select(NotificationAttempt).where(NotificationAttempt.notification_id == notice)
        ).all()
        assert attempt.ok is False
        assert attempt.error == (
            f"notification n° {notice} : ni texte ni horloge pour le composer "
            f"(horloge None, dossier {row.case_id})"
        )


def test_a_reminder_written_after_its_visit_moved_still_names_the_date_it_was_for(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    """The row keeps the case as the clock found it: the words are those of that moment."""
    import_channels(engine, {"gs-viala": [http_receiver.url("gs-viala")]})
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
        schedule(s, case_id, "2026-11-30 10:00", "2026-12-03 14:00")
    # The working day before the visit, 08:00: the reminder is queued, not yet written.
    assert sweep_due_clocks(engine, at("2026-12-02 08:00")).by_kind["reminder"] >= 1
    with session_scope(engine) as s:
        schedule(s, case_id, "2026-12-02 08:01", "2026-12-07 10:00")  # the visit moves

    deliver_pending(engine, at("2026-12-02 08:05"))

    [post] = [p for p in http_receiver.posts if "Rappel de visite" in p.payload["title"]]
    assert post.payload["message"].startswith(
        f"Dossier C-{case_id} : visite prévue le 03/12/2026 14:00."
    )


def test_staff_read_a_queued_reminder_before_it_leaves_and_as_it_left(
    engine: Engine, http_receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    case_id, notice = first_reminder(engine, http_receiver.url("gs-viala"))
    monkeypatch.setenv("SUIVI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    app, runner = build(), CliRunner()

    before = runner.invoke(app, ["notifications", "show", str(notice)])
    assert before.exit_code == 0, before.output
    assert "Aperçu : le texte sera écrit au moment de l'envoi." in before.output
    assert f"[C-{case_id}] Planifier la 1re visite" in before.output
    with session_scope(engine) as s:
        row = s.get(Notification, notice)
        assert row is not None and (row.subject, row.body) == (None, None)  # a preview only

    deliver_pending(engine, at("2026-11-30 09:05"))
    after = runner.invoke(app, ["notifications", "show", str(notice), "--json"])
    assert after.exit_code == 0, after.output
    shown = json.loads(after.output)
    [post] = http_receiver.posts
    assert (shown["written"], shown["line"]["status"]) == (True, "sent")
    assert (shown["subject"], shown["body"]) == (post.payload["title"], post.payload["message"])

    missing = runner.invoke(app, ["notifications", "show", "999999"])
    assert missing.exit_code == 2
    assert "notification n° 999999 introuvable" in missing.output
