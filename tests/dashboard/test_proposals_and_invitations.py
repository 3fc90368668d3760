"""Engagement proposal and acceptance; invitations by email."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.forms import engagement_forms
from relationships.models import Engagement, Invitation, Membership, Organization
from relationships.services import UNKNOWN_COUNTERPART, invitation_create

pytestmark = pytest.mark.django_db

PROPOSAL = {
    "name": "Managed service desk",
    "own_side": "client",
    "phase": "pilot",
    "start_date": "2026-03-01",
    "time_zone": "Europe/Berlin",
    "scorecard_period": "month",
    "checkin_cadence_days": "7",
}


def propose(client, own_organization, **fields):
    return client.post(
        reverse("engagement-propose"),
        {**PROPOSAL, "own_organization": own_organization.pk, **fields},
    )


def forms_for(user, engagement) -> dict:
    return engagement_forms(engagement, engagement.access_for(user))


# ---------------------------------------------------------------- proposals
def test_proposal_accepted_by_the_counterpart_admin(
    as_user, engagement, client_org, provider_org, client_manager, provider_admin
):
    response = propose(as_user(client_manager), client_org, counterpart=provider_org.pk)
    engagement = Engagement.objects.get(status="proposed")
    assert response["Location"] == reverse("engagement-detail", args=[engagement.pk])
    assert (engagement.client, engagement.provider, engagement.status) == (
        client_org,
        provider_org,
        "proposed",
    )
    assert "Accept engagement" in as_user(provider_admin).get(engagement.get_absolute_url()).text
    assert (
        "Accept engagement" not in as_user(client_manager).get(engagement.get_absolute_url()).text
    )

    response = as_user(provider_admin).post(reverse("engagement-accept", args=[engagement.pk]))
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert (engagement.status, engagement.accepted_by) == ("active", provider_admin)


@pytest.mark.parametrize("who", ["client_admin", "provider_manager"])
def test_only_the_counterpart_admin_accepts(
    as_user, request, engagement, client_org, provider_org, client_manager, who
):
    propose(as_user(client_manager), client_org, counterpart=provider_org.pk)
    engagement = Engagement.objects.get(status="proposed")
    user = request.getfixturevalue(who)
    assert as_user(user).post(reverse("engagement-accept", args=[engagement.pk])).status_code == 403
    engagement.refresh_from_db()
    assert engagement.status == "proposed"


def test_accepting_an_active_engagement_says_why_not(as_user, engagement, provider_admin):
    response = as_user(provider_admin).post(
        reverse("engagement-accept", args=[engagement.pk]), follow=True
    )
    assert "This engagement is active, not proposed." in response.content.decode()


def test_outsider_cannot_accept(as_user, engagement, outsider):
    assert (
        as_user(outsider).post(reverse("engagement-accept", args=[engagement.pk])).status_code
        == 404
    )


def test_accept_takes_post_only(as_user, engagement, provider_admin):
    assert (
        as_user(provider_admin).get(reverse("engagement-accept", args=[engagement.pk])).status_code
        == 405
    )


def test_new_counterpart_needs_an_admin_email(as_user, client_org, client_manager):
    response = propose(as_user(client_manager), client_org, counterpart_name="Newco Ltd")
    assert response.status_code == 400
    assert response.context["form"].errors["counterpart_admin_email"]
    assert "Managed service desk" in response.content.decode()
    assert not Engagement.objects.exists()
    assert not Organization.objects.filter(name="Newco Ltd").exists()


def test_new_counterpart_is_created_and_its_admin_invited(as_user, client_org, client_manager):
    propose(
        as_user(client_manager),
        client_org,
        counterpart_name="Newco Ltd",
        counterpart_admin_email="boss@newco.example",
    )
    assert Engagement.objects.get().provider.name == "Newco Ltd"
    assert mail.outbox[0].to == ["boss@newco.example"]
    assert "proposes an engagement" in mail.outbox[0].subject
    assert "Join Newco Ltd on Accord: " in mail.outbox[0].body
    assert Invitation.objects.get(organization__name="Newco Ltd").role == "admin"


def test_proposal_errors_appear_next_to_fields(
    as_user, engagement, client_org, provider_org, client_manager
):
    response = propose(
        as_user(client_manager),
        client_org,
        counterpart=provider_org.pk,
        end_date="2026-01-01",
        time_zone="Mars/Olympus",
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "time_zone" in errors
    assert not Engagement.objects.filter(status="proposed").exists()


def test_proposal_end_before_start_is_refused(
    as_user, engagement, client_org, provider_org, client_manager
):
    response = propose(
        as_user(client_manager),
        client_org,
        counterpart=provider_org.pk,
        end_date="2026-01-01",
    )
    assert response.context["form"].errors["end_date"] == [
        "The end date cannot be before the start date."
    ]


def test_own_organisation_cannot_be_the_counterpart(
    as_user, engagement, client_org, client_manager
):
    response = propose(as_user(client_manager), client_org, counterpart=client_org.pk)
    assert response.status_code == 400
    assert response.context["form"].errors["counterpart"] == [UNKNOWN_COUNTERPART]
    assert not Engagement.objects.filter(status="proposed").exists()


def test_viewer_cannot_propose_for_their_organisation(
    as_user, engagement, client_org, provider_org, client_viewer
):
    response = propose(as_user(client_viewer), client_org, counterpart=provider_org.pk)
    assert response.status_code == 400
    assert "own_organization" in response.context["form"].errors
    assert not Engagement.objects.filter(status="proposed").exists()


def test_cannot_propose_for_someone_elses_organisation(
    as_user, engagement, outsider_org, provider_org, client_manager
):
    response = propose(as_user(client_manager), outsider_org, counterpart=provider_org.pk)
    assert "own_organization" in response.context["form"].errors


# ---------------------------------------------------------------- engagement page forms
def test_manager_gets_write_forms_viewer_none(engagement, client_manager, client_viewer):
    sections = forms_for(client_manager, engagement)["write_forms"]
    assert [s["action"] for s in sections] == [
        reverse(name, args=[engagement.pk])
        for name in (
            "checkin-create",
            "feedback-create",
            "issue-create",
            "action-item-create",
            "measurement-create",
            "measurement-upload",
        )
    ]
    assert forms_for(client_viewer, engagement) == {"write_forms": []}


def test_write_forms_render_with_unique_ids(as_user, engagement, client_manager):
    """Every record form, loaded into the engagement page, keeps the page's ids unique."""
    client = as_user(client_manager)
    html = client.get(reverse("engagement-detail", args=[engagement.pk])).content.decode()
    for section in forms_for(client_manager, engagement)["write_forms"]:
        html += client.get(section["part"]).content.decode()
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert 'for="checkin_occurred_at"' in html


# ---------------------------------------------------------------- invitations
def invitations(organization):
    return reverse("invitation-list", args=[organization.pk])


def invite_link(message) -> str:
    return re.search(r"/invitations/[^/\s]+/", message.body).group(0)


def test_admin_sends_an_invitation_and_the_invitee_joins_with_a_password(
    as_user, client_org, client_admin
):
    response = as_user(client_admin).post(
        invitations(client_org), {"email": "New.Person@Example.com", "role": "manager"}
    )
    assert response.status_code == 302
    assert mail.outbox[0].to == ["new.person@example.com"]
    link = invite_link(mail.outbox[0])

    visitor = Client()
    assert visitor.get(link).status_code == 200
    response = visitor.post(
        link,
        {
            "username": "newperson",
            "password": "a long pass phrase",
            "password_again": "a long pass phrase",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="newperson")
    assert (membership.organization, membership.role) == (client_org, "manager")
    assert visitor.get(reverse("portfolio")).status_code == 200  # signed in


def test_invitation_list_shows_sent_invitations(as_user, client_org, client_admin):
    invitation_create(
        organization=client_org, email="a@example.com", role="viewer", invited_by=client_admin
    )
    page = as_user(client_admin).get(invitations(client_org)).content.decode()
    assert "a@example.com" in page
    assert "Pending until" in page


def test_invitee_password_errors_are_shown(as_user, client_org, client_admin):
    _, token = invitation_create(
        organization=client_org, email="a@example.com", role="viewer", invited_by=client_admin
    )
    link = reverse("invitation-accept", args=[token])
    response = Client().post(link, {"username": "anna", "password": "123", "password_again": "123"})
    assert response.status_code == 400
    assert response.context["form"].errors["password"]
    assert 'value="anna"' in response.content.decode()
    response = Client().post(
        link, {"username": "anna", "password": "a long pass phrase", "password_again": "other"}
    )
    assert response.context["form"].errors["password_again"] == ["The two passwords differ."]
    assert not Membership.objects.filter(user__username="anna").exists()


def test_taken_username_is_a_field_error(as_user, client_org, client_admin, provider_manager):
    _, token = invitation_create(
        organization=client_org, email="a@example.com", role="viewer", invited_by=client_admin
    )
    response = Client().post(
        reverse("invitation-accept", args=[token]),
        {
            "username": provider_manager.username,
            "password": "a long pass phrase",
            "password_again": "a long pass phrase",
        },
    )
    assert response.context["form"].errors["username"] == ["This username is taken."]


def test_signed_in_user_joins_with_one_click(as_user, client_org, client_admin, provider_manager):
    _, token = invitation_create(
        organization=client_org,
        email=provider_manager.email,
        role="viewer",
        invited_by=client_admin,
    )
    response = as_user(provider_manager).post(reverse("invitation-accept", args=[token]))
    assert response.status_code == 302
    assert Membership.objects.filter(user=provider_manager, organization=client_org).exists()


def test_used_token_is_refused(as_user, client_org, client_admin, provider_manager):
    _, token = invitation_create(
        organization=client_org,
        email=provider_manager.email,
        role="viewer",
        invited_by=client_admin,
    )
    as_user(provider_manager).post(reverse("invitation-accept", args=[token]))
    response = Client().get(reverse("invitation-accept", args=[token]))
    assert response.status_code == 404
    assert "cannot be used" in response.content.decode()


def test_expired_token_is_refused(client_org, client_admin):
    invitation, token = invitation_create(
        organization=client_org, email="a@example.com", role="viewer", invited_by=client_admin
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    link = reverse("invitation-accept", args=[token])
    assert Client().get(link).status_code == 404
    response = Client().post(
        link,
        {
            "username": "anna",
            "password": "a long pass phrase",
            "password_again": "a long pass phrase",
        },
    )
    assert response.status_code == 404
    assert not Membership.objects.filter(user__username="anna").exists()


def test_unknown_token_is_refused():
    assert Client().get(reverse("invitation-accept", args=["nonsense"])).status_code == 404


def test_invitation_for_an_existing_member_is_a_field_error(
    as_user, client_org, client_admin, client_viewer
):
    response = as_user(client_admin).post(
        invitations(client_org), {"email": client_viewer.email, "role": "viewer"}
    )
    assert response.status_code == 400
    assert "already a member" in response.context["form"].errors["email"][0]
    assert not mail.outbox


def test_invalid_email_keeps_input(as_user, client_org, client_admin):
    response = as_user(client_admin).post(
        invitations(client_org), {"email": "not-an-email", "role": "viewer"}
    )
    assert response.status_code == 400
    assert 'value="not-an-email"' in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("who, status", [("client_manager", 403), ("outsider", 404)])
def test_only_the_organisation_admin_sees_invitations(as_user, client_org, request, who, status):
    client = as_user(request.getfixturevalue(who))
    assert client.get(invitations(client_org)).status_code == status
    assert (
        client.post(
            invitations(client_org), {"email": "x@example.com", "role": "admin"}
        ).status_code
        == status
    )
    assert not Invitation.objects.exists()


def test_empty_proposal_is_a_bad_request(as_user, client_manager):
    response = as_user(client_manager).post(reverse("engagement-propose"), {})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors


# ---------------------------------------------------------------- the invited address
def test_a_signed_in_user_with_another_address_is_told_and_joins_nothing(
    as_user, lumen, lumen_invitation, cobalt_manager
):
    invitation, token = lumen_invitation
    link = reverse("invitation-accept", args=[token])
    client = as_user(cobalt_manager)
    page = client.get(link)
    assert page.status_code == 200
    assert "This invitation was sent to newbie@lumen.test" in page.content.decode()
    assert "Join as" not in page.content.decode()

    response = client.post(link)
    assert response.status_code == 403
    assert "Sign out" in response.content.decode()
    assert not Membership.objects.filter(user=cobalt_manager, organization=lumen).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_invited_person_joins_signed_in(as_user, lumen, lumen_invitation, newbie):
    _, token = lumen_invitation
    response = as_user(newbie).post(reverse("invitation-accept", args=[token]))
    assert response.status_code == 302
    assert Membership.objects.get(user=newbie, organization=lumen).role == "manager"


def test_an_account_made_from_an_invitation_has_the_invited_address(lumen, lumen_invitation):
    _, token = lumen_invitation
    response = Client().post(
        reverse("invitation-accept", args=[token]),
        {
            "username": "newbie",
            "email": "someone.else@cobalt.test",  # not a field: ignored
            "password": "a long pass phrase",
            "password_again": "a long pass phrase",
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(organization=lumen, role="manager").user.email == (
        "newbie@lumen.test"
    )


def test_signing_up_for_an_address_with_an_account_says_sign_in(lumen, lumen_invitation, newbie):
    _, token = lumen_invitation
    response = Client().post(
        reverse("invitation-accept", args=[token]),
        {
            "username": "newbie2",
            "password": "a long pass phrase",
            "password_again": "a long pass phrase",
        },
    )
    assert response.status_code == 400
    assert "sign in" in response.context["form"].errors["username"][0]
    assert not Membership.objects.filter(organization=lumen, role="manager").exists()
