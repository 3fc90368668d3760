"""Writes that span models. The admin, the API and the dashboard all call these.

Every function takes keyword arguments only, checks the actor's right to act,
and raises django.core.exceptions.ValidationError (field errors) or
PermissionDenied; views turn those into 4xx answers.
"""

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from core import links
from relationships import names
from relationships.models import (
    DECLINE_REASON_MAX,
    KEY_CONTACT_WORK_ENDS,
    KEY_CONTACT_WORK_STARTS,
    ApiToken,
    Engagement,
    GoalProgress,
    Invitation,
    KeyContact,
    Membership,
    Organization,
    Role,
    SharedGoal,
    Side,
)
from relationships.people import person_name
from relationships.signals import engagement_inputs_changed


# ---------------------------------------------------------------- organisations
@transaction.atomic
def organization_create(*, name: str, creator) -> Organization:
    """A new organisation whose creator becomes its first admin."""
    organization = _organization_save(Organization(name=name))
    Membership.objects.create(user=creator, organization=organization, role=Role.ADMIN)
    return organization


def _organization_save(organization: Organization, *, field: str = "name") -> Organization:
    """Save a named organisation; a name that is taken, or looks like one that is, is a
    ValidationError on `field` (the input that gave the name)."""
    try:
        organization.full_clean()
        with transaction.atomic():
            organization.save()
    except ValidationError as error:
        raise ValidationError({field: error.message_dict.get("name", error.messages)}) from None
    except IntegrityError:
        # A look-alike saved by a concurrent request since full_clean looked.
        raise ValidationError({field: names.LOOK_ALIKE}) from None
    return organization


def membership_role_change(*, membership: Membership, role: str, user) -> Membership:
    """An admin of the organisation changes a member's role, never leaving it without an admin."""
    membership.organization.require_admin(user)
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of {', '.join(Role.values)}."})
    if role != Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, user) -> int:
    """An admin of the organisation removes a member, never its last admin; returns how
    many API tokens were revoked.

    Their records stay, attributed to them: nothing refers to a membership, and the
    person's account is kept. Their access ends with the membership (it is read on every
    request). A token is the person's, not the organisation's: when they belong to no
    organisation any more, every token of theirs is revoked; while they belong to
    another, their tokens stay for its work (an admin here does not cut off an
    integration there) and reach nothing of this organisation."""
    membership.organization.require_admin(user)
    _keep_an_admin(membership)
    member = membership.user
    membership.delete()
    if Membership.objects.filter(user=member).exists():
        return 0
    revoked = 0
    # One by one, so each revocation is in the tokens' audit history.
    for token in ApiToken.objects.filter(user=member):
        token.delete()
        revoked += 1
    return revoked


def _keep_an_admin(membership: Membership) -> None:
    others = Membership.objects.filter(
        organization_id=membership.organization_id, role=Role.ADMIN
    ).exclude(pk=membership.pk)
    if membership.role == Role.ADMIN and not others.exists():
        raise ValidationError({"role": "An organisation needs at least one admin."})


def invitation_create(
    *,
    organization: Organization,
    email: str,
    role: str,
    invited_by,
    send: bool = True,
    counterpart_of_proposal: bool = False,
    site_url: str = "",
) -> tuple[Invitation, str]:
    """Invite a person by email; returns the invitation and its raw token (sent by email).

    The link starts with `site_url` (core.links.site_url of the request that invites), else
    SITE_URL.

    `counterpart_of_proposal`: `invited_by` has just proposed an engagement to this new
    organisation, which has no admin yet; the invitation makes its first admin, so the
    inviter need not be one, and the email speaks of the proposal.
    """
    if not counterpart_of_proposal:
        organization.require_admin(invited_by)
    if role not in Role.values:
        raise ValidationError({"role": f"Choose one of {', '.join(Role.values)}."})
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {organization}."})
    raw, digest = Invitation.new_token()
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=digest,
        invited_by=invited_by,
        expires_at=timezone.now() + Invitation.VALID_FOR,
    )
    invitation.full_clean()
    invitation.save()
    if send:
        _invitation_send(
            invitation,
            raw,
            inviter=invited_by,
            site_url=site_url,
            counterpart_of_proposal=counterpart_of_proposal,
        )
    return invitation, raw


def _invitation_send(
    invitation: Invitation, raw: str, *, inviter, site_url: str, counterpart_of_proposal=False
) -> None:
    organization, name = invitation.organization, person_name(inviter)
    link = f"{site_url or links.site_url()}/invitations/{raw}/"
    if counterpart_of_proposal:
        subject = f"{name} proposes an engagement on Accord"
        message = f"Join {organization} on Accord: {link}"
    else:
        subject = f"You are invited to {organization} on Accord"
        message = (
            f"{name} invited you to join {organization} on Accord as {invitation.role}.\n\n"
            f"Accept: {link}\n\n"
            f"The link works once and expires in {Invitation.VALID_FOR.days} days."
        )
    send_mail(subject=subject, message=message, from_email=None, recipient_list=[invitation.email])


@transaction.atomic
def invitation_resend(*, invitation: Invitation, user, site_url: str = "") -> Invitation:
    """An admin sends a pending (or expired) invitation again: a new link, valid for
    VALID_FOR from now; the old link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    invitation.organization.require_admin(user)
    _require_open(invitation)
    raw, invitation.token_hash = Invitation.new_token()
    invitation.expires_at = timezone.now() + Invitation.VALID_FOR
    invitation.save(update_fields=["token_hash", "expires_at"])
    _invitation_send(invitation, raw, inviter=user, site_url=site_url)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, user) -> Invitation:
    """An admin revokes an invitation not yet accepted: its link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    invitation.organization.require_admin(user)
    _require_open(invitation)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


def _require_open(invitation: Invitation) -> None:
    if invitation.accepted_at:
        raise ValidationError({"invitation": f"{invitation.email} has already accepted it."})
    if invitation.revoked_at:
        raise ValidationError({"invitation": "This invitation was revoked; invite them again."})


def invitation_by_token(raw_token: str) -> Invitation | None:
    from relationships.models import hash_token

    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    return invitation if invitation and invitation.is_usable() else None


@transaction.atomic
def invitation_accept(*, raw_token: str, user=None, username: str = "", password: str = ""):
    """Join the invitation's organisation, as `user` or as a new user with a password.

    The invitation is for one address: a signed-in user joins only if their e-mail is
    that address, and a new account gets that address. Single use: the invitation row
    is locked and marked accepted in one transaction.
    """
    from django.contrib.auth.password_validation import validate_password

    from relationships.models import hash_token

    invitation = (
        Invitation.objects.select_for_update().filter(token_hash=hash_token(raw_token)).first()
    )
    if invitation is None or not invitation.is_usable():
        raise ValidationError({"token": "This invitation is invalid, used or expired."})
    User = get_user_model()
    if user is None:
        # One account per address: its owner signs in to accept.
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationError(
                {"username": f"An account for {invitation.email} exists: sign in to accept."}
            )
        username = (username or invitation.email).strip()
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": "This username is taken."})
        candidate = User(username=username, email=invitation.email)
        validate_password(password, candidate)
        candidate.set_password(password)
        candidate.save()
        user = candidate
    elif not invitation.is_for(user):
        raise PermissionDenied(invitation_refusal(invitation, user))
    Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return user


def invitation_refusal(invitation: Invitation, user) -> str:
    """Why `user` cannot accept an invitation sent to another address, and what to do."""
    yours = user.email or "no e-mail address"
    return (
        f"This invitation was sent to {invitation.email}, and you are signed in with {yours}. "
        f"Sign out, then open the invitation again to sign in or sign up as {invitation.email}."
    )


# ---------------------------------------------------------------- engagements
# The same words for an organisation that does not exist and for one the proposer
# may not address: the answer must not tell which.
UNKNOWN_COUNTERPART = (
    "Choose an organisation yours already has an engagement with, or invite a new one "
    "by its name and its admin's e-mail."
)


@transaction.atomic
def engagement_propose(
    *,
    proposer,
    own_organization: Organization,
    own_side: str,
    counterpart: Organization | None = None,
    counterpart_name: str = "",
    counterpart_admin_email: str = "",
    site_url: str = "",
    **fields,
) -> Engagement:
    """One side proposes an engagement to a counterpart organisation.

    The counterpart is one `own_organization` already has an engagement with (in any
    status), chosen by id; or the organisation that `counterpart_admin_email` administers
    on Accord (first contact: the proposer knows a person there, not a name to match);
    or else a new organisation, created with `counterpart_name`, whose first admin is
    invited at that address. Never an organisation found by its name. The engagement
    stays `proposed` until an admin of the counterpart accepts it.
    """
    if not Organization.objects.writable_by(proposer).filter(pk=own_organization.pk).exists():
        raise PermissionDenied(f"Only a manager or admin of {own_organization} can propose.")
    if own_side not in Side.values:
        raise ValidationError({"own_side": "Choose client or provider."})
    engagement = Engagement(
        status=Engagement.Status.PROPOSED,
        proposed_by=proposer,
        proposed_by_side=own_side,
        proposed_at=timezone.now(),
        **fields,
    )
    # The terms first: a new counterpart is created, and its admin e-mailed, only for a
    # proposal that is otherwise valid.
    engagement.full_clean(exclude=["client", "provider"], validate_constraints=False)
    if counterpart is not None:
        if counterpart_name.strip() or counterpart_admin_email.strip():
            raise ValidationError(
                {"counterpart_name": "Choose an organisation or invite a new one, not both."}
            )
        own = Organization.objects.filter(pk=own_organization.pk)
        if not Organization.objects.counterparts_of(own).filter(pk=counterpart.pk).exists():
            raise ValidationError({"counterpart": UNKNOWN_COUNTERPART})
    else:
        counterpart = _counterpart_invite(
            name=counterpart_name,
            admin_email=counterpart_admin_email,
            proposer=proposer,
            site_url=site_url,
        )
    if own_side == Side.CLIENT:
        engagement.client, engagement.provider = own_organization, counterpart
    else:
        engagement.client, engagement.provider = counterpart, own_organization
    try:
        engagement.full_clean()
    except ValidationError as error:
        # The proposer named the other party as `counterpart`, whichever side it takes.
        raise ValidationError(
            {
                "counterpart" if key in ("client", "provider") else key: messages
                for key, messages in error.message_dict.items()
            }
        ) from None
    engagement.save()
    return engagement


def _counterpart_invite(*, name: str, admin_email: str, proposer, site_url: str) -> Organization:
    """The organisation the address administers on Accord, or else one created by name
    with its first admin invited."""
    if admin_email.strip():
        administered = list(
            Organization.objects.filter(
                memberships__role=Role.ADMIN, memberships__user__email__iexact=admin_email.strip()
            ).distinct()[:2]
        )
        if len(administered) == 1:
            return administered[0]
        if administered:
            raise ValidationError(
                {
                    "counterpart_admin_email": "This person administers several organisations "
                    "on Accord; ask them which one, and for an engagement to start from."
                }
            )
    if not name.strip():
        raise ValidationError({"counterpart": UNKNOWN_COUNTERPART})
    if not admin_email.strip():
        raise ValidationError(
            {"counterpart_admin_email": "Give the e-mail of the new organisation's admin."}
        )
    counterpart = _organization_save(Organization(name=name), field="counterpart_name")
    invitation_create(
        organization=counterpart,
        email=admin_email,
        role=Role.ADMIN,
        invited_by=proposer,
        counterpart_of_proposal=True,
        site_url=site_url,
    )
    return counterpart


@transaction.atomic
def engagement_accept(*, engagement: Engagement, user) -> Engagement:
    """The counterpart's admin accepts a proposed engagement, which becomes active."""
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    if engagement.status != Engagement.Status.PROPOSED:
        raise ValidationError({"status": f"This engagement is {engagement.status}, not proposed."})
    engagement.access_for(user).require("accept")
    engagement.status = Engagement.Status.ACTIVE
    engagement.accepted_by = user
    engagement.accepted_at = timezone.now()
    engagement.save(update_fields=["status", "accepted_by", "accepted_at"])
    return engagement


@transaction.atomic
def engagement_decline(*, engagement: Engagement, user, reason: str) -> Engagement:
    """The counterpart's admin declines a proposed engagement, saying why.

    Declined rather than deleted or archived: the proposal stays, read-only, and both
    sides see who declined it, when and why (the engagement page and the API).
    """
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    if engagement.status != Engagement.Status.PROPOSED:
        raise ValidationError({"status": f"This engagement is {engagement.status}, not proposed."})
    engagement.access_for(user).require("accept")
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why you decline: the proposing side reads it with the decision."}
        )
    if len(reason) > DECLINE_REASON_MAX:
        raise ValidationError(
            {"reason": f"At most {DECLINE_REASON_MAX} characters (this has {len(reason)})."}
        )
    engagement.status = Engagement.Status.DECLINED
    engagement.declined_by = user
    engagement.declined_at = timezone.now()
    engagement.decline_reason = reason
    engagement.save(update_fields=["status", "declined_by", "declined_at", "decline_reason"])
    return engagement


@transaction.atomic
def engagement_archive(*, engagement: Engagement, user) -> Engagement:
    """Engagements are never deleted: archiving keeps every record, read-only."""
    engagement.access_for(user).require("archive")
    engagement.status = Engagement.Status.ARCHIVED
    engagement.archived_by = user
    engagement.archived_at = timezone.now()
    engagement.save(update_fields=["status", "archived_by", "archived_at"])
    return engagement


# Sent with `engagement` after its time zone changed: the records that keep
# engagement-local dates live in apps above this one, which listen.
engagement_time_zone_changed = Signal()


def engagement_local_dates_refresh(*, engagement: Engagement) -> None:
    """Re-derive the engagement-local dates of its records, after its time zone changed."""
    engagement_time_zone_changed.send(sender=Engagement, engagement=engagement)


# ---------------------------------------------------------------- contacts and goals
@transaction.atomic
def key_contact_change(
    *,
    engagement: Engagement,
    side: str,
    role: str,
    user,
    name: str,
    email: str = "",
    start_date: date,
    contact_user=None,
    tier: str = "",
    time_zone: str = "",
    work_starts: time = KEY_CONTACT_WORK_STARTS,
    work_ends: time = KEY_CONTACT_WORK_ENDS,
) -> KeyContact:
    """A new key contact for a side and role; the current one ends the day before, kept.
    Blank `tier`: the role's usual tier (KeyContact.ROLE_TIERS); without a time zone the
    contact works in the engagement's."""
    engagement.access_for(user).require("write")
    contact = KeyContact(
        engagement=engagement,
        side=side,
        role=role,
        name=name.strip(),
        email=email.strip(),
        start_date=start_date,
        user=contact_user,
        tier=tier,
        time_zone=time_zone or engagement.time_zone,
        work_starts=work_starts,
        work_ends=work_ends,
    )
    contact.full_clean()
    current = list(
        KeyContact.objects.select_for_update().filter(
            engagement=engagement, side=side, role=role, end_date__isnull=True
        )
    )
    for previous in current:
        if previous.start_date >= start_date:
            raise ValidationError(
                {"start_date": f"{previous.name} started on {previous.start_date}; start later."}
            )
        previous.end_date = start_date - timedelta(days=1)
        previous.save(update_fields=["end_date"])
    contact.save()
    engagement_inputs_changed.send(sender=KeyContact, engagement_ids=[engagement.pk])
    return contact


def key_contact_hours_set(
    *, contact: KeyContact, user, time_zone: str, work_starts: time, work_ends: time
) -> KeyContact:
    """Where and when a key contact works, for planning check-ins."""
    return key_contact_correct(
        contact=contact,
        user=user,
        time_zone=time_zone,
        work_starts=work_starts,
        work_ends=work_ends,
    )


def key_contact_correct(*, contact: KeyContact, user, **changes) -> KeyContact:
    """Correct a key contact in place: its name, email, tier, time zone, working hours, or
    the day it ended (a new person in the role is `key_contact_change`)."""
    contact.access_for(user).require("write")
    for name, value in changes.items():
        setattr(contact, name, value)
    contact.full_clean()
    contact.save(update_fields=list(changes))
    engagement_inputs_changed.send(sender=KeyContact, engagement_ids=[contact.engagement_id])
    return contact


def goal_progress_report(
    *, goal: SharedGoal, user, date: date, percent: int, note: str = ""
) -> GoalProgress:
    """Report how far a shared goal has come, as a percentage on a date."""
    goal.engagement.access_for(user).require("write")
    # A report says how far the goal has come: a date after today is a typo.
    if date > timezone.localdate(timezone=goal.engagement.tz):
        raise ValidationError({"date": "Report progress on today's date or earlier."})
    progress = GoalProgress(goal=goal, date=date, percent=percent, note=note.strip(), reporter=user)
    progress.full_clean()
    progress.save()
    engagement_inputs_changed.send(sender=GoalProgress, engagement_ids=[goal.engagement_id])
    return progress
