"""Disputed values on the dashboard (PRODUCT.md §7): the owning side disputes a value the
other side recorded from the period page; the period's review and explanation list it until
the recorder's side accepts the correction or the dispute is withdrawn."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from relationships.measurements import MeasurementRow, measurements_import
from relationships.models import Measurement, MeasurementDispute
from scorecards.compute import compute_chunk
from scorecards.models import Scorecard
from tests.dashboard.conftest import page_text
from tests.factories import SLAFactory

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
APRIL_20 = date(2026, 4, 20)  # March closed
DISPUTED = "met 3 of 4, 1 value disputed by the provider."


def period_url(engagement) -> str:
    return reverse("engagement-period", args=[engagement.pk, MARCH.isoformat()])


def record(user, sla, values, first_day=2):
    measurements_import(
        rows=[
            MeasurementRow(sla.pk, date(2026, 3, day), date(2026, 3, day), Decimal(value))
            for day, value in enumerate(values, start=first_day)
        ],
        actor=user,
        source="test",
    )


@pytest.fixture
def march(engagement, sla, client_manager, provider_manager):
    """Provider's SLA (≥ 99.5): three values its owner recorded, and one, missing the
    target, that the client recorded."""
    record(provider_manager, sla, ["99.9", "99.8", "99.7"])
    record(client_manager, sla, ["97"], first_day=20)
    return Measurement.objects.get(recorded_by_side="client")


def recompute(engagement):
    compute_chunk([engagement.pk], "month", MARCH, today=APRIL_20)
    return Scorecard.objects.get(engagement=engagement, period_start=MARCH)


def explanation_via_api(user, scorecard) -> str:
    api = APIClient()
    api.force_authenticate(user)
    return str(api.get(f"/api/v1/scorecards/{scorecard.pk}/").json()["explanation"])


def test_the_owning_side_disputes_and_the_other_side_accepts_the_correction(
    as_user, on, engagement, march, client_manager, provider_manager
):
    provider, client = as_user(provider_manager), as_user(client_manager)
    with on(APRIL_20):
        before = recompute(engagement)
        assert "met 3 of 4." in explanation_via_api(client_manager, before)
        page = client.get(period_url(engagement))
        assert "recorded by the client" in page_text(page)
        assert 'action="/measurements/' not in page.content.decode()  # the client cannot dispute
        page = provider.get(period_url(engagement)).content.decode()
        assert reverse("measurement-dispute", args=[march.pk]) in page

        response = provider.post(
            reverse("measurement-dispute", args=[march.pk]),
            {"reason": "Our probe saw 99.6 that day.", "corrected_value": "99.6"},
        )
        assert response.status_code == 302
        assert response.url == period_url(engagement) + "#disputes"
        disputed = recompute(engagement)
        assert DISPUTED in explanation_via_api(client_manager, disputed)
        text = page_text(client.get(period_url(engagement)))
        assert DISPUTED in text.replace("&#x27;", "'")
        assert "Our probe saw 99.6 that day." in text
        assert "Open" in text

        dispute = MeasurementDispute.objects.get()
        accept = reverse("measurement-correction-accept", args=[dispute.pk])
        assert provider.post(accept).status_code == 403
        assert client.post(accept).status_code == 302
        corrected = recompute(engagement)
        explanation = explanation_via_api(provider_manager, corrected)
        text = page_text(client.get(period_url(engagement)))
    assert "met 4 of 4." in explanation and "disputed by" not in explanation
    assert "Corrected" in text and "disputed by the provider" not in text
    assert Measurement.objects.current().get(period_start=date(2026, 3, 20)).value == Decimal(
        "99.6"
    )


def test_the_disputing_side_withdraws_from_the_page(
    as_user, on, engagement, march, provider_manager, client_manager
):
    provider = as_user(provider_manager)
    with on(APRIL_20):
        provider.post(reverse("measurement-dispute", args=[march.pk]), {"reason": "Wrong probe."})
        dispute = MeasurementDispute.objects.get()
        page = provider.get(period_url(engagement)).content.decode()
        assert reverse("measurement-dispute-withdraw", args=[dispute.pk]) in page
        assert reverse("measurement-correction-accept", args=[dispute.pk]) not in page
        withdraw = reverse("measurement-dispute-withdraw", args=[dispute.pk])
        assert as_user(client_manager).post(withdraw).status_code == 403
        assert provider.post(withdraw).status_code == 302
        assert "met 3 of 4." in explanation_via_api(provider_manager, recompute(engagement))
    dispute.refresh_from_db()
    assert dispute.status == "withdrawn"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"reason": "Wrong", "corrected_value": "abc"}, "corrected_value"),
        ({"reason": "Wrong", "corrected_value": "97"}, "corrected_value"),  # the value itself
    ],
)
def test_bad_input_shows_the_form_again_and_changes_nothing(
    as_user, on, march, provider_manager, data, field
):
    with on(APRIL_20):
        response = as_user(provider_manager).post(
            reverse("measurement-dispute", args=[march.pk]), data
        )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not MeasurementDispute.objects.exists()


def test_only_the_owning_sides_writers_reach_the_form(
    as_user, on, march, client_manager, provider_viewer, outsider, provider_admin
):
    url = reverse("measurement-dispute", args=[march.pk])
    with on(APRIL_20):
        assert as_user(provider_admin).get(url).status_code == 200
        assert as_user(client_manager).get(url).status_code == 403
        assert as_user(provider_viewer).get(url).status_code == 403
        assert as_user(outsider).get(url).status_code == 404
        assert as_user(client_manager).post(url, {"reason": "Mine"}).status_code == 403
    assert not MeasurementDispute.objects.exists()


def test_the_period_page_reads_disputes_in_a_fixed_number_of_queries(
    as_user, on, engagement, march, client_manager, provider_manager
):
    provider = as_user(provider_manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert provider.get(period_url(engagement)).status_code == 200
        return len(captured)

    with on(APRIL_20):
        provider.post(reverse("measurement-dispute", args=[march.pk]), {"reason": "Wrong."})
        one = queries()
        for n in range(3):
            other = SLAFactory(engagement=engagement, owner_side="provider", name=f"Extra {n}")
            record(client_manager, other, ["90", "91"])
            for value in Measurement.objects.current().filter(sla=other):
                provider.post(
                    reverse("measurement-dispute", args=[value.pk]),
                    {"reason": f"Wrong {n}.", "corrected_value": "99.9"},
                )
        assert MeasurementDispute.objects.count() == 7
        assert queries() == one


def test_the_engagement_page_marks_values_of_the_other_side_and_disputes(
    as_user, on, engagement, march, provider_manager, client_manager
):
    with on(date(2026, 3, 25)):  # March in progress: the page's period
        text = page_text(as_user(client_manager).get(engagement.get_absolute_url()))
        assert "recorded by the client" in text
        assert "disputed" not in text
        as_user(provider_manager).post(
            reverse("measurement-dispute", args=[march.pk]), {"reason": "Wrong probe."}
        )
        page = as_user(client_manager).get(engagement.get_absolute_url()).content.decode()
    assert f'href="{period_url(engagement)}#disputes">1 disputed</a>' in page
