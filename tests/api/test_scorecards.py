"""Scorecards, reviews, alerts and runs: read-only resources with a few explicit actions."""

from datetime import date

import pytest

from tests.api.conftest import make_alert, make_scorecard
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scorecards(engagement):
    return [
        make_scorecard(engagement, date(2026, 1, 1), overall="45.0", band="at_risk"),
        make_scorecard(engagement, date(2026, 2, 1), overall="70.0", band="watch"),
        make_scorecard(engagement, date(2026, 3, 1), overall="85.0", band="healthy"),
    ]


@pytest.fixture
def alert(engagement):
    return make_alert(engagement, date(2026, 3, 1))


READ_URLS = [
    "/api/v1/scorecards/",
    "/api/v1/scorecards/{scorecard}/",
    "/api/v1/scorecards/latest/",
    "/api/v1/alerts/",
    "/api/v1/alerts/{alert}/",
    "/api/v1/runs/",
    "/api/v1/engagements/{engagement}/scorecards/",
    "/api/v1/engagements/{engagement}/scoring-config/",
    "/api/v1/engagements/{engagement}/pulse-aggregates/",
]


def _urls(scorecards, alert, engagement):
    ids = {"scorecard": scorecards[0].pk, "alert": alert.pk, "engagement": engagement.pk}
    return [url.format(**ids) for url in READ_URLS]


@pytest.mark.parametrize("persona", ["client_viewer", "provider_viewer", "provider_admin"])
def test_members_read_every_scorecard_resource(
    api, scorecards, alert, engagement, persona, request
):
    client = api(request.getfixturevalue(persona))
    for url in _urls(scorecards, alert, engagement):
        assert client.get(url).status_code == 200, url


def test_anonymous_gets_401_and_outsider_404_or_nothing(
    api, scorecards, alert, engagement, outsider
):
    for url in _urls(scorecards, alert, engagement):
        assert api(None).get(url).status_code == 401, url
        response = api(outsider).get(url)
        if any(char.isdigit() for char in url.removeprefix("/api/v1/")):
            assert response.status_code == 404, url
            assert response.json()["code"] == "not_found"
        else:
            assert response.status_code == 200 and response.json()["count"] == 0, url


def test_scorecard_filters(api, scorecards, client_viewer, client_org):
    other = EngagementFactory(client=client_org, name="Other")
    make_scorecard(other, date(2026, 3, 1), overall="30.0", band="at_risk")
    client = api(client_viewer)
    assert client.get("/api/v1/scorecards/?band=at_risk").json()["count"] == 2
    engagement_id = scorecards[0].engagement_id
    by_engagement = client.get(f"/api/v1/scorecards/?engagement={engagement_id}").json()
    assert by_engagement["count"] == 3
    ranged = client.get(
        "/api/v1/scorecards/?period_start_after=2026-02-01&period_start_before=2026-02-28"
    )
    assert [row["period_start"] for row in ranged.json()["results"]] == ["2026-02-01"]
    ordered = client.get("/api/v1/scorecards/?ordering=overall").json()["results"]
    assert [row["overall"] for row in ordered] == ["30.0", "45.0", "70.0", "85.0"]
    assert client.get("/api/v1/scorecards/?band=splendid").status_code == 400
    assert client.get("/api/v1/scorecards/?period_start_after=yesterday").status_code == 400


def test_latest_is_one_scorecard_per_engagement(api, scorecards, client_viewer, client_org):
    other = EngagementFactory(client=client_org, name="Other")
    make_scorecard(other, date(2026, 1, 1), overall="30.0", band="at_risk")
    latest = api(client_viewer).get("/api/v1/scorecards/latest/").json()["results"]
    assert sorted((row["engagement"], row["period_start"]) for row in latest) == sorted(
        [(scorecards[0].engagement_id, "2026-03-01"), (other.pk, "2026-01-01")]
    )


def test_detail_has_the_explanation(api, scorecards, client_viewer):
    body = api(client_viewer).get(f"/api/v1/scorecards/{scorecards[0].pk}/").json()
    assert "explanation" in body and "config" in body


def test_both_sides_sign_and_the_period_freezes(
    api, scorecards, client_manager, provider_admin, client_viewer
):
    url = f"/api/v1/scorecards/{scorecards[2].pk}/review/"
    assert api(client_viewer).post(url, {"decision": "signed"}, format="json").status_code == 403
    disputed = api(client_manager).post(url, {"decision": "disputed"}, format="json")
    assert disputed.status_code == 400 and "comment" in disputed.json()["errors"]
    signed = api(client_manager).post(url, {"decision": "signed", "comment": "Fair"}, format="json")
    assert signed.status_code == 201 and signed.json()["side"] == "client"
    assert api(provider_admin).post(url, {"decision": "signed"}, format="json").status_code == 201
    detail = api(client_viewer).get(f"/api/v1/scorecards/{scorecards[2].pk}/").json()
    assert detail["frozen_at"] is not None
    assert {review["side"] for review in detail["reviews"]} == {"client", "provider"}


def test_review_side_cannot_be_chosen(api, scorecards, client_manager):
    url = f"/api/v1/scorecards/{scorecards[2].pk}/review/"
    body = {"decision": "signed", "side": "provider"}
    response = api(client_manager).post(url, body, format="json")
    assert response.status_code == 400 and "side" in response.json()["errors"]


def test_alerts_filter_and_acknowledge(api, engagement, alert, provider_manager, client_viewer):
    make_alert(engagement, date(2026, 2, 1), kind="score_drop", resolved_at=alert.raised_at)
    client = api(client_viewer)
    assert client.get("/api/v1/alerts/?open=true").json()["count"] == 1
    assert client.get("/api/v1/alerts/?open=false").json()["count"] == 1
    assert client.get("/api/v1/alerts/?kind=score_drop").json()["count"] == 1
    url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    assert client.post(url).status_code == 403
    response = api(provider_manager).post(url)
    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == provider_manager.pk
    assert client.get("/api/v1/alerts/?acknowledged=true").json()["count"] == 1


def test_scorecards_are_read_only(api, scorecards, client_admin):
    url = f"/api/v1/scorecards/{scorecards[0].pk}/"
    assert api(client_admin).patch(url, {"overall": "99"}, format="json").status_code == 405
    assert api(client_admin).delete(url).status_code == 405


def test_outsider_gets_404_on_every_scorecard_action(api, scorecards, alert, engagement, outsider):
    client = api(outsider)
    posts = [
        (f"/api/v1/scorecards/{scorecards[0].pk}/review/", {"decision": "signed"}),
        (f"/api/v1/alerts/{alert.pk}/acknowledge/", {}),
        (f"/api/v1/engagements/{engagement.pk}/recompute/", {}),
    ]
    for url, body in posts:
        assert client.post(url, body, format="json").status_code == 404, url
    config_url = f"/api/v1/engagements/{engagement.pk}/scoring-config/"
    assert client.patch(config_url, {"survey_threshold": 1}, format="json").status_code == 404
    assert not alert.__class__.objects.filter(acknowledged_at__isnull=False).exists()
