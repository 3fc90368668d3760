"""The member's own notices through the API: their settings (/api/v1/me/notice-preferences/)
and their inbox (/api/v1/me/notices/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ApiFilterSet, ApiViewSet, StrictSerializer
from notices import services
from notices.forms import TIME_ZONES
from notices.models import Channel, Kind, Notice
from notices.selectors import inbox_of
from relationships.models import Engagement


@extend_schema_field(OpenApiTypes.INT)
class VisibleEngagementField(serializers.PrimaryKeyRelatedField):
    """An engagement of the requesting member's (another's id is an invalid choice)."""

    def get_queryset(self):
        return Engagement.objects.visible_to(self.context["request"].user)


class PreferenceSerializer(StrictSerializer):
    engagement = VisibleEngagementField(
        allow_null=True,
        help_text="The engagement this choice is for; null for all engagements.",
    )
    kind = serializers.ChoiceField(choices=Kind.choices)
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        allow_null=True,
        help_text="Null removes the choice: the engagement follows the choice for all, and "
        "that the default of your role (managers and admins: alerts, reviews and change "
        "requests by e-mail at once, the rest in the weekly digest; viewers: the weekly digest).",
    )


class NoticeSettingsSerializer(StrictSerializer):
    time_zone = serializers.ChoiceField(
        choices=TIME_ZONES, help_text="Digests arrive at 08:00 here (the weekly one on Mondays)."
    )
    preferences = PreferenceSerializer(many=True)


class NoticeSettingsUpdateSerializer(NoticeSettingsSerializer):
    time_zone = serializers.ChoiceField(choices=TIME_ZONES, required=False)
    preferences = PreferenceSerializer(
        many=True, required=False, help_text="Choices to set; others stay as they are."
    )


def _settings(user) -> dict:
    return {
        "time_zone": services.profile_of(user).time_zone,
        "preferences": [
            {"engagement": p.engagement_id, "kind": p.kind, "channel": p.channel}
            for p in services.preferences_of(user)
        ],
    }


class NoticePreferencesViewSet(ApiViewSet):
    serializer_class = NoticeSettingsSerializer

    @extend_schema(
        responses={200: NoticeSettingsSerializer},
        description="Your time zone and the channel you chose for each kind of notice, for "
        "all engagements (engagement null) and for single ones. A kind not listed follows "
        "the default of your role.",
    )
    def retrieve(self, request):
        return Response(_settings(request.user))

    @extend_schema(
        request=NoticeSettingsUpdateSerializer,
        responses={200: NoticeSettingsSerializer},
        description="Set your time zone and channels (a null channel removes a choice).",
    )
    def partial_update(self, request):
        given = NoticeSettingsUpdateSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        services.preferences_set(
            user=request.user,
            time_zone=data.get("time_zone"),
            entries=[
                services.PreferenceEntry(entry["engagement"], entry["kind"], entry["channel"])
                for entry in data.get("preferences", [])
            ],
        )
        return Response(_settings(request.user))


class NoticeSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "engagement", "kind", "subject", "body", "link", "created_at", "read"]

    def get_read(self, notice) -> bool:
        return notice.read_at is not None


class NoticeFilter(ApiFilterSet):
    class Meta:
        model = Notice
        fields = ["kind", "engagement"]


class NoticeViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = NoticeSerializer
    filterset_class = NoticeFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        return inbox_of(self.request.user)

    @extend_schema(request=None, responses={200: NoticeSerializer}, description="Mark it read.")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notice = self.get_object()  # a pk that is not a number is a 404, as everywhere
        services.notices_mark_read(user=request.user, notice_ids=[notice.pk])
        notice.refresh_from_db()
        return Response(NoticeSerializer(notice).data)
