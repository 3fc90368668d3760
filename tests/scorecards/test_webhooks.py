"""Webhooks: subscriptions API, outbox drain, signed deliveries with retries, formats."""

import socket
import threading
import time
from datetime import timedelta
from unittest import mock

import orjson
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scorecards.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from scorecards.webhooks.outbox import MAX_ATTEMPTS, drain_outbox, enqueue_drain
from scorecards.webhooks.signing import decrypt_secret, sign
from scorecards.webhooks.subscriptions import subscription_save
from tests.scorecards.conftest import HOOKS, WEBHOOK_SECRET


def scorecard_payload(engagement):
    return {
        "event": "scorecard.computed",
        "engagement": {
            "id": engagement.pk,
            "name": engagement.name,
            "client": engagement.client.name,
            "provider": engagement.provider.name,
        },
        "scorecard": {
            "id": 7,
            "period_kind": "month",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
            "overall": 71.4,
            "band": "watch",
            "client_score": 80.0,
            "provider_score": 66.7,
            "coverage": 0.85,
            "trend": -4.2,
            "perception_gap": None,
            "url": "https://accord.example/engagements/1/",
        },
    }


def alert_payload(engagement):
    return {
        "event": "alert.raised",
        "engagement": scorecard_payload(engagement)["engagement"],
        "alert": {
            "id": 3,
            "kind": "side_reliance_low",
            "side": "provider",
            "message": "Provider reliance is 40.0, below 50.",
            "period_start": "2026-03-01",
            "url": "https://accord.example/engagements/1/",
        },
    }


@pytest.fixture
def raise_event(engagement, django_capture_on_commit_callbacks):
    def fire(kind="scorecard.computed"):
        payload = (scorecard_payload if kind == "scorecard.computed" else alert_payload)(engagement)
        with django_capture_on_commit_callbacks(execute=True):
            return write_event(engagement, kind, payload)

    return fire


def write_event(engagement, kind, payload):
    """As the scorecard computation does: the event row, and a drain after commit."""
    event = OutboxEvent.objects.create(engagement=engagement, kind=kind, payload=payload)
    enqueue_drain()
    return event


def make_due(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


# ---------------------------------------------------------------- delivery
def test_json_delivery_is_signed_over_timestamp_and_body(receiver, subscribe, raise_event):
    assert subscribe(receiver.url).status_code == 201
    event = raise_event()
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["X-Accord-Event"] == "scorecard.computed"
    assert headers["X-Accord-Signature"] == sign(
        WEBHOOK_SECRET, headers["X-Accord-Timestamp"], body
    )
    assert orjson.loads(body) == event.payload
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert OutboxEvent.objects.get().dispatched_at is not None


def test_a_500_is_retried_with_backoff_then_succeeds(receiver, subscribe, raise_event):
    subscribe(receiver.url)
    receiver.statuses = [500]
    raise_event()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 500)
    assert "HTTP 500" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=20)

    drain_outbox()  # not due yet: nothing is sent
    assert len(receiver.requests) == 1
    make_due(delivery)
    drain_outbox()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 2, 200)
    assert delivery.last_error == ""
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert second["headers"]["X-Accord-Signature"] == sign(
        WEBHOOK_SECRET, second["headers"]["X-Accord-Timestamp"], second["body"]
    )


def test_retries_stop_after_the_last_attempt(receiver, subscribe, raise_event):
    subscribe(receiver.url)
    receiver.statuses = [503] * MAX_ATTEMPTS
    raise_event()
    delivery = WebhookDelivery.objects.get()
    for _ in range(MAX_ATTEMPTS - 1):
        make_due(delivery)
        drain_outbox()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_client_error_is_not_retried(receiver, subscribe, raise_event):
    subscribe(receiver.url)
    receiver.statuses = [410]
    raise_event()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 1, 410)


def test_connection_errors_are_logged_and_retried(settings, subscribe, raise_event):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(f"http://127.0.0.1:{port}/closed")
    raise_event()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "ConnectionError" in delivery.last_error


def test_a_receiver_that_times_out_is_retried(receiver, subscribe, raise_event, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    subscribe(receiver.url)
    receiver.stall.set()
    raise_event()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "Timeout" in delivery.last_error
    receiver.stall.clear()
    receiver.released.set()
    make_due(delivery)
    drain_outbox()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_slack_gets_a_block_kit_message(receiver, subscribe, raise_event):
    subscribe(receiver.url, format="slack")
    raise_event("alert.raised")
    [request] = receiver.requests
    message = orjson.loads(request["body"])
    assert [block["type"] for block in message["blocks"]] == [
        "header",
        "section",
        "section",
        "context",
    ]
    assert message["blocks"][0]["text"] == {"type": "plain_text", "text": "Alert: Service desk"}
    assert "below 50" in message["blocks"][1]["text"]["text"]
    side = {"type": "mrkdwn", "text": "*Side*\nprovider", "verbatim": True}
    assert side in message["blocks"][2]["fields"]
    headers = request["headers"]
    assert headers["X-Accord-Signature"] == sign(
        WEBHOOK_SECRET, headers["X-Accord-Timestamp"], request["body"]
    )


def test_teams_gets_an_adaptive_card_message(receiver, subscribe, raise_event):
    subscribe(receiver.url, format="teams")
    raise_event()
    message = orjson.loads(receiver.requests[0]["body"])
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == "Scorecard: Service desk"
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Overall"] == "71.4" and facts["Perception gap"] == "no data"
    assert card["actions"][0]["type"] == "Action.OpenUrl"


def test_only_the_engagements_parties_receive_its_events(
    receiver, engagement, outsider, raise_event
):
    outsider_org = outsider.memberships.get().organization
    for org in (engagement.provider, outsider_org):
        WebhookSubscription.objects.create(
            organization=org, url=receiver.url, secret_encrypted="x", events=["scorecard.computed"]
        )
    client_alerts_only = WebhookSubscription.objects.create(
        organization=engagement.client,
        url=receiver.url,
        secret_encrypted="x",
        events=["alert.raised"],
    )
    with mock.patch("scorecards.webhooks.outbox.deliver_webhook.apply_async"):
        raise_event()
        raise_event("alert.raised")
    received = set(WebhookDelivery.objects.values_list("subscription__organization", "event__kind"))
    assert received == {
        (engagement.provider_id, "scorecard.computed"),
        (client_alerts_only.organization_id, "alert.raised"),
    }


def test_draining_twice_delivers_once(receiver, subscribe, engagement):
    subscribe(receiver.url)
    OutboxEvent.objects.create(
        engagement=engagement, kind="scorecard.computed", payload=scorecard_payload(engagement)
    )
    drain_outbox()
    OutboxEvent.objects.update(dispatched_at=None)  # as if a second drain raced the first
    drain_outbox()
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


def test_events_wait_in_the_outbox_while_the_broker_is_down(receiver, subscribe, raise_event):
    subscribe(receiver.url)
    with mock.patch(
        "scorecards.webhooks.outbox.drain_outbox.apply_async", side_effect=OSError("broker down")
    ):
        raise_event()  # the write itself succeeds
    assert OutboxEvent.objects.get().dispatched_at is None
    drain_outbox()  # beat, once the broker is back
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert len(receiver.requests) == 1


def test_a_url_that_became_private_is_refused_at_delivery(
    receiver, subscribe, raise_event, settings
):
    subscribe(receiver.url)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    raise_event()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "https" in delivery.last_error
    assert receiver.requests == []


# ---------------------------------------------------------------- subscriptions API
@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://0.0.0.0/hook",
        "https://user:pass@93.184.216.34/hook",
        "not a url",
    ],
)
def test_unsafe_urls_are_refused(subscribe, url):
    response = subscribe(url)
    assert response.status_code == 400
    assert "url" in response.json()["errors"]
    assert not WebhookSubscription.objects.exists()


def test_a_public_https_url_is_accepted(subscribe):
    response = subscribe("https://93.184.216.34/hook", format="slack", events=["alert.raised"])
    assert response.status_code == 201, response.json()
    assert response.json()["events"] == ["alert.raised"]


def test_secret_is_encrypted_at_rest_and_never_shown(as_user, client_admin, subscribe):
    body = subscribe("https://93.184.216.34/hook").json()
    assert "secret" not in body
    subscription = WebhookSubscription.objects.get()
    assert WEBHOOK_SECRET not in subscription.secret_encrypted
    assert decrypt_secret(subscription.secret_encrypted) == WEBHOOK_SECRET
    assert not hasattr(subscription.history.first(), "secret_encrypted")
    assert "secret" not in as_user(client_admin).get(f"{HOOKS}{body['id']}/").json()


def test_admin_rotates_the_secret_and_changes_events(as_user, client_admin, subscribe):
    hook = subscribe("https://93.184.216.34/hook").json()
    response = as_user(client_admin).patch(
        f"{HOOKS}{hook['id']}/",
        {"secret": "a-brand-new-secret-value", "events": ["alert.raised"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    subscription = WebhookSubscription.objects.get()
    assert decrypt_secret(subscription.secret_encrypted) == "a-brand-new-secret-value"
    assert subscription.events == ["alert.raised"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"events": []}, "events"),
        ({"events": ["scorecard.deleted"]}, "events"),
        ({"format": "xml"}, "format"),
        ({"secret": "short"}, "secret"),
        ({"organization": 999999}, "organization"),
        ({"created_by": 1}, "created_by"),
    ],
)
def test_bad_subscriptions_are_400(subscribe, change, field):
    response = subscribe("https://93.184.216.34/hook", **change)
    assert response.status_code == 400
    # A list item's errors are keyed by the field and the item's position.
    assert {key.split("[")[0].split(".")[0] for key in response.json()["errors"]} == {field}


def test_only_the_organisations_admins_manage_its_webhooks(
    as_user, subscribe, client_manager, client_viewer, provider_admin, outsider, engagement
):
    hook = subscribe("https://93.184.216.34/hook").json()
    data = {
        "organization": engagement.client_id,
        "url": "https://93.184.216.34/x",
        "secret": WEBHOOK_SECRET,
        "events": ["alert.raised"],
    }
    assert (
        as_user(client_manager).post(HOOKS, data, content_type="application/json").status_code
        == 403
    )
    for user in (client_manager, client_viewer, provider_admin, outsider):
        client = as_user(user)
        assert client.get(HOOKS).json()["count"] == 0
        assert client.get(f"{HOOKS}{hook['id']}/").status_code == 404
        assert client.delete(f"{HOOKS}{hook['id']}/").status_code == 404
        assert client.get(f"{HOOKS}{hook['id']}/deliveries/").status_code == 404
    assert WebhookSubscription.objects.count() == 1


def test_anonymous_cannot_list_webhooks(client):
    assert client.get(HOOKS).status_code in (401, 403)


def test_deliveries_are_readable_through_the_api(
    as_user, client_admin, receiver, subscribe, raise_event
):
    hook = subscribe(receiver.url).json()
    receiver.statuses = [500]
    client = as_user(client_admin)
    counts = []
    for kind in ("scorecard.computed", "alert.raised"):
        raise_event(kind)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{HOOKS}{hook['id']}/deliveries/")
        counts.append(len(queries))
    assert counts[0] == counts[1]
    results = response.json()["results"]
    assert [(d["event_kind"], d["status"], d["response_code"]) for d in results] == [
        ("alert.raised", "succeeded", 200),
        ("scorecard.computed", "pending", 500),
    ]
    assert results[1]["attempts"] == 1 and "HTTP 500" in results[1]["last_error"]


def test_admin_deletes_a_subscription(as_user, client_admin, subscribe):
    hook = subscribe("https://93.184.216.34/hook").json()
    assert as_user(client_admin).delete(f"{HOOKS}{hook['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


# TRUNCATE ... CASCADE on flush, as in tests/scorecards/test_concurrency.py.
transactional = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)


@transactional
def test_concurrent_drains_deliver_each_event_once(require_postgres, receiver, engagement):
    subscription_save(
        subscription=WebhookSubscription(
            organization=engagement.client, url=receiver.url, events=["scorecard.computed"]
        ),
        secret=WEBHOOK_SECRET,
    )
    OutboxEvent.objects.bulk_create(
        OutboxEvent(
            engagement=engagement, kind="scorecard.computed", payload=scorecard_payload(engagement)
        )
        for _ in range(30)
    )

    def drain():
        try:
            drain_outbox()
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_outbox()  # whatever a racing drain skipped as locked
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 30
    delivered = [request["headers"]["X-Accord-Delivery"] for request in receiver.requests]
    assert len(delivered) == len(set(delivered)) == 30


def test_inactive_subscriptions_receive_nothing(
    as_user, client_admin, receiver, subscribe, raise_event
):
    hook = subscribe(receiver.url).json()
    as_user(client_admin).patch(
        f"{HOOKS}{hook['id']}/", {"active": False}, content_type="application/json"
    )
    raise_event()
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


@pytest.fixture
def worker_allows_private_urls(monkeypatch):
    # Read by the worker process's settings; the receiver fixture sets this process's.
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_URLS", "true")


@pytest.mark.slow
@pytest.mark.real_broker
@transactional
def test_a_real_worker_drains_and_delivers(
    worker_allows_private_urls, receiver, worker, engagement
):
    subscription_save(
        subscription=WebhookSubscription(
            organization=engagement.provider, url=receiver.url, events=["alert.raised"]
        ),
        secret=WEBHOOK_SECRET,
    )
    with transaction.atomic():
        write_event(engagement, "alert.raised", alert_payload(engagement))
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not WebhookDelivery.objects.filter(status="succeeded").exists()
    ):
        time.sleep(0.2)
    [request] = receiver.requests
    headers = request["headers"]
    assert headers["X-Accord-Event"] == "alert.raised"
    assert headers["X-Accord-Signature"] == sign(
        WEBHOOK_SECRET, headers["X-Accord-Timestamp"], request["body"]
    )
    assert WebhookDelivery.objects.get().status == "succeeded"
