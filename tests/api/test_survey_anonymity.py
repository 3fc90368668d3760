"""The survey's anonymity (PRODUCT.md §7–§8, audit findings 2 and 3), as a counterpart
would attack it through the API: figures below the threshold, a threshold lowered by one
side, and differencing two reads around one more answer."""

from datetime import date

import pytest

from feedback.models import PULSE_FIELDS
from relationships.models import ScoringConfig
from scorecards.compute import compute_chunk
from scorecards.models import Scorecard
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


def respondent(organization, name):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=organization, role="viewer")
    return user


def answer(api, user, engagement, value):
    body = {"engagement": engagement.pk, **dict.fromkeys(PULSE_FIELDS, value)}
    response = api(user).post("/api/v1/pulse-responses/", body, format="json")
    assert response.status_code == 201, response.json()


def aggregates(api, user, engagement, period_start=MARCH):
    url = f"/api/v1/engagements/{engagement.pk}/pulse-aggregates/?period_start={period_start}"
    response = api(user).get(url)
    assert response.status_code == 200, response.json()
    return response.json()


def scorecard_read(api, user, engagement, today):
    compute_chunk([engagement.pk], "month", MARCH, today)
    scorecard = Scorecard.objects.get(engagement=engagement, period_start=MARCH)
    response = api(user).get(f"/api/v1/scorecards/{scorecard.pk}/")
    assert response.status_code == 200
    body = response.json()
    return {
        "sentiment": body["sentiment"],
        "explanation": body["explanation"]["dimensions"]["sentiment"],
        "data": body["explanation"]["data"]["sentiment"],
    }


def test_reading_before_and_after_a_fourth_answer_never_tells_that_answer(
    on, api, engagement, provider_org, client_viewer
):
    """The differencing attack: 3 provider answers, read; a 4th, read again. Every
    survey-derived read is the same before and after, until the period closes; after
    that, answers go to the next period and March's figures stay as published."""
    with on(date(2026, 3, 10)):
        for index, value in enumerate([5, 4, 3]):
            answer(api, respondent(provider_org, f"provider-{index}"), engagement, value)
        before = aggregates(api, client_viewer, engagement)
        scored_before = scorecard_read(api, client_viewer, engagement, date(2026, 3, 10))
        answer(api, respondent(provider_org, "provider-4th"), engagement, 1)
        after = aggregates(api, client_viewer, engagement)
        scored_after = scorecard_read(api, client_viewer, engagement, date(2026, 3, 10))
    assert before == after
    assert scored_before == scored_after
    assert before["state"] == "in_progress" and before["provider"]["published"] is False
    assert before["provider"]["means"] == dict.fromkeys(PULSE_FIELDS)
    assert scored_before["data"] == {}
    assert scored_before["explanation"]["views"]["provider"] is None

    with on(date(2026, 4, 3)):  # closing: late records still count, nothing published
        assert aggregates(api, client_viewer, engagement)["state"] == "closing"
        assert aggregates(api, client_viewer, engagement)["provider"]["published"] is False

    with on(date(2026, 4, 10)):
        published = aggregates(api, client_viewer, engagement)
        final = scorecard_read(api, client_viewer, engagement, date(2026, 4, 10))
        answer(api, respondent(provider_org, "provider-5th"), engagement, 5)  # April's
        assert aggregates(api, client_viewer, engagement) == published
        assert scorecard_read(api, client_viewer, engagement, date(2026, 4, 10)) == final
    assert published["state"] == "closed"
    assert published["provider"]["respondents"] == 4
    assert published["provider"]["means"]["trust_overall"] == 3.25  # (5+4+3+1)/4
    assert final["data"] == {"provider": {"respondents": 4, "answer_total": 78}}
    # Read without a period, the aggregates are the latest closed period's.
    with on(date(2026, 4, 10)):
        assert aggregates(api, client_viewer, engagement, period_start="") == published


def test_a_side_below_the_threshold_leaves_no_trace(
    on, api, engagement, provider_org, client_viewer, django_user_model
):
    with on(date(2026, 3, 10)):
        answer(api, respondent(provider_org, "lone-provider"), engagement, 2)
    with on(date(2026, 4, 10)):
        read = scorecard_read(api, client_viewer, engagement, date(2026, 4, 10))
        shown = aggregates(api, client_viewer, engagement)
    assert read["data"] == {} and read["sentiment"] is None
    assert read["explanation"]["text"][1] == (
        "Fewer than 3 provider responses: not shown (anonymity threshold)."
    )
    # The same sentence as for a side where nobody answered.
    assert read["explanation"]["text"][0] == (
        "Fewer than 3 client responses: not shown (anonymity threshold)."
    )
    assert shown["provider"] == {
        "published": False,
        "respondents": None,
        "means": dict.fromkeys(PULSE_FIELDS),
        "overall": None,
    }
    operator = django_user_model.objects.create_superuser("operator", "op@example.test", "x")
    scorecard = Scorecard.objects.get(engagement=engagement)
    from django.test import Client

    admin = Client()
    admin.force_login(operator)
    page = admin.get(f"/admin/scorecards/scorecard/{scorecard.pk}/change/").content.decode()
    assert "answer_total" not in page and "respondents" not in page
    export = api(client_viewer).get(f"/api/v1/engagements/{engagement.pk}/scorecards.csv")
    assert "respondent" not in export.content.decode().lower()


def test_one_side_cannot_lower_the_threshold_below_3(
    api, engagement, client_admin, provider_manager, provider_admin
):
    """Below 3 a threshold could single out a respondent: it takes the other side's admin."""
    url = f"/api/v1/engagements/{engagement.pk}/scoring-config/"
    asked = api(client_admin).patch(url, {"survey_threshold": 1}, format="json")
    assert asked.status_code == 202
    assert not ScoringConfig.objects.exists()
    accept = f"/api/v1/change-requests/{asked.json()['id']}/accept/"
    refused = api(provider_manager).post(accept)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert not ScoringConfig.objects.exists()
    assert api(provider_admin).post(accept).status_code == 200
    assert ScoringConfig.objects.get().survey_threshold == 1


def test_a_threshold_applies_from_the_next_period_that_begins(
    on, api, engagement, provider_org, client_admin, client_viewer, provider_admin
):
    """A threshold agreed during a period does not change the period already under way."""
    url = f"/api/v1/engagements/{engagement.pk}/scoring-config/"
    with on(date(2026, 3, 10)):
        asked = api(client_admin).patch(url, {"survey_threshold": 5}, format="json").json()
        accept = f"/api/v1/change-requests/{asked['id']}/accept/"
        assert api(provider_admin).post(accept).json()["applies_from"] == "2026-03-01"
        for index in range(3):
            answer(api, respondent(provider_org, f"provider-{index}"), engagement, 4)
    with on(date(2026, 4, 10)):
        march = aggregates(api, client_viewer, engagement)
        april = aggregates(api, client_viewer, engagement, period_start=date(2026, 4, 1))
    assert march["threshold"] == 3 and march["provider"]["published"] is True
    assert april["threshold"] == 5
