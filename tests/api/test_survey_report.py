"""The survey report through the API (PRODUCT.md §8): per side ratings, the mirror, rNPS
and the texts, for a closed period and a side at the threshold only."""

from datetime import date

import pytest

from feedback.models import PULSE_FIELDS
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


def answer(api, organization, name, engagement, **answers):
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=organization, role="viewer")
    body = {"engagement": engagement.pk, **dict.fromkeys(PULSE_FIELDS, 4), **answers}
    response = api(user).post("/api/v1/pulse-responses/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def report(api, user, engagement, period_start=MARCH):
    url = f"/api/v1/engagements/{engagement.pk}/survey-report/?period_start={period_start}"
    response = api(user).get(url)
    assert response.status_code == 200, response.json()
    return response.json()


def three_each(api, engagement, client_org, provider_org):
    """The client rates the provider's promises 3 while the provider predicts 5, 5, 4 (a
    blind spot, d = 14/3 − 3); the provider rates the client's shared goals 5 while the
    client predicts 3 (a hidden strength, d = −2)."""
    for index, (nps, text) in enumerate([(10, "Weekly notes."), (6, ""), (9, "Dashboards.")]):
        answer(
            api,
            client_org,
            f"client-{index}",
            engagement,
            deliver_promises=3,
            mirror_same_goals=3,
            nps=nps,
            continue_doing=text,
        )
    for index, prediction in enumerate([5, 5, 4]):
        answer(
            api,
            provider_org,
            f"provider-{index}",
            engagement,
            same_goals=5,
            mirror_deliver_promises=prediction,
            nps=8,
        )


def test_a_closed_period_shows_both_sides_mirror_rnps_and_texts(
    on, api, engagement, client_org, provider_org, client_viewer
):
    with on(date(2026, 3, 10)):
        three_each(api, engagement, client_org, provider_org)
    with on(date(2026, 4, 10)):
        body = report(api, client_viewer, engagement)
    assert (body["state"], body["threshold"], body["period_end"]) == ("closed", 3, "2026-03-31")
    client, provider = body["client"], body["provider"]
    assert client["published"] and client["respondents"] == 3
    promises = client["statements"][1]
    assert promises == {
        "statement": "deliver_promises",
        "question": "They deliver what they promise.",
        "mean": 3.0,
        "distribution": [0, 0, 3, 0, 0],
    }
    # The provider's mirror: the client's rating of it against its own prediction.
    provider_promises = provider["mirror"][1]
    assert provider_promises["rating"] == 3.0
    assert provider_promises["prediction"] == pytest.approx(14 / 3)
    assert provider_promises["gap"] == pytest.approx(5 / 3)
    assert provider_promises["category"] == "blind_spot"
    assert client["mirror"][4]["category"] == "hidden_strength"
    assert client["mirror"][4]["gap"] == -2.0
    # Nobody predicted the rest: no gap below the threshold of predictions.
    assert client["mirror"][0] == {
        "statement": "hear_often",
        "question": "We hear from the other side often enough.",
        "rating": None,
        "prediction": None,
        "gap": None,
        "category": None,
    }
    # Client → provider: 2 promoters, 1 detractor of 3; small sample.
    assert client["rnps"]["score"] == pytest.approx(100 / 3)
    assert client["rnps"]["small_sample"] is True
    assert client["rnps"]["low"] < client["rnps"]["score"] < client["rnps"]["high"]
    assert provider["rnps"]["score"] == 0 and provider["rnps"]["passives"] == 3
    assert sorted(client["texts"]["continue_doing"]) == ["Dashboards.", "Weekly notes."]
    assert client["texts"]["start_doing"] == []


def test_nothing_before_the_period_closes_nor_for_a_side_below_the_threshold(
    on, api, engagement, client_org, provider_org, provider_viewer
):
    with on(date(2026, 3, 10)):
        three_each(api, engagement, client_org, provider_org)
        in_progress = report(api, provider_viewer, engagement)
        answer(api, client_org, "client-late", engagement, nps=0)  # in March still
    assert in_progress["state"] == "in_progress"
    assert (
        in_progress["client"]
        == in_progress["provider"]
        == {
            "published": False,
            "respondents": None,
            "statements": [],
            "rnps": None,
            "texts": {},
            "mirror": [],
        }
    )
    with on(date(2026, 4, 3)):  # closing: late answers are no longer taken, nothing shown
        assert report(api, provider_viewer, engagement)["state"] == "closing"
        assert report(api, provider_viewer, engagement)["client"]["published"] is False


def test_a_side_below_the_threshold_hides_itself_and_the_other_sides_mirror(
    on, api, engagement, client_org, provider_org, client_viewer
):
    with on(date(2026, 3, 10)):
        for index in range(3):
            answer(api, client_org, f"client-{index}", engagement, nps=10, mirror_trust_overall=5)
        for index in range(2):
            answer(api, provider_org, f"provider-{index}", engagement, mirror_trust_overall=1)
    with on(date(2026, 4, 10)):
        body = report(api, client_viewer, engagement)
    assert body["provider"]["published"] is False and body["provider"]["statements"] == []
    # The client's mirror would need the provider's ratings: not shown either.
    assert body["client"]["published"] is True and body["client"]["mirror"] == []
    assert body["client"]["rnps"]["score"] == 100


def test_the_report_defaults_to_the_latest_closed_period_and_is_for_members_only(
    on, api, engagement, client_org, provider_org, client_viewer, outsider
):
    with on(date(2026, 3, 10)):
        three_each(api, engagement, client_org, provider_org)
    with on(date(2026, 4, 10)):
        assert report(api, client_viewer, engagement, period_start="")["period_start"] == (
            "2026-03-01"
        )
        url = f"/api/v1/engagements/{engagement.pk}/survey-report/"
        assert api(outsider).get(url).status_code == 404
        assert api(client_viewer).get(f"{url}?period_start=soon").status_code == 400


def test_the_report_takes_a_constant_number_of_queries(
    on, api, engagement, client_org, provider_org, client_viewer, django_assert_max_num_queries
):
    with on(date(2026, 3, 10)):
        three_each(api, engagement, client_org, provider_org)
        for index in range(5):
            answer(api, client_org, f"more-{index}", engagement, start_doing=f"Idea {index}")
    with on(date(2026, 4, 10)), django_assert_max_num_queries(12):
        report(api, client_viewer, engagement)


def test_the_closed_periods_explanation_says_the_blind_spot_hidden_strength_and_rnps(
    on,
    api,
    engagement,
    client_org,
    provider_org,
    client_manager,
    provider_viewer,
    django_capture_on_commit_callbacks,
):
    """The new answers reach the scorecard's words, not its score (PRODUCT.md §8), and only
    what the report publishes: the hand-computed figures of `three_each`. Client rNPS:
    p = 2/3, q = 1/3, 33.3 ± 1.645 × √((1 − 1/9) / 3) = ± 89.5, so −56 to 100 (clipped)."""
    with on(date(2026, 3, 10)):
        three_each(api, engagement, client_org, provider_org)
    with on(date(2026, 4, 10)), django_capture_on_commit_callbacks(execute=True):
        response = api(client_manager).post(
            f"/api/v1/engagements/{engagement.pk}/recompute/",
            {"period_start": "2026-03-01"},
            format="json",
        )
    assert response.status_code == 202, response.json()
    url = f"/api/v1/scorecards/?engagement={engagement.pk}&period_start=2026-03-01"
    (listed,) = api(provider_viewer).get(url).json()["results"]
    scorecard = api(provider_viewer).get(f"/api/v1/scorecards/{listed['id']}/").json()
    words = scorecard["explanation"]["dimensions"]["sentiment"]["text"]
    assert words == [
        "The client view is 70.8 from 3 responses.",
        "The client's relationship NPS for the provider is +33 (2 promoters, 0 passives, "
        "1 detractor; 90% interval -56 to +100; a small sample).",
        "Hidden strength of the client on 'Same goals': it expected 3.0, the provider rated "
        "it 5.0.",
        "The provider view is 79.2 from 3 responses.",
        "The provider's relationship NPS for the client is +0 (0 promoters, 3 passives, "
        "0 detractors; 90% interval +0 to +0; a small sample).",
        "Blind spot of the provider on 'Deliver promises': it expected 4.7, the client "
        "rated it 3.0.",
    ]
    # Model v1 unchanged: each view is the mean of the six statements alone, on 0–100:
    # client 3 × (5 × 4 + 3) = 69 of 18 answers, provider 3 × (5 × 4 + 5) = 75.
    views = scorecard["explanation"]["dimensions"]["sentiment"]["views"]
    assert views == {
        "client": pytest.approx((69 / 18 - 1) / 4 * 100, abs=0.01),
        "provider": pytest.approx((75 / 18 - 1) / 4 * 100, abs=0.01),
    }
