import threading
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from feedback import selectors, services
from feedback.models import ActionItem, CheckIn, Feedback, Issue, PulseResponse
from tests.factories import (
    ActionItemFactory,
    ContributionReviewFactory,
    EngagementFactory,
    FeedbackFactory,
    IssueFactory,
    KeyContactFactory,
    SLAFactory,
)
from tests.feedback.conftest import JAN_5

pytestmark = pytest.mark.django_db


def raise_issue(engagement, user, **fields):
    return services.issue_raise(
        engagement=engagement,
        user=user,
        **{
            "title": "Backlog",
            "severity": "low",
            "responsible_side": "provider",
            "detected_at": JAN_5,
            **fields,
        },
    )


def add_item(engagement, user, **fields):
    return services.action_item_add(
        engagement=engagement,
        user=user,
        **{"description": "Add a runbook step", "due_date": date(2026, 2, 1), **fields},
    )


# ---------------------------------------------------------------- check-ins
def test_checkin_stores_attendees_and_follow_up_items(
    engagement, provider_manager, client_viewer, provider_contact
):
    checkin = services.checkin_log(
        engagement=engagement,
        user=provider_manager,
        occurred_at=JAN_5,
        kind="review",
        notes="Quarterly review",
        attendee_users=[provider_manager, client_viewer],
        attendee_contacts=[provider_contact],
        action_items=[
            {"owner_side": "client", "description": "Share roadmap", "due_date": date(2026, 1, 9)}
        ],
    )
    assert checkin.recorded_by == provider_manager
    assert set(checkin.attendee_users.all()) == {provider_manager, client_viewer}
    assert list(checkin.attendee_contacts.all()) == [provider_contact]
    item = checkin.action_items.get()
    assert (item.owner_side, item.engagement, item.created_by) == (
        "client",
        engagement,
        provider_manager,
    )


def test_checkin_near_midnight_gets_the_engagement_local_date(provider_manager, engagement):
    engagement.time_zone = "America/New_York"
    engagement.save()
    # 03:30 UTC on 6 January is 22:30 on 5 January in New York.
    checkin = services.checkin_log(
        engagement=engagement,
        user=provider_manager,
        occurred_at=datetime(2026, 1, 6, 3, 30, tzinfo=UTC),
        kind="informal",
    )
    checkin.refresh_from_db()
    assert checkin.occurred_on == date(2026, 1, 5)
    assert checkin.occurred_at == datetime(2026, 1, 6, 3, 30, tzinfo=UTC)


def test_checkin_naive_time_is_read_in_the_engagement_time_zone(provider_manager, engagement):
    engagement.time_zone = "Asia/Tokyo"
    engagement.save()
    checkin = services.checkin_log(
        engagement=engagement,
        user=provider_manager,
        occurred_at=datetime(2026, 1, 6, 0, 30),
        kind="sync",
    )
    checkin.refresh_from_db()
    assert checkin.occurred_on == date(2026, 1, 6)
    assert checkin.occurred_at == datetime(2026, 1, 5, 15, 30, tzinfo=UTC)


def test_checkin_refuses_attendees_outside_the_engagement(engagement, provider_manager, outsider):
    foreign_contact = KeyContactFactory()
    with pytest.raises(ValidationError) as error:
        services.checkin_log(
            engagement=engagement,
            user=provider_manager,
            occurred_at=JAN_5,
            kind="sync",
            attendee_users=[outsider],
            attendee_contacts=[foreign_contact],
        )
    assert set(error.value.message_dict) == {"attendee_users", "attendee_contacts"}
    assert not CheckIn.objects.exists()


def test_checkin_with_a_bad_action_item_saves_nothing(engagement, provider_manager):
    with pytest.raises(ValidationError) as error:
        services.checkin_log(
            engagement=engagement,
            user=provider_manager,
            occurred_at=JAN_5,
            kind="sync",
            action_items=[{"owner_side": "nobody", "description": "x", "colour": "red"}],
        )
    assert {
        "action_items[0].owner_side",
        "action_items[0].due_date",
        "action_items[0].colour",
    } <= set(error.value.message_dict)
    assert not CheckIn.objects.exists()
    assert not ActionItem.objects.exists()


def test_checkin_in_the_future_or_of_unknown_kind_is_refused(engagement, provider_manager):
    with pytest.raises(ValidationError) as error:
        services.checkin_log(
            engagement=engagement,
            user=provider_manager,
            occurred_at=timezone.now() + timedelta(hours=1),
            kind="party",
        )
    assert set(error.value.message_dict) == {"occurred_at", "kind"}


@pytest.mark.parametrize("persona", ["client_viewer", "outsider"])
def test_viewers_and_outsiders_cannot_log_checkins(request, engagement, persona):
    with pytest.raises(PermissionDenied):
        services.checkin_log(
            engagement=engagement,
            user=request.getfixturevalue(persona),
            occurred_at=JAN_5,
            kind="sync",
        )


def test_no_records_on_a_proposed_engagement(client_org, provider_org, client_manager):
    proposed = EngagementFactory(client=client_org, provider=provider_org, status="proposed")
    with pytest.raises(PermissionDenied):
        services.feedback_give(
            engagement=proposed, user=client_manager, kind="appreciation", text="Thanks"
        )


# ---------------------------------------------------------------- feedback
def test_feedback_side_comes_from_the_author(engagement, provider_manager):
    feedback = services.feedback_give(
        engagement=engagement, user=provider_manager, kind="appreciation", text="Quick approvals"
    )
    assert (feedback.from_side, feedback.author) == ("provider", provider_manager)


def test_feedback_side_cannot_be_passed_in(engagement, provider_manager):
    with pytest.raises(TypeError):
        services.feedback_give(
            engagement=engagement,
            user=provider_manager,
            kind="appreciation",
            text="x",
            from_side="client",
        )


def test_improvement_without_suggested_action_is_refused(engagement, client_manager):
    with pytest.raises(ValidationError) as error:
        services.feedback_give(
            engagement=engagement,
            user=client_manager,
            kind="improvement",
            text="Reports are late",
            suggested_action="   ",
        )
    assert "suggested_action" in error.value.message_dict
    assert not Feedback.objects.exists()


def test_improvement_with_suggested_action_is_kept(engagement, client_manager):
    feedback = services.feedback_give(
        engagement=engagement,
        user=client_manager,
        kind="improvement",
        text="Reports are late",
        suggested_action="Send them by Monday noon",
    )
    assert feedback.suggested_action == "Send them by Monday noon"


def test_database_refuses_improvement_without_suggested_action(require_postgres, engagement):
    with pytest.raises(IntegrityError), transaction.atomic():
        FeedbackFactory(engagement=engagement, kind="improvement", suggested_action="")


def test_feedback_links_only_to_an_sla_of_the_same_engagement(engagement, client_manager):
    foreign_sla = SLAFactory()
    with pytest.raises(ValidationError) as error:
        services.feedback_give(
            engagement=engagement,
            user=client_manager,
            kind="appreciation",
            text="x",
            sla=foreign_sla,
        )
    assert "sla" in error.value.message_dict


# ---------------------------------------------------------------- issues
def test_issue_raised_by_side_comes_from_the_user(engagement, client_manager):
    issue = raise_issue(
        engagement,
        client_manager,
        title="Outage not reported",
        severity="high",
        raised_at=JAN_5 + timedelta(days=2),
    )
    assert issue.raised_by_side == "client"
    assert not issue.raised_by_responsible_side
    assert issue.disclosure_lag == timedelta(days=2)


def test_issue_raised_at_defaults_to_now(engagement, provider_manager):
    before = timezone.now()
    issue = raise_issue(engagement, provider_manager)
    assert before <= issue.raised_at <= timezone.now()
    assert issue.raised_by_responsible_side


def test_issue_raised_before_detected_is_refused(engagement, provider_manager):
    with pytest.raises(ValidationError) as error:
        raise_issue(engagement, provider_manager, raised_at=JAN_5 - timedelta(minutes=1))
    assert "raised_at" in error.value.message_dict
    assert not Issue.objects.exists()


def test_issue_detected_in_the_future_is_refused(engagement, provider_manager):
    with pytest.raises(ValidationError) as error:
        raise_issue(engagement, provider_manager, detected_at=timezone.now() + timedelta(days=1))
    assert "detected_at" in error.value.message_dict


def test_issue_with_unknown_side_or_severity_is_refused(engagement, provider_manager):
    with pytest.raises(ValidationError) as error:
        raise_issue(
            engagement,
            provider_manager,
            title="",
            severity="apocalyptic",
            responsible_side="neither",
        )
    assert {"title", "severity", "responsible_side"} <= set(error.value.message_dict)


def test_issue_resolved_before_raised_is_refused(engagement, provider_manager):
    issue = IssueFactory(engagement=engagement)
    with pytest.raises(ValidationError) as error:
        services.issue_resolve(
            issue=issue, user=provider_manager, resolved_at=issue.raised_at - timedelta(hours=1)
        )
    assert "resolved_at" in error.value.message_dict
    issue.refresh_from_db()
    assert issue.resolved_at is None


def test_issue_resolves_once(engagement, provider_manager):
    issue = IssueFactory(engagement=engagement)
    services.issue_resolve(issue=issue, user=provider_manager)
    assert Issue.objects.get().resolved_at is not None
    with pytest.raises(ValidationError):
        services.issue_resolve(issue=issue, user=provider_manager)


@pytest.mark.parametrize(
    "fields",
    [
        {"raised_at": datetime(2026, 1, 5, 8, 0, tzinfo=UTC)},
        {"resolved_at": datetime(2026, 1, 5, 10, 0, tzinfo=UTC)},
    ],
    ids=["raised-before-detected", "resolved-before-raised"],
)
def test_database_refuses_issue_time_disorder(require_postgres, engagement, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        IssueFactory(engagement=engagement, **fields)


# ---------------------------------------------------------------- reviews and action items
def test_one_review_per_issue(engagement, provider_manager):
    issue = IssueFactory(engagement=engagement)
    services.review_create(issue=issue, user=provider_manager, summary="Root cause")
    with pytest.raises(ValidationError) as error:
        services.review_create(issue=issue, user=provider_manager)
    assert "issue" in error.value.message_dict


def test_review_is_complete_when_each_side_commits(engagement, client_manager, provider_manager):
    review = services.review_create(issue=IssueFactory(engagement=engagement), user=client_manager)

    def is_complete():
        return selectors.reviews_with_completeness().get(pk=review.pk).complete

    for user, side in ((client_manager, "client"), (provider_manager, "provider")):
        assert not is_complete()
        add_item(engagement, user, owner_side=side, review=review)
    assert is_complete()


def test_in_a_review_a_side_commits_only_for_itself(engagement, client_manager):
    review = ContributionReviewFactory(issue=IssueFactory(engagement=engagement))
    with pytest.raises(ValidationError) as error:
        add_item(engagement, client_manager, owner_side="provider", review=review)
    assert "owner_side" in error.value.message_dict


def test_action_item_owner_must_belong_to_the_owner_side(engagement, client_manager, client_viewer):
    with pytest.raises(ValidationError) as error:
        add_item(engagement, client_manager, owner_side="provider", owner=client_viewer)
    assert "owner" in error.value.message_dict


def test_action_item_of_another_engagements_review_is_refused(engagement, client_manager):
    review = ContributionReviewFactory()
    with pytest.raises(ValidationError) as error:
        add_item(engagement, client_manager, owner_side="client", review=review)
    assert "review" in error.value.message_dict


def test_action_item_completion_records_the_local_date(engagement, provider_manager):
    engagement.time_zone = "Europe/Berlin"
    engagement.save()
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    services.action_item_complete(
        item=item, user=provider_manager, completed_at=datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    )
    item.refresh_from_db()
    assert item.completed_on == date(2026, 1, 31)
    assert item.completed_on_time


def test_only_the_owner_side_closes_an_action_item(engagement, client_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    with pytest.raises(PermissionDenied):
        services.action_item_complete(item=item, user=client_manager)
    with pytest.raises(PermissionDenied):
        services.action_item_cancel(item=item, user=client_manager)


def test_a_closed_action_item_cannot_be_closed_again(engagement, provider_manager):
    item = ActionItemFactory(engagement=engagement, owner_side="provider")
    services.action_item_cancel(item=item, user=provider_manager)
    with pytest.raises(ValidationError):
        services.action_item_complete(item=item, user=provider_manager)
    assert ActionItem.objects.get().completed_at is None


# ---------------------------------------------------------------- pulse survey
def test_viewer_can_answer_the_survey_for_their_side(engagement, client_viewer, answers):
    response = services.pulse_submit(
        engagement=engagement, user=client_viewer, answers=answers, today=date(2026, 2, 14)
    )
    assert (response.side, response.period_kind, response.period_start) == (
        "client",
        "month",
        date(2026, 2, 1),
    )
    assert response.mean_answer == pytest.approx(21 / 6)


def test_outsider_cannot_answer_the_survey(engagement, outsider, answers):
    with pytest.raises(PermissionDenied):
        services.pulse_submit(engagement=engagement, user=outsider, answers=answers)
    assert not PulseResponse.objects.exists()


def test_second_answer_in_a_period_supersedes_and_keeps_the_first(
    engagement, provider_viewer, answers
):
    first = services.pulse_submit(
        engagement=engagement, user=provider_viewer, answers=answers, today=date(2026, 2, 1)
    )
    second = services.pulse_submit(
        engagement=engagement,
        user=provider_viewer,
        answers={**answers, "trust_overall": 5},
        today=date(2026, 2, 28),
    )
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert list(PulseResponse.objects.current()) == [second]
    assert PulseResponse.objects.count() == 2


def test_answers_in_different_periods_are_both_current(engagement, provider_viewer, answers):
    for today in (date(2026, 1, 31), date(2026, 2, 1)):
        services.pulse_submit(
            engagement=engagement, user=provider_viewer, answers=answers, today=today
        )
    assert PulseResponse.objects.current().count() == 2


def test_survey_period_follows_the_engagement_time_zone(engagement, client_viewer, answers):
    engagement.time_zone = "Pacific/Auckland"
    engagement.save()
    # 12:00 UTC on 31 January is already 1 February in Auckland.
    moment = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        response = services.pulse_submit(engagement=engagement, user=client_viewer, answers=answers)
    assert response.period_start == date(2026, 2, 1)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"trust_overall": 6}, "trust_overall"),
        ({"same_goals": 0}, "same_goals"),
        ({"hear_often": "three"}, "hear_often"),
        ({"follow_through": 2.5}, "follow_through"),
        ({"deliver_promises": None}, "deliver_promises"),
        ({"mood": 3}, "mood"),
    ],
)
def test_survey_answers_must_be_complete_and_1_to_5(
    engagement, client_viewer, answers, change, field
):
    with pytest.raises(ValidationError) as error:
        services.pulse_submit(
            engagement=engagement, user=client_viewer, answers={**answers, **change}
        )
    assert field in error.value.message_dict
    assert not PulseResponse.objects.exists()


def test_survey_needs_all_six_answers(engagement, client_viewer):
    with pytest.raises(ValidationError) as error:
        services.pulse_submit(engagement=engagement, user=client_viewer, answers={"hear_often": 3})
    assert len(error.value.message_dict) == 5


def test_database_refuses_out_of_range_answers(require_postgres, engagement, client_viewer):
    with pytest.raises(IntegrityError), transaction.atomic():
        PulseResponse.objects.create(
            engagement=engagement,
            respondent=client_viewer,
            side="client",
            period_kind="month",
            period_start=date(2026, 1, 1),
            hear_often=7,
            deliver_promises=3,
            raise_problems_early=3,
            follow_through=3,
            same_goals=3,
            trust_overall=3,
        )


def test_database_keeps_one_current_response(require_postgres, engagement, client_viewer, answers):
    services.pulse_submit(
        engagement=engagement, user=client_viewer, answers=answers, today=date(2026, 1, 3)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PulseResponse.objects.create(
            engagement=engagement,
            respondent=client_viewer,
            side="client",
            period_kind="month",
            period_start=date(2026, 1, 1),
            **answers,
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_leave_exactly_one_current(
    require_postgres, engagement, client_viewer, answers
):
    start = threading.Barrier(2)
    failures = []

    def submit():
        try:
            start.wait()
            services.pulse_submit(engagement=engagement, user=client_viewer, answers=answers)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert PulseResponse.objects.count() == 2
    assert PulseResponse.objects.current().count() == 1


@pytest.mark.parametrize("detected_at", [None, "yesterday", date(2026, 1, 5)])
def test_missing_or_malformed_times_are_field_errors(engagement, provider_manager, detected_at):
    with pytest.raises(ValidationError) as error:
        raise_issue(engagement, provider_manager, detected_at=detected_at)
    assert "detected_at" in error.value.message_dict
    assert not Issue.objects.exists()
