"""Planning a check-in across time zones on the dashboard: the proposal on the engagement
page, the invitation (.ics by e-mail, each attendee's local time) and its link back to the
check-in form, filled in."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

import icalendar
import pytest
from django.core import mail
from django.urls import reverse

from feedback.models import CheckIn, CheckInInvitation
from feedback.tasks import send_checkin_invitation
from tests.factories import EngagementFactory, KeyContactFactory

pytestmark = pytest.mark.django_db

# Wednesday 25 March 2026, 06:00 UTC: Berlin is on CET (UTC+1) until Sunday the 29th.
NOW = datetime(2026, 3, 25, 6, 0, tzinfo=UTC)
FIRST_SLOT = datetime(2026, 3, 25, 8, 0, tzinfo=UTC)  # 09:00 Berlin, 13:30 Kolkata


@pytest.fixture
def clock():
    with mock.patch("django.utils.timezone.now", return_value=NOW) as now:
        yield now


def plan_url(engagement):
    return reverse("checkin-plan", args=[engagement.pk])


def invite(client, engagement, contacts, slot=FIRST_SLOT):
    data = {"starts_at": slot.isoformat(), "attendee_contacts": [c.pk for c in contacts]}
    return client.post(plan_url(engagement), data)


def test_the_engagement_page_proposes_slots_in_both_sides_local_time(
    client, clock, provider_manager, engagement, contacts
):
    client.force_login(provider_manager)
    html = client.get(engagement.get_absolute_url()).content.decode()
    proposal = html[html.index('id="next-checkin"') :]
    for local, zone in [
        ("Wed 25 Mar, 09:00", "Europe/Berlin"),
        ("Wed 25 Mar, 13:30", "Asia/Kolkata"),
    ]:
        assert f'<strong>{local}</strong> <span class="small muted">{zone}' in proposal
    assert f"?slot={FIRST_SLOT.isoformat().replace(':', '%3A').replace('+', '%2B')}" in proposal
    assert "works 10:00–18:00 Asia/Kolkata" in html


def test_choosing_a_slot_mails_an_ics_invitation_with_each_attendees_local_time(
    client, clock, provider_manager, engagement, contacts, django_capture_on_commit_callbacks
):
    client.force_login(provider_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, engagement, contacts)
    assert response.status_code == 302
    invitation = CheckInInvitation.objects.get()
    assert (invitation.starts_at, invitation.ends_at) == (
        FIRST_SLOT,
        FIRST_SLOT + timedelta(minutes=30),
    )
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@client.test", "ravi@provider.test"]
    message = mail.outbox[0]
    assert message.subject == "Check-in: Service desk"
    assert (
        "Anna Berlin (client, Europe/Berlin): Wednesday 25 March 2026, 09:00–09:30 CET"
        in message.body
    )
    assert (
        "Ravi Kolkata (provider, Asia/Kolkata): Wednesday 25 March 2026, 13:30–14:00 IST"
        in message.body
    )
    [(name, ics, mimetype)] = message.attachments
    assert (name, mimetype) == ("check-in.ics", "text/calendar; method=REQUEST; charset=UTF-8")
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{invitation.uid}@accord"
    assert event.decoded("DTSTART") == FIRST_SLOT
    assert event.decoded("DTEND") == FIRST_SLOT + timedelta(minutes=30)
    assert event.decoded("DTSTART").astimezone(contacts[1].tz).strftime("%H:%M") == "13:30"
    assert sorted(str(a) for a in event["ATTENDEE"]) == [
        "mailto:anna@client.test",
        "mailto:ravi@provider.test",
    ]
    # Every attendee receives the same event: one UID, so calendars update rather than add.
    uids = {
        str(icalendar.Calendar.from_ical(m.attachments[0][1]).walk("VEVENT")[0]["UID"])
        for m in mail.outbox
    }
    assert uids == {f"{invitation.uid}@accord"}
    assert str(event["URL"]) in message.body


def test_the_invitation_is_sent_once_even_when_its_task_runs_again(
    client, clock, provider_manager, engagement, contacts, django_capture_on_commit_callbacks
):
    client.force_login(provider_manager)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, engagement, contacts)
    assert len(mail.outbox) == 2
    assert send_checkin_invitation(CheckInInvitation.objects.get().pk) == 0
    assert len(mail.outbox) == 2


def test_an_invitation_the_broker_could_not_take_is_made_and_sent_by_the_sweep(
    client, clock, provider_manager, engagement, contacts, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from feedback.tasks import send_unsent_checkin_invitations

    client.force_login(provider_manager)
    refused = OperationalError("Connection refused")
    with (
        mock.patch.object(send_checkin_invitation, "apply_async", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = invite(client, engagement, contacts)
    assert response.status_code == 302  # the user's choice is kept, not a 500
    assert mail.outbox == [] and CheckInInvitation.objects.get().sent_at is None
    # The beat's sweep, once the broker is back: sent once, and not again.
    assert send_unsent_checkin_invitations() == 1
    assert len(mail.outbox) == 2
    assert send_unsent_checkin_invitations() == 0 and len(mail.outbox) == 2


def test_the_invitations_link_opens_the_check_in_form_filled_in_after_the_meeting(
    client, clock, provider_manager, engagement, contacts, django_capture_on_commit_callbacks
):
    client.force_login(provider_manager)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, engagement, contacts)
    link = re.search(r"http://\S+\?invitation=\d+", mail.outbox[0].body)[0]
    clock.return_value = FIRST_SLOT + timedelta(hours=1)
    parts = urlsplit(link)
    form = client.get(f"{parts.path}?{parts.query}").context["form"]
    assert form["occurred_at"].value() == datetime(2026, 3, 25, 9, 0)  # Berlin, the page's zone
    assert 'value="2026-03-25T09:00"' in form["occurred_at"].as_widget()
    assert sorted(form["attendee_contacts"].value()) == sorted(c.pk for c in contacts)


@pytest.mark.parametrize(
    "change",
    [
        {"starts_at": "2026-03-25T03:00:00+00:00"},  # not proposed: before Berlin's day
        {"starts_at": "tomorrow"},
        {"attendee_contacts": []},
        {"attendee_contacts": ["999999"]},
    ],
)
def test_bad_plans_are_refused_and_nothing_is_sent(
    client, clock, provider_manager, engagement, contacts, change
):
    client.force_login(provider_manager)
    data = {"starts_at": FIRST_SLOT.isoformat(), "attendee_contacts": [c.pk for c in contacts]}
    response = client.post(plan_url(engagement), {**data, **change})
    assert response.status_code == 400
    assert not CheckInInvitation.objects.exists()
    assert mail.outbox == []


def test_a_contact_of_another_engagement_or_without_an_address_cannot_be_invited(
    client, clock, provider_manager, engagement, contacts
):
    client.force_login(provider_manager)
    stranger = KeyContactFactory(engagement=EngagementFactory(), email="x@elsewhere.test")
    response = invite(client, engagement, [contacts[0], stranger])
    assert response.status_code == 400
    contacts[1].email = ""
    contacts[1].save()
    response = invite(client, engagement, contacts)
    assert response.status_code == 400
    assert "No e-mail address for Ravi Kolkata." in response.content.decode()
    assert not CheckInInvitation.objects.exists()


def test_viewers_cannot_send_invitations(client, clock, client_viewer, engagement, contacts):
    client.force_login(client_viewer)
    assert client.get(plan_url(engagement)).status_code == 403
    assert invite(client, engagement, contacts).status_code == 403
    assert not CheckInInvitation.objects.exists()


def test_logging_the_check_in_from_the_link_records_it(
    client, clock, provider_manager, engagement, contacts, django_capture_on_commit_callbacks
):
    client.force_login(provider_manager)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, engagement, contacts)
    clock.return_value = FIRST_SLOT + timedelta(hours=1)
    invitation = CheckInInvitation.objects.get()
    url = reverse("checkin-create", args=[engagement.pk]) + f"?invitation={invitation.pk}"
    response = client.post(
        url,
        {
            "occurred_at": "2026-03-25T09:00",
            "kind": "sync",
            "attendee_contacts": [c.pk for c in contacts],
        },
    )
    assert response.status_code == 302
    checkin = CheckIn.objects.get()
    assert checkin.occurred_at == FIRST_SLOT
    assert set(checkin.attendee_contacts.all()) == set(contacts)
