import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from feedback.models import PulseResponse
from tests.factories import (
    ActionItemFactory,
    CheckInFactory,
    ContributionReviewFactory,
    FeedbackFactory,
    IssueFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(superuser)
    return client


def test_pulse_responses_have_no_admin_page_and_no_history():
    assert PulseResponse not in admin.site._registry
    assert not hasattr(PulseResponse, "history")
    with pytest.raises(NoReverseMatch):
        reverse("admin:feedback_pulseresponse_changelist")


@pytest.mark.parametrize(
    "factory", [CheckInFactory, FeedbackFactory, IssueFactory, ActionItemFactory]
)
def test_admin_list_change_and_history_pages_work(staff_client, engagement, factory):
    record = factory(engagement=engagement)
    name = f"admin:feedback_{record._meta.model_name}"
    for url in (
        reverse(f"{name}_changelist"),
        reverse(f"{name}_changelist") + "?q=a",
        reverse(f"{name}_change", args=[record.pk]),
        reverse(f"{name}_history", args=[record.pk]),
    ):
        assert staff_client.get(url).status_code == 200, url


def test_review_admin_shows_its_action_items(staff_client, engagement):
    review = ContributionReviewFactory(issue=IssueFactory(engagement=engagement))
    ActionItemFactory(engagement=engagement, review=review, description="Add runbook step")
    response = staff_client.get(
        reverse("admin:feedback_contributionreview_change", args=[review.pk])
    )
    assert response.status_code == 200
    assert b"Add runbook step" in response.content
    assert (
        staff_client.get(reverse("admin:feedback_contributionreview_changelist")).status_code == 200
    )


def test_issue_admin_inlines_its_review(staff_client, engagement):
    review = ContributionReviewFactory(
        issue=IssueFactory(engagement=engagement), summary="Both sides agreed"
    )
    response = staff_client.get(reverse("admin:feedback_issue_change", args=[review.issue.pk]))
    assert b"Both sides agreed" in response.content
