"""List endpoints answer in a constant number of queries: 3 rows cost as much as 30."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import PULSE_FIELDS, PulseResponse
from relationships.models import ApiToken, GoalProgress, Invitation
from scorecards.models import ScorecardReview, ScorecardRun
from tests.api.conftest import make_alert, make_scorecard
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    ContributionReviewFactory,
    EngagementFactory,
    FeedbackFactory,
    IssueFactory,
    KeyContactFactory,
    MembershipFactory,
    OrganizationFactory,
    SharedGoalFactory,
    SLAFactory,
)

pytestmark = pytest.mark.django_db


def _engagement_with_scorecard(ctx, i):
    engagement = EngagementFactory(client=ctx["org"], provider=OrganizationFactory())
    make_scorecard(engagement, date(2026, 1, 1))


def _checkin(ctx, i):
    checkin = CheckInFactory(engagement=ctx["engagement"])
    checkin.attendee_users.add(ctx["user"])
    checkin.attendee_contacts.add(KeyContactFactory(engagement=ctx["engagement"]))
    ActionItemFactory(engagement=ctx["engagement"], checkin=checkin)


def _review(ctx, i):
    review = ContributionReviewFactory(issue=IssueFactory(engagement=ctx["engagement"]))
    ActionItemFactory(engagement=ctx["engagement"], review=review)


def _goal(ctx, i):
    goal = SharedGoalFactory(engagement=ctx["engagement"])
    GoalProgress.objects.create(goal=goal, date=date(2026, 2, 1), percent=10)


def _progress(ctx, i):
    GoalProgress.objects.create(goal=ctx["goal"], date=date(2026, 2, 1), percent=i % 100)


def _pulse(ctx, i):
    engagement = EngagementFactory(client=ctx["org"], provider=OrganizationFactory())
    PulseResponse.objects.create(
        engagement=engagement,
        respondent=ctx["user"],
        side="client",
        period_kind="month",
        period_start=date(2026, 1, 1),
        **dict.fromkeys(PULSE_FIELDS, 3),
    )


def _scorecard(ctx, i):
    scorecard = make_scorecard(ctx["engagement"], _month(i))
    ScorecardReview.objects.create(
        scorecard=scorecard, side="client", user=ctx["user"], decision="signed"
    )


def _month(i) -> date:
    return date(2020 + i // 12, i % 12 + 1, 1)


def _run(ctx, i):
    ScorecardRun.objects.create(trigger="on_demand", engagement=ctx["engagement"])


def _invitation(ctx, i):
    Invitation.objects.create(
        organization=ctx["org"],
        email=f"person{i}@example.com",
        token_hash=f"{i:064d}",
        invited_by=ctx["user"],
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


BUILDERS = {
    "engagements": _engagement_with_scorecard,
    "organizations": _engagement_with_scorecard,
    "memberships": lambda ctx, i: MembershipFactory(organization=ctx["org"]),
    "invitations": _invitation,
    "contacts": lambda ctx, i: KeyContactFactory(engagement=ctx["engagement"]),
    "slas": lambda ctx, i: SLAFactory(engagement=ctx["engagement"]),
    "goals": _goal,
    "goal-progress": _progress,
    "checkins": _checkin,
    "feedback": lambda ctx, i: FeedbackFactory(engagement=ctx["engagement"]),
    "issues": lambda ctx, i: IssueFactory(engagement=ctx["engagement"]),
    "reviews": _review,
    "action-items": lambda ctx, i: ActionItemFactory(engagement=ctx["engagement"]),
    "pulse-responses": _pulse,
    "scorecards": _scorecard,
    "scorecards/latest": _engagement_with_scorecard,
    "alerts": lambda ctx, i: make_alert(ctx["engagement"], _month(i)),
    "runs": _run,
    "tokens": lambda ctx, i: ApiToken.objects.create(user=ctx["user"], expiry=None, name=f"t{i}"),
}


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(queries), response.json()["count"]


@pytest.mark.parametrize("prefix", sorted(BUILDERS))
def test_list_queries_do_not_grow_with_rows(api, engagement, client_admin, client_org, prefix):
    ctx = {
        "engagement": engagement,
        "org": client_org,
        "user": client_admin,
        "goal": SharedGoalFactory(engagement=engagement),
    }
    client = api(client_admin)
    url = f"/api/v1/{prefix}/?page_size=100"
    for i in range(3):
        BUILDERS[prefix](ctx, i)
    few, few_count = _count_queries(client, url)
    for i in range(3, 30):
        BUILDERS[prefix](ctx, i)
    many, many_count = _count_queries(client, url)
    assert many_count >= few_count + 27
    assert many == few, f"{prefix}: {few} queries for {few_count} rows, {many} for {many_count}"


def test_engagement_history_queries_are_constant(api, engagement, client_admin):
    url = f"/api/v1/engagements/{engagement.pk}/scorecards/?page_size=100"
    ctx = {"engagement": engagement, "user": client_admin}
    for i in range(3):
        _scorecard(ctx, i)
    few, _ = _count_queries(api(client_admin), url)
    for i in range(3, 30):
        _scorecard(ctx, i)
    many, _ = _count_queries(api(client_admin), url)
    assert many == few
