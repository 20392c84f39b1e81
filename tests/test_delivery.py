"""Delivering the outbox: back-off, giving up after three days and telling the manager, a run
that dies while sending, requeueing by staff, and never the same message twice."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import at
from helpers import report
from receivers import HttpReceiver, free_port, http_receiver, import_channels  # noqa: F401
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from models.cases import Notification, NotificationAttempt
from models.db import session_scope
from notifications.delivery import (
    DeliveryReport,
    claim_batch,
    deliver_batch,
    deliver_pending,
    requeue,
)
from processes.errors import Forbidden
from processes.sweep import sweep_due_clocks
from suivi.cli import build

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture(autouse=True)
def console_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "console-notifications.log"
    monkeypatch.setenv("SUIVI_CONSOLE_LOG", str(path))
    return path


def plan_first_visit_reminder(engine: Engine, url: str, resident: str = "r-0001") -> int:
    """Reported Monday 23 November 09:00; the gs's reminder is queued Monday 30 at 09:00."""
    import_channels(engine, {"gs-viala": [url], "gs-chartreux": [url]})
    actor = "gs-chartreux" if resident == "r-0003" else "gs-viala"
    with session_scope(engine) as s:
        case_id = report(s, "2026-11-23 09:00", resident=resident, actor=actor).id
    sweep_due_clocks(engine, at("2026-11-30 09:00"))
    with session_scope(engine) as s:
        return s.scalars(
            select(Notification.id).where(
                Notification.case_id == case_id, Notification.kind == "plan_first_visit"
            )
        ).one()


def row(engine: Engine, notification_id: int) -> Notification:
    with session_scope(engine) as s:
        found = s.get(Notification, notification_id)
        assert found is not None
        return found


def attempts(engine: Engine, notification_id: int) -> list[tuple[datetime, bool | None, str]]:
    with session_scope(engine) as s:
        rows = s.scalars(
            select(NotificationAttempt)
            .where(NotificationAttempt.notification_id == notification_id)
            .order_by(NotificationAttempt.id)
        ).all()
        return [(a.at, a.ok, a.error or "") for a in rows]


def test_a_webhook_answering_500_is_retried_on_schedule_for_three_days_then_the_rgls_is_told(
    engine: Engine, http_receiver: HttpReceiver, console_log: Path  # noqa: F811
) -> None:
    http_receiver.failing = True
    notice = plan_first_visit_reminder(engine, http_receiver.url("gs-viala"))

    moment, waits = at("2026-11-30 09:00"), []
    while (current := row(engine, notice)).status == "pending" or current.status == "retry":
        last = deliver_pending(engine, moment)
        current = row(engine, notice)
        if current.status == "retry":
            waits.append(current.next_attempt_at - moment)
            moment = current.next_attempt_at

    # 1 min, 5 min, 30 min, 2 h, then every 6 h while within 3 days of Monday 30, 09:00.
    assert waits == [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR] + [6 * HOUR] * 11
    assert moment == at("2026-12-03 05:36")
    assert (current.status, current.attempts, current.sent_at) == ("failed", 16, None)
    tries = attempts(engine, notice)
    assert len(tries) == 16 == len(http_receiver.refused)
    assert all(ok is False and "500" in error for _, ok, error in tries)
    assert http_receiver.posts == []

    # The rgls of the site hears of it in French, in the same run (no URL: the console).
    assert (last.failed, last.escalated, last.sent, last.by_scheme) == (1, 1, 1, {"console": 1})
    with session_scope(engine) as s:
        told = s.scalars(select(Notification).where(Notification.kind == "delivery_failed")).all()
        assert [(n.recipient_staff_id, n.status, n.channel_url) for n in told] == [
            ("rgls-sud", "sent", "console://")
        ]
        case_ref = f"C-{current.case_id}"
        assert told[0].subject == (
            f"[{case_ref}] Notification non remise : plan_first_visit par json"
        )
        assert f"notification n° {notice} " in told[0].body
        assert "Jean Dupont" not in told[0].body and "Logement 214" not in told[0].body
    # The console channel keeps one line per message where staff can read it.
    (line,) = console_log.read_text(encoding="utf-8").splitlines()
    assert f"[{case_ref}] Notification non remise : plan_first_visit par json — " in line

    # Another run the next day changes nothing.
    assert deliver_pending(engine, at("2026-12-04 09:00")).claimed == 0

    # Requeued by the rgls, the row gets three new days of retries, starting over at 1 min.
    with session_scope(engine) as s:
        requeue(s, notice, actor_id="rgls-sud", now=at("2026-12-04 09:30"))
    assert deliver_pending(engine, at("2026-12-04 09:30")).retried == 1
    again = row(engine, notice)
    assert (again.status, again.attempts, again.next_attempt_at) == (
        "retry", 1, at("2026-12-04 09:31")
    )


def test_a_manager_on_a_chat_channel_is_told_without_the_kind_of_message(
    sqlite_engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    # Nothing listens on the gs's port; the rgls reads a webhook (a third-party channel).
    notice = plan_first_visit_reminder(sqlite_engine, f"json://127.0.0.1:{free_port()}/gs")
    import_channels(sqlite_engine, {"rgls-sud": [http_receiver.url("rgls")]})
    moment = at("2026-11-30 09:00")
    while row(sqlite_engine, notice).status != "failed":
        deliver_pending(sqlite_engine, moment)
        moment = row(sqlite_engine, notice).next_attempt_at

    (post,) = http_receiver.posts
    case_ref = f"C-{row(sqlite_engine, notice).case_id}"
    assert (post.path, post.payload["title"]) == ("/rgls", f"[{case_ref}] Notification non remise")
    assert post.payload["message"] == (
        f"Notification n° {notice} (dossier {case_ref}) non remise par json. "
        f"https://suivi.example.org/cases/{case_ref[2:]}"
    )
    assert "Connection" in (row(sqlite_engine, notice).last_error or "")


def test_a_run_that_died_while_sending_leaves_the_row_unknown_and_it_is_never_resent(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    notice = plan_first_visit_reminder(engine, http_receiver.url())
    # A run claims the row at 09:00 and dies before it sends or records anything.
    with session_scope(engine) as s:
        assert [c.id for c in claim_batch(s, at("2026-11-30 09:00"), 50)] == [notice]

    # At 09:05 that run might still be sending: a second run leaves the row alone.
    meanwhile = deliver_pending(engine, at("2026-11-30 09:05"))
    assert (meanwhile.unknown, meanwhile.claimed, row(engine, notice).status) == (0, 0, "sending")

    later = deliver_pending(engine, at("2026-11-30 09:11"))
    assert (later.unknown, later.sent) == (1, 0)
    assert [(e.notification_id, e.status) for e in later.errors] == [(notice, "unknown")]
    assert row(engine, notice).status == "unknown"
    assert deliver_pending(engine, at("2026-12-01 09:00")).claimed == 0
    assert http_receiver.posts == []
    ((_, ok, error),) = attempts(engine, notice)
    assert ok is None and "interrompu" in error


def test_a_send_that_outlasts_the_lease_hands_back_its_row_and_every_row_is_sent_once(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    first = plan_first_visit_reminder(engine, http_receiver.url(), resident="r-0001")
    second = plan_first_visit_reminder(engine, http_receiver.url(), resident="r-0002")
    others: list[DeliveryReport] = []

    def slow_send(claimed: list[int]) -> None:
        # A run claims one row at a time: the slow one holds only the first when the next
        # run starts at 09:11 and calls it dead.
        assert len(claimed) == 1
        if not others:
            assert claimed == [first]
            others.append(deliver_pending(engine, at("2026-11-30 09:11")))

    slow = deliver_batch(engine, at("2026-11-30 09:00"), on_claimed=slow_send)
    # The second run sent the row the slow one had not claimed; the first row, known not
    # sent, went back to the queue and the slow run sent it: each row once.
    assert (others[0].unknown, others[0].sent) == (1, 1)
    assert (slow.retried, slow.sent) == (1, 1)
    assert len(http_receiver.posts) == 2
    assert {row(engine, n).status for n in (first, second)} == {"sent"}
    assert [ok for _, ok, _ in attempts(engine, first)] == [False, True]


def test_a_run_killed_during_the_first_send_of_a_batch_strands_only_that_message(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    notices = [
        plan_first_visit_reminder(engine, http_receiver.url(), resident=r)
        for r in ("r-0001", "r-0002", "r-0003")
    ]

    def killed(claimed: list[int]) -> None:
        raise KeyboardInterrupt  # the process dies between its claim and its send

    with pytest.raises(KeyboardInterrupt):
        deliver_batch(engine, at("2026-11-30 09:00"), on_claimed=killed)
    assert [row(engine, n).status for n in notices] == ["sending", "pending", "pending"]

    later = deliver_pending(engine, at("2026-11-30 09:11"))
    assert (later.unknown, later.sent) == (1, 2)
    assert [row(engine, n).status for n in notices] == ["unknown", "sent", "sent"]
    assert len(http_receiver.posts) == 2


def test_staff_requeue_an_unknown_row_explicitly_and_it_is_sent_once(
    engine: Engine,
    http_receiver: HttpReceiver,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notice = plan_first_visit_reminder(engine, http_receiver.url())
    with session_scope(engine) as s:
        claim_batch(s, at("2026-11-30 09:00"), 50)
    deliver_pending(engine, at("2026-11-30 09:30"))
    monkeypatch.setenv("SUIVI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    app, runner = build(), CliRunner()

    listed = runner.invoke(app, ["notifications", "list", "--status", "unknown", "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"kind": "plan_first_visit"' in listed.output and f'"id": {notice},' in listed.output
    assert '"kind_label": "Hygiène : planifier la 1re visite"' in listed.output
    assert '"kind_label_en": "Hygiene: plan the first visit"' in listed.output
    table = runner.invoke(app, ["notifications", "list"])
    assert table.exit_code == 0 and "Notifications" in table.output

    landlord = runner.invoke(
        app, ["notifications", "retry", str(notice), "--actor", "bailleur-13h"]
    )
    assert landlord.exit_code == 2
    other_site = runner.invoke(
        app, ["notifications", "retry", str(notice), "--actor", "gs-chartreux"]
    )
    assert other_site.exit_code == 2
    assert "gs-chartreux n'intervient pas sur le site « viala »" in other_site.output
    assert row(engine, notice).status == "unknown"
    retried = runner.invoke(
        app,
        ["notifications", "retry", str(notice), "--actor", "rgls-sud",
         "--now", "2026-11-30T10:00"],
    )
    assert retried.exit_code == 0, retried.output
    assert row(engine, notice).status == "pending"

    sent = deliver_pending(engine, at("2026-11-30 10:00"))
    assert (sent.sent, sent.by_scheme) == (1, {"json": 1})
    assert len(http_receiver.posts) == 1
    assert [(ok, error.split(" (")[0]) for _, ok, error in attempts(engine, notice)] == [
        (None, "interrompu pendant l'envoi : remise incertaine, non renvoyé"),
        (False, "remis en file par rgls-sud"),
        (True, ""),
    ]
    again = runner.invoke(app, ["notifications", "retry", str(notice), "--actor", "rgls-sud"])
    assert again.exit_code == 2
    assert "seules les notifications « unknown » ou « failed »" in again.output


def test_a_sent_row_is_never_picked_again(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    notice = plan_first_visit_reminder(engine, http_receiver.url())
    first = deliver_pending(engine, at("2026-11-30 09:00"))
    second = deliver_pending(engine, at("2026-11-30 09:00"))
    week_later = deliver_pending(engine, at("2026-12-07 09:00"))
    assert (first.sent, second.claimed, week_later.claimed) == (1, 0, 0)
    assert len(http_receiver.posts) == 1
    sent = row(engine, notice)
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 1, at("2026-11-30 09:00"))


def test_two_delivery_runs_at_once_send_each_notification_once(
    engine: Engine, http_receiver: HttpReceiver  # noqa: F811
) -> None:
    residents = ["r-0001", "r-0002", "r-0003"] * 4
    for index, resident in enumerate(residents):
        import_channels(engine, {"gs-viala": [http_receiver.url()]})
        with session_scope(engine) as s:
            actor = "gs-chartreux" if resident == "r-0003" else "gs-viala"
            report(s, f"2026-11-23 09:{index:02d}", resident=resident, actor=actor)
    import_channels(engine, {"gs-viala": [http_receiver.url()],
                             "gs-chartreux": [http_receiver.url()]})
    sweep_due_clocks(engine, at("2026-11-30 10:00"))

    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def run() -> None:
        start.wait()
        reports.append(deliver_pending(engine, at("2026-11-30 10:00"), batch_size=3))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.sent for r in reports) == 12
    titles = http_receiver.titles()
    assert len(titles) == 12 == len(set(titles))
    with session_scope(engine) as s:
        statuses = s.scalars(select(Notification.status)).all()
        assert statuses == ["sent"] * 12


def test_a_message_without_a_case_is_resent_by_its_recipient_or_staff_of_every_site(
    engine: Engine,
) -> None:
    with session_scope(engine) as s:
        digest = Notification(
            recipient_staff_id="gs-viala", recipient_role="gs", channel_url="console://",
            kind="daily_agenda", subject="Agenda", body="Rien", status="failed", attempts=3,
            next_attempt_at=at("2026-11-30 07:30"), idempotency_key="agenda:test:gs-viala",
            created_at=at("2026-11-30 07:30"),
        )
        s.add(digest)
        s.flush()
        digest_id = digest.id
    with pytest.raises(Forbidden, match="réservé à son destinataire"), session_scope(engine) as s:
        requeue(s, digest_id, actor_id="gs-chartreux", now=at("2026-11-30 10:00"))
    assert row(engine, digest_id).status == "failed"
    for actor in ("gs-viala", "dgls-1"):
        with session_scope(engine) as s:
            requeue(s, digest_id, actor_id=actor, now=at("2026-11-30 10:00"))
            s.get(Notification, digest_id).status = "failed"  # type: ignore[union-attr]
    assert [error.split(" (")[0] for _, _, error in attempts(engine, digest_id)] == [
        "remis en file par gs-viala", "remis en file par dgls-1",
    ]
