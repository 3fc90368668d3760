import pytest
from django.test import Client

from tests.factories import PASSWORD, KeyContactFactory, SharedGoalFactory, SLAFactory


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_user():
    """A test client signed in as the given user: as_user(client_manager).post(...)."""
    return signed_in


@pytest.fixture
def sla(engagement):
    return SLAFactory(engagement=engagement, name="Availability", owner_side="provider")


@pytest.fixture
def goal(engagement):
    return SharedGoalFactory(engagement=engagement, title="Self-service portal")


@pytest.fixture
def contact(engagement):
    return KeyContactFactory(engagement=engagement, side="client", name="Dana Client")


@pytest.fixture
def foreign_engagement(outsider_org, client_org):
    """Another engagement of the client, so its objects exist but belong elsewhere."""
    from tests.factories import EngagementFactory

    return EngagementFactory(client=client_org, provider=outsider_org, name="Elsewhere")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Every persona has a password; the default hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
