"""Compare up to four of the user's engagements: their latest closed scorecards side by side
and the last 12 closed periods on one chart."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.dashboard.conftest import page_text, signed_in
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db


def compare(user, *engagements):
    return signed_in(user).get(reverse("compare"), {"engagement": [e.pk for e in engagements]})


def chart_of(response) -> dict:
    after = response.content.decode().split('<script id="compare-data" type="application/json">')
    return json.loads(after[1].split("</script>")[0])


def test_three_engagements_side_by_side(five_clients, provider_admin):
    chosen = [five_clients[name] for name in ("Service desk", "Store network", "Data platform")]
    response = compare(provider_admin, *chosen)
    assert response.status_code == 200
    text = page_text(response)
    # Ordered by name; Data platform has no scorecard.
    assert "Data platform Service desk Store network" in text
    assert "Band No scorecard yet Healthy At risk" in text
    assert "Trend – ▲ +4.0 ▼ -2.0" in text
    assert "Overall – 80.0 40.0" in text
    assert "Client side – 65.0 65.0" in text
    assert "Reliance – 70.0 70.0" in text
    assert chart_of(response) == {
        "labels": ["2026-01", "2026-02", "2026-03"],
        "lines": [
            {"label": "Data platform", "values": [None, None, None]},
            {"label": "Service desk", "values": [70.0, 75.0, 80.0]},
            {"label": "Store network", "values": [30.0, 35.0, 40.0]},
        ],
    }


def test_more_than_four_or_someone_elses_is_refused(five_clients, provider_admin, client_org):
    response = compare(provider_admin, *list(five_clients.values())[:5])
    assert response.status_code == 400
    assert "Pick up to 4 engagements; you picked 5." in page_text(response)
    foreign = EngagementFactory(client=client_org, name="Not theirs")
    response = compare(provider_admin, five_clients["Service desk"], foreign)
    assert response.status_code == 400
    assert "Not theirs" not in page_text(response)
    assert "is not one of the available choices" in page_text(response)


def test_the_picker_lists_only_the_users_engagements(five_clients, client_admin, provider_admin):
    text = page_text(signed_in(provider_admin).get(reverse("compare")))
    assert all(name in text for name in five_clients)
    # Northwind Retail's admin: its two engagements, none of the provider's others.
    other = page_text(signed_in(client_admin).get(reverse("compare")))
    assert "(up to 4) Payroll run Service desk Compare" in other


def test_a_fixed_number_of_queries(five_clients, provider_admin):
    client = signed_in(provider_admin)

    def queries(*names):
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("compare"), {"engagement": [five_clients[n].pk for n in names]})
        return len(captured)

    assert queries("Service desk") == queries("Service desk", "Payroll run", "Store network")
