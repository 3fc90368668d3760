"""Signed-in browsers, records to act on, and scorecards and alerts written directly (the
scoring runs elsewhere) for the dashboard's pages and forms."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from feedback.models import CheckIn
from relationships.models import Engagement, Organization
from relationships.periods import period_containing
from scorecards import latest
from scorecards.models import Alert, Scorecard
from tests.factories import (
    PASSWORD,
    EngagementFactory,
    KeyContactFactory,
    SharedGoalFactory,
    SLAFactory,
)


def page_text(response) -> str:
    """A page's text as a reader sees it: no tags, runs of white space as one space."""
    return " ".join(strip_tags(response.content.decode()).split())


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_user():
    """A test client signed in as the given user: as_user(client_manager).post(...)."""
    return signed_in


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, name="Availability", owner_side="provider")


@pytest.fixture
def goal(engagement):
    return SharedGoalFactory(engagement=engagement, title="Self-service portal")


@pytest.fixture
def contact(engagement):
    return KeyContactFactory(engagement=engagement, side="client", name="Dana Client")


@pytest.fixture
def foreign_engagement(outsider_org, client_org):
    """Another engagement of the client, so its objects exist but belong elsewhere."""
    return EngagementFactory(client=client_org, provider=outsider_org, name="Elsewhere")


EXPLANATION = {
    "summary": ["Overall 72.5 (watch), coverage 0.85."],
    "dimensions": {
        "contact": {"score": 80.0, "weight": 15, "text": ["4 days with a check-in."]},
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


def add_engagements(client_org, count: int, start: int = 0) -> None:
    """`count` engagements of client_org with 7 monthly scorecards, an alert and a check-in each."""
    providers = Organization.objects.bulk_create(
        Organization(name=f"Provider {start + i}") for i in range(count)
    )
    engagements = Engagement.objects.bulk_create(
        Engagement(
            name=f"Engagement {start + i:04d}",
            client=client_org,
            provider=provider,
            status="active",
            phase="active",
            start_date=date(2025, 1, 1),
        )
        for i, provider in enumerate(providers)
    )
    Scorecard.objects.bulk_create(
        Scorecard(**scorecard_values(e, date(2025, month, 1), 40 + month * 5, "watch"))
        for e in engagements
        for month in range(1, 8)
    )
    # Bulk writes send no signals: as compute_chunk does, refresh the latest rows.
    latest.refresh([e.pk for e in engagements], "month")
    Alert.objects.bulk_create(
        Alert(
            engagement=e,
            period_kind="month",
            period_start=date(2025, 7, 1),
            kind="score_drop",
            message="Overall dropped",
            raised_at=datetime(2025, 7, 31, tzinfo=UTC),
        )
        for e in engagements
    )
    CheckIn.objects.bulk_create(
        CheckIn(
            engagement=e,
            occurred_at=datetime(2025, 7, 10, 9, tzinfo=UTC),
            occurred_on=date(2025, 7, 10),
        )
        for e in engagements
    )


@pytest.fixture
def scored_engagement(engagement):
    """The standing engagement with three monthly scorecards and one open alert."""
    for month, overall, band in ((1, 81, "healthy"), (2, 76, "healthy"), (3, 62.5, "watch")):
        make_scorecard(engagement, date(2026, month, 1), overall, band)
    make_alert(engagement)
    return Engagement.objects.get(pk=engagement.pk)
