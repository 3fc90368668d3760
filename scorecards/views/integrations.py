"""An engagement's Slack and Teams channels: its admins connect, test and remove them.

The rules are scorecards.webhooks.subscriptions' (the one place that saves a subscription
and checks its address); these pages look up what the user's side connected and hand over.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from relationships.forms import add_service_errors
from relationships.pages import button_action
from relationships.tenancy import engagement_with_access
from scorecards.forms import ChannelForm
from scorecards.models import WebhookDelivery, WebhookSubscription
from scorecards.webhooks.subscriptions import (
    engagement_channel_add,
    engagement_channel_remove,
    engagement_channels,
    webhook_test_send,
)

# What each channel's latest delivery says: (annotation, field).
LAST_DELIVERY = {
    "last_kind": "event__kind",
    "last_status": "status",
    "last_code": "response_code",
    "last_error": "last_error",
    "last_at": "created_at",
}


def _page(engagement) -> str:
    return reverse("engagement-integrations", args=[engagement.pk])


@login_required
@require_http_methods(["GET", "POST"])
def engagement_integrations(request, pk):
    engagement, access = engagement_with_access(request.user, pk, action="administer")
    form = ChannelForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            engagement_channel_add(engagement=engagement, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Channel connected. Send a test message to check it.")
            return redirect(_page(engagement))
    latest = WebhookDelivery.objects.filter(subscription=OuterRef("pk")).order_by("-id")
    channels = list(
        engagement_channels(engagement, access).annotate(
            **{name: Subquery(latest.values(field)[:1]) for name, field in LAST_DELIVERY.items()}
        )
    )
    labels = dict(WebhookSubscription.Event.choices)
    for channel in channels:
        channel.event_names = [labels.get(event, event) for event in channel.events]
        channel.last_what = labels.get(channel.last_kind, channel.last_kind)
    context = {
        "engagement": engagement,
        "organization": engagement.organization_of(access.side),
        "channels": channels,
        "organization_wide": WebhookSubscription.objects.filter(
            organization_id=engagement.organization_id_of(access.side),
            engagement__isnull=True,
            active=True,
        ).count(),
        "form": form,
    }
    return render(
        request, "dashboard/integrations.html", context, status=400 if form.is_bound else 200
    )


def _channel_action(service, success: str):
    @login_required
    @require_POST
    def view(request, pk, webhook_pk):
        engagement, access = engagement_with_access(request.user, pk, action="administer")
        channel = get_object_or_404(engagement_channels(engagement, access), pk=webhook_pk)
        return button_action(
            request,
            lambda: service(subscription=channel, user=request.user),
            success=success,
            engagement=engagement,
            to=_page(engagement),
        )

    return view


channel_test = _channel_action(webhook_test_send, "Test message sent: its delivery is shown below.")
channel_remove = _channel_action(engagement_channel_remove, "Channel removed.")
