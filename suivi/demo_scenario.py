"""The demo's storyboard: what the staff of the demo organisation do, day by day.

Each story is one resident's case written as the people involved would tell it ("reported on
the third working day, first visit planned a week late, recorded two days after it was
held..."). `plan` turns the stories into dated steps relative to the first simulated day; the
cases already running when the month starts are stories that begin before it, replayed
first. Everything the sweep does (reminders, escalations, expired certificates, insurance
follow-ups opened 30 days ahead) is left to the sweep: a story never fires a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from models.schemas import DirectoryFile
from processes.calendar import (
    add_working_days,
    at_local_time,
    is_working_day,
    next_working_day_from,
)


@dataclass(frozen=True)
class Step:
    """One thing a member of staff does (or `first_certificate`: a certificate on file)."""

    at: datetime
    process: str
    resident: str
    trigger: str
    actor: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Hygiene:
    resident: str
    reported: int
    """Working days from the first simulated day (negative: before the month)."""
    outcomes: tuple[str, ...]
    """Outcome of each visit held, until good upkeep or the first warning."""
    by_agent: bool = False
    plan_after: int = 1
    """Working days the site manager takes to plan the first visit (5+: reminded)."""
    lead: int = 4
    """Working days between planning a visit and holding it."""
    gap: int = 2
    """Working days between a visit and planning the next one."""
    late_record: int = 0
    """Working days the first visit's report is entered late (3+: reminded)."""
    no_show: bool = False
    """The resident misses the first appointment; it is planned again."""
    referral: str | None = None
    """A partner the resident is referred to after the second visit."""
    evaluations: tuple[tuple[int, str], ...] = ()
    """(calendar days after entering the warning, outcome) for each evaluation."""
    decision: tuple[int, str] | None = None
    """(working days after the termination review opened, `maintain`|`decide_termination`)."""
    withdraw_after: int | None = None
    """Working days after the report when the case is closed without action."""


@dataclass(frozen=True)
class Arrears:
    resident: str
    opened: int
    monthly: str
    unpaid_months: int
    reminder_after: int = 2
    interview_after: int | None = None
    plan_instalments: int = 0
    first_instalment: int = 10
    """Calendar days from the interview to the plan's first instalment."""
    pays_first: bool = False
    """The first instalment is paid on its date (its check, 5 days later, finds it)."""
    paid_after: int | None = None
    """Working days after the reminder when the whole debt is paid."""
    renegotiate_after: int | None = None
    """Working days after the first instalment check when the rgls renegotiates."""


@dataclass(frozen=True)
class Insurance:
    resident: str
    valid_until: int
    """Calendar days from the first simulated day to the certificate's last valid day."""
    renewed_after: int | None = None
    """Calendar days after the follow-up opens when the new certificate is recorded."""
    contact_after: int | None = None
    """Working days after expiry when the site manager reaches the resident."""
    formal_notice_after: int | None = None
    """Working days after that contact when the rgls sends the formal notice."""


@dataclass(frozen=True)
class AsylumStep:
    """One thing the CADA's team records on a household's claim."""

    day: int
    """Working days from the first simulated day (negative: before the month)."""
    hour: int
    trigger: str
    role: str
    dates: dict[str, int] = field(default_factory=dict)
    """Payload dates, each as working days from the first simulated day."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Asylum:
    resident: str
    steps: tuple[AsylumStep, ...]


# --- The storyboard -------------------------------------------------------------------------

HYGIENE = (
    # Running when the month starts.
    # Viala Anjou: three failed visits by October, evaluation overdue, second warning on
    # Thursday 5 November: the direction is alerted.
    Hygiene("r-0702", -39, ("unsatisfactory",) * 3, gap=3, evaluations=((31, "unsatisfactory"),)),
    # Evaluation not done in time: escalated to the direction, then satisfactory.
    Hygiene("r-0301", -37, ("unsatisfactory",) * 3, gap=3, evaluations=((41, "satisfactory"),)),
    # Termination under review since October: the direction gives one more chance.
    Hygiene(
        "r-0902", -60, ("unsatisfactory",) * 3, gap=3,
        evaluations=((14, "unsatisfactory"), (32, "unsatisfactory")), decision=(12, "maintain"),
    ),
    Hygiene("r-1601", -8, ("unsatisfactory", "satisfactory"), lead=5),
    # Third visit fails in the month: first warning, letter for the rgls to sign.
    Hygiene("r-0101", -12, ("unsatisfactory",) * 3, gap=1, referral="ccas"),
    # Reported during the month.
    Hygiene("r-0102", 0, ("unsatisfactory", "satisfactory")),
    # First visit planned late: reminded after 5 working days; r-0603 escalated after 10.
    Hygiene("r-0401", 1, ("satisfactory",), plan_after=7),
    Hygiene("r-0603", 2, ("unsatisfactory", "unsatisfactory"), by_agent=True, plan_after=11),
    Hygiene("r-0801", 3, ("unsatisfactory", "unsatisfactory", "satisfactory"), lead=3),
    # The student leaves the residence: closed without action.
    Hygiene("r-0402", 3, ("unsatisfactory",), by_agent=True, withdraw_after=8),
    # Visit report entered four working days late: reminded after two.
    Hygiene("r-1003", 4, ("unsatisfactory", "satisfactory"), by_agent=True, late_record=4),
    # The family misses the first appointment; it is planned again.
    Hygiene("r-1301", 5, ("unsatisfactory", "unsatisfactory"), no_show=True),
    Hygiene("r-0501", 6, ("unsatisfactory", "unsatisfactory"), by_agent=True,
            referral="seniors_info", lead=3),
    Hygiene("r-0203", 8, ("satisfactory",), by_agent=True),
    Hygiene("r-1102", 10, ("unsatisfactory", "unsatisfactory"), lead=3, gap=1),
    Hygiene("r-0704", 12, ("unsatisfactory",), by_agent=True),
    Hygiene("r-1902", 14, ("satisfactory",), plan_after=2),
    Hygiene("r-0302", 16, ("unsatisfactory",), by_agent=True),
    Hygiene("r-2001", 18, ("unsatisfactory",)),
)

ARREARS = (
    # A plan's first instalment unpaid in October: the rgls renegotiates after the reminder.
    Arrears("r-1001", -30, "389.40", 2, interview_after=5, plan_instalments=3,
            first_instalment=20, renegotiate_after=10),
    Arrears("r-0103", 1, "412.80", 2, interview_after=5, plan_instalments=4, pays_first=True),
    # The friendly reminder is sent only after the sweep's own reminder; then paid in full.
    Arrears("r-0602", 2, "365.00", 1, reminder_after=8, paid_after=5),
)

INSURANCE = (
    # Certificate expired at the end of October: contact, then formal notice.
    Insurance("r-0503", -3, contact_after=6, formal_notice_after=5),
    # The sweep opens these 30 days before expiry; two are renewed in time.
    Insurance("r-0201", 33, renewed_after=7),
    Insurance("r-0901", 38, renewed_after=12),
    Insurance("r-1201", 45),
)

def _a(day: int, hour: int, trigger: str, role: str, extra: dict[str, Any] | None = None,
       **dates: int) -> AsylumStep:
    return AsylumStep(day, hour, trigger, role, dates, extra or {})


ASYLUM = (
    # Registered at the one-stop desk on Tuesday 27 October: the OFPRA file is due on Tuesday
    # 17 November (21 days); reminded on the 10th and 13th, lodged on the last day.
    Asylum("r-0803", (
        _a(-4, 10, "open", "social_worker", {"procedure": "normal"},
           registered_at=-4, attestation_issued_at=-4),
        _a(10, 15, "lodge_ofpra", "juriste", filed_at=10),
    )),
    # Rejected by OFPRA, first opened on Monday 26 October: legal aid asked on Tuesday 10
    # November, its last day; the appeal window waits for the legal-aid office.
    Asylum("r-0802", (
        _a(-6, 10, "open", "social_worker", {"procedure": "normal"},
           registered_at=-130, attestation_issued_at=-130),
        _a(-6, 11, "lodge_ofpra", "juriste", filed_at=-120),
        _a(-5, 17, "record_decision", "social_worker", {"outcome": "rejection"},
           notified_at=-5),
        _a(6, 11, "request_legal_aid", "juriste", requested_at=6),
    )),
    # Refugee status in August; OFII ended the care on 31 August, so the stay ends on
    # 30 November (R552-13); reminded on the 23rd, then extended once with OFII's agreement.
    Asylum("r-0804", (
        _a(-60, 10, "open", "social_worker", {"procedure": "normal"},
           registered_at=-190, attestation_issued_at=-190),
        _a(-60, 11, "lodge_ofpra", "juriste", filed_at=-180),
        _a(-60, 16, "record_decision", "social_worker", {"outcome": "refugee"},
           notified_at=-60),
        _a(-44, 10, "record_end_of_care", "social_worker", care_ends_on=-45),
        _a(16, 11, "extend_stay", "cada_manager", granted_at=16, ofii_agreed_at=15),
    )),
    # Dublin: another member state agreed on 15 October; the one-month attestation is renewed
    # for 4 months on 10 November and the family is transferred on 24 November.
    Asylum("r-0805", (
        _a(-15, 10, "open", "social_worker", {"procedure": "dublin"},
           registered_at=-15, attestation_issued_at=-15),
        _a(-12, 11, "start_dublin", "juriste", {"member_state": "Italie"},
           accepted_at=-12, transfer_decision_notified_at=-12),
        _a(6, 14, "renew_attestation", "social_worker", renewed_at=6),
        _a(15, 9, "transfer_done", "social_worker", at=15),
    )),
)

OBSTACLES = (
    "Isolement, fatigue",
    "Problèmes de santé, mobilité réduite",
    "Accumulation d'objets, difficulté à trier",
    "Méconnaissance des gestes d'entretien",
    "Surpeuplement du logement",
)
DESCRIPTIONS = (
    "Odeurs dans le couloir, déchets accumulés",
    "Nuisibles signalés par le voisinage",
    "Logement encombré, accès difficile",
    "Sanitaires très dégradés",
)
PARTNER_REASONS = {
    "ccas": "Aide ménagère et accompagnement budgétaire",
    "seniors_info": "Évaluation de l'autonomie, aide à domicile",
}
CALM_MORNING = time(9, 15)


# --- Who works where (read from the directory file, never duplicated here) ------------------


@dataclass
class Team:
    site_of: dict[str, str] = field(default_factory=dict)
    by_role: dict[tuple[str, str], str] = field(default_factory=dict)
    direction: str = ""

    @classmethod
    def of(cls, directory: DirectoryFile) -> Team:
        dwelling_site = {d.id: d.site for d in directory.dwellings}
        team = cls(site_of={r.id: dwelling_site[r.dwelling or ""] for r in directory.residents})
        for person in directory.staff:
            if person.role == "dgls" and not team.direction:
                team.direction = person.id
            for site in person.sites if isinstance(person.sites, list) else []:
                team.by_role.setdefault((person.role, site), person.id)
        return team

    def who(self, role: str, resident: str) -> str:
        if role == "dgls":
            return self.direction
        site = self.site_of[resident]
        if role == "agent" and (role, site) not in self.by_role:
            # A site without maintenance staff: its manager notices and reports.
            role = "gs"
        return self.by_role[(role, site)]


# --- From stories to steps ------------------------------------------------------------------


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return at_local_time(day, time(hour, minute))


def working_day(start: date, offset: int) -> date:
    """The working day `offset` working days after (or before) the first working day."""
    day = next_working_day_from(start)
    if offset >= 0:
        return add_working_days(day, offset)
    remaining = -offset
    while remaining:
        day -= timedelta(days=1)
        remaining -= is_working_day(day)
    return day


def hygiene_steps(story: Hygiene, start: date, team: Team, number: int) -> list[Step]:
    gs = team.who("gs", story.resident)
    rgls = team.who("rgls", story.resident)
    steps: list[Step] = []

    def step(moment: datetime, trigger: str, actor: str, **payload: Any) -> None:
        steps.append(Step(moment, "hygiene", story.resident, trigger, actor, payload))

    reported = working_day(start, story.reported)
    reporter = team.who("agent", story.resident) if story.by_agent else gs
    step(
        at(reported, 9, 10 + number % 40), "open", reporter,
        observed_at=at(reported, 8, 30).isoformat(),
        description=DESCRIPTIONS[number % len(DESCRIPTIONS)],
    )
    if story.withdraw_after is not None:
        step(
            at(add_working_days(reported, story.withdraw_after), 15), "withdraw", rgls,
            reason="Le résident a quitté la résidence",
        )
    plan_day = add_working_days(reported, story.plan_after)
    last = at(plan_day, 11)
    for visit, outcome in enumerate(story.outcomes, start=1):
        visit_day = add_working_days(plan_day, story.lead)
        step(at(plan_day, 14), "schedule_visit", gs, visit_at=at(visit_day, 10).isoformat(),
             mode="office" if visit == 1 else "home")
        if visit == 1 and story.no_show:
            # The resident did not come: the site manager plans it again the same afternoon.
            step(at(visit_day, 16), "schedule_visit", gs,
                 visit_at=at(add_working_days(visit_day, 3), 10).isoformat(), mode="home")
            visit_day = add_working_days(visit_day, 3)
        record_day = add_working_days(visit_day, story.late_record if visit == 1 else 0)
        last = at(record_day, 17)
        step(
            last, "record_visit", gs, held_at=at(visit_day, 10).isoformat(), outcome=outcome,
            obstacles=OBSTACLES[(number + visit) % len(OBSTACLES)],
            actions="Conseils d'entretien, calendrier de ménage",
            cleaning_kit=visit == 1,
        )
        if outcome == "satisfactory":
            return steps
        if visit == 2 and story.referral:
            step(at(record_day, 17, 30), "refer_partner", gs, partner=story.referral,
                 reason=PARTNER_REASONS.get(story.referral, "Accompagnement"))
        plan_day = add_working_days(record_day, story.gap)
    warning_day = last.date()
    for days, outcome in story.evaluations:
        day = next_working_day_from(warning_day + timedelta(days=days))
        step(at(day, 11), "record_evaluation", rgls, held_at=at(day, 10).isoformat(),
             outcome=outcome, notes="Évaluation au domicile avec le résident")
        warning_day = day
    if story.decision is not None:
        after, trigger = story.decision
        day = add_working_days(warning_day, after)
        detail = "reason" if trigger == "maintain" else "grounds"
        step(at(day, 16), trigger, team.who("dgls", story.resident),
             decided_at=at(day, 15).isoformat(),
             **{detail: "Nouvelle chance : accompagnement renforcé par le CCAS"})
    return steps


def months_before(day: date, count: int) -> list[str]:
    months = []
    year, month = day.year, day.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year:04d}-{month:02d}")
    return sorted(months)


def arrears_steps(story: Arrears, start: date, team: Team) -> list[Step]:
    gs = team.who("gs", story.resident)
    steps: list[Step] = []

    def step(moment: datetime, trigger: str, actor: str, **payload: Any) -> None:
        steps.append(Step(moment, "arrears", story.resident, trigger, actor, payload))

    opened = working_day(start, story.opened)
    monthly = Decimal(story.monthly)
    step(at(opened, 10), "open", gs, monthly_amount=story.monthly,
         unpaid_months=months_before(opened, story.unpaid_months))
    reminded = add_working_days(opened, story.reminder_after)
    step(at(reminded, 11), "send_reminder", gs, sent_at=at(reminded, 10).isoformat())
    if story.paid_after is not None:
        paid = add_working_days(reminded, story.paid_after)
        step(at(paid, 15), "record_payment", gs, paid_at=at(paid, 14).isoformat(),
             amount=str(monthly * story.unpaid_months))
    if story.interview_after is None:
        return steps
    interview = add_working_days(reminded, story.interview_after)
    step(at(interview, 15), "record_interview", gs, held_at=at(interview, 14).isoformat(),
         housing_benefit_checked=True, fsl_requested=True,
         notes="Dossier FSL monté avec le résident")
    if not story.plan_instalments:
        return steps
    share = (monthly * story.unpaid_months / story.plan_instalments).quantize(Decimal("0.01"))
    first = interview + timedelta(days=story.first_instalment)
    instalments = [
        {"due_on": (first + timedelta(days=30 * n)).isoformat(), "amount": str(share)}
        for n in range(story.plan_instalments)
    ]
    step(at(interview, 16), "agree_plan", gs, instalments=instalments,
         notes="Plan signé en entretien")
    if story.pays_first:
        paid = next_working_day_from(first)
        step(at(paid, 11), "record_payment", gs, paid_at=at(paid, 10).isoformat(),
             amount=str(share))
    if story.renegotiate_after is not None:
        # The first instalment is checked 5 days after its date; it was not paid.
        day = add_working_days(first + timedelta(days=5), story.renegotiate_after)
        later = [
            {"due_on": (day + timedelta(days=30 * (n + 1))).isoformat(), "amount": str(share)}
            for n in range(story.plan_instalments + 1)
        ]
        step(at(day, 11), "renegotiate_plan", team.who("rgls", story.resident),
             instalments=later, notes="Échéancier allongé après impayé de la 1re échéance")
    return steps


def insurance_steps(story: Insurance, start: date, team: Team) -> list[Step]:
    gs = team.who("gs", story.resident)
    valid_until = start + timedelta(days=story.valid_until)
    steps = [
        # The current certificate, entered when the association started using suivi.
        Step(at(working_day(start, -45), 9), "insurance", story.resident, "first_certificate",
             gs, {"insurer": "MAIF", "policy_number": f"HAB-{story.resident[2:]}-24",
                  "valid_until": valid_until.isoformat()})
    ]
    opens = valid_until - timedelta(days=30)
    if story.renewed_after is not None:
        day = next_working_day_from(opens + timedelta(days=story.renewed_after))
        steps.append(Step(at(day, 14), "insurance", story.resident, "record_certificate", gs,
                          {"insurer": "Macif", "policy_number": f"MRH-{story.resident[2:]}-26",
                           "valid_until": (valid_until + timedelta(days=365)).isoformat()}))
    if story.contact_after is not None:
        contact = add_working_days(valid_until + timedelta(days=1), story.contact_after)
        steps.append(Step(at(contact, 11), "insurance", story.resident, "record_contact", gs,
                          {"contacted_at": at(contact, 10).isoformat(), "channel": "visit",
                           "notes": "Attestation promise sous huit jours"}))
        if story.formal_notice_after is not None:
            notice = add_working_days(contact, story.formal_notice_after)
            steps.append(Step(at(notice, 15), "insurance", story.resident, "send_formal_notice",
                              team.who("rgls", story.resident),
                              {"sent_at": at(notice, 14).isoformat()}))
    return steps


def asylum_steps(story: Asylum, start: date, team: Team) -> list[Step]:
    return [
        Step(
            at(working_day(start, step.day), step.hour), "asylum", story.resident,
            step.trigger, team.who(step.role, story.resident),
            {**step.extra,
             **{name: working_day(start, day).isoformat() for name, day in step.dates.items()}},
        )
        for step in story.steps
    ]


def plan(start: date, directory: DirectoryFile) -> list[Step]:
    """Every step of every story, in the order they happen."""
    team = Team.of(directory)
    steps: list[Step] = []
    for number, story in enumerate(HYGIENE):
        steps += hygiene_steps(story, start, team, number)
    for arrears in ARREARS:
        steps += arrears_steps(arrears, start, team)
    for insurance in INSURANCE:
        steps += insurance_steps(insurance, start, team)
    for claim in ASYLUM:
        steps += asylum_steps(claim, start, team)
    return sorted(steps, key=lambda s: s.at)
