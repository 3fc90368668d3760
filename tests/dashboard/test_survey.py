"""The pulse survey page: any member answers for the current period."""

from datetime import date

import pytest
from django.urls import reverse

from feedback.models import PULSE_FIELDS, PulseResponse
from feedback.services import pulse_submit
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ANSWERS = dict.fromkeys(PULSE_FIELDS, "4")


def survey(engagement):
    return reverse("pulse-survey", args=[engagement.pk])


def test_page_shows_the_questions_as_fieldsets_the_period_and_the_threshold(
    as_user, engagement, client_viewer
):
    response = as_user(client_viewer).get(survey(engagement))
    assert response.status_code == 200
    page = response.content.decode()
    # Six statements and their mirrors, then the recommendation (0-10).
    assert page.count("<fieldset") == 13
    assert page.count('type="radio"') == 6 * 5 * 2 + 11
    assert "<legend>1. We hear from the other side often enough.</legend>" in page
    assert page.count("How do you think they will rate you on this? (optional)") == 6
    provider = engagement.organization_of("provider").name
    assert f"How likely are you to recommend {provider} as a partner to a peer?" in page
    assert page.count("<textarea") == 3
    assert engagement.current_period().label in page
    assert "only if at least 3 of its people answered" in page
    assert "shown to nobody but you" in page


def test_mirrors_recommendation_and_texts_are_saved_and_prefilled(
    as_user, engagement, client_viewer
):
    client = as_user(client_viewer)
    answers = {**ANSWERS, "mirror_trust_overall": "5", "nps": "0", "stop_doing": "Late notes."}
    assert client.post(survey(engagement), answers).status_code == 302
    pulse = PulseResponse.objects.get()
    assert (pulse.mirror_trust_overall, pulse.mirror_hear_often, pulse.nps) == (5, None, 0)
    assert (pulse.stop_doing, pulse.start_doing) == ("Late notes.", "")
    page = client.get(survey(engagement)).content.decode()
    assert 'name="nps" value="0" id="id_nps_0" checked' in page
    assert "Late notes.</textarea>" in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mirror_same_goals": "6"}, "mirror_same_goals"),
        ({"nps": "11"}, "nps"),
        ({"nps": "-1"}, "nps"),
        ({"continue_doing": "x" * 2001}, "continue_doing"),
    ],
)
def test_bad_optional_answers_are_refused(as_user, engagement, client_viewer, change, field):
    response = as_user(client_viewer).post(survey(engagement), {**ANSWERS, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not PulseResponse.objects.exists()


def test_viewer_submits_and_the_side_is_derived(as_user, engagement, client_viewer):
    response = as_user(client_viewer).post(survey(engagement), {**ANSWERS, "side": "provider"})
    assert response.status_code == 302
    pulse = PulseResponse.objects.get()
    assert (pulse.side, pulse.respondent, pulse.hear_often) == ("client", client_viewer, 4)
    assert pulse.period_start == engagement.current_period().start


def test_second_submission_replaces_the_first_and_keeps_it(as_user, engagement, client_viewer):
    client = as_user(client_viewer)
    client.post(survey(engagement), ANSWERS)
    client.post(survey(engagement), {**ANSWERS, "trust_overall": "2"})
    assert PulseResponse.objects.count() == 2
    assert PulseResponse.objects.current().get().trust_overall == 2


def test_previous_answers_are_prefilled(as_user, engagement, client_viewer):
    client = as_user(client_viewer)
    client.post(survey(engagement), {**ANSWERS, "trust_overall": "2"})
    page = client.get(survey(engagement)).content.decode()
    assert 'name="trust_overall" value="2" id="id_trust_overall_1" required checked' in page
    assert "Submitting again replaces those answers" in page


def test_missing_answer_is_refused_and_other_answers_kept(as_user, engagement, client_viewer):
    answers = {**ANSWERS, "same_goals": "5"}
    del answers["trust_overall"]
    response = as_user(client_viewer).post(survey(engagement), answers)
    assert response.status_code == 400
    assert response.context["form"].errors["trust_overall"] == ["This field is required."]
    assert (
        'name="same_goals" value="5" id="id_same_goals_4" required checked'
        in response.content.decode()
    )
    assert not PulseResponse.objects.exists()


@pytest.mark.parametrize("value", ["0", "6", "x", "3.5"])
def test_answers_outside_1_to_5_are_refused(as_user, engagement, client_viewer, value):
    response = as_user(client_viewer).post(survey(engagement), {**ANSWERS, "hear_often": value})
    assert response.status_code == 400
    assert "hear_often" in response.context["form"].errors
    assert not PulseResponse.objects.exists()


def test_outsider_gets_404(as_user, engagement, outsider):
    assert as_user(outsider).get(survey(engagement)).status_code == 404
    assert as_user(outsider).post(survey(engagement), ANSWERS).status_code == 404


def test_survey_is_closed_on_a_proposed_engagement(as_user, engagement, client_viewer):
    engagement.status = "proposed"
    engagement.save()
    assert as_user(client_viewer).post(survey(engagement), ANSWERS).status_code == 403
    assert not PulseResponse.objects.exists()


def _respond(engagement, organization, count, answer=5):
    for index in range(count):
        user = UserFactory(username=f"{organization.name[:4]}-respondent-{index}")
        MembershipFactory(user=user, organization=organization, role="viewer")
        pulse_submit(engagement=engagement, user=user, answers=dict.fromkeys(PULSE_FIELDS, answer))


def test_this_period_is_not_published_while_it_is_in_progress(
    on, as_user, engagement, client_viewer
):
    with on(date(2026, 3, 10)):
        _respond(engagement, engagement.provider, 3)
        html = as_user(client_viewer).get(survey(engagement)).content.decode()
    assert "published once the period has closed, on 6 Apr 2026" in html
    assert "Published results: 2026-02" in html
    assert "mean" not in html


def test_side_aggregates_hidden_below_the_threshold(on, as_user, engagement, client_viewer):
    with on(date(2026, 3, 10)):
        _respond(engagement, engagement.provider, 2)
    with on(date(2026, 4, 10)):
        response = as_user(client_viewer).get(survey(engagement))
    provider = response.context["sides"][1]
    assert provider["published"] is None
    assert "Not published: fewer than 3 of this side answered." in response.content.decode()


def test_side_aggregates_shown_at_the_threshold(on, as_user, engagement, client_viewer):
    with on(date(2026, 3, 10)):
        _respond(engagement, engagement.provider, 3, answer=4)
    with on(date(2026, 4, 10)):
        response = as_user(client_viewer).get(survey(engagement))
    assert response.context["sides"][1]["published"].overall == 4.0
    assert "3 respondents; mean 4.0 of 5." in response.content.decode()


def test_the_threshold_in_force_is_the_one_agreed_before_the_period_began(
    on, as_user, engagement, client_viewer
):
    from relationships.models import ScoringConfig

    with on(date(2026, 2, 20)):
        ScoringConfig.objects.create(engagement=engagement, survey_threshold=1)
    with on(date(2026, 3, 10)):
        _respond(engagement, engagement.provider, 1)
        assert "only if at least 1 of its people" in as_user(client_viewer).get(
            survey(engagement)
        ).content.decode()
    with on(date(2026, 4, 10)):
        response = as_user(client_viewer).get(survey(engagement))
    assert response.context["sides"][1]["published"].overall == 5.0
