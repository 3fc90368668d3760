"""The demo's content, seeded once on a fixed moment: parties, history, variety; the same
moment gives the same demo, and a second run changes nothing. What holds on any day of a
month is in test_seed_demo_days.py."""

from datetime import UTC, datetime
from io import StringIO
from unittest import mock

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count

from feedback.models import ActionItem, CheckIn, Feedback, Issue, PulseResponse
from relationships.models import SLA, Engagement, GoalProgress, Measurement, Organization, Side
from scorecards.models import Alert, Scorecard, ScorecardRefresh

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 15, 12, tzinfo=UTC)


def row_counts() -> dict[str, int]:
    # Not the refresh bookkeeping: its rows appear when the seed's writes commit, which a
    # seed inside a test's transaction never does (scorecards/refresh.py).
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model is not ScorecardRefresh
    }


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def flush() -> None:
    call_command("flush", interactive=False, verbosity=0, allow_cascade=True)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module (it takes seconds) on MOMENT, which stays the
    time while the tests read it; flushed afterwards.

    The tests only read it, apart from the second run, which must change nothing, and the
    reseeding, which must give the same demo.
    """
    with django_db_blocker.unblock(), mock.patch("django.utils.timezone.now", return_value=MOMENT):
        # From a flushed database, as the reseeding below: on PostgreSQL the ids (which the
        # scorecards' inputs name) continue from whatever earlier tests used, even rolled back.
        flush()
        yield seed()
        flush()


def test_seed_demo_twice_gives_the_same_rows(seeded):
    first = row_counts()
    out = seed()
    assert row_counts() == first
    assert "already present" in out
    assert "accord-demo-2026" in out


def the_demo() -> dict:
    """What the demo is made of: row counts, and every scorecard with the digest of the
    inputs it was computed from."""
    return {
        "rows": row_counts(),
        "scorecards": sorted(
            Scorecard.objects.values_list(
                "engagement__name", "period_start", "status", "overall", "band", "inputs_digest"
            )
        ),
        "reviews": sorted(
            Scorecard.objects.filter(reviews__isnull=False).values_list(
                "engagement__name", "period_start", "reviews__side", "reviews__decision"
            )
        ),
    }


def test_the_same_moment_gives_the_same_demo(seeded):
    first = the_demo()
    flush()
    assert seed() == seeded
    assert the_demo() == first


def test_demo_parties_and_engagements(seeded):
    assert Organization.objects.count() >= 3
    cobalt = Organization.objects.get(name="Cobalt Data Works")
    # Cobalt is a provider in one engagement and the client in another.
    assert cobalt.engagements_as_client.exists() and cobalt.engagements_as_provider.exists()
    active = Engagement.objects.filter(status="active")
    assert active.count() >= 4
    assert len(set(active.values_list("phase", flat=True))) >= 4
    assert active.filter(scorecard_period="week").exists()
    for engagement in active:
        assert set(engagement.slas.values_list("owner_side", flat=True)) == set(Side.values)
        assert set(engagement.contacts.values_list("side", flat=True)) == set(Side.values)


def test_demo_records_have_history_and_variety(seeded):
    assert Measurement.objects.filter(superseded_at__isnull=False).exists()
    met = SLA.objects.aggregate(met=Count("measurements", filter=SLA.meets_target_q()))["met"]
    assert met < Measurement.objects.count()
    assert {kind for (kind,) in Feedback.objects.values_list("kind")} == {
        "appreciation",
        "improvement",
    }
    assert {side for (side,) in Feedback.objects.values_list("from_side")} == set(Side.values)
    issues = list(Issue.objects.all())
    assert any(issue.raised_by_responsible_side for issue in issues)
    assert any(not issue.raised_by_responsible_side for issue in issues)
    items = list(ActionItem.objects.filter(review__isnull=False))
    assert any(item.completed_on_time for item in items)
    assert any(item.completed_on and not item.completed_on_time for item in items)
    assert any(item.is_open for item in items)
    assert PulseResponse.objects.filter(superseded_at__isnull=False).exists()
    assert GoalProgress.objects.exists()
    assert CheckIn.objects.filter(kind="informal").exists()


def test_demo_shows_a_contact_lapse(seeded):
    engagement = Engagement.objects.get(name="Cobalt · Arcadia hosting")
    last = engagement.checkins.latest("occurred_on")
    lapse = (engagement.today() - last.occurred_on).days
    assert lapse > 2 * engagement.checkin_cadence_days
    assert engagement.alerts.filter(kind=Alert.Kind.CONTACT_GAP, resolved_at=None).exists()


def test_demo_shows_a_perception_gap_in_its_latest_closed_period(seeded):
    engagement = Engagement.objects.get(name="Lumen · Cobalt data platform")
    period = engagement.latest_closed_period()
    scorecard = engagement.scorecards.get(period_start=period.start)
    views = scorecard.explanation["dimensions"]["sentiment"]["views"]
    # The client is far less happy than the provider thinks.
    assert views["provider"] - views["client"] >= 25
    assert scorecard.perception_gap >= 25
    assert engagement.alerts.filter(
        kind=Alert.Kind.PERCEPTION_GAP, period_start=period.start, acknowledged_at=None
    ).exists()


def test_earlier_alerts_are_acknowledged_and_the_latest_closed_periods_are_not(seeded):
    for engagement in Engagement.objects.filter(status="active"):
        latest = engagement.latest_closed_period().start
        alerts = engagement.alerts.all()
        assert not alerts.filter(period_start__lt=latest, acknowledged_at=None).exists()
        assert not alerts.filter(period_start__gte=latest, acknowledged_at__isnull=False).exists()


def test_on_a_later_day_the_guide_says_what_the_next_run_brings(seeded):
    """Served on a later day without the nightly run (make run has no beat), the demo's
    December closes without a final scorecard; the guide says so instead of offering a
    signature that would be refused."""
    later = datetime(2027, 1, 8, 12, tzinfo=UTC)  # December closed on 6 January
    with mock.patch("django.utils.timezone.now", return_value=later):
        out = seed()
    assert "already present" in out
    assert out.count("December 2026 has closed; its final scorecard comes with the next run") == 2


def test_demo_survey_shows_a_blind_spot_on_each_side(seeded):
    from feedback.selectors import survey_report

    engagement = Engagement.objects.get(name="Cobalt · Arcadia hosting")
    report = survey_report(engagement, engagement.latest_closed_period())
    assert {side.side for side, _line in report.blind_spots()} == {"client", "provider"}
    for side in report.sides.values():
        assert side.rnps is not None
        assert any(side.texts.values())
    # The perception gap's engagement: the provider overrates how the client sees it.
    platform = Engagement.objects.get(name="Lumen · Cobalt data platform")
    spots = survey_report(platform, platform.latest_closed_period()).blind_spots()
    assert {side.side for side, _line in spots} == {"provider"}


def test_demo_inboxes_hold_a_few_notices_and_no_email_is_sent(seeded):
    from notices.models import Notice

    by_kind = dict(Notice.objects.values_list("kind").annotate(n=Count("id")))
    assert {"alert", "review", "survey"} <= set(by_kind)
    assert 0 < sum(by_kind.values()) < 500
    assert not Notice.objects.filter(email_skipped="", emailed_at__isnull=True).exists()
    assert not Notice.objects.filter(emailed_at__isnull=False).exists()
