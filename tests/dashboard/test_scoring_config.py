"""Scoring configuration on the engagement page: shown to both sides; an admin of either
side proposes a change, which applies when an admin of the other side accepts it."""

import pytest
from django.test import Client
from django.urls import reverse

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


def test_admin_proposes_scoring_the_other_admin_accepts_and_both_see_who(
    client, engagement, client_admin, provider_admin, provider_manager
):
    client.force_login(client_admin)
    form = client.get(url(engagement))
    assert form.status_code == 200
    assert 'value="30.0"' in form.content.decode()  # reliance default prefilled
    assert "when one of their admins accepts it" in form.content.decode()
    response = client.post(url(engagement), VALID)
    assert response.status_code == 302
    change_request = ChangeRequest.objects.get()
    assert response["Location"] == change_request.get_absolute_url()
    assert not ScoringConfig.objects.exists()  # nothing changes until the other side agrees

    client.force_login(provider_admin)
    accept = reverse("change-request-accept", args=[change_request.pk])
    assert client.post(accept).status_code == 302
    config = ScoringConfig.objects.get(engagement=engagement)
    assert config.weights["reliance"] == 40
    assert config.band_limits == {"healthy_at": 80, "watch_at": 55, "min_coverage": 0.5}
    assert config.survey_threshold == 4
    client.force_login(provider_manager)
    html = detail(client, engagement)
    assert "Last changed by provider-admin" in html
    assert "overall from 80" in html
    assert "4 respondents per side" in html
    # The change log says what changed, not only who and when.
    assert "reliance weight 30.0 → 40.0" in html and "survey threshold 3 → 4" in html


def test_proposing_the_values_in_force_is_refused_and_says_so(client, engagement, client_admin):
    client.force_login(client_admin)
    defaults = {**VALID, "weight_reliance": "30", "weight_contact": "15", "healthy_at": "75"}
    defaults |= {"weight_alignment": "15", "watch_at": "50", "min_coverage": "0.4"}
    defaults |= {"survey_threshold": "3"}
    response = client.post(url(engagement), defaults)
    assert response.status_code == 400
    assert "Nothing to change" in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_provider_admin_may_propose_too(client, engagement, provider_admin):
    client.force_login(provider_admin)
    assert client.post(url(engagement), VALID).status_code == 302
    assert ChangeRequest.objects.get().requested_side == "provider"
    assert not ScoringConfig.objects.exists()


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
