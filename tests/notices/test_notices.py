"""Where notices come from, whom they reach, and their e-mail (in-process; the SMTP server is
real). The end-to-end test with a real worker is test_end_to_end.py."""

import re
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from notices import delivery
from notices.models import Channel, Digest, Kind, Notice, Preference
from notices.services import PreferenceEntry, notice_raise, preferences_set
from notices.tasks import digest_send_task, digests_due_task, notice_email_task, notices_prune_task
from relationships.change_requests import terms_change
from relationships.models import Membership
from scorecards.compute import compute_chunk
from scorecards.services import scorecard_review
from tests.factories import SLAFactory
from tests.notices.conftest import text_of
from tests.scorecards.conftest import APRIL_10, MARCH

pytestmark = pytest.mark.django_db


def raise_one(engagement, key="test:1", kind=Kind.ALERT, **extra):
    return notice_raise(
        kind=kind,
        engagement=engagement,
        key=key,
        subject="Service desk: something happened",
        link=f"/engagements/{engagement.pk}/",
        **extra,
    )


# ---------------------------------------------------------------- sources
def test_a_run_raises_alert_and_review_notices_for_both_sides(
    rich_engagement,
    client_manager,
    provider_manager,
    client_viewer,
    on,
    django_capture_on_commit_callbacks,
    smtp,
):
    with on(APRIL_10), django_capture_on_commit_callbacks(execute=True):
        compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    reviews = Notice.objects.filter(kind=Kind.REVIEW)
    assert {n.user_id for n in reviews} == {
        client_manager.pk,
        provider_manager.pk,
        client_viewer.pk,
    }
    assert "March 2026 is closed, band" in reviews[0].subject
    assert reviews[0].link == f"/engagements/{rich_engagement.pk}/periods/2026-03-01/"
    # Managers by e-mail at once (their default); the viewer in the weekly digest.
    assert sorted(r for r, _ in smtp.messages if "review" in _["Subject"]) == sorted(
        [[client_manager.email], [provider_manager.email]]
    )
    assert reviews.get(user=client_viewer).channel == Channel.WEEKLY


def test_a_side_that_signed_hears_nothing_of_a_recomputed_review(
    rich_engagement, client_manager, provider_manager, on
):
    with on(APRIL_10):
        compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    Notice.objects.all().delete()
    from scorecards.models import Scorecard

    scorecard = Scorecard.objects.get(engagement=rich_engagement, period_start=MARCH)
    scorecard_review(scorecard=scorecard, user=client_manager, decision="signed")
    from notices.receivers import _review

    event = mock.Mock(
        payload={
            "scorecard": {
                "id": scorecard.pk,
                "period_kind": "month",
                "period_start": "2026-03-01",
                "band": scorecard.band,
                "overall": 70.0,
            }
        }
    )
    with on(APRIL_10):
        _review(rich_engagement, event)
    assert [n.user_id for n in Notice.objects.all()] == [provider_manager.pk]


def test_a_backfill_of_old_periods_tells_nobody(rich_engagement, client_manager, on):
    with on(date(2026, 9, 10)):
        compute_chunk([rich_engagement.pk], "month", MARCH, APRIL_10)
    assert not Notice.objects.exists()


def test_a_change_request_reaches_the_side_that_decides(
    engagement, client_manager, provider_manager, provider_admin
):
    change = terms_change(
        engagement=engagement,
        user=provider_manager,
        subject="sla",
        sla=SLAFactory(engagement=engagement, owner_side="provider", name="Response time"),
        values={"target": "4"},
    ).change_request
    [notice] = Notice.objects.filter(kind=Kind.CHANGE_REQUEST)
    assert notice.user == client_manager
    assert notice.link.endswith(f"#change-request-{change.pk}")
    assert "the provider asks to change" in notice.subject


def test_raising_the_same_event_twice_reaches_nobody_twice(engagement, client_manager):
    assert raise_one(engagement) == 1
    assert raise_one(engagement) == 0
    assert Notice.objects.count() == 1


def test_a_choice_for_one_engagement_wins_over_the_choice_for_all(engagement, client_manager):
    preferences_set(
        user=client_manager,
        entries=[
            PreferenceEntry(None, Kind.ALERT, Channel.DAILY),
            PreferenceEntry(engagement, Kind.ALERT, Channel.INBOX),
        ],
    )
    raise_one(engagement)
    assert Notice.objects.get().channel == Channel.INBOX


# ---------------------------------------------------------------- e-mail
def test_no_email_to_a_member_who_can_no_longer_see_the_engagement(
    engagement, client_manager, smtp, django_capture_on_commit_callbacks
):
    raise_one(engagement)
    Membership.objects.filter(user=client_manager).delete()
    notice = Notice.objects.get()
    assert notice_email_task.apply(kwargs={"notice_id": notice.pk}).get() == "no access"
    assert smtp.messages == []


def test_a_temporary_smtp_error_is_retried_and_the_notice_sent_once(
    engagement, client_manager, smtp
):
    smtp.fail_next = ["451 4.3.0 Try again later"]
    raise_one(engagement)
    notice = Notice.objects.get()
    # Eagerly, Celery's retry runs the task again at once (a worker waits the back-off).
    notice_email_task.apply(kwargs={"notice_id": notice.pk}, throw=False)
    notice.refresh_from_db()
    assert notice.emailed_at is not None and smtp.fail_next == []
    assert len(smtp.messages) == 1
    # A second delivery of the task (a lost acknowledgement) finds it sent.
    assert notice_email_task.apply(kwargs={"notice_id": notice.pk}).get() == "claimed or done"
    assert len(smtp.messages) == 1


def test_a_permanent_refusal_is_not_retried(
    engagement, client_manager, smtp, django_capture_on_commit_callbacks
):
    smtp.fail_next = ["550 5.1.1 No such mailbox"]
    with django_capture_on_commit_callbacks(execute=True):
        raise_one(engagement)
    assert Notice.objects.get().email_skipped == "refused"
    assert smtp.messages == []


def test_a_worker_killed_mid_send_leaves_a_claim_that_expires(engagement, client_manager, smtp):
    raise_one(engagement)
    notice = Notice.objects.get()
    Notice.objects.update(email_claimed_at=timezone.now())  # a live claim: nothing to do
    assert notice_email_task.apply(kwargs={"notice_id": notice.pk}).get() == "claimed or done"
    Notice.objects.update(email_claimed_at=timezone.now() - delivery.LEASE - timedelta(seconds=1))
    assert notice_email_task.apply(kwargs={"notice_id": notice.pk}).get() == "sent"
    assert len(smtp.messages) == 1


def test_the_review_email_carries_the_attachments_receivers_give(engagement, client_manager, smtp):
    from scorecards.signals import review_email_attachments

    def pack(sender, engagement, data, user, **kwargs):
        return [(f"review-{data['scorecard']}.pdf", b"%PDF-1.7 test", "application/pdf")]

    review_email_attachments.connect(pack, dispatch_uid="test-pack")
    try:
        raise_one(engagement, kind=Kind.REVIEW, data={"scorecard": 7})
        delivery.notice_email_send(Notice.objects.get().pk)
    finally:
        review_email_attachments.disconnect(dispatch_uid="test-pack")
    [(_, message)] = smtp.messages
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "review-7.pdf"
    assert attachment.get_content() == b"%PDF-1.7 test"


def test_an_email_the_broker_could_not_take_is_sent_by_the_sweep(
    engagement, client_manager, smtp, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from notices.tasks import emails_unsent_task

    refused = OperationalError("Connection refused")
    with (
        mock.patch.object(notice_email_task, "apply_async", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        raise_one(engagement)  # no error reaches the writer
    assert smtp.messages == []
    assert emails_unsent_task() == 1
    assert len(smtp.messages) == 1
    assert emails_unsent_task() == 0 and len(smtp.messages) == 1


# ---------------------------------------------------------------- unsubscribe
def test_unsubscribe_by_the_link_with_no_session_and_see_it_on_the_profile(
    engagement, client_manager, smtp, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        raise_one(engagement)
    [(_, message)] = smtp.messages
    url = str(message["List-Unsubscribe"]).strip()[1:-1]
    assert url in text_of(message)
    path = url.removeprefix("http://127.0.0.1:8000")
    # A mail scanner's GET changes nothing.
    assert client.get(path).status_code == 200
    assert not Preference.objects.exists()
    # RFC 8058: the mail client's one-click POST, with no cookie and no CSRF token.
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and "no more e-mail about" in response.content.decode()
    [preference] = Preference.objects.all()
    assert (preference.user, preference.engagement, preference.kind, preference.channel) == (
        client_manager,
        None,
        Kind.ALERT,
        Channel.INBOX,
    )
    client.force_login(client_manager)
    page = client.get(reverse("notice-profile")).content.decode()
    selected = re.search(r'name="kind_alert".*?</select>', page, re.S)[0]
    assert re.search(r'<option value="inbox" selected>Inbox only</option>', selected)
    # Another alert: in the inbox, no e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        raise_one(engagement, key="test:2")
    assert len(smtp.messages) == 1
    assert Notice.objects.filter(user=client_manager).count() == 2


def test_a_forged_unsubscribe_link_changes_nothing(engagement, client_manager, client):
    token = delivery.unsubscribe_token(client_manager.pk, Kind.ALERT)
    response = client.post(reverse("notice-unsubscribe", args=[token[:-2] + "xx"]))
    assert response.status_code == 404
    assert not Preference.objects.exists()


def test_unsubscribe_from_the_weekly_digest_sends_its_kinds_to_the_inbox(
    engagement, client_viewer, client
):
    token = delivery.unsubscribe_token(client_viewer.pk, "weekly")
    client.post(reverse("notice-unsubscribe", args=[token]))
    assert set(Preference.objects.values_list("kind", "channel")) == {
        (kind, Channel.INBOX) for kind in Kind.values
    }


# ---------------------------------------------------------------- digests
def test_a_digest_is_never_empty_and_a_stale_claim_is_sent_once(
    engagement, client_viewer, client_manager, smtp
):
    monday_eight = datetime(2026, 11, 30, 8, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=monday_eight - timedelta(days=2)):
        raise_one(engagement, kind=Kind.SURVEY)
    # The manager's survey notice is weekly too; make theirs about an engagement they left.
    Membership.objects.filter(user=client_manager).delete()
    with mock.patch("django.utils.timezone.now", return_value=monday_eight):
        due = delivery.digests_plan()
    assert len(due) == 2
    results = {digest_send_task.apply(kwargs={"digest_id": pk}).get() for pk in due}
    assert results == {"sent", "nothing to tell"}
    assert [r for r, _ in smtp.messages] == [[client_viewer.email]]
    # A worker killed after claiming: once the lease expires the next beat sends it, once.
    Digest.objects.filter(user=client_viewer).update(
        sent_at=None, claimed_at=monday_eight - delivery.LEASE - timedelta(minutes=1)
    )
    with mock.patch("django.utils.timezone.now", return_value=monday_eight + timedelta(minutes=5)):
        digests_due_task.apply()
        digests_due_task.apply()
    assert len(smtp.messages) == 2  # the re-sent one (its earlier send never recorded)
    assert Digest.objects.get(user=client_viewer).sent_at is not None


def test_the_daily_digest_covers_the_day_before_eight(engagement, client_viewer, smtp):
    preferences_set(user=client_viewer, entries=[PreferenceEntry(None, Kind.SURVEY, Channel.DAILY)])
    wednesday = datetime(2026, 12, 2, 8, tzinfo=UTC)
    for key, moment in (
        ("early", wednesday - timedelta(days=1, minutes=1)),
        ("in", wednesday - timedelta(hours=1)),
    ):
        with mock.patch("django.utils.timezone.now", return_value=moment):
            raise_one(engagement, key=key, kind=Kind.SURVEY)
    with mock.patch("django.utils.timezone.now", return_value=wednesday):
        [pk] = delivery.digests_plan()
    digest = Digest.objects.get(pk=pk)
    notices, _ = delivery.digest_contents(digest)
    assert [n.key for n in notices] == ["in"]


# ---------------------------------------------------------------- inbox
def test_the_inbox_counts_unread_in_the_header_and_marks_read(
    engagement, client_manager, client_viewer, client
):
    raise_one(engagement, key="a")
    raise_one(engagement, key="b")
    client.force_login(client_manager)
    page = client.get(reverse("portfolio")).content.decode()
    assert re.search(r'id="unread-count">2<', page)
    mine = Notice.objects.filter(user=client_manager).first()
    others = Notice.objects.filter(user=client_viewer).first()
    assert client.post(reverse("notice-inbox-read", args=[others.pk])).status_code == 404
    others.refresh_from_db()
    assert others.read_at is None  # another member's notice is not touched
    client.post(reverse("notice-inbox-read", args=[mine.pk]))
    assert re.search(r'id="unread-count">1<', client.get(reverse("notice-inbox")).content.decode())
    client.post(reverse("notice-inbox-read-all"))
    assert 'id="unread-count"' not in client.get(reverse("notice-inbox")).content.decode()


def test_notices_are_kept_ninety_days(engagement, client_manager):
    raise_one(engagement, key="old")
    raise_one(engagement, key="new")
    Notice.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=91))
    assert notices_prune_task.apply().get() == 1
    assert list(Notice.objects.values_list("key", flat=True)) == ["new"]
