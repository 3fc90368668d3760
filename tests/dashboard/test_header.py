"""The header lists the user's organisations in one query, however many there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def queries_for_password_page(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("password_change"))
    assert response.status_code == 200
    return len(queries)


def test_header_lists_every_organisation_with_role(client):
    user = UserFactory(username="many-hats")
    for name, role in (("Acme", "admin"), ("Beta", "viewer")):
        MembershipFactory(user=user, organization=OrganizationFactory(name=name), role=role)
    client.force_login(user)
    page = client.get(reverse("password_change")).content.decode()
    assert "Acme · Admin" in page
    assert "Beta · Viewer" in page
    # Every member reaches their organisation's members page (admins manage it there).
    for membership in user.memberships.all():
        assert reverse("organization-members", args=[membership.organization_id]) in page


def test_header_costs_one_query_for_five_organisations(client):
    one, five = UserFactory(username="one-org"), UserFactory(username="five-orgs")
    MembershipFactory(user=one, organization=OrganizationFactory(name="Solo"))
    for i in range(5):
        MembershipFactory(user=five, organization=OrganizationFactory(name=f"Org {i}"))
    baseline = queries_for_password_page(client, one)
    assert queries_for_password_page(client, five) == baseline
    client.force_login(five)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("password_change"))
    # One query lists the memberships; one counts the unread notices (its subquery names them).
    header = [q for q in queries if "relationships_membership" in q["sql"]]
    assert len(header) == 2
    assert len([q for q in header if "notices_notice" in q["sql"]]) == 1
