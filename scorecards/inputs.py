"""What the scoring model reads: plain values, loaded set-based by scorecards.compute.

The contract between the database side (compute.py) and the pure model
(scoring.py). Everything here is already filtered to current records of the
period, as PRODUCT.md §3 defines each dimension's population.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from relationships.periods import Period


@dataclass(frozen=True)
class SlaInput:
    """One SLA with current measurements whose period start is in P."""

    sla_id: int
    name: str
    owner_side: str  # "client" | "provider"
    direction: str  # "higher_is_better" | "lower_is_better"
    target: Decimal
    weight: Decimal
    unit: str
    measurements: int  # current measurements with period start in P (>= 1)
    met: int  # of those, meeting target


@dataclass(frozen=True)
class GoalInput:
    """A goal in the alignment population (not cancelled, started on or before as_of, ...)."""

    goal_id: int
    title: str
    start_date: date
    due_date: date
    achieved_on: date | None
    latest_percent: int | None  # latest progress reported on or before as_of


@dataclass(frozen=True)
class RatioInput:
    """`hits` of `total`: transparency (raised by self of issues) or dedication (on time of due)."""

    hits: int
    total: int


@dataclass(frozen=True)
class PulseInput:
    """A side's current responses for P: how many people and the sum of all their answers."""

    respondents: int
    answer_total: int  # sum over responses of the six answers


@dataclass(frozen=True)
class EngagementInputs:
    engagement_id: int
    name: str
    period: Period
    as_of: date
    engagement_start: date
    cadence_days: int
    # Distinct engagement-local dates with a check-in, within the contact span.
    checkin_dates: frozenset[date]
    # Latest check-in date on or before as_of, ever (for the contact_gap alert).
    last_checkin_on: date | None
    slas: tuple[SlaInput, ...] = ()
    transparency: dict[str, RatioInput] = field(default_factory=dict)  # by responsible side
    dedication: dict[str, RatioInput] = field(default_factory=dict)  # by owner side
    goals: tuple[GoalInput, ...] = ()
    pulse: dict[str, PulseInput] = field(default_factory=dict)  # by respondent side
