"""A period's page recomputes that period (and then the later ones, in order)."""

from datetime import date

import pytest
from django.urls import reverse

from scorecards.models import Scorecard, ScorecardRun
from tests.scorecards.conftest import MARCH, populate

pytestmark = pytest.mark.django_db

MAY_10 = date(2026, 5, 10)  # March and April are closed, May in progress
BUTTON = "Recompute this period"


def page_url(engagement, start=MARCH) -> str:
    return reverse("engagement-period", args=[engagement.pk, start.isoformat()])


def recompute_url(engagement, start=MARCH) -> str:
    return reverse("engagement-period-recompute", args=[engagement.pk, start.isoformat()])


def test_a_writer_recomputes_a_past_period_from_its_page(
    client, provider_manager, engagement, on, django_capture_on_commit_callbacks
):
    populate(engagement)
    client.force_login(provider_manager)
    with on(MAY_10):
        assert BUTTON in client.get(page_url(engagement)).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(recompute_url(engagement))
        run = ScorecardRun.objects.get(engagement=engagement, period_start=MARCH)
        assert response.status_code == 302
        assert response.url == f"{page_url(engagement)}?run={run.pk}#scorecard"
        page = client.get(response.url.split("#")[0]).content.decode()
        status = client.get(reverse("run-status", args=[run.pk])).json()
    # Computed eagerly: the page says so once, with no "queued" beside it, and polls nothing.
    assert "data-run-url" not in page
    assert page.count("Recompute finished: the new scorecard is ready.") == 1
    assert "The later periods follow, oldest first." in page
    assert "queued" not in page.lower()
    assert (status["status"], status["finished"], status["period_start"]) == (
        "succeeded",
        True,
        "2026-03-01",
    )
    assert status["scorecards_written"] == 1
    march = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    assert (march.status, march.as_of) == ("final", date(2026, 3, 31))
    assert ScorecardRun.objects.filter(engagement=engagement).count() == 3  # March, April, May


def test_viewers_get_no_button_and_cannot_recompute(client, client_viewer, engagement, on):
    client.force_login(client_viewer)
    with on(MAY_10):
        assert BUTTON not in client.get(page_url(engagement)).content.decode()
        assert client.post(recompute_url(engagement)).status_code == 403
    assert not ScorecardRun.objects.exists()


def test_a_frozen_period_has_no_button_and_its_recompute_is_refused(
    client, client_manager, engagement, on
):
    Scorecard.objects.create(
        engagement=engagement,
        period_kind="month",
        period_start=MARCH,
        period_end=date(2026, 3, 31),
        as_of=date(2026, 3, 31),
        overall=70,
        band="watch",
        coverage=1,
        computed_at="2026-04-06T00:00Z",
        frozen_at="2026-04-08T00:00Z",
    )
    client.force_login(client_manager)
    with on(MAY_10):
        assert BUTTON not in client.get(page_url(engagement)).content.decode()
        response = client.post(recompute_url(engagement))
        april = client.get(page_url(engagement, date(2026, 4, 1))).content.decode()
    assert response.status_code == 400
    assert "frozen" in response.content.decode()
    assert not ScorecardRun.objects.exists()
    assert BUTTON in april  # the next period is not frozen


def test_a_period_outside_the_engagement_is_404(client, client_manager, engagement, on):
    client.force_login(client_manager)
    with on(MAY_10):
        for start in (date(2025, 12, 1), date(2026, 6, 1)):
            assert client.post(recompute_url(engagement, start)).status_code == 404
        assert (
            client.post(f"/engagements/{engagement.pk}/periods/2026-03-02/recompute/").status_code
            == 404
        )
    assert not ScorecardRun.objects.exists()
