"""Reading an asylum case: its dates, its rule set, and the conditions that branch on them.

Every deadline is stored as three keys of the case data: `<name>_due` (ISO date, the anchor
of its clocks), `<name>_rule` (why, in words, copied onto the clocks) and, for the appeal,
`<name>_end` (the calendar end before any move to a working day, which the legal-aid pause
counts from). A case's rule set is `data["rule_set"]`, chosen once at opening.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, cast

from processes import asylum_rules as law
from processes.asylum_payloads import LodgeAppeal
from processes.calendar import local
from processes.context import FireContext


def today(ctx: FireContext) -> date:
    return local(ctx.now).date()


def day_of(data: Mapping[str, Any], key: str) -> date | None:
    value = data.get(key)
    return date.fromisoformat(str(value)[:10]) if value else None


def rules_of(data: Mapping[str, Any]) -> law.RuleSet:
    return law.rule_set(str(data["rule_set"]))


def set_deadline(ctx: FireContext, name: str, rule_id: str, start: date, start_label: str) -> date:
    rules = rules_of(ctx.data)
    due = rules.rule(rule_id).due(start)
    ctx.data[f"{name}_due"] = due.isoformat()
    ctx.data[f"{name}_rule"] = rules.explain(rule_id, start, start_label=start_label)
    return due


def log(ctx: FireContext, **extra: Any) -> None:
    entry = ctx.payload.model_dump(mode="json", exclude_none=True)
    entry.update(trigger=ctx.trigger, at=ctx.now.isoformat(), by=ctx.actor_id, **extra)
    ctx.data.setdefault("steps", []).append(entry)


# --- Conditions -----------------------------------------------------------------------------


def is_late(ctx: FireContext) -> bool:
    """Lodged after the appeal's last day, the *délai franc* included (the day after the
    quantième, CESEDA L532-1); never while legal aid suspends the window."""
    if ctx.state == "appeal_suspended":
        return False
    last = day_of(ctx.data, "appeal_franc_due") or day_of(ctx.data, "appeal_due")
    return last is not None and cast(LodgeAppeal, ctx.payload).lodged_at > last


def legal_aid_in_time(ctx: FireContext) -> bool:
    asked = day_of(ctx.data, "legal_aid_requested_on")
    due = day_of(ctx.data, "legal_aid_due")
    return asked is not None and due is not None and asked <= due


def legal_aid_late(ctx: FireContext) -> bool:
    return not legal_aid_in_time(ctx)


def outcome_is(*outcomes: str) -> Callable[[FireContext], bool]:
    def condition(ctx: FireContext) -> bool:
        return ctx.payload.outcome in outcomes  # type: ignore[attr-defined]

    return condition


def attestation_running(data: Mapping[str, Any]) -> bool:
    """The attestation matters while the claim is examined, not after protection or rejection."""
    return bool(data.get("attestation_due")) and not data.get("claim_over")


def files_at_ofpra(data: Mapping[str, Any]) -> bool:
    return data.get("procedure") != "dublin"


def has(key: str) -> Callable[[Mapping[str, Any]], bool]:
    def condition(data: Mapping[str, Any]) -> bool:
        return bool(data.get(key))

    return condition


def legal_aid_open(data: Mapping[str, Any]) -> bool:
    return bool(data.get("legal_aid_due")) and not data.get("legal_aid_requested_on")


def care_end_provisional(data: Mapping[str, Any]) -> bool:
    """OFII's end-of-care date not recorded yet: the social worker is reminded to."""
    return bool(data.get("care_end_due"))


def ofpra_warning_missing(data: Mapping[str, Any]) -> bool:
    return bool(data.get("ofpra_warning_due")) and not data.get("ofpra_delay_notice_on")
