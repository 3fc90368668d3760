"""Issues resolved, contribution reviews opened and filled, action items cancelled."""

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import ActionItem, ContributionReview, Issue
from tests.factories import (
    PASSWORD,
    ActionItemFactory,
    ContributionReviewFactory,
    IssueFactory,
)

pytestmark = pytest.mark.django_db


def detail(engagement):
    return reverse("engagement-detail", args=[engagement.pk])


@pytest.fixture
def issue(engagement):
    return IssueFactory(engagement=engagement, title="Outage on release day")


@pytest.fixture
def review(issue):
    return ContributionReviewFactory(issue=issue)


# ---------------------------------------------------------------- resolve
def test_writer_resolves_an_issue(as_user, engagement, issue, client_manager):
    response = as_user(client_manager).post(reverse("issue-resolve", args=[issue.pk]), follow=True)
    assert response.redirect_chain[-1][0] == detail(engagement)
    assert "Issue resolved." in response.content.decode()
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    assert "Outage on release day" not in str(response.context["sides"])


def test_resolving_twice_says_so_and_keeps_the_first_time(as_user, issue, provider_manager):
    client = as_user(provider_manager)
    client.post(reverse("issue-resolve", args=[issue.pk]))
    first = Issue.objects.get().resolved_at
    response = client.post(reverse("issue-resolve", args=[issue.pk]), follow=True)
    assert "already resolved" in response.content.decode()
    assert Issue.objects.get().resolved_at == first


def test_open_issue_shows_resolve_and_review_buttons_to_writers_only(
    as_user, engagement, issue, client_manager, client_viewer
):
    html = as_user(client_manager).get(detail(engagement)).content.decode()
    assert reverse("issue-resolve", args=[issue.pk]) in html
    assert reverse("issue-review-open", args=[issue.pk]) in html
    html = as_user(client_viewer).get(detail(engagement)).content.decode()
    assert reverse("issue-resolve", args=[issue.pk]) not in html


# ---------------------------------------------------------------- contribution reviews
def test_writer_opens_a_contribution_review(as_user, engagement, issue, provider_manager):
    response = as_user(provider_manager).post(
        reverse("issue-review-open", args=[issue.pk]), follow=True
    )
    html = response.content.decode()
    assert "Contribution review opened" in html
    review = ContributionReview.objects.get(issue=issue)
    assert review.created_by == provider_manager
    assert f'id="review-{review.pk}"' in html
    assert "Incomplete" in html


def test_resolved_issue_can_still_get_a_review(as_user, engagement, issue, client_manager):
    client = as_user(client_manager)
    client.post(reverse("issue-resolve", args=[issue.pk]))
    html = client.get(detail(engagement)).content.decode()
    assert "Resolved issues without a review" in html
    assert reverse("issue-review-open", args=[issue.pk]) in html
    client.post(reverse("issue-review-open", args=[issue.pk]))
    html = client.get(detail(engagement)).content.decode()
    assert "Resolved issues without a review" not in html
    assert 'Outage on release day <span class="small muted">(resolved)</span>' in html


def test_second_review_of_an_issue_is_refused(as_user, review, client_manager):
    response = as_user(client_manager).post(
        reverse("issue-review-open", args=[review.issue.pk]), follow=True
    )
    assert "already exists" in response.content.decode()
    assert ContributionReview.objects.count() == 1


def test_add_action_link_preselects_the_review_and_own_side(
    as_user, engagement, review, client_manager
):
    response = as_user(client_manager).get(
        reverse("action-item-create", args=[engagement.pk]) + f"?review={review.pk}"
    )
    form = response.context["form"]
    assert form["review"].value() == review.pk
    assert form["owner_side"].value() == "client"


def test_odd_review_parameter_is_ignored(as_user, engagement, client_manager):
    response = as_user(client_manager).get(
        reverse("action-item-create", args=[engagement.pk]) + "?review=99999999999999999999999"
    )
    assert response.status_code == 200
    assert response.context["form"]["review"].value() is None


def commit(client, engagement, review, side, description):
    return client.post(
        reverse("action-item-create", args=[engagement.pk]),
        {
            "owner_side": side,
            "description": description,
            "due_date": "2026-02-15",
            "review": review.pk,
        },
    )


def test_review_is_complete_once_both_sides_committed(
    as_user, engagement, review, client_manager, provider_manager
):
    assert (
        commit(as_user(client_manager), engagement, review, "client", "Freeze scope").status_code
        == 302
    )
    html = as_user(client_manager).get(detail(engagement)).content.decode()
    assert "Incomplete" in html
    assert (
        commit(as_user(provider_manager), engagement, review, "provider", "Canary").status_code
        == 302
    )
    html = as_user(client_manager).get(detail(engagement)).content.decode()
    assert "Both sides committed" in html
    assert "Freeze scope" in html and "Canary" in html
    assert set(review.action_items.values_list("owner_side", flat=True)) == {"client", "provider"}


def test_a_side_cannot_commit_for_the_other_in_a_review(
    as_user, engagement, review, client_manager
):
    response = commit(as_user(client_manager), engagement, review, "provider", "You fix it")
    assert response.status_code == 400
    assert "its own actions" in " ".join(response.context["form"].errors["owner_side"])
    assert "You fix it" in response.content.decode()
    assert not ActionItem.objects.exists()


def test_review_of_another_engagement_is_not_a_choice(
    as_user, engagement, foreign_engagement, client_manager
):
    foreign = ContributionReviewFactory(issue=IssueFactory(engagement=foreign_engagement))
    response = commit(as_user(client_manager), engagement, foreign, "client", "Sneaky")
    assert response.status_code == 400
    assert "review" in response.context["form"].errors
    assert not ActionItem.objects.exists()


def test_reviews_render_in_constant_queries(
    as_user, engagement, client_manager, django_assert_max_num_queries
):
    def add_reviews(count):
        for _ in range(count):
            review = ContributionReviewFactory(issue=IssueFactory(engagement=engagement))
            for side in ("client", "provider"):
                ActionItemFactory(engagement=engagement, review=review, owner_side=side)

    client = as_user(client_manager)
    add_reviews(1)
    with django_assert_max_num_queries(60) as one:
        client.get(detail(engagement))
    add_reviews(5)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(detail(engagement)).status_code == 200


# ---------------------------------------------------------------- cancel action items
def test_owner_side_cancels_an_action_item(as_user, engagement, provider_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    response = as_user(provider_manager).post(
        reverse("action-item-cancel", args=[item.pk]), follow=True
    )
    assert "Action item cancelled." in response.content.decode()
    item.refresh_from_db()
    assert item.cancelled


def test_other_side_cannot_cancel(as_user, engagement, client_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    assert (
        as_user(client_manager).post(reverse("action-item-cancel", args=[item.pk])).status_code
        == 403
    )
    item.refresh_from_db()
    assert not item.cancelled


# ---------------------------------------------------------------- refusals, for every button
BUTTONS = ["issue-resolve", "issue-review-open", "action-item-cancel"]


def target(name, engagement):
    if name == "action-item-cancel":
        return ActionItemFactory(engagement=engagement, owner_side="client").pk
    return IssueFactory(engagement=engagement).pk


@pytest.mark.parametrize("name", BUTTONS)
def test_viewer_is_refused(as_user, engagement, client_viewer, name):
    pk = target(name, engagement)
    assert as_user(client_viewer).post(reverse(name, args=[pk])).status_code == 403
    assert not ContributionReview.objects.exists()
    assert not Issue.objects.filter(resolved_at__isnull=False).exists()
    assert not ActionItem.objects.filter(cancelled=True).exists()


@pytest.mark.parametrize("name", BUTTONS)
def test_outsider_gets_404(as_user, engagement, outsider, name):
    assert as_user(outsider).post(reverse(name, args=[target(name, engagement)])).status_code == 404


@pytest.mark.parametrize("name", BUTTONS)
def test_get_is_not_allowed(as_user, engagement, client_manager, name):
    assert (
        as_user(client_manager).get(reverse(name, args=[target(name, engagement)])).status_code
        == 405
    )


@pytest.mark.parametrize("name", BUTTONS)
def test_csrf_is_enforced(engagement, client_manager, name):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username=client_manager.username, password=PASSWORD)
    assert browser.post(reverse(name, args=[target(name, engagement)])).status_code == 403
    assert not ContributionReview.objects.exists()
