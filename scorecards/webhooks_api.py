"""Webhook subscriptions API: an organisation's admins manage its subscriptions.

Subscriptions belong to an organisation, not an engagement: they receive the
events of every engagement the organisation is a party to. Members who are not
admins, and everyone else, see none of them (404).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action

from core.api.base import ApiViewSet, StrictModelSerializer
from relationships.models import Engagement, Organization
from scorecards.models import WebhookDelivery, WebhookSubscription
from scorecards.webhooks.subscriptions import subscription_save


class WebhookSubscriptionSerializer(StrictModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.none(),
        help_text="One of your organisations; you must be its admin. Fixed after creation.",
    )
    secret = serializers.CharField(
        write_only=True,
        min_length=16,
        max_length=200,
        help_text="Shared secret for the X-Accord-Signature HMAC. Stored encrypted, never shown "
        "again. Required on creation; send it again to rotate.",
    )
    engagement = serializers.PrimaryKeyRelatedField(
        queryset=Engagement.objects.none(),
        required=False,
        allow_null=True,
        help_text="Only this engagement's events (one of the organisation's); null or absent: "
        "every engagement the organisation is a party to. Fixed after creation.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookSubscription.subscribable_events()),
        allow_empty=False,
        help_text="The events to receive.",
    )
    url = serializers.URLField(
        max_length=500,
        help_text="An https:// URL whose host is globally routable: private, shared, loopback, "
        "link-local and reserved addresses, also inside IPv6 forms, are refused.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "organization",
            "engagement",
            "url",
            "secret",
            "events",
            "format",
            "active",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "created_by", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["organization"].queryset = Organization.objects.filter(
                memberships__user_id=request.user.pk
            )
            fields["engagement"].queryset = Engagement.objects.visible_to(request.user)
        if self.instance is not None:
            fields["organization"].read_only = True
            fields["engagement"].read_only = True
            fields["secret"].required = False
        return fields

    def save(self, **kwargs):
        attrs = {**self.validated_data, **kwargs}
        secret = attrs.pop("secret", None)
        subscription = self.instance or WebhookSubscription()
        for name, value in attrs.items():
            setattr(subscription, name, value)
        try:
            self.instance = subscription_save(subscription=subscription, secret=secret)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return self.instance


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_kind = serializers.CharField(source="event.kind", read_only=True)
    engagement = serializers.IntegerField(source="event.engagement_id", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_kind",
            "engagement",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Webhook subscriptions of the organisations you administer"),
    create=extend_schema(summary="Subscribe a URL to scorecard and alert events"),
    deliveries=extend_schema(
        summary="Delivery log of a subscription (status, response code, attempts)",
        responses=WebhookDeliverySerializer(many=True),
    ),
)
class WebhookSubscriptionViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    """Webhooks sign each POST with `X-Accord-Signature: sha256=<hex>`, the HMAC-SHA256 of
    `{X-Accord-Timestamp}.{body}` with the subscription's secret. Failed deliveries
    (5xx, 429, timeouts) are retried with exponential backoff. The URL's host must be
    globally routable, when it is saved and at each delivery, which connects to the address
    it checked; redirects are not followed (a 3xx is a failed delivery)."""

    serializer_class = WebhookSubscriptionSerializer
    filterset_fields = ["organization", "format", "active"]
    ordering_fields = ["id", "created_at"]

    def get_queryset(self):
        return WebhookSubscription.objects.filter(
            organization__in=Organization.objects.administered_by(self.request.user)
        ).order_by("id")

    def perform_create(self, serializer):
        serializer.validated_data["organization"].require_admin(self.request.user)
        serializer.save(created_by=self.request.user)

    @action(
        detail=True,
        methods=["get"],
        serializer_class=WebhookDeliverySerializer,
        answers_list=True,
        filter_backends=[],
    )
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        deliveries = subscription.deliveries.select_related("event").order_by("-created_at", "-id")
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
