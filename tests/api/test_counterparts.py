"""Issue 16, finding 1 (counterpart hijack), through the API: a proposal reaches an
organisation chosen by id among those the proposer's organisation works with, or a new
organisation invited by e-mail; never one found by its name. Organisation names are
unique after normalisation, so no look-alike can be created to be mistaken for another."""

import pytest
from django.core import mail

from relationships.models import Engagement, Invitation, Membership, Organization
from relationships.names import LOOK_ALIKE
from relationships.services import UNKNOWN_COUNTERPART
from tests.factories import EngagementFactory, OrganizationFactory, UserFactory
from tests.look_alikes import DISTINCT, look_alike_params, squatted

pytestmark = pytest.mark.django_db


@pytest.fixture
def mallory(db):
    """Signed in, a member of nothing the others know."""
    return UserFactory(username="mallory", email="mallory@evil.test")


def proposal(bluefin, **counterpart):
    return {
        "organization": bluefin.pk,
        "side": "provider",
        "name": "Store network support",
        "start_date": "2026-05-01",
        **counterpart,
    }


def test_the_audit_scenario_reaches_lumen_and_never_the_outsider(
    api, lumen, bluefin, bluefin_manager, mallory
):
    # The outsider registers "LUMEN RETAIL": refused, it looks like Lumen Retail.
    squat = api(mallory).post("/api/v1/organizations/", {"name": "LUMEN RETAIL"}, format="json")
    assert squat.status_code == 400, squat.json()
    assert squat.json()["errors"] == {"name": [LOOK_ALIKE]}
    assert not Organization.objects.filter(name="LUMEN RETAIL").exists()

    # Bluefin's manager names the counterpart as the API used to take it: a name is no id.
    by_name = api(bluefin_manager).post(
        "/api/v1/engagements/", proposal(bluefin, counterpart="Lumen Retail"), format="json"
    )
    assert by_name.status_code == 400
    assert list(by_name.json()["errors"]) == ["counterpart"]
    assert not Engagement.objects.filter(status="proposed").exists()

    # By id the proposal goes to Lumen, and the outsider sees nothing of it.
    by_id = api(bluefin_manager).post(
        "/api/v1/engagements/", proposal(bluefin, counterpart=lumen.pk), format="json"
    )
    assert by_id.status_code == 201, by_id.json()
    assert by_id.json()["client"] == {"id": lumen.pk, "name": "Lumen Retail"}
    assert api(mallory).get("/api/v1/engagements/").json()["count"] == 0


def test_a_look_alike_from_before_the_fix_cannot_be_addressed(
    api, lumen, bluefin, bluefin_manager, mallory
):
    """An outsider's organisation, by id, is refused exactly like an id that does not exist."""
    squat = squatted("LUMEN RETAIL")
    Membership.objects.create(user=mallory, organization=squat, role="admin")
    answers = [
        api(bluefin_manager).post(
            "/api/v1/engagements/", proposal(bluefin, counterpart=pk), format="json"
        )
        for pk in (squat.pk, squat.pk + 1000)
    ]
    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["errors"] == {"counterpart": [UNKNOWN_COUNTERPART]}
    assert not Engagement.objects.filter(status="proposed").exists()
    assert api(mallory).get("/api/v1/engagements/").json()["count"] == 0


def test_only_the_proposing_organisations_counterparts_are_addressable(
    api, lumen, bluefin, bluefin_manager, outsider_org
):
    """Bluefin's manager, also a manager elsewhere, cannot propose from Bluefin to an
    organisation only that other organisation works with."""
    elsewhere = OrganizationFactory(name="Elsewhere Holdings")
    Membership.objects.create(user=bluefin_manager, organization=elsewhere, role="manager")
    EngagementFactory(client=outsider_org, provider=elsewhere, status="active")
    response = api(bluefin_manager).post(
        "/api/v1/engagements/", proposal(bluefin, counterpart=outsider_org.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"counterpart": [UNKNOWN_COUNTERPART]}
    assert not Engagement.objects.filter(status="proposed").exists()


def test_any_status_of_a_shared_engagement_makes_an_organisation_addressable(
    api, lumen, bluefin, bluefin_manager
):
    Engagement.objects.update(status="archived")
    response = api(bluefin_manager).post(
        "/api/v1/engagements/", proposal(bluefin, counterpart=lumen.pk), format="json"
    )
    assert response.status_code == 201


def test_a_new_counterpart_is_created_and_its_admin_invited(api, bluefin, bluefin_manager):
    body = proposal(
        bluefin, counterpart_name="Tailspin Toys", counterpart_admin_email="Boss@Tailspin.test"
    )
    response = api(bluefin_manager).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 201, response.json()
    tailspin = Organization.objects.get(name="Tailspin Toys")
    assert response.json()["client"]["id"] == tailspin.pk
    assert Invitation.objects.get(organization=tailspin).email == "boss@tailspin.test"
    assert mail.outbox[0].to == ["boss@tailspin.test"]


@pytest.mark.parametrize(
    "counterpart, errors",
    [
        ({}, ["counterpart"]),
        ({"counterpart_name": "Tailspin Toys"}, ["counterpart_admin_email"]),
        ({"counterpart_admin_email": "boss@tailspin.test"}, ["counterpart"]),
        ({"counterpart": None, "counterpart_name": "  "}, ["counterpart"]),
    ],
)
def test_a_proposal_names_one_counterpart(api, bluefin, bluefin_manager, counterpart, errors):
    response = api(bluefin_manager).post(
        "/api/v1/engagements/", proposal(bluefin, **counterpart), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == errors
    assert Organization.objects.count() == 2 and not mail.outbox


def test_choosing_and_inviting_at_once_is_refused(api, lumen, bluefin, bluefin_manager):
    body = proposal(
        bluefin,
        counterpart=lumen.pk,
        counterpart_name="Tailspin Toys",
        counterpart_admin_email="boss@tailspin.test",
    )
    response = api(bluefin_manager).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["counterpart_name"]
    assert not Organization.objects.filter(name="Tailspin Toys").exists()


@pytest.mark.parametrize("existing, variant, reason", look_alike_params())
def test_look_alike_organisations_are_refused(api, mallory, existing, variant, reason):
    OrganizationFactory(name=existing)
    before = Organization.objects.count()
    response = api(mallory).post("/api/v1/organizations/", {"name": variant}, format="json")
    assert response.status_code == 400
    assert any(reason in message for message in response.json()["errors"]["name"])
    assert Organization.objects.count() == before


@pytest.mark.parametrize("existing, variant, reason", look_alike_params())
def test_a_new_counterpart_cannot_look_like_an_organisation(
    api, bluefin, bluefin_manager, existing, variant, reason
):
    OrganizationFactory(name=existing)
    before = Organization.objects.count()
    body = proposal(bluefin, counterpart_name=variant, counterpart_admin_email="boss@tailspin.test")
    response = api(bluefin_manager).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["counterpart_name"]
    assert any(reason in message for message in errors["counterpart_name"])
    assert Organization.objects.count() == before
    assert not Engagement.objects.filter(status="proposed").exists() and not mail.outbox


@pytest.mark.parametrize("existing, distinct", DISTINCT)
def test_names_that_only_resemble_are_accepted(api, mallory, existing, distinct):
    OrganizationFactory(name=existing)
    response = api(mallory).post("/api/v1/organizations/", {"name": distinct}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == distinct


def test_an_organisation_name_is_stored_tidy(api, mallory):
    response = api(mallory).post(
        "/api/v1/organizations/", {"name": "  Tailspin \t Toys "}, format="json"
    )
    assert response.status_code == 201
    assert Organization.objects.get().name == "Tailspin Toys"


def test_a_counterpart_id_of_the_wrong_type_says_what_to_send(api, bluefin, bluefin_manager):
    response = api(bluefin_manager).post(
        "/api/v1/engagements/", proposal(bluefin, counterpart=["Lumen Retail"]), format="json"
    )
    assert response.status_code == 400
    assert "counterpart_name" in response.json()["errors"]["counterpart"][0]


def test_first_contact_reaches_the_organisation_an_admin_you_know_administers(
    api, bluefin, bluefin_manager, outsider, outsider_org
):
    """Two organisations on Accord with no engagement yet: the proposer gives the e-mail
    of an admin they know there; the proposal reaches that admin's organisation, whatever
    name the proposer typed, and no organisation is created."""
    organisations = Organization.objects.count()
    body = proposal(
        bluefin, counterpart_name="Fabrikam", counterpart_admin_email=outsider.email.upper()
    )
    response = api(bluefin_manager).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["client"]["id"] == outsider_org.pk
    assert Organization.objects.count() == organisations and not mail.outbox
    # No name is needed, and the counterpart's admin can accept it.
    del body["counterpart_name"]
    body["name"] = "Second engagement"
    assert api(bluefin_manager).post("/api/v1/engagements/", body, format="json").status_code == 201
    engagement = Engagement.objects.get(name="Second engagement")
    assert api(outsider).post(f"/api/v1/engagements/{engagement.pk}/accept/").status_code == 200


def test_first_contact_by_a_manager_address_is_not_a_way_in(
    api, bluefin, bluefin_manager, client_manager
):
    """Only an admin's address addresses an organisation; a manager's is treated as
    anyone's: a new organisation needs its name."""
    body = proposal(bluefin, counterpart_admin_email=client_manager.email)
    response = api(bluefin_manager).post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 400 and "counterpart" in response.json()["errors"]
