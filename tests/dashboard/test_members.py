"""The members page (/organizations/<id>/members/): every member reads the list; admins
see last sign-ins and pending invitations, change roles, remove members (records stay,
attributed; tokens revoked when no organisation is left) and resend or revoke invitations.
The same through the API. Every change names its actor in the audit history."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from knox.models import get_token_model

from feedback.models import CheckIn
from relationships.models import ApiToken, Invitation, Membership
from relationships.services import invitation_by_token, invitation_create
from tests.dashboard.conftest import page_text
from tests.factories import CheckInFactory, MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def members_url(organization) -> str:
    return reverse("organization-members", args=[organization.pk])


@pytest.fixture
def signed_in_admin_and_invitation(client_org, client_admin):
    """The admin last signed in on 2 Nov 2026; new@example.com is invited as a viewer."""
    client_admin.last_login = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    client_admin.save()
    invitation_create(
        organization=client_org,
        email="new@example.com",
        role="viewer",
        invited_by=client_admin,
        send=False,
    )


def membership(user) -> Membership:
    return Membership.objects.get(user=user)


def test_members_read_the_list_without_sign_ins_or_invitations(
    client, client_org, client_viewer, signed_in_admin_and_invitation
):
    client.force_login(client_viewer)
    response = client.get(members_url(client_org))
    text = page_text(response)
    assert response.status_code == 200
    assert "client-admin" in text and "client-viewer" in text
    assert "Only admins change roles and invite." in text
    assert "Last sign-in" not in text and "2 Nov 2026" not in text
    assert "new@example.com" not in text and "Change role" not in text


def test_admins_see_sign_ins_and_pending_invitations(
    client, client_org, client_admin, client_viewer, signed_in_admin_and_invitation
):
    client.force_login(client_admin)
    text = page_text(client.get(members_url(client_org)))
    assert "Last sign-in" in text and "new@example.com" in text and "Resend" in text


def test_an_admin_changes_a_role_and_the_history_names_them(client, client_admin, client_manager):
    client.force_login(client_admin)
    target = membership(client_manager)
    response = client.post(reverse("membership-role-change", args=[target.pk]), {"role": "viewer"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == "viewer"
    assert target.history.first().history_user == client_admin


def test_the_last_admin_stays(client, client_org, client_admin):
    client.force_login(client_admin)
    own = membership(client_admin)
    response = client.post(reverse("membership-role-change", args=[own.pk]), {"role": "viewer"})
    assert response.status_code == 400
    assert "An organisation needs at least one admin." in page_text(response)
    assert client.post(reverse("membership-remove", args=[own.pk])).status_code == 400
    own.refresh_from_db()
    assert own.role == "admin"


def test_a_manager_cannot_change_roles(client, client_manager, client_viewer):
    client.force_login(client_manager)
    target = membership(client_viewer)
    response = client.post(reverse("membership-role-change", args=[target.pk]), {"role": "admin"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.role == "viewer"


def test_removing_a_member_keeps_their_records_and_revokes_their_tokens(
    client, engagement, client_org, client_admin, client_manager
):
    checkin = CheckInFactory(engagement=engagement, recorded_by=client_manager)
    get_token_model().objects.create(user=client_manager, expiry=None, name="ci")
    client.force_login(client_admin)
    response = client.post(reverse("membership-remove", args=[membership(client_manager).pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(user=client_manager).exists()
    assert CheckIn.objects.get(pk=checkin.pk).recorded_by == client_manager
    assert not ApiToken.objects.filter(user=client_manager).exists()
    revoked = ApiToken.history.filter(user_id=client_manager.pk, history_type="-").get()
    assert revoked.history_user == client_admin
    assert "1 API token revoked" in page_text(client.get(members_url(client_org)))
    # Their access ended with the membership.
    client.force_login(client_manager)
    assert client.get(engagement.get_absolute_url()).status_code == 404


def test_a_token_of_someone_in_another_organisation_stays(client, client_admin, client_manager):
    MembershipFactory(user=client_manager, organization=OrganizationFactory(name="Elsewhere"))
    get_token_model().objects.create(user=client_manager, expiry=None, name="ci")
    client.force_login(client_admin)
    client.post(reverse("membership-remove", args=[membership_in(client_manager, client_admin).pk]))
    assert ApiToken.objects.filter(user=client_manager).count() == 1


def membership_in(user, admin) -> Membership:
    return Membership.objects.get(user=user, organization__memberships__user=admin)


def test_resend_gives_a_new_link_and_revoke_ends_it(client, client_org, client_admin, mailoutbox):
    invitation, first = invitation_create(
        organization=client_org, email="new@example.com", role="viewer", invited_by=client_admin
    )
    client.force_login(client_admin)
    response = client.post(reverse("invitation-resend", args=[invitation.pk]))
    assert response.status_code == 302
    assert len(mailoutbox) == 2
    second = mailoutbox[1].body.split("/invitations/")[1].split("/")[0]
    assert invitation_by_token(first) is None
    assert invitation_by_token(second).pk == invitation.pk
    assert Invitation.history.filter(id=invitation.pk).first().history_user == client_admin
    assert client.post(reverse("invitation-revoke", args=[invitation.pk])).status_code == 302
    assert invitation_by_token(second) is None


def test_the_api_shows_sign_ins_to_admins_and_resends(
    client, client_org, client_admin, client_viewer, mailoutbox
):
    from rest_framework.test import APIClient

    client_viewer.last_login = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    client_viewer.save()
    admin, viewer = APIClient(), APIClient()
    admin.force_authenticate(client_admin)
    viewer.force_authenticate(client_viewer)
    url = f"/api/v1/memberships/?organization={client_org.pk}"
    seen_by_admin = {row["username"]: row["last_login"] for row in admin.get(url).json()["results"]}
    assert seen_by_admin["client-viewer"] == "2026-11-02T09:30:00Z"
    seen_by_viewer = {
        row["username"]: row["last_login"] for row in viewer.get(url).json()["results"]
    }
    assert seen_by_viewer == {"client-admin": None, "client-viewer": None}
    invitation, _ = invitation_create(
        organization=client_org, email="new@example.com", role="viewer", invited_by=client_admin
    )
    resend = f"/api/v1/invitations/{invitation.pk}/resend/"
    assert viewer.post(resend, format="json").status_code == 404
    response = admin.post(resend, format="json")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert len(mailoutbox) == 2
    assert admin.delete(f"/api/v1/invitations/{invitation.pk}/").status_code == 204
    again = admin.post(resend, format="json")
    assert again.status_code == 400 and "revoked" in again.json()["errors"]["invitation"][0]
