"""Unpaid rent (arrears.md): payments in exact euros, the legal threshold of CCH L633-2 /
R633-3 checked by the engine, the repayment plan's instalments checked by their clocks, how
the termination is served, and the winter truce of CPCE L412-6."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from conftest import at
from helpers import pending_clocks
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.cases import Case, Clock
from models.db import session_scope
from processes import engine as wf
from processes import registry
from processes.arrears_rules import (
    in_winter_truce,
    longest_consecutive_run,
    threshold_refusal,
)
from processes.errors import Forbidden, Refusal

GS, RGLS, DGLS = "gs-viala", "rgls-sud", "dgls-1"
FEE = "450.00"


def open_arrears(s: Session, when: str, months: list[str], **extra: str) -> Case:
    payload = {"monthly_amount": FEE, "unpaid_months": months, **extra}
    return wf.open_case(
        s, "arrears", resident_id="r-0001", actor_id=GS, payload=payload, now=at(when)
    )


def fire(s: Session, case: Case, trigger: str, who: str, when: str, **payload: object) -> Case:
    return wf.fire(s, case.id, trigger, payload=payload, actor_id=who, now=at(when))


def to_formal_notice(s: Session, case: Case) -> Case:
    fire(s, case, "send_reminder", GS, "2026-11-02 10:00", sent_at="2026-11-02T09:00")
    return fire(s, case, "send_formal_notice", RGLS, "2026-11-20 10:00", sent_at="2026-11-20")


# --- The rules as plain functions ---------------------------------------------------------


def test_consecutive_months_count_across_a_new_year() -> None:
    assert longest_consecutive_run(["2026-11", "2026-12", "2027-01"]) == 3
    assert longest_consecutive_run(["2026-08", "2026-10", "2026-12"]) == 1


def test_threshold_holds_on_either_branch() -> None:
    fee = Decimal("450.00")
    three = ["2026-08", "2026-09", "2026-10"]
    assert threshold_refusal(three, Decimal("100.00"), fee, part_payments=False) is None
    # The debt branch holds only where there are part payments (CCH R633-3 II a).
    assert threshold_refusal(["2026-08"], Decimal("900.00"), fee, part_payments=True) is None
    refusal = threshold_refusal(
        ["2026-08", "2026-10"], Decimal("899.99"), fee, part_payments=True
    )
    assert refusal is not None and "899,99 €" in refusal and "900,00 €" in refusal


@pytest.mark.parametrize(
    ("day", "truce"),
    [
        (date(2027, 10, 31), False),
        (date(2027, 11, 1), True),
        (date(2028, 3, 31), True),
        (date(2028, 4, 1), False),
    ],
)
def test_winter_truce_runs_from_1_november_to_31_march(day: date, truce: bool) -> None:
    assert in_winter_truce(day) is truce


# --- Payments -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["12,50", "12.50"])
def test_a_payment_typed_with_a_comma_or_a_point_is_exactly_12_euros_50(
    session: Session, typed: str
) -> None:
    case = open_arrears(session, "2026-10-26 10:00", ["2026-09", "2026-10"])
    assert case.data["balance"] == "900.00"
    fire(
        session,
        case,
        "record_payment",
        GS,
        "2026-10-28 10:00",
        amount=typed,
        paid_at="2026-10-28T09:30",
    )
    assert case.state == "detected"
    assert case.data["balance"] == "887.50"
    assert case.data["payments"][0]["amount"] == "12.50"


def test_paying_the_whole_debt_clears_the_case_from_any_open_state(session: Session) -> None:
    case = open_arrears(session, "2026-10-26 10:00", ["2026-10"])
    fire(session, case, "send_reminder", GS, "2026-10-27 10:00", sent_at="2026-10-27T09:00")
    fire(
        session,
        case,
        "record_payment",
        GS,
        "2026-10-30 10:00",
        amount="450,00",
        paid_at="2026-10-30T09:00",
        month="2026-10",
    )
    assert case.state == "cleared"
    assert case.closed_at is not None
    assert case.data["balance"] == "0.00"
    assert case.data["unpaid_months"] == []


# --- The legal threshold -------------------------------------------------------------------


def test_three_consecutive_unpaid_months_open_the_termination_review(
    session: Session,
) -> None:
    case = open_arrears(
        session, "2026-10-26 10:00", ["2026-08", "2026-09", "2026-10"], balance="300.00"
    )  # APL paid most of it: the months still count
    to_formal_notice(session, case)
    fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    assert case.state == "termination_review"
    assert case.data["threshold_grounds"] == ["3 mensualités consécutives impayées"]


def test_part_payments_reaching_twice_the_monthly_amount_open_the_review(
    session: Session,
) -> None:
    case = open_arrears(session, "2026-10-26 10:00", ["2026-07", "2026-09"], balance="700.00")
    fire(
        session,
        case,
        "record_unpaid_month",
        GS,
        "2026-11-02 09:30",  # before the reminder of to_formal_notice: a history is in order
        month="2026-11",
        amount="200,00",
    )
    assert case.data["balance"] == "900.00"
    to_formal_notice(session, case)
    fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    assert case.state == "termination_review"
    assert case.data["threshold_grounds"] == ["dette de 900,00 € ≥ 2 × 450,00 €"]


def test_termination_below_the_threshold_is_refused_with_the_figures(
    session: Session,
) -> None:
    case = open_arrears(session, "2026-10-26 10:00", ["2026-08", "2026-10"], balance="900.00")
    fire(
        session,
        case,
        "record_payment",
        GS,
        "2026-11-02 09:30",  # before the reminder of to_formal_notice: a history is in order
        amount="0.01",
        paid_at="2026-11-02T09:00",
    )
    to_formal_notice(session, case)
    with pytest.raises(Refusal) as refused:
        fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    message = str(refused.value)
    assert "899,99 €" in message and "2 × 450,00 € = 900,00 €" in message
    assert "1 mensualité(s) consécutive(s)" in message
    assert case.state == "formal_notice"


def test_only_the_direction_decides_termination(session: Session) -> None:
    case = open_arrears(session, "2026-10-26 10:00", ["2026-08", "2026-09", "2026-10"])
    to_formal_notice(session, case)
    fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    with pytest.raises(Forbidden, match="rôles permis : dgls"):
        fire(
            session,
            case,
            "decide_termination",
            RGLS,
            "2026-12-22 10:00",
            decided_at="2026-12-22T09:00",
            grounds="impayés",
        )
    fire(
        session,
        case,
        "decide_termination",
        DGLS,
        "2026-12-22 10:00",
        decided_at="2026-12-22T09:00",
        grounds="impayés",
    )
    assert case.state == "terminated"


# --- The repayment plan --------------------------------------------------------------------


def plan_case(s: Session) -> Case:
    case = open_arrears(s, "2026-10-26 10:00", ["2026-09", "2026-10"])
    fire(
        s,
        case,
        "record_interview",
        GS,
        "2026-11-02 10:00",
        held_at="2026-11-02T09:00",
        fsl_requested=True,
    )
    return fire(
        s,
        case,
        "agree_plan",
        GS,
        "2026-11-03 10:00",
        instalments=[
            {"due_on": "2026-11-10", "amount": "100,00"},
            {"due_on": "2026-12-10", "amount": "100,00"},
        ],
    )


def test_each_instalment_is_checked_5_days_after_its_date(session: Session) -> None:
    case = plan_case(session)
    assert case.state == "repayment_plan"
    assert pending_clocks(session, case.id) == {
        "instalment_1_check": at("2026-11-15 08:00"),
        "instalment_2_check": at("2026-12-15 08:00"),
    }


def clock_named(s: Session, case: Case, name: str) -> Clock:
    return s.scalars(
        select(Clock).where(Clock.case_id == case.id, Clock.name == name, Clock.status == "pending")
    ).one()


def test_a_missed_instalment_found_by_its_clock_breaches_the_plan(engine: Engine) -> None:
    with session_scope(engine) as s:
        case = plan_case(s)
        wf.fire_clock(s, clock_named(s, case, "instalment_1_check"), at("2026-11-15 08:00"))
        assert case.state == "plan_breached"
        assert case.data["missed_instalment"] == {"due_on": "2026-11-10", "amount": "100.00"}
        assert pending_clocks(s, case.id) == {"breach_decision": at("2026-11-27 08:00")}
        fire(
            s,
            case,
            "renegotiate_plan",
            RGLS,
            "2026-11-20 10:00",
            instalments=[{"due_on": "2026-12-05", "amount": "50"}],
        )
        assert case.state == "repayment_plan"
        assert pending_clocks(s, case.id) == {"instalment_1_check": at("2026-12-10 08:00")}


def test_a_paid_instalment_does_not_breach_the_plan(session: Session) -> None:
    case = plan_case(session)
    fire(
        session,
        case,
        "record_payment",
        GS,
        "2026-11-12 10:00",
        amount="100",
        paid_at="2026-11-12T09:00",
    )
    wf.fire_clock(session, clock_named(session, case, "instalment_1_check"), at("2026-11-15 08:00"))
    assert case.state == "repayment_plan"
    assert "missed_instalment" not in case.data
    assert pending_clocks(session, case.id) == {"instalment_2_check": at("2026-12-15 08:00")}


# --- Termination served, eviction and the winter truce --------------------------------------


def terminated_case(s: Session) -> Case:
    case = open_arrears(s, "2026-10-26 10:00", ["2026-08", "2026-09", "2026-10"])
    to_formal_notice(s, case)
    fire(s, case, "request_termination", RGLS, "2026-12-22 09:00")
    return fire(
        s,
        case,
        "decide_termination",
        DGLS,
        "2026-12-22 10:00",
        decided_at="2026-12-22T09:00",
        grounds="impayés",
    )


def test_an_uncollected_registered_letter_has_no_effect(session: Session) -> None:
    case = terminated_case(session)
    with pytest.raises(Refusal, match="non retirée"):
        fire(
            session,
            case,
            "record_notice_served",
            GS,
            "2027-01-04 10:00",
            served_at="2027-01-04T09:00",
            method="registered_letter",
            collected=False,
        )
    fire(
        session,
        case,
        "record_notice_served",
        GS,
        "2027-01-05 10:00",
        served_at="2027-01-05T09:00",
        method="bailiff",
    )
    assert case.data["notice_method"] == "bailiff"
    assert pending_clocks(session, case.id) == {"notice_period_end": at("2027-02-05 09:00")}


def test_eviction_waits_for_the_month_of_notice(session: Session) -> None:
    case = terminated_case(session)
    fire(
        session,
        case,
        "record_notice_served",
        GS,
        "2027-01-05 10:00",
        served_at="2027-01-05T09:00",
        method="hand_delivery",
    )
    with pytest.raises(Refusal, match="préavis d'un mois court jusqu'au 05/02/2027"):
        fire(
            session,
            case,
            "start_eviction",
            DGLS,
            "2027-02-04 10:00",
            decided_at="2027-02-04T09:00",
            grounds="jugement d'expulsion",
        )
    fire(
        session,
        case,
        "start_eviction",
        DGLS,
        "2027-02-05 10:00",
        decided_at="2027-02-05T09:00",
        grounds="jugement d'expulsion",
    )
    assert case.state == "eviction_procedure"


@pytest.mark.parametrize(
    ("when", "allowed"),
    [
        ("2027-10-31 23:30", True),
        ("2027-11-01 00:30", False),  # still 31 October in UTC: Paris time decides
        ("2028-03-31 23:30", False),
        ("2028-04-01 00:30", True),  # still 31 March in UTC
    ],
)
def test_no_eviction_during_the_winter_truce(session: Session, when: str, allowed: bool) -> None:
    case = terminated_case(session)
    fire(
        session,
        case,
        "record_notice_served",
        GS,
        "2027-01-05 10:00",
        served_at="2027-01-05T09:00",
        method="hand_delivery",
    )
    fire(
        session,
        case,
        "start_eviction",
        DGLS,
        "2027-06-01 10:00",
        decided_at="2027-06-01T09:00",
        grounds="jugement d'expulsion",
    )
    if allowed:
        fire(session, case, "execute_eviction", DGLS, when)
        assert case.state == "withdrawn"
        assert case.data["eviction_executed_at"] == at(when).isoformat()
    else:
        with pytest.raises(Refusal, match="trêve hivernale.*CPCE L412-6"):
            fire(session, case, "execute_eviction", DGLS, when)
        assert case.state == "eviction_procedure"


def test_the_diagram_names_every_state() -> None:
    diagram = registry.get("arrears").mermaid()
    for state in registry.get("arrears").definition.states:
        assert f"as {state.id}" in diagram
        assert state.label in diagram


# --- CCH R633-3 II a) and III, as checked in December 2026 (issue 13) ---------------------------


def test_r633_3_two_wholly_unpaid_months_without_part_payment_do_not_reach_it_even_at_twice_the_fee(
    session: Session,
) -> None:
    # September and October 2026 wholly unpaid: 900 € = 2 × 450 €, but no part payment.
    case = open_arrears(session, "2026-10-26 10:00", ["2026-09", "2026-10"])
    assert case.data["balance"] == "900.00" and case.data["part_payments"] is False
    to_formal_notice(session, case)
    with pytest.raises(Refusal) as refused:
        fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    message = str(refused.value)
    assert "seuil légal de résiliation non atteint (CCH R633-3 II a))" in message
    assert "2 mensualité(s) consécutive(s) totalement impayée(s) sur 3 requises" in message
    assert "sans paiement partiel, la dette (900,00 €) ne compte pas" in message
    assert case.state == "formal_notice"


def test_r633_3_three_consecutive_wholly_unpaid_months_reach_it_without_part_payment(
    session: Session,
) -> None:
    case = open_arrears(session, "2026-10-26 10:00", ["2026-08", "2026-09", "2026-10"])
    to_formal_notice(session, case)
    fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    assert case.data["threshold_grounds"] == ["3 mensualités consécutives impayées"]


def test_r633_3_a_part_payment_makes_a_debt_of_twice_the_fee_count(session: Session) -> None:
    # Two months unpaid (900 €), a part payment of 50 € then a third month partly unpaid.
    case = open_arrears(session, "2026-10-26 10:00", ["2026-08", "2026-10"])
    fire(session, case, "record_payment", GS, "2026-10-30 10:00", amount="50,00",
         paid_at="2026-10-30T09:00")
    fire(session, case, "record_unpaid_month", GS, "2026-11-02 09:30", month="2026-11",
         amount="100,00")
    assert case.data["balance"] == "950.00"
    to_formal_notice(session, case)
    fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    assert case.state == "termination_review"
    assert case.data["threshold_grounds"] == ["dette de 950,00 € ≥ 2 × 450,00 €"]


def test_r633_3_iii_no_termination_is_requested_before_the_formal_notice_runs_out(
    session: Session,
) -> None:
    # Sent Friday 20 November 2026: a month ends on Sunday 20 December, so Monday 21.
    case = open_arrears(session, "2026-10-26 10:00", ["2026-08", "2026-09", "2026-10"])
    to_formal_notice(session, case)
    with pytest.raises(Refusal) as refused:
        fire(session, case, "request_termination", RGLS, "2026-12-21 17:00")
    message = str(refused.value)
    assert "la mise en demeure du 20/11/2026 court jusqu'au 21/12/2026 inclus" in message
    assert "(1 mois, CCH R633-3 III)" in message
    assert case.state == "formal_notice"
    fire(session, case, "request_termination", RGLS, "2026-12-22 09:00")
    assert case.state == "termination_review"
