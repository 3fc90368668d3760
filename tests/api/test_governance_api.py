"""Tiers in the API: each tier's meeting cadence is an engagement term (a change request
once active), check-ins and key contacts carry a tier."""

import pytest

from relationships.change_requests import change_request_accept
from relationships.models import ChangeRequest

pytestmark = pytest.mark.django_db


def test_a_tier_cadence_is_a_term_agreed_by_the_other_side(
    api, engagement, client_manager, provider_manager
):
    url = f"/api/v1/engagements/{engagement.pk}/"
    response = api(client_manager).patch(url, {"operational_cadence_days": 7}, format="json")
    assert response.status_code == 202
    engagement.refresh_from_db()
    assert engagement.operational_cadence_days is None  # not until the provider agrees
    request = ChangeRequest.objects.get(engagement=engagement)
    assert request.proposed == {"operational_cadence_days": 7}
    change_request_accept(change_request=request, user=provider_manager)
    engagement.refresh_from_db()
    assert engagement.operational_cadence_days == 7
    assert api(client_manager).get(url).json()["operational_cadence_days"] == 7
    refused = api(client_manager).patch(url, {"executive_cadence_days": 0}, format="json")
    assert refused.status_code == 400 and "executive_cadence_days" in refused.json()["errors"]


def test_check_ins_and_contacts_take_a_tier_in_the_api(api, engagement, client_manager):
    checkin = api(client_manager).post(
        "/api/v1/checkins/",
        {
            "engagement": engagement.pk,
            "occurred_at": "2026-02-02T10:00:00Z",
            "kind": "executive",
            "tier": "executive",
        },
        format="json",
    )
    assert checkin.status_code == 201 and checkin.json()["tier"] == "executive"
    contact = api(client_manager).post(
        "/api/v1/contacts/",
        {
            "engagement": engagement.pk,
            "side": "client",
            "role": "technical_lead",
            "name": "Tess",
            "start_date": "2026-02-01",
        },
        format="json",
    )
    assert contact.status_code == 201 and contact.json()["tier"] == "operational"
    bad = api(client_manager).post(
        "/api/v1/checkins/",
        {"engagement": engagement.pk, "occurred_at": "2026-02-02T10:00:00Z", "tier": "board"},
        format="json",
    )
    assert bad.status_code == 400 and "tier" in bad.json()["errors"]
