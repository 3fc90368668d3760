"""The demo runs to today on any day of a month (issue 17, item 7; PRODUCT.md §6).

Seeded on several moments: the 1st (when New York is still on the last day of the
month before), the 3rd (the month before is still closing: its grace days), the 6th
(it has just closed), the 15th and the last day of a month and of a quarter. On each:
records up to yesterday in each engagement's time zone, every period since the start
scored, final once closed and provisional before, the headline the latest closed
period, no drop alert from a provisional period, the latest closed period signed by one
side and awaiting the other, each engagement its own story, and logins printed with
their organisation's side.
"""

import re
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db.models import Max

from feedback.models import ActionItem, CheckIn, Feedback, Issue, PulseResponse
from relationships.models import (
    ChangeRequest,
    Engagement,
    GoalProgress,
    Measurement,
    MeasurementDispute,
    Membership,
    other_side,
)
from relationships.periods import CLOSED, IN_PROGRESS
from sampledata.demo_content import AGREEMENT, PROFILES
from scorecards.models import Alert, LatestScorecard, Scorecard, ScorecardReview

pytestmark = pytest.mark.django_db

# moment → the month each monthly engagement headlines (its latest closed month).
MOMENTS = {
    # London, Singapore and UTC are on 1 December; New York still on 30 November.
    datetime(2026, 12, 1, 2, tzinfo=UTC): date(2026, 10, 1),
    datetime(2026, 12, 3, 12, tzinfo=UTC): date(2026, 10, 1),  # November is closing
    datetime(2026, 12, 6, 12, tzinfo=UTC): date(2026, 11, 1),  # November has closed
    datetime(2026, 12, 15, 12, tzinfo=UTC): date(2026, 11, 1),
    datetime(2026, 12, 31, 20, tzinfo=UTC): date(2026, 11, 1),  # Singapore: 1 January
}
PROFILE = {profile.name: profile for profile in PROFILES}
DROP_ALERTS = (
    Alert.Kind.BAND_DROP,
    Alert.Kind.SCORE_DROP,
    Alert.Kind.PERCEPTION_GAP,
    Alert.Kind.SIDE_RELIANCE_LOW,
)


@pytest.fixture(scope="module", params=list(MOMENTS), ids=lambda moment: moment.isoformat())
def demo(request, django_db_setup, django_db_blocker):
    """(moment, printed output): the demo seeded on the moment, which stays the time while
    the tests read it; flushed afterwards."""
    moment = request.param
    with django_db_blocker.unblock(), mock.patch("django.utils.timezone.now", return_value=moment):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield moment, out.getvalue()
        call_command("flush", interactive=False, verbosity=0, allow_cascade=True)


def engagements():
    engagements = list(Engagement.objects.filter(status=Engagement.Status.ACTIVE))
    assert {e.name for e in engagements} == set(PROFILE)
    return engagements


def test_monthly_engagements_headline_the_latest_closed_month(demo):
    moment, _ = demo
    for engagement in engagements():
        headline = LatestScorecard.objects.get(
            engagement=engagement, period_kind=engagement.scorecard_period
        )
        assert headline.period_start == engagement.latest_closed_period().start
        if engagement.scorecard_period == "month":
            assert headline.period_start == MOMENTS[moment], engagement.name


def test_every_period_since_the_start_is_scored_final_once_closed(demo):
    for engagement in engagements():
        periods = engagement.periods()
        statuses = dict(engagement.scorecards.values_list("period_start", "status"))
        assert set(statuses) == {period.start for period in periods}, engagement.name
        for period in periods:
            closed = engagement.period_state(period) == CLOSED
            expected = Scorecard.Status.FINAL if closed else Scorecard.Status.PROVISIONAL
            assert statuses[period.start] == expected, (engagement.name, period)
        # The period in progress, and any still closing, are provisional.
        assert engagement.period_state(periods[0]) == IN_PROGRESS
        assert statuses[periods[0].start] == Scorecard.Status.PROVISIONAL


def test_the_latest_closed_period_awaits_one_side_and_earlier_ones_are_reviewed(demo):
    for engagement in engagements():
        profile = PROFILE[engagement.name]
        latest = engagement.latest_closed_period()
        for scorecard in engagement.scorecards.prefetch_related("reviews"):
            live = {
                (review.side, review.decision)
                for review in scorecard.reviews.all()
                if review.stale_at is None
            }
            if scorecard.period_start == latest.start:
                signer = other_side(profile.awaiting_side)
                assert live == {(signer, ScorecardReview.Decision.SIGNED)}, engagement.name
                assert not scorecard.is_frozen
            elif scorecard.period_start < latest.start:
                assert {side for side, _ in live} == {"client", "provider"}
                assert scorecard.is_frozen or ("client", "disputed") in live
            else:  # provisional: its review opens when it closes
                assert live == set()


def test_no_drop_alert_comes_from_a_provisional_period(demo):
    provisional = set(
        Scorecard.objects.filter(status=Scorecard.Status.PROVISIONAL).values_list(
            "engagement_id", "period_kind", "period_start"
        )
    )
    drops = Alert.objects.filter(kind__in=DROP_ALERTS).values_list(
        "engagement_id", "period_kind", "period_start"
    )
    assert drops.exists()  # the demo shows some, on closed periods
    assert provisional.isdisjoint(drops)


def test_the_service_desk_shows_terms_under_discussion_and_a_disputed_value(demo):
    engagement = Engagement.objects.get(name=AGREEMENT.name)
    requests = {
        request.subject: request for request in ChangeRequest.objects.filter(engagement=engagement)
    }
    assert (requests["sla"].status, requests["sla"].requested_side) == ("open", "client")
    assert requests["sla"].comments.get().side == "provider"
    assert requests["scoring_config"].status == "declined"
    dispute = MeasurementDispute.objects.get(sla__engagement=engagement)
    latest = engagement.latest_closed_period()
    assert (dispute.status, dispute.side) == ("open", "provider")
    assert dispute.measurement.period_start == latest.end
    assert dispute.measurement.recorded_by_side == "client"
    scorecard = engagement.scorecards.get(period_start=latest.start)
    assert "1 value disputed by the provider" in str(scorecard.explanation)


def local_dates(engagement, moments) -> set[date]:
    return {engagement.local_date(moment) for moment in moments if moment is not None}


def test_records_run_up_to_yesterday_in_each_time_zone(demo):
    for engagement in engagements():
        today = engagement.today()
        yesterday = today - timedelta(days=1)
        issues = Issue.objects.filter(engagement=engagement)
        happened = (
            set(CheckIn.objects.filter(engagement=engagement).values_list("occurred_on", flat=True))
            | set(
                Feedback.objects.filter(engagement=engagement).values_list("created_on", flat=True)
            )
            | local_dates(engagement, issues.values_list("detected_at", flat=True))
            | local_dates(engagement, issues.values_list("raised_at", flat=True))
            | local_dates(engagement, issues.values_list("resolved_at", flat=True))
            | set(
                ActionItem.objects.filter(engagement=engagement).values_list(
                    "completed_on", flat=True
                )
            )
            | set(
                GoalProgress.objects.filter(goal__engagement=engagement).values_list(
                    "date", flat=True
                )
            )
        ) - {None}
        assert max(happened) < today, engagement.name
        measured = Measurement.objects.filter(sla__engagement=engagement)
        # Daily values up to and including yesterday; nothing for a day not over yet.
        assert measured.aggregate(last=Max("period_end"))["last"] == yesterday, engagement.name


def test_the_period_in_progress_has_partial_data(demo):
    for engagement in engagements():
        today = engagement.today()
        period = engagement.current_period()
        scorecard = engagement.scorecards.get(period_start=period.start)
        assert scorecard.as_of == today
        # A value per day so far for each daily SLA (the first SLA of each engagement is).
        assert PROFILE[engagement.name].slas[0].every == "day"
        first_sla = engagement.slas.order_by("pk").first()
        days_so_far = (today - max(period.start, engagement.start_date)).days
        values = first_sla.measurements.current().filter(period_start__gte=period.start)
        assert values.count() == days_so_far, engagement.name
        # The survey so far: only the managers have answered; not published before it closes.
        answered = PulseResponse.objects.current().filter(
            engagement=engagement, period_start=period.start
        )
        assert answered.count() == (2 if days_so_far else 0)
        assert scorecard.sentiment is None


def test_each_engagement_has_its_own_goals_issues_and_feedback(demo):
    by_engagement = {}
    for engagement in engagements():
        by_engagement[engagement.name] = (
            set(engagement.goals.values_list("title", flat=True)),
            set(engagement.issues.values_list("title", flat=True)),
            set(engagement.feedback.values_list("text", flat=True)),
            set(engagement.slas.values_list("name", flat=True)),
        )
    names = list(by_engagement)
    for index, name in enumerate(names):
        for other in names[index + 1 :]:
            for mine, theirs in zip(by_engagement[name], by_engagement[other], strict=True):
                assert mine and theirs
                assert mine.isdisjoint(theirs), (name, other, mine & theirs)


LOGIN_LINE = re.compile(
    r"^  (?P<login>\S+) +— (?P<organization>.+?) \((?P<sides>.+)\) (?P<role>\w+), "
)


def test_each_login_is_printed_with_its_organisation_and_side(demo):
    _, out = demo
    printed = {}
    for line in out.splitlines():
        match = LOGIN_LINE.match(line)
        if match:
            printed[match["login"]] = match.groupdict()
    members = Membership.objects.select_related("user", "organization")
    assert set(printed) == {m.user.username for m in members}
    for membership in members:
        organization = membership.organization
        line = printed[membership.user.username]
        assert (line["organization"], line["role"]) == (organization.name, membership.role)
        is_client = organization.engagements_as_client.exists()
        is_provider = organization.engagements_as_provider.exists()
        if is_client and is_provider:
            assert line["sides"].startswith("provider to ") and "; client of " in line["sides"]
        else:
            assert line["sides"] == ("client" if is_client else "provider")
    assert re.search(r"^  admin +— superuser", out, flags=re.MULTILINE)
    # Who may sign the latest closed period that awaits them.
    assert "awaiting the client (Lumen Retail): lumen-admin or lumen-manager" in out
