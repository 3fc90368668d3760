"""Key contacts' time zone and working hours: set on the dashboard and through the API,
bad input refused with nothing changed."""

from datetime import date, time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from relationships.models import KeyContact
from tests.factories import EngagementFactory, KeyContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(engagement):
    engagement.time_zone = "Europe/Berlin"
    engagement.save(update_fields=["time_zone"])
    return KeyContactFactory(engagement=engagement, side="provider", name="Ravi Kolkata")


def hours_url(contact):
    return reverse("key-contact-hours", args=[contact.engagement_id, contact.pk])


def test_a_contact_takes_the_engagements_zone_and_a_nine_to_five_day_by_default(contact):
    assert (contact.time_zone, contact.work_starts, contact.work_ends) == (
        "Europe/Berlin",
        time(9),
        time(17),
    )


def test_a_manager_sets_a_contacts_working_hours(client, provider_manager, contact):
    client.force_login(provider_manager)
    page = client.get(hours_url(contact)).content.decode()
    assert 'value="Europe/Berlin"' in page and 'type="time"' in page
    response = client.post(
        hours_url(contact),
        {"time_zone": "Asia/Kolkata", "work_starts": "10:00", "work_ends": "18:00"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.time_zone, contact.work_starts, contact.work_ends) == (
        "Asia/Kolkata",
        time(10),
        time(18),
    )
    html = client.get(contact.engagement.get_absolute_url()).content.decode()
    assert "works 10:00–18:00 Asia/Kolkata" in html


@pytest.mark.parametrize(
    "data, field",
    [
        ({"time_zone": "Mars/Olympus", "work_starts": "09:00", "work_ends": "17:00"}, "time_zone"),
        ({"time_zone": "Asia/Kolkata", "work_starts": "18:00", "work_ends": "10:00"}, None),
        (
            {"time_zone": "Asia/Kolkata", "work_starts": "25:00", "work_ends": "18:00"},
            "work_starts",
        ),
        (
            {"time_zone": "Asia/Kolkata", "work_starts": "١٠:00", "work_ends": "18:00"},
            "work_starts",
        ),
    ],
)
def test_bad_working_hours_are_refused_and_nothing_changes(
    client, provider_manager, contact, data, field
):
    client.force_login(provider_manager)
    response = client.post(hours_url(contact), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field or "__all__")
    contact.refresh_from_db()
    assert (contact.time_zone, contact.work_starts, contact.work_ends) == (
        "Europe/Berlin",
        time(9),
        time(17),
    )


def test_viewers_and_other_engagements_cannot_set_hours(
    client, client_viewer, provider_manager, contact
):
    client.force_login(client_viewer)
    assert client.post(hours_url(contact), {"time_zone": "UTC"}).status_code == 403
    elsewhere = KeyContactFactory(engagement=EngagementFactory())
    client.force_login(provider_manager)
    url = reverse("key-contact-hours", args=[contact.engagement_id, elsewhere.pk])
    assert client.get(url).status_code == 404


def test_a_new_contact_is_named_with_their_zone_and_hours(client, provider_manager, contact):
    client.force_login(provider_manager)
    response = client.post(
        reverse("key-contact-change", args=[contact.engagement_id]),
        {
            "side": "client",
            "role": "delivery_lead",
            "name": "Anna Berlin",
            "start_date": "2026-02-01",
            "time_zone": "America/New_York",
            "work_starts": "08:30",
            "work_ends": "16:30",
        },
    )
    assert response.status_code == 302
    anna = KeyContact.objects.get(name="Anna Berlin")
    assert (anna.time_zone, anna.work_starts, anna.work_ends) == (
        "America/New_York",
        time(8, 30),
        time(16, 30),
    )


# ---------------------------------------------------------------- API
@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def test_the_api_reads_and_writes_zone_and_hours(api, provider_manager, contact):
    client = api(provider_manager)
    created = client.post(
        "/api/v1/contacts/",
        {
            "engagement": contact.engagement_id,
            "side": "client",
            "role": "delivery_lead",
            "name": "Anna Berlin",
            "start_date": "2026-02-01",
            "time_zone": "Europe/Berlin",
            "work_starts": "08:00",
            "work_ends": "16:00",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["time_zone"], created.json()["work_starts"]) == (
        "Europe/Berlin",
        "08:00",
    )
    changed = client.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"time_zone": "Asia/Kolkata", "work_starts": "10:00", "work_ends": "18:00"},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    contact.refresh_from_db()
    assert (contact.time_zone, contact.work_ends) == ("Asia/Kolkata", time(18))


def test_a_contact_created_without_a_zone_gets_the_engagements(api, provider_manager, contact):
    response = api(provider_manager).post(
        "/api/v1/contacts/",
        {
            "engagement": contact.engagement_id,
            "side": "client",
            "role": "delivery_lead",
            "name": "Anna Berlin",
            "start_date": date(2026, 2, 1).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["time_zone"] == "Europe/Berlin"
    assert (response.json()["work_starts"], response.json()["work_ends"]) == (
        "09:00",
        "17:00",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"time_zone": "Mars/Olympus"},
        {"work_starts": "18:00", "work_ends": "10:00"},
        {"work_ends": "08:00"},
        {"work_starts": "nine"},
    ],
)
def test_the_api_refuses_bad_zones_and_hours_and_changes_nothing(
    api, provider_manager, contact, body
):
    response = api(provider_manager).patch(f"/api/v1/contacts/{contact.pk}/", body, format="json")
    assert response.status_code == 400
    contact.refresh_from_db()
    assert (contact.time_zone, contact.work_starts, contact.work_ends) == (
        "Europe/Berlin",
        time(9),
        time(17),
    )
