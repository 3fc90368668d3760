"""Scoring configuration on the engagement page: shown to both sides, changed by admins."""

import pytest
from django.test import Client
from django.urls import reverse

from relationships.change_requests import change_request_accept
from relationships.models import ChangeRequest, ScoringConfig
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

VALID = {
    "weight_reliance": "40",
    "weight_contact": "10",
    "weight_transparency": "15",
    "weight_dedication": "15",
    "weight_alignment": "10",
    "weight_sentiment": "10",
    "healthy_at": "80",
    "watch_at": "55",
    "min_coverage": "0.5",
    "survey_threshold": "4",
    "grace_days": "5",
}


def url(engagement):
    return reverse("scoring-config-update", args=[engagement.pk])


def detail(client, engagement):
    return client.get(reverse("engagement-detail", args=[engagement.pk])).content.decode()


def test_both_sides_see_the_defaults_when_nobody_changed_them(client, engagement, provider_viewer):
    client.force_login(provider_viewer)
    html = detail(client, engagement)
    assert "Scoring configuration" in html
    assert "nobody has changed them" in html
    assert "overall from 75" in html
    assert "3 respondents per side" in html
    assert "Change the scoring" not in html


def agree(engagement, accepter):
    """The other side's admin accepts the open request (its pages are the Agreement section's)."""
    change_request_accept(
        change_request=ChangeRequest.objects.get(engagement=engagement, status="open"),
        user=accepter,
    )


def test_admin_asks_to_change_scoring_and_the_other_side_sees_who_agreed(
    client, engagement, client_admin, provider_manager, provider_admin
):
    client.force_login(client_admin)
    form = client.get(url(engagement))
    assert form.status_code == 200
    assert 'value="30.0"' in form.content.decode()  # reliance default prefilled
    assert "applies from the next computation" in form.content.decode()
    response = client.post(url(engagement), VALID, follow=True)
    assert response.redirect_chain[0][0].endswith("#scoring")
    assert "Change requested" in response.content.decode()
    assert not ScoringConfig.objects.exists()  # until the other side's admin accepts
    agree(engagement, provider_admin)
    config = ScoringConfig.objects.get(engagement=engagement)
    assert config.weights["reliance"] == 40
    assert config.band_limits == {"healthy_at": 80, "watch_at": 55, "min_coverage": 0.5}
    assert config.survey_threshold == 4
    client.force_login(provider_manager)
    html = detail(client, engagement)
    assert "Last changed by provider-admin" in html
    assert "overall from 80" in html
    assert "4 respondents per side" in html
    assert "next computation" in html
    # The change log says what changed, not only who and when.
    assert "reliance weight 30.0 → 40.0" in html and "survey threshold 3 → 4" in html


def test_asking_for_the_values_in_force_changes_nothing_and_says_so(
    client, engagement, client_admin, provider_admin
):
    client.force_login(client_admin)
    assert client.post(url(engagement), VALID).status_code == 302
    agree(engagement, provider_admin)
    asked_again = client.post(url(engagement), VALID)
    assert asked_again.status_code == 400
    assert "Nothing to change: these are the values in force." in asked_again.content.decode()
    assert ScoringConfig.history.filter(engagement_id=engagement.pk).count() == 1
    assert ChangeRequest.objects.count() == 1


def test_provider_admin_may_ask_too(client, engagement, provider_admin, client_admin):
    client.force_login(provider_admin)
    assert client.post(url(engagement), VALID).status_code == 302
    assert ChangeRequest.objects.get().requested_side == "provider"
    agree(engagement, client_admin)
    assert ScoringConfig.objects.get(engagement=engagement).updated_by == client_admin


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"watch_at": "90"}, "watch_at", "cannot be above the healthy limit"),
        ({"survey_threshold": "0"}, "survey_threshold", "greater than or equal to 1"),
        ({"weight_sentiment": "abc"}, "weight_sentiment", "Enter a number"),
        ({"min_coverage": "2"}, "min_coverage", "less than or equal to 1"),
    ],
)
def test_bad_values_are_shown_next_to_the_field_and_change_nothing(
    client, engagement, client_admin, change, field, message
):
    client.force_login(client_admin)
    response = client.post(url(engagement), {**VALID, **change})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not ScoringConfig.objects.exists()


def test_all_weights_zero_is_refused_by_the_service(client, engagement, client_admin):
    client.force_login(client_admin)
    zero = {key: "0" for key in VALID if key.startswith("weight_")}
    response = client.post(url(engagement), {**VALID, **zero})
    assert response.status_code == 400
    assert "above 0" in " ".join(response.context["form"].errors["weight_reliance"])
    assert not ScoringConfig.objects.exists()


@pytest.mark.parametrize("persona", ["client_manager", "provider_viewer"])
def test_non_admins_are_refused(client, engagement, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url(engagement)).status_code == 403
    assert client.post(url(engagement), VALID).status_code == 403
    assert not ScoringConfig.objects.exists()


def test_outsider_gets_404(client, engagement, outsider):
    client.force_login(outsider)
    assert client.get(url(engagement)).status_code == 404
    assert client.post(url(engagement), VALID).status_code == 404


def test_post_without_csrf_token_is_refused(engagement, client_admin):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username=client_admin.username, password=PASSWORD)
    assert browser.post(url(engagement), VALID).status_code == 403
    assert not ScoringConfig.objects.exists()
