"""A period read through the API by its exact start: its scorecard (with the reviews of its
sign-off), its alerts and its run; the filters of the former names are refused."""

from datetime import date

import pytest

from tests.api.conftest import make_alert, make_scorecard
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


@pytest.fixture
def march(engagement, client_org, client_manager, api):
    """March's scorecard, signed by the client, among February's, April's and another
    engagement's March."""
    scorecard = make_scorecard(engagement, MARCH)
    make_scorecard(engagement, date(2026, 2, 1))
    make_scorecard(engagement, date(2026, 4, 1))
    make_scorecard(EngagementFactory(client=client_org, name="Other"), MARCH)
    signed = api(client_manager).post(
        f"/api/v1/scorecards/{scorecard.pk}/review/", {"decision": "signed"}, format="json"
    )
    assert signed.status_code == 201
    return scorecard


def test_a_period_s_scorecard_is_read_by_its_exact_start(api, engagement, march, client_viewer):
    response = api(client_viewer).get(
        "/api/v1/scorecards/", {"engagement": engagement.pk, "period_start": "2026-03-01"}
    )
    assert response.status_code == 200
    [scorecard] = response.json()["results"]
    assert scorecard["id"] == march.pk and scorecard["period_start"] == "2026-03-01"
    # The period's sign-off is read with it (reviews are not a resource of their own).
    assert [review["side"] for review in scorecard["reviews"]] == ["client"]


def test_a_period_s_alerts_are_read_by_its_exact_start(api, engagement, march, client_viewer):
    in_march = make_alert(engagement, MARCH)
    make_alert(engagement, date(2026, 2, 1), kind="score_drop")
    response = api(client_viewer).get(
        "/api/v1/alerts/", {"engagement": engagement.pk, "period_start": "2026-03-01"}
    )
    assert [alert["id"] for alert in response.json()["results"]] == [in_march.pk]


def test_a_day_that_starts_no_period_finds_nothing(api, engagement, march, client_viewer):
    """Exact, not "the period containing the day"."""
    response = api(client_viewer).get(
        "/api/v1/scorecards/", {"engagement": engagement.pk, "period_start": "2026-03-02"}
    )
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.parametrize(
    ("resource", "former", "now"),
    [
        ("scorecards", "period_after", "period_start_after"),
        ("alerts", "period_before", "period_start_before"),
        ("checkins", "occurred_after", "occurred_on_after"),
        ("feedback", "created_before", "created_on_before"),
        ("issues", "raised_after", "raised_on_after"),
        ("action-items", "due_before", "due_date_before"),
        ("goals", "due_after", "due_date_after"),
        ("engagements", "start_after", "start_date_after"),
    ],
)
def test_a_former_filter_name_is_refused_and_its_successor_named(
    api, client_viewer, resource, former, now
):
    """Until this version these names were the filters; a script still sending them gets
    a 400 that says what to send instead, not a silently unfiltered list."""
    response = api(client_viewer).get(f"/api/v1/{resource}/", {former: "2026-03-01"})
    assert response.status_code == 400
    assert f"Did you mean {now}?" in response.json()["errors"][former][0]
    assert api(client_viewer).get(f"/api/v1/{resource}/", {now: "2026-03-01"}).status_code == 200
