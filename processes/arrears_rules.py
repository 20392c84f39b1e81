"""The legal rules of unpaid rent in a social residence, as plain functions (no database).

- Termination threshold, CCH R633-3 II a): 3 consecutive monthly payments wholly unpaid, or,
  only where there are part payments, a debt of at least twice the monthly amount (fee plus
  charges). Two wholly unpaid months without any part payment do not reach it, whatever
  the debt.
- Notice, CCH R633-3 III: one month; nothing moves towards termination before it has run
  out (the same month for a formal notice over missing insurance).
- Winter truce, CPCE L412-6: no eviction is carried out from 1 November to 31 March.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from processes.calendar import PARIS, add_months, local, next_working_day_from

THRESHOLD = "CCH R633-3 II a)"
NOTICE = "CCH R633-3 III"


def month_index(month: str) -> int:
    """`2026-09` -> a number that grows by one each calendar month."""
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def longest_consecutive_run(months: Iterable[str]) -> int:
    """The longest run of consecutive calendar months among `YYYY-MM` strings."""
    best = run = 0
    previous: int | None = None
    for index in sorted({month_index(m) for m in months}):
        run = run + 1 if previous is not None and index == previous + 1 else 1
        best = max(best, run)
        previous = index
    return best


def threshold_refusal(
    unpaid_months: Iterable[str],
    balance: Decimal,
    monthly_amount: Decimal,
    *,
    part_payments: bool,
) -> str | None:
    """None when termination may be considered (CCH R633-3 II a), else why not, with figures."""
    if threshold_grounds(unpaid_months, balance, monthly_amount, part_payments=part_payments):
        return None
    run = longest_consecutive_run(unpaid_months)
    months = f"{run} mensualité(s) consécutive(s) totalement impayée(s) sur 3 requises"
    if not part_payments:
        return (
            f"seuil légal de résiliation non atteint ({THRESHOLD}) : {months} ; sans paiement "
            f"partiel, la dette ({euros(balance)}) ne compte pas, même au double de la "
            f"redevance ({euros(2 * monthly_amount)})"
        )
    return (
        f"seuil légal de résiliation non atteint ({THRESHOLD}) : {months}, et dette de "
        f"{euros(balance)} (avec paiements partiels) inférieure à 2 × {euros(monthly_amount)} = "
        f"{euros(2 * monthly_amount)}"
    )


def threshold_grounds(
    unpaid_months: Iterable[str],
    balance: Decimal,
    monthly_amount: Decimal,
    *,
    part_payments: bool,
) -> list[str]:
    """Which branches of the threshold hold, in words (kept on the case for the letter)."""
    grounds = []
    run = longest_consecutive_run(unpaid_months)
    if run >= 3:
        grounds.append(f"{run} mensualités consécutives impayées")
    if part_payments and balance >= 2 * monthly_amount:
        grounds.append(f"dette de {euros(balance)} ≥ 2 × {euros(monthly_amount)}")
    return grounds


def notice_last_day(sent_on: date) -> date:
    """The last day of a one-month formal notice sent on `sent_on`, de quantième à quantième,
    moved to the next working day when it falls on a closed day."""
    return next_working_day_from(add_months(sent_on, 1))


def notice_refusal(sent_on: date, today: date, source: str) -> str | None:
    """None once the month of the formal notice has run out (from the day after its last)."""
    last = notice_last_day(sent_on)
    if today <= last:
        return (
            f"la mise en demeure du {sent_on.strftime('%d/%m/%Y')} court jusqu'au "
            f"{last.strftime('%d/%m/%Y')} inclus (1 mois, {source}) : la résiliation ne peut "
            "être soumise qu'une fois ce délai écoulé"
        )
    return None


def in_winter_truce(moment: datetime | date) -> bool:
    """1 November to 31 March inclusive, on the Paris calendar (CPCE L412-6)."""
    day = local(moment, PARIS).date() if isinstance(moment, datetime) else moment
    return day.month >= 11 or day.month <= 3


def euros(amount: Decimal) -> str:
    """`1234.5` -> `1 234,50 €`, as French letters and messages write it."""
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return text.replace(",", " ").replace(".", ",") + " €"
