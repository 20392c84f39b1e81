"""The clocks of the asylum process, all anchored on a due date kept in the case data.

Each deadline `<name>` has its date in `data["<name>_due"]` and its rule of law in
`data["<name>_rule"]`; the clocks below are offsets from that date, so moving a deadline
(legal aid, a Dublin extension, a renewed attestation) is re-planning its clocks.

Reminders go to the juriste and the social worker, escalations to the cada_manager; what is
escalated and still unresolved a week later reaches the direction (asylum.md, "Roles").
"""

from __future__ import annotations

from datetime import time

from processes.asylum_case import (
    attestation_running,
    care_end_provisional,
    files_at_ofpra,
    has,
    legal_aid_open,
    ofpra_warning_missing,
)
from processes.definition import ClockDef, ClockKind, DataCondition, Delay

EIGHT = time(8, 0)
MIDNIGHT = time(0, 0)
TEAM = ("juriste", "social_worker")
HEAD = ("cada_manager",)
UNRESOLVED_AFTER_DAYS = 8
"""The head's escalation comes the day after; the direction hears a week after that."""


def _clock(
    deadline: str,
    suffix: str,
    kind: ClockKind,
    label: str,
    days: int,
    recipients: tuple[str, ...],
    when: DataCondition | None,
) -> ClockDef:
    return ClockDef(
        name=f"{deadline}_{suffix}",
        kind=kind,
        label=label,
        anchor=f"data.{deadline}_due",
        delay=Delay(amount=days, unit="days", at=EIGHT),
        template=f"asylum_{deadline}",
        recipients=recipients,
        when=when or has(f"{deadline}_due"),
        explained_by=f"{deadline}_rule",
    )


def reminders(
    deadline: str,
    label: str,
    *days_before: int,
    to: tuple[str, ...] = TEAM,
    when: DataCondition | None = None,
) -> tuple[ClockDef, ...]:
    """`label` reminders `days_before` the deadline (0: on the day), at 08:00 Paris."""
    return tuple(
        _clock(deadline, f"reminder_{d}", "reminder", label, -d, to, when) for d in days_before
    )


def escalations(
    deadline: str, label: str, *, when: DataCondition | None = None, direction: bool = True
) -> tuple[ClockDef, ...]:
    """The head the day after a deadline passed; the direction a week later if still open."""
    clocks = [_clock(deadline, "escalation", "escalation", label, 1, HEAD, when)]
    if direction:
        clocks.append(
            _clock(
                deadline, "unresolved", "escalation", label, UNRESOLVED_AFTER_DAYS, ("dgls",), when
            )
        )
    return tuple(clocks)


def overdue(deadline: str, label: str) -> ClockDef:
    """A decision expected by a date and not recorded: the juriste hears of it the day after."""
    return _clock(deadline, "overdue", "reminder", label, 1, ("juriste",), None)


def passes(deadline: str, label: str, trigger: str, *, last_day: str | None = None) -> ClockDef:
    """Fires `trigger` as soon as the deadline's last day is over (midnight, Paris).

    `last_day` names another data key when the act stays possible after the date staff are
    shown (the CNDA appeal's *délai franc*)."""
    return ClockDef(
        name=f"{deadline}_passed",
        kind="deadline",
        label=label,
        anchor=f"data.{last_day or deadline + '_due'}",
        delay=Delay(amount=1, unit="days", at=MIDNIGHT),
        action="fire",
        trigger=trigger,
        when=has(f"{deadline}_due"),
        explained_by=f"{deadline}_rule",
    )


OFPRA_FILING = (
    *reminders("ofpra", "Dossier OFPRA à introduire", 7, 2, when=files_at_ofpra),
    *escalations("ofpra", "Dossier OFPRA non introduit dans les 21 jours", when=files_at_ofpra),
)

OFPRA_PENDING = (
    overdue("ofpra_decision", "Décision OFPRA attendue et non reçue"),
    # R531-7: no warning from OFPRA by 15 days before the 6 months: the decision is due then.
    _clock(
        "ofpra_warning",
        "missing",
        "reminder",
        "Pas d'avertissement de l'OFPRA : décision attendue dans les 6 mois",
        1,
        ("juriste",),
        ofpra_warning_missing,
    ),
    *reminders("documents", "Pièces à transmettre à l'OFPRA", 2, 0),
    *(
        ClockDef(
            name=f"interview_reminder_{d}",
            kind="reminder",
            label="Entretien OFPRA",
            anchor="data.interview_at",
            delay=Delay(amount=-d, unit="days", at=EIGHT),
            template="asylum_interview",
            recipients=TEAM,
            when=has("interview_at"),
        )
        for d in (7, 1)
    ),
)

OFPRA_CLOSED = (
    *reminders("reopening", "Réouverture possible jusqu'au terme des 9 mois", 30, 7),
    *escalations("reopening", "Délai de réouverture écoulé", direction=False),
)

APPEAL_WINDOW = (
    *reminders("appeal", "Recours CNDA à former", 10, 5, 2),
    _clock("appeal", "escalation", "escalation", "Recours CNDA non formé", -2, HEAD, None),
    passes(
        "appeal",
        "Délai de recours CNDA expiré (délai franc)",
        "appeal_deadline_passed",
        last_day="appeal_franc_due",
    ),
    *reminders("legal_aid", "Aide juridictionnelle à demander", 10, 5, 2, when=legal_aid_open),
)

CNDA_PENDING = (
    overdue("cnda_decision", "Décision CNDA attendue et non reçue"),
    *(
        ClockDef(
            name=f"hearing_reminder_{d}",
            kind="reminder",
            label="Audience CNDA",
            anchor="data.hearing_at",
            delay=Delay(amount=-d, unit="days", at=EIGHT),
            template="asylum_hearing",
            recipients=TEAM,
            when=has("hearing_at"),
        )
        for d in (7, 1)
    ),
)

END_OF_CARE = reminders(
    "care_end",
    "Date de fin de prise en charge de l'OFII à enregistrer (date provisoire)",
    14,
    0,
    to=("social_worker",),
    when=care_end_provisional,
)
"""Until OFII's date is recorded, the stay counts from a provisional end of care."""

PROTECTED = (
    *reminders("stay", "Fin du maintien au CADA (protection)", 30, 7),
    *escalations("stay", "Maintien au CADA dépassé (protection)"),
    *END_OF_CARE,
)

REJECTED_FINAL = (
    *reminders("stay", "Fin du maintien au CADA (débouté)", 14, 3),
    *escalations("stay", "Maintien au CADA dépassé (débouté)"),
    *END_OF_CARE,
)

DUBLIN_TRANSFER = (
    *reminders("transfer", "Fin du délai de transfert Dublin", 30, 7, to=("juriste",)),
    passes("transfer", "Délai de transfert expiré : la France devient responsable", "requalify"),
    *reminders("dublin_appeal", "Recours contre la décision de transfert", 2, to=("juriste",)),
)

EXIT_PREPARATION = (
    *(
        ClockDef(
            name=f"exit_reminder_{d}",
            kind="reminder",
            label="Sortie du CADA prévue",
            anchor="data.exit_at",
            delay=Delay(amount=-d, unit="days", at=EIGHT),
            template="asylum_exit",
            recipients=TEAM,
            when=has("exit_at"),
        )
        for d in (7, 1)
    ),
    ClockDef(
        name="exit_escalation",
        kind="escalation",
        label="Sortie prévue non enregistrée",
        anchor="data.exit_at",
        delay=Delay(amount=1, unit="days", at=EIGHT),
        template="asylum_exit",
        recipients=HEAD,
        when=has("exit_at"),
    ),
)

ATTESTATION = (
    *reminders(
        "attestation",
        "Attestation de demande d'asile à renouveler",
        15,
        3,
        to=("social_worker",),
        when=attestation_running,
    ),
    *escalations(
        "attestation", "Attestation expirée sans renouvellement", when=attestation_running
    ),
)
"""Case-scope clocks: they run beside the states and are replaced by each new attestation."""
