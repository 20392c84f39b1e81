"""The demo organisation's month, as `suivi demo` plays it.

`suivi demo --days 4` (Monday 2 to Thursday 5 November 2026, the day of the direction alert)
runs the real flows on the suite's Prefect test server. The month goes on from the database
those four days leave, days 5 to 30 with the same jobs called as plain functions (what the
flows wrap), to check where thirty days leave the cases without paying a test server's flow
overhead 150 times, nor replaying the twelve weeks before the month a second time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from flows import QUIET_TEMPORARY_SERVER
from models.cases import Case, CaseEvent, Notification
from models.db import make_engine, session_scope
from models.directory import Staff
from processes.audit import iter_breaks
from processes.calendar import is_working_day, local
from suivi import demo
from suivi.cli import build
from suivi.demo_summary import summarise

START = date(2026, 11, 2)
FLOW_DAYS = 4
MONTH = 30


@pytest.fixture(scope="module")
def first_days(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, str]]:
    """`suivi demo --days 4` on the suite's Prefect test server: the database it leaves, and
    what it printed."""
    folder = tmp_path_factory.mktemp("demo-flows")
    path = folder / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        # What the command sets for its own process, put back afterwards for the other tests.
        own = {**QUIET_TEMPORARY_SERVER, "SUIVI_DATABASE_URL": "", "SUIVI_CONSOLE_LOG": ""}
        for name, value in own.items():
            patch.setenv(name, value)
        result = CliRunner().invoke(
            build(), ["demo", "--days", str(FLOW_DAYS), "--base", str(path)]
        )
        assert result.exit_code == 0, result.output
        engine = make_engine(demo.database_url(path))
        yield engine, " ".join(result.output.split())
    engine.dispose()


@pytest.fixture(scope="module")
def month(
    first_days: tuple[Engine, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The rest of the month after `suivi demo --days 4`, on a copy of its database, with the
    jobs as plain function calls."""
    folder = tmp_path_factory.mktemp("demo-month")
    path = folder / "demo.db"
    source = str(first_days[0].url.database)
    with closing(sqlite3.connect(source)) as flows, closing(sqlite3.connect(path)) as copy:
        flows.backup(copy)  # a consistent copy, whatever the flows left in the WAL
    engine = make_engine(demo.database_url(path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUIVI_CONSOLE_LOG", str(folder / "console.log"))
        demo.run_month(
            engine,
            demo.plan(START, demo.demo_directory()),
            start=START + timedelta(days=FLOW_DAYS),
            days=MONTH - FLOW_DAYS,
            routine=demo.PlainRoutine(engine),
        )
        yield engine
    engine.dispose()


def case_of(engine: Engine, process: str, resident: str) -> Case:
    with session_scope(engine) as session:
        case = session.scalars(
            select(Case)
            .where(Case.process == process, Case.resident_id == resident)
            .order_by(Case.id.desc())
        ).first()
        assert case is not None, f"no {process} case for {resident}"
        return case


def sent_kinds(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        return set(
            session.scalars(select(Notification.kind).where(Notification.status == "sent"))
        )


def test_second_warning_alerts_the_whole_direction_on_thursday_5_november(
    first_days: tuple[Engine, str],
) -> None:
    engine, _ = first_days
    case = case_of(engine, "hygiene", "r-0702")
    assert case.state == "warning_2"
    with session_scope(engine) as session:
        alerts = session.scalars(
            select(Notification).where(
                Notification.case_id == case.id, Notification.kind == "direction_alert"
            )
        ).all()
        assert {(a.recipient_staff_id, a.status) for a in alerts} == {
            ("dgls-rey", "sent"),
            ("dgls-amrani", "sent"),
            ("rgls-nord", "sent"),
        }
        assert {local(a.created_at).date() for a in alerts} == {date(2026, 11, 5)}


def test_the_flows_remind_agenda_and_deliver_everything(first_days: tuple[Engine, str]) -> None:
    engine, _ = first_days
    # Evaluation of r-0702 due Wednesday 4; r-0902's termination review 10 working days old
    # on Tuesday 3; agendas every working morning.
    assert {"evaluation_overdue", "termination_decision_reminder", "daily_agenda"} <= sent_kinds(
        engine
    )
    with session_scope(engine) as session:
        assert set(session.scalars(select(Notification.status))) == {"sent"}
        assert list(iter_breaks(session)) == []


def test_suivi_demo_sums_up_in_french_and_says_where_to_look(
    first_days: tuple[Engine, str],
) -> None:
    engine, output = first_days
    alerted = case_of(engine, "hygiene", "r-0702").id
    assert "Le mois simulé, du 02/11/2026 au 05/11/2026" in output
    assert "Alertes à la direction │ 1 dossier(s), 3 message(s)" in output
    assert "Piste d'audit : toutes les chaînes sont intactes." in output
    assert f"suivi case show {alerted} # un dossier signalé à la direction" in output
    assert "suivi notifications list" in output
    assert "suivi web # puis http://127.0.0.1:8000, identifiant dgls-rey" in output
    # Printed as text (issue 14): a markup tag would reach the screen as it is written.
    assert "[dim]" not in output and "[/]" not in output


def test_cases_are_where_the_month_leaves_them(month: Engine) -> None:
    expected = {
        ("hygiene", "r-0702"): "warning_2",  # direction alerted Thursday 5 November
        ("hygiene", "r-0301"): "good_upkeep",  # evaluated after the escalation to the dgls
        ("hygiene", "r-0902"): "warning_2",  # maintained by the direction
        ("hygiene", "r-0101"): "warning_1",  # third visit failed
        ("hygiene", "r-0401"): "good_upkeep",  # first visit planned late, after the reminder
        ("hygiene", "r-0603"): "visit_2",  # first visit planned after the escalation
        ("hygiene", "r-0402"): "withdrawn",  # the student left the residence
        ("hygiene", "r-1301"): "visit_3",  # missed the first appointment
        ("hygiene", "r-2001"): "visit_1",  # reported on Friday 27 November
        ("arrears", "r-1001"): "repayment_plan",  # renegotiated after a missed instalment
        ("arrears", "r-0103"): "repayment_plan",  # first instalment paid, checked by the sweep
        ("arrears", "r-0602"): "cleared",
        ("insurance", "r-0503"): "formal_notice",
        ("insurance", "r-0201"): "insured",  # follow-up opened by the sweep, renewed
        ("insurance", "r-1201"): "expiring",
    }
    assert {key: case_of(month, *key).state for key in expected} == expected


def test_the_cada_households_are_followed_through_their_procedure(month: Engine) -> None:
    filing = case_of(month, "asylum", "r-0803")
    # Registered Tuesday 27 October: file due Tuesday 17 November, lodged that day.
    assert (filing.state, filing.data["ofpra_due"]) == ("ofpra_pending", "2026-11-17")
    assert filing.data["ofpra_filed_on"] == "2026-11-17"
    legal_aid = case_of(month, "asylum", "r-0802")
    # Rejection opened Monday 26 October; legal aid asked on its 15th day, still pending.
    assert legal_aid.state == "appeal_suspended"
    assert legal_aid.data["legal_aid_requested_on"] == "2026-11-10"
    assert (legal_aid.data["appeal_days_used"], legal_aid.data["appeal_days_left"]) == (15, 16)
    stay = case_of(month, "asylum", "r-0804")
    # OFII's end of care on 31 August: stay to 30 November, extended once to 28 February.
    assert (stay.state, stay.data["care_ends_on"]) == ("protected", "2026-08-31")
    assert stay.data["care_end_recorded"] is True
    assert stay.data["stay_due"] == "2027-02-28"
    dublin = case_of(month, "asylum", "r-0805")
    assert (dublin.state, dublin.data["attestation_due"]) == ("exited", "2027-03-10")
    assert {
        "asylum_ofpra", "asylum_legal_aid", "asylum_stay", "asylum_attestation", "asylum_appeal",
    } <= sent_kinds(month)
    summary = summarise(month, START, MONTH).asylum
    assert (summary.households, summary.closed) == (3, 1)
    assert summary.steps == {
        "lodge_ofpra": 1, "request_legal_aid": 1, "renew_attestation": 1, "extend_stay": 1,
        "transfer_done": 1,
    }
    assert summary.deadline_messages > 0 and summary.provisional_stays == 0


def test_the_asylum_block_of_the_summary_names_nobody(first_days: tuple[Engine, str]) -> None:
    _, output = first_days
    assert "CADA : procédure d'asile (chiffres seulement)" in output
    assert "Demandes suivies en fin de mois │ 4" in output
    for secret in ("Haidari", "Tesfaye", "Kaba", "Nazari", "Rahimi", "Italie", "réfugi"):
        assert secret not in output


def test_late_staff_are_reminded_then_escalated(month: Engine) -> None:
    assert {
        "plan_first_visit",
        "first_visit_escalation",
        "record_visit_reminder",
        "evaluation_escalation",
        "visit_reminder",
        "resident_visit_reminder",
        "warning_letter",
    } <= sent_kinds(month)


def test_nobody_works_on_weekends_or_armistice_day(month: Engine) -> None:
    with session_scope(month) as session:
        staff_days = {
            local(at).date()
            for at in session.scalars(select(CaseEvent.at).where(CaseEvent.actor_id != "system"))
        }
        agenda_keys = session.scalars(
            select(Notification.idempotency_key).where(Notification.kind == "daily_agenda")
        ).all()
    assert staff_days and all(is_working_day(day) for day in staff_days)
    agenda_days = {key.split(":")[1] for key in agenda_keys}
    assert "2026-11-10" in agenda_days
    assert not {"2026-11-07", "2026-11-08", "2026-11-11"} & agenda_days


def test_the_summary_counts_what_the_database_holds(month: Engine) -> None:
    summary = summarise(month, START, MONTH)
    assert summary.direction_alerts == 1
    assert summary.direction_alert_messages == 3
    assert summary.alert_case == case_of(month, "hygiene", "r-0702").id
    assert (summary.first_warnings, summary.second_warnings, summary.maintained) == (1, 1, 1)
    assert summary.closed == {
        ("hygiene", "good_upkeep"): 8,
        ("hygiene", "withdrawn"): 1,
        ("arrears", "cleared"): 1,
        ("insurance", "insured"): 2,
        ("asylum", "exited"): 1,  # the Dublin transfer of Tuesday 24 November
    }
    assert summary.clocks_fired.get("deadline", 0) >= 1
    assert summary.clock_messages["reminder"] > summary.clock_messages["escalation"] > 0
    assert summary.sent_by_channel.keys() == {"console"}
    assert summary.not_sent == 0
    assert summary.audit_breaks == []


def test_each_demo_starts_from_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    directory = demo.demo_directory()
    engine = demo.fresh_database(path, directory)
    first_step = demo.plan(START, directory)[0]
    demo.play(engine, first_step)
    engine.dispose()
    again = demo.fresh_database(path, directory)
    with session_scope(again) as session:
        assert session.scalars(select(Case)).all() == []
    again.dispose()


def test_the_demo_refuses_to_erase_a_database_that_is_not_its_own(
    sqlite_engine: Engine,
) -> None:
    path = Path(str(sqlite_engine.url.database))
    with pytest.raises(demo.NotADemoDatabase, match="pas une base de démonstration"):
        demo.fresh_database(path, demo.demo_directory())
    with session_scope(sqlite_engine) as session:
        # The test directory is still there, untouched by the demo's.
        assert session.get(Staff, "gs-viala") is not None
        assert session.get(Staff, "dgls-rey") is None
