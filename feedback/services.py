"""Writes of the feedback domain. The API, the dashboard and seed_demo call these.

Every function takes keyword arguments only, checks the actor's right to act
(PermissionDenied), derives the actor's side from their membership (never from
input), validates the whole record (ValidationError with field errors) and only
then writes. Timestamps are stored in UTC; a naive timestamp is read as
engagement-local time, which is what a person entering it means.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.inputs import validate_moment
from core.queue import send_on_commit
from feedback import checkin_planner, tasks
from feedback.invitations import contact_address
from feedback.models import (
    MIRROR_FIELDS,
    PULSE_FIELDS,
    SURVEY_ANSWER_FIELDS,
    TEXT_FIELDS,
    TEXT_LIMIT,
    ActionItem,
    CheckIn,
    CheckInInvitation,
    ContributionReview,
    Feedback,
    Issue,
    PulseResponse,
)
from relationships.models import Engagement, KeyContact
from relationships.signals import engagement_inputs_changed

# Clocks of browsers and integrations drift a little; beyond this a time is "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)

# What a check-in's follow-up action item may carry.
ACTION_ITEM_FIELDS = ("owner_side", "description", "due_date", "owner")


# ---------------------------------------------------------------- helpers
def _as_utc(engagement: Engagement, moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, engagement.tz)
    return moment.astimezone(UTC)


def _past_moment(
    engagement: Engagement, field: str, moment: datetime | None, errors: dict, *, default_now=False
) -> datetime | None:
    """The moment in UTC (now if omitted and `default_now`); an error if it is in the future
    or outside the range of dates (checked before converting it, which could overflow).

    A missing required moment stays None, for full_clean to report.
    """
    if moment is None:
        return timezone.now() if default_now else None
    if not isinstance(moment, datetime):
        errors.setdefault(field, []).append("Enter a date and time.")
        return None
    try:
        validate_moment(moment, engagement.tz)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return None
    moment = _as_utc(engagement, moment)
    if moment > timezone.now() + FUTURE_TOLERANCE:
        errors.setdefault(field, []).append("This time is in the future.")
    return moment


def _validated(record, errors: dict | None = None):
    """full_clean the record, merging errors found earlier, so all come back at once
    (a field with an error already gets no second one)."""
    if hasattr(record, "set_local_dates"):
        record.set_local_dates()
    errors = dict(errors or {})
    try:
        record.full_clean(exclude=set(errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return record


def _pks(values: Iterable) -> set:
    return {getattr(value, "pk", value) for value in values}


def _require_owner_side(*, user, item: ActionItem) -> None:
    if item.engagement.access_for(user).require("write").side != item.owner_side:
        raise PermissionDenied("Only the side that owns an action item can close it.")


def _require_open(item: ActionItem) -> None:
    if not item.is_open:
        raise ValidationError({"status": "This action item is already completed or cancelled."})


def _inputs_changed(record) -> None:
    """The record is one the engagement's scorecard reads: ask for its refresh (on commit)."""
    engagement_inputs_changed.send(sender=type(record), engagement_ids=[record.engagement_id])


def local_dates_refresh(sender, *, engagement: Engagement, **kwargs) -> None:
    """Receives engagement_time_zone_changed: the records' local dates follow the new zone."""
    for model in (CheckIn, Feedback, Issue, ActionItem):
        rows = list(model.objects.filter(engagement=engagement))
        for row in rows:
            row.set_local_dates(engagement)
        model.objects.bulk_update(rows, list(model.local_dates.values()), batch_size=1000)


# ---------------------------------------------------------------- check-ins
@transaction.atomic
def checkin_log(
    *,
    engagement: Engagement,
    user,
    occurred_at: datetime,
    kind: str,
    tier: str = "",
    notes: str = "",
    attendee_users: Iterable = (),
    attendee_contacts: Iterable = (),
    action_items: Iterable[Mapping] = (),
) -> CheckIn:
    """Record a check-in with its attendees and follow-up action items, all or nothing."""
    engagement.access_for(user).require("write")
    errors: dict[str, list[str]] = {}
    occurred_at = _past_moment(engagement, "occurred_at", occurred_at, errors)

    user_ids = _pks(attendee_users)
    if user_ids - engagement.members_among(user_ids):
        errors["attendee_users"] = ["Attendees must be members of the client or the provider."]
    contact_ids = _pks(attendee_contacts)
    own_contacts = set(
        KeyContact.objects.filter(pk__in=contact_ids, engagement=engagement).values_list(
            "pk", flat=True
        )
    )
    if contact_ids - own_contacts:
        errors["attendee_contacts"] = ["Attendees must be key contacts of this engagement."]

    checkin = _validated(
        CheckIn(
            engagement=engagement,
            occurred_at=occurred_at,
            kind=kind,
            tier=tier,
            notes=notes,
            recorded_by=user,
        ),
        errors,
    )
    checkin.save()
    checkin.attendee_users.set(user_ids)
    checkin.attendee_contacts.set(contact_ids)

    item_errors: dict[str, list[str]] = {}
    items = []
    for index, fields in enumerate(action_items):
        item = ActionItem(
            engagement=engagement,
            checkin=checkin,
            created_by=user,
            **{field: fields.get(field) for field in ACTION_ITEM_FIELDS},
        )
        unknown = set(fields) - set(ACTION_ITEM_FIELDS)
        try:
            items.append(_validated(item, dict.fromkeys(unknown, ["Unknown field."])))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                item_errors[f"action_items[{index}].{field}"] = messages
    if item_errors:
        # Raised inside the atomic block, so the check-in saved above is rolled back.
        raise ValidationError(item_errors)
    ActionItem.objects.bulk_create(items)
    _inputs_changed(checkin)
    return checkin


@transaction.atomic
def checkin_invite(
    *, engagement: Engagement, user, starts_at: datetime, attendee_contacts: Iterable
) -> CheckInInvitation:
    """Invite key contacts to a check-in inside all their working hours; the invitations
    go by e-mail after the commit (feedback.tasks.send_checkin_invitation)."""
    engagement.access_for(user).require("write")
    contact_ids = _pks(attendee_contacts)
    contacts = list(KeyContact.objects.filter(pk__in=contact_ids, engagement=engagement))
    errors: dict[str, list[str]] = {}
    if not contact_ids:
        errors["attendee_contacts"] = ["Choose who to invite."]
    elif len(contacts) != len(contact_ids):
        errors["attendee_contacts"] = ["Attendees must be key contacts of this engagement."]
    elif without := [c.name for c in contacts if not contact_address(c)]:
        errors["attendee_contacts"] = [f"No e-mail address for {', '.join(without)}."]
    if not isinstance(starts_at, datetime) or timezone.is_naive(starts_at):
        errors["starts_at"] = ["Choose one of the proposed times."]
    elif starts_at <= timezone.now():
        errors["starts_at"] = ["This time has passed."]
    elif outside := [
        c.name
        for c in contacts
        if not checkin_planner.fits(starts_at, [checkin_planner.WorkingHours.of(c)])
    ]:
        errors["starts_at"] = [f"Outside the working hours of {', '.join(outside)}."]
    if errors:
        raise ValidationError(errors)
    invitation = CheckInInvitation.objects.create(
        engagement=engagement,
        starts_at=starts_at,
        ends_at=starts_at + checkin_planner.DURATION,
        sent_by=user,
    )
    invitation.attendee_contacts.set(contacts)
    # Unsent with the broker down: feedback.send_unsent_checkin_invitations sends it.
    send_on_commit(tasks.send_checkin_invitation, invitation_id=invitation.pk)
    return invitation


# ---------------------------------------------------------------- feedback
def feedback_give(
    *,
    engagement: Engagement,
    user,
    kind: str,
    text: str,
    suggested_action: str = "",
    sla=None,
    goal=None,
) -> Feedback:
    """Feedback from the user's side; an improvement must say what to do about it."""
    side = engagement.access_for(user).require("write").side
    feedback = _validated(
        Feedback(
            engagement=engagement,
            author=user,
            from_side=side,
            kind=kind,
            text=text.strip(),
            suggested_action=suggested_action.strip(),
            sla=sla,
            goal=goal,
        )
    )
    feedback.save()
    return feedback


# ---------------------------------------------------------------- issues
def issue_raise(
    *,
    engagement: Engagement,
    user,
    title: str,
    severity: str,
    responsible_side: str,
    detected_at: datetime,
    description: str = "",
    raised_at: datetime | None = None,
) -> Issue:
    """Log a problem; who raised it is the user's side, so transparency cannot be claimed."""
    side = engagement.access_for(user).require("write").side
    errors: dict[str, list[str]] = {}
    detected_at = _past_moment(engagement, "detected_at", detected_at, errors)
    raised_at = _past_moment(engagement, "raised_at", raised_at, errors, default_now=True)
    issue = _validated(
        Issue(
            engagement=engagement,
            title=title.strip(),
            description=description,
            severity=severity,
            responsible_side=responsible_side,
            raised_by_side=side,
            raised_by=user,
            detected_at=detected_at,
            raised_at=raised_at,
        ),
        errors,
    )
    issue.save()
    _inputs_changed(issue)
    return issue


def issue_resolve(*, issue: Issue, user, resolved_at: datetime | None = None) -> Issue:
    issue.engagement.access_for(user).require("write")
    if issue.resolved_at is not None:
        raise ValidationError({"resolved_at": "This issue is already resolved."})
    errors: dict[str, list[str]] = {}
    issue.resolved_at = _past_moment(
        issue.engagement, "resolved_at", resolved_at, errors, default_now=True
    )
    try:
        _validated(issue, errors)
    except ValidationError:
        issue.resolved_at = None  # leave the caller's object as it is stored
        raise
    issue.save(update_fields=["resolved_at"])
    _inputs_changed(issue)
    return issue


def review_create(*, issue: Issue, user, summary: str = "") -> ContributionReview:
    """Open the contribution review of an issue (one per issue)."""
    issue.engagement.access_for(user).require("write")
    review = _validated(ContributionReview(issue=issue, summary=summary, created_by=user))
    review.save()
    _inputs_changed(issue)
    return review


# ---------------------------------------------------------------- action items
def action_item_add(
    *,
    engagement: Engagement,
    user,
    owner_side: str,
    description: str,
    due_date: date,
    owner=None,
    review: ContributionReview | None = None,
    checkin: CheckIn | None = None,
) -> ActionItem:
    """Add an action item. In a contribution review each side commits only for itself."""
    side = engagement.access_for(user).require("write").side
    errors: dict[str, list[str]] = {}
    if review is not None and owner_side != side:
        errors["owner_side"] = ["In a contribution review each side commits to its own actions."]
    item = _validated(
        ActionItem(
            engagement=engagement,
            owner_side=owner_side,
            owner=owner,
            description=description.strip(),
            due_date=due_date,
            review=review,
            checkin=checkin,
            created_by=user,
        ),
        errors,
    )
    item.save()
    _inputs_changed(item)
    return item


def action_item_complete(
    *, item: ActionItem, user, completed_at: datetime | None = None
) -> ActionItem:
    _require_owner_side(user=user, item=item)
    _require_open(item)
    errors: dict[str, list[str]] = {}
    completed_at = _past_moment(
        item.engagement, "completed_at", completed_at, errors, default_now=True
    )
    if errors:
        raise ValidationError(errors)
    item.completed_at = completed_at
    item.save(update_fields=["completed_at", "completed_on"])
    _inputs_changed(item)
    return item


def action_item_cancel(*, item: ActionItem, user) -> ActionItem:
    _require_owner_side(user=user, item=item)
    _require_open(item)
    item.cancelled = True
    item.save(update_fields=["cancelled"])
    _inputs_changed(item)
    return item


# ---------------------------------------------------------------- pulse survey
def _whole_number(value, low: int, high: int) -> int | None:
    """`value` as a whole number from low to high, else None (True and 2.5 are not)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, bool) or str(number) != str(value).strip():
        return None
    return number if low <= number <= high else None


def _clean_answers(answers: Mapping) -> dict:
    """The six statements are required (1–5); their mirrors (1–5), the recommendation
    (0–10) and the three texts are optional. An omitted optional answer is blank."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    scales = [(field, 1, 5, True) for field in PULSE_FIELDS]
    scales += [(field, 1, 5, False) for field in MIRROR_FIELDS]
    scales.append(("nps", 0, 10, False))
    for field, low, high, required in scales:
        value = answers.get(field)
        if value is None or value == "":
            if required:
                errors[field] = ["Answer every statement."]
            cleaned[field] = None
            continue
        number = _whole_number(value, low, high)
        if number is None:
            errors[field] = [f"Answer with a whole number from {low} to {high}."]
        cleaned[field] = number
    for field in TEXT_FIELDS:
        text = answers.get(field) or ""
        if not isinstance(text, str):
            errors[field] = ["Answer with text."]
        elif len(text) > TEXT_LIMIT:
            errors[field] = [f"Keep it to {TEXT_LIMIT:,} characters."]
        else:
            cleaned[field] = text.strip()
    for field in set(answers) - set(SURVEY_ANSWER_FIELDS):
        errors[str(field)] = ["Not a question of the pulse survey."]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def pulse_submit(
    *, engagement: Engagement, user, answers: Mapping, today: date | None = None
) -> PulseResponse:
    """Answer the pulse survey for the current period; any member of either party may.

    A second answer in the same period supersedes the first, which is kept. Answers
    always go to the current period, so a closed period's answers never change.
    """
    access = engagement.access_for(user).require("read")
    if not access.writable:
        raise PermissionDenied(f"This engagement is {engagement.status}; the survey is closed.")
    side = access.side
    cleaned = _clean_answers(answers)
    period = engagement.current_period(today)
    # Locking the respondent serialises their own submissions, including the very
    # first one, for which there is no earlier response row to lock.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    now = timezone.now()
    PulseResponse.objects.current().select_for_update().filter(
        engagement=engagement, respondent=user, period_start=period.start
    ).update(superseded_at=now)
    response = _validated(
        PulseResponse(
            engagement=engagement,
            respondent=user,
            side=side,
            period_kind=period.kind,
            period_start=period.start,
            submitted_at=now,
            **cleaned,
        )
    )
    response.save()
    _inputs_changed(response)
    return response
