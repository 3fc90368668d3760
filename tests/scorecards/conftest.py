"""An engagement with data for every dimension on both sides, for March 2026."""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from feedback.models import PulseResponse
from relationships.models import GoalProgress
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    EngagementFactory,
    IssueFactory,
    MeasurementFactory,
    SharedGoalFactory,
    SLAFactory,
)

User = get_user_model()
_respondents = itertools.count()

MARCH = date(2026, 3, 1)
# After March: as_of is the period's last day.
APRIL_10 = date(2026, 4, 10)


def populate(engagement, *, provider_met: bool = True):
    """Data for every dimension on both sides in March 2026; returns the engagement."""
    for side, met in (("client", True), ("provider", provider_met)):
        sla = SLAFactory(engagement=engagement, owner_side=side, target=Decimal("90"))
        lower = SLAFactory(
            engagement=engagement,
            owner_side=side,
            direction="lower_is_better",
            target=Decimal("60"),
            unit="min",
        )
        for day in (1, 8, 15):
            MeasurementFactory(
                sla=sla, period_start=date(2026, 3, day), value=Decimal("95" if met else "80")
            )
            MeasurementFactory(
                sla=lower, period_start=date(2026, 3, day), value=Decimal("45" if met else "75")
            )
        IssueFactory(
            engagement=engagement,
            responsible_side=side,
            raised_by_side=side,
            detected_at=datetime(2026, 3, 3, 9, tzinfo=UTC),
            raised_at=datetime(2026, 3, 3, 10, tzinfo=UTC),
        )
        ActionItemFactory(
            engagement=engagement,
            owner_side=side,
            due_date=date(2026, 3, 20),
            completed_at=datetime(2026, 3, 19, 12, tzinfo=UTC),
        )
        for n in range(3):
            # No password: hashing one per respondent would dominate the test time.
            respondent = User.objects.create(username=f"respondent-{next(_respondents)}")
            PulseResponse.objects.create(
                engagement=engagement,
                respondent=respondent,
                side=side,
                period_kind="month",
                period_start=MARCH,
                **dict.fromkeys(
                    (
                        "hear_often",
                        "deliver_promises",
                        "raise_problems_early",
                        "follow_through",
                        "same_goals",
                        "trust_overall",
                    ),
                    4 if side == "client" else 2 + n % 2,
                ),
            )
    for day in (2, 9, 16, 23, 30):
        CheckInFactory(engagement=engagement, occurred_at=datetime(2026, 3, day, 10, tzinfo=UTC))
    goal = SharedGoalFactory(
        engagement=engagement, start_date=date(2026, 1, 1), due_date=date(2026, 12, 31)
    )
    GoalProgress.objects.create(goal=goal, date=date(2026, 3, 15), percent=30)
    return engagement


@pytest.fixture
def rich_engagement(engagement):
    return populate(engagement)


def make_engagements(count: int) -> list:
    return [populate(EngagementFactory()) for _ in range(count)]
