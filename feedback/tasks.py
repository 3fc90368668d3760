"""Celery tasks of the feedback app: small wrappers taking ids, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

from feedback.invitations import invitation_send, invitations_unsent


@shared_task(
    name="feedback.send_checkin_invitation",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    max_retries=5,
)
def send_checkin_invitation(invitation_id: int) -> int:
    """E-mail a check-in invitation to its attendees; a second run sends nothing."""
    return invitation_send(invitation_id=invitation_id)


@shared_task(name="feedback.send_unsent_checkin_invitations")
def send_unsent_checkin_invitations() -> int:
    """Beat, every few minutes: invitations the broker could not take when they were made."""
    unsent = invitations_unsent()
    for invitation_id in unsent:
        send_checkin_invitation.delay(invitation_id)
    return len(unsent)
