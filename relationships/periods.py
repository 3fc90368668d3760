"""Scorecard periods: ISO weeks (Monday to Sunday), calendar months and quarters.

Pure date arithmetic, shared by the pulse survey (which period a response
belongs to) and the scorecards, and the states a period goes through
(PRODUCT.md §6): in progress until its last day has ended, closing for the grace
days while late records still count for it, then closed.
"""

from dataclasses import dataclass
from datetime import date, timedelta

WEEK = "week"
MONTH = "month"
QUARTER = "quarter"
PERIOD_KINDS = (WEEK, MONTH, QUARTER)

IN_PROGRESS = "in_progress"
CLOSING = "closing"
CLOSED = "closed"
PERIOD_STATES = (IN_PROGRESS, CLOSING, CLOSED)


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        return period_containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> "Period":
        return period_containing(self.kind, self.end + timedelta(days=1))

    @property
    def label(self) -> str:
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == MONTH:
            return self.start.strftime("%Y-%m")
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def title(self) -> str:
        """As people say it: "November 2026", "Week 48, 2026", "Q4 2026"."""
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year}"
        if self.kind == MONTH:
            return self.start.strftime("%B %Y")
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"


def period_state(
    period: Period, *, today: date, grace_days: int, last_day: date | None = None
) -> str:
    """The period's state on `today` (a date in the engagement's time zone).

    `last_day`: the engagement's end date; when it falls inside the period, the period
    closes that many grace days after it, like any other.
    """
    if today <= min(period.end, last_day or period.end):
        return IN_PROGRESS
    if today < closed_from(period, grace_days=grace_days, last_day=last_day):
        return CLOSING
    return CLOSED


def closed_from(period: Period, *, grace_days: int, last_day: date | None = None) -> date:
    """The first day on which the period is closed."""
    return min(period.end, last_day or period.end) + timedelta(days=grace_days + 1)


def period_containing(kind: str, day: date) -> Period:
    if kind == WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(WEEK, start, start + timedelta(days=6))
    if kind == MONTH:
        start = day.replace(day=1)
        return Period(MONTH, start, _month_start(start, 1) - timedelta(days=1))
    if kind == QUARTER:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(QUARTER, start, _month_start(start, 3) - timedelta(days=1))
    raise ValueError(f"unknown period kind {kind!r}")


def period_starting(kind: str, start: date) -> Period:
    """The period of this kind that starts on `start`; ValueError if none does."""
    period = period_containing(kind, start)
    if period.start != start:
        raise ValueError(f"{start.isoformat()} is not the first day of a {kind}")
    return period


def recent_periods(kind: str, today: date, count: int) -> list[Period]:
    """The period containing `today` and the `count - 1` before it, newest first."""
    periods = [period_containing(kind, today)]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods


def _month_start(first_of_month: date, months_ahead: int) -> date:
    index = first_of_month.month - 1 + months_ahead
    return date(first_of_month.year + index // 12, index % 12 + 1, 1)
