"""Domain services: proposal and acceptance, invitations, archiving, contacts, goal progress."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from relationships.models import Engagement, GoalProgress, Invitation, KeyContact, Membership
from relationships.services import (
    engagement_accept,
    engagement_archive,
    engagement_propose,
    goal_progress_report,
    invitation_accept,
    invitation_create,
    key_contact_change,
)
from tests.factories import PASSWORD, KeyContactFactory, SharedGoalFactory, UserFactory

pytestmark = pytest.mark.django_db


def propose_as_client(proposer, client_org, **counterpart):
    return engagement_propose(
        proposer=proposer,
        own_organization=client_org,
        own_side="client",
        name="Cloud migration",
        start_date=date(2026, 2, 1),
        **counterpart,
    )


@pytest.fixture
def proposal(client_manager, client_org, provider_org, engagement):
    # A second engagement with a counterpart the client already works with (`engagement`).
    return propose_as_client(client_manager, client_org, counterpart=provider_org)


# ---------------------------------------------------------------- propose / accept
def test_a_proposal_stays_proposed_and_accepts_no_data(proposal, client_manager, provider_admin):
    assert proposal.status == Engagement.Status.PROPOSED
    assert proposal.proposed_by == client_manager
    for user in (client_manager, provider_admin):
        with pytest.raises(PermissionDenied, match="proposed"):
            proposal.access_for(user).require("write")


@pytest.mark.parametrize("who", ["client_admin", "provider_manager", "outsider"])
def test_only_the_counterparts_admin_can_accept(request, proposal, who):
    with pytest.raises(PermissionDenied):
        engagement_accept(engagement=proposal, user=request.getfixturevalue(who))
    proposal.refresh_from_db()
    assert proposal.status == Engagement.Status.PROPOSED


def test_the_counterparts_admin_accepts_and_both_sides_can_write(
    proposal, provider_admin, client_manager
):
    accepted = engagement_accept(engagement=proposal, user=provider_admin)
    assert accepted.status == Engagement.Status.ACTIVE
    assert accepted.accepted_by == provider_admin and accepted.accepted_at is not None
    assert accepted.access_for(client_manager).require("write").side == "client"
    assert accepted.access_for(provider_admin).require("write").side == "provider"
    with pytest.raises(ValidationError):
        engagement_accept(engagement=accepted, user=provider_admin)


def test_a_viewer_cannot_propose(client_viewer, client_org, provider_org):
    with pytest.raises(PermissionDenied):
        propose_as_client(client_viewer, client_org, counterpart=provider_org)
    assert not Engagement.objects.exists()


def test_proposing_to_a_new_organisation_invites_its_first_admin(
    client_manager, client_org, mailoutbox
):
    engagement = propose_as_client(
        client_manager,
        client_org,
        counterpart_name="Newco Outsourcing",
        counterpart_admin_email="Boss@Newco.example",
    )
    invitation = Invitation.objects.get(organization=engagement.provider)
    assert invitation.email == "boss@newco.example" and invitation.role == "admin"
    assert mailoutbox[0].to == ["boss@newco.example"]


def test_proposing_to_an_unknown_organisation_needs_an_email(client_manager, client_org):
    with pytest.raises(ValidationError) as refused:
        propose_as_client(client_manager, client_org, counterpart_name="Nowhere Ltd")
    assert "counterpart_admin_email" in refused.value.message_dict


# ---------------------------------------------------------------- invitations
@pytest.fixture
def invitation(client_admin, client_org):
    return invitation_create(
        organization=client_org, email="new@client.example", role="manager", invited_by=client_admin
    )


def test_an_invitation_is_emailed_and_stores_only_the_tokens_hash(invitation, mailoutbox):
    row, raw = invitation
    assert raw not in row.token_hash
    assert raw in mailoutbox[0].body


def test_only_an_admin_can_invite(client_manager, client_org):
    with pytest.raises(PermissionDenied):
        invitation_create(
            organization=client_org, email="x@example.com", role="viewer", invited_by=client_manager
        )


def test_an_invitation_joins_a_new_user_once(invitation, client_org):
    row, raw = invitation
    user = invitation_accept(raw_token=raw, username="newbie", password=PASSWORD)
    assert Membership.objects.get(user=user, organization=client_org).role == "manager"
    assert user.check_password(PASSWORD)
    with pytest.raises(ValidationError, match="invalid, used or expired"):
        invitation_accept(raw_token=raw, user=UserFactory())
    assert Membership.objects.filter(organization=client_org, user__username="newbie").count() == 1


def test_an_expired_invitation_is_refused(invitation):
    row, raw = invitation
    Invitation.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="invalid, used or expired"):
        invitation_accept(raw_token=raw, user=UserFactory())


def test_a_wrong_token_is_refused(invitation):
    with pytest.raises(ValidationError, match="invalid, used or expired"):
        invitation_accept(raw_token="not-the-token", user=UserFactory())
    assert not Membership.objects.filter(user__username__startswith="user").exists()


# ---------------------------------------------------------------- archive
def test_archiving_keeps_the_engagement_and_stops_writes(engagement, provider_admin):
    engagement_archive(engagement=engagement, user=provider_admin)
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ARCHIVED
    assert engagement.archived_by == provider_admin
    with pytest.raises(PermissionDenied, match="archived"):
        engagement.access_for(provider_admin).require("write")


def test_only_an_admin_can_archive(engagement, client_manager):
    with pytest.raises(PermissionDenied):
        engagement_archive(engagement=engagement, user=client_manager)
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE


# ---------------------------------------------------------------- key contacts
def test_a_contact_change_ends_the_previous_contact_and_keeps_it(engagement, provider_manager):
    previous = KeyContactFactory(
        engagement=engagement, side="provider", role="delivery_lead", name="Bo"
    )
    KeyContactFactory(engagement=engagement, side="client", role="delivery_lead", name="Cy")
    new = key_contact_change(
        engagement=engagement,
        side="provider",
        role="delivery_lead",
        user=provider_manager,
        name="Di",
        email="di@provider.example",
        start_date=date(2026, 3, 1),
    )
    previous.refresh_from_db()
    assert previous.end_date == date(2026, 2, 28)
    assert new.end_date is None and new.name == "Di"
    assert KeyContact.objects.get(side="client").end_date is None
    assert KeyContact.objects.count() == 3


def test_a_contact_change_cannot_start_before_the_current_contact(engagement, provider_manager):
    KeyContactFactory(engagement=engagement, side="provider", role="delivery_lead")
    with pytest.raises(ValidationError) as refused:
        key_contact_change(
            engagement=engagement,
            side="provider",
            role="delivery_lead",
            user=provider_manager,
            name="Early",
            start_date=date(2026, 1, 1),
        )
    assert "start_date" in refused.value.message_dict
    assert KeyContact.objects.get().end_date is None


def test_a_viewer_cannot_change_contacts(engagement, client_viewer):
    with pytest.raises(PermissionDenied):
        key_contact_change(
            engagement=engagement,
            side="client",
            role="delivery_lead",
            user=client_viewer,
            name="X",
            start_date=date(2026, 3, 1),
        )


# ---------------------------------------------------------------- goal progress
def test_progress_is_reported_with_its_reporter(engagement, client_manager):
    goal = SharedGoalFactory(engagement=engagement)
    progress = goal_progress_report(
        goal=goal, user=client_manager, date=date(2026, 3, 1), percent=40, note=" halfway-ish "
    )
    assert (progress.percent, progress.note) == (40, "halfway-ish")
    assert progress.reporter == client_manager


@pytest.mark.parametrize("percent", [-1, 140])
def test_progress_outside_0_to_100_is_refused(engagement, client_manager, percent):
    goal = SharedGoalFactory(engagement=engagement)
    with pytest.raises(ValidationError) as refused:
        goal_progress_report(goal=goal, user=client_manager, date=date(2026, 3, 1), percent=percent)
    assert "percent" in refused.value.message_dict
    assert not GoalProgress.objects.exists()


def test_a_viewer_cannot_report_progress(engagement, provider_viewer):
    goal = SharedGoalFactory(engagement=engagement)
    with pytest.raises(PermissionDenied):
        goal_progress_report(goal=goal, user=provider_viewer, date=date(2026, 3, 1), percent=10)
