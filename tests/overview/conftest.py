"""A provider with five clients: scorecards of January to March 2026 and the clients' survey
answers for March, some published and some not."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from feedback.models import PULSE_FIELDS, PulseResponse
from relationships.models import Engagement
from tests.dashboard.conftest import make_scorecard
from tests.factories import (
    EngagementFactory,
    IssueFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

MARCH = date(2026, 3, 1)
# After March's five grace days: March is the latest closed period.
AFTER_MARCH_CLOSED = date(2026, 4, 20)

# name, client, March overall, band, trend; Northwind has two engagements.
ENGAGEMENTS = (
    ("Service desk", "Northwind Retail", 80, "healthy", "4.0"),
    ("Payroll run", "Northwind Retail", 60, "watch", "-12.0"),
    ("Store network", "Litware Stores", 40, "at_risk", "-2.0"),
    ("Warehouse apps", "Adatum Logistics", 90, "healthy", "1.0"),
    ("Data platform", "Tailspin Air", None, None, None),
    ("Field service", "Wingtip Energy", 70, "watch", "0.0"),
)


def respond(engagement: Engagement, side: str, name: str, **answers) -> PulseResponse:
    organization = engagement.organization_of(side)
    user = UserFactory(username=name)
    MembershipFactory(user=user, organization=organization, role="viewer")
    return PulseResponse.objects.create(
        engagement=engagement,
        respondent=user,
        side=side,
        period_kind="month",
        period_start=MARCH,
        **{**dict.fromkeys(PULSE_FIELDS, 4), **answers},
    )


@pytest.fixture
def five_clients(provider_org) -> dict[str, Engagement]:
    """Six engagements of Contoso Services (provider) with five clients.

    The clients' March answers: Service desk, three people rating promises 3, 4 and 5 (mean
    4); Payroll run, three rating promises 2 (mean 2); Store network, two people (below the
    threshold of 3: not published). Every other statement is rated 4. The provider's own
    answers on Service desk (all 1) are how the provider sees the client, never part of
    "how our clients see us".
    """
    engagements = {}
    for name, client_name, overall, band, trend in ENGAGEMENTS:
        engagement = EngagementFactory(
            name=name,
            client=OrganizationFactory(name=client_name),
            provider=provider_org,
            start_date=date(2026, 1, 1),
        )
        if overall is not None:
            for month in (1, 2):
                make_scorecard(engagement, date(2026, month, 1), overall - 5 * (3 - month), band)
            make_scorecard(engagement, MARCH, overall, band, trend=Decimal(trend))
        engagements[name] = engagement
    for index, promises in enumerate((3, 4, 5)):
        respond(
            engagements["Service desk"], "client", f"sd-client-{index}", deliver_promises=promises
        )
        respond(
            engagements["Service desk"],
            "provider",
            f"sd-provider-{index}",
            **dict.fromkeys(PULSE_FIELDS, 1),
        )
        respond(engagements["Payroll run"], "client", f"pr-client-{index}", deliver_promises=2)
    for index in range(2):
        respond(engagements["Store network"], "client", f"sn-client-{index}", deliver_promises=1)
    IssueFactory(
        engagement=engagements["Store network"],
        title="Tills offline after the firmware upgrade",
        responsible_side="provider",
    )
    return engagements


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for
