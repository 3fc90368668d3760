"""Check-ins with follow-up action items typed inline (up to three rows, blank rows skipped)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from feedback.forms import FOLLOW_UP_ROWS, CheckInForm
from feedback.models import ActionItem, CheckIn
from relationships.forms import add_service_errors

pytestmark = pytest.mark.django_db

CHECKIN = {"occurred_at": "2026-01-05T10:00", "kind": "sync", "notes": "Walked the backlog."}
MANAGEMENT = {"action_items-TOTAL_FORMS": str(FOLLOW_UP_ROWS), "action_items-INITIAL_FORMS": "0"}


def row(index, **fields):
    return {f"action_items-{index}-{name}": value for name, value in fields.items()}


def url(engagement):
    return reverse("checkin-create", args=[engagement.pk])


def test_checkin_with_two_follow_ups_and_a_blank_row(as_user, engagement, client_manager):
    data = {
        **CHECKIN,
        **MANAGEMENT,
        **row(0, owner_side="client", description="Send the forecast", due_date="2026-01-12"),
        **row(1, owner_side="", description="", due_date=""),
        **row(
            2,
            owner_side="provider",
            owner="",
            description="Share the runbook",
            due_date="2026-01-19",
        ),
    }
    response = as_user(client_manager).post(url(engagement), data)
    assert response.status_code == 302
    checkin = CheckIn.objects.get()
    items = checkin.action_items.order_by("due_date")
    assert [(a.owner_side, a.description) for a in items] == [
        ("client", "Send the forecast"),
        ("provider", "Share the runbook"),
    ]
    html = as_user(client_manager).get(response["Location"]).content.decode()
    assert "2 follow-up actions" in html


def test_checkin_without_rows_still_works(as_user, engagement, client_manager):
    assert (
        as_user(client_manager).post(url(engagement), {**CHECKIN, **MANAGEMENT}).status_code == 302
    )
    assert CheckIn.objects.count() == 1
    assert not ActionItem.objects.exists()


def test_half_filled_row_is_an_error_on_that_row_and_nothing_is_saved(
    as_user, engagement, client_manager
):
    data = {
        **CHECKIN,
        **MANAGEMENT,
        **row(1, owner_side="client", description="Call the sponsor", due_date=""),
    }
    response = as_user(client_manager).post(url(engagement), data)
    assert response.status_code == 400
    rows = response.context["form"].follow_ups
    assert "due_date" in rows[1].errors
    assert not rows[0].errors
    html = response.content.decode()
    assert 'id="id_action_items-1-due_date_error"' in html
    assert "Call the sponsor" in html  # what was typed is kept
    assert not CheckIn.objects.exists()
    assert not ActionItem.objects.exists()


def test_owner_of_the_wrong_side_is_refused_on_the_row(
    as_user, engagement, client_manager, provider_manager
):
    data = {
        **CHECKIN,
        **MANAGEMENT,
        **row(
            0,
            owner_side="client",
            owner=str(provider_manager.pk),
            description="X",
            due_date="2026-01-12",
        ),
    }
    response = as_user(client_manager).post(url(engagement), data)
    assert response.status_code == 400
    assert "client side" in " ".join(response.context["form"].follow_ups[0].errors["owner"])
    assert not CheckIn.objects.exists()


def test_more_rows_than_offered_are_refused(as_user, engagement, client_manager):
    data = {**CHECKIN, "action_items-TOTAL_FORMS": "50", "action_items-INITIAL_FORMS": "0"}
    for index in range(50):
        data.update(row(index, owner_side="client", description="x", due_date="2026-01-12"))
    response = as_user(client_manager).post(url(engagement), data)
    assert response.status_code == 400
    assert not CheckIn.objects.exists()


def test_service_errors_of_a_follow_up_go_to_its_row(engagement):
    data = {
        **CHECKIN,
        **MANAGEMENT,
        **row(0, owner_side="client", description="First", due_date="2026-01-12"),
        **row(2, owner_side="client", description="Second", due_date="2026-01-12"),
    }
    form = CheckInForm(data, engagement=engagement)
    assert form.is_valid()
    add_service_errors(
        form, ValidationError({"action_items[1].due_date": ["Too late."], "notes": ["Odd."]})
    )
    # The service's second item is the third row: the blank middle row was skipped.
    assert form.follow_ups[2].errors["due_date"] == ["Too late."]
    assert not form.follow_ups[0].errors
    assert form.errors["notes"] == ["Odd."]


def test_engagement_page_offers_the_follow_up_rows(as_user, engagement, client_manager):
    # The check-in form as the engagement page loads it (its ids prefixed "checkin_").
    html = (
        as_user(client_manager)
        .get(reverse("checkin-create", args=[engagement.pk]) + "?form=checkin")
        .content.decode()
    )
    assert 'name="action_items-TOTAL_FORMS"' in html
    assert 'id="checkin_action_items-2-description"' in html
    assert "Follow-up action item 3" in html
