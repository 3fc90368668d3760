import pytest

from tests.factories import EngagementFactory, SLAFactory


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, owner_side="provider", name="P1 response")


@pytest.fixture
def slas(engagement):
    return [SLAFactory(engagement=engagement, name=f"SLA {n}") for n in range(10)]


@pytest.fixture
def outsider_sla(outsider_org, client_org):
    """An SLA of an engagement the provider organisation is no party to."""
    other = EngagementFactory(client=client_org, provider=outsider_org, name="Elsewhere")
    return SLAFactory(engagement=other, name="Not yours")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login
