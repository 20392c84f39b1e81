"""The deadlines of the French asylum procedure, as named rules in dated rule sets.

The law changes (the 2024 law, the EU pact on migration from 1 July 2026): each change is a
new `RuleSet` with the date it applies from, derived from the previous one by replacing the
rules that changed. A case stores the id of the set in force when it was opened and keeps it,
so a deadline computed in 2027 for a claim of 2025 still follows the 2025 texts.

Counting (asylum.md): a deadline in months runs *de quantième à quantième* from the day of
the triggering event; in days, calendar days; a time limit to act that ends on a Saturday,
Sunday or public holiday moves to the next working day. Dates that are not time limits to act
(an attestation's printed expiry, the end of a stay, the date a decision is expected) do not
move: `next_working_day=False` says so rule by rule.

Every rule names its article (asylum.md, "Notes on the law", checked December 2026).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from processes.calendar import add_months, next_working_day_from

Unit = Literal["hours", "days", "weeks", "months"]
Procedure = Literal["normal", "accelerated", "dublin"]
UNITS_FR = {"hours": "heures", "days": "jours", "weeks": "semaines", "months": "mois"}


@dataclass(frozen=True)
class Rule:
    """One time limit: `amount` units after a starting date."""

    id: str
    label: str
    """What falls due, in French (`Recours devant la CNDA`)."""
    amount: int
    unit: Unit
    source: str
    next_working_day: bool = True
    less_than: bool = False
    """« Dans un délai inférieur à » (L531-40): the last day is the one before the quantième."""
    franc: bool = False
    """A *délai franc* (administrative courts): the act is still in time on the day after the
    last day. Staff are shown and reminded the safe date (`due`); the engine accepts up to
    `franc_due` without an override."""

    def end(self, start: date) -> date:
        """The last day by the calendar alone, before any move to a working day."""
        if self.unit == "months":
            end = add_months(start, self.amount)
        elif self.unit == "hours":
            # Hours run round the clock: 48 hours after a day's notification end two days
            # later at the same hour, weekends and holidays included.
            end = start + timedelta(hours=self.amount)
        else:
            days = self.amount * 7 if self.unit == "weeks" else self.amount
            end = start + timedelta(days=days)
        return end - timedelta(days=1) if self.less_than else end

    def due(self, start: date) -> date:
        end = self.end(start)
        return next_working_day_from(end) if self.next_working_day else end

    def franc_due(self, start: date) -> date:
        """The last day an act is accepted: the franc day after the end, or `due`."""
        if not self.franc:
            return self.due(start)
        return next_working_day_from(self.end(start) + timedelta(days=1))

    def describe(self) -> str:
        """`1 mois (CESEDA L532-1)`."""
        return f"{self.amount} {UNITS_FR[self.unit]} ({self.source})"


@dataclass(frozen=True)
class RuleSet:
    id: str
    valid_from: date
    """In force for cases opened from this day."""
    summary: str
    rules: Mapping[str, Rule]
    registered_from: date = date.min
    """Only for claims registered at the one-stop desk from this day (the EU pact)."""

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise KeyError(f"rule set {self.id}: no rule {rule_id!r}") from None

    def derive(
        self, id: str, valid_from: date, summary: str, *changed: Rule, registered_from: date
    ) -> RuleSet:
        """A later set: the same rules except `changed`, each replacing the rule of its id."""
        unknown = [r.id for r in changed if r.id not in self.rules]
        if unknown:
            raise ValueError(f"rule set {id}: replaces unknown rules {unknown}")
        rules = dict(self.rules) | {r.id: r for r in changed}
        return RuleSet(id, valid_from, summary, rules, registered_from=registered_from)

    def explain(self, rule_id: str, start: date, *, start_label: str) -> str:
        """Why a deadline falls when it does, as stored beside it on the case and its clocks."""
        rule = self.rule(rule_id)
        due = rule.due(start)
        text = (
            f"{rule.label} : {rule.describe()} à compter du {fr(start)} ({start_label}), "
            f"échéance le {fr(due)}"
        )
        if due != rule.end(start):
            text += f" (le {fr(rule.end(start))} n'étant pas un jour ouvré)"
        if rule.less_than:
            text += " (délai inférieur au terme : dernier jour la veille du quantième)"
        if rule.franc:
            text += (
                f" ; délai franc : un acte du {fr(rule.franc_due(start))} est encore dans les "
                "temps, mais la date à retenir reste l'échéance"
            )
        return f"{text} [règles {self.id}, {rule.id}]"


def fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


CESEDA = "CESEDA"
ATTESTATION_TEXT = "arrêté du 9 octobre 2015 modifié le 5 mai 2020"
DUBLIN_III = "règlement (UE) 604/2013, art. 29"
DUBLIN_APPEAL = f"{CESEDA} L572-4 et L921-1 (décisions depuis le 15/07/2024)"
DUBLIN_APPEAL_DETAINED = f"{CESEDA} L572-4 et L921-2 (rétention administrative)"
REOPENING = f"{CESEDA} L531-40"
RIGHT_TO_STAY = f"{CESEDA} L542-1"
"""The right to stay ends with OFPRA's notification or, after an appeal, with the CNDA's public
reading (its notification for an order, *ordonnance*)."""
PACT = "règlement (UE) 2024/1351, art. 46"

ASYLUM_2024 = RuleSet(
    id="asylum-2024-08",
    valid_from=date(2024, 8, 1),
    summary=(
        "CESEDA après la loi du 26 janvier 2024 (recours Dublin de 7 jours pour les décisions "
        "depuis le 15 juillet 2024), art. 9-4 de la loi 91-647 dans sa rédaction du 1er août "
        "2024, règlement Dublin III"
    ),
    rules=_rules(
        Rule("ofpra_filing", "Dossier OFPRA à introduire", 21, "days", f"{CESEDA} R531-2"),
        Rule(
            "ofpra_decision_normal",
            "Décision OFPRA attendue (procédure normale)",
            6,
            "months",
            f"{CESEDA} R531-7",
            next_working_day=False,
        ),
        Rule(
            "ofpra_decision_extended",
            "Décision OFPRA attendue (délai prolongé après avertissement)",
            15,
            "months",
            f"{CESEDA} R531-7 ; directive 2013/32/UE art. 31 § 3 (6 mois + 9 mois au plus)",
            next_working_day=False,
        ),
        Rule(
            "ofpra_decision_accelerated",
            "Décision OFPRA attendue (procédure accélérée)",
            15,
            "days",
            f"{CESEDA} L531-24 (procédure accélérée), délai réglementaire de 15 jours",
            next_working_day=False,
        ),
        Rule("ofpra_documents", "Pièces demandées par l'OFPRA", 8, "days", f"{CESEDA} R531-4"),
        Rule(
            "notified_by_posting",
            "Décision réputée notifiée",
            15,
            "days",
            f"{CESEDA} R531-17",
            next_working_day=False,
        ),
        Rule(
            "legal_aid_request",
            "Demande d'aide juridictionnelle",
            15,
            "days",
            "loi 91-647, art. 9-4",
        ),
        Rule(
            "cnda_appeal",
            "Recours devant la CNDA",
            1,
            "months",
            f"{CESEDA} L532-1",
            franc=True,
        ),
        Rule(
            "cnda_decision_normal",
            "Décision CNDA attendue (formation collégiale ou juge unique)",
            5,
            "months",
            f"{CESEDA} L532-6",
            next_working_day=False,
        ),
        Rule(
            "cnda_decision_accelerated",
            "Décision CNDA attendue (procédure accélérée ou irrecevabilité)",
            5,
            "weeks",
            f"{CESEDA} L532-7",
            next_working_day=False,
        ),
        Rule(
            "cnda_hearing_notice",
            "Convocation à l'audience CNDA (juge unique)",
            15,
            "days",
            f"{CESEDA} R532-32",
            next_working_day=False,
        ),
        Rule(
            "cnda_hearing_notice_panel",
            "Convocation à l'audience CNDA (formation collégiale)",
            30,
            "days",
            f"{CESEDA} R532-32",
            next_working_day=False,
        ),
        Rule(
            "stay_protected",
            "Fin du maintien au CADA (protection accordée)",
            3,
            "months",
            f"{CESEDA} R552-13",
            next_working_day=False,
        ),
        Rule(
            "stay_protected_extension",
            "Fin du maintien prolongé (une seule fois, accord de l'OFII)",
            3,
            "months",
            f"{CESEDA} R552-13",
            next_working_day=False,
        ),
        Rule(
            "stay_rejected",
            "Fin du maintien au CADA (débouté)",
            1,
            "months",
            f"{CESEDA} R552-13",
            next_working_day=False,
        ),
        *(
            Rule(
                f"attestation_{kind}_{procedure}",
                f"Expiration de l'attestation ({label}, procédure {procedure_fr})",
                months,
                "months",
                ATTESTATION_TEXT,
                next_working_day=False,
            )
            for kind, label, table in (
                ("first", "première", {"normal": 10, "accelerated": 6, "dublin": 1}),
                ("renewal", "renouvellement", {"normal": 6, "accelerated": 6, "dublin": 4}),
            )
            for procedure, months in table.items()
            for procedure_fr in [
                {"normal": "normale", "accelerated": "accélérée", "dublin": "Dublin"}[procedure]
            ]
        ),
        Rule(
            "dublin_appeal",
            "Recours contre la décision de transfert",
            7,
            "days",
            DUBLIN_APPEAL,
        ),
        Rule(
            "dublin_appeal_detained",
            "Recours contre la décision de transfert (personne en rétention)",
            48,
            "hours",
            DUBLIN_APPEAL_DETAINED,
            next_working_day=False,
        ),
        Rule(
            "dublin_transfer",
            "Délai de transfert Dublin",
            6,
            "months",
            DUBLIN_III,
            next_working_day=False,
        ),
        Rule(
            "dublin_transfer_imprisoned",
            "Délai de transfert Dublin (emprisonnement)",
            12,
            "months",
            DUBLIN_III,
            next_working_day=False,
        ),
        Rule(
            "dublin_transfer_absconded",
            "Délai de transfert Dublin (fuite)",
            18,
            "months",
            DUBLIN_III,
            next_working_day=False,
        ),
        Rule(
            "ofpra_reopening",
            "Réouverture après clôture OFPRA (une seule fois)",
            9,
            "months",
            REOPENING,
            next_working_day=False,
            less_than=True,
        ),
    ),
)

# Regulation (EU) 2024/1348 (asylum procedure), applicable since 12 June 2026, art. 67 § 7:
# member states set in national law an appeal period of 5 to 10 days against a rejection
# as inadmissible, implicitly withdrawn, or unfounded in an accelerated or border procedure,
# and of 2 weeks to 1 month otherwise. It is not modelled here: the regulation gives a
# range for national law to fix, not a period that applies by itself, and CESEDA L532-1
# still gives one month to appeal to the CNDA in every procedure at our last check (December
# 2026; no French adaptation law in force). A case of ours would therefore show a date the
# law does not give. When France fixes the shorter period, it becomes a new rule set here
# (`cnda_appeal_accelerated`), with the date of the French text. We could read art. 67 § 1
# through the search tool; § 7 as summarised here is our reading of the regulation, to be
# checked against the Official Journal text before relying on it.
#
# The pact keeps 6 months and 1 year but gives 3 years when the person absconds; it applies
# to claims registered from 1 July 2026, whatever the date the Dublin procedure starts.
PACT_2026 = ASYLUM_2024.derive(
    "asylum-2026-07",
    date(2026, 7, 1),
    "Pacte européen sur la migration et l'asile : règlement (UE) 2024/1351 pour les demandes "
    "enregistrées à partir du 1er juillet 2026 (les autres délais sont inchangés)",
    Rule(
        "dublin_transfer", "Délai de transfert (pacte)", 6, "months", PACT, next_working_day=False
    ),
    Rule(
        "dublin_transfer_imprisoned",
        "Délai de transfert (pacte, emprisonnement)",
        12,
        "months",
        PACT,
        next_working_day=False,
    ),
    Rule(
        "dublin_transfer_absconded",
        "Délai de transfert (pacte, fuite)",
        36,
        "months",
        PACT,
        next_working_day=False,
    ),
    registered_from=date(2026, 7, 1),
)

RULE_SETS: tuple[RuleSet, ...] = (ASYLUM_2024, PACT_2026)


def rule_set(rule_set_id: str) -> RuleSet:
    for candidate in RULE_SETS:
        if candidate.id == rule_set_id:
            return candidate
    raise KeyError(f"unknown asylum rule set {rule_set_id!r}")


def rule_set_for(opened_on: date, registered_on: date) -> RuleSet:
    """The newest set in force on the opening day that covers a claim registered then."""
    fitting = [
        s for s in RULE_SETS if s.valid_from <= opened_on and s.registered_from <= registered_on
    ]
    if not fitting:
        raise LookupError(
            f"aucune règle d'asile en vigueur le {fr(opened_on)} (première : "
            f"{fr(RULE_SETS[0].valid_from)})"
        )
    return max(fitting, key=lambda s: s.valid_from)


def deemed_notified(rules: RuleSet, consulted_on: date | None, posted_on: date | None) -> date:
    """First consultation of the online space, or 15 days after posting, whichever is first."""
    dates = [consulted_on] if consulted_on else []
    if posted_on:
        dates.append(rules.rule("notified_by_posting").end(posted_on))
    if not dates:
        raise ValueError("a decision needs its first consultation or its posting date")
    return min(dates)


@dataclass(frozen=True)
class Suspension:
    """The appeal window stopped by a legal-aid request (loi 91-647, art. 9-4)."""

    used: int
    left: int


def suspend(notified_on: date, last_day: date, requested_on: date) -> Suspension:
    """Days of the appeal window used and left when legal aid is asked on `requested_on`.

    `last_day` is the calendar end of the window, before any move to a working day: the days
    left are the law's, and the new end moves again if it falls on a closed day.
    """
    return Suspension(used=(requested_on - notified_on).days, left=(last_day - requested_on).days)


@dataclass(frozen=True)
class Resumed:
    end: date
    due: date
    text: str


def resume(rules: RuleSet, suspension: Suspension, decided_on: date) -> Resumed:
    """The appeal window restarted on the legal-aid decision for the days that were left."""
    end = decided_on + timedelta(days=suspension.left)
    due = next_working_day_from(end)
    text = (
        f"Recours devant la CNDA : délai suspendu par la demande d'aide juridictionnelle "
        f"({suspension.used} jours écoulés), repris le {fr(decided_on)} pour les "
        f"{suspension.left} jours restants (loi 91-647, art. 9-4), échéance le {fr(due)}"
    )
    if due != end:
        text += f" (le {fr(end)} n'étant pas un jour ouvré)"
    return Resumed(end, due, f"{text} [règles {rules.id}, cnda_appeal]")


OFPRA_WARNING_DAYS = 15
"""R531-7: OFPRA tells the applicant at least 15 days before the 6 months end that it cannot
decide in time."""


def ofpra_warning(rules: RuleSet, decision_due: date) -> tuple[date, str]:
    """The last day OFPRA's delay warning may come, and why (normal procedure only)."""
    last = decision_due - timedelta(days=OFPRA_WARNING_DAYS)
    text = (
        f"Avertissement de l'OFPRA s'il ne peut statuer dans les 6 mois : au moins "
        f"{OFPRA_WARNING_DAYS} jours avant le {fr(decision_due)}, soit au plus tard le "
        f"{fr(last)} ({CESEDA} R531-7) [règles {rules.id}, ofpra_decision_normal]"
    )
    return last, text


def end_of_month(day: date) -> date:
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def provisional_end_of_care(right_to_stay_ended: date, how: str) -> tuple[date, str]:
    """OFII's end of care as the texts fix it, until OFII's own date is recorded.

    The care of an asylum seeker ends at the end of the month in which the right to stay in
    France as an asylum seeker ended: CESEDA L551-13 says so of the allowance, and the
    ministry's model house rules say so of accommodation (arrêté du 17 avril 2023, annex,
    art. 13, written for CAES; we found no CADA text that says otherwise). That right ends
    with OFPRA's notification or the CNDA's public reading (L542-1). R552-13 then counts the
    exit stay from OFII's end of care, which OFII may set otherwise: hence provisional, and
    the social worker reminded to record OFII's date.
    """
    ends = end_of_month(right_to_stay_ended)
    text = (
        f"Fin de prise en charge PROVISOIRE le {fr(ends)} : terme du mois au cours duquel le "
        f"droit au maintien a pris fin ({how}, le {fr(right_to_stay_ended)} ; "
        f"{RIGHT_TO_STAY} ; même règle que {CESEDA} L551-13 et l'arrêté du 17 avril 2023), "
        "en attendant la date de l'OFII (record_end_of_care)"
    )
    return ends, text


def attestation_rule(kind: Literal["first", "renewal"], procedure: str) -> str:
    return f"attestation_{kind}_{procedure}"
