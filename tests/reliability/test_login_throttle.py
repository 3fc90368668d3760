"""The sign-in lock (accord/auth.py, docs/OPERATIONS.md) on every path that takes a password.

A username is locked, even with the right password, at each address where it failed
within the window once it has failed LOGIN_FAILURE_LIMIT times from all addresses; an
address where it has not failed signs in with the right password.
"""

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from core.api.plumbing import AnonRateThrottle
from core.signin import client_address
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"
ELSEWHERE = "192.0.2.44"


def sign_in(username, password, address=ATTACKER, path="/accounts/login/", **headers):
    """A fresh browser posting a sign-in form; returns (response, whether it is signed in)."""
    browser = Client(REMOTE_ADDR=address, **headers)
    response = browser.post(path, {"username": username, "password": password})
    return response, "_auth_user_id" in browser.session


def fail_times(count, username, address=ATTACKER, **headers):
    for _ in range(count):
        response, signed_in = sign_in(username, "guess", address, **headers)
        assert not signed_in


def error_code(response) -> str:
    return response.context["form"].errors.as_data()["__all__"][0].code


def basic(username, password) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def create_token(username, password, address=ATTACKER):
    api = APIClient(REMOTE_ADDR=address)
    api.credentials(HTTP_AUTHORIZATION=basic(username, password))
    return api.post("/api/v1/tokens/", {"name": "script"}, format="json")


@pytest.fixture
def staff(db):
    return UserFactory(username="operator", is_staff=True, is_superuser=True)


# The audit's finding: one address locked out everyone.


def test_made_up_usernames_from_one_address_lock_no_real_user_there(
    client_manager, provider_manager, staff, settings
):
    for attempt in range(settings.LOGIN_FAILURE_LIMIT * 2):
        fail_times(1, f"nobody{attempt}")
    response, signed_in = sign_in("provider-manager", PASSWORD)
    assert signed_in and response.status_code == 302
    assert sign_in("operator", PASSWORD, path="/admin/login/")[1]
    assert create_token("client-manager", PASSWORD).status_code == 201


# Per (username, address) and per username.


def test_failures_lock_the_username_at_that_address_only(client_manager, settings):
    fail_times(settings.LOGIN_FAILURE_LIMIT, "client-manager")
    response, signed_in = sign_in("client-manager", PASSWORD)
    assert not signed_in
    assert response.status_code == 429
    assert error_code(response) == "throttled"
    assert "Signing in is locked until 15 minutes have passed" in response.content.decode()
    # Someone else's failures never lock the owner out where they have not failed.
    assert sign_in("client-manager", PASSWORD, OWNER)[1]


def test_failures_below_the_limit_say_incorrect_and_do_not_lock(client_manager, settings):
    fail_times(settings.LOGIN_FAILURE_LIMIT - 2, "client-manager")
    response, _ = sign_in("client-manager", "guess")
    assert response.status_code == 200
    assert error_code(response) == "invalid_login"
    assert "locked" not in response.content.decode()
    assert sign_in("client-manager", PASSWORD)[1]


def test_guessing_from_many_addresses_locks_each_address_that_guessed(client_manager, settings):
    guessers = [f"203.0.113.{n}" for n in range(10, 10 + settings.LOGIN_FAILURE_LIMIT)]
    for address in guessers:
        fail_times(1, "client-manager", address)
    for address in guessers:
        assert not sign_in("client-manager", PASSWORD, address)[1]
    # A further address gets one guess, then it is locked too.
    fail_times(1, "client-manager", "203.0.113.99")
    response, signed_in = sign_in("client-manager", PASSWORD, "203.0.113.99")
    assert not signed_in and error_code(response) == "throttled"
    # The owner, who has not failed, still signs in from their own address.
    assert sign_in("client-manager", PASSWORD, OWNER)[1]


def test_one_usernames_lock_leaves_other_usernames_at_that_address(
    client_manager, provider_manager, settings
):
    fail_times(settings.LOGIN_FAILURE_LIMIT, "client-manager")
    assert sign_in("provider-manager", PASSWORD)[1]


def test_the_lock_says_the_same_for_a_username_that_does_not_exist(client_manager, settings):
    fail_times(settings.LOGIN_FAILURE_LIMIT, "client-manager")
    fail_times(settings.LOGIN_FAILURE_LIMIT, "nobody-at-all", ELSEWHERE)
    existing, _ = sign_in("client-manager", PASSWORD)
    unknown, _ = sign_in("nobody-at-all", "guess", ELSEWHERE)
    assert existing.status_code == unknown.status_code == 429
    assert existing.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_the_lock_lifts_once_the_window_passes_without_a_failure(client_manager, settings):
    fail_times(settings.LOGIN_FAILURE_LIMIT, "client-manager")
    assert not sign_in("client-manager", PASSWORD)[1]
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS + 1)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - window)
    assert sign_in("client-manager", PASSWORD)[1]


def test_admin_sign_in_is_locked_the_same_way(staff, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        sign_in("operator", "guess", path="/admin/login/")
    response, signed_in = sign_in("operator", PASSWORD, path="/admin/login/")
    assert not signed_in and response.status_code == 429
    assert error_code(response) == "throttled"
    assert sign_in("operator", PASSWORD, OWNER, path="/admin/login/")[1]


# Basic authentication on the tokens endpoint counts with the forms.


def test_token_creation_with_a_password_is_locked_with_the_forms(client_manager, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert create_token("client-manager", "guess").status_code == 401
    fail_times(1, "client-manager")
    refused = create_token("client-manager", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "Signing in is locked" in refused.json()["detail"]
    assert create_token("client-manager", PASSWORD, OWNER).status_code == 201


@pytest.mark.parametrize("username", ["nul\x00name", "x" * 300])
def test_a_username_no_account_can_have_is_refused_not_a_500(db, username, settings):
    # PostgreSQL refuses NUL in a query and more than the stored length in a row.
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        assert create_token(username, "guess").status_code in (401, 429)
        assert sign_in(username, "guess")[0].status_code in (200, 429)


# The client's address: X-Forwarded-For only through the trusted proxies.


def through_proxies(count, client, spoofed):
    """Request headers as `count` proxies would pass them on, the client claiming `spoofed`."""
    if count == 0:
        return {"address": client, "HTTP_X_FORWARDED_FOR": spoofed}
    inner = [f"10.9.9.{n}" for n in range(2, count + 1)]  # proxies behind the outermost
    return {
        "address": "10.9.9.1",
        "HTTP_X_FORWARDED_FOR": ", ".join([spoofed, client, *inner]),
    }


@pytest.mark.parametrize("proxies", [0, 1, 2])
def test_the_lock_follows_the_client_address_behind_trusted_proxies(
    client_manager, settings, proxies
):
    settings.TRUSTED_PROXY_COUNT = proxies
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        fail_times(
            1, "client-manager", **through_proxies(proxies, ATTACKER, spoofed=f"192.0.2.{n}")
        )
    # A fresh spoofed entry does not make the attacker someone else...
    retry = through_proxies(proxies, ATTACKER, spoofed="192.0.2.200")
    response, signed_in = sign_in("client-manager", PASSWORD, **retry)
    assert not signed_in and error_code(response) == "throttled"
    # ...and the owner, behind the same proxies, is not the attacker.
    assert sign_in("client-manager", PASSWORD, **through_proxies(proxies, OWNER, ATTACKER))[1]


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "192.0.2.1", "203.0.113.7"),
        (1, "10.9.9.1", "192.0.2.1, 203.0.113.7", "203.0.113.7"),
        (2, "10.9.9.1", "192.0.2.1, 203.0.113.7, 10.9.9.2", "203.0.113.7"),
        # Fewer entries than proxies: the leftmost, which a trusted proxy wrote.
        (2, "10.9.9.1", "203.0.113.7", "203.0.113.7"),
        # No header (the request did not come through the proxies).
        (1, "203.0.113.7", None, "203.0.113.7"),
        # Not an address: the peer's address instead.
        (1, "10.9.9.1", "192.0.2.1, not-an-address", "10.9.9.1"),
        (1, "10.9.9.1", "192.0.2.1, ", "10.9.9.1"),
        (0, "", None, None),
        (1, "10.9.9.1", "2001:DB8::1", "2001:db8::1"),
        (1, "10.9.9.1", "::ffff:203.0.113.7", "203.0.113.7"),
        (0, "fe80::1%eth0", None, "fe80::1"),
    ],
)
def test_client_address(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(RequestFactory().get("/", **headers)) == expected


@pytest.mark.parametrize("proxies", [0, 1, 2])
def test_the_anonymous_api_rate_follows_the_same_client_address(db, monkeypatch, settings, proxies):
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)
    settings.TRUSTED_PROXY_COUNT = proxies

    def docs(client, spoofed):
        headers = through_proxies(proxies, client, spoofed)
        return APIClient(REMOTE_ADDR=headers.pop("address"), **headers).get("/api/docs/")

    answers = [docs(ATTACKER, f"192.0.2.{n}").status_code for n in range(3)]
    assert answers == [200, 200, 429]
    assert docs(OWNER, ATTACKER).status_code == 200


# The password-change form counts wrong old passwords.


def change_password(browser, old, address=ATTACKER):
    return browser.post(
        "/accounts/password/change/",
        {
            "old_password": old,
            "new_password1": "a-new-passphrase-42",
            "new_password2": "a-new-passphrase-42",
        },
        REMOTE_ADDR=address,
    )


def test_wrong_old_passwords_lock_the_password_change(client_manager, settings):
    browser = Client()
    browser.force_login(client_manager)
    # The audit's sequence: eight wrong old passwords, then the right one.
    answers = [change_password(browser, "guess").status_code for _ in range(8)]
    limit = settings.LOGIN_FAILURE_LIMIT
    assert answers == [200] * (limit - 1) + [429] * (8 - limit + 1)
    response = change_password(browser, PASSWORD)
    assert response.status_code == 429
    assert response.context["form"].errors.as_data()["old_password"][0].code == "throttled"
    assert "Signing in is locked" in response.content.decode()
    client_manager.refresh_from_db()
    assert client_manager.check_password(PASSWORD)
    # The owner elsewhere still signs in, and changes the password there.
    assert sign_in("client-manager", PASSWORD, OWNER)[1]
    assert change_password(browser, PASSWORD, OWNER).status_code == 302


def test_a_wrong_old_password_says_incorrect_below_the_limit(client_manager, settings):
    browser = Client()
    browser.force_login(client_manager)
    response = change_password(browser, "guess")
    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["old_password"][0].code == (
        "password_incorrect"
    )
    assert change_password(browser, PASSWORD).status_code == 302


def test_failed_sign_ins_and_wrong_old_passwords_share_one_count(client_manager, settings):
    fail_times(settings.LOGIN_FAILURE_LIMIT - 1, "client-manager")
    browser = Client()
    browser.force_login(client_manager)
    assert change_password(browser, "guess").status_code == 429
    assert not sign_in("client-manager", PASSWORD)[1]


def test_the_admin_password_change_is_the_counted_form(staff):
    browser = Client()
    browser.force_login(staff)
    response = browser.get("/admin/password_change/")
    assert response.status_code == 302 and response.url == "/accounts/password/change/"
