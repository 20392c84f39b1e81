"""Letters staff used to type by hand, generated from the case: HTML (Jinja2), then PDF.

A letter states facts the association may have to prove to a landlord or a judge (visits held,
warnings sent, the deadline given), so every fact comes from the case: its data and its
audit history, never from what someone types into the letter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.cases import Case, CaseEvent, Clock
from models.directory import Dwelling, Landlord, Organisation, Resident, Site
from processes.calendar import PARIS, parse_moment
from processes.errors import NotFound, Refusal

TEMPLATES = Path(__file__).parent / "letters"

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)
OUTCOMES_FR = {"satisfactory": "satisfaisante", "unsatisfactory": "insatisfaisante"}
RESIDENT_STEPS = {
    "send_reminder": "relance amiable",
    "record_interview": "entretien avec votre gestionnaire social(e)",
    "agree_plan": "plan d'apurement convenu avec vous",
    "renegotiate_plan": "plan d'apurement revu avec vous",
    "record_contact": "échange avec votre gestionnaire social(e)",
    "send_formal_notice": "mise en demeure",
}
"""The steps a resident is reminded of, in the resident's words: a letter never quotes the
staff's own action labels (« Soumettre la résiliation à la direction »), and leaves out the
steps that are the association's business (payments are listed on their own)."""


@dataclass(frozen=True)
class LetterKind:
    kind: str
    title: str
    process: str
    state: str
    """The state the case must be in: the letter is what that state asks staff to send."""
    signatory: str


KINDS = {
    k.kind: k
    for k in (
        LetterKind("hygiene_warning_1", "1er avertissement", "hygiene", "warning_1",
                   "Le service de la gestion locative sociale"),
        LetterKind("hygiene_warning_2", "2e avertissement", "hygiene", "warning_2",
                   "La direction de la gestion locative sociale"),
        LetterKind("arrears_formal_notice", "Mise en demeure de payer", "arrears",
                   "formal_notice", "Le service de la gestion locative sociale"),
        LetterKind("insurance_formal_notice", "Mise en demeure d'assurer le logement",
                   "insurance", "formal_notice",
                   "Le service de la gestion locative sociale"),
    )
}


class LetterRefused(Refusal):
    code = "letter_refused"


@dataclass(frozen=True)
class Letter:
    kind: LetterKind
    case_id: int
    html: str

    def pdf(self) -> bytes:
        # Imported here: WeasyPrint loads Pango at import, which only letters need.
        from weasyprint import HTML

        return bytes(HTML(string=self.html, base_url=str(TEMPLATES)).write_pdf())


def fits(kind: LetterKind, case: Case) -> str | None:
    """Why this letter does not fit the case, or None when it does."""
    if case.process != kind.process or case.state != kind.state or case.closed_at is not None:
        return (
            f"le courrier « {kind.kind} » ({kind.title}) ne correspond pas à ce dossier : il "
            f"faut un dossier « {kind.process} » à l'état « {kind.state} » ; celui-ci est un "
            f"dossier « {case.process} » à l'état « {case.state} »"
            + (" (clos)" if case.closed_at is not None else "")
        )
    return None


def letter_for(session: Session, case_id: int, kind_name: str, *, now: datetime) -> Letter:
    """The letter of `kind_name` for a case, dated `now` (Paris)."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise NotFound(
            f"courrier inconnu « {kind_name} » ; courriers possibles : {', '.join(KINDS)}"
        )
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"dossier inconnu : C-{case_id}")
    why = fits(kind, case)
    if why:
        raise LetterRefused(why, case_id=case.id)
    context = common_context(session, case, kind, now)
    context["facts"] = FACTS[kind.process](session, case)
    html = environment().get_template(f"{kind.kind}.html.j2").render(**context)
    return Letter(kind=kind, case_id=case.id, html=html)


def common_context(session: Session, case: Case, kind: LetterKind, now: datetime) -> dict[str, Any]:
    org = session.scalars(select(Organisation).limit(1)).first()
    resident = session.get(Resident, case.resident_id)
    dwelling = session.get(Dwelling, case.dwelling_id) if case.dwelling_id else None
    site = session.get(Site, case.site_id)
    # A dwelling may belong to another landlord than its site's (mixed residences).
    landlord_id = (dwelling.landlord_id if dwelling else None) or (
        site.landlord_id if site else None
    )
    landlord = session.get(Landlord, landlord_id) if landlord_id else None
    return {
        "kind": kind,
        "signatory": signatory(org.settings if org else None, kind),
        "date": now,
        "town": _town(org.address if org else None),
        "organisation": {"name": org.name if org else "", "address": org.address if org else ""},
        "resident": {"id": case.resident_id, "name": resident.name if resident else ""},
        "dwelling": {"label": dwelling.label if dwelling else ""},
        "site": {
            "name": site.name if site else case.site_id,
            "town": site.town if site and site.town else "",
            "address": site.address if site and site.address else "",
        },
        "landlord": landlord.name if landlord else "",
        "case": {"reference": case.reference, "opened_at": case.opened_at},
    }


def signatory(settings: dict[str, Any] | None, kind: LetterKind) -> dict[str, str]:
    """Who signs, from the organisation's settings: `letters.signatories.<kind>`, else
    `letters.signatories.default`, each `{name, title}`; the kind's service when unset.

        letters:
          signatories:
            default: {name: Olivier Garnier, title: Responsable de la gestion locative sociale}
            hygiene_warning_2: {name: Hélène Dubois, title: Directrice de la GLS}
    """
    chosen = ((settings or {}).get("letters") or {}).get("signatories") or {}
    person = chosen.get(kind.kind) or chosen.get("default") or {}
    return {
        "name": str(person.get("name") or ""),
        "title": str(person.get("title") or kind.signatory),
    }


def _town(address: str | None) -> str:
    """`12 rue des Tests, 13004 Marseille` -> `Marseille`, for « Marseille, le ... »."""
    found = re.search(r"\b\d{5}\s+(.+)$", address or "")
    return found.group(1).strip() if found else ""


# --- Facts, per process, from the case data and its history --------------------------------


def _events(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ))


def _entered(events: list[CaseEvent], state: str) -> datetime | None:
    """When the case last entered `state` (a migration or a stay in place is not an entry)."""
    moments = [
        e.at for e in events
        if e.to_state == state and e.from_state != state and e.trigger != "migrate"
    ]
    return moments[-1] if moments else None


def _clock_due(session: Session, case: Case, name: str) -> datetime | None:
    """The due time of a clock of the current stay in the state, pending or already fired."""
    return session.scalars(
        select(Clock.due_at).where(
            Clock.case_id == case.id, Clock.name == name, Clock.state == case.state,
            Clock.status.in_(("pending", "claimed", "fired")),
            Clock.created_at >= case.state_entered_at,
        ).order_by(Clock.id.desc()).limit(1)
    ).first()


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_moment(str(value)) if value else None


def hygiene_facts(session: Session, case: Case) -> dict[str, Any]:
    data = case.data or {}
    events = _events(session, case)
    opening = events[0].payload if events else {}
    return {
        "observed_at": _moment(data.get("observed_at")),
        "description": opening.get("description", ""),
        "visits": [
            {
                "number": v.get("number"),
                "held_at": _moment(v.get("held_at")),
                "mode": "à domicile" if v.get("mode") == "home" else "au bureau",
                "outcome": OUTCOMES_FR.get(v.get("outcome", ""), v.get("outcome", "")),
                "obstacles": v.get("obstacles"),
                "actions": v.get("actions"),
                "cleaning_kit": bool(v.get("cleaning_kit")),
            }
            for v in data.get("visits", [])
        ],
        "warning_1_at": _entered(events, "warning_1"),
        "warning_2_at": _entered(events, "warning_2"),
        "evaluations": [
            {"held_at": _moment(e.get("held_at")), "warning": e.get("warning"),
             "outcome": OUTCOMES_FR.get(e.get("outcome", ""), e.get("outcome", ""))}
            for e in data.get("evaluations", [])
        ],
        "referrals": data.get("referrals", []),
        "evaluation_due": _clock_due(session, case, "evaluation_due"),
    }


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None
    except InvalidOperation:
        return None


def formal_notice_facts(session: Session, case: Case) -> dict[str, Any]:
    """What arrears and insurance cases share: the steps taken, when the notice ends."""
    events = _events(session, case)
    deadline = session.scalars(
        select(Clock.due_at).where(
            Clock.case_id == case.id, Clock.state == "formal_notice",
            Clock.kind.in_(("deadline", "escalation")),
            Clock.status.in_(("pending", "claimed", "fired")),
            Clock.created_at >= case.state_entered_at,
        ).order_by(Clock.due_at).limit(1)
    ).first()
    return {
        "notice_at": _entered(events, "formal_notice"),
        "deadline": deadline,
        "events": [
            {"at": e.at, "label": RESIDENT_STEPS[e.trigger]}
            for e in events
            if e.trigger in RESIDENT_STEPS
        ],
    }


def arrears_facts(session: Session, case: Case) -> dict[str, Any]:
    facts = formal_notice_facts(session, case)
    data = case.data or {}
    facts.update(
        detected_at=_moment(data.get("detected_at")) or case.opened_at,
        balance=_money(data.get("balance", data.get("debt"))),
        monthly_amount=_money(data.get("monthly_amount", data.get("monthly_fee"))),
        unpaid_months=list(data.get("unpaid_months", [])),
        payments=[
            {"at": _moment(p.get("paid_at", p.get("at"))), "amount": _money(p.get("amount"))}
            for p in data.get("payments", [])
        ],
    )
    return facts


def insurance_facts(session: Session, case: Case) -> dict[str, Any]:
    facts = formal_notice_facts(session, case)
    data = case.data or {}
    facts.update(
        # The last day the certificate covered, as printed on it (not the midnight after).
        valid_until=date.fromisoformat(str(data["valid_until"])[:10])
        if data.get("valid_until") else None,
        insurer=data.get("insurer"),
        policy_number=data.get("policy_number"),
    )
    return facts


FACTS: dict[str, Callable[[Session, Case], dict[str, Any]]] = {
    "hygiene": hygiene_facts,
    "arrears": arrears_facts,
    "insurance": insurance_facts,
}


# --- Rendering ------------------------------------------------------------------------------


def date_fr(value: datetime | date | None) -> str:
    """`28 septembre 2026`, in Paris time: what a French letter says."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS_FR[value.month - 1]} {value.year}"


def datetime_fr(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(PARIS)
    return f"{date_fr(local)} à {local.strftime('%H h %M')}"


def month_fr(value: str) -> str:
    """`2026-08` -> `août 2026` (arrears count unpaid months as AAAA-MM)."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    return f"{MONTHS_FR[int(found.group(2)) - 1]} {found.group(1)}" if found else value


def euros(value: Decimal | None) -> str:
    if value is None:
        return "—"
    whole, _, cents = f"{value:.2f}".partition(".")
    grouped = f"{int(whole):,}".replace(",", "\u202f")
    return f"{grouped},{cents} €"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["j2"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, euros=euros, month_fr=month_fr)
    return env
