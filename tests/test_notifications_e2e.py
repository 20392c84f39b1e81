"""From a case's transition to a message in a real receiver on 127.0.0.1: an SMTP server for
the direction's alert, a JSON webhook for the visit reminder, a webhook that fails and
recovers, and the Prefect flow itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import at
from helpers import REPORTED, WARNING_1_AT, WARNING_2_AT, evaluate, report, schedule, walk_to
from receivers import (  # noqa: F401
    HttpReceiver,
    SmtpReceiver,
    http_receiver,
    import_channels,
    smtp_server,
)
from sqlalchemy import Engine, select

from models.cases import Clock, Notification, NotificationAttempt
from models.db import session_scope
from notifications.delivery import deliver_pending
from processes.sweep import sweep_due_clocks

STAFF = (
    "agent-viala", "gs-viala", "gs-chartreux", "rgls-sud", "dgls-1", "dgls-2",
    "juriste-cada", "ts-cada", "chef-cada", "admin", "bailleur-13h",
)


@pytest.fixture(autouse=True)
def console_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "console-notifications.log"
    monkeypatch.setenv("SUIVI_CONSOLE_LOG", str(path))
    return path


def test_the_second_warning_mails_the_direction_and_the_rgls_in_french_and_no_one_else(
    engine: Engine, smtp_server: SmtpReceiver  # noqa: F811
) -> None:
    # Everyone in the organisation has an address on the test server.
    import_channels(engine, {who: [smtp_server.url(f"{who}@horizon.test")] for who in STAFF})
    with session_scope(engine) as s:
        case_id = walk_to(s, "warning_1").id
    deliver_pending(engine, at(WARNING_1_AT))  # what the walk queued so far (the warning letter)
    smtp_server.mails.clear()

    with session_scope(engine) as s:
        assert evaluate(s, case_id, WARNING_2_AT).state == "warning_2"
    delivered = deliver_pending(engine, at(WARNING_2_AT))

    assert (delivered.sent, delivered.by_scheme, delivered.errors) == (3, {"mailto": 3}, [])
    recipients = sorted(r for mail in smtp_server.mails for r in mail.recipients)
    assert recipients == ["dgls-1@horizon.test", "dgls-2@horizon.test", "rgls-sud@horizon.test"]
    subjects = {mail.subject for mail in smtp_server.mails}
    assert subjects == {
        f"[C-{case_id}] Alerte direction : 2e avertissement — Résidence Viala Anjou"
    }
    by_recipient = {mail.recipients[0]: mail.text for mail in smtp_server.mails}
    helene = by_recipient["dgls-1@horizon.test"]
    assert "Bonjour Hélène Dubois" in helene
    assert f"Le dossier C-{case_id} (" in helene and "vient de passer au 2e avertissement" in helene
    assert "Résident : Jean Dupont" in helene
    assert f"https://suivi.example.org/cases/{case_id}" in helene

    # A second run sends nothing more.
    assert deliver_pending(engine, at("2026-12-23 10:05")).claimed == 0
    assert len(smtp_server.mails) == 3


def test_the_visit_reminder_reaches_the_webhook_the_working_day_before_at_8(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    import_channels(engine, {"gs-viala": [http_receiver.url("gs-viala")]})
    with session_scope(engine) as s:
        case_id = report(s, REPORTED).id
        # Visit on Thursday 12 November; Wednesday 11 is a public holiday (Armistice).
        schedule(s, case_id, "2026-11-03 09:00", "2026-11-12 10:00")
    with session_scope(engine) as s:
        due = s.scalars(
            select(Clock.due_at).where(Clock.case_id == case_id, Clock.name == "visit_reminder")
        ).one()
    assert due == at("2026-11-10 08:00")

    sweep_due_clocks(engine, at("2026-11-10 07:59"))
    deliver_pending(engine, at("2026-11-10 07:59"))
    assert http_receiver.posts == []

    sweep_due_clocks(engine, at("2026-11-10 08:00"))
    delivered = deliver_pending(engine, at("2026-11-10 08:00"))
    assert delivered.by_scheme == {"json": 1}
    (post,) = http_receiver.posts
    assert post.path == "/gs-viala"
    assert post.payload["title"] == f"[C-{case_id}] Rappel de visite"
    # A webhook is a third-party channel: case reference, date and link, no resident's name.
    assert post.payload["message"] == (
        f"Dossier C-{case_id} : visite prévue le 12/11/2026 10:00. "
        f"https://suivi.example.org/cases/{case_id}"
    )


def test_a_webhook_answering_500_gets_the_message_exactly_once_after_it_recovers(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    import_channels(engine, {"gs-viala": [http_receiver.url()]})
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00").id
    sweep_due_clocks(engine, at("2026-11-30 09:00"))

    http_receiver.failing = True
    assert deliver_pending(engine, at("2026-11-30 09:00")).retried == 1
    assert deliver_pending(engine, at("2026-11-30 09:01")).retried == 1
    http_receiver.failing = False
    assert deliver_pending(engine, at("2026-11-30 09:05")).claimed == 0  # next try at 09:06
    assert deliver_pending(engine, at("2026-11-30 09:06")).sent == 1
    assert deliver_pending(engine, at("2026-11-30 12:00")).claimed == 0

    assert len(http_receiver.refused) == 2
    assert [p.payload["title"] for p in http_receiver.posts] == [
        f"[C-{case_id}] Planifier la 1re visite"
    ]
    with session_scope(engine) as s:
        notice = s.scalars(select(Notification).where(Notification.case_id == case_id)).one()
        tries = s.execute(
            select(NotificationAttempt.at, NotificationAttempt.ok, NotificationAttempt.error)
            .where(NotificationAttempt.notification_id == notice.id)
            .order_by(NotificationAttempt.id)
        ).all()
    assert (notice.status, notice.attempts, notice.last_error) == ("sent", 3, None)
    assert [(t.at, t.ok) for t in tries] == [
        (at("2026-11-30 09:00"), False),
        (at("2026-11-30 09:01"), False),
        (at("2026-11-30 09:06"), True),
    ]
    assert all("500" in (t.error or "") for t in tries[:2])


def test_the_prefect_flow_delivers_in_batches(
    sqlite_engine: Engine,
    http_receiver: HttpReceiver,  # noqa: F811
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    import_channels(sqlite_engine, {"gs-viala": [http_receiver.url()]})
    with session_scope(sqlite_engine) as s:
        for minute in range(3):
            report(s, f"2026-11-23 09:0{minute}")
    sweep_due_clocks(sqlite_engine, at("2026-11-30 09:05"))

    from flows.notify import deliver_notifications

    result = deliver_notifications(now=at("2026-11-30 09:05"), batch_size=2)
    # Two full-or-partial batches, then an empty claim that ends the run.
    assert (result["sent"], result["batches"], result["by_scheme"]) == (3, 3, {"json": 3})
    assert len(http_receiver.posts) == 3
    again = deliver_notifications(now=at("2026-11-30 09:05"), batch_size=2)
    assert (again["sent"], again["claimed"]) == (0, 0)
    assert len(http_receiver.posts) == 3
