"""What each trigger of the asylum process carries (asylum.md, "Triggers").

Legal dates are days (`Day`): the law counts days, not hours. Interviews and hearings are
instants (`Moment`), because people must be there at a time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from processes.fields import Choices, Code, Day, FreeText, Moment, OptionalText, Payload

PROTECTION_WORDS = {"refugee": "réfugié", "subsidiary": "protection subsidiaire"}
Outcome = Annotated[
    Literal["refugee", "subsidiary", "rejection"], Choices(**PROTECTION_WORDS, rejection="rejet")
]
CndaOutcome = Annotated[
    Literal["refugee", "subsidiary", "rejection", "annulment"],
    Choices(**PROTECTION_WORDS, rejection="rejet", annulment="annulation"),
]
Procedure = Annotated[
    Literal["normal", "accelerated", "dublin"],
    Choices(normal="normale", accelerated="accélérée", dublin="Dublin"),
]
PROTECTIONS = ("refugee", "subsidiary")


class OpenCase(Payload):
    dwelling: Code | None = None
    procedure: Procedure
    registered_at: Day
    """Registration at the prefecture's one-stop desk (GUDA)."""
    attestation_issued_at: Day
    """The day the first attestation was handed over; its expiry follows from the procedure."""


class LodgeOfpra(Payload):
    filed_at: Day


class RequestDocuments(Payload):
    requested_at: Day


class ScheduleInterview(Payload):
    interview_at: Moment


class RecordDecision(Payload):
    notified_at: Day | None = None
    """First consultation in the online space (or notification by post)."""
    posted_at: Day | None = None
    """Put online: counts as notified 15 days later if never opened."""
    outcome: Outcome
    inadmissible: bool = False
    """A rejection as inadmissible: the CNDA then has 5 weeks, not 5 months."""

    @model_validator(mode="after")
    def _one_date(self) -> RecordDecision:
        if self.notified_at is None and self.posted_at is None:
            raise ValueError("notified_at (première consultation) ou posted_at (mise en ligne)")
        return self


class RecordConsultation(Payload):
    consulted_at: Day
    """First opening of a decision recorded as posted: it counts from then if earlier."""


class RequestLegalAid(Payload):
    requested_at: Day


class LegalAidDecided(Payload):
    notified_at: Day
    granted: bool


class LodgeAppeal(Payload):
    lodged_at: Day
    override_reason: OptionalText = None
    """Why a late appeal is recorded anyway (courts sometimes accept it): kept in the audit."""


class ScheduleHearing(Payload):
    hearing_at: Moment
    panel: bool = False
    """A panel hearing (on the court's decision); a single judge by default since 2024."""


class RecordCndaDecision(Payload):
    notified_at: Day
    outcome: CndaOutcome
    read_at: Day | None = None
    """The decision's public reading (*lecture en audience publique*): the right to stay ends
    then, not at its notification (CESEDA L542-1). Left out for an order (*ordonnance*),
    where the notification counts."""


class RenewAttestation(Payload):
    renewed_at: Day
    expires_at: Day | None = None
    """As printed on the new attestation; by default the renewal rule of the procedure."""


class StartDublin(Payload):
    accepted_at: Day
    """The other member state's acceptance (or the final ruling on an appeal)."""
    member_state: Code = Field(min_length=2)
    transfer_decision_notified_at: Day | None = None
    detained: bool = False
    """In administrative detention: 48 hours to appeal the transfer (CESEDA L921-2), not 7 days."""


class UpdateDublin(Payload):
    situation: Annotated[
        Literal["imprisoned", "absconded"], Choices(imprisoned="incarcéré", absconded="en fuite")
    ]
    at: Day


class TransferDone(Payload):
    at: Day


class Requalify(Payload):
    procedure: Annotated[
        Literal["normal", "accelerated"], Choices(normal="normale", accelerated="accélérée")
    ] = "normal"


class ExtendStay(Payload):
    granted_at: Day
    ofii_agreed_at: Day
    """OFII's agreement, without which the stay is not renewed (CESEDA R552-13)."""


class RecordEndOfCare(Payload):
    care_ends_on: Day
    """OFII's end-of-care date (*fin de prise en charge*): the exit stay counts from it."""


class RecordOfpraDelayNotice(Payload):
    informed_at: Day
    """OFPRA's letter saying it cannot decide within 6 months (CESEDA R531-7)."""


class PlanExit(Payload):
    exit_at: Day
    destination: FreeText = Field(min_length=1)
    siao_requested_at: Day | None = None
    social_housing_requested_at: Day | None = None


class RecordExit(Payload):
    exited_at: Day


class RecordClosure(Payload):
    closed_at: Day
    reason: Annotated[
        Literal["late_file", "missed_interview", "other"],
        Choices(
            late_file="dossier hors délai", missed_interview="absence à l'entretien", other="autre"
        ),
    ]


class RequestReopening(Payload):
    requested_at: Day


class Withdraw(Payload):
    reason: FreeText = Field(min_length=1)
