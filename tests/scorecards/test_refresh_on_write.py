"""Refresh on write (PRODUCT.md §12), in process: a committed write to an engagement's inputs
refreshes its provisional scorecard through the chunk computation; a burst queues one
refresh; a write counted during a refresh queues one more; the broker down never fails the
write. The same with a real worker and broker: tests/reliability/test_live_refresh.py."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError
from rest_framework.test import APIClient

from feedback.services import checkin_log
from relationships.models import ScoringConfig
from relationships.periods import CLOSING
from scorecards import refresh
from scorecards.models import Scorecard, ScorecardRefresh
from scorecards.tasks import refresh_scorecards_task
from tests.factories import EngagementFactory, KeyContactFactory, SLAFactory


@pytest.fixture
def api(client_manager):
    api = APIClient()
    api.force_authenticate(client_manager)
    return api


def provisional(engagement) -> Scorecard:
    return Scorecard.objects.get(
        engagement=engagement, period_start=engagement.current_period().start
    )


def held(scorecard: Scorecard) -> int:
    return scorecard.explanation["data"]["contact"]["held"]


def log_checkin(engagement, user, minutes_ago: int):
    return checkin_log(
        engagement=engagement,
        user=user,
        occurred_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        kind="informal",
    )


def test_a_checkin_posted_refreshes_the_provisional_scorecard(
    api, engagement, django_capture_on_commit_callbacks
):
    body = {"engagement": engagement.pk, "occurred_at": datetime.now(UTC).isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/checkins/", body, format="json").status_code == 201
    scorecard = provisional(engagement)
    assert scorecard.status == Scorecard.Status.PROVISIONAL
    assert held(scorecard) == 1
    row = ScorecardRefresh.objects.get(engagement=engagement)
    assert (row.requested, row.refreshed, row.queued_at) == (1, 1, None)
    assert row.started_at <= row.finished_at


def test_a_burst_of_writes_queues_one_refresh_that_reads_the_last(
    engagement, client_manager, django_capture_on_commit_callbacks
):
    with mock.patch.object(refresh_scorecards_task, "apply_async") as send:
        for minutes_ago in range(50, 0, -1):
            with django_capture_on_commit_callbacks(execute=True):
                log_checkin(engagement, client_manager, minutes_ago)
    # The first write queued the refresh; the 49 after it were counted on its row.
    send.assert_called_once_with(args=[[engagement.pk]], countdown=None, retry=False)
    row = ScorecardRefresh.objects.get(engagement=engagement)
    assert (row.requested, row.refreshed) == (50, 0) and row.queued_at is not None
    assert row.since == date.min  # a check-in is not a day's value: every open period
    refresh.scorecards_refresh([engagement.pk])
    assert held(provisional(engagement)) == 1  # 50 check-ins on one day: one day with contact
    row.refresh_from_db()
    assert (row.requested, row.refreshed, row.queued_at, row.since) == (50, 50, None, None)


def test_a_write_counted_during_a_refresh_queues_one_more_after_the_window(
    engagement, client_manager, django_capture_on_commit_callbacks
):
    with mock.patch.object(refresh_scorecards_task, "apply_async"):
        with django_capture_on_commit_callbacks(execute=True):
            log_checkin(engagement, client_manager, 90)
    compute_chunk = refresh.compute_chunk
    written = []

    def computing_while_written(*args, **kwargs):
        result = compute_chunk(*args, **kwargs)  # read before the write below
        if not written:  # once, though a closing period is computed too
            with django_capture_on_commit_callbacks(execute=True):
                written.append(log_checkin(engagement, client_manager, 5))
        return result

    with (
        mock.patch.object(refresh, "compute_chunk", side_effect=computing_while_written),
        mock.patch.object(refresh_scorecards_task, "apply_async") as send,
    ):
        refresh.scorecards_refresh([engagement.pk])
    # The write found the refresh queued (it counted only); the refresh queues one more, to
    # start a window after this one started.
    row = ScorecardRefresh.objects.get(engagement=engagement)
    took = (row.finished_at - row.started_at).total_seconds()
    send.assert_called_once()
    assert send.call_args.kwargs["args"] == [[engagement.pk]]
    assert send.call_args.kwargs["countdown"] == pytest.approx(
        settings.SCORECARD_REFRESH_SECONDS - took, abs=0.2
    )
    # It read the first write: counted as refreshed; the second is still to read.
    assert (row.requested, row.refreshed) == (2, 1) and row.queued_at is not None
    refresh.scorecards_refresh([engagement.pk])
    row.refresh_from_db()
    assert (row.requested, row.refreshed, row.queued_at) == (2, 2, None)


def test_a_write_just_after_a_refresh_waits_for_the_rest_of_its_window(
    engagement, client_manager, django_capture_on_commit_callbacks
):
    with mock.patch.object(refresh_scorecards_task, "apply_async"):
        with django_capture_on_commit_callbacks(execute=True):
            log_checkin(engagement, client_manager, 90)
    refresh.scorecards_refresh([engagement.pk])  # done: nothing written meanwhile
    row = ScorecardRefresh.objects.get(engagement=engagement)
    assert row.queued_at is None
    window = settings.SCORECARD_REFRESH_SECONDS
    for after, countdown in ((0.5, window - 0.5), (window + 1, None)):
        # A write `after` seconds from the refresh's start claims the released row; its
        # refresh starts no sooner than a window after the previous one started.
        row.queued_at = None
        row.save(update_fields=["queued_at"])
        moment = row.started_at + timedelta(seconds=after)
        with (
            mock.patch("django.utils.timezone.now", return_value=moment),
            mock.patch.object(refresh_scorecards_task, "apply_async") as send,
            django_capture_on_commit_callbacks(execute=True),
        ):
            log_checkin(engagement, client_manager, 5)
        send.assert_called_once_with(args=[[engagement.pk]], countdown=countdown, retry=False)


def test_with_the_broker_down_the_write_succeeds_and_refresh_pending_catches_up(
    api, engagement, django_capture_on_commit_callbacks
):
    body = {"engagement": engagement.pk, "occurred_at": datetime.now(UTC).isoformat()}
    down = KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch.object(refresh_scorecards_task, "apply_async", side_effect=down):
        with django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/v1/checkins/", body, format="json").status_code == 201
    row = ScorecardRefresh.objects.get(engagement=engagement)
    # Counted, not claimed: a later write or the beat task sends it.
    assert (row.requested, row.refreshed, row.queued_at) == (1, 0, None)
    assert not Scorecard.objects.filter(engagement=engagement).exists()
    assert refresh.refresh_pending() == 1
    assert held(provisional(engagement)) == 1
    assert refresh.refresh_pending() == 0


def test_a_bulk_post_queues_one_refresh_for_the_engagements_it_changed(
    api, engagement, client_org, provider_org, django_capture_on_commit_callbacks
):
    other = EngagementFactory(client=client_org, provider=provider_org)
    untouched = EngagementFactory(client=client_org, provider=provider_org)
    slas = [SLAFactory(engagement=engagement), SLAFactory(engagement=other)]
    SLAFactory(engagement=untouched)
    today = datetime.now(UTC).date()
    rows = [
        {"sla": sla.pk, "period_start": str(day), "period_end": str(day), "value": "99"}
        for sla in slas
        for day in (today - timedelta(days=1), today)
    ]
    with (
        mock.patch.object(refresh_scorecards_task, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.post("/api/v1/measurements/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 201, response.content
    send.assert_called_once_with(
        args=[sorted([engagement.pk, other.pk])], countdown=None, retry=False
    )
    # Unchanged values change no input: nothing is counted.
    with (
        mock.patch.object(refresh_scorecards_task, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        again = api.post("/api/v1/measurements/bulk/", {"rows": rows}, format="json")
    assert again.status_code == 201, again.content
    send.assert_not_called()
    # Counted once each, from the earliest day the rows name.
    yesterday = today - timedelta(days=1)
    assert dict(ScorecardRefresh.objects.values_list("engagement_id", "requested")) == {
        engagement.pk: 1,
        other.pk: 1,
    }
    assert set(ScorecardRefresh.objects.values_list("since", flat=True)) == {yesterday}


def test_a_refresh_recomputes_the_open_periods_ending_on_or_after_the_day_written(engagement):
    # The second of a month: the month before is closing (grace days), not closed.
    current = engagement.current_period()
    second = datetime.combine(current.start.replace(day=2), time(12), tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=second):
        current = engagement.current_period()
        previous = current.previous()
        assert engagement.period_state(previous) == CLOSING
        kind, pk = current.kind, engagement.pk
        both = {(kind, previous.start): [pk], (kind, current.start): [pk]}
        # Values of today leave the closing month alone; a value of its last day, or a
        # write to undated inputs (date.min), recomputes both.
        assert refresh.open_periods({pk: current.start}) == {(kind, current.start): [pk]}
        assert refresh.open_periods({pk: previous.end}) == both
        assert refresh.open_periods({pk: date.min}) == both
        # A day of a closed period changes nothing open but the periods after it.
        assert refresh.open_periods({pk: previous.previous().end}) == both


def test_the_open_periods_of_many_engagements_take_one_query(
    engagement, client_org, provider_org, django_assert_num_queries
):
    others = [EngagementFactory(client=client_org, provider=provider_org) for _ in range(3)]
    ScoringConfig.objects.create(engagement=others[0], grace_days=0)
    since = {e.pk: date.min for e in [engagement, *others]}
    with django_assert_num_queries(1):  # the grace days come with the engagements
        periods = refresh.open_periods(since)
    assert {pk for ids in periods.values() for pk in ids} == set(since)


def test_a_value_of_today_refreshes_the_period_in_progress_only(
    api, engagement, django_capture_on_commit_callbacks
):
    sla = SLAFactory(engagement=engagement)
    today = engagement.today()
    row = {"sla": sla.pk, "period_start": str(today), "period_end": str(today), "value": "99"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/measurements/bulk/", {"rows": [row]}, format="json")
    assert response.status_code == 201, response.content
    computed = set(Scorecard.objects.filter(engagement=engagement).values_list("period_start"))
    assert computed == {(engagement.current_period().start,)}
    assert ScorecardRefresh.objects.get(engagement=engagement).since is None


def test_a_write_that_rolls_back_asks_for_nothing(
    api, engagement, django_capture_on_commit_callbacks
):
    body = {
        "engagement": engagement.pk,
        "occurred_at": datetime.now(UTC).isoformat(),
        "action_items": [{"description": "", "owner_side": "client", "due_date": "2026-01-01"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/checkins/", body, format="json").status_code == 400
    assert not ScorecardRefresh.objects.exists()


def test_a_measurement_recorded_refreshes_the_engagement(
    engagement, client_manager, django_capture_on_commit_callbacks
):
    from relationships.measurements import measurement_record

    sla = SLAFactory(engagement=engagement, target=Decimal("90"))
    today = datetime.now(UTC).date()
    with django_capture_on_commit_callbacks(execute=True):
        measurement_record(
            sla=sla,
            period_start=today,
            period_end=today,
            value=Decimal("95"),
            source="probe",
            user=client_manager,
        )
    (measured,) = provisional(engagement).explanation["data"]["reliance"]
    assert (measured["measurements"], measured["met"]) == (1, 1)


def test_a_key_contact_corrected_through_the_api_asks_for_a_refresh(
    api, engagement, django_capture_on_commit_callbacks
):
    contact = KeyContactFactory(engagement=engagement, side="client")
    with (
        mock.patch.object(refresh_scorecards_task, "apply_async") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api.patch(
            f"/api/v1/contacts/{contact.pk}/", {"name": "Dana Renamed"}, format="json"
        )
    assert response.status_code == 200, response.content
    send.assert_called_once_with(args=[[engagement.pk]], countdown=None, retry=False)
    contact.refresh_from_db()
    assert contact.name == "Dana Renamed"
    assert ScorecardRefresh.objects.get(engagement=engagement).requested == 1
