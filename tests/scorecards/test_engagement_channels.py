"""Slack and Teams channels connected from an engagement's page by its admins: added with
the webhook address rules, tested through the delivery path, removed; they receive only
their engagement's events."""

import orjson
import pytest
from django.urls import reverse

from scorecards.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from scorecards.webhooks.outbox import drain_outbox
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db


def page(engagement):
    return reverse("engagement-integrations", args=[engagement.pk])


def button(name, channel):
    return reverse(name, args=[channel.engagement_id, channel.pk])


def connect(client, engagement, address, **extra):
    data = {"format": "slack", "url": address, "events": ["alert.raised"], **extra}
    return client.post(page(engagement), data)


def test_an_admin_connects_slack_and_its_test_message_reaches_the_channel(
    client, client_admin, engagement, receiver, django_capture_on_commit_callbacks
):
    client.force_login(client_admin)
    assert 'id="integrations-link"' in client.get(engagement.get_absolute_url()).content.decode()
    assert connect(client, engagement, receiver.url).status_code == 302
    channel = WebhookSubscription.objects.get()
    assert (channel.organization, channel.engagement, channel.format, channel.events) == (
        engagement.client,
        engagement,
        "slack",
        ["alert.raised"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(button("engagement-integration-test", channel))
    assert response.status_code == 302
    [request] = receiver.requests
    body = orjson.loads(request["body"])
    assert body["blocks"][0]["text"]["text"] == "Test message: Service desk"
    assert "Alert raised" in orjson.dumps(body).decode()
    assert request["headers"]["X-Accord-Event"] == "webhook.test"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code) == ("succeeded", 200)
    html = client.get(page(engagement)).content.decode()
    assert "Last delivery (test message" in html and "succeeded" in html


def test_a_failed_test_message_is_shown_with_its_error(
    client, client_admin, engagement, receiver, django_capture_on_commit_callbacks
):
    client.force_login(client_admin)
    connect(client, engagement, receiver.url, format="teams")
    receiver.statuses = [404]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(button("engagement-integration-test", WebhookSubscription.objects.get()))
    assert orjson.loads(receiver.requests[0]["body"])["type"] == "message"  # a Teams card
    html = client.get(page(engagement)).content.decode()
    assert "failed" in html and "HTTP 404: ok" in html  # the receiver's status and answer


@pytest.mark.parametrize(
    "data, field",
    [
        ({"url": "https://10.0.0.5/hook"}, "url"),  # a private address
        ({"url": "http://hooks.slack.com/services/x"}, "url"),  # not https
        ({"url": "not a url"}, "url"),
        ({"events": ["webhook.test"]}, "events"),  # never subscribed to
        ({"events": []}, "events"),
        ({"format": "json"}, "format"),
    ],
)
def test_bad_channels_are_refused_and_nothing_is_saved(
    client, client_admin, engagement, data, field
):
    client.force_login(client_admin)
    response = connect(client, engagement, "https://hooks.slack.com/services/T0/B0/x", **data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not WebhookSubscription.objects.exists()


def test_managers_and_viewers_cannot_reach_the_page(
    client, client_manager, client_viewer, engagement
):
    for user in (client_manager, client_viewer):
        client.force_login(user)
        assert client.get(page(engagement)).status_code == 403
        assert connect(client, engagement, "https://hooks.slack.com/x").status_code == 403
        assert (
            'id="integrations-link"'
            not in client.get(engagement.get_absolute_url()).content.decode()
        )
    assert not WebhookSubscription.objects.exists()


def test_the_other_sides_admin_neither_sees_nor_tests_nor_removes_a_channel(
    client, client_admin, provider_admin, outsider, engagement, receiver
):
    client.force_login(client_admin)
    connect(client, engagement, receiver.url)
    channel = WebhookSubscription.objects.get()
    client.force_login(provider_admin)
    assert receiver.url not in client.get(page(engagement)).content.decode()
    for name in ("engagement-integration-test", "engagement-integration-remove"):
        assert client.post(button(name, channel)).status_code == 404
    client.force_login(outsider)
    assert client.get(page(engagement)).status_code == 404
    assert WebhookSubscription.objects.count() == 1 and receiver.requests == []


def test_an_admin_removes_a_channel(client, client_admin, engagement, receiver):
    client.force_login(client_admin)
    connect(client, engagement, receiver.url)
    channel = WebhookSubscription.objects.get()
    assert client.get(button("engagement-integration-remove", channel)).status_code == 405
    assert client.post(button("engagement-integration-remove", channel)).status_code == 302
    assert not WebhookSubscription.objects.exists()


def test_a_channel_receives_only_its_engagements_events(
    client, client_admin, engagement, receiver, django_capture_on_commit_callbacks
):
    client.force_login(client_admin)
    connect(client, engagement, receiver.url)
    other = EngagementFactory(client=engagement.client, name="Other work")
    for subject in (engagement, other):
        OutboxEvent.objects.create(
            engagement=subject,
            kind="alert.raised",
            payload={
                "event": "alert.raised",
                "engagement": {"id": subject.pk, "name": subject.name},
            },
        )
    drain_outbox()
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event.engagement == engagement
    assert len(receiver.requests) == 1


def test_the_api_scopes_a_subscription_to_an_engagement_of_its_organisation(
    client_admin, engagement, receiver
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(client_admin)
    body = {
        "organization": engagement.client_id,
        "url": receiver.url,
        "secret": "s" * 20,
        "events": ["alert.raised"],
    }
    foreign = EngagementFactory()
    refused = api.post("/api/v1/webhooks/", {**body, "engagement": foreign.pk}, format="json")
    assert refused.status_code == 400 and "engagement" in refused.json()["errors"]
    with_test = api.post("/api/v1/webhooks/", {**body, "events": ["webhook.test"]}, format="json")
    assert with_test.status_code == 400
    assert not WebhookSubscription.objects.exists()
    created = api.post("/api/v1/webhooks/", {**body, "engagement": engagement.pk}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["engagement"] == engagement.pk
