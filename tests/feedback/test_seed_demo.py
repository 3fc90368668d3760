from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count

from feedback import services
from feedback.models import ActionItem, CheckIn, Feedback, Issue, PulseResponse
from relationships.models import SLA, Engagement, GoalProgress, Measurement, Organization, Side

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module (it takes seconds) and flushed afterwards.

    The tests only read it, apart from the second run, which must change nothing.
    """
    with django_db_blocker.unblock():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        call_command("flush", interactive=False, verbosity=0, allow_cascade=True)


def test_seed_demo_twice_gives_the_same_rows(seeded):
    first = row_counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert row_counts() == first
    assert "already present" in out.getvalue()
    assert "accord-demo-2026" in out.getvalue()


def test_seed_demo_prints_the_logins(seeded):
    for login in ("admin", "lumen-admin", "bluefin-manager", "cobalt-viewer", "arcadia-admin"):
        assert login in seeded


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
    last = engagement.checkins.filter(occurred_on__lte=engagement.today()).latest("occurred_on")
    lapse = (engagement.today() - last.occurred_on).days
    assert lapse > 2 * engagement.checkin_cadence_days


def test_demo_shows_a_perception_gap(seeded):
    engagement = Engagement.objects.get(name="Lumen · Cobalt data platform")
    views = services.pulse_aggregates(
        engagement=engagement, period_start=engagement.current_period().start, threshold=3
    )
    assert views["client"]["respondents"] >= 3 and views["provider"]["respondents"] >= 3
    # 1.5 points on the 1–5 scale is 37.5 on the scorecard's 0–100 scale.
    assert views["provider"]["overall"] - views["client"]["overall"] >= 1.5
