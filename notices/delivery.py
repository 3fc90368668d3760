"""E-mail of notices, at once and in digests (PRODUCT.md §9).

Each send is claimed first by a conditional UPDATE with a lease (`LEASE`): a second worker,
a second beat or a retry finds the row claimed or sent and does nothing; a worker killed
mid-send leaves a claim that expires, and the next beat sends it then. The e-mail's
Message-ID is stable per notice and digest, so the rare copy after a crash between the
SMTP server's "250 OK" and our UPDATE is recognisable as the same message. Access is
checked at send time: a member who can no longer see the engagement hears nothing of it.
"""

import smtplib
from datetime import datetime, time, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from core import links
from notices.models import Channel, Digest, Kind, Notice, Profile
from notices.selectors import inbox_of
from notices.services import channels_for
from relationships.models import Engagement
from relationships.people import person_name
from scorecards.models import Alert
from scorecards.signals import review_email_attachments

LEASE = timedelta(minutes=10)
DIGEST_HOUR = 8
# What each digest gathers: the notices chosen for it (a manager's defaults send alerts,
# reviews and change requests at once and the rest in the weekly digest).
DIGEST_CHANNELS = {
    Digest.Frequency.DAILY: (Channel.DAILY,),
    Digest.Frequency.WEEKLY: (Channel.WEEKLY,),
}
DIGEST_SPAN = {
    Digest.Frequency.DAILY: timedelta(days=1),
    Digest.Frequency.WEEKLY: timedelta(days=7),
}
_UNSUBSCRIBE_SALT = "notices.unsubscribe"


class TemporaryFailure(Exception):
    """The SMTP server said "try again later" (or could not be reached): retry."""


# ---------------------------------------------------------------- unsubscribe links
def unsubscribe_token(user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=_UNSUBSCRIBE_SALT)


def unsubscribe_subject(token: str) -> tuple[int, str] | None:
    """(user id, kind of notice or digest frequency) of a link's token; None for a forged or
    damaged one."""
    try:
        value = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
        user_id, kind = value["u"], value["k"]
    except (signing.BadSignature, KeyError, TypeError):
        return None
    if not isinstance(user_id, int) or kind not in (*Kind.values, *Digest.Frequency.values):
        return None
    return user_id, kind


def unsubscribe_url(user_id: int, kind: str) -> str:
    return links.site_url() + reverse("notice-unsubscribe", args=[unsubscribe_token(user_id, kind)])


# ---------------------------------------------------------------- sending
def _is_temporary(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    # Not reaching the server at all (refused, timed out): it may be back later.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _send(message: EmailMultiAlternatives) -> str:
    """Empty when sent; "refused" when the server refused it for good (no retry helps)."""
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        if _is_temporary(error):
            raise TemporaryFailure(str(error)) from error
        return "refused"
    return ""


def _message_id(what: str, pk: int) -> str:
    host = urlparse(links.site_url()).hostname or "localhost"
    return f"<{what}.{pk}@{host}>"


def _message(*, user, subject: str, template: str, context: dict, kind: str, message_id: str):
    unsubscribe = unsubscribe_url(user.pk, kind)
    context = {
        **context,
        "person": person_name(user),
        "unsubscribe_url": unsubscribe,
        "kind_label": Kind(kind).label if kind in Kind.values else f"the {kind} digest",
        "profile_url": links.site_url() + reverse("notice-profile"),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notices/email/{template}.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": message_id,
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string(f"notices/email/{template}.html", context), "text/html"
    )
    return message


def _skip_reason(notice: Notice) -> str:
    """Why the notice is no longer to be e-mailed, or "" to send it."""
    user, engagement = notice.user, notice.engagement
    if not user.is_active or not user.email:
        return "no address"
    access = engagement.access_for(user)
    if not access.can_read:
        return "no access"
    # Unsubscribed (or changed their mind) since the notice was raised.
    if channels_for(engagement, notice.kind, {user.pk: access.role})[user.pk] != Channel.IMMEDIATE:
        return "preference"
    return ""


def _unsent(now):
    """Notices nobody has e-mailed, skipped or holds a lease on."""
    return Notice.objects.filter(
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - LEASE),
        emailed_at__isnull=True,
        email_skipped="",
    )


def emails_unsent() -> list[int]:
    """The sweep's list: e-mails at once that were never sent (the broker was down when
    their notice was raised, or a worker died holding the lease)."""
    unsent = _unsent(timezone.now()).filter(channel=Channel.IMMEDIATE)
    return list(unsent.values_list("pk", flat=True)[:1000])


def notice_email_send(notice_id: int) -> str:
    """E-mail one notice at once, exactly once. Returns what happened (for logs and tests)."""
    now = timezone.now()
    claimed = _unsent(now).filter(pk=notice_id).update(email_claimed_at=now)
    if not claimed:
        return "claimed or done"
    notice = Notice.objects.select_related("user", "engagement").get(pk=notice_id)
    if reason := _skip_reason(notice):
        Notice.objects.filter(pk=notice_id).update(email_skipped=reason)
        return reason
    message = _message(
        user=notice.user,
        subject=f"[Accord] {notice.subject}",
        template="notice",
        context={
            "notice": notice,
            "engagement": notice.engagement,
            "link_url": links.site_url() + notice.link,
            "why": WHY[notice.kind],
        },
        kind=notice.kind,
        message_id=_message_id("notice", notice.pk),
    )
    if notice.kind == Kind.REVIEW:
        # The review pack (or anything else) may attach files to "a period awaits your review".
        for _, attachments in review_email_attachments.send(
            sender=Notice, engagement=notice.engagement, data=notice.data, user=notice.user
        ):
            for filename, content, mimetype in attachments or ():
                message.attach(filename, content, mimetype)
    try:
        refused = _send(message)
    except TemporaryFailure:
        Notice.objects.filter(pk=notice_id).update(email_claimed_at=None)
        raise
    if refused:
        Notice.objects.filter(pk=notice_id).update(email_skipped=refused)
        return refused
    Notice.objects.filter(pk=notice_id).update(emailed_at=timezone.now())
    return "sent"


WHY = {
    Kind.ALERT: "an alert was raised on an engagement of yours",
    Kind.REVIEW: "a closed period awaits your side's review",
    Kind.CHANGE_REQUEST: "a change request awaits your side's decision",
    Kind.ACTION_ITEM: "an action item you own is due within 3 days or overdue",
    Kind.CHECKIN_CADENCE: "check-ins on an engagement of yours slipped past the agreed cadence",
    Kind.SURVEY: "the survey of a period is open, or closes in 2 days",
}


# ---------------------------------------------------------------- digests
def digest_window(digest: Digest, tz: ZoneInfo) -> tuple[datetime, datetime]:
    end = datetime.combine(digest.date, time(DIGEST_HOUR), tz)
    return end - DIGEST_SPAN[digest.frequency], end


def _zones(user_ids) -> dict[int, ZoneInfo]:
    chosen = dict(Profile.objects.filter(user_id__in=user_ids).values_list("user_id", "time_zone"))
    return {user_id: ZoneInfo(chosen.get(user_id, "UTC")) for user_id in user_ids}


def digests_plan(now: datetime | None = None) -> list[int]:
    """The digests due now: for each member with something to tell, once their local clock
    has passed 08:00 (on Monday for the weekly one), a row for their local date (created
    once: a unique row per member, kind and date). Returns the ids of those not yet sent,
    nor claimed by a live worker, for the caller to enqueue."""
    now = now or timezone.now()
    due = []
    for frequency, channels in DIGEST_CHANNELS.items():
        since = now - DIGEST_SPAN[frequency] - timedelta(days=1)
        user_ids = set(
            Notice.objects.filter(channel__in=channels, created_at__gte=since).values_list(
                "user_id", flat=True
            )
        )
        rows = []
        for user_id, tz in _zones(user_ids).items():
            local = now.astimezone(tz)
            if local.hour < DIGEST_HOUR:
                continue
            if frequency == Digest.Frequency.WEEKLY and local.weekday() != 0:
                continue
            rows.append(Digest(user_id=user_id, frequency=frequency, date=local.date()))
        Digest.objects.bulk_create(rows, ignore_conflicts=True)
        wanted = {(row.user_id, row.date) for row in rows}
        for pk, user_id, day in Digest.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE),
            frequency=frequency,
            user_id__in={user_id for user_id, _ in wanted},
            date__in={day for _, day in wanted},
            sent_at__isnull=True,
            skipped="",
        ).values_list("pk", "user_id", "date"):
            if (user_id, day) in wanted:
                due.append(pk)
    return due


def digest_contents(digest: Digest) -> tuple[list[Notice], list[Alert]]:
    """The notices of the digest's span (engagements the member still sees), and the open
    alerts of their engagements."""
    user = digest.user
    start, end = digest_window(digest, _zones([user.pk])[user.pk])
    notices = list(
        inbox_of(user)
        .filter(
            channel__in=DIGEST_CHANNELS[digest.frequency], created_at__gte=start, created_at__lt=end
        )
        .order_by("engagement__name", "created_at")
    )
    alerts = list(
        Alert.objects.filter(
            engagement__in=Engagement.objects.visible_to(user), resolved_at__isnull=True
        )
        .select_related("engagement")
        .order_by("engagement__name", "-raised_at")[:20]
    )
    return notices, alerts


def digest_send(digest_id: int) -> str:
    """Send one digest, exactly once; never an empty one."""
    now = timezone.now()
    claimed = Digest.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE),
        pk=digest_id,
        sent_at__isnull=True,
        skipped="",
    ).update(claimed_at=now)
    if not claimed:
        return "claimed or done"
    digest = Digest.objects.select_related("user").get(pk=digest_id)
    user = digest.user
    notices, alerts = digest_contents(digest)
    reason = "nothing to tell" if not notices else ("no address" if not user.email else "")
    if reason:
        Digest.objects.filter(pk=digest_id).update(skipped=reason)
        return reason
    title = (
        "Your daily digest" if digest.frequency == Digest.Frequency.DAILY else "Your weekly digest"
    )
    message = _message(
        user=user,
        subject=f"[Accord] {title}: {len(notices)} notice{'s' if len(notices) != 1 else ''}",
        template="digest",
        context={
            "title": title,
            "digest": digest,
            "notices": [(n, links.site_url() + n.link) for n in notices],
            "alerts": [(a, links.site_url() + a.engagement.get_absolute_url()) for a in alerts],
            "inbox_url": links.site_url() + reverse("notice-inbox"),
        },
        kind=digest.frequency,
        message_id=_message_id(f"digest.{digest.frequency}", digest.pk),
    )
    try:
        refused = _send(message)
    except TemporaryFailure:
        Digest.objects.filter(pk=digest_id).update(claimed_at=None)
        raise
    if refused:
        Digest.objects.filter(pk=digest_id).update(skipped=refused)
        return refused
    Digest.objects.filter(pk=digest_id).update(sent_at=timezone.now(), notice_count=len(notices))
    return "sent"
