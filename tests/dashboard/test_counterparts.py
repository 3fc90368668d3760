"""Issue 16, finding 1 (counterpart hijack), through the dashboard's proposal form: the
counterpart is chosen from the organisations the user's own already work with, or is a
new organisation invited by e-mail; a typed name never finds an existing organisation."""

import pytest
from django.core import mail
from django.urls import reverse

from relationships.models import Engagement, Organization
from relationships.names import LOOK_ALIKE
from relationships.services import UNKNOWN_COUNTERPART
from tests.factories import OrganizationFactory
from tests.look_alikes import look_alike_params, squatted

pytestmark = pytest.mark.django_db

PROPOSAL = {
    "own_side": "provider",
    "name": "Store network support",
    "phase": "pilot",
    "start_date": "2026-05-01",
    "time_zone": "Europe/London",
    "scorecard_period": "month",
    "checkin_cadence_days": "7",
}


def propose(client, bluefin, **counterpart):
    return client.post(
        reverse("engagement-propose"), {**PROPOSAL, "own_organization": bluefin.pk, **counterpart}
    )


def test_the_audit_scenario_on_the_form_reaches_lumen_only(
    as_user, lumen, bluefin, bluefin_manager
):
    squat = squatted("LUMEN RETAIL")  # an outsider's, from before names were normalised
    client = as_user(bluefin_manager)
    # Typing the name, as the form used to take it, finds no organisation: it would be a
    # new one, and that name is taken.
    typed = propose(
        client, bluefin, counterpart_name="Lumen Retail", counterpart_admin_email="it@lumen.test"
    )
    assert typed.status_code == 400
    assert typed.context["form"].errors["counterpart_name"] == [LOOK_ALIKE]
    assert not Engagement.objects.filter(status="proposed").exists() and not mail.outbox

    chosen = propose(client, bluefin, counterpart=lumen.pk)
    assert chosen.status_code == 302
    proposed = Engagement.objects.get(status="proposed")
    assert (proposed.client, proposed.provider) == (lumen, bluefin)
    assert not Engagement.objects.filter(client=squat).exists()


def test_the_form_offers_only_organisations_bluefin_works_with(
    as_user, lumen, bluefin, bluefin_manager, outsider_org
):
    squatted("LUMEN RETAIL")
    form = as_user(bluefin_manager).get(reverse("engagement-propose")).context["form"]
    assert list(form.fields["counterpart"].queryset) == [lumen]
    page = as_user(bluefin_manager).get(reverse("engagement-propose")).content.decode()
    assert "LUMEN RETAIL" not in page and outsider_org.name not in page


def test_an_organisation_outside_the_choices_is_refused_like_one_that_does_not_exist(
    as_user, lumen, bluefin, bluefin_manager
):
    squat = squatted("LUMEN RETAIL")
    client = as_user(bluefin_manager)
    errors = [
        propose(client, bluefin, counterpart=pk).context["form"].errors["counterpart"]
        for pk in (squat.pk, squat.pk + 1000)
    ]
    assert errors == [[UNKNOWN_COUNTERPART], [UNKNOWN_COUNTERPART]]
    assert not Engagement.objects.filter(status="proposed").exists()


def test_a_new_counterpart_is_created_and_invited(as_user, bluefin, bluefin_manager):
    response = propose(
        as_user(bluefin_manager),
        bluefin,
        counterpart_name="Tailspin Toys",
        counterpart_admin_email="boss@tailspin.test",
    )
    assert response.status_code == 302
    assert Engagement.objects.get(status="proposed").client.name == "Tailspin Toys"
    assert mail.outbox[0].to == ["boss@tailspin.test"]


def test_neither_a_choice_nor_a_new_name_is_a_field_error(as_user, bluefin, bluefin_manager):
    response = propose(as_user(bluefin_manager), bluefin)
    assert response.status_code == 400
    assert response.context["form"].errors["counterpart"] == [UNKNOWN_COUNTERPART]


def test_choosing_and_inviting_at_once_is_refused(as_user, lumen, bluefin, bluefin_manager):
    response = propose(
        as_user(bluefin_manager),
        bluefin,
        counterpart=lumen.pk,
        counterpart_name="Tailspin Toys",
        counterpart_admin_email="boss@tailspin.test",
    )
    assert response.status_code == 400
    assert "not both" in response.context["form"].errors["counterpart_name"][0]
    assert not Organization.objects.filter(name="Tailspin Toys").exists() and not mail.outbox


def test_an_invalid_proposal_invites_nobody(as_user, bluefin, bluefin_manager):
    """The terms are checked before the new organisation is made and its admin e-mailed."""
    response = propose(
        as_user(bluefin_manager),
        bluefin,
        counterpart_name="Tailspin Toys",
        counterpart_admin_email="boss@tailspin.test",
        end_date="2026-01-01",
    )
    assert response.status_code == 400
    assert not Organization.objects.filter(name="Tailspin Toys").exists() and not mail.outbox


@pytest.mark.parametrize("existing, variant, reason", look_alike_params())
def test_a_new_counterpart_cannot_look_like_an_organisation(
    as_user, bluefin, bluefin_manager, existing, variant, reason
):
    OrganizationFactory(name=existing)
    before = Organization.objects.count()
    response = propose(
        as_user(bluefin_manager),
        bluefin,
        counterpart_name=variant,
        counterpart_admin_email="boss@tailspin.test",
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["counterpart_name"]
    assert any(reason in message for message in errors["counterpart_name"])
    assert Organization.objects.count() == before and not mail.outbox
