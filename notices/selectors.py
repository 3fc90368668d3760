"""Reads of the inbox the pages, the header and the API share."""

from notices.models import Notice
from relationships.models import Engagement


def inbox_of(user):
    """The member's notices about engagements they can still see, newest first."""
    return Notice.objects.filter(
        user_id=user.pk, engagement__in=Engagement.objects.visible_to(user)
    ).select_related("engagement")


def unread_count(user) -> int:
    return inbox_of(user).filter(read_at__isnull=True).count()
