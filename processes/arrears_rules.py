"""The legal rules of unpaid rent in a social residence, as plain functions (no database).

- Termination threshold, CCH L633-2 and R633-3: 3 consecutive monthly payments unpaid, or,
  with part payments, a debt of at least twice the monthly amount (fee plus charges).
- Winter truce, CPCE L412-6: no eviction is carried out from 1 November to 31 March.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from processes.calendar import PARIS, local


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
    unpaid_months: Iterable[str], balance: Decimal, monthly_amount: Decimal
) -> str | None:
    """None when termination may be considered (CCH R633-3), else why not, with the figures."""
    run = longest_consecutive_run(unpaid_months)
    if run >= 3 or balance >= 2 * monthly_amount:
        return None
    return (
        "seuil légal de résiliation non atteint (CCH L633-2, R633-3) : "
        f"{run} mensualité(s) consécutive(s) impayée(s) sur 3 requises, et dette de "
        f"{euros(balance)} inférieure à 2 × {euros(monthly_amount)} = "
        f"{euros(2 * monthly_amount)}"
    )


def threshold_grounds(
    unpaid_months: Iterable[str], balance: Decimal, monthly_amount: Decimal
) -> list[str]:
    """Which branches of the threshold hold, in words (kept on the case for the letter)."""
    grounds = []
    run = longest_consecutive_run(unpaid_months)
    if run >= 3:
        grounds.append(f"{run} mensualités consécutives impayées")
    if balance >= 2 * monthly_amount:
        grounds.append(f"dette de {euros(balance)} ≥ 2 × {euros(monthly_amount)}")
    return grounds


def in_winter_truce(moment: datetime | date) -> bool:
    """1 November to 31 March inclusive, on the Paris calendar (CPCE L412-6)."""
    day = local(moment, PARIS).date() if isinstance(moment, datetime) else moment
    return day.month >= 11 or day.month <= 3


def euros(amount: Decimal) -> str:
    """`1234.5` -> `1 234,50 €`, as French letters and messages write it."""
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    return text.replace(",", " ").replace(".", ",") + " €"
