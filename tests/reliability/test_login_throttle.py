import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import RequestFactory

from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def clear_cache(db):
    cache.clear()
    yield
    cache.clear()


def login_request(address="203.0.113.7"):
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR=address)


def test_correct_password_signs_in(client_manager):
    assert authenticate(login_request(), username="client-manager", password=PASSWORD)


def test_repeated_failures_lock_the_username_even_with_the_right_password(client_manager, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert authenticate(login_request(), username="client-manager", password="guess") is None
    assert (
        authenticate(login_request("198.51.100.1"), username="client-manager", password=PASSWORD)
        is None
    )


def test_failures_from_one_address_lock_that_address_for_every_username(
    client_manager, provider_manager, settings
):
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        authenticate(login_request(), username=f"nobody{attempt}", password="guess")
    assert authenticate(login_request(), username="provider-manager", password=PASSWORD) is None
    assert authenticate(
        login_request("198.51.100.2"), username="provider-manager", password=PASSWORD
    )


def test_failures_below_the_limit_do_not_lock(client_manager, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        authenticate(login_request(), username="client-manager", password="guess")
    assert authenticate(login_request(), username="client-manager", password=PASSWORD)


def test_login_page_refuses_a_guessed_account(client, client_manager, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "client-manager", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "client-manager", "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a redirect into Accord
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors.as_data()["__all__"][0].code == "throttled"
    assert "Signing in is locked for up to 15 minutes" in response.content.decode()


def test_login_page_says_incorrect_below_the_limit(client, client_manager):
    response = client.post("/accounts/login/", {"username": "client-manager", "password": "guess"})
    assert response.context["form"].errors.as_data()["__all__"][0].code == "invalid_login"
    assert "locked" not in response.content.decode()


def test_login_page_lock_is_the_same_for_an_unknown_username(client, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "nobody", "password": "guess"})
    response = client.post("/accounts/login/", {"username": "nobody", "password": "guess"})
    assert response.context["form"].errors.as_data()["__all__"][0].code == "throttled"


def test_admin_login_page_says_sign_in_is_locked(client, client_admin, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "client-admin", "password": "guess"})
    response = client.post("/admin/login/", {"username": "client-admin", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors.as_data()["__all__"][0].code == "throttled"
