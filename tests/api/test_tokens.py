"""API tokens: several per user, named, hashed, revocable, with a last-used time."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from relationships.models import ApiToken
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def create_token(user, name="ci"):
    client = APIClient()
    client.force_login(user)
    return client.post("/api/v1/tokens/", {"name": name}, format="json")


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_create_shows_the_token_once_and_stores_only_its_hash(client_manager):
    response = create_token(client_manager, "monitoring")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "monitoring" and body["token"].startswith("accord_")
    stored = ApiToken.objects.get(user=client_manager)
    assert body["token"] not in (stored.digest, stored.token_key)
    listing = bearer(body["token"]).get("/api/v1/tokens/").json()["results"]
    assert [(row["id"], row["name"]) for row in listing] == [(stored.token_key, "monitoring")]
    assert set(listing[0]) == {"id", "name", "created", "last_used_at"}


def test_token_authenticates_and_records_last_use_at_most_once_a_minute(client_manager, engagement):
    token = create_token(client_manager).json()["token"]
    client = bearer(token)
    assert client.get("/api/v1/engagements/").json()["count"] == 1
    stored = ApiToken.objects.get(user=client_manager)
    first_use = stored.last_used_at
    assert first_use is not None
    client.get("/api/v1/engagements/")
    stored.refresh_from_db()
    assert stored.last_used_at == first_use
    ApiToken.objects.filter(pk=stored.pk).update(last_used_at=first_use - timedelta(minutes=2))
    client.get("/api/v1/engagements/")
    stored.refresh_from_db()
    assert stored.last_used_at > first_use - timedelta(seconds=1)


def test_several_named_tokens_and_revocation(client_manager, provider_manager):
    first = create_token(client_manager, "bi").json()
    second = create_token(client_manager, "ticketing").json()
    client = bearer(second["token"])
    assert {t["name"] for t in client.get("/api/v1/tokens/").json()["results"]} == {
        "bi",
        "ticketing",
    }
    # Another user's token is not theirs to see or revoke.
    other = create_token(provider_manager, "other").json()
    assert client.delete(f"/api/v1/tokens/{other['id']}/").status_code == 404
    assert client.delete(f"/api/v1/tokens/{first['id']}/").status_code == 204
    revoked = bearer(first["token"]).get("/api/v1/engagements/")
    assert revoked.status_code == 401
    assert revoked.json()["code"] == "authentication_failed"
    assert bearer(second["token"]).get("/api/v1/engagements/").status_code == 200


def test_a_wrong_token_is_rejected(db):
    response = bearer("accord_not-a-real-token").get("/api/v1/engagements/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_script_gets_its_first_token_with_a_password(client_manager):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_basic(client_manager.username, PASSWORD))
    response = client.post("/api/v1/tokens/", {"name": "script"}, format="json")
    assert response.status_code == 201
    # Basic auth is accepted on the tokens endpoint only.
    assert client.get("/api/v1/engagements/").status_code == 401


def test_a_token_cannot_mint_more_tokens(client_manager):
    token = create_token(client_manager).json()["token"]
    response = bearer(token).post("/api/v1/tokens/", {"name": "more"}, format="json")
    assert response.status_code == 403


def test_token_name_is_required_and_bounded(client_manager):
    assert create_token(client_manager, "").status_code == 400
    assert create_token(client_manager, "x" * 101).status_code == 400
    assert not ApiToken.objects.exists()


def test_token_creation_is_throttled(client_manager, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token_create": "2/hour"}
    previous = ScopedRateThrottle.THROTTLE_RATES
    ScopedRateThrottle.THROTTLE_RATES = rates
    try:
        from django.core.cache import cache

        cache.clear()
        assert create_token(client_manager, "a").status_code == 201
        assert create_token(client_manager, "b").status_code == 201
        third = create_token(client_manager, "c")
        assert third.status_code == 429
        assert third.json()["code"] == "throttled"
    finally:
        ScopedRateThrottle.THROTTLE_RATES = previous
        cache.clear()


def _basic(username, password):
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_anonymous_cannot_list_tokens(db):
    assert APIClient().get("/api/v1/tokens/").status_code == 401
