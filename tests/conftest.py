"""Shared fixtures and the REQUIRE_SERVICES switch.

Standing personas (as in healthchecks): a client organisation and a provider
organisation sharing one active engagement, with an admin, a manager and a
viewer on each side, and an outsider who belongs to neither.
"""

import os
import socket
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from unittest import mock

import pytest
from django.conf import settings

from tests.factories import (
    EngagementFactory,
    KeyContactFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def need(condition: bool, what: str) -> None:
    """Skip when a service is missing, or fail under REQUIRE_SERVICES=1 (CI)."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} is not available")


def redis_reachable() -> bool:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        return False
    from urllib.parse import urlparse

    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def require_postgres():
    need(settings.USING_POSTGRES, "PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis():
    need(redis_reachable(), "Redis (set CELERY_BROKER_URL)")


@pytest.fixture
def require_chromium():
    need(os.path.exists("/usr/bin/chromium"), "Chromium at /usr/bin/chromium")


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser(require_chromium, require_postgres, live_server, monkeypatch):
    """Headless Chromium (Playwright) for tests against the live server."""
    # Playwright's sync API runs an event loop in this thread; the ORM must still work.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # While Playwright's loop runs here, Django counts this thread as async and keeps its
        # connections apart from the thread's own: close those, or the one the test data was
        # written with stays open and the test database cannot be dropped after the run.
        connections.close_all()


@pytest.fixture
def client_org(db):
    return OrganizationFactory(name="Northwind Retail")


@pytest.fixture
def provider_org(db):
    return OrganizationFactory(name="Contoso Services")


@pytest.fixture
def outsider_org(db):
    return OrganizationFactory(name="Fabrikam Elsewhere")


def _member(org, role, username):
    user = UserFactory(username=username)
    MembershipFactory(user=user, organization=org, role=role)
    return user


@pytest.fixture
def client_admin(client_org):
    return _member(client_org, "admin", "client-admin")


@pytest.fixture
def client_manager(client_org):
    return _member(client_org, "manager", "client-manager")


@pytest.fixture
def client_viewer(client_org):
    return _member(client_org, "viewer", "client-viewer")


@pytest.fixture
def provider_admin(provider_org):
    return _member(provider_org, "admin", "provider-admin")


@pytest.fixture
def provider_manager(provider_org):
    return _member(provider_org, "manager", "provider-manager")


@pytest.fixture
def provider_viewer(provider_org):
    return _member(provider_org, "viewer", "provider-viewer")


@pytest.fixture
def outsider(outsider_org):
    return _member(outsider_org, "admin", "outsider")


@pytest.fixture
def engagement(client_org, provider_org):
    return EngagementFactory(
        client=client_org,
        provider=provider_org,
        name="Service desk",
        start_date=date(2026, 1, 1),
        status="active",
    )


# The audit's personas (issue 16): Bluefin provides Lumen's service desk; Lumen invites
# newbie@lumen.test; a Cobalt manager gets hold of things that are not theirs.
@pytest.fixture
def lumen(db):
    return OrganizationFactory(name="Lumen Retail")


@pytest.fixture
def bluefin(db):
    return OrganizationFactory(name="Bluefin IT Services")


@pytest.fixture
def bluefin_manager(bluefin, lumen):
    EngagementFactory(client=lumen, provider=bluefin, name="Lumen service desk", status="active")
    user = UserFactory(username="sofia", email="sofia@bluefin.test")
    MembershipFactory(user=user, organization=bluefin, role="manager")
    return user


@pytest.fixture
def lumen_invitation(lumen):
    """(invitation, raw token): Lumen's admin invites newbie@lumen.test as a manager."""
    from relationships.services import invitation_create

    admin = _member(lumen, "admin", "maya")
    return invitation_create(
        organization=lumen, email="newbie@lumen.test", role="manager", invited_by=admin
    )


@pytest.fixture
def cobalt_manager(db):
    return _member(OrganizationFactory(name="Cobalt Data Works"), "manager", "jun")


@pytest.fixture
def newbie(db):
    """The invited person's own account; their address typed in other letter cases."""
    return UserFactory(username="newbie", email="NewBie@Lumen.TEST")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Files the app stores (review packs) go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Hashing strength is Django's concern; tests only need users that can sign in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # API rate limits count in process memory; each test starts with none used.
    from django.core.cache import caches

    caches["throttle"].clear()


@pytest.fixture(autouse=True)
def celery_eager(request):
    """Tasks run in-process unless a test is marked `real_broker` (then a real worker runs them)."""
    from accord.celery import app

    if request.node.get_closest_marker("real_broker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@contextmanager
def _on(day: date, hour: int = 12):
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def on():
    """`with on(day):` the application believes it is noon UTC on `day`, history included."""
    return _on


@pytest.fixture
def latest_migrations_after():
    """For a test that migrates backwards and forwards: the database is migrated to the
    latest migrations again afterwards, as the tests after it expect."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def contacts(engagement):
    """The engagement in Berlin; its key contacts Anna in Berlin (9:00–17:00) and Ravi in
    Kolkata (10:00–18:00), for planning and inviting check-ins across zones."""
    engagement.time_zone = "Europe/Berlin"
    engagement.save(update_fields=["time_zone"])
    anna = KeyContactFactory(
        engagement=engagement,
        side="client",
        name="Anna Berlin",
        email="anna@client.test",
        time_zone="Europe/Berlin",
        work_starts=time(9),
        work_ends=time(17),
    )
    ravi = KeyContactFactory(
        engagement=engagement,
        side="provider",
        name="Ravi Kolkata",
        email="ravi@provider.test",
        time_zone="Asia/Kolkata",
        work_starts=time(10),
        work_ends=time(18),
    )
    return anna, ravi
