"""Raising notices, and a member's own settings (PRODUCT.md §9).

`notice_raise` is the one way anything becomes a notice: the receivers of the events the
apps below announce (notices/receivers.py), the daily scans (notices/scans.py), and any
feature above scorecards that has something to tell a side.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.queue import send_on_commit
from notices.models import Channel, Kind, Notice, Preference, Profile, default_channel
from relationships.models import Engagement, Membership, Side, validate_time_zone


def _members_with_role(engagement: Engagement, user_ids=None) -> dict[int, tuple[str, str]]:
    """user id → (side, role) of the engagement's members; one who belongs to both
    parties acts for the client, as Engagement.access_for decides."""
    memberships = Membership.objects.filter(
        organization_id__in=[engagement.client_id, engagement.provider_id]
    )
    if user_ids is not None:
        memberships = memberships.filter(user_id__in=user_ids)
    found: dict[int, tuple[str, str]] = {}
    for user_id, organization_id, role in memberships.values_list(
        "user_id", "organization_id", "role"
    ):
        side = engagement.side_of_organization(organization_id)
        if side == Side.CLIENT or user_id not in found:
            found[user_id] = (side, role)
    return found


def channels_for(engagement: Engagement, kind: str, roles: dict[int, str]) -> dict[int, str]:
    """The channel of each member (id → role) for one kind on one engagement: their choice for
    the engagement, else their choice for all engagements, else their role's default."""
    chosen: dict[int, dict] = {}
    for user_id, engagement_id, channel in Preference.objects.filter(
        Q(engagement_id=engagement.pk) | Q(engagement__isnull=True),
        user_id__in=list(roles),
        kind=kind,
    ).values_list("user_id", "engagement_id", "channel"):
        chosen.setdefault(user_id, {})[engagement_id] = channel
    return {
        user_id: chosen.get(user_id, {}).get(engagement.pk)
        or chosen.get(user_id, {}).get(None)
        or default_channel(kind, role)
        for user_id, role in roles.items()
    }


def notice_raise(
    *,
    kind: str,
    engagement: Engagement,
    key: str,
    subject: str,
    link: str,
    body: str = "",
    sides: Iterable[str] = (Side.CLIENT, Side.PROVIDER),
    recipients: Iterable[int] | None = None,
    data: dict | None = None,
) -> int:
    """Tell the members of `sides` of the engagement (or only `recipients`, user ids, among
    its members) of something. `key` names the event: raising it again reaches nobody twice.
    Notices chosen "e-mail at once" are sent after the caller's transaction commits.
    Returns how many members it reached for the first time."""
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Unknown kind of notice: {kind}."})
    sides = set(sides)
    members = _members_with_role(engagement, None if recipients is None else list(recipients))
    roles = {user_id: role for user_id, (side, role) in members.items() if side in sides}
    if not roles:
        return 0
    channels = channels_for(engagement, kind, roles)
    now = timezone.now()
    before = set(
        Notice.objects.filter(key=key, user_id__in=list(roles)).values_list("user_id", flat=True)
    )
    Notice.objects.bulk_create(
        [
            Notice(
                user_id=user_id,
                engagement=engagement,
                kind=kind,
                key=key[:200],
                subject=subject[:200],
                body=body[:2000],
                link=link[:500],
                data=data or {},
                channel=channels[user_id],
                created_at=now,
            )
            for user_id in roles
            if user_id not in before
        ],
        ignore_conflicts=True,
    )
    to_mail = list(
        Notice.objects.filter(
            key=key[:200],
            user_id__in=list(roles),
            channel=Channel.IMMEDIATE,
            emailed_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    if to_mail:
        from notices.tasks import notice_email_task

        for pk in to_mail:  # unsent with the broker down: notices.email_pending sends it
            send_on_commit(notice_email_task, notice_id=pk)
    return len(set(roles) - before)


# ---------------------------------------------------------------- a member's settings
@dataclass(frozen=True)
class PreferenceEntry:
    engagement: Engagement | None
    kind: str
    channel: str | None  # None: as for all engagements (or the role's default)


def roles_of(user) -> set[str]:
    """The member's roles in their organisations: what their defaults follow."""
    return set(Membership.objects.filter(user_id=user.pk).values_list("role", flat=True))


def profile_of(user) -> Profile:
    """The member's profile; an unsaved one with the defaults until they save theirs."""
    return Profile.objects.filter(user_id=user.pk).first() or Profile(user=user)


def preferences_of(user) -> list[Preference]:
    """The member's choices (for all engagements first), engagements they still see only."""
    return list(
        Preference.objects.filter(user=user)
        .filter(Q(engagement__isnull=True) | Q(engagement__in=Engagement.objects.visible_to(user)))
        .select_related("engagement")
        .order_by(F("engagement_id").asc(nulls_first=True), "kind")
    )


@transaction.atomic
def preferences_set(*, user, entries: Iterable[PreferenceEntry], time_zone: str | None = None):
    """Set the member's time zone and their channel per kind (for one engagement, or for all);
    a channel of None removes the choice."""
    entries = list(entries)
    visible = set(Engagement.objects.visible_to(user).values_list("pk", flat=True))
    for entry in entries:
        if entry.kind not in Kind.values:
            raise ValidationError({"kind": f"Unknown kind of notice: {entry.kind}."})
        if entry.channel is not None and entry.channel not in Channel.values:
            raise ValidationError({"channel": f"Unknown channel: {entry.channel}."})
        if entry.engagement is not None and entry.engagement.pk not in visible:
            raise ValidationError({"engagement": "You are not a member of this engagement."})
    if time_zone is not None:
        try:
            validate_time_zone(time_zone)
        except ValidationError as error:
            raise ValidationError({"time_zone": error.messages}) from None
        Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    for entry in entries:
        existing = Preference.objects.filter(
            user=user, engagement=entry.engagement, kind=entry.kind
        )
        if entry.channel is None:
            existing.delete()
        elif not existing.update(channel=entry.channel):
            Preference.objects.create(
                user=user, engagement=entry.engagement, kind=entry.kind, channel=entry.channel
            )


@transaction.atomic
def notices_unsubscribe(*, user, what: str) -> list[str]:
    """The one-click link of every e-mail. `what` is a kind of notice: no more e-mail of it,
    inbox only, for all engagements. Or a digest ("daily", "weekly"): every kind that went
    to it goes to the inbox only. Returns the kinds changed."""
    if what in Kind.values:
        kinds = [what]
    else:
        roles = roles_of(user)
        chosen = dict(
            Preference.objects.filter(user=user, engagement__isnull=True).values_list(
                "kind", "channel"
            )
        )
        kinds = [
            kind
            for kind in Kind.values
            if chosen.get(kind) == what
            or (kind not in chosen and any(default_channel(kind, r) == what for r in roles))
            or Preference.objects.filter(user=user, kind=kind, channel=what).exists()
        ]
    Preference.objects.filter(user=user, kind__in=kinds, engagement__isnull=False).delete()
    preferences_set(user=user, entries=[PreferenceEntry(None, k, Channel.INBOX) for k in kinds])
    return kinds


def notices_mark_read(*, user, notice_ids: Iterable[int] | None = None) -> int:
    """Mark the member's notices read (all of them without ids); others' are not touched."""
    unread = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        unread = unread.filter(pk__in=list(notice_ids))
    return unread.update(read_at=timezone.now())
