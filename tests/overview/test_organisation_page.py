"""The organisation page and its roll-up API (PRODUCT.md §11): engagements grouped by
counterpart with bands counted, the latest closed overall and trend, and how the clients see
the provider from their published survey answers only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from overview.selectors import organisation_rollup
from tests.dashboard.conftest import page_text, signed_in
from tests.overview.conftest import AFTER_MARCH_CLOSED, respond

pytestmark = pytest.mark.django_db


def rollup_url(organization) -> str:
    return f"/api/v1/organizations/{organization.pk}/rollup/"


def test_the_provider_sees_its_clients_grouped_with_bands_counted(
    on, api, five_clients, provider_org, provider_admin
):
    with on(AFTER_MARCH_CLOSED):
        body = api(provider_admin).get(rollup_url(provider_org)).json()
    assert body["organization"] == {"id": provider_org.pk, "name": "Contoso Services"}
    assert body["bands"] == {
        "healthy": 2,
        "watch": 2,
        "at_risk": 1,
        "insufficient_data": 0,
        "none": 1,
    }
    # Mean of 80, 60, 40, 90, 70 (Data platform has no scorecard); trends 4, -12, -2, 1, 0.
    assert body["overall"] == 68.0
    assert body["trend"] == -1.8
    groups = {group["counterpart"]["name"]: group for group in body["counterparts"]}
    assert list(groups) == [
        "Adatum Logistics",
        "Litware Stores",
        "Northwind Retail",
        "Tailspin Air",
        "Wingtip Energy",
    ]
    northwind = groups["Northwind Retail"]
    assert [e["name"] for e in northwind["engagements"]] == ["Payroll run", "Service desk"]
    assert northwind["bands"]["healthy"] == 1 and northwind["bands"]["watch"] == 1
    assert northwind["overall"] == 70.0
    assert northwind["engagements"][0]["band"] == "watch"
    assert northwind["engagements"][0]["trend"] == "-12.0"
    assert northwind["engagements"][0]["period_start"] == "2026-03-01"
    assert groups["Tailspin Air"]["engagements"][0]["band"] is None


def test_how_our_clients_see_us_counts_published_client_answers_only(
    on, api, five_clients, provider_org, provider_admin
):
    with on(AFTER_MARCH_CLOSED):
        body = api(provider_admin).get(rollup_url(provider_org)).json()
    [view] = body["views"]  # the provider is a provider everywhere: only its clients' view
    assert view["side"] == "client" and view["title"] == "How our clients see us"
    assert view["engagements"] == 6 and view["published"] == 2
    statements = {s["field"]: s for s in view["statements"]}
    # Service desk's clients rated promises 4 on average, Payroll run's 2: (4 + 2) / 2.
    # Store network's two answers are below the threshold; the provider's own 1s are not
    # the clients' view.
    assert statements["deliver_promises"] == {
        "field": "deliver_promises",
        "question": "They deliver what they promise.",
        "mean": 3.0,
        "engagements": 2,
    }
    assert statements["trust_overall"]["mean"] == 4.0


def test_nothing_of_a_period_that_is_still_closing(
    on, api, five_clients, provider_org, provider_admin
):
    # 3 April: March is closing (five grace days); the latest closed period is February.
    with on(AFTER_MARCH_CLOSED.replace(day=3)):
        body = api(provider_admin).get(rollup_url(provider_org)).json()
    [view] = body["views"]
    assert view["published"] == 0
    assert {s["mean"] for s in view["statements"]} == {None}


def test_a_client_sees_how_its_providers_see_it(
    on, api, five_clients, provider_org, client_admin, client_org
):
    """Northwind Retail (the fixtures' client organisation) is the client of Service desk
    here: its providers' view is the provider's answers (all 1)."""
    service_desk = five_clients["Service desk"]
    service_desk.client = client_org
    service_desk.save()
    with on(AFTER_MARCH_CLOSED):
        body = api(client_admin).get(rollup_url(client_org)).json()
    [view] = body["views"]
    assert (view["side"], view["title"]) == ("provider", "How our providers see us")
    assert {s["mean"] for s in view["statements"]} == {1.0}
    assert view["published"] == 1


def test_the_page_and_the_api_are_for_members_only(
    api, five_clients, provider_org, provider_admin, outsider, client_admin
):
    url = reverse("organisation-detail", args=[provider_org.pk])
    assert signed_in(outsider).get(url).status_code == 404
    # A counterpart's member sees the organisation's name on engagements, not its page.
    assert signed_in(client_admin).get(url).status_code == 404
    assert api(outsider).get(rollup_url(provider_org)).status_code == 404
    assert api(client_admin).get(rollup_url(provider_org)).status_code == 404
    assert signed_in(provider_admin).get(url).status_code == 200


def test_the_page_shows_the_groups_the_bands_and_the_clients_view(
    on, five_clients, provider_org, provider_admin
):
    with on(AFTER_MARCH_CLOSED):
        response = signed_in(provider_admin).get(
            reverse("organisation-detail", args=[provider_org.pk])
        )
    text = page_text(response)
    assert "How our clients see us" in text
    assert "They deliver what they promise. 3.0 2" in text
    assert "Northwind Retail 2 engagements · average overall 70.0" in text
    assert f"/organizations/{provider_org.pk}/members/" in response.content.decode()
    # The header links each of the user's organisations to its page.
    assert reverse("organisation-detail", args=[provider_org.pk]) in response.content.decode()


def _queries(user, organization) -> int:
    with CaptureQueriesContext(connection) as queries:
        organisation_rollup(user, organization)
    return len(queries)


def test_the_rollup_reads_a_fixed_number_of_queries(on, five_clients, provider_org, provider_admin):
    with on(AFTER_MARCH_CLOSED):
        few = _queries(provider_admin, provider_org)
        for name in ("North", "South", "East", "West"):
            more = type(five_clients["Service desk"]).objects.create(
                name=f"{name} region",
                client=five_clients["Payroll run"].client,
                provider=provider_org,
                start_date=five_clients["Service desk"].start_date,
                status="active",
            )
            for index in range(3):
                respond(more, "client", f"{name}-{index}")
        many = _queries(provider_admin, provider_org)
    # The organisation's engagements, then two per distinct latest closed period.
    assert few == many == 3


def test_the_page_reads_a_fixed_number_of_queries(on, five_clients, provider_org, provider_admin):
    client = signed_in(provider_admin)
    url = reverse("organisation-detail", args=[provider_org.pk])
    with on(AFTER_MARCH_CLOSED):
        client.get(url)
        with CaptureQueriesContext(connection) as few:
            client.get(url)
        for index in range(4):
            type(five_clients["Service desk"]).objects.create(
                name=f"More {index}",
                client=five_clients["Store network"].client,
                provider=provider_org,
                start_date=five_clients["Service desk"].start_date,
                status="active",
            )
        with CaptureQueriesContext(connection) as many:
            client.get(url)
    assert len(few) == len(many)


def test_a_proposal_or_a_declined_one_has_no_view_to_count(
    on, five_clients, provider_org, provider_admin
):
    for name, status in (("Data platform", "proposed"), ("Field service", "declined")):
        five_clients[name].status = status
        five_clients[name].save()
    with on(AFTER_MARCH_CLOSED):
        [view] = organisation_rollup(provider_admin, provider_org).views
    assert (view.engagements, view.published) == (4, 2)
