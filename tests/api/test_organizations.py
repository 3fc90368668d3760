"""Organisations, memberships and invitations: admins manage their own organisation's."""

import pytest
from django.core import mail

from relationships.models import Invitation, Membership

pytestmark = pytest.mark.django_db


def test_organisations_are_your_own_and_counterparts_by_name(
    api, engagement, client_manager, outsider_org, provider_org
):
    rows = api(client_manager).get("/api/v1/organizations/").json()["results"]
    assert {(row["name"], row["your_role"]) for row in rows} == {
        ("Northwind Retail", "manager"),
        ("Contoso Services", None),
    }
    assert set(rows[0]) == {"id", "name", "your_role"}
    assert api(client_manager).get(f"/api/v1/organizations/{outsider_org.pk}/").status_code == 404
    assert api(None).get("/api/v1/organizations/").status_code == 401


def test_create_an_organisation_and_become_its_admin(api, client_viewer):
    response = api(client_viewer).post(
        "/api/v1/organizations/", {"name": "Tailspin"}, format="json"
    )
    assert response.status_code == 201 and response.json()["your_role"] == "admin"
    duplicate = api(client_viewer).post(
        "/api/v1/organizations/", {"name": "Tailspin"}, format="json"
    )
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]


def test_memberships_of_own_organisations_only(api, client_admin, client_viewer, provider_admin):
    rows = api(client_viewer).get("/api/v1/memberships/").json()["results"]
    assert {row["username"] for row in rows} == {"client-admin", "client-viewer"}
    other = Membership.objects.get(user=provider_admin)
    assert api(client_viewer).get(f"/api/v1/memberships/{other.pk}/").status_code == 404


def test_admins_change_roles_viewers_and_managers_cannot(
    api, client_admin, client_manager, client_viewer
):
    membership = Membership.objects.get(user=client_viewer)
    url = f"/api/v1/memberships/{membership.pk}/"
    assert api(client_manager).patch(url, {"role": "manager"}, format="json").status_code == 403
    response = api(client_admin).patch(url, {"role": "manager"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "manager"
    bad = api(client_admin).patch(url, {"role": "owner"}, format="json")
    assert bad.status_code == 400 and "role" in bad.json()["errors"]


def test_the_last_admin_cannot_be_removed_or_demoted(api, client_admin, client_viewer):
    own = Membership.objects.get(user=client_admin)
    url = f"/api/v1/memberships/{own.pk}/"
    assert api(client_admin).patch(url, {"role": "viewer"}, format="json").status_code == 400
    assert api(client_admin).delete(url).status_code == 400
    viewer = Membership.objects.get(user=client_viewer)
    assert api(client_admin).delete(f"/api/v1/memberships/{viewer.pk}/").status_code == 204


def test_admins_invite_and_revoke(api, client_admin, client_manager, client_org, provider_org):
    body = {"organization": client_org.pk, "email": "New.Person@Example.com", "role": "manager"}
    assert api(client_manager).post("/api/v1/invitations/", body, format="json").status_code == 403
    response = api(client_admin).post("/api/v1/invitations/", body, format="json")
    assert response.status_code == 201
    assert response.json()["email"] == "new.person@example.com"
    assert response.json()["status"] == "pending"
    assert len(mail.outbox) == 1 and "token" not in response.json()
    other_org = {**body, "organization": provider_org.pk}
    refused = api(client_admin).post("/api/v1/invitations/", other_org, format="json")
    assert refused.status_code == 400 and "organization" in refused.json()["errors"]
    invitation_url = f"/api/v1/invitations/{response.json()['id']}/"
    assert api(client_manager).get(invitation_url).status_code == 404
    assert api(client_admin).delete(invitation_url).status_code == 204
    assert Invitation.objects.get().revoked_at is not None


def test_accept_an_invitation_as_the_logged_in_user(api, client_admin, client_org, outsider):
    from relationships.services import invitation_create

    _invitation, raw = invitation_create(
        organization=client_org, email=outsider.email, role="viewer", invited_by=client_admin
    )
    response = api(outsider).post("/api/v1/invitations/accept/", {"token": raw}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "viewer"
    again = api(outsider).post("/api/v1/invitations/accept/", {"token": raw}, format="json")
    assert again.status_code == 400 and "token" in again.json()["errors"]


# ---------------------------------------------------------------- the invited address
def test_an_invitation_token_in_other_hands_joins_nobody(
    api, lumen, lumen_invitation, cobalt_manager
):
    invitation, raw = lumen_invitation
    response = api(cobalt_manager).post(
        "/api/v1/invitations/accept/", {"token": raw}, format="json"
    )
    assert response.status_code == 403
    assert "newbie@lumen.test" in response.json()["detail"]
    assert not Membership.objects.filter(user=cobalt_manager, organization=lumen).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None and invitation.accepted_by is None


def test_the_invited_person_joins_whatever_the_case_of_their_address(
    api, lumen, lumen_invitation, cobalt_manager, newbie
):
    invitation, raw = lumen_invitation
    api(cobalt_manager).post("/api/v1/invitations/accept/", {"token": raw}, format="json")
    response = api(newbie).post("/api/v1/invitations/accept/", {"token": raw}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "manager"
    assert Membership.objects.get(user=newbie, organization=lumen).role == "manager"
