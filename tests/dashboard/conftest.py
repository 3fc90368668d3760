"""Scorecards and alerts for dashboard tests, written directly (the scoring runs elsewhere)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from relationships.models import Engagement
from relationships.periods import period_containing
from scorecards.models import Alert, Scorecard

EXPLANATION = {
    "summary": ["Overall 72.5 (watch), coverage 0.85."],
    "dimensions": {
        "contact": {"score": 80.0, "weight": 15, "text": ["4 day(s) with a check-in."]},
        "reliance": {
            "score": 70.0,
            "weight": 30,
            "text": ["provider SLA 'P1 response' met 3 of 4."],
            "sides": {"client": None, "provider": 70.0},
        },
        "sentiment": {"score": None, "weight": 10, "text": ["No client survey responses."]},
    },
}


def scorecard_values(engagement, period_start: date, overall, band="watch", **extra) -> dict:
    period = period_containing(engagement.scorecard_period, period_start)
    values = {
        "engagement": engagement,
        "period_kind": period.kind,
        "period_start": period.start,
        "period_end": period.end,
        "as_of": period.end,
        "contact": Decimal("80.0"),
        "reliance": Decimal("70.0"),
        "overall": None if overall is None else Decimal(str(overall)),
        "client_score": Decimal("65.0"),
        "provider_score": Decimal("70.0"),
        "band": band,
        "coverage": Decimal("0.85"),
        "trend": Decimal("-3.5"),
        "perception_gap": Decimal("12.0"),
        "explanation": EXPLANATION,
        "computed_at": timezone.now(),
    }
    values.update(extra)
    return values


def make_scorecard(engagement, period_start: date, overall, band="watch", **extra) -> Scorecard:
    return Scorecard.objects.create(
        **scorecard_values(engagement, period_start, overall, band, **extra)
    )


def make_alert(engagement, kind="score_drop", period_start=date(2026, 3, 1), **extra) -> Alert:
    values = {
        "engagement": engagement,
        "period_kind": engagement.scorecard_period,
        "period_start": period_start,
        "kind": kind,
        "message": f"{engagement.name}: overall dropped by 12 points",
        "raised_at": datetime(2026, 3, 31, 3, 0, tzinfo=UTC),
    }
    values.update(extra)
    return Alert.objects.create(**values)


@pytest.fixture
def scored_engagement(engagement):
    """The standing engagement with three monthly scorecards and one open alert."""
    for month, overall, band in ((1, 81, "healthy"), (2, 76, "healthy"), (3, 62.5, "watch")):
        make_scorecard(engagement, date(2026, month, 1), overall, band)
    make_alert(engagement)
    return Engagement.objects.get(pk=engagement.pk)
