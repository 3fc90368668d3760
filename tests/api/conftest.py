"""Fixtures for the API tests: clients logged in as each persona and one record of each kind."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    ContributionReviewFactory,
    FeedbackFactory,
    IssueFactory,
    KeyContactFactory,
    SharedGoalFactory,
    SLAFactory,
)


@pytest.fixture
def api():
    """api(user) is an APIClient logged in as that user; api(None) is anonymous."""

    def client_for(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def records(engagement):
    """One record of every engagement-scoped kind, by URL prefix."""
    from relationships.models import GoalProgress

    goal = SharedGoalFactory(engagement=engagement)
    issue = IssueFactory(engagement=engagement)
    return {
        "contacts": KeyContactFactory(engagement=engagement),
        "slas": SLAFactory(engagement=engagement),
        "goals": goal,
        "goal-progress": GoalProgress.objects.create(
            goal=goal, date=datetime(2026, 2, 1, tzinfo=UTC).date(), percent=30
        ),
        "checkins": CheckInFactory(engagement=engagement),
        "feedback": FeedbackFactory(engagement=engagement),
        "issues": issue,
        "reviews": ContributionReviewFactory(issue=issue),
        "action-items": ActionItemFactory(engagement=engagement),
    }


def new_record_payloads(engagement, records) -> dict[str, dict]:
    """A valid body to create one more record of each kind in the engagement."""
    fresh_issue = IssueFactory(engagement=engagement)
    return {
        "contacts": {
            "engagement": engagement.pk,
            "side": "provider",
            "role": "delivery_lead",
            "name": "Dana Lee",
            "start_date": "2026-02-01",
        },
        "slas": {
            "engagement": engagement.pk,
            "owner_side": "client",
            "name": "Approvals within 2 days",
            "unit": "%",
            "direction": "higher_is_better",
            "target": "90",
            "weight": "2",
        },
        "goals": {
            "engagement": engagement.pk,
            "title": "Halve P1 incidents",
            "start_date": "2026-01-01",
            "due_date": "2026-12-31",
        },
        "goal-progress": {"goal": records["goals"].pk, "date": "2026-03-01", "percent": 55},
        "checkins": {
            "engagement": engagement.pk,
            "occurred_at": "2026-02-02T10:00:00Z",
            "kind": "review",
            "notes": "Quarterly review",
            "action_items": [
                {"owner_side": "client", "description": "Share roadmap", "due_date": "2026-02-20"}
            ],
        },
        "feedback": {
            "engagement": engagement.pk,
            "kind": "improvement",
            "text": "Release notes arrive late.",
            "suggested_action": "Send them a day before the release.",
        },
        "issues": {
            "engagement": engagement.pk,
            "title": "Backup job failed",
            "severity": "high",
            "responsible_side": "provider",
            "detected_at": "2026-02-01T09:00:00Z",
        },
        "reviews": {"issue": fresh_issue.pk, "summary": "Both sides commit to a fix."},
        "action-items": {
            "engagement": engagement.pk,
            "owner_side": "provider",
            "description": "Add monitoring for backups",
            "due_date": "2026-03-01",
        },
    }


def make_scorecard(engagement, period_start, **values):
    """A stored scorecard (the computation itself is tested in tests/scorecards)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from relationships.periods import period_starting
    from scorecards.models import Scorecard

    period = period_starting(engagement.scorecard_period, period_start)
    fields = {
        "overall": Decimal("80.0"),
        "band": "healthy",
        "coverage": Decimal("0.85"),
        "contact": Decimal("100.0"),
        "reliance": Decimal("70.0"),
        **values,
    }
    return Scorecard.objects.create(
        engagement=engagement,
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        as_of=period.end,
        computed_at=timezone.now() - timedelta(hours=1),
        **fields,
    )


def make_alert(engagement, period_start, kind="contact_gap", **values):
    from django.utils import timezone

    from scorecards.models import Alert

    return Alert.objects.create(
        engagement=engagement,
        period_kind=engagement.scorecard_period,
        period_start=period_start,
        kind=kind,
        message=f"{kind} on {engagement}",
        raised_at=timezone.now(),
        **values,
    )
