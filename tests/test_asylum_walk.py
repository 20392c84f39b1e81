"""Asylum (asylum.md): the whole path walked by the CADA's staff, its labels and its diagram.

The helpers at the top are shared by the other `test_asylum_*` files: a household of the
test directory (r-0004, flat cada-03 of the CADA site) and the three people who follow it.
"""

from __future__ import annotations

from datetime import date, datetime

from conftest import at
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock
from processes import engine as wf
from processes import registry

JURISTE, SOCIAL_WORKER, HEAD = "juriste-cada", "ts-cada", "chef-cada"
HOUSEHOLD = "r-0004"


def open_claim(
    s: Session,
    when: str,
    *,
    procedure: str = "normal",
    registered: str | None = None,
    issued: str | None = None,
) -> Case:
    """A claim registered and its attestation handed over on the day of `when` by default."""
    day = when[:10]
    payload = {
        "procedure": procedure,
        "registered_at": registered or day,
        "attestation_issued_at": issued or registered or day,
    }
    return wf.open_case(
        s, "asylum", resident_id=HOUSEHOLD, actor_id=SOCIAL_WORKER, payload=payload, now=at(when)
    )


def fire(s: Session, case: Case, trigger: str, who: str, when: str, **payload: object) -> Case:
    return wf.fire(s, case.id, trigger, payload=payload, actor_id=who, now=at(when))


def due(case: Case, deadline: str) -> date:
    return date.fromisoformat(case.data[f"{deadline}_due"])


def pending(s: Session, case: Case) -> dict[str, Clock]:
    rows = s.scalars(select(Clock).where(Clock.case_id == case.id, Clock.status == "pending"))
    return {c.name: c for c in rows}


def paris(clock: Clock) -> str:
    """A clock's due time as staff read it: `2027-04-12 08:00` (Paris)."""
    from processes.calendar import local

    moment: datetime = local(clock.due_at)
    return moment.strftime("%Y-%m-%d %H:%M")


def rejected(
    s: Session,
    *,
    notified: str = "2027-03-02",
    procedure: str = "normal",
    posted: str | None = None,
) -> Case:
    """A claim of January 2027 whose OFPRA rejection was first consulted on `notified`."""
    case = open_claim(s, "2027-01-04 10:00", procedure=procedure)
    fire(s, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    decision: dict[str, object] = {"outcome": "rejection"}
    if notified:
        decision["notified_at"] = notified
    if posted:
        decision["posted_at"] = posted
    latest = max(d for d in (notified, posted) if d)
    return fire(s, case, "record_decision", SOCIAL_WORKER, f"{latest} 18:00", **decision)


def protected(s: Session, *, notified: str = "2027-05-31") -> Case:
    case = open_claim(s, "2027-01-04 10:00")
    fire(s, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    return fire(
        s,
        case,
        "record_decision",
        SOCIAL_WORKER,
        f"{notified} 18:00",
        notified_at=notified,
        outcome="refugee",
    )


def events(s: Session, case: Case) -> list[CaseEvent]:
    return list(
        s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    )


# --- The tests of this file ------------------------------------------------------------------


def test_asylum_is_registered_and_applies_only_to_a_cada() -> None:
    process = registry.get("asylum")
    assert process.definition.sensitive
    assert process.definition.site_kinds == ("cada",)


def test_every_state_and_trigger_has_a_french_and_an_english_label() -> None:
    definition = registry.get("asylum").definition
    for item in (*definition.states, *definition.triggers):
        assert item.label and item.label_en and item.label != item.label_en, item


def test_the_diagram_draws_the_whole_path() -> None:
    diagram = registry.get("asylum").mermaid()
    assert diagram.splitlines()[3] == "stateDiagram-v2"
    definition = registry.get("asylum").definition
    for st in definition.states:
        assert f'state "{st.label}" as {st.id}' in diagram
    for line in (
        "registered --> ofpra_pending: lodge_ofpra",
        "appeal_window --> appeal_suspended: request_legal_aid (dans les 15 jours)",
        "appeal_suspended --> appeal_window: legal_aid_decided",
        "dublin_transfer --> registered: requalify (délai de transfert expiré)",
        "rejected_final --> cnda_pending: lodge_appeal (hors délai, avec dérogation)",
        "exit_preparation --> exited: record_exit",
    ):
        assert line in diagram


def test_a_refugee_walks_from_registration_to_the_exit(session: Session) -> None:
    case = open_claim(session, "2027-01-04 10:00")
    assert case.state == "registered"
    fire(session, case, "lodge_ofpra", JURISTE, "2027-01-20 10:00", filed_at="2027-01-20")
    fire(
        session,
        case,
        "schedule_interview",
        SOCIAL_WORKER,
        "2027-03-01 10:00",
        interview_at="2027-04-06T09:30",
    )
    assert paris(pending(session, case)["interview_reminder_7"]) == "2027-03-30 08:00"
    fire(
        session,
        case,
        "record_decision",
        SOCIAL_WORKER,
        "2027-05-31 18:00",
        notified_at="2027-05-31",
        outcome="subsidiary",
    )
    assert (case.state, case.data["protection"]) == ("protected", "subsidiary")
    fire(
        session,
        case,
        "plan_exit",
        HEAD,
        "2027-07-01 10:00",
        exit_at="2027-08-16",
        destination="logement social",
        social_housing_requested_at="2027-06-15",
    )
    assert case.state == "exit_preparation"
    assert case.data["housing_search"] == {"social_housing_requested_on": "2027-06-15"}
    fire(session, case, "record_exit", SOCIAL_WORKER, "2027-08-16 17:00", exited_at="2027-08-16")
    assert case.state == "exited" and case.closed_at is not None
    assert pending(session, case) == {}
    assert [e.trigger for e in events(session, case)] == [
        "open",
        "lodge_ofpra",
        "schedule_interview",
        "record_decision",
        "plan_exit",
        "record_exit",
    ]


def test_a_cnda_annulment_sends_the_claim_back_to_ofpra(session: Session) -> None:
    case = rejected(session)
    fire(session, case, "lodge_appeal", JURISTE, "2027-03-20 10:00", lodged_at="2027-03-20")
    fire(
        session,
        case,
        "record_cnda_decision",
        SOCIAL_WORKER,
        "2027-07-08 10:00",
        notified_at="2027-07-08",
        outcome="annulment",
    )
    assert case.state == "ofpra_pending"
    # The new examination is expected 6 months after the CNDA's decision.
    assert due(case, "ofpra_decision") == date(2028, 1, 8)
