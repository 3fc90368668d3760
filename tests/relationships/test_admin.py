"""The operator admin: every relationships page renders; measurements are read-only."""

from datetime import date
from decimal import Decimal

import pytest

from relationships.measurements import measurement_record
from relationships.models import Measurement
from relationships.services import invitation_create
from tests.factories import (
    PASSWORD,
    KeyContactFactory,
    SharedGoalFactory,
    SLAFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "organization",
    "membership",
    "invitation",
    "engagement",
    "keycontact",
    "sla",
    "measurement",
    "importbatch",
    "sharedgoal",
]


@pytest.fixture
def operator_client(client):
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    client.login(username=operator.username, password=PASSWORD)
    return client


@pytest.fixture
def corrected_sla(engagement, provider_manager):
    sla = SLAFactory(engagement=engagement, name="Availability")
    for value in ("99.7", "97.25"):
        measurement_record(
            sla=sla,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            value=Decimal(value),
            source="manual",
            user=provider_manager,
        )
    return sla


@pytest.fixture
def populated(engagement, corrected_sla, client_admin, client_org):
    KeyContactFactory(engagement=engagement)
    SharedGoalFactory(engagement=engagement)
    invitation_create(
        organization=client_org, email="new@client.example", role="viewer", invited_by=client_admin
    )
    return engagement


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders_with_a_bounded_number_of_queries(
    operator_client, populated, model, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        response = operator_client.get(f"/admin/relationships/{model}/")
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_every_change_page_and_its_history_render(operator_client, populated, model):
    from django.apps import apps

    obj = apps.get_model("relationships", model).objects.first()
    for suffix in ("change/", "history/"):
        response = operator_client.get(f"/admin/relationships/{model}/{obj.pk}/{suffix}")
        assert response.status_code == 200, (model, suffix)


def test_the_engagement_page_has_sla_contact_and_goal_inlines(operator_client, populated):
    response = operator_client.get(f"/admin/relationships/engagement/{populated.pk}/change/")
    content = response.content.decode()
    for prefix in ("contacts-TOTAL_FORMS", "slas-TOTAL_FORMS", "goals-TOTAL_FORMS"):
        assert prefix in content


def test_the_sla_page_shows_current_and_superseded_values(operator_client, corrected_sla):
    response = operator_client.get(f"/admin/relationships/sla/{corrected_sla.pk}/change/")
    content = response.content.decode()
    assert "99.7" in content and "97.25" in content


def test_the_measurement_list_filters_current_and_superseded(operator_client, corrected_sla):
    current = operator_client.get("/admin/relationships/measurement/?current=yes")
    superseded = operator_client.get("/admin/relationships/measurement/?current=no")
    assert list(current.context["cl"].result_list) == list(Measurement.objects.current())
    assert [m.value for m in superseded.context["cl"].result_list] == [Decimal("99.7")]


def test_measurements_cannot_be_added_changed_or_deleted_in_the_admin(
    operator_client, corrected_sla
):
    measurement = Measurement.objects.current().get()
    assert operator_client.get("/admin/relationships/measurement/add/").status_code == 403
    response = operator_client.post(
        f"/admin/relationships/measurement/{measurement.pk}/change/", {"value": "1"}
    )
    assert response.status_code == 403
    delete = f"/admin/relationships/measurement/{measurement.pk}/delete/"
    assert operator_client.post(delete, {"post": "yes"}).status_code == 403
    measurement.refresh_from_db()
    assert measurement.value == Decimal("97.25")


def test_engagements_cannot_be_deleted_in_the_admin(operator_client, engagement):
    response = operator_client.post(
        f"/admin/relationships/engagement/{engagement.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403


def test_the_invitation_page_never_shows_the_token(operator_client, client_admin, client_org):
    invitation, raw = invitation_create(
        organization=client_org, email="new@client.example", role="viewer", invited_by=client_admin
    )
    for url in (
        "/admin/relationships/invitation/",
        f"/admin/relationships/invitation/{invitation.pk}/change/",
    ):
        content = operator_client.get(url).content.decode()
        assert raw not in content and invitation.token_hash not in content
