"""Provisional and final scorecards (PRODUCT.md §6): a period in progress or closing is
scored "so far", never as the headline; it raises no drop alerts and cannot be signed."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from scorecards.compute import compute_chunk
from scorecards.models import Alert, OutboxEvent, Scorecard
from tests.scorecards.conftest import APRIL_10, MARCH

pytestmark = pytest.mark.django_db

APRIL = date(2026, 4, 1)


@pytest.fixture
def march_and_april(rich_engagement):
    """March closed (final) and April in progress (provisional), both computed on 10 April."""
    compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    compute_chunk([rich_engagement.pk], "month", APRIL, APRIL_10)
    march = Scorecard.objects.get(period_start=MARCH)
    april = Scorecard.objects.get(period_start=APRIL)
    assert (march.status, april.status) == ("final", "provisional")
    assert march.overall != april.overall
    return rich_engagement, march, april


def api_as(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_latest_is_the_last_closed_period_unless_the_provisional_one_is_asked_for(
    march_and_april, client_viewer
):
    _, march, april = march_and_april
    api = api_as(client_viewer)
    headline = api.get("/api/v1/scorecards/latest/").json()["results"]
    assert [(s["period_start"], s["status"]) for s in headline] == [("2026-03-01", "final")]
    so_far = api.get("/api/v1/scorecards/latest/?provisional=true").json()["results"]
    assert [(s["period_start"], s["status"]) for s in so_far] == [("2026-04-01", "provisional")]
    listed = api.get("/api/v1/scorecards/?status=provisional").json()["results"]
    assert [s["id"] for s in listed] == [april.pk]
    engagement = api.get(f"/api/v1/engagements/{march.engagement_id}/").json()
    assert engagement["latest_period_start"] == "2026-03-01"
    assert Decimal(engagement["latest_overall"]) == march.overall


def test_portfolio_and_engagement_page_headline_the_closed_period_with_so_far_beside(
    march_and_april, client, client_viewer
):
    engagement, march, april = march_and_april
    client.force_login(client_viewer)
    portfolio = client.get(reverse("portfolio"))
    row = portfolio.context["rows"][0]
    assert row["engagement"].latest_overall == march.overall
    assert row["provisional"].overall == april.overall
    assert "as of 10 Apr" in portfolio.content.decode()
    page = client.get(engagement.get_absolute_url())
    html = page.content.decode()
    assert page.context["scorecard"] == march and page.context["provisional"] == april
    assert "Latest closed period: March 2026" in html
    assert "April 2026 so far" in html
    assert f"{april.overall - march.overall:+.1f} so far against March 2026" in html


def test_a_provisional_period_raises_no_drop_alerts_and_contact_gap_stays_live(
    march_and_april,
):
    engagement, _, april = march_and_april
    kinds = set(
        Alert.objects.filter(engagement=engagement, period_start=APRIL).values_list(
            "kind", flat=True
        )
    )
    assert kinds <= {Alert.Kind.CONTACT_GAP}
    # April has fallen far below March: on a closed period that would raise a drop.
    assert april.trend is not None and april.trend <= -10
    assert april.explanation["data"]["final"] is False


def test_only_a_closed_period_can_be_signed(march_and_april, client, client_manager):
    engagement, march, april = march_and_april
    api = api_as(client_manager)
    refused = api.post(
        f"/api/v1/scorecards/{april.pk}/review/", {"decision": "signed"}, format="json"
    )
    assert refused.status_code == 400
    assert "has not closed yet" in refused.json()["errors"]["decision"][0]
    assert not april.reviews.exists()
    signed = api.post(
        f"/api/v1/scorecards/{march.pk}/review/", {"decision": "signed"}, format="json"
    )
    assert signed.status_code == 201
    client.force_login(client_manager)
    html = client.get(engagement.get_absolute_url()).content.decode()
    assert reverse("scorecard-review", args=[engagement.pk, march.pk]) in html
    assert reverse("scorecard-review", args=[engagement.pk, april.pk]) not in html
    posted = client.post(
        reverse("scorecard-review", args=[engagement.pk, april.pk]), {"decision": "signed"}
    )
    assert posted.status_code == 400 and not april.reviews.exists()


def test_the_scorecard_computed_event_announces_closed_periods_only(march_and_april):
    engagement, march, _ = march_and_april
    announced = [
        event.payload["scorecard"]["period_start"]
        for event in OutboxEvent.objects.filter(kind="scorecard.computed")
    ]
    assert announced == ["2026-03-01"]


@pytest.mark.django_db(transaction=True)
def test_migration_0010_makes_recent_scorecards_provisional_and_resolves_their_drop_alerts(
    engagement, on, latest_migrations_after
):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("scorecards", "0009_survey_figures_below_threshold_are_not_kept")]
    after = [("scorecards", "0010_scorecard_status")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Scorecard = apps.get_model("scorecards", "Scorecard")
    LatestScorecard = apps.get_model("scorecards", "LatestScorecard")
    Alert = apps.get_model("scorecards", "Alert")
    common = {"engagement_id": engagement.pk, "period_kind": "month", "coverage": 1}
    for start, end, overall in ((MARCH, date(2026, 3, 31), 80), (APRIL, date(2026, 4, 30), 40)):
        Scorecard.objects.create(
            **common, period_start=start, period_end=end, as_of=end, overall=overall,
            band="healthy", computed_at="2026-05-01T00:00Z",
        )
    LatestScorecard.objects.create(
        engagement_id=engagement.pk, period_kind="month", period_start=APRIL, band="at_risk",
        overall=40,
    )
    Review = apps.get_model("scorecards", "ScorecardReview")
    april = Scorecard.objects.get(period_start=APRIL)
    for side in ("client", "provider"):
        Review.objects.create(scorecard=april, side=side, decision="signed", snapshot={})
    Scorecard.objects.filter(pk=april.pk).update(frozen_at="2026-05-02T00:00Z")
    for kind in ("band_drop", "contact_gap"):
        Alert.objects.create(
            engagement_id=engagement.pk, period_kind="month", period_start=APRIL, kind=kind,
            message=kind, raised_at="2026-05-01T00:00Z",
        )
    with on(date(2026, 5, 3)):  # April ended 2 days ago: it may not have closed
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    statuses = dict(
        apps.get_model("scorecards", "Scorecard").objects.values_list("period_start", "status")
    )
    assert statuses == {MARCH: "final", APRIL: "provisional"}
    latest = apps.get_model("scorecards", "LatestScorecard").objects.get()
    assert (latest.period_start, latest.overall) == (MARCH, 80)
    open_alerts = apps.get_model("scorecards", "Alert").objects.filter(resolved_at__isnull=True)
    assert list(open_alerts.values_list("kind", flat=True)) == ["contact_gap"]
    # Signatures on a now provisional period are withdrawn; it is no longer frozen.
    april = apps.get_model("scorecards", "Scorecard").objects.get(period_start=APRIL)
    assert april.frozen_at is None
    reviews = apps.get_model("scorecards", "ScorecardReview").objects.filter(scorecard=april)
    assert reviews.count() == 2 and not reviews.filter(stale_at__isnull=True).exists()


def test_the_history_chart_marks_provisional_points_and_each_opens_its_period(
    march_and_april, client, client_viewer
):
    engagement, _, _ = march_and_april
    client.force_login(client_viewer)
    page = client.get(engagement.get_absolute_url())
    history = page.context["history"]
    assert history["labels"] == ["2026-03-01", "2026-04-01"]
    assert history["provisional"] == [False, True]
    assert history["urls"] == [
        reverse("engagement-period", args=[engagement.pk, "2026-03-01"]),
        reverse("engagement-period", args=[engagement.pk, "2026-04-01"]),
    ]
    for url in history["urls"]:
        assert client.get(url).status_code == 200
    assert "(provisional, so far)" in page.content.decode()
