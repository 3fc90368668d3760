import pytest
from django.urls import reverse

from relationships.models import ScoringConfig
from scorecards.compute import compute_chunk
from scorecards.models import Alert, Scorecard, ScorecardReview, ScorecardRun
from scorecards.runs import start_run
from scorecards.services import scorecard_review
from tests.factories import UserFactory
from tests.scorecards.conftest import APRIL_10, MARCH
from tests.terms import agreed


@pytest.fixture
def operator(client):
    user = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_pages_show_scorecard_records(
    operator, rich_engagement, client_admin, client_manager, provider_admin
):
    compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    agreed(
        engagement=rich_engagement,
        subject="scoring_config",
        values={"survey_threshold": 4},
        asker=client_admin,
        accepter=provider_admin,
    )
    scorecard = Scorecard.objects.get()
    scorecard_review(scorecard=scorecard, user=client_manager, decision="signed")
    run = ScorecardRun.objects.create(trigger="command", period_kind="month", period_start=MARCH)
    start_run(run.pk, [rich_engagement.pk], dispatch=False)
    for model, obj in (
        ("scorecards_scorecard", scorecard),
        ("scorecards_alert", Alert.objects.first()),
        ("scorecards_scorecardrun", run),
        ("relationships_scoringconfig", rich_engagement.scoring_config),
        ("scorecards_scorecardreview", ScorecardReview.objects.get()),
    ):
        assert operator.get(reverse(f"admin:{model}_changelist")).status_code == 200
        change = operator.get(reverse(f"admin:{model}_change", args=[obj.pk]))
        assert change.status_code == 200
    history = reverse(
        "admin:relationships_scoringconfig_history", args=[rich_engagement.scoring_config.pk]
    )
    assert operator.get(history).status_code == 200


@pytest.mark.django_db
def test_computed_records_cannot_be_edited_in_the_admin(operator, rich_engagement):
    compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    scorecard = Scorecard.objects.get()
    url = reverse("admin:scorecards_scorecard_change", args=[scorecard.pk])
    operator.post(url, {"overall": "1.0"})
    scorecard.refresh_from_db()
    assert scorecard.overall != 1
    assert operator.get(reverse("admin:scorecards_scorecard_add")).status_code == 403


@pytest.mark.django_db
def test_admin_rejects_a_scoring_config_the_model_cannot_use(operator, rich_engagement):
    response = operator.post(
        reverse("admin:relationships_scoringconfig_add"),
        {
            "engagement": rich_engagement.pk,
            "weights": '{"luck": 10}',
            "band_limits": "{}",
            "survey_threshold": 3,
        },
    )
    assert response.status_code == 200
    assert "Unknown dimension" in response.content.decode()
    assert not ScoringConfig.objects.exists()
