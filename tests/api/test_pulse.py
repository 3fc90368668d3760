"""Pulse survey responses: own answers only; aggregates respect the anonymity threshold."""

from datetime import date

import pytest

from feedback.models import PULSE_FIELDS, PulseResponse
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ANSWERS = dict.fromkeys(PULSE_FIELDS, 4)


def answer(api, user, engagement, **answers):
    body = {"engagement": engagement.pk, **ANSWERS, **answers}
    return api(user).post("/api/v1/pulse-responses/", body, format="json")


def test_any_member_answers_and_sees_only_their_own(
    api, engagement, client_viewer, provider_viewer, outsider
):
    response = answer(api, client_viewer, engagement)
    assert response.status_code == 201, response.json()
    assert response.json()["side"] == "client"
    assert answer(api, provider_viewer, engagement).status_code == 201
    mine = api(client_viewer).get("/api/v1/pulse-responses/").json()["results"]
    assert len(mine) == 1 and mine[0]["side"] == "client"
    theirs = PulseResponse.objects.get(respondent=provider_viewer)
    assert api(client_viewer).get(f"/api/v1/pulse-responses/{theirs.pk}/").status_code == 404
    refused = answer(api, outsider, engagement)
    assert refused.status_code == 400 and "engagement" in refused.json()["errors"]


def test_a_second_answer_replaces_the_first(api, engagement, client_viewer):
    answer(api, client_viewer, engagement)
    answer(api, client_viewer, engagement, trust_overall=2)
    client = api(client_viewer)
    assert client.get("/api/v1/pulse-responses/?current=true").json()["count"] == 1
    assert client.get("/api/v1/pulse-responses/").json()["count"] == 2


@pytest.mark.parametrize(
    "bad, field",
    [({"trust_overall": 6}, "trust_overall"), ({"same_goals": "x"}, "same_goals")],
)
def test_bad_answers_are_refused(api, engagement, client_viewer, bad, field):
    response = answer(api, client_viewer, engagement, **bad)
    assert response.status_code == 400 and field in response.json()["errors"]
    body = {"engagement": engagement.pk, "trust_overall": 3}
    missing = api(client_viewer).post("/api/v1/pulse-responses/", body, format="json")
    assert missing.status_code == 400 and "hear_often" in missing.json()["errors"]
    assert not PulseResponse.objects.exists()


def test_aggregates_show_a_closed_period_and_hide_a_side_below_the_threshold(
    on, api, engagement, client_org, provider_viewer
):
    with on(date(2026, 3, 10)):
        for index in range(3):
            user = UserFactory(username=f"client-person-{index}")
            MembershipFactory(user=user, organization=client_org, role="viewer")
            answer(api, user, engagement, trust_overall=index + 1)
        answer(api, provider_viewer, engagement)
    url = f"/api/v1/engagements/{engagement.pk}/pulse-aggregates/"
    with on(date(2026, 4, 10)):
        body = api(provider_viewer).get(url).json()
        bad = api(provider_viewer).get(url + "?period_start=soon")
    assert (body["period_start"], body["state"], body["threshold"]) == ("2026-03-01", "closed", 3)
    assert body["client"]["respondents"] == 3 and body["client"]["means"]["trust_overall"] == 2.0
    assert body["provider"] == {
        "published": False,
        "respondents": None,
        "means": dict.fromkeys(PULSE_FIELDS),
        "overall": None,
    }
    assert bad.status_code == 400 and "period_start" in bad.json()["errors"]
