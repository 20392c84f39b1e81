"""Dublin claims (asylum.md): the transfer period of regulation 604/2013, its extensions,
the EU pact's rules for claims registered from 1 July 2026 (regulation 2024/1351), the
7-day appeal, and the requalification when the transfer did not happen in time."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import at
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from test_asylum_walk import JURISTE, SOCIAL_WORKER, due, events, fire, open_claim, pending

from models.cases import Case
from models.db import session_scope
from processes.errors import Refusal
from processes.sweep import sweep_due_clocks


def dublin(s: Session, *, registered: str, accepted: str = "2026-08-31", **extra: str) -> Case:
    case = open_claim(s, f"{registered} 10:00", procedure="dublin")
    return fire(
        s,
        case,
        "start_dublin",
        JURISTE,
        f"{accepted} 10:00",
        accepted_at=accepted,
        member_state="Italie",
        **extra,
    )


def test_the_transfer_is_due_6_months_after_the_acceptance(session: Session) -> None:
    case = dublin(session, registered="2026-06-15")
    assert case.state == "dublin_transfer"
    assert case.data["rule_set"] == "asylum-2024-08"
    assert due(case, "transfer") == date(2027, 2, 28)  # 31 August + 6 months
    assert "règlement (UE) 604/2013, art. 29" in case.data["transfer_rule"]
    clocks = pending(session, case)
    assert clocks["transfer_passed"].due_at == at("2027-03-01 00:00")
    assert clocks["transfer_passed"].action == "fire:requalify"


@pytest.mark.parametrize(
    ("registered", "situation", "expected", "source"),
    [
        ("2026-06-15", "imprisoned", date(2027, 8, 31), "604/2013"),  # 12 months
        ("2026-06-15", "absconded", date(2028, 2, 29), "604/2013"),  # 18 months
        ("2026-07-15", "imprisoned", date(2027, 8, 31), "2024/1351"),  # pact: 1 year
        ("2026-07-15", "absconded", date(2029, 8, 31), "2024/1351"),  # pact: 3 years
    ],
)
def test_imprisonment_or_absconding_extends_the_transfer_period(
    session: Session, registered: str, situation: str, expected: date, source: str
) -> None:
    case = dublin(session, registered=registered)
    fire(
        session,
        case,
        "update_dublin",
        JURISTE,
        "2027-01-10 10:00",
        situation=situation,
        at="2027-01-08",
    )
    assert case.state == "dublin_transfer"
    assert due(case, "transfer") == expected
    assert f"règlement (UE) {source}" in case.data["transfer_rule"]
    assert f"dublin_transfer_{situation}]" in case.data["transfer_rule"]
    assert pending(session, case)["transfer_passed"].due_at.date() >= expected


def test_the_period_cannot_be_extended_once_it_has_expired(session: Session) -> None:
    case = dublin(session, registered="2026-06-15")
    with pytest.raises(Refusal, match="le délai de transfert a expiré le 28/02/2027"):
        fire(
            session,
            case,
            "update_dublin",
            JURISTE,
            "2027-03-02 10:00",
            situation="absconded",
            at="2027-03-01",
        )


def test_the_transfer_decision_may_be_appealed_within_7_days_past_whit_monday(
    session: Session,
) -> None:
    # Notified Monday 10 May 2027: day 7 is Whit Monday 17 May.
    case = dublin(
        session,
        registered="2027-04-01",
        accepted="2027-05-10",
        transfer_decision_notified_at="2027-05-10",
    )
    assert due(case, "dublin_appeal") == date(2027, 5, 18)
    assert case.data["dublin_appeal_rule"].endswith(
        "échéance le 18/05/2027 (le 17/05/2027 n'étant pas un jour ouvré) "
        "[règles asylum-2026-07, dublin_appeal]"
    )
    assert "dublin_appeal_reminder_2" in pending(session, case)


def test_without_transfer_in_time_france_becomes_responsible(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = dublin(s, registered="2026-06-15").id
    sweep_due_clocks(engine, at("2027-02-28 23:59"))
    with session_scope(engine) as s:
        assert s.get(Case, case_id).state == "dublin_transfer"  # type: ignore[union-attr]
    sweep_due_clocks(engine, at("2027-03-01 00:00"))
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert (case.state, case.data["procedure"]) == ("registered", "normal")
        assert case.data["requalified_on"] == "2027-03-01"
        assert events(s, case)[-1].trigger == "requalify"
        # A first attestation of the normal procedure, and 21 days to file at OFPRA.
        assert due(case, "attestation") == date(2028, 1, 1)
        assert due(case, "ofpra") == date(2027, 3, 22)
        assert {"ofpra_reminder_7", "ofpra_escalation"} <= set(pending(s, case))
        fire(s, case, "lodge_ofpra", JURISTE, "2027-03-15 10:00", filed_at="2027-03-15")
        assert case.state == "ofpra_pending"


def test_a_dublin_claim_is_not_filed_at_ofpra_and_requalifies_only_when_late(
    session: Session,
) -> None:
    case = open_claim(session, "2027-01-04 10:00", procedure="dublin")
    assert not [n for n in pending(session, case) if n.startswith("ofpra")]
    with pytest.raises(Refusal, match="procédure Dublin : pas de dossier OFPRA"):
        fire(session, case, "lodge_ofpra", JURISTE, "2027-01-10 10:00", filed_at="2027-01-10")
    fire(
        session,
        case,
        "start_dublin",
        JURISTE,
        "2027-02-01 10:00",
        accepted_at="2027-02-01",
        member_state="Italie",
    )
    with pytest.raises(Refusal, match="court jusqu'au 01/08/2027 inclus"):
        fire(session, case, "requalify", JURISTE, "2027-07-30 10:00")
    normal = open_claim(session, "2027-01-04 10:00")
    with pytest.raises(Refusal, match="en procédure normal, pas Dublin"):
        fire(
            session,
            normal,
            "start_dublin",
            JURISTE,
            "2027-02-01 10:00",
            accepted_at="2027-02-01",
            member_state="Italie",
        )


def test_a_transfer_carried_out_closes_the_case(session: Session) -> None:
    case = dublin(session, registered="2027-01-04", accepted="2027-02-01")
    fire(session, case, "transfer_done", SOCIAL_WORKER, "2027-04-12 18:00", at="2027-04-12")
    assert case.state == "exited" and case.closed_at is not None
    assert pending(session, case) == {}


def test_a_ruling_on_the_transfer_appeal_restarts_the_6_months(session: Session) -> None:
    case = dublin(
        session,
        registered="2027-01-04",
        accepted="2027-02-01",
        transfer_decision_notified_at="2027-02-01",
    )
    assert due(case, "transfer") == date(2027, 8, 1)
    fire(
        session,
        case,
        "start_dublin",
        JURISTE,
        "2027-03-31 10:00",
        accepted_at="2027-03-31",
        member_state="Italie",
    )
    assert case.state == "dublin_transfer"
    assert due(case, "transfer") == date(2027, 9, 30)  # 31 March + 6 months
    assert pending(session, case)["transfer_passed"].due_at == at("2027-10-01 00:00")
