"""The morning agenda: one message per staff member, what is late apart from what is due
today, the visits of the day, the deadlines of the coming week, only their own sites, once a
day, and never a landlord. Dates are Paris time; Monday 30 November 2026 is "today"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import at
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from models.cases import Case, Notification
from models.db import session_scope
from models.directory import Staff
from notifications.agenda import KIND, AgendaReport, queue_daily_agendas
from processes import engine as wf
from processes import registry
from processes.definition import (
    ClockDef,
    Delay,
    ProcessDefinition,
    StateDef,
    TransitionDef,
    TriggerDef,
)
from processes.fields import Empty
from processes.sweep import sweep_due_clocks
from suivi.cli import build

GS, GS_OTHER, RGLS = "gs-viala", "gs-chartreux", "rgls-sud"
OVERDUE, TODAY = "« En retard »", "« Aujourd'hui »"
VISITS, DEADLINES = "« Visites prévues aujourd'hui »", "« Échéances des 7 prochains jours »"


def report_breach(session: Session, resident: str, when: str, actor: str = GS) -> Case:
    return wf.open_case(
        session, "hygiene", resident_id=resident, actor_id=actor, now=at(when),
        payload={"observed_at": when.replace(" ", "T"), "description": "Déchets accumulés"},
    )


def a_week_of_follow_ups(engine: Engine) -> None:
    """C-1 (viala): reported Monday 16 November, first visit never planned: the site manager
    was reminded on the 23rd, the rgls is due to hear of it today at 09:00.
    C-2 (viala): visit planned for today 14:00 (its reminder, due Friday 27th, announces it:
    never late work).
    C-3 (chartreux, another site manager): the first visit was due to be planned on the 27th."""
    with session_scope(engine) as s:
        report_breach(s, "r-0001", "2026-11-16 09:00")
        second = report_breach(s, "r-0002", "2026-11-23 09:00")
        wf.fire(s, second.id, "schedule_visit", actor_id=GS, now=at("2026-11-24 09:00"),
                payload={"visit_at": "2026-11-30T14:00", "mode": "home"})
        report_breach(s, "r-0003", "2026-11-20 09:00", actor=GS_OTHER)


def run(engine: Engine, when: str) -> AgendaReport:
    with session_scope(engine) as s:
        return queue_daily_agendas(s, at(when))


def agendas(engine: Engine, day: str = "") -> dict[str, list[Notification]]:
    """The agenda rows per staff id (of one day, `2026-11-30`, when given)."""
    with session_scope(engine) as s:
        rows = s.scalars(
            select(Notification)
            .where(Notification.kind == KIND, Notification.idempotency_key.startswith(
                f"agenda:{day}"))
            .order_by(Notification.id)
        ).all()
    found: dict[str, list[Notification]] = {}
    for row in rows:
        assert row.recipient_staff_id is not None and row.case_id is None
        found.setdefault(row.recipient_staff_id, []).append(row)
    return found


def sections(body: str) -> dict[str, list[str]]:
    """The agenda's groups: title line → its item lines."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.splitlines():
        if line.startswith("« "):
            current = found.setdefault(line.split(" (")[0], [])
        elif line.startswith("  - ") and current is not None:
            current.append(line.strip())
        elif not line.strip():
            current = None
    return found


def test_each_person_gets_one_message_with_late_work_apart_from_today(engine: Engine) -> None:
    a_week_of_follow_ups(engine)
    result = run(engine, "2026-11-30 07:00")
    sent = agendas(engine)
    assert sorted(sent) == [GS_OTHER, GS, RGLS]
    assert all(len(rows) == 1 for rows in sent.values())  # console only: one row each
    assert (result.recipients, result.items, result.skipped) == (3, 4, 0)

    mine = sent[GS][0]
    assert mine.subject == "Agenda du 30/11/2026 : 1 en retard, 1 visite"
    groups = sections(mine.body)
    assert list(groups) == [OVERDUE, VISITS]
    assert groups[OVERDUE] == [
        "- 23/11/2026 09:00 · C-1 · Planifier la 1re visite — Jean Dupont, Logement 214 "
        "(Résidence Viala Anjou) : https://suivi.example.org/cases/1",
    ]
    assert groups[VISITS] == [
        "- 14:00 · C-2 · Visite n° 1 à domicile — Fatima Benali, Logement 215 "
        "(Résidence Viala Anjou) : https://suivi.example.org/cases/2"
    ]
    rgls = sections(sent[RGLS][0].body)
    assert list(rgls) == [TODAY]
    assert rgls[TODAY][0].startswith("- 09:00 · C-1 · 1re visite toujours pas planifiée")


def test_a_reminder_already_sent_stays_late_until_someone_acts(engine: Engine) -> None:
    a_week_of_follow_ups(engine)
    sweep_due_clocks(engine, at("2026-11-30 07:00"))  # sends the reminders of last week
    run(engine, "2026-11-30 07:30")
    sent = agendas(engine)
    assert sections(sent[GS][0].body)[OVERDUE] == [
        "- 23/11/2026 09:00 · C-1 · Planifier la 1re visite — Jean Dupont, Logement 214 "
        "(Résidence Viala Anjou) : https://suivi.example.org/cases/1"
    ]
    with session_scope(engine) as s:
        wf.fire(s, 1, "schedule_visit", actor_id=GS, now=at("2026-11-30 10:00"),
                payload={"visit_at": "2026-12-03T10:00", "mode": "office"})
    sweep_due_clocks(engine, at("2026-12-01 07:00"))
    run(engine, "2026-12-01 07:30")
    tomorrow = agendas(engine, "2026-12-01")
    assert sorted(tomorrow) == [GS_OTHER]  # C-1's reminder and escalation are gone
    assert sections(tomorrow[GS_OTHER][0].body)[OVERDUE][0].startswith(
        "- 27/11/2026 09:00 · C-3 · Planifier la 1re visite"
    )


def test_nobody_sees_the_cases_of_sites_they_do_not_cover(engine: Engine) -> None:
    a_week_of_follow_ups(engine)
    run(engine, "2026-11-30 07:00")
    sent = agendas(engine)
    assert "C-3" not in sent[GS][0].body and "C-1" not in sent[GS_OTHER][0].body
    assert "C-3 · Planifier la 1re visite" in sent[GS_OTHER][0].body


def test_landlords_and_people_with_nothing_due_get_no_agenda(engine: Engine) -> None:
    a_week_of_follow_ups(engine)
    result = run(engine, "2026-11-30 07:00")
    sent = agendas(engine)
    for nobody in ("bailleur-13h", "agent-viala", "dgls-1", "juriste-cada", "admin"):
        assert nobody not in sent
    with session_scope(engine) as s:
        covering = [
            st for st in s.scalars(select(Staff)) if st.role != "landlord" and st.active
        ]
    assert result.nothing_due == len(covering) - 3


def test_a_second_run_the_same_day_queues_nothing_the_next_day_does(engine: Engine) -> None:
    a_week_of_follow_ups(engine)
    run(engine, "2026-11-30 07:00")
    again = run(engine, "2026-11-30 12:30")
    assert (again.recipients, again.items, again.skipped) == (0, 0, 3)
    assert {a.status for a in again.agendas} == {"already_queued"}
    assert sum(len(rows) for rows in agendas(engine).values()) == 3
    tomorrow = run(engine, "2026-12-01 07:00")
    assert tomorrow.recipients >= 3
    with session_scope(engine) as s:
        keys = s.scalars(
            select(Notification.idempotency_key).where(
                Notification.recipient_staff_id == GS, Notification.kind == KIND
            )
        ).all()
    assert sorted(keys) == ["agenda:2026-11-30:gs-viala:0", "agenda:2026-12-01:gs-viala:0"]


def test_a_chat_channel_gets_only_references_kinds_and_times(engine: Engine) -> None:
    with session_scope(engine) as s:
        staff = s.get(Staff, GS)
        assert staff is not None
        staff.notify = ["mailto://127.0.0.1:2525?to=sophie@example.org", "json://127.0.0.1:9/chat"]
    a_week_of_follow_ups(engine)
    run(engine, "2026-11-30 07:00")
    email, chat = agendas(engine)[GS]
    assert "Jean Dupont" in email.body
    assert chat.subject == "Agenda du 30/11/2026"
    assert chat.body.splitlines()[1:] == [
        "En retard : C-1 Planifier la 1re visite 23/11/2026 09:00",
        "Visites : C-2 Visite n° 1 à domicile 14:00",
        "https://suivi.example.org",
    ]


def test_english_speakers_read_it_in_english(engine: Engine) -> None:
    with session_scope(engine) as s:
        staff = s.get(Staff, RGLS)
        assert staff is not None
        staff.language = "en"
    a_week_of_follow_ups(engine)
    run(engine, "2026-11-30 07:00")
    mine = agendas(engine)[RGLS][0]
    assert mine.subject == "Agenda for 30/11/2026: 1 today"
    assert "Today (1)\n  - 09:00 · C-1 · First visit escalation" in mine.body


# --- Deadlines: the arrears formal notice ends Monday 21 December 2026 at 10:00 ----------


def formal_notice_served_20_november(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = wf.open_case(
            s, "arrears", resident_id="r-0001", actor_id=GS, now=at("2026-11-02 09:00"),
            payload={"monthly_amount": "450.00", "unpaid_months": ["2026-09", "2026-10"]},
        )
        wf.fire(s, case.id, "send_reminder", actor_id=GS, now=at("2026-11-02 10:00"),
                payload={"sent_at": "2026-11-02T09:00"})
        wf.fire(s, case.id, "send_formal_notice", actor_id=RGLS, now=at("2026-11-20 10:00"),
                payload={"sent_at": "2026-11-20"})


@pytest.mark.parametrize(
    ("morning", "group"),
    [
        ("2026-12-13 07:00", None),  # eight days ahead: not yet
        ("2026-12-14 07:00", DEADLINES),  # seven days ahead
        ("2026-12-21 07:00", TODAY),  # the day itself
    ],
)
def test_a_deadline_shows_from_seven_days_before(
    engine: Engine, morning: str, group: str | None
) -> None:
    formal_notice_served_20_november(engine)
    run(engine, morning)
    sent = agendas(engine)
    if group is None:
        assert RGLS not in sent
        return
    items = sections(sent[RGLS][0].body)[group]
    when = "21/12/2026 10:00" if group == DEADLINES else "10:00"
    assert items[0].startswith(f"- {when} · C-1 · Fin du délai de la mise en demeure — ")


# --- A visit planned for Thursday 5 November 2026 at 10:00 and never recorded ---------------


def a_visit_never_recorded(engine: Engine) -> None:
    """C-1 (viala): reported Monday 2 November, the gs planned the first visit on the 3rd for
    Thursday 5th 10:00 and never recorded it. Its report is due two working days later
    (Monday 9th), its escalation seven (Tuesday 17th: 11 November is a public holiday)."""
    with session_scope(engine) as s:
        case = report_breach(s, "r-0001", "2026-11-02 09:00")
        wf.fire(s, case.id, "schedule_visit", actor_id=GS, now=at("2026-11-03 09:00"),
                payload={"visit_at": "2026-11-05T10:00", "mode": "home"})


RECORD_LATE = (
    "- 09/11/2026 10:00 · C-1 · Saisir le compte rendu de visite — Jean Dupont, Logement 214 "
    "(Résidence Viala Anjou) : https://suivi.example.org/cases/1"
)
ESCALATION_LATE = (
    "- 17/11/2026 10:00 · C-1 · Compte rendu de visite non saisi — Jean Dupont, Logement 214 "
    "(Résidence Viala Anjou) : https://suivi.example.org/cases/1"
)


@pytest.mark.parametrize("swept", [False, True], ids=["pending", "reminder_sent"])
def test_a_visit_report_not_recorded_is_late_work_on_the_following_days(
    engine: Engine, swept: bool
) -> None:
    """The reminders set from the visit date but due after the visit ask for its report: late
    work, unlike the reminder of the day before, which only announces the visit. Whether the
    sweep has sent them yet (fired, nobody acted since) or not (still pending)."""
    a_visit_never_recorded(engine)
    for day, expected in (("2026-11-10", 1), ("2026-11-18", 2)):
        if swept:
            sweep_due_clocks(engine, at(f"{day} 06:00"))
        assert run(engine, f"{day} 07:00").recipients == expected
    ninth, eighteenth = agendas(engine, "2026-11-10"), agendas(engine, "2026-11-18")
    assert sorted(ninth) == [GS]
    assert sections(ninth[GS][0].body) == {OVERDUE: [RECORD_LATE]}  # not the visit reminder
    assert ninth[GS][0].subject == "Agenda du 10/11/2026 : 1 en retard"
    assert sorted(eighteenth) == [GS, RGLS]
    assert sections(eighteenth[GS][0].body) == {OVERDUE: [RECORD_LATE]}
    assert sections(eighteenth[RGLS][0].body) == {OVERDUE: [ESCALATION_LATE]}


def test_recording_the_visit_takes_its_report_off_the_agenda(engine: Engine) -> None:
    a_visit_never_recorded(engine)
    with session_scope(engine) as s:
        wf.fire(s, 1, "record_visit", actor_id=GS, now=at("2026-11-10 09:00"),
                payload={"held_at": "2026-11-05T10:00", "outcome": "unsatisfactory"})
    sweep_due_clocks(engine, at("2026-11-18 06:00"))
    run(engine, "2026-11-18 07:00")
    assert "C-1 · Saisir le compte rendu" not in "".join(
        row.body for rows in agendas(engine).values() for row in rows
    )


# --- A sensitive process (asylum-like) shows reference, kind and date, nothing more --------


def _sensitive_definition() -> ProcessDefinition:
    return ProcessDefinition(
        name="agenda_sensitive_stand_in", version=1, label="Demande d'asile (test)",
        label_en="Asylum (test)", initial="appeal_window", sensitive=True, site_kinds=("cada",),
        states=(
            StateDef(id="appeal_window", label="Délai de recours", label_en="Appeal window",
                     clocks=(ClockDef(name="appeal_due", kind="deadline",
                                      label="Recours CNDA à déposer",
                                      delay=Delay(amount=5, unit="days"),
                                      template="_generic", recipients=("juriste",)),)),
            StateDef(id="withdrawn", label="Clôturé", label_en="Closed", final=True),
        ),
        triggers=(
            TriggerDef(name="open", label="Ouvrir", label_en="Open", roles=("juriste",),
                       payload=Empty),
            TriggerDef(name="withdraw", label="Clôturer", label_en="Close", roles=("juriste",),
                       payload=Empty),
        ),
        transitions=(
            TransitionDef(trigger="withdraw", sources="appeal_window", dest="withdrawn"),
        ),
    )


@pytest.fixture
def sensitive_process() -> Iterator[Any]:
    compiled = registry.register(_sensitive_definition())
    yield compiled
    registry.unregister("agenda_sensitive_stand_in", 1)


def test_a_sensitive_case_shows_only_its_reference_kind_and_date(
    engine: Engine, sensitive_process: Any
) -> None:
    with session_scope(engine) as s:
        wf.open_case(s, "agenda_sensitive_stand_in", resident_id="r-0004",
                     actor_id="juriste-cada", payload={}, now=at("2026-11-27 09:00"))
    run(engine, "2026-11-30 07:00")
    body = agendas(engine)["juriste-cada"][0].body
    assert sections(body)[DEADLINES] == ["- 02/12/2026 09:00 · C-1 · Échéance"]
    for secret in ("Famille Haddad", "Appartement 3", "CADA Marseille", "/cases/1"):
        assert secret not in body


# --- The real Prefect flow -------------------------------------------------------------------


def test_the_daily_agenda_flow_queues_the_agendas_once(
    sqlite_engine: Engine, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    a_week_of_follow_ups(sqlite_engine)
    from flows.digest import daily_agenda

    first = daily_agenda(now=at("2026-11-30 07:00"))
    second = daily_agenda(now=at("2026-11-30 07:05"))
    assert (first["recipients"], first["items"], first["day"]) == (3, 4, "2026-11-30")
    assert (second["recipients"], second["skipped"]) == (0, 3)
    assert sorted(agendas(sqlite_engine)) == [GS_OTHER, GS, RGLS]


def test_suivi_agenda_runs_the_flow_and_shows_who_got_what(
    sqlite_engine: Engine, prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    a_week_of_follow_ups(sqlite_engine)
    app, runner = build(), CliRunner()
    table = runner.invoke(app, ["agenda", "--now", "2026-11-30T07:00"])
    assert table.exit_code == 0, table.output
    assert "Agendas du 30/11/2026" in table.output and "Sophie Martin" in table.output
    assert "3 agenda(s) mis en file (4 élément(s))" in " ".join(table.output.split())
    again = runner.invoke(app, ["agenda", "--now", "2026-11-30T08:00", "--json"])
    assert again.exit_code == 0, again.output
    assert '"skipped": 3' in again.output and '"recipients": 0' in again.output


def test_suivi_agenda_sans_prefect_queues_the_same_agendas_once(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUIVI_DATABASE_URL", sqlite_engine.url.render_as_string(False))
    a_week_of_follow_ups(sqlite_engine)
    app, runner = build(), CliRunner()
    first = runner.invoke(app, ["agenda", "--sans-prefect", "--now", "2026-11-30T07:00"])
    assert first.exit_code == 0, first.output
    assert "3 agenda(s) mis en file (4 élément(s))" in " ".join(first.output.split())
    again = runner.invoke(
        app, ["agenda", "--sans-prefect", "--now", "2026-11-30T08:00", "--json"]
    )
    assert again.exit_code == 0, again.output
    assert '"skipped": 3' in again.output and '"recipients": 0' in again.output
    assert sorted(agendas(sqlite_engine)) == [GS_OTHER, GS, RGLS]


def open_claim_late_for_ofpra(s: Session) -> None:
    """Attestation handed over Thursday 12 November: the OFPRA file is due 21 days later."""
    wf.open_case(
        s, "asylum", resident_id="r-0004", actor_id="ts-cada", now=at("2026-11-12 10:00"),
        payload={"procedure": "normal", "registered_at": "2026-11-10",
                 "attestation_issued_at": "2026-11-12"},
    )


def test_an_asylum_claim_late_for_ofpra_shows_as_reference_kind_and_date(engine: Engine) -> None:
    """Attestation handed over Thursday 12 November: the OFPRA file is due 21 days later, its
    7-day reminder went out on the 26th and nothing has been filed since."""
    with session_scope(engine) as s:
        open_claim_late_for_ofpra(s)
    sweep_due_clocks(engine, at("2026-11-30 07:00"))
    run(engine, "2026-11-30 07:30")
    sent = agendas(engine)
    assert sorted(sent) == ["juriste-cada", "ts-cada"]
    for rows in sent.values():
        body = rows[0].body
        assert sections(body)[OVERDUE] == ["- 26/11/2026 08:00 · C-1 · Échéance"]
        for secret in ("Famille Haddad", "Appartement 3", "CADA Marseille", "/cases/1"):
            assert secret not in body


ASYLUM_WORDS = ("ofpra", "cnda", "attestation", "asile", "asylum", "recours", "dossier")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_asylum_deadlines_reach_chat_and_email_as_a_neutral_kind(
    engine: Engine, language: str
) -> None:
    """A real claim on the CADA site: its OFPRA file is late (reminder sent on the 26th), the
    file is due on Thursday 3 December. The juriste reads them by chat and by e-mail; neither
    names the OFPRA, the CNDA, the attestation or asylum: a neutral kind, the reference, the
    date."""
    with session_scope(engine) as s:
        juriste = s.get(Staff, "juriste-cada")
        assert juriste is not None
        juriste.language = language
        juriste.notify = ["json://127.0.0.1:9/chat", "mailto://127.0.0.1:2525?to=ines@example.org"]
        open_claim_late_for_ofpra(s)
    sweep_due_clocks(engine, at("2026-11-30 07:00"))
    run(engine, "2026-11-30 07:30")
    chat, email = agendas(engine)["juriste-cada"]
    assert chat.channel_url.startswith("json://") and email.channel_url.startswith("mailto://")
    kind, late = ("Échéance", "En retard") if language == "fr" else ("Deadline", "Overdue")
    assert f"{late}{' :' if language == 'fr' else ':'} C-1 {kind} 26/11/2026 08:00" in chat.body
    assert f"· C-1 · {kind}" in email.body
    for row in (chat, email):
        text = f"{row.subject}\n{row.body}".lower()
        for word in ASYLUM_WORDS:
            assert word not in text, (row.channel_url, word, text)
        for secret in ("famille haddad", "appartement 3", "cada marseille", "/cases/1"):
            assert secret not in text
