"""A check-in invitation as iCalendar (METHOD:REQUEST) and the e-mail carrying it.

Each attendee gets the same event (one UID per invitation, so a calendar that receives it
again updates it) and a text giving every attendee's local time. The event's link opens the
check-in form filled in with the meeting's time and attendees, to log it afterwards.
"""

from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from core import links
from feedback.models import CheckInInvitation
from relationships.models import KeyContact
from relationships.people import person_name


def contact_address(contact: KeyContact) -> str:
    """Where a contact's invitation goes: their own e-mail, else their account's."""
    return contact.email or (contact.user.email if contact.user else "")


def log_link(invitation: CheckInInvitation) -> str:
    """The check-in form, filled in from this invitation."""
    path = reverse("checkin-create", args=[invitation.engagement_id])
    return f"{links.site_url()}{path}?invitation={invitation.pk}"


def _local(moment: datetime, contact: KeyContact) -> datetime:
    return timezone.localtime(moment, contact.tz)


def local_times(invitation: CheckInInvitation, contacts: list[KeyContact]) -> list[str]:
    """One line per attendee: their name, side, zone and the meeting in their own time."""
    lines = []
    for contact in contacts:
        start, end = _local(invitation.starts_at, contact), _local(invitation.ends_at, contact)
        lines.append(
            f"{contact.name} ({contact.side}, {contact.time_zone}): "
            f"{start:%A %-d %B %Y, %H:%M}–{end:%H:%M} {start:%Z}"
        )
    return lines


def _text(invitation: CheckInInvitation, contacts: list[KeyContact]) -> str:
    engagement = invitation.engagement
    inviter = person_name(invitation.sent_by)
    when = "\n".join(f"- {line}" for line in local_times(invitation, contacts))
    return (
        f"{inviter} invites you to a check-in of {engagement.name} "
        f"({engagement.client.name}, client, and {engagement.provider.name}, provider).\n\n"
        f"When, in each attendee's own time:\n{when}\n\n"
        f"After the meeting, log it in Accord (time and attendees filled in):\n"
        f"{log_link(invitation)}\n"
    )


def subject(invitation: CheckInInvitation) -> str:
    return f"Check-in: {invitation.engagement.name}"


def invitation_calendar(invitation: CheckInInvitation, contacts: list[KeyContact]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Accord//Check-in invitations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"{invitation.uid}@accord")
    event.add("dtstamp", invitation.created_at)
    event.add("dtstart", invitation.starts_at)
    event.add("dtend", invitation.ends_at)
    event.add("sequence", 0)
    event.add("summary", subject(invitation))
    event.add("description", _text(invitation, contacts))
    event.add("url", log_link(invitation))
    organizer = vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["cn"] = vText("Accord")
    event.add("organizer", organizer)
    for contact in contacts:
        attendee = vCalAddress(f"mailto:{contact_address(contact)}")
        attendee.params.update(
            {"cn": vText(contact.name), "role": "REQ-PARTICIPANT", "partstat": "NEEDS-ACTION"}
        )
        attendee.params["rsvp"] = "TRUE"
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()


def invitation_messages(invitation: CheckInInvitation) -> list[EmailMessage]:
    """One e-mail per attendee, each with the text and the .ics."""
    contacts = list(invitation.attendee_contacts.select_related("user", "engagement"))
    body, ics = _text(invitation, contacts), invitation_calendar(invitation, contacts)
    messages = []
    for contact in contacts:
        message = EmailMessage(
            subject=subject(invitation), body=body, to=[contact_address(contact)]
        )
        message.attach("check-in.ics", ics, "text/calendar; method=REQUEST; charset=UTF-8")
        messages.append(message)
    return messages


def invitations_unsent() -> list[int]:
    """Invitations of check-ins still ahead that no task has sent (the broker was down)."""
    return list(
        CheckInInvitation.objects.filter(sent_at__isnull=True, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .values_list("pk", flat=True)[:1000]
    )


def invitation_send(*, invitation_id: int) -> int:
    """Send an invitation not yet sent: claimed by a conditional UPDATE, so a repeated or
    concurrent task sends nothing; released again if sending fails, for the retry."""
    now = timezone.now()
    claimed = CheckInInvitation.objects.filter(pk=invitation_id, sent_at__isnull=True).update(
        sent_at=now
    )
    if not claimed:
        return 0
    invitation = CheckInInvitation.objects.select_related(
        "engagement__client", "engagement__provider", "sent_by"
    ).get(pk=invitation_id)
    try:
        return get_connection().send_messages(invitation_messages(invitation)) or 0
    except Exception:
        CheckInInvitation.objects.filter(pk=invitation_id, sent_at=now).update(sent_at=None)
        raise
