"""Changing the terms of an engagement (PRODUCT.md §7): services and selectors.

`terms_change` is the one entry point of every place that edits a term (the API, the
dashboard). While the engagement is proposed, the proposing side sets its terms (the
counterpart's acceptance accepts them); once it is active, a change by either side is
a ChangeRequest, which applies when the other side accepts it. Keyword-only functions
raising field-keyed ValidationError or PermissionDenied, as relationships.services.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Prefetch
from django.utils import timezone

from relationships import terms
from relationships.models import (
    DECLINE_REASON_MAX,
    SLA,
    WRITER_ROLES,
    Access,
    ChangeRequest,
    ChangeRequestComment,
    Engagement,
    Role,
    ScoringConfig,
    SharedGoal,
)
from relationships.people import person_name
from relationships.signals import engagement_inputs_changed, terms_event

Subject = ChangeRequest.Subject
Status = ChangeRequest.Status


@dataclass(frozen=True)
class TermsChange:
    """What a change to the terms did: applied it (the saved record), or opened a request."""

    applied: models.Model | None
    change_request: ChangeRequest | None


# ---------------------------------------------------------------- asking
def terms_change(
    *, engagement: Engagement, user, subject: str, values: dict, sla=None, goal=None
) -> TermsChange:
    """Change a term of the engagement: an SLA (create when `sla` is None; deactivate
    with {"active": False}), a shared goal (create when `goal` is None; cancel with
    {"cancelled": True}), the scoring configuration, or the engagement's check-in cadence
    and period kind. Applied at once on a proposed engagement by the proposing side;
    an open ChangeRequest on an active one. Invalid values are refused before anything
    is created, so an open request can always be applied."""
    if subject not in Subject.values:
        raise ValidationError({"subject": f"Choose one of {', '.join(Subject.values)}."})
    _check_target(engagement, subject, sla, goal)
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        access = require_terms_access(engagement, user, subject)
        instance = _stored(engagement, subject, sla, goal)
        new = instance.pk is None and subject in (Subject.SLA, Subject.GOAL)
        parsed = terms.parse(subject, values, new=new)
        candidate = terms.with_values(subject, instance, parsed)
        _validate(subject, candidate)
        changed = list(parsed) if new else terms.changed_fields(subject, instance, candidate)
        if not changed:
            raise ValidationError(
                {NON_FIELD_ERRORS: "Nothing to change: these are the values in force."}
            )
        if engagement.status == Engagement.Status.PROPOSED:
            return TermsChange(
                applied=_save(subject, candidate, user, changed), change_request=None
            )
        proposed = terms.proposed_json(subject, candidate, changed)
        change_request = _open(
            engagement=engagement,
            user=user,
            side=access.side,
            subject=subject,
            instance=instance,
            proposed=proposed,
        )
    return TermsChange(applied=None, change_request=change_request)


def _check_target(engagement: Engagement, subject: str, sla, goal) -> None:
    for name, record, expected in (("sla", sla, Subject.SLA), ("goal", goal, Subject.GOAL)):
        if record is None:
            continue
        if subject != expected:
            raise ValidationError({name: f"Give a {name} only with the subject {expected}."})
        if record.engagement_id != engagement.pk:
            raise ValidationError({name: f"Choose a {name} of this engagement."})


def require_terms_access(
    engagement: Engagement, user, subject: str, *, access: Access | None = None
) -> Access:
    """PermissionDenied unless the user may change (or ask to change) this kind of term:
    the proposing side while proposed, either side once active; admins for the scoring.
    access: the user's, if the caller has read it already."""
    access = (access or engagement.access_for(user)).require("read")
    status = engagement.status
    if status == Engagement.Status.PROPOSED and access.side != engagement.proposed_by_side:
        raise PermissionDenied(
            f"The {engagement.proposed_by_side} proposed this engagement and sets its terms "
            "until you accept it; accept it first, then ask for a change."
        )
    if status not in (Engagement.Status.PROPOSED, Engagement.Status.ACTIVE):
        raise PermissionDenied(f"This engagement is {status}; its terms no longer change.")
    if subject == Subject.SCORING_CONFIG and access.role != Role.ADMIN:
        raise PermissionDenied("Only an admin of either party can change the scoring.")
    if access.role not in WRITER_ROLES:
        raise PermissionDenied("Only managers and admins of the engagement's parties can do this.")
    return access


def _stored(engagement: Engagement, subject: str, sla, goal) -> models.Model:
    """The record the change is to, locked; a new one (unsaved) for a new SLA or goal."""
    if subject == Subject.SLA:
        return SLA.objects.select_for_update().get(pk=sla.pk) if sla else SLA(engagement=engagement)
    if subject == Subject.GOAL:
        if goal:
            return SharedGoal.objects.select_for_update().get(pk=goal.pk)
        return SharedGoal(engagement=engagement)
    if subject == Subject.SCORING_CONFIG:
        stored = ScoringConfig.objects.select_for_update().filter(engagement=engagement).first()
        return stored or ScoringConfig(engagement=engagement)
    return engagement


def _validate(subject: str, candidate: models.Model) -> None:
    """The model's own rules on the record as the change would leave it."""
    if subject == Subject.SCORING_CONFIG:
        try:
            terms.config_values(**{name: getattr(candidate, name) for name in terms.SCORING_TERMS})
        except ValueError as error:
            raise ValidationError({"weights": str(error)}) from None
        return
    exclude = (
        [
            field.name
            for field in Engagement._meta.concrete_fields
            if field.name not in terms.ENGAGEMENT_TERMS
        ]
        if subject == Subject.ENGAGEMENT
        else None
    )
    try:
        candidate.full_clean(exclude=exclude)
    except ValidationError as error:
        errors = error.message_dict
        # The one unique rule across fields is the SLA's name in its engagement.
        if subject == Subject.SLA and NON_FIELD_ERRORS in errors:
            errors.setdefault("name", []).extend(errors.pop(NON_FIELD_ERRORS))
        raise ValidationError(errors) from None


def _save(subject: str, candidate: models.Model, user, changed: list[str]) -> models.Model:
    """Save the changed record through the model, so its history records who agreed."""
    candidate._history_user = user
    if subject == Subject.SCORING_CONFIG:
        candidate.updated_by = user
    if subject == Subject.ENGAGEMENT:
        candidate.save(update_fields=changed)
    else:
        candidate.save()
    engagement_inputs_changed.send(
        sender=type(candidate),
        engagement_ids=[candidate.pk if subject == Subject.ENGAGEMENT else candidate.engagement_id],
    )
    return candidate


def _open(*, engagement, user, side, subject, instance, proposed) -> ChangeRequest:
    now = timezone.now()
    change_request = ChangeRequest(
        engagement=engagement,
        subject=subject,
        sla=instance if subject == Subject.SLA and instance.pk else None,
        goal=instance if subject == Subject.GOAL and instance.pk else None,
        thing=terms.thing_key(subject, instance, proposed),
        proposed=proposed,
        current=terms.snapshot(subject, instance),
        requested_by=user,
        requested_side=side,
        requested_at=now,
    )
    # One that expired unseen (the task has not run yet) no longer blocks a new one.
    _expire(ChangeRequest.objects.filter(engagement=engagement, thing=change_request.thing), now)
    earlier = ChangeRequest.objects.filter(
        engagement=engagement, thing=change_request.thing, status=Status.OPEN
    ).first()
    if earlier is None:
        try:
            with transaction.atomic():
                change_request.save()
        except IntegrityError:  # a concurrent request for the same thing got there first
            earlier = ChangeRequest.objects.filter(
                engagement=engagement, thing=change_request.thing, status=Status.OPEN
            ).first()
    if earlier is not None:
        raise ValidationError(
            {
                NON_FIELD_ERRORS: f"Change request #{earlier.pk} for the {earlier.subject_label} "
                f"is open already ({earlier.get_absolute_url()}): comment on it, or wait "
                "until it is decided or withdrawn."
            }
        )
    _announce(change_request, "opened")
    return change_request


# ---------------------------------------------------------------- deciding
def _require(change_request: ChangeRequest, user, action: str) -> Access:
    """The user's access if they may `action` the request; otherwise PermissionDenied, or
    for a writer of a request no longer open, a ValidationError on its status."""
    access = change_request.engagement.access_for(user)
    refusal = change_request.refusal(user, action, access)
    if refusal is None:
        return access
    if access.role in WRITER_ROLES and not change_request.is_open:
        raise ValidationError({"status": refusal})
    raise PermissionDenied(refusal)


def _claim(change_request: ChangeRequest, status: str, **fields) -> ChangeRequest:
    """Move an open, unexpired request to `status`, once: a conditional UPDATE, so two
    deciders (or a decider and the expiry) cannot both win."""
    now = timezone.now()
    claimed = ChangeRequest.objects.filter(
        pk=change_request.pk, status=Status.OPEN, expires_at__gt=now
    ).update(status=status, decided_at=now, **fields)
    if not claimed:
        change_request.refresh_from_db()
        raise ValidationError(
            {"status": f"This change request is {change_request.status}, no longer open."}
        )
    change_request.refresh_from_db()
    return change_request


@transaction.atomic
def change_request_accept(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """A manager or admin of the other side (an admin, for the scoring configuration)
    accepts: the change applies from the period in progress on."""
    _require(change_request, user, "accept")
    change_request = _claim(change_request, Status.ACCEPTED, decided_by=user)
    engagement = Engagement.objects.select_for_update().get(pk=change_request.engagement_id)
    subject = change_request.subject
    instance = _stored(engagement, subject, change_request.sla, change_request.goal)
    replaced = terms.snapshot(subject, instance)
    candidate = terms.with_values(
        subject, instance, terms.from_json(subject, change_request.proposed)
    )
    try:
        _validate(subject, candidate)
    except ValidationError as error:
        raise ValidationError(
            {
                "status": "This change can no longer apply as asked, since the terms changed "
                f"meanwhile: {' '.join(error.messages)} Decline it and ask again."
            }
        ) from None
    applied = _save(subject, candidate, user, list(change_request.proposed))
    change_request.replaced = replaced
    change_request.applies_from = engagement.current_period().start
    if subject == Subject.SLA:
        change_request.sla = applied
    elif subject == Subject.GOAL:
        change_request.goal = applied
    change_request.save(update_fields=["replaced", "applies_from", "sla", "goal"])
    _announce(change_request, "accepted")
    return change_request


@transaction.atomic
def change_request_decline(*, change_request: ChangeRequest, user, reason: str) -> ChangeRequest:
    """The other side declines, saying why; nothing changes."""
    _require(change_request, user, "decline")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you decline: the other side reads it."})
    if len(reason) > DECLINE_REASON_MAX:
        raise ValidationError(
            {"reason": f"At most {DECLINE_REASON_MAX} characters (this has {len(reason)})."}
        )
    change_request = _claim(change_request, Status.DECLINED, decided_by=user, decline_reason=reason)
    _announce(change_request, "declined")
    return change_request


@transaction.atomic
def change_request_withdraw(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """The side that asked takes the request back; nothing changes."""
    _require(change_request, user, "withdraw")
    change_request = _claim(change_request, Status.WITHDRAWN, decided_by=user)
    _announce(change_request, "withdrawn")
    return change_request


def change_request_comment(
    *, change_request: ChangeRequest, user, body: str
) -> ChangeRequestComment:
    """Either side's managers and admins discuss an open request."""
    access = _require(change_request, user, "comment")
    comment = ChangeRequestComment(
        change_request=change_request,
        author=user,
        side=access.side,
        body=(body or "").strip(),
    )
    if not comment.body:
        raise ValidationError({"body": "Write a comment."})
    comment.full_clean()
    comment.save()
    return comment


def change_requests_expire(*, now: datetime | None = None) -> int:
    """Expire the open requests made 30 days or more before `now`; how many it expired."""
    return _expire(ChangeRequest.objects.all(), now or timezone.now())


def _expire(requests, now: datetime) -> int:
    due = requests.filter(status=Status.OPEN, expires_at__lte=now).values_list("pk", flat=True)
    expired = 0
    for pk in list(due):
        with transaction.atomic():
            if ChangeRequest.objects.filter(pk=pk, status=Status.OPEN).update(
                status=Status.EXPIRED, decided_at=now
            ):
                _announce(ChangeRequest.objects.get(pk=pk), "expired")
                expired += 1
    return expired


def _announce(change_request: ChangeRequest, what: str) -> None:
    """Tell the apps above (the webhook outbox) in the transaction of the change."""
    engagement = change_request.engagement
    fields = {
        "id": change_request.pk,
        "subject": change_request.subject,
        "what": change_request.subject_label,
        "status": change_request.status,
        "requested_side": change_request.requested_side,
        "requested_by": person_name(change_request.requested_by)
        if change_request.requested_by
        else None,
        "requested_at": change_request.requested_at.isoformat(),
        "expires_at": change_request.expires_at.isoformat(),
        "decided_by": person_name(change_request.decided_by) if change_request.decided_by else None,
        "decline_reason": change_request.decline_reason,
        "applies_from": change_request.applies_from.isoformat()
        if change_request.applies_from
        else None,
        "changes": [
            {"what": label, "current": current, "proposed": proposed}
            for label, current, proposed in change_request.changes()
        ],
    }
    terms_event.send(
        sender=ChangeRequest,
        engagement=engagement,
        event=f"change_request.{what}",
        subject="change_request",
        fields=fields,
    )


# ---------------------------------------------------------------- reading
def change_requests_of(engagement: Engagement, *, open: bool = True):
    """The engagement's open requests (not past their expiry), or all the others, newest
    first, with who asked, who decided and the comments loaded."""
    still_open = models.Q(status=Status.OPEN, expires_at__gt=timezone.now())
    requests = ChangeRequest.objects.filter(engagement=engagement)
    return with_people(requests.filter(still_open) if open else requests.exclude(still_open))


def with_people(requests):
    """Change requests with their engagement, who asked, who decided and the comments
    (with their authors) loaded: a list of them reads in three queries."""
    return requests.select_related("engagement", "requested_by", "decided_by").prefetch_related(
        Prefetch("comments", queryset=ChangeRequestComment.objects.select_related("author"))
    )
