"""Check-in, feedback, issue and action item forms of the dashboard."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import ActionItem, CheckIn, Feedback, Issue
from tests.factories import (
    PASSWORD,
    ActionItemFactory,
    CheckInFactory,
    KeyContactFactory,
    SLAFactory,
)

pytestmark = pytest.mark.django_db


def url(name, engagement):
    return reverse(name, args=[engagement.pk])


def detail(engagement):
    return reverse("engagement-detail", args=[engagement.pk])


CHECKIN = {"occurred_at": "2026-01-05T10:00", "kind": "sync", "notes": "Walked the backlog."}


# ---------------------------------------------------------------- check-ins
def test_manager_logs_checkin_with_attendees(as_user, engagement, client_manager, contact):
    response = as_user(client_manager).post(
        url("checkin-create", engagement),
        {**CHECKIN, "attendee_users": [client_manager.pk], "attendee_contacts": [contact.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == detail(engagement)
    checkin = CheckIn.objects.get()
    assert checkin.occurred_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert list(checkin.attendee_users.all()) == [client_manager]
    assert list(checkin.attendee_contacts.all()) == [contact]


def test_checkin_time_is_read_in_the_engagement_time_zone(as_user, engagement, client_manager):
    engagement.time_zone = "Europe/Berlin"
    engagement.save()
    as_user(client_manager).post(url("checkin-create", engagement), CHECKIN)
    assert CheckIn.objects.get().occurred_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_success_message_is_shown_on_the_engagement_page(as_user, engagement, client_manager):
    response = as_user(client_manager).post(url("checkin-create", engagement), CHECKIN, follow=True)
    assert "Check-in logged." in response.content.decode()


def test_checkin_error_keeps_input_and_writes_nothing(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        url("checkin-create", engagement), {**CHECKIN, "occurred_at": "2098-01-01T10:00"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "This time is in the future." in page
    assert "Walked the backlog." in page
    assert 'value="2098-01-01T10:00"' in page
    assert not CheckIn.objects.exists()


def test_checkin_missing_time_is_a_field_error(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        url("checkin-create", engagement), {**CHECKIN, "occurred_at": ""}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["occurred_at"] == ["This field is required."]


def test_checkin_refuses_a_contact_of_another_engagement(
    as_user, engagement, client_manager, foreign_engagement
):
    foreign = KeyContactFactory(engagement=foreign_engagement)
    response = as_user(client_manager).post(
        url("checkin-create", engagement), {**CHECKIN, "attendee_contacts": [foreign.pk]}
    )
    assert response.status_code == 400
    assert "attendee_contacts" in response.context["form"].errors
    assert not CheckIn.objects.exists()


def test_checkin_refuses_an_attendee_outside_both_parties(
    as_user, engagement, client_manager, outsider
):
    response = as_user(client_manager).post(
        url("checkin-create", engagement), {**CHECKIN, "attendee_users": [outsider.pk]}
    )
    assert response.status_code == 400
    assert "attendee_users" in response.context["form"].errors


def test_form_page_shows_labelled_fields(as_user, engagement, client_manager):
    response = as_user(client_manager).get(url("checkin-create", engagement))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<label for="id_occurred_at">' in page
    assert "csrfmiddlewaretoken" in page


@pytest.mark.parametrize(
    "name", ["checkin-create", "feedback-create", "issue-create", "action-item-create"]
)
def test_viewer_is_refused(as_user, engagement, client_viewer, name):
    client = as_user(client_viewer)
    assert client.get(url(name, engagement)).status_code == 403
    assert client.post(url(name, engagement), CHECKIN).status_code == 403
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    "name", ["checkin-create", "feedback-create", "issue-create", "action-item-create"]
)
def test_outsider_gets_404(as_user, engagement, outsider, name):
    client = as_user(outsider)
    assert client.get(url(name, engagement)).status_code == 404
    assert client.post(url(name, engagement), CHECKIN).status_code == 404


def test_anonymous_is_sent_to_sign_in(engagement):
    response = Client().get(url("checkin-create", engagement))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_csrf_is_enforced(engagement, client_manager):
    client = Client(enforce_csrf_checks=True)
    client.login(username=client_manager.username, password=PASSWORD)
    response = client.post(url("checkin-create", engagement), CHECKIN)
    assert response.status_code == 403
    assert not CheckIn.objects.exists()


def test_proposed_engagement_takes_no_records(as_user, engagement, client_manager):
    engagement.status = "proposed"
    engagement.save()
    response = as_user(client_manager).post(url("checkin-create", engagement), CHECKIN)
    assert response.status_code == 403
    assert not CheckIn.objects.exists()


# ---------------------------------------------------------------- feedback
def test_feedback_side_comes_from_the_author_not_the_form(as_user, engagement, provider_manager):
    response = as_user(provider_manager).post(
        url("feedback-create", engagement),
        {"kind": "appreciation", "text": "Great release.", "from_side": "client"},
    )
    assert response.status_code == 302
    assert Feedback.objects.get().from_side == "provider"


def test_improvement_without_suggested_action_is_refused(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        url("feedback-create", engagement), {"kind": "improvement", "text": "Slow approvals."}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["suggested_action"]
    assert "Slow approvals." in response.content.decode()
    assert not Feedback.objects.exists()


def test_feedback_refuses_an_sla_of_another_engagement(
    as_user, engagement, client_manager, foreign_engagement
):
    foreign = SLAFactory(engagement=foreign_engagement)
    response = as_user(client_manager).post(
        url("feedback-create", engagement),
        {"kind": "appreciation", "text": "Thanks.", "sla": foreign.pk},
    )
    assert response.status_code == 400
    assert "sla" in response.context["form"].errors
    assert not Feedback.objects.exists()


def test_feedback_links_an_sla_of_the_engagement(as_user, engagement, client_manager, sla, goal):
    as_user(client_manager).post(
        url("feedback-create", engagement),
        {"kind": "appreciation", "text": "Thanks.", "sla": sla.pk, "goal": goal.pk},
    )
    feedback = Feedback.objects.get()
    assert (feedback.sla, feedback.goal) == (sla, goal)


# ---------------------------------------------------------------- issues
ISSUE = {
    "title": "Missed release window",
    "severity": "high",
    "responsible_side": "provider",
    "detected_at": "2026-01-05T09:00",
    "raised_at": "2026-01-05T11:00",
}


def test_issue_responsible_side_is_chosen_and_raised_by_side_derived(
    as_user, engagement, client_manager
):
    response = as_user(client_manager).post(
        url("issue-create", engagement), {**ISSUE, "raised_by_side": "provider"}
    )
    assert response.status_code == 302
    issue = Issue.objects.get()
    assert (issue.responsible_side, issue.raised_by_side) == ("provider", "client")


def test_issue_raised_before_detected_is_refused(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        url("issue-create", engagement), {**ISSUE, "raised_at": "2026-01-05T08:00"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["raised_at"] == [
        "An issue cannot be raised before it was detected."
    ]
    assert "Missed release window" in response.content.decode()
    assert not Issue.objects.exists()


def test_issue_unknown_side_is_a_field_error(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        url("issue-create", engagement), {**ISSUE, "responsible_side": "both"}
    )
    assert response.status_code == 400
    assert "responsible_side" in response.context["form"].errors


# ---------------------------------------------------------------- action items
def test_action_item_added_for_the_other_side(
    as_user, engagement, client_manager, provider_manager
):
    response = as_user(client_manager).post(
        url("action-item-create", engagement),
        {
            "owner_side": "provider",
            "owner": provider_manager.pk,
            "description": "Share the release calendar.",
            "due_date": "2026-02-01",
        },
    )
    assert response.status_code == 302
    item = ActionItem.objects.get()
    assert (item.owner_side, item.owner, item.created_by) == (
        "provider",
        provider_manager,
        client_manager,
    )


def test_action_item_owner_must_belong_to_the_owner_side(
    as_user, engagement, client_manager, provider_manager
):
    response = as_user(client_manager).post(
        url("action-item-create", engagement),
        {
            "owner_side": "client",
            "owner": provider_manager.pk,
            "description": "Share the release calendar.",
            "due_date": "2026-02-01",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["owner"] == ["Choose a person of the client side."]
    assert not ActionItem.objects.exists()


def test_action_item_refuses_an_owner_outside_the_engagement(
    as_user, engagement, client_manager, outsider
):
    response = as_user(client_manager).post(
        url("action-item-create", engagement),
        {
            "owner_side": "client",
            "owner": outsider.pk,
            "description": "x",
            "due_date": "2026-02-01",
        },
    )
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors


def test_owner_side_completes_its_action_item(as_user, engagement, provider_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    response = as_user(provider_manager).post(reverse("action-item-complete", args=[item.pk]))
    assert response.status_code == 302
    assert response["Location"] == detail(engagement)
    item.refresh_from_db()
    assert item.completed_at is not None


def test_other_side_cannot_complete_an_action_item(as_user, engagement, client_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    response = as_user(client_manager).post(reverse("action-item-complete", args=[item.pk]))
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.completed_at is None


def test_completing_twice_shows_an_error_message(as_user, engagement, provider_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    client = as_user(provider_manager)
    client.post(reverse("action-item-complete", args=[item.pk]))
    response = client.post(reverse("action-item-complete", args=[item.pk]), follow=True)
    assert "already completed" in response.content.decode()


@pytest.mark.parametrize("who, status", [("provider_viewer", 403), ("outsider", 404)])
def test_action_item_complete_refused(as_user, engagement, request, who, status):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    user = request.getfixturevalue(who)
    assert as_user(user).post(reverse("action-item-complete", args=[item.pk])).status_code == status
    item.refresh_from_db()
    assert item.completed_at is None


def test_action_item_complete_takes_post_only(as_user, engagement, provider_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    assert (
        as_user(provider_manager).get(reverse("action-item-complete", args=[item.pk])).status_code
        == 405
    )


def test_unknown_user_ids_do_not_crash(as_user, engagement, client_manager):
    response = as_user(client_manager).post(
        url("checkin-create", engagement), {**CHECKIN, "attendee_users": ["abc", "999999"]}
    )
    assert response.status_code == 400
    assert "attendee_users" in response.context["form"].errors


def test_action_item_follows_up_a_checkin_of_the_engagement(
    as_user, engagement, client_manager, foreign_engagement
):
    own, foreign = (
        CheckInFactory(engagement=engagement),
        CheckInFactory(engagement=foreign_engagement),
    )
    item = {"owner_side": "client", "description": "Send minutes.", "due_date": "2026-02-01"}
    client = as_user(client_manager)
    response = client.post(url("action-item-create", engagement), {**item, "checkin": foreign.pk})
    assert response.status_code == 400
    assert "checkin" in response.context["form"].errors
    client.post(url("action-item-create", engagement), {**item, "checkin": own.pk})
    assert ActionItem.objects.get().checkin == own


def test_checkin_form_starts_at_now_in_the_engagement_time_zone(
    as_user, engagement, client_manager
):
    engagement.time_zone = "Asia/Tokyo"
    engagement.save()
    response = as_user(client_manager).get(url("checkin-create", engagement))
    now = timezone.localtime(timezone.now(), engagement.tz)
    assert f'value="{now:%Y-%m-%dT%H}' in response.content.decode()


@pytest.mark.parametrize(
    "name", ["checkin-create", "pulse-survey", "engagement-accept", "measurement-upload"]
)
def test_csrf_is_enforced_on_every_engagement_form(engagement, client_admin, name):
    client = Client(enforce_csrf_checks=True)
    client.login(username=client_admin.username, password=PASSWORD)
    assert client.post(url(name, engagement), {}).status_code == 403


def test_csrf_is_enforced_on_invitations(client_org, client_admin):
    client = Client(enforce_csrf_checks=True)
    client.login(username=client_admin.username, password=PASSWORD)
    response = client.post(
        reverse("invitation-list", args=[client_org.pk]), {"email": "a@example.com"}
    )
    assert response.status_code == 403
    assert client.post(reverse("engagement-propose"), {}).status_code == 403
