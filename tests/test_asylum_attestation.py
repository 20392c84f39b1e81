"""The attestation de demande d'asile, renewed at the prefecture whatever the state of the
claim (asylum.md, "The attestation, in parallel"): its clocks run beside the states."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import at
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_asylum_walk import JURISTE, SOCIAL_WORKER, due, fire, open_claim, paris, pending

from models.cases import Clock, Notification
from models.db import session_scope
from notifications.compose import message_of
from processes.calendar import previous_working_day_from
from processes.errors import Refusal
from processes.sweep import sweep_due_clocks


@pytest.mark.parametrize(
    ("procedure", "issued", "expires"),
    [
        ("normal", "2027-03-31", date(2028, 1, 31)),  # 10 months
        ("accelerated", "2027-08-31", date(2028, 2, 29)),  # 6 months, to a leap February
        ("dublin", "2027-01-31", date(2027, 2, 28)),  # 1 month; a printed expiry never moves
    ],
)
def test_the_first_attestation_lasts_as_long_as_its_procedure_allows(
    session: Session, procedure: str, issued: str, expires: date
) -> None:
    case = open_claim(session, f"{issued} 15:00", procedure=procedure)
    assert due(case, "attestation") == expires
    assert f"attestation_first_{procedure}]" in case.data["attestation_rule"]
    clocks = pending(session, case)
    assert {clocks[n].state for n in clocks if n.startswith("attestation")} == {"*"}
    assert clocks["attestation_reminder_15"].recipients == ["social_worker"]
    assert clocks["attestation_escalation"].recipients == ["cada_manager"]
    assert clocks["attestation_unresolved"].recipients == ["dgls"]


@pytest.mark.parametrize(
    ("procedure", "issued", "renewed", "expires"),
    [
        ("normal", "2027-03-31", "2028-01-25", date(2028, 7, 25)),  # 6 months
        ("accelerated", "2027-08-31", "2028-02-29", date(2028, 8, 29)),  # 6 months
        ("dublin", "2027-01-31", "2027-02-26", date(2027, 6, 26)),  # 4 months
    ],
)
def test_each_renewal_lasts_as_long_as_its_procedure_allows(
    session: Session, procedure: str, issued: str, renewed: str, expires: date
) -> None:
    case = open_claim(session, f"{issued} 15:00", procedure=procedure)
    before = pending(session, case)["attestation_escalation"].id
    fire(session, case, "renew_attestation", SOCIAL_WORKER, f"{renewed} 16:00", renewed_at=renewed)
    assert due(case, "attestation") == expires
    assert f"attestation_renewal_{procedure}]" in case.data["attestation_rule"]
    assert [a["expires_on"] for a in case.data["attestations"]][-1] == expires.isoformat()
    clocks = pending(session, case)
    assert clocks["attestation_escalation"].id != before
    assert session.get(Clock, before).status == "cancelled"  # type: ignore[union-attr]
    # 3 days before the expiry, or the working day before that when it is closed.
    assert (
        paris(clocks["attestation_reminder_3"])
        == f"{previous_working_day_from(date.fromordinal(expires.toordinal() - 3))} 08:00"
    )


def test_the_printed_expiry_wins_and_the_rule_is_kept_beside_it(session: Session) -> None:
    case = open_claim(session, "2027-03-31 15:00")
    fire(
        session,
        case,
        "renew_attestation",
        SOCIAL_WORKER,
        "2028-01-25 16:00",
        renewed_at="2028-01-25",
        expires_at="2028-07-20",
    )
    assert due(case, "attestation") == date(2028, 7, 20)
    assert (
        "la règle attestation_renewal_normal donnerait le 25/07/2028"
        in (case.data["attestation_rule"])
    )
    with pytest.raises(Refusal, match="ne peut pas expirer le 20/01/2028"):
        fire(
            session,
            case,
            "renew_attestation",
            SOCIAL_WORKER,
            "2028-01-26 16:00",
            renewed_at="2028-01-25",
            expires_at="2028-01-20",
        )


def test_the_attestation_clocks_survive_state_changes_and_stop_with_protection(
    session: Session,
) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    attestation = pending(session, case)["attestation_escalation"].id
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    assert pending(session, case)["attestation_escalation"].id == attestation
    fire(
        session,
        case,
        "record_decision",
        SOCIAL_WORKER,
        "2027-05-31 18:00",
        notified_at="2027-05-31",
        outcome="refugee",
    )
    assert not [n for n in pending(session, case) if n.startswith("attestation")]
    with pytest.raises(
        Refusal, match=r"« Attestation renouvelée » \(renew_attestation\) n'est pas possible"
    ):
        fire(
            session,
            case,
            "renew_attestation",
            SOCIAL_WORKER,
            "2027-06-02 10:00",
            renewed_at="2027-06-02",
        )


def test_an_expired_attestation_reaches_the_head_then_the_direction(engine: Engine) -> None:
    with session_scope(engine) as s:
        case_id = open_claim(s, "2027-01-04 10:00").id  # expires Thursday 4 November 2027

    def told(kind: str = "asylum_attestation") -> list[tuple[str | None, str]]:
        with session_scope(engine) as s:
            rows = s.scalars(
                select(Notification)
                .where(Notification.case_id == case_id, Notification.kind == kind)
                .order_by(Notification.id)
            ).all()
            return [(n.recipient_staff_id, message_of(s, n)[0]) for n in rows]

    sweep_due_clocks(engine, at("2027-10-20 08:00"))
    assert told() == [("ts-cada", f"[C-{case_id}] échéance (document de séjour) le 04/11/2027")]
    sweep_due_clocks(engine, at("2027-11-05 08:00"))
    assert told()[-1] == (
        "chef-cada",
        f"[C-{case_id}] Alerte : échéance (document de séjour) le 04/11/2027",
    )
    assert len(told()) == 3  # the 3-day reminder to the social worker came in between
    sweep_due_clocks(engine, at("2027-11-12 08:00"))
    assert {who for who, _ in told()[3:]} == {"dgls-1", "dgls-2"}
